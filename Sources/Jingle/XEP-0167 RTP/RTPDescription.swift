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
        var payloadTypes: [RTPPayloadType] = []
        for e in r.children("payload-type", namespace: NS.jingleRTP) { payloadTypes.append(try RTPPayloadType(element: e)) }
        self.payloadTypes = payloadTypes
        bandwidth = try r.child("bandwidth", namespace: NS.jingleRTP).map { (e) throws(JingleParseError) in try RTPBandwidth(element: e) }
        rtcpMux = r.child("rtcp-mux", namespace: NS.jingleRTP) != nil
        encryption = try r.child("encryption", namespace: NS.jingleRTP).map { (e) throws(JingleParseError) in try RTPEncryption(element: e) }
        var fb: [RTCPFeedback] = []
        for e in r.children("rtcp-fb", namespace: NS.jingleRTCPFB) { fb.append(try RTCPFeedback(element: e)) }
        rtcpFeedback = fb
        rtcpFeedbackTRRInt = try r.child("rtcp-fb-trr-int", namespace: NS.jingleRTCPFB).map { (e) throws(JingleParseError) in try RTCPFeedbackTRRInt(element: e) }
        var hdr: [RTPHeaderExtension] = []
        for e in r.children("rtp-hdrext", namespace: NS.jingleRTPHdrExt) { hdr.append(try RTPHeaderExtension(element: e)) }
        headerExtensions = hdr
        extmapAllowMixed = r.child("extmap-allow-mixed", namespace: NS.jingleRTPHdrExt) != nil
        var sources: [RTPSource] = []
        for e in r.children("source", namespace: NS.jingleSSMA) { sources.append(try RTPSource(element: e)) }
        self.sources = sources
        var groups: [RTPSourceGroup] = []
        for e in r.children("ssrc-group", namespace: NS.jingleSSMA) { groups.append(try RTPSourceGroup(element: e)) }
        sourceGroups = groups
        extraAttributes = r.remainingAttributes
        extensions = r.remainingChildren
        layout = r.layout
    }

    public func element() -> XMLElement {
        var e = XMLElement(name: "description", namespace: NS.jingleRTP)
        e.children.reserveCapacity(payloadTypes.count + rtcpFeedback.count + headerExtensions.count + sources.count
                                   + sourceGroups.count + extensions.count + 6)
        e.set("media", media)
        e.set("ssrc", ssrc)
        for p in payloadTypes { e.append(p.element()) }
        if let encryption { e.append(encryption.element()) }
        if let bandwidth { e.append(bandwidth.element()) }
        if rtcpMux { e.append(XMLElement(name: "rtcp-mux", namespace: NS.jingleRTP)) }
        for f in rtcpFeedback { e.append(f.element()) }
        if let rtcpFeedbackTRRInt { e.append(rtcpFeedbackTRRInt.element()) }
        for h in headerExtensions { e.append(h.element()) }
        if extmapAllowMixed { e.append(XMLElement(name: "extmap-allow-mixed", namespace: NS.jingleRTPHdrExt)) }
        for s in sources { e.append(s.element()) }
        for g in sourceGroups { e.append(g.element()) }
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
        if id > 127 { throw r.error(.invalidAttribute("id", value: String(id))) }
        name = r.optional("name")
        clockrate = try r.optional("clockrate", as: UInt32.self)
        channels = try r.optional("channels", as: UInt8.self)
        ptime = try r.optional("ptime", as: UInt32.self)
        maxptime = try r.optional("maxptime", as: UInt32.self)
        var params: [RTPParameter] = []
        for e in r.children("parameter", namespace: NS.jingleRTP) { params.append(try RTPParameter(element: e)) }
        parameters = params
        var fb: [RTCPFeedback] = []
        for e in r.children("rtcp-fb", namespace: NS.jingleRTCPFB) { fb.append(try RTCPFeedback(element: e)) }
        rtcpFeedback = fb
        rtcpFeedbackTRRInt = try r.child("rtcp-fb-trr-int", namespace: NS.jingleRTCPFB).map { (e) throws(JingleParseError) in try RTCPFeedbackTRRInt(element: e) }
        extraAttributes = r.remainingAttributes
        extensions = r.remainingChildren
        layout = r.layout
    }

    public func element() -> XMLElement {
        var e = XMLElement(name: "payload-type", namespace: NS.jingleRTP)
        e.attributes.reserveCapacity(6 + extraAttributes.count)
        e.set("id", id)
        e.set("name", name)
        e.set("clockrate", clockrate)
        e.set("channels", channels)
        e.set("ptime", ptime)
        e.set("maxptime", maxptime)
        for p in parameters { e.append(p.element(namespace: NS.jingleRTP)) }
        for f in rtcpFeedback { e.append(f.element()) }
        if let rtcpFeedbackTRRInt { e.append(rtcpFeedbackTRRInt.element()) }
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
        var e = XMLElement(name: "parameter", namespace: namespace)
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
        var e = XMLElement("bandwidth", namespace: NS.jingleRTP, ["type": type], text: value)
        e.attributes += extraAttributes
        return e
    }
}
