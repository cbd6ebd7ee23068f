#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import XMLStream
import XMPPCore

/// One `<item jid node name/>` of a disco#items result (XEP-0030 §4.1).
public struct DiscoItem: Sendable, Hashable {
    public var jid: JID
    public var node: String?
    public var name: String?

    public init(jid: JID, node: String? = nil, name: String? = nil) {
        self.jid = jid
        self.node = node
        self.name = name
    }

    /// The items of a `<query xmlns='http://jabber.org/protocol/disco#items'/>`; an item whose `jid` is
    /// missing or not a valid JID is left out (XEP-0030 §4.1 makes `jid` required).
    public static func items(query: XMLElement) -> [DiscoItem] {
        query.children("item", namespace: NS.discoItems).compactMap { e in
            guard let text = e[attribute: "jid"], let jid = try? JID(text) else { return nil }
            return DiscoItem(jid: jid, node: e[attribute: "node"], name: e[attribute: "name"])
        }
    }
}

extension XMPPSession {
    /// Asks an entity for its disco#items (XEP-0030 §4.1), e.g. a server for its components.
    public func discoItems(of jid: JID, node: String? = nil, timeout: Duration = .seconds(10)) async throws -> [DiscoItem] {
        let query = XMLElement("query", namespace: NS.discoItems, ["node": node])
        let result = try await sendIQ(IQ(type: .get, id: "items-" + UUID().uuidString, to: jid, payload: query), timeout: timeout)
        guard let payload = result.payload, payload.name == "query", payload.namespace == NS.discoItems else {
            throw XMPPLinkError.protocolViolation("disco#items result without <query/>")
        }
        return DiscoItem.items(query: payload)
    }
}
