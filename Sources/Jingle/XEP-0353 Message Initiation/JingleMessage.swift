import XMLStream
import XMPPCore

/// Jingle Message Initiation (XEP-0353, `urn:xmpp:jingle-message:0`): the call is proposed in a `<message/>`
/// before any session-initiate, so every device of the callee can ring.
public struct JingleMessage: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// §3.1: carries the application descriptions.
        case propose
        /// A device of the callee is ringing (sent to the caller before it answers).
        case ringing
        /// §3.3: the caller withdraws.
        case retract
        /// §3.2: the callee accepted on one device (sent to its own bare JID).
        case accept
        /// §3.2: the callee tells the caller to go on with session-initiate.
        case proceed
        /// §3.2: the callee declines.
        case reject
        /// §3.4: the call ended.
        case finish
    }

    public var kind: Kind
    /// The session id the later session-initiate will use.
    public var id: String
    /// `propose` only.
    public var descriptions: [any JingleApplicationDescription]
    public var reason: JingleReason?
    /// Other children (e.g. `<tie-break/>` of §3.5), kept verbatim.
    public var extensions: [XMLElement]
    /// Attributes no codec here understands, written back unchanged.
    public var extraAttributes: [XMLAttribute] = []
    var layout = SourceLayout()

    public static let section = "XEP-0353 §3"

    public init(_ kind: Kind, id: String, descriptions: [any JingleApplicationDescription] = [], reason: JingleReason? = nil, extensions: [XMLElement] = []) {
        self.kind = kind
        self.id = id
        self.descriptions = descriptions
        self.reason = reason
        self.extensions = extensions
    }

    public init(element: XMLElement, registry: JingleRegistry = .standard) throws(JingleParseError) {
        var r = ElementReader(element, section: Self.section)
        guard element.namespace == NS.jingleMessage, let kind = Kind(rawValue: element.name) else {
            throw r.error(.unexpectedElement(name: element.name, namespace: element.namespace))
        }
        self.kind = kind
        id = try r.required("id")
        var d: [any JingleApplicationDescription] = []
        if kind == .propose {
            for child in r.remainingChildren where child.name == "description" {
                d.append(try registry.parseDescription(child))
            }
            if d.isEmpty { throw r.error(.missingChild("description")) }
        }
        descriptions = d
        reason = try r.child("reason", namespace: NS.jingle).map { (e) throws(JingleParseError) in try JingleReason(element: e) }
        extensions = r.remainingChildren.filter { !(kind == .propose && $0.name == "description") }
        extraAttributes = r.remainingAttributes
        layout = r.layout
    }

    public func element() -> XMLElement {
        var e = XMLElement(name: kind.rawValue, namespace: NS.jingleMessage)
        e.set("id", id)
        for d in descriptions { e.append(d.element()) }
        if let reason { e.append(reason.element()) }
        e.finish(extraAttributes: extraAttributes, extensions: extensions, layout: layout)
        return e
    }

    /// The `<message/>` carrying this payload: type chat, with a XEP-0334 `<store/>` hint so that devices that
    /// are offline still learn of the call (XEP-0353 §3 examples).
    public func message(id: String? = nil, from: JID? = nil, to: JID) -> Message {
        Message(type: .chat, id: id, from: from, to: to, payloads: [element(), XMLElement(name: "store", namespace: "urn:xmpp:hints")])
    }

    public static func == (lhs: JingleMessage, rhs: JingleMessage) -> Bool { lhs.element() == rhs.element() }
    public func hash(into hasher: inout Hasher) { hasher.combine(element()) }
}

extension Message {
    /// The XEP-0353 payload of this message, if any.
    public func jingleMessage(registry: JingleRegistry = .standard) throws(JingleParseError) -> JingleMessage? {
        guard let e = element.elements.first(where: { $0.namespace == NS.jingleMessage }) else { return nil }
        return try JingleMessage(element: e, registry: registry)
    }
}
