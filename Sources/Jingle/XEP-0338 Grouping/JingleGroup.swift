import XMLStream
import XMPPCore

/// `<group semantics>` with `<content name/>` children inside `<jingle/>` (XEP-0338 §3, SDP `a=group`, RFC 5888),
/// e.g. BUNDLE.
public struct JingleGroup: Sendable, Hashable {
    public var semantics: String
    public var contents: [String]

    public static let section = "XEP-0338 §3"
    /// Attributes no codec here understands, written back unchanged.
    public var extraAttributes: [XMLAttribute] = []
    /// Child elements no codec here understands, written back unchanged.
    public var extensions: [XMLElement] = []
    var layout = SourceLayout()

    public init(semantics: String, contents: [String]) {
        self.semantics = semantics
        self.contents = contents
    }

    init(element: XMLElement) throws(JingleParseError) {
        var r = ElementReader(element, section: Self.section)
        semantics = try r.required("semantics")
        var names: [String] = []
        try r.forEachChild { (e) throws(JingleParseError) -> Bool in
            guard e.is("content", NS.jingleGrouping) else { return false }
            var cr = ElementReader(e, section: Self.section)
            names.append(try cr.required("name"))
            return true
        }
        contents = names
        extraAttributes = r.remainingAttributes
        extensions = r.remainingChildren
        layout = r.layout
    }

    func element() -> XMLElement {
        var e = XMLElement("group", namespace: NS.jingleGrouping, attributeCapacity: 1 + extraAttributes.count,
                           childCapacity: contents.count + extensions.count)
        e.set("semantics", semantics)
        for n in contents { e.add(XMLElement("content", namespace: NS.jingleGrouping, attribute: "name", value: n)) }
        e.finish(extraAttributes: extraAttributes, extensions: extensions, layout: layout)
        return e
    }
}
