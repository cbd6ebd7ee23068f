import XMLStream
import XMPPCore

/// `<description xmlns='urn:xmpp:jingle:apps:rtp:1'/>` (XEP-0167 §4), with the extensions that live inside it:
/// XEP-0293 RTCP feedback, XEP-0294 header extensions, XEP-0339 sources and source groups.
public struct RTPDescription: JingleApplicationDescription, Hashable {
    public static let namespace = NS.jingleRTP
    public static let section = "XEP-0167 §4"

    /// `audio`, `video`, … (XEP-0167 §4: the SDP media type).
    public var media: String
    /// The SSRC of the sender (XEP-0167 §4, deprecated in favour of XEP-0339 but still seen).
    public var ssrc: String?
    public var payloadTypes: [RTPPayloadType]
    public var bandwidth: RTPBandwidth?
    /// `<rtcp-mux/>`: RTP and RTCP on one port (XEP-0167 §4, RFC 5761).
    public var rtcpMux: Bool
    public var encryption: RTPEncryption?
    /// XEP-0293 §3: feedback valid for every payload type.
    public var rtcpFeedback: [RTCPFeedback]
    public var rtcpFeedbackTRRInt: RTCPFeedbackTRRInt?
    /// XEP-0294 §3.
    public var headerExtensions: [RTPHeaderExtension]
    /// XEP-0294 §3.1: `<extmap-allow-mixed/>` (RFC 8285 one- and two-byte headers mixed).
    public var extmapAllowMixed: Bool
    /// XEP-0339 §3.1.
    public var sources: [RTPSource]
    /// XEP-0339 §3.2.
    public var sourceGroups: [RTPSourceGroup]
    public var extraAttributes: [XMLAttribute]
    public var extensions: [XMLElement]
    var layout = SourceLayout()

    public init(media: String, ssrc: String? = nil, payloadTypes: [RTPPayloadType] = [], bandwidth: RTPBandwidth? = nil,
                rtcpMux: Bool = false, encryption: RTPEncryption? = nil, rtcpFeedback: [RTCPFeedback] = [],
                rtcpFeedbackTRRInt: RTCPFeedbackTRRInt? = nil, headerExtensions: [RTPHeaderExtension] = [],
                extmapAllowMixed: Bool = false, sources: [RTPSource] = [], sourceGroups: [RTPSourceGroup] = [],
                extraAttributes: [XMLAttribute] = [], extensions: [XMLElement] = []) {
        self.media = media
        self.ssrc = ssrc
        self.payloadTypes = payloadTypes
        self.bandwidth = bandwidth
        self.rtcpMux = rtcpMux
        self.encryption = encryption
        self.rtcpFeedback = rtcpFeedback
        self.rtcpFeedbackTRRInt = rtcpFeedbackTRRInt
        self.headerExtensions = headerExtensions
        self.extmapAllowMixed = extmapAllowMixed
        self.sources = sources
        self.sourceGroups = sourceGroups
        self.extraAttributes = extraAttributes
        self.extensions = extensions
    }

    public init(element: XMLElement) throws(JingleParseError) {
        var r = try ElementReader(element, name: "description", namespace: NS.jingleRTP, section: Self.section)
        media = try r.required("media")
        ssrc = r.optional("ssrc")
        var payloadTypes: [RTPPayloadType] = [], feedback: [RTCPFeedback] = [], headerExtensions: [RTPHeaderExtension] = []
        var sources: [RTPSource] = [], sourceGroups: [RTPSourceGroup] = []
        var bandwidth: RTPBandwidth?, encryption: RTPEncryption?, trrInt: RTCPFeedbackTRRInt?
        var seenBandwidth = false, seenEncryption = false, seenTRRInt = false, rtcpMux = false, allowMixed = false
        // One pass; the ranks are the order in which the kinds used to be read, which decides the error reported.
        var errors = ChildErrors()
        r.forEachChild { e in
            if e.is("payload-type", NS.jingleRTP) {
                errors.append(rank: 0, to: &payloadTypes) { () throws(JingleParseError) in try RTPPayloadType(element: e) }
            } else if !seenBandwidth && e.is("bandwidth", NS.jingleRTP) {
                seenBandwidth = true
                bandwidth = errors.read(rank: 1) { () throws(JingleParseError) in try RTPBandwidth(element: e) }
            } else if !rtcpMux && e.is("rtcp-mux", NS.jingleRTP) {
                rtcpMux = true
            } else if !seenEncryption && e.is("encryption", NS.jingleRTP) {
                seenEncryption = true
                encryption = errors.read(rank: 3) { () throws(JingleParseError) in try RTPEncryption(element: e) }
            } else if e.is("rtcp-fb", NS.jingleRTCPFB) {
                errors.append(rank: 4, to: &feedback) { () throws(JingleParseError) in try RTCPFeedback(element: e) }
            } else if !seenTRRInt && e.is("rtcp-fb-trr-int", NS.jingleRTCPFB) {
                seenTRRInt = true
                trrInt = errors.read(rank: 5) { () throws(JingleParseError) in try RTCPFeedbackTRRInt(element: e) }
            } else if e.is("rtp-hdrext", NS.jingleRTPHdrExt) {
                errors.append(rank: 6, to: &headerExtensions) { () throws(JingleParseError) in try RTPHeaderExtension(element: e) }
            } else if !allowMixed && e.is("extmap-allow-mixed", NS.jingleRTPHdrExt) {
                allowMixed = true
            } else if e.is("source", NS.jingleSSMA) {
                errors.append(rank: 8, to: &sources) { () throws(JingleParseError) in try RTPSource(element: e) }
            } else if e.is("ssrc-group", NS.jingleSSMA) {
                errors.append(rank: 9, to: &sourceGroups) { () throws(JingleParseError) in try RTPSourceGroup(element: e) }
            } else {
                return false
            }
            return true
        }
        try errors.check()
        self.payloadTypes = payloadTypes
        self.bandwidth = bandwidth
        self.rtcpMux = rtcpMux
        self.encryption = encryption
        rtcpFeedback = feedback
        rtcpFeedbackTRRInt = trrInt
        self.headerExtensions = headerExtensions
        extmapAllowMixed = allowMixed
        self.sources = sources
        self.sourceGroups = sourceGroups
        extraAttributes = r.remainingAttributes
        extensions = r.remainingChildren
        layout = r.layout
    }

    public func element() -> XMLElement {
        var e = XMLElement("description", namespace: NS.jingleRTP, attributeCapacity: 2 + extraAttributes.count,
                           childCapacity: payloadTypes.count + rtcpFeedback.count + headerExtensions.count + sources.count
                               + sourceGroups.count + extensions.count + 5)
        e.set("media", media)
        e.set("ssrc", ssrc)
        e.add(payloadTypes) { $0.element() }
        if let child = encryption?.element() { e.add(child) }
        if let child = bandwidth?.element() { e.add(child) }
        if rtcpMux { e.add(XMLElement(name: "rtcp-mux", namespace: NS.jingleRTP)) }
        e.add(rtcpFeedback) { $0.element() }
        if let child = rtcpFeedbackTRRInt?.element() { e.add(child) }
        e.add(headerExtensions) { $0.element() }
        if extmapAllowMixed { e.add(XMLElement(name: "extmap-allow-mixed", namespace: NS.jingleRTPHdrExt)) }
        e.add(sources) { $0.element() }
        e.add(sourceGroups) { $0.element() }
        e.finish(extraAttributes: extraAttributes, extensions: extensions, layout: layout)
        return e
    }
}

/// `<payload-type/>` (XEP-0167 §4): an RTP payload type with its parameters.
public struct RTPPayloadType: Sendable, Hashable {
    /// 0–127 (RFC 3551 static or dynamic).
    public var id: UInt8
    public var name: String?
    public var clockrate: UInt32?
    /// Absent means 1 (XEP-0167 §4).
    public var channels: UInt8?
    public var ptime: UInt32?
    public var maxptime: UInt32?
    public var parameters: [RTPParameter]
    /// XEP-0293 §3: feedback for this payload type only.
    public var rtcpFeedback: [RTCPFeedback]
    public var rtcpFeedbackTRRInt: RTCPFeedbackTRRInt?
    public var extraAttributes: [XMLAttribute]
    public var extensions: [XMLElement]
    var layout = SourceLayout()

    public init(id: UInt8, name: String? = nil, clockrate: UInt32? = nil, channels: UInt8? = nil, ptime: UInt32? = nil,
                maxptime: UInt32? = nil, parameters: [RTPParameter] = [], rtcpFeedback: [RTCPFeedback] = [],
                rtcpFeedbackTRRInt: RTCPFeedbackTRRInt? = nil, extraAttributes: [XMLAttribute] = [], extensions: [XMLElement] = []) {
        self.id = id
        self.name = name
        self.clockrate = clockrate
        self.channels = channels
        self.ptime = ptime
        self.maxptime = maxptime
        self.parameters = parameters
        self.rtcpFeedback = rtcpFeedback
        self.rtcpFeedbackTRRInt = rtcpFeedbackTRRInt
        self.extraAttributes = extraAttributes
        self.extensions = extensions
    }

    public init(element: XMLElement) throws(JingleParseError) {
        var r = try ElementReader(element, name: "payload-type", namespace: NS.jingleRTP, section: RTPDescription.section)
        id = try r.required("id", as: UInt8.self)
        if id > 127 { throw r.error(.invalidAttribute("id", value: ASCIIText.decimal(id))) }
        name = r.optional("name")
        clockrate = try r.optional("clockrate", as: UInt32.self)
        channels = try r.optional("channels", as: UInt8.self)
        ptime = try r.optional("ptime", as: UInt32.self)
        maxptime = try r.optional("maxptime", as: UInt32.self)
        var params: [RTPParameter] = [], feedback: [RTCPFeedback] = []
        var trrInt: RTCPFeedbackTRRInt?, seenTRRInt = false
        var errors = ChildErrors()
        r.forEachChild { e in
            if e.is("parameter", NS.jingleRTP) {
                errors.append(rank: 0, to: &params) { () throws(JingleParseError) in try RTPParameter(element: e) }
            } else if e.is("rtcp-fb", NS.jingleRTCPFB) {
                errors.append(rank: 1, to: &feedback) { () throws(JingleParseError) in try RTCPFeedback(element: e) }
            } else if e.is("rtcp-fb-trr-int", NS.jingleRTCPFB) && !seenTRRInt {
                seenTRRInt = true
                trrInt = errors.read(rank: 2) { () throws(JingleParseError) in try RTCPFeedbackTRRInt(element: e) }
            } else {
                return false
            }
            return true
        }
        try errors.check()
        parameters = params
        rtcpFeedback = feedback
        rtcpFeedbackTRRInt = trrInt
        extraAttributes = r.remainingAttributes
        extensions = r.remainingChildren
        layout = r.layout
    }

    public func element() -> XMLElement {
        var e = XMLElement("payload-type", namespace: NS.jingleRTP, attributeCapacity: 6 + extraAttributes.count,
                           childCapacity: parameters.count + rtcpFeedback.count + 1 + extensions.count)
        e.set("id", id)
        e.set("name", name)
        e.set("clockrate", clockrate)
        e.set("channels", channels)
        e.set("ptime", ptime)
        e.set("maxptime", maxptime)
        e.add(parameters) { $0.element(namespace: NS.jingleRTP) }
        e.add(rtcpFeedback) { $0.element() }
        if let child = rtcpFeedbackTRRInt?.element() { e.add(child) }
        e.finish(extraAttributes: extraAttributes, extensions: extensions, layout: layout)
        return e
    }
}

/// `<parameter name value/>` (XEP-0167 §4; the same shape appears in XEP-0293/0294/0339 namespaces).
public struct RTPParameter: Sendable, Hashable {
    public var name: String
    /// Optional in XEP-0339 (`a=ssrc:1 cname` has no value); required by XEP-0167.
    public var value: String?
    /// Attributes no codec here understands, written back unchanged.
    public var extraAttributes: [XMLAttribute] = []
    var layout = SourceLayout()

    public init(name: String, value: String?) {
        self.name = name
        self.value = value
    }

    init(element: XMLElement, section: String = RTPDescription.section) throws(JingleParseError) {
        var r = ElementReader(element, section: section)
        name = try r.required("name")
        value = r.optional("value")
        extraAttributes = r.remainingAttributes
        layout = r.layout
    }

    func element(namespace: String) -> XMLElement {
        var e = XMLElement("parameter", namespace: namespace, attributeCapacity: 2 + extraAttributes.count)
        e.set("name", name)
        e.set("value", value)
        e.finish(extraAttributes: extraAttributes, extensions: [], layout: layout)
        return e
    }
}

/// `<bandwidth type>value</bandwidth>` (XEP-0167 §4, SDP `b=` line).
public struct RTPBandwidth: Sendable, Hashable {
    public var type: String
    public var value: String
    public var extraAttributes: [XMLAttribute] = []

    public init(type: String, value: String) {
        self.type = type
        self.value = value
    }

    init(element: XMLElement) throws(JingleParseError) {
        var r = ElementReader(element, section: RTPDescription.section)
        type = try r.required("type")
        value = element.text
        extraAttributes = r.remainingAttributes
    }

    func element() -> XMLElement {
        var e = XMLElement("bandwidth", namespace: NS.jingleRTP, attributeCapacity: 1 + extraAttributes.count)
        e.set("type", type)
        if !value.isEmpty { e.children.append(.text(value)) }
        e.attributes += extraAttributes
        return e
    }
}
