#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Jingle
import Synchronization
import XMPPCore

/// Our side of an S5B transport: the listening socket behind our one direct candidate, and the
/// `<transport/>` that advertises it and our proxy candidates (XEP-0260 §2.2).
final class S5BLocal: Sendable {
    let listener: S5BSocket
    let transport: S5BTransport

    init(listener: S5BSocket, transport: S5BTransport) {
        self.listener = listener
        self.transport = transport
    }
}

/// The nominated S5B connection (XEP-0260 §2.4), ready for data (a proxy is activated).
struct S5BEstablished: Sendable {
    let socket: S5BSocket
    let candidate: S5BCandidate
}

struct S5BWriter: FileByteWriter {
    let socket: S5BSocket
    var candidate: S5BCandidate.CandidateType? = nil
    func write(_ bytes: ArraySlice<UInt8>) async throws { try await socket.write(bytes) }
    /// The receiver reads end of stream after the last byte.
    func finish() async throws { socket.shutdownWrite() }
    func release() async { socket.close() }
}

struct S5BReader: FileByteReader {
    let socket: S5BSocket
    let idleTimeout: Duration
    var candidate: S5BCandidate.CandidateType? = nil
    func read() async throws(FileTransferSessionError) -> [UInt8]? { try await socket.read(idleTimeout: idleTimeout) }
    func abort(_ message: String) async { socket.close() }
    func release() async { socket.close() }
}

private final class AcceptedSocket: Sendable {
    let value = Mutex<S5BSocket?>(nil)
}

extension JingleFileTransfer {
    /// Opens the listening socket for our direct candidate (the first `--bind` address, loopback when none
    /// is given) and describes it, followed by one `proxy` candidate per streamhost that `options.s5bProxy`
    /// gives (XEP-0260 §2.2; the proxy's JID, host and port). All our candidates share the dstaddr
    /// SHA-1(sid + us + peer): the proxy pairs both parties' connections by it (XEP-0065 §5.3.2).
    static func s5bListen(engine: JingleEngine, peer: JID, sid: String, options: FileTransferOptions) async throws(FileTransferSessionError) -> S5BLocal {
        let host = options.ice.localAddresses.first ?? "127.0.0.1"
        let (listener, port) = try S5BSocket.listen(host: host, listening: !options.unreachableS5BDirectForTesting)
        func cid() -> String { "c" + String(UInt64.random(in: 0..<UInt64.max), radix: 36) }
        var candidates = [S5BCandidate(cid: cid(), host: host, jid: engine.localJID, port: port, priority: S5B.priority(for: .direct), type: .direct)]
        for (i, streamhost) in (await s5bStreamhosts(engine: engine, options: options)).enumerated() {
            // XEP-0260 §2.2: type preference 10 for proxies; the local preference keeps the server's order.
            let local = UInt32(max(0, 0xFFFF - i))
            candidates.append(S5BCandidate(cid: cid(), host: streamhost.host, jid: streamhost.jid, port: streamhost.port,
                                           priority: S5B.priority(for: .proxy, local: local), type: .proxy))
        }
        let transport = S5BTransport(sid: sid, dstaddr: S5B.dstaddr(sid: sid, requester: engine.localJID, target: peer), mode: .tcp,
                                     candidates: candidates)
        return S5BLocal(listener: listener, transport: transport)
    }

    /// XEP-0260 §2.3–2.4: connects to the peer's candidates (direct, assisted and, unless proxies are off,
    /// proxy) in priority order while accepting its connection to our direct candidate, reports
    /// `candidate-used` or `candidate-error`, reads the peer's report and keeps the nominated connection.
    /// A nominated proxy candidate is activated by the party that offered it (XEP-0065 §6.3.2), which then
    /// says `<activated/>`; the other party sends nothing before that. Nil when neither side connected or
    /// the proxy could not be activated (`<proxy-error/>`): the caller falls back to IBB.
    static func s5bEstablish(engine: JingleEngine, id: JingleSessionID, events: SessionEventBuffer, content: JingleContent,
                             local: S5BLocal, remote: S5BTransport, weAreInitiator: Bool,
                             options: FileTransferOptions) async throws(FileTransferSessionError) -> S5BEstablished? {
        let us = engine.localJID, peer = id.peer, sid = local.transport.sid
        guard remote.sid == sid else { throw .protocolError("the S5B answer changed the sid from \(sid) to \(remote.sid) (XEP-0260 §2.2)") }
        if remote.mode == .udp { throw .unsupported("S5B mode udp (XEP-0260 §2.2): only tcp is implemented") }
        let handshakeTimeout: Duration = .seconds(5)
        // XEP-0260 §2.2: a candidate's dstaddr is computed from its owner's JID first.
        let ourDst = S5B.dstaddr(sid: sid, requester: us, target: peer)
        // The peer's listener expects the dstaddr it announced (XEP-0260 §2.2 makes it a SHOULD); compute it
        // when absent or unusable in a SOCKS5 domain name (at most 255 octets, RFC 1928 §5).
        let announced = remote.dstaddr.flatMap { (1...255).contains($0.utf8.count) ? $0 : nil }
        let theirDst = announced ?? S5B.dstaddr(sid: sid, requester: peer, target: us)
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
        func dropAccepted() {
            accepting.cancel()
            accepted.value.withLock { $0?.close(); $0 = nil }
        }
        func report(_ transport: S5BTransport) async throws(FileTransferSessionError) {
            do {
                try await engine.sendTransportInfo(id, contents: [JingleContent(creator: content.creator, name: content.name, transport: transport)])
            } catch {
                throw .protocolError("cannot send the S5B transport-info: \(error)")
            }
        }
        var ours: S5BEstablished?
        search: for candidate in remote.candidates.sorted(by: { $0.priority > $1.priority }) {
            switch candidate.type {
            case .direct, .assisted: break
            case .proxy: if options.s5bProxy == .none { continue search }
            case .tunnel: continue search
            }
            // Connecting to a proxy is the same SOCKS5 CONNECT with the owner's dstaddr (XEP-0065 §6.3.1);
            // the proxy holds the connection until the owner activates it.
            do throws(FileTransferSessionError) {
                let socket = try await S5BSocket.connect(host: candidate.host, port: candidate.port ?? 1080, timeout: handshakeTimeout)
                do throws(FileTransferSessionError) { try await socket.socks5Connect(dstaddr: theirDst, timeout: handshakeTimeout) } catch {
                    socket.close()
                    throw error
                }
                ours = S5BEstablished(socket: socket, candidate: candidate)
                break search
            } catch {
                continue search
            }
        }
        do throws(FileTransferSessionError) {
            try await report(S5BTransport(sid: sid, candidateUsed: ours?.candidate.cid, candidateError: ours == nil))
        } catch {
            ours?.socket.close()
            throw error
        }
        options.observer?(.s5bReport(content: content.name, used: ours?.candidate.cid))
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
        var mine: S5BCandidate?
        if let cid = theirs.candidateUsed {
            guard let candidate = local.transport.candidates.first(where: { $0.cid == cid }) else {
                ours?.socket.close()
                throw .protocolError("candidate-used names \(cid), which is not one of our candidates (XEP-0260 §2.3)")
            }
            mine = candidate
        }
        let oursUsed = ours.map { S5B.Used(cid: $0.candidate.cid, priority: $0.candidate.priority) }
        let theirUsed = mine.map { S5B.Used(cid: $0.cid, priority: $0.priority) }
        let nomination = weAreInitiator ? S5B.nominate(initiatorUsed: oursUsed, responderUsed: theirUsed)
                                        : S5B.nominate(initiatorUsed: theirUsed, responderUsed: oursUsed)
        let useOurs: Bool
        switch nomination {
        case .none:
            return nil
        case .initiatorsConnection: useOurs = weAreInitiator
        case .respondersConnection: useOurs = !weAreInitiator
        }
        if useOurs {
            dropAccepted()
            guard let ours else { preconditionFailure("nominated our connection without one") }
            if ours.candidate.type == .proxy {
                // XEP-0260 §2.4: the peer offered this proxy, so the peer activates it; no data before
                // its <activated/> (or <proxy-error/>, after which the initiator falls back, §2.6).
                let activated: Bool
                do throws(FileTransferSessionError) {
                    activated = try await events.take(timeout: options.connectTimeout + .seconds(5), "the peer's S5B activated or proxy-error") { event -> Bool? in
                        guard case .received(let p) = event, p.action == .transportInfo else { return nil }
                        for c in p.contents where c.name == content.name {
                            guard let t = c.transport as? S5BTransport else { continue }
                            if t.activated == ours.candidate.cid { return true }
                            if t.proxyError { return false }
                        }
                        return nil
                    }
                } catch {
                    ours.socket.close()
                    throw error
                }
                guard activated else {
                    ours.socket.close()
                    options.observer?(.s5bProxyFailed(content: content.name, cid: ours.candidate.cid, reason: "the peer sent proxy-error"))
                    return nil
                }
            }
            options.observer?(.s5bNominated(content: content.name, cid: ours.candidate.cid, type: ours.candidate.type))
            return ours
        }
        ours?.socket.close()
        guard let mine else { preconditionFailure("nominated the peer's connection without its candidate-used") }
        if mine.type == .proxy {
            dropAccepted()
            // XEP-0260 §2.4: we offered this proxy, so we connect to it too and activate it (XEP-0065 §6.3.2).
            var failure: String?
            var socket: S5BSocket?
            do {
                let s = try await S5BSocket.connect(host: mine.host, port: mine.port ?? 1080, timeout: handshakeTimeout)
                socket = s
                try await s.socks5Connect(dstaddr: ourDst, timeout: handshakeTimeout)
                try await S5BProxyDiscovery.activate(link: engine.link, proxy: mine.jid, sid: sid, target: peer, timeout: .seconds(10))
            } catch {
                failure = "\(error)"
            }
            guard let socket, failure == nil else {
                socket?.close()
                try await report(S5BTransport(sid: sid, proxyError: true))
                options.observer?(.s5bProxyFailed(content: content.name, cid: mine.cid, reason: failure ?? "no connection to the proxy"))
                return nil
            }
            do throws(FileTransferSessionError) { try await report(S5BTransport(sid: sid, activated: mine.cid)) } catch {
                socket.close()
                throw error
            }
            options.observer?(.s5bProxyActivated(content: content.name, cid: mine.cid, proxy: mine.jid))
            options.observer?(.s5bNominated(content: content.name, cid: mine.cid, type: .proxy))
            return S5BEstablished(socket: socket, candidate: mine)
        }
        // The peer finished its handshake with our listener before reporting candidate-used; its socket
        // may still be on its way out of the accept task.
        let deadline = ContinuousClock.now + handshakeTimeout
        while ContinuousClock.now < deadline {
            if let socket = accepted.value.withLock({ $0 }) {
                options.observer?(.s5bNominated(content: content.name, cid: mine.cid, type: mine.type))
                return S5BEstablished(socket: socket, candidate: mine)
            }
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
