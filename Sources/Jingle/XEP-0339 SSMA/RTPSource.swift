import XMLStream
import XMPPCore

/// `<source ssrc>` with `<parameter name value/>` children (XEP-0339 §3.1, SDP `a=ssrc`, RFC 5576).
public struct RTPSource: Sendable, Hashable {
    public var ssrc: UInt32
    public var parameters: [RTPParameter]

    public static let section = "XEP-0339 §3.1"
    /// Attributes no codec here understands, written back unchanged.
    public var extraAttributes: [XMLAttribute] = []
    /// Child elements no codec here understands, written back unchanged.
    public var extensions: [XMLElement] = []
    var layout = SourceLayout()

    public init(ssrc: UInt32, parameters: [RTPParameter] = []) {
        self.ssrc = ssrc
        self.parameters = parameters
    }

    init(element: XMLElement) throws(JingleParseError) {
        var r = ElementReader(element, section: Self.section)
        ssrc = try r.required("ssrc", as: UInt32.self)
        var p: [RTPParameter] = []
        try r.forEachChild { (e) throws(JingleParseError) -> Bool in
            guard e.is("parameter", NS.jingleSSMA) else { return false }
            p.append(try RTPParameter(element: e, section: Self.section))
            return true
        }
        parameters = p
        extraAttributes = r.remainingAttributes
        extensions = r.remainingChildren
        layout = r.layout
    }

    func element() -> XMLElement {
        var e = XMLElement("source", namespace: NS.jingleSSMA, attributeCapacity: 1 + extraAttributes.count,
                           childCapacity: parameters.count + extensions.count)
        e.set("ssrc", ssrc)
        e.add(parameters) { $0.element(namespace: NS.jingleSSMA) }
        e.finish(extraAttributes: extraAttributes, extensions: extensions, layout: layout)
        return e
    }
}

/// `<ssrc-group semantics>` listing `<source ssrc/>` (XEP-0339 §3.2, SDP `a=ssrc-group`, e.g. FID, SIM).
public struct RTPSourceGroup: Sendable, Hashable {
    public var semantics: String
    public var ssrcs: [UInt32]

    public static let section = "XEP-0339 §3.2"
    /// Attributes no codec here understands, written back unchanged.
    public var extraAttributes: [XMLAttribute] = []
    /// Child elements no codec here understands, written back unchanged.
    public var extensions: [XMLElement] = []
    var layout = SourceLayout()

    public init(semantics: String, ssrcs: [UInt32]) {
        self.semantics = semantics
        self.ssrcs = ssrcs
    }

    init(element: XMLElement) throws(JingleParseError) {
        var r = ElementReader(element, section: Self.section)
        semantics = try r.required("semantics")
        var s: [UInt32] = []
        try r.forEachChild { (e) throws(JingleParseError) -> Bool in
            guard e.is("source", NS.jingleSSMA) else { return false }
            var sr = ElementReader(e, section: Self.section)
            s.append(try sr.required("ssrc", as: UInt32.self))
            return true
        }
        ssrcs = s
        extraAttributes = r.remainingAttributes
        extensions = r.remainingChildren
        layout = r.layout
    }

    func element() -> XMLElement {
        var e = XMLElement("ssrc-group", namespace: NS.jingleSSMA, attributeCapacity: 1 + extraAttributes.count,
                           childCapacity: ssrcs.count + extensions.count)
        e.set("semantics", semantics)
        for s in ssrcs { e.add(XMLElement("source", namespace: NS.jingleSSMA, attribute: "ssrc", value: ASCIIText.decimal(s))) }
        e.finish(extraAttributes: extraAttributes, extensions: extensions, layout: layout)
        return e
    }
}
