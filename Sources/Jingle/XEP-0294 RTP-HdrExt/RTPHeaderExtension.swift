import XMLStream
import XMPPCore

/// `<rtp-hdrext id uri senders/>` (XEP-0294 §3, SDP `a=extmap`, RFC 8285).
public struct RTPHeaderExtension: Sendable, Hashable {
    /// 1–14 for one-byte headers, 1–255 with two-byte headers; XEP-0294 examples use up to 4096 (RFC 5285 range).
    public var id: UInt16
    public var uri: String
    /// Absent means `both` (XEP-0294 §3).
    public var senders: JingleSenders?
    public var parameters: [RTPParameter]

    public static let section = "XEP-0294 §3"
    /// Attributes no codec here understands, written back unchanged.
    public var extraAttributes: [XMLAttribute] = []
    /// Child elements no codec here understands, written back unchanged.
    public var extensions: [XMLElement] = []
    var layout = SourceLayout()

    public init(id: UInt16, uri: String, senders: JingleSenders? = nil, parameters: [RTPParameter] = []) {
        self.id = id
        self.uri = uri
        self.senders = senders
        self.parameters = parameters
    }

    init(element: XMLElement) throws(JingleParseError) {
        var r = ElementReader(element, section: Self.section)
        id = try r.required("id", as: UInt16.self)
        // RFC 8285 §5: ids 1–14 (one-byte) and 1–255 (two-byte); RFC 5285 allowed 4096–4351 in SDP for
        // negotiation, which XEP-0294 Example 1 uses. Zero is never valid.
        if id == 0 { throw r.error(.invalidAttribute("id", value: "0")) }
        uri = try r.required("uri")
        senders = try r.optional("senders", as: JingleSenders.self)
        var p: [RTPParameter] = []
        try r.forEachChild { (e) throws(JingleParseError) -> Bool in
            guard e.is("parameter", NS.jingleRTPHdrExt) else { return false }
            p.append(try RTPParameter(element: e, section: Self.section))
            return true
        }
        parameters = p
        extraAttributes = r.remainingAttributes
        extensions = r.remainingChildren
        layout = r.layout
    }

    func element() -> XMLElement {
        var e = XMLElement("rtp-hdrext", namespace: NS.jingleRTPHdrExt, attributeCapacity: 3 + extraAttributes.count,
                           childCapacity: parameters.count + extensions.count)
        e.set("id", id)
        e.set("uri", uri)
        e.set("senders", senders)
        e.add(parameters) { $0.element(namespace: NS.jingleRTPHdrExt) }
        e.finish(extraAttributes: extraAttributes, extensions: extensions, layout: layout)
        return e
    }
}
