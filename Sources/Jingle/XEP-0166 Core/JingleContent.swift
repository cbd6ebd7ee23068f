import XMLStream
import XMPPCore

/// The `<content/>` element (XEP-0166 §7.3): one application format, its transport and optional security.
public struct JingleContent: Sendable, Hashable {
    public var creator: JingleRole
    public var name: String
    /// How the content is used (`session` by default; XEP-0166 §7.3, RFC 2183 dispositions).
    public var disposition: String?
    /// Absent means `both` (XEP-0166 §7.3).
    public var senders: JingleSenders?
    public var description: (any JingleApplicationDescription)?
    public var transport: (any JingleTransportMethod)?
    public var security: (any JingleSecurityMethod)?
    public var extraAttributes: [XMLAttribute]
    public var extensions: [XMLElement]
    var layout = SourceLayout()

    public static let section = "XEP-0166 §7.3"

    public init(creator: JingleRole, name: String, disposition: String? = nil, senders: JingleSenders? = nil,
                description: (any JingleApplicationDescription)? = nil, transport: (any JingleTransportMethod)? = nil,
                security: (any JingleSecurityMethod)? = nil, extraAttributes: [XMLAttribute] = [], extensions: [XMLElement] = []) {
        self.creator = creator
        self.name = name
        self.disposition = disposition
        self.senders = senders
        self.description = description
        self.transport = transport
        self.security = security
        self.extraAttributes = extraAttributes
        self.extensions = extensions
    }

    public init(element: XMLElement, registry: JingleRegistry = .standard) throws(JingleParseError) {
        var r = try ElementReader(element, name: "content", namespace: NS.jingle, section: Self.section)
        creator = try r.required("creator", as: JingleRole.self)
        name = try r.required("name")
        disposition = r.optional("disposition")
        senders = try r.optional("senders", as: JingleSenders.self)
        var description: (any JingleApplicationDescription)?
        var transport: (any JingleTransportMethod)?
        var security: (any JingleSecurityMethod)?
        var extensions: [XMLElement] = []
        // The children are told apart by local name; the namespace selects the codec (XEP-0166 §5).
        for case .element(let child) in element.children {
            if description == nil && ASCIIText.equals(child.name, "description") {
                description = try registry.parseDescription(child)
            } else if transport == nil && ASCIIText.equals(child.name, "transport") {
                transport = try registry.parseTransport(child)
            } else if security == nil && ASCIIText.equals(child.name, "security") {
                security = try registry.parseSecurity(child)
            } else {
                extensions.append(child)
            }
        }
        self.description = description
        self.transport = transport
        self.security = security
        self.extensions = extensions
        extraAttributes = r.remainingAttributes
        layout = r.layout
    }

    public func element() -> XMLElement {
        var e = XMLElement("content", namespace: NS.jingle, attributeCapacity: 4 + extraAttributes.count, childCapacity: 3 + extensions.count)
        e.set("creator", creator)
        e.set("disposition", disposition)
        e.set("name", name)
        e.set("senders", senders)
        if let child = description?.element() { e.add(child) }
        if let child = transport?.element() { e.add(child) }
        if let child = security?.element() { e.add(child) }
        e.finish(extraAttributes: extraAttributes, extensions: extensions, layout: layout)
        return e
    }

    /// `senders` with the XEP-0166 §7.3 default applied.
    public var effectiveSenders: JingleSenders { senders ?? .both }

    /// The same content with only creator and name, as `content-remove`/`content-reject` carry it.
    public var reference: JingleContent { JingleContent(creator: creator, name: name) }

    public static func == (lhs: JingleContent, rhs: JingleContent) -> Bool { lhs.element() == rhs.element() }
    public func hash(into hasher: inout Hasher) { hasher.combine(element()) }
}
