import XMLStream
import XMPPCore

/// The `<jingle xmlns='urn:xmpp:jingle:1'/>` element (XEP-0166 §7.1).
///
/// Child elements: `<content/>` (§7.3), `<reason/>` (§7.4), XEP-0338 `<group/>`, and for `session-info`
/// (§7.2.9) informational payloads; anything else is kept in `extensions` and written back unchanged.
public struct JinglePayload: Sendable, Hashable {
    public var action: JingleWireAction
    public var sid: String
    public var initiator: JID?
    public var responder: JID?
    public var contents: [JingleContent]
    public var reason: JingleReason?
    /// XEP-0338 content groups (e.g. BUNDLE).
    public var groups: [JingleGroup]
    /// Payloads of a `session-info` (XEP-0166 §7.2.9); an empty list is a session ping.
    public var info: [JingleInfo]
    public var extraAttributes: [XMLAttribute]
    public var extensions: [XMLElement]
    var layout = SourceLayout()

    public static let section = "XEP-0166 §7.1"

    public init(action: JingleWireAction, sid: String, initiator: JID? = nil, responder: JID? = nil,
                contents: [JingleContent] = [], reason: JingleReason? = nil, groups: [JingleGroup] = [],
                info: [JingleInfo] = [], extraAttributes: [XMLAttribute] = [], extensions: [XMLElement] = []) {
        self.action = action
        self.sid = sid
        self.initiator = initiator
        self.responder = responder
        self.contents = contents
        self.reason = reason
        self.groups = groups
        self.info = info
        self.extraAttributes = extraAttributes
        self.extensions = extensions
    }

    public init(element: XMLElement, registry: JingleRegistry = .standard) throws(JingleParseError) {
        var r = try ElementReader(element, name: "jingle", namespace: NS.jingle, section: Self.section)
        action = try r.required("action", as: JingleWireAction.self)
        sid = try r.required("sid")
        if sid.isEmpty { throw r.error(.invalidAttribute("sid", value: sid)) }
        initiator = try r.optionalJID("initiator")
        responder = try r.optionalJID("responder")
        var contents: [JingleContent] = []
        for c in r.children("content", namespace: NS.jingle) { contents.append(try JingleContent(element: c, registry: registry)) }
        self.contents = contents
        let reasons = r.children("reason", namespace: NS.jingle)
        if reasons.count > 1 { throw r.error(.unexpectedElement(name: "reason", namespace: NS.jingle)) }
        reason = try reasons.first.map { (e) throws(JingleParseError) in try JingleReason(element: e) }
        var groups: [JingleGroup] = []
        for g in r.children("group", namespace: NS.jingleGrouping) { groups.append(try JingleGroup(element: g)) }
        self.groups = groups
        var info: [JingleInfo] = []
        if action == .sessionInfo {
            for e in r.remainingChildren where e.namespace != NS.jingle {
                info.append(JingleInfo(try registry.parseInfo(e)))
            }
        }
        self.info = info
        extraAttributes = r.remainingAttributes
        extensions = action == .sessionInfo ? r.remainingChildren.filter { $0.namespace == NS.jingle } : r.remainingChildren
        layout = r.layout
    }

    public func element() -> XMLElement {
        var e = XMLElement(name: "jingle", namespace: NS.jingle)
        e.set("action", action)
        e.set("initiator", initiator)
        e.set("responder", responder)
        e.set("sid", sid)
        for c in contents { e.append(c.element()) }
        for g in groups { e.append(g.element()) }
        if let reason { e.append(reason.element()) }
        for i in info { e.append(i.payload.element()) }
        e.finish(extraAttributes: extraAttributes, extensions: extensions, layout: layout)
        return e
    }

    /// The content with this creator and name (XEP-0166 §7.3: the pair identifies a content).
    public func content(creator: JingleRole, name: String) -> JingleContent? {
        contents.first { $0.creator == creator && $0.name == name }
    }
}

/// One `session-info` payload, compared by its XML.
public struct JingleInfo: Sendable, Hashable {
    public var payload: any JingleInfoPayload

    public init(_ payload: any JingleInfoPayload) { self.payload = payload }

    public static func == (lhs: JingleInfo, rhs: JingleInfo) -> Bool { lhs.payload.element() == rhs.payload.element() }
    public func hash(into hasher: inout Hasher) { hasher.combine(payload.element()) }
}

extension IQ {
    /// The Jingle payload of this IQ, if it carries one.
    public func jingle(registry: JingleRegistry = .standard) throws(JingleParseError) -> JinglePayload? {
        guard let p = payload, p.name == "jingle", p.namespace == NS.jingle else { return nil }
        return try JinglePayload(element: p, registry: registry)
    }
}
