import XMLStream
import XMPPCore

/// `<rtcp-fb type subtype/>` (XEP-0293 §3, SDP `a=rtcp-fb`, RFC 4585).
public struct RTCPFeedback: Sendable, Hashable {
    public var type: String
    public var subtype: String?
    /// `<parameter/>` children (XEP-0293 §3).
    public var parameters: [RTPParameter]

    public static let section = "XEP-0293 §3"
    /// Attributes no codec here understands, written back unchanged.
    public var extraAttributes: [XMLAttribute] = []
    /// Child elements no codec here understands, written back unchanged.
    public var extensions: [XMLElement] = []
    var layout = SourceLayout()

    public init(type: String, subtype: String? = nil, parameters: [RTPParameter] = []) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }

    init(element: XMLElement) throws(JingleParseError) {
        var r = ElementReader(element, section: Self.section)
        type = try r.required("type")
        subtype = r.optional("subtype")
        var p: [RTPParameter] = []
        try r.forEachChild { (e) throws(JingleParseError) -> Bool in
            guard e.is("parameter", NS.jingleRTCPFB) else { return false }
            p.append(try RTPParameter(element: e, section: Self.section))
            return true
        }
        parameters = p
        extraAttributes = r.remainingAttributes
        extensions = r.remainingChildren
        layout = r.layout
    }

    func element() -> XMLElement {
        var e = XMLElement("rtcp-fb", namespace: NS.jingleRTCPFB, attributeCapacity: 2 + extraAttributes.count,
                           childCapacity: parameters.count + extensions.count)
        e.set("type", type)
        e.set("subtype", subtype)
        e.add(parameters) { $0.element(namespace: NS.jingleRTCPFB) }
        e.finish(extraAttributes: extraAttributes, extensions: extensions, layout: layout)
        return e
    }
}

/// `<rtcp-fb-trr-int value/>` (XEP-0293 §3: minimal interval between regular RTCP reports, in ms).
public struct RTCPFeedbackTRRInt: Sendable, Hashable {
    public var value: UInt32
    public var extraAttributes: [XMLAttribute] = []

    public init(value: UInt32) { self.value = value }

    init(element: XMLElement) throws(JingleParseError) {
        var r = ElementReader(element, section: RTCPFeedback.section)
        value = try r.required("value", as: UInt32.self)
        extraAttributes = r.remainingAttributes
    }

    func element() -> XMLElement {
        var e = XMLElement("rtcp-fb-trr-int", namespace: NS.jingleRTCPFB, attribute: "value", value: ASCIIText.decimal(value))
        e.attributes += extraAttributes
        return e
    }
}
