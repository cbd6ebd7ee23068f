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
        var contents: [JingleContent] = [], groups: [JingleGroup] = []
        var reason: JingleReason?, reasons = 0
        // One pass; the ranks keep the error of the former reading order: contents, a repeated <reason/>, the
        // reason itself, groups.
        var errors = ChildErrors()
        let duplicateReason = r.error(.unexpectedElement(name: "reason", namespace: NS.jingle))
        r.forEachChild { e in
            if e.is("content", NS.jingle) {
                errors.append(rank: 0, to: &contents) { () throws(JingleParseError) in try JingleContent(element: e, registry: registry) }
            } else if e.is("reason", NS.jingle) {
                reasons += 1
                if reasons > 1 {
                    errors.record(duplicateReason, rank: 1)
                } else {
                    reason = errors.read(rank: 2) { () throws(JingleParseError) in try JingleReason(element: e) }
                }
            } else if e.is("group", NS.jingleGrouping) {
                errors.append(rank: 3, to: &groups) { () throws(JingleParseError) in try JingleGroup(element: e) }
            } else {
                return false
            }
            return true
        }
        try errors.check()
        self.contents = contents
        self.reason = reason
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
        var e = XMLElement("jingle", namespace: NS.jingle, attributeCapacity: 4 + extraAttributes.count,
                           childCapacity: contents.count + groups.count + 1 + info.count + extensions.count)
        e.set("action", action)
        e.set("initiator", initiator)
        e.set("responder", responder)
        e.set("sid", sid)
        e.add(contents) { $0.element() }
        e.add(groups) { $0.element() }
        if let child = reason?.element() { e.add(child) }
        e.add(info) { $0.payload.element() }
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
