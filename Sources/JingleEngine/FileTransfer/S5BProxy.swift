#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Jingle
import Synchronization
import XMLStream
import XMPPCore
import XMPPLink

/// A XEP-0065 streamhost: a SOCKS5 bytestreams proxy, its JID and the address it listens on (§4).
public struct S5BStreamhost: Sendable, Hashable, CustomStringConvertible {
    public var jid: JID
    public var host: String
    public var port: UInt16

    public init(jid: JID, host: String, port: UInt16) {
        self.jid = jid
        self.host = host
        self.port = port
    }

    public var description: String { "\(jid) at \(host):\(port)" }
}

/// Which SOCKS5 proxies (XEP-0065 streamhosts) an S5B transfer offers as `proxy` candidates (XEP-0260 §2.2).
public enum S5BProxyChoice: Sendable, Hashable {
    /// The account server's proxy, found by service discovery (XEP-0065 §4), once per engine.
    case discover
    /// No proxy candidate of ours, and the peer's proxy candidates are not tried.
    case none
    /// These streamhosts instead of discovering them (a configured proxy; tests).
    case use([S5BStreamhost])
}

extension S5B {
    /// XEP-0065 §4 Example 6: the `<streamhost jid host port/>` children of a bytestreams `<query/>`.
    /// Entries without a valid JID, a host or a valid port are left out; `port` defaults to 1080 (§5.3.1).
    public static func streamhosts(query: XMLElement) -> [S5BStreamhost] {
        query.children("streamhost", namespace: NS.bytestreams).compactMap { e in
            guard let text = e[attribute: "jid"], let jid = try? JID(text), let host = e[attribute: "host"], !host.isEmpty else { return nil }
            let port: UInt16
            if let p = e[attribute: "port"] {
                guard let value = UInt16(p), value > 0 else { return nil }
                port = value
            } else {
                port = 1080
            }
            return S5BStreamhost(jid: jid, host: host, port: port)
        }
    }

    /// XEP-0065 §6.3.2 Example 24: the `<query sid><activate>target</activate></query>` the candidate's owner
    /// sends to the proxy. For Jingle the sid is the transport's `sid` (XEP-0260 §2.4); the proxy pairs the
    /// two connections whose dstaddr is SHA-1(sid + the sender of this IQ + target).
    public static func activationQuery(sid: String, target: JID) -> XMLElement {
        XMLElement("query", namespace: NS.bytestreams, ["sid": sid],
                   children: [XMLElement("activate", namespace: NS.bytestreams, text: target.description)])
    }
}

/// Finding the account server's SOCKS5 proxy (XEP-0065 §4).
public enum S5BProxyDiscovery {
    /// XEP-0065 §4: the items of `server` (disco#items) whose disco#info has the identity category `proxy`,
    /// type `bytestreams`, each asked for its streamhost(s). The items are asked concurrently, so a server
    /// with many components costs about two round trips; items that do not answer (disco#info: within the
    /// link's own limit; the bytestreams query: within `timeout`) are skipped.
    /// An error on the server's own disco#items throws. Streamhosts keep the server's item order.
    public static func discover(link: any XMPPSession, server: JID, timeout: Duration = .seconds(5)) async throws -> [S5BStreamhost] {
        let items = try await link.discoItems(of: server, timeout: timeout).filter { $0.node == nil }
        let found = await withTaskGroup(of: (Int, [S5BStreamhost]).self) { group in
            for (index, item) in items.enumerated() {
                group.addTask {
                    guard let info = try? await link.discoInfo(of: item.jid),
                          info.identities.contains(where: { $0.category == "proxy" && $0.type == "bytestreams" }) else { return (index, []) }
                    let query = XMLElement("query", namespace: NS.bytestreams)
                    let iq = IQ(type: .get, id: "s5bproxy-" + String(UInt64.random(in: 0..<UInt64.max), radix: 36), to: item.jid, payload: query)
                    guard let answer = try? await link.sendIQ(iq, timeout: timeout), let payload = answer.payload,
                          payload.name == "query", payload.namespace == NS.bytestreams else { return (index, []) }
                    return (index, S5B.streamhosts(query: payload))
                }
            }
            var results: [(Int, [S5BStreamhost])] = []
            for await result in group { results.append(result) }
            return results
        }
        return found.sorted { $0.0 < $1.0 }.flatMap(\.1)
    }

    /// XEP-0065 §6.3.2: asks `proxy` to relay between our connection and the target's, both made with the
    /// dstaddr SHA-1(sid + our full JID + target). Throws what the link throws (a stanza error from the
    /// proxy, a timeout).
    static func activate(link: any XMPPSession, proxy: JID, sid: String, target: JID, timeout: Duration) async throws {
        let iq = IQ(type: .set, id: "s5bact-" + String(UInt64.random(in: 0..<UInt64.max), radix: 36), to: proxy,
                    payload: S5B.activationQuery(sid: sid, target: target))
        _ = try await link.sendIQ(iq, timeout: timeout)
    }
}

/// Discovery results per engine, so a proxy is looked up once per connection rather than once per file.
private final class ProxyCacheEntry: Sendable {
    weak let engine: JingleEngine?
    /// Nil when discovery failed (the entry is then dropped, so the next transfer asks again).
    let lookup: Task<[S5BStreamhost]?, Never>
    init(engine: JingleEngine, lookup: Task<[S5BStreamhost]?, Never>) {
        self.engine = engine
        self.lookup = lookup
    }
}

private let proxyCache = Mutex<[ObjectIdentifier: ProxyCacheEntry]>([:])

extension JingleEngine {
    /// The account server's SOCKS5 proxies (XEP-0065 §4), discovered on first use and cached for this
    /// engine (a failed discovery is not cached). Empty on a serverless peer link or a component link, when
    /// the server has none, or when discovery fails: a missing proxy never fails a transfer.
    public nonisolated func s5bProxies() async -> [S5BStreamhost] {
        guard link is XMPPClient, let server = try? JID(domainpart: localJID.domainpart) else { return [] }
        let key = ObjectIdentifier(self)
        let entry: ProxyCacheEntry = proxyCache.withLock { cache in
            cache = cache.filter { $0.value.engine != nil }
            if let existing = cache[key], existing.engine === self { return existing }
            let link = self.link
            let created = ProxyCacheEntry(engine: self, lookup: Task {
                try? await S5BProxyDiscovery.discover(link: link, server: server)
            })
            cache[key] = created
            return created
        }
        guard let found = await entry.lookup.value else {
            proxyCache.withLock { cache in if cache[key] === entry { cache[key] = nil } }
            return []
        }
        return found
    }
}

extension JingleFileTransfer {
    /// The streamhosts `options` asks for: none, the configured ones, or the discovered ones.
    static func s5bStreamhosts(engine: JingleEngine, options: FileTransferOptions) async -> [S5BStreamhost] {
        switch options.s5bProxy {
        case .none: []
        case .use(let hosts): hosts
        case .discover: await engine.s5bProxies()
        }
    }
}
