import DTLS
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ICE
import Jingle
import PeerStream
import SecureTransport
import Synchronization
import XMPPCore

/// The transport a sender offers in its session-initiate.
public enum FileTransferTransport: String, Sendable, Hashable, CaseIterable {
    /// ICE-UDP with DTLS (XEP-0176, XEP-0320), falling back to IBB when ICE cannot connect.
    case ice
    /// In-band bytestreams (XEP-0261 over XEP-0047) from the start: the bytes ride the XMPP link
    /// (TLS to the server), not DTLS end to end.
    case ibb
    /// SOCKS5 bytestreams (XEP-0260), direct candidates only.
    case s5b
}

/// Where the sender writes a file's bytes: the DTLS stream, an in-band bytestream or a SOCKS5 stream.
protocol FileByteWriter: Sendable {
    func write(_ bytes: ArraySlice<UInt8>) async throws
    /// Flushes and signals the end of the file's bytes.
    func finish() async throws
    /// Releases the channel once the receiver confirmed the file.
    func release() async
}

/// Where the receiver reads a file's bytes from; nil marks the end.
protocol FileByteReader: Sendable {
    func read() async throws(FileTransferSessionError) -> [UInt8]?
    /// Stops the channel because the bytes cannot be used (disk full, sink refused).
    func abort(_ message: String) async
    func release() async
}

extension SecureStream: FileByteWriter {
    func release() async { close() }
}

struct SecureStreamReader: FileByteReader {
    let stream: SecureStream
    func read() async throws(FileTransferSessionError) -> [UInt8]? {
        do { return try await stream.read() } catch { throw .transport("\(error)") }
    }
    func abort(_ message: String) async { stream.abort(reason: PeerStreamAbortReason(code: 1, message: message)) }
    /// The stream goes with its ICE agent when the session's transports close.
    func release() async {}
}

extension IBBOutbound: FileByteWriter {
    func release() async { cancel() }
}

struct IBBReader: FileByteReader {
    let inbound: IBBInbound
    let router: IBBRouter
    let events: SessionEventBuffer
    let idleTimeout: Duration

    func read() async throws(FileTransferSessionError) -> [UInt8]? {
        try await inbound.read(idleTimeout: idleTimeout, events: events)
    }
    func abort(_ message: String) async {
        inbound.fail(message)
        router.remove(inbound)
    }
    func release() async { router.remove(inbound) }
}

extension JingleFileTransfer {
    // MARK: sender side

    /// The transport to put in the offer for one content when the sender chose IBB (XEP-0261 §2).
    static func ibbOffer() -> IBBTransport { IBBTransport(blockSize: IBB.maxBlockSize, sid: IBB.newSID()) }

    /// After session-accept with an IBB transport: open the stream with the agreed block size.
    static func openIBB(engine: JingleEngine, to peer: JID, offered: IBBTransport, answered: IBBTransport) async throws(FileTransferSessionError) -> IBBOutbound {
        guard answered.sid == offered.sid else {
            throw .protocolError("the IBB answer changed the sid from \(offered.sid) to \(answered.sid) (XEP-0261 §2)")
        }
        let outbound = IBBOutbound(link: engine.link, peer: peer, sid: offered.sid,
                                   blockSize: IBB.agreedBlockSize(proposed: offered.blockSize, answered: answered.blockSize))
        try await outbound.open()
        return outbound
    }

    /// ICE could not connect: propose IBB for the content with transport-replace (XEP-0166 §7.2.15,
    /// XEP-0260 §2.6 Example 15), wait for transport-accept, then open the in-band stream.
    static func fallBackToIBB(engine: JingleEngine, id: JingleSessionID, events: SessionEventBuffer, content: JingleContent,
                              options: FileTransferOptions, cause: FileTransferSessionError) async throws(FileTransferSessionError) -> IBBOutbound {
        let proposed = ibbOffer()
        let replacement = JingleContent(creator: content.creator, name: content.name, senders: content.senders, transport: proposed)
        do {
            try await engine.perform(on: id) { (s: inout JingleSession) throws(JingleSessionError) in try s.sendTransportReplace([replacement]) }
        } catch {
            throw .protocolError("cannot replace the transport after \(cause): \(error)")
        }
        enum Answer { case accepted(JingleContent?), rejected(String) }
        let answer = try await events.take(timeout: options.answerTimeout, "the answer to our transport-replace") { event -> Answer? in
            switch event {
            case .received(let p) where p.action == .transportAccept && p.contents.contains(where: { $0.name == content.name }):
                return .accepted(p.contents.first { $0.name == content.name })
            case .received(let p) where p.action == .transportReject && p.contents.contains(where: { $0.name == content.name }):
                return .rejected("the peer rejected the IBB fallback (transport-reject)")
            case .requestFailed(.transportReplace, _, let error):
                return .rejected("the peer refused transport-replace: \(error.condition.rawValue)")
            case .tieBreakLost(.transportReplace, let names) where names.contains(content.name):
                // Both sides replaced at once and the peer's (the initiator's) won: this implementation
                // only falls back as the initiator, so this means a peer that does something else.
                return .rejected("our transport-replace lost a tie-break")
            default:
                return nil
            }
        }
        switch answer {
        case .rejected(let why):
            throw .transport("\(cause); \(why)")
        case .accepted(let accepted):
            guard let ibb = (accepted?.transport as? IBBTransport) ?? (accepted?.transport == nil ? proposed : nil) else {
                throw .protocolError("transport-accept carries a transport other than the IBB we proposed")
            }
            return try await openIBB(engine: engine, to: id.peer, offered: proposed, answered: ibb)
        }
    }

    /// Test hook (`FileTransferOptions.unreachableICEForTesting`): our offer lists one host candidate on a
    /// loopback port nobody listens on, so the peer's checks go nowhere.
    static func unreachable(_ transport: ICEUDPTransport) -> ICEUDPTransport {
        var t = transport
        guard var c = t.candidates.first(where: { $0.type == .host }) ?? t.candidates.first else { return t }
        c.ip = "127.0.0.1"
        c.port = 9   // discard: nothing answers STUN there
        c.type = .host
        c.relAddr = nil
        c.relPort = nil
        t.candidates = [c]
        return t
    }

    // MARK: receiver side

    /// Prepares the answer for an IBB offer (XEP-0261 §2): the stream is registered before the answer goes
    /// out, since the sender may open right after it.
    static func expectIBB(engine: JingleEngine, from peer: JID, offer: IBBTransport) async -> (answer: IBBTransport, inbound: IBBInbound, router: IBBRouter) {
        let router = await IBBRouter.router(for: engine.link)
        let size = IBB.agreedBlockSize(proposed: offer.blockSize, answered: nil)
        let inbound = router.expect(sid: offer.sid, from: peer, blockSize: size)
        return (IBBTransport(blockSize: size, sid: offer.sid), inbound, router)
    }

    /// Connects ICE+DTLS for one content while watching for a transport-replace from the peer; when ICE
    /// fails or times out, keeps waiting a while for the sender to fall back (XEP-0166 §7.2.15). A replace
    /// to IBB is accepted, to anything else rejected (transport-reject, §7.2.14).
    static func receiveOverICE(engine: JingleEngine, id: JingleSessionID, events: SessionEventBuffer, content: JingleContent,
                               remote: ICEUDPTransport, ice: ICEContentTransport, options: FileTransferOptions) async throws(FileTransferSessionError) -> any FileByteReader {
        let fp = remote.fingerprints.first
        let role = fp.flatMap { TransportMapping.dtlsRole(local: .active, remote: $0.setup) } ?? .client
        let outcome = ConnectOutcome()
        let connecting = Task {
            let result: Result<SecureStreamBox, FileTransferSessionError>
            do throws(FileTransferSessionError) {
                result = .success(try await ice.connect(role: role, remoteFingerprint: fp, events: events, content: content.name, timeout: options.connectTimeout))
            } catch {
                result = .failure(error)
            }
            outcome.value.withLock { $0 = result }
        }
        var fallbackDeadline: ContinuousClock.Instant?
        var iceError: FileTransferSessionError?
        while true {
            if let reader = try await answerTransportReplace(engine: engine, id: id, events: events, content: content, options: options) {
                connecting.cancel()
                if let box = try? outcome.value.withLock({ $0 })?.get() { box.stream.close() }
                return reader
            }
            if fallbackDeadline == nil, let result = outcome.value.withLock({ $0 }) {
                switch result {
                case .success(let box): return SecureStreamReader(stream: box.stream)
                case .failure(let error):
                    if case .peerTerminated = error { throw error }
                    // The sender decides on the fallback (it initiates the replace); give it its own
                    // connect timeout and a margin to notice and send it.
                    iceError = error
                    fallbackDeadline = .now + options.connectTimeout + .seconds(10)
                }
            }
            if let end = events.endReason() { throw .peerTerminated(end) }
            if let fallbackDeadline, ContinuousClock.now >= fallbackDeadline {
                throw iceError ?? .timeout("ICE connectivity or a transport-replace")
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Answers a pending transport-replace for `content`, if one arrived: IBB gets transport-accept and
    /// a reader; anything else gets transport-reject and nil (the current transport stays).
    static func answerTransportReplace(engine: JingleEngine, id: JingleSessionID, events: SessionEventBuffer, content: JingleContent,
                                       options: FileTransferOptions) async throws(FileTransferSessionError) -> (any FileByteReader)? {
        guard let replace = try? await events.take(timeout: .zero, "transport-replace", { event -> JingleContent? in
            if case .received(let p) = event, p.action == .transportReplace { return p.contents.first { $0.name == content.name } }
            return nil
        }) else { return nil }
        if let ibb = replace.transport as? IBBTransport {
            let (answer, inbound, router) = await expectIBB(engine: engine, from: id.peer, offer: ibb)
            let accepted = JingleContent(creator: replace.creator, name: replace.name, senders: replace.senders, transport: answer)
            do {
                try await engine.perform(on: id) { (s: inout JingleSession) throws(JingleSessionError) in try s.sendTransportAccept([accepted]) }
            } catch {
                router.remove(inbound)
                throw .protocolError("cannot accept the transport-replace: \(error)")
            }
            return IBBReader(inbound: inbound, router: router, events: events, idleTimeout: options.connectTimeout)
        }
        // XEP-0166 §7.2.14: a transport we cannot use is rejected; the session goes on with the old one.
        let rejected = JingleContent(creator: replace.creator, name: replace.name, senders: replace.senders, transport: replace.transport)
        do {
            try await engine.perform(on: id) { (s: inout JingleSession) throws(JingleSessionError) in try s.sendTransportReject([rejected]) }
        } catch {
            throw .protocolError("cannot reject the transport-replace: \(error)")
        }
        return nil
    }
}

/// Where the background ICE+DTLS attempt leaves its result for the polling receiver.
private final class ConnectOutcome: Sendable {
    let value = Mutex<Result<SecureStreamBox, FileTransferSessionError>?>(nil)
}
