#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization
import XMLStream
import XMPPCore
import XMPPLink

/// Wraps the gateway's XMPP link to remember to whom each incoming session-initiate was addressed
/// (`bob@jingle.localhost`): the session machines keep only the peer, but the gateway routes on the local
/// part of the address the XMPP caller dialled (draft-ietf-stox-core §5).
final class RecipientTrackingSession: XMPPSession {
    let inner: any XMPPSession
    private let recipients = Mutex<[String: JID]>([:])

    init(_ inner: any XMPPSession) { self.inner = inner }

    static func key(peer: JID, sid: String) -> String { "\(peer)|\(sid)" }

    /// The `to` of the session-initiate of (peer, sid).
    func recipient(peer: JID, sid: String) -> JID? {
        recipients.withLock { $0[Self.key(peer: peer, sid: sid)] }
    }

    func forget(peer: JID, sid: String) {
        recipients.withLock { _ = $0.removeValue(forKey: Self.key(peer: peer, sid: sid)) }
    }

    var localJID: JID? { get async { await inner.localJID } }
    var stanzas: AsyncStream<XMLElement> { inner.stanzas }
    func send(_ stanza: XMLElement) async throws { try await inner.send(stanza) }
    /// Our IQs in a session the peer started go out from the address it dialled (`carol@jingle.localhost`),
    /// or the peer would not match them to its session (XEP-0166 §7.2: the session is keyed on the JIDs).
    func sendIQ(_ iq: IQ, timeout: Duration) async throws -> IQ {
        try await inner.sendIQ(addressed(iq), timeout: timeout)
    }
    func sendIQ(_ iq: IQ, timeout: Duration, whenWritten: @escaping @Sendable () -> Void) async throws -> IQ {
        try await inner.sendIQ(addressed(iq), timeout: timeout, whenWritten: whenWritten)
    }
    /// A session-terminate is the session's last IQ of ours: the address is forgotten with it (not when the
    /// gateway's call handler returns, which is before the engine sends that terminate).
    private func addressed(_ iq: IQ) -> IQ {
        var iq = iq
        if let to = iq.to, let payload = iq.payload, let sid = payload[attribute: "sid"], let dialled = recipient(peer: to, sid: sid) {
            iq.from = dialled
            if Self.isTerminate(payload) { forget(peer: to, sid: sid) }
        }
        return iq
    }

    private static func isTerminate(_ payload: XMLElement) -> Bool {
        payload.name == "jingle" && payload[attribute: "action"] == "session-terminate"
    }
    func register(iqHandler namespace: String, _ handler: @escaping IQHandler) async {
        await inner.register(iqHandler: namespace) { [weak self] iq in
            if let self, let payload = iq.payload, payload.name == "jingle", payload[attribute: "action"] == "session-initiate",
               let sid = payload[attribute: "sid"], let from = iq.from, let to = iq.to {
                self.recipients.withLock { $0[Self.key(peer: from, sid: sid)] = to }
            }
            let result = try await handler(iq)
            // The peer ended the session: our answer to its terminate was the last IQ to address.
            if let self, let payload = iq.payload, Self.isTerminate(payload), let sid = payload[attribute: "sid"], let from = iq.from {
                self.forget(peer: from, sid: sid)
            }
            return result
        }
    }
    func unregisterIQHandler(namespace: String) async { await inner.unregisterIQHandler(namespace: namespace) }
    func addFeatures(_ features: [String]) async { await inner.addFeatures(features) }
    func removeFeatures(_ features: [String]) async { await inner.removeFeatures(features) }
    var discoInfo: DiscoInfo { get async { await inner.discoInfo } }
    func discoInfo(of jid: JID, node: String?) async throws -> DiscoInfo { try await inner.discoInfo(of: jid, node: node) }
    func close() async { await inner.close() }
}
