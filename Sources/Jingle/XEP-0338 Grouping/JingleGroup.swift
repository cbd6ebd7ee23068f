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
        for e in r.children("content", namespace: NS.jingleGrouping) {
            var cr = ElementReader(e, section: Self.section)
            names.append(try cr.required("name"))
        }
        contents = names
        extraAttributes = r.remainingAttributes
        extensions = r.remainingChildren
        layout = r.layout
    }

    func element() -> XMLElement {
        var e = XMLElement(name: "group", namespace: NS.jingleGrouping)
        e.set("semantics", semantics)
        for n in contents { e.append(XMLElement("content", namespace: NS.jingleGrouping, ["name": n])) }
        e.finish(extraAttributes: extraAttributes, extensions: extensions, layout: layout)
        return e
    }
}
