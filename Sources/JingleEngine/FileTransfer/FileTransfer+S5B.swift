#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Jingle
import Synchronization
import XMPPCore

/// Our side of an S5B transport: the listening socket behind our one direct candidate, and the
/// `<transport/>` that advertises it (XEP-0260 §2.2).
final class S5BLocal: Sendable {
    let listener: S5BSocket
    let transport: S5BTransport

    init(listener: S5BSocket, transport: S5BTransport) {
        self.listener = listener
        self.transport = transport
    }
}

struct S5BWriter: FileByteWriter {
    let socket: S5BSocket
    func write(_ bytes: ArraySlice<UInt8>) async throws { try await socket.write(bytes) }
    /// The receiver reads end of stream after the last byte.
    func finish() async throws { socket.shutdownWrite() }
    func release() async { socket.close() }
}

struct S5BReader: FileByteReader {
    let socket: S5BSocket
    let idleTimeout: Duration
    func read() async throws(FileTransferSessionError) -> [UInt8]? { try await socket.read(idleTimeout: idleTimeout) }
    func abort(_ message: String) async { socket.close() }
    func release() async { socket.close() }
}

private final class AcceptedSocket: Sendable {
    let value = Mutex<S5BSocket?>(nil)
}

extension JingleFileTransfer {
    /// Opens the listening socket for our direct candidate (the first `--bind` address, loopback when none
    /// is given) and describes it. Our candidates' dstaddr is SHA-1(sid + us + peer) (XEP-0260 §2.2).
    static func s5bListen(engine: JingleEngine, peer: JID, sid: String, options: FileTransferOptions) throws(FileTransferSessionError) -> S5BLocal {
        let host = options.ice.localAddresses.first ?? "127.0.0.1"
        let (listener, port) = try S5BSocket.listen(host: host)
        let cid = "c" + String(UInt64.random(in: 0..<UInt64.max), radix: 36)
        let candidate = S5BCandidate(cid: cid, host: host, jid: engine.localJID, port: port, priority: S5B.priority(for: .direct), type: .direct)
        let transport = S5BTransport(sid: sid, dstaddr: S5B.dstaddr(sid: sid, requester: engine.localJID, target: peer), mode: .tcp,
                                     candidates: [candidate])
        return S5BLocal(listener: listener, transport: transport)
    }

    /// XEP-0260 §2.3–2.4: connects to the peer's direct candidates in priority order while accepting its
    /// connection to ours, reports `candidate-used` or `candidate-error`, reads the peer's report and keeps
    /// the nominated connection. Nil when neither side connected (the caller falls back to IBB).
    /// Proxy candidates (XEP-0065 streamhosts) are not tried: activation is not implemented.
    static func s5bEstablish(engine: JingleEngine, id: JingleSessionID, events: SessionEventBuffer, content: JingleContent,
                             local: S5BLocal, remote: S5BTransport, weAreInitiator: Bool,
                             options: FileTransferOptions) async throws(FileTransferSessionError) -> S5BSocket? {
        let us = engine.localJID, peer = id.peer, sid = local.transport.sid
        guard remote.sid == sid else { throw .protocolError("the S5B answer changed the sid from \(sid) to \(remote.sid) (XEP-0260 §2.2)") }
        if remote.mode == .udp { throw .unsupported("S5B mode udp (XEP-0260 §2.2): only tcp is implemented") }
        let handshakeTimeout: Duration = .seconds(5)
        let ourDst = S5B.dstaddr(sid: sid, requester: us, target: peer)
        let theirDst = S5B.dstaddr(sid: sid, requester: peer, target: us)
        let accepted = AcceptedSocket()
        let acceptDeadline = ContinuousClock.now + options.connectTimeout
        let listener = local.listener
        let accepting = Task {
            while let socket = await listener.accept(until: acceptDeadline) {
                do throws(FileTransferSessionError) {
                    try await socket.socks5Accept(dstaddr: ourDst, timeout: handshakeTimeout)
                    accepted.value.withLock { $0 = socket }
                    return
                } catch {
                    socket.close()
                }
            }
        }
        defer {
            accepting.cancel()
            listener.close()
        }
        var ours: (socket: S5BSocket, used: S5B.Used)?
        for candidate in remote.candidates.sorted(by: { $0.priority > $1.priority }) where candidate.type == .direct || candidate.type == .assisted {
            do throws(FileTransferSessionError) {
                let socket = try await S5BSocket.connect(host: candidate.host, port: candidate.port ?? 1080, timeout: handshakeTimeout)
                do throws(FileTransferSessionError) { try await socket.socks5Connect(dstaddr: theirDst, timeout: handshakeTimeout) } catch {
                    socket.close()
                    throw error
                }
                ours = (socket, S5B.Used(cid: candidate.cid, priority: candidate.priority))
                break
            } catch {
                continue
            }
        }
        let report = S5BTransport(sid: sid, candidateUsed: ours?.used.cid, candidateError: ours == nil)
        do {
            try await engine.sendTransportInfo(id, contents: [JingleContent(creator: content.creator, name: content.name, transport: report)])
        } catch {
            ours?.socket.close()
            throw .protocolError("cannot send the S5B candidate report: \(error)")
        }
        let theirs: S5BTransport
        do throws(FileTransferSessionError) {
            theirs = try await events.take(timeout: options.connectTimeout + .seconds(5), "the peer's S5B candidate-used or candidate-error") { event -> S5BTransport? in
                guard case .received(let p) = event, p.action == .transportInfo else { return nil }
                for c in p.contents where c.name == content.name {
                    if let t = c.transport as? S5BTransport, t.candidateUsed != nil || t.candidateError { return t }
                }
                return nil
            }
        } catch {
            ours?.socket.close()
            throw error
        }
        var theirUsed: S5B.Used?
        if let cid = theirs.candidateUsed {
            guard let mine = local.transport.candidates.first(where: { $0.cid == cid }) else {
                ours?.socket.close()
                throw .protocolError("candidate-used names \(cid), which is not one of our candidates (XEP-0260 §2.3)")
            }
            theirUsed = S5B.Used(cid: cid, priority: mine.priority)
        }
        let nomination = weAreInitiator ? S5B.nominate(initiatorUsed: ours?.used, responderUsed: theirUsed)
                                        : S5B.nominate(initiatorUsed: theirUsed, responderUsed: ours?.used)
        let useOurs: Bool
        switch nomination {
        case .none:
            return nil
        case .initiatorsConnection: useOurs = weAreInitiator
        case .respondersConnection: useOurs = !weAreInitiator
        }
        if useOurs {
            accepting.cancel()
            accepted.value.withLock { $0?.close(); $0 = nil }
            guard let ours else { preconditionFailure("nominated our connection without one") }
            return ours.socket
        }
        ours?.socket.close()
        // The peer finished its handshake with our listener before reporting candidate-used; its socket
        // may still be on its way out of the accept task.
        let deadline = ContinuousClock.now + handshakeTimeout
        while ContinuousClock.now < deadline {
            if let socket = accepted.value.withLock({ $0 }) { return socket }
            try? await Task.sleep(for: .milliseconds(5))
        }
        throw .transport("the peer reported candidate-used for our SOCKS5 candidate, but no connection arrived")
    }

    /// Neither S5B connection worked on the receiving side: wait for the sender's transport-replace to IBB
    /// (XEP-0260 §2.6), bounded by the connect timeout.
    static func awaitReplacement(engine: JingleEngine, id: JingleSessionID, events: SessionEventBuffer, content: JingleContent,
                                 options: FileTransferOptions, cause: FileTransferSessionError) async throws(FileTransferSessionError) -> any FileByteReader {
        let deadline = ContinuousClock.now + options.connectTimeout + .seconds(10)
        while ContinuousClock.now < deadline {
            if let reader = try await answerTransportReplace(engine: engine, id: id, events: events, content: content, options: options) { return reader }
            if let end = events.endReason() { throw .peerTerminated(end) }
            try? await Task.sleep(for: .milliseconds(10))
        }
        throw cause
    }
}
