import DTLS
import FileTransfer
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hashes
import ICE
import Jingle
import PeerStream
import SecureTransport
import XMPPCore

/// XEP-0234 (v5) file transfer over Jingle, ICE-UDP (XEP-0176) and DTLS (XEP-0320): each file is one
/// content with its own ICE agent (the DTLS transport takes over an agent's receive handler) and one
/// reliable encrypted `SecureStream`. Contents are carried one after another in offer order.
public enum JingleFileTransfer {
    public typealias ProgressHandler = @Sendable (FileTransferProgress) -> Void

    // MARK: sending (push, XEP-0234 §4)

    /// Offers `paths` to `peer` in one session (one content per file, senders=initiator), sends each from the
    /// offset the receiver asks for (§7), then a `checksum` (§8.1), and waits for `received` (§8.2).
    /// Returns once every file was confirmed; throws otherwise.
    /// `offeredNames` are offered instead of the files' base names (`send as`; tests use it to play a
    /// hostile sender).
    public static func send(engine: JingleEngine, to peer: JID, paths: [String], offeredNames: [String]? = nil, options: FileTransferOptions,
                            progress: ProgressHandler? = nil) async throws(FileTransferSessionError) -> [FileTransferResult] {
        var accepted = false
        do {
            return try await sendOnce(engine: engine, to: peer, paths: paths, offeredNames: offeredNames, options: options, progress: progress,
                                      accepted: &accepted)
        } catch .peerTerminated(let reason) where reason?.condition == .unsupportedTransports && !accepted && options.transport == .ice
                                                    && options.ibbFallback {
            // Most clients (Conversations, Dino, Gajim) take files over SOCKS5 or in-band bytestreams only, and
            // end an ICE-UDP offer with unsupported-transports before anything was sent: offer again, in band
            // (XEP-0261), in a new session. Not SOCKS5: its bytes cross the network in the clear, in-band ones
            // at least within the TLS of the XMPP link (`--transport s5b` asks for SOCKS5 explicitly).
            var inBand = options
            inBand.transport = .ibb
            return try await sendOnce(engine: engine, to: peer, paths: paths, offeredNames: offeredNames, options: inBand, progress: progress,
                                      accepted: &accepted)
        }
    }

    /// One session; `accepted` turns true once the receiver's session-accept arrived.
    private static func sendOnce(engine: JingleEngine, to peer: JID, paths: [String], offeredNames: [String]?, options: FileTransferOptions,
                                 progress: ProgressHandler?, accepted: inout Bool) async throws(FileTransferSessionError) -> [FileTransferResult] {
        guard !paths.isEmpty else { throw .file("no file to send") }
        var descriptions: [FileDescription] = []
        for (i, path) in paths.enumerated() {
            do {
                var d = try FileSource.describe(path: path, withHash: false)
                if let offeredNames, i < offeredNames.count { d.name = offeredNames[i] }
                descriptions.append(d)
            } catch { throw .file(error.description) }
        }
        var transports: [ICEContentTransport?] = []
        var s5bLocals: [Int: S5BLocal] = [:]
        defer { let t = transports.compactMap { $0 }; Task { for x in t { await x.close() } } }
        var contents: [JingleContent] = []
        for (i, d) in descriptions.enumerated() {
            var file = FileTransferFile(date: d.modified.map(XEP0082.format), name: d.name, size: d.size)
            file.mediaType = "application/octet-stream"
            let t: any JingleTransportMethod
            if options.transport == .ibb {
                transports.append(nil)
                t = ibbOffer()
            } else if options.transport == .s5b {
                transports.append(nil)
                let local = try await s5bListen(engine: engine, peer: peer, sid: "s5b" + String(UInt64.random(in: 0..<UInt64.max), radix: 36), options: options)
                s5bLocals[i] = local
                t = local.transport
            } else {
                let transport = try await ICEContentTransport.make(options.ice, role: .controlling, timeout: options.connectTimeout)
                transports.append(transport)
                // RFC 5763 §5: the offerer says actpass; the answerer chooses.
                let ice = try await transport.jingleTransport(setup: .actpass, idPrefix: "c\(i)-", withholdingCandidates: options.trickleOnly)
                t = options.unreachableICEForTesting ? unreachable(ice) : ice
            }
            contents.append(JingleContent(creator: .initiator, name: "file\(i)", senders: .initiator,
                                          description: FileTransferDescription(file: file), transport: t))
        }
        let handle: JingleSessionHandle
        do { handle = try await engine.initiate(to: peer, contents: contents) } catch { throw .protocolError(error.description) }
        let events = SessionEventBuffer(handle.events)
        let id = handle.id
        // The unreachable-ICE test hook must not leak our real candidates through trickling either.
        let trickler = CandidateTrickler.start(engine: engine, id: id, events: events, sent: .sessionInitiate, contents: contents,
                                               transports: options.unreachableICEForTesting ? [] : transports, options: options)
        defer { trickler.stop() }
        do throws(FileTransferSessionError) {
            let accept = try await events.take(timeout: options.answerTimeout, "the receiver to accept") { event -> JinglePayload? in
                if case .received(let p) = event, p.action == .sessionAccept { return p }
                return nil
            }
            accepted = true
            var results: [FileTransferResult] = []
            for (i, content) in contents.enumerated() {
                guard let answered = accept.contents.first(where: { $0.name == content.name }) else {
                    throw FileTransferSessionError.protocolError("session-accept lacks content \(content.name)")
                }
                let offset = (answered.description as? FileTransferDescription)?.file.range?.offset ?? 0
                let channel: any FileByteWriter
                if let offered = content.transport as? IBBTransport {
                    guard let answeredIBB = answered.transport as? IBBTransport else {
                        throw FileTransferSessionError.protocolError("we offered IBB and the receiver answered with another transport")
                    }
                    channel = try await openIBB(engine: engine, to: peer, offered: offered, answered: answeredIBB)
                } else if let local = s5bLocals[i] {
                    guard let answeredS5B = answered.transport as? S5BTransport else {
                        throw FileTransferSessionError.protocolError("we offered S5B and the receiver answered with another transport")
                    }
                    if let link = try await s5bEstablish(engine: engine, id: id, events: events, content: content, local: local, remote: answeredS5B,
                                                         weAreInitiator: true, options: options) {
                        channel = S5BWriter(socket: link.socket, candidate: link.candidate.type)
                    } else {
                        // XEP-0260 §2.6: no candidate worked either way; the initiator falls back to IBB.
                        let cause = FileTransferSessionError.transport("no SOCKS5 candidate connected either way")
                        guard options.ibbFallback else { throw cause }
                        channel = try await fallBackToIBB(engine: engine, id: id, events: events, content: content, options: options, cause: cause)
                    }
                } else {
                    guard let remote = answered.transport as? ICEUDPTransport, let transport = transports[i] else {
                        throw FileTransferSessionError.unsupported("the receiver answered with a transport other than ICE-UDP")
                    }
                    if options.unreachableICEForTesting {
                        guard let ufrag = remote.ufrag, let pwd = remote.pwd else { throw FileTransferSessionError.protocolError("ICE-UDP transport without ufrag/pwd") }
                        do { try await transport.agent.setRemoteCredentials(ICECredentials(ufrag: ufrag, pwd: pwd), stream: transport.stream) } catch {
                            throw FileTransferSessionError.transport("\(error)")
                        }
                    } else {
                        try await transport.apply(remote: remote)
                    }
                    let remoteFP = remote.fingerprints.first
                    guard let role = remoteFP.flatMap({ TransportMapping.dtlsRole(local: .actpass, remote: $0.setup) }) else {
                        throw FileTransferSessionError.protocolError("the answer's DTLS setup must be active or passive (XEP-0320)")
                    }
                    do {
                        channel = try await transport.connect(role: role, remoteFingerprint: remoteFP, events: events, content: content.name,
                                                              timeout: options.connectTimeout).stream
                    } catch {
                        // XEP-0166 §7.2.15: ICE cannot connect (failed, timed out, no usable candidate):
                        // the initiator proposes IBB for this content.
                        let iceCannotConnect = switch error { case .transport, .timeout: true; default: false }
                        guard iceCannotConnect, options.ibbFallback else { throw error }
                        channel = try await fallBackToIBB(engine: engine, id: id, events: events, content: content, options: options, cause: error)
                    }
                }
                let started = ContinuousClock.now
                let (sent, hash) = try await sendFile(paths[i], name: descriptions[i].name, offset: offset, over: channel, progress: progress)
                var announced = hash
                if options.corruptChecksum, !announced.isEmpty { announced[0] ^= 0xFF }
                let checksum = FileTransferInfo.checksum(creator: .initiator, name: content.name,
                                                         file: FileTransferFile(hashes: [FileHash(algo: HashAlgorithm.sha256.rawValue, digest: announced)]))
                do { try await engine.sendInfo(id, [JingleInfo(checksum)]) } catch { throw FileTransferSessionError.protocolError(error.description) }
                _ = try await events.take(timeout: options.answerTimeout, "the receiver's confirmation of \(descriptions[i].name)") { event -> Bool? in
                    if case .received(let p) = event, p.action == .sessionInfo,
                       p.info.contains(where: { if case .received(_, let n)? = $0.payload as? FileTransferInfo { n == content.name } else { false } }) {
                        return true
                    }
                    return nil
                }
                let seconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18 + Double((ContinuousClock.now - started).components.seconds)
                await channel.release()
                results.append(FileTransferResult(name: descriptions[i].name, path: paths[i], size: descriptions[i].size, offset: offset,
                                                  transferred: sent, sha256: hash, seconds: seconds, verified: true,
                                                  transport: channel is IBBOutbound ? .ibb : channel is S5BWriter ? .s5b : .ice,
                                                  s5bCandidate: (channel as? S5BWriter)?.candidate))
            }
            try? await engine.terminate(id, reason: JingleReason(.success))
            return results
        } catch {
            let error = await events.preferPeerReason(over: error)
            if case .peerTerminated = error {} else {
                let condition: JingleReason.Condition = if case .transport = error { .connectivityError } else if case .timeout = error { .timeout } else { .failedApplication }
                try? await engine.terminate(id, reason: JingleReason(condition, text: error.description))
            }
            throw error
        }
    }

    /// Streams bytes `offset...` of `path`; the hash covers the whole file (the prefix is read and hashed
    /// but not sent, since the receiver has it).
    static func sendFile(_ path: String, name: String, offset: UInt64, over stream: any FileByteWriter,
                         progress: ProgressHandler?) async throws(FileTransferSessionError) -> (sent: UInt64, hash: [UInt8]) {
        let source: FileSource
        do { source = try FileSource(path: path) } catch { throw .file(error.description) }
        guard offset <= source.size else { throw .protocolError("range offset \(offset) beyond the file's \(source.size) bytes") }
        let chunk = 256 * 1024
        var buffer = [UInt8](repeating: 0, count: chunk)
        var sent: UInt64 = 0
        var position: UInt64 = 0
        var lastReport = ContinuousClock.now
        while true {
            let n: Int
            let r = buffer.withUnsafeMutableBytes { b -> Result<Int, FileTransferError> in
                do throws(FileTransferError) { return .success(try source.read(into: b)) } catch { return .failure(error) }
            }
            switch r {
            case .success(let count): n = count
            case .failure(let error): throw .file(error.description)
            }
            if n == 0 { break }
            let start = position
            position += UInt64(n)
            if position <= offset { continue }
            let from = start < offset ? Int(offset - start) : 0
            do { try await stream.write(buffer[from..<n]) } catch let e as FileTransferSessionError { throw e } catch { throw .transport("\(error)") }
            sent += UInt64(n - from)
            if let progress, ContinuousClock.now - lastReport > .milliseconds(200) {
                lastReport = ContinuousClock.now
                progress(FileTransferProgress(name: name, done: position, total: source.size, transferred: sent, offset: offset))
            }
        }
        do { try await stream.finish() } catch let e as FileTransferSessionError { throw e } catch { throw .transport("\(error)") }
        progress?(FileTransferProgress(name: name, done: position, total: source.size, transferred: sent, offset: offset))
        return (sent, source.digestOfDelivered)
    }

    // MARK: receiving

    /// What the receiver allows.
    public struct ReceivePolicy: Sendable {
        public var directory: String
        /// Accept without asking (`--yes`).
        public var acceptAll: Bool
        /// Accept from these bare or full JIDs (`--accept-from`).
        public var acceptFrom: [JID]
        public var maxSize: UInt64?
        /// Continue `.part` files (XEP-0234 §7 range).
        public var resume: Bool

        public init(directory: String, acceptAll: Bool = false, acceptFrom: [JID] = [], maxSize: UInt64? = nil, resume: Bool = false) {
            self.directory = directory
            self.acceptAll = acceptAll
            self.acceptFrom = acceptFrom
            self.maxSize = maxSize
            self.resume = resume
        }

        func consents(to peer: JID) -> Bool {
            acceptAll || acceptFrom.contains { $0 == peer || ($0.isBare && $0 == peer.bare) }
        }
    }

    /// Handles one incoming session: checks consent and every offer, then receives each file into its `.part`,
    /// verifies the hash and keeps the file only when it matches. Throws on the first file that fails
    /// (after terminating the session with a reason); declined sessions throw `declined`.
    public static func receive(engine: JingleEngine, incoming: IncomingJingleSession, policy: ReceivePolicy,
                               options: FileTransferOptions, progress: ProgressHandler? = nil,
                               onOffer: (@Sendable (String) -> Void)? = nil) async throws(FileTransferSessionError) -> [FileTransferResult] {
        let id = incoming.id
        let events = SessionEventBuffer(incoming.handle.events)
        func refuse(_ condition: JingleReason.Condition, _ text: String) async -> FileTransferSessionError {
            try? await engine.terminate(id, reason: JingleReason(condition, text: text))
            return condition == .decline ? .declined(text) : condition == .unsupportedTransports || condition == .unsupportedApplications ? .unsupported(text) : .file(text)
        }
        guard policy.consents(to: id.peer) else {
            throw await refuse(.decline, "offer from \(id.peer) not accepted: give --yes or --accept-from \(id.peer.bare)")
        }
        // Check every offer before creating anything (XEP-0234 §13).
        var sinks: [FileSink] = []
        var offers: [(content: JingleContent, file: FileTransferFile, transport: any JingleTransportMethod)] = []
        for content in incoming.initiate.contents {
            guard let description = content.description as? FileTransferDescription else {
                throw await refuse(.unsupportedApplications, "content \(content.name) is not a XEP-0234 file offer")
            }
            guard content.effectiveSenders == .initiator else {
                throw await refuse(.unsupportedApplications, "file requests (senders=responder, XEP-0234 §5) are not served by jingle receive")
            }
            if let why = content.unsupportedSecurity { throw await refuse(.securityError, why) }
            guard let transport = content.transport, transport is ICEUDPTransport || transport is IBBTransport || transport is S5BTransport else {
                let kind = content.transport.map { $0.element().namespace } ?? "none"
                throw await refuse(.unsupportedTransports, "transport \(kind) is not supported (ICE-UDP, IBB and S5B only)")
            }
            let file = description.file
            guard let size = file.size else { throw await refuse(.failedApplication, "offer without a size") }
            do {
                let sink = try FileSink(directory: policy.directory, offeredName: file.name ?? "", expectedSize: size,
                                        maxSize: policy.maxSize, resume: policy.resume)
                sinks.append(sink)
            } catch {
                for s in sinks { s.abort(keepPartial: policy.resume) }
                let condition: JingleReason.Condition = if case .tooLarge = error { .decline } else { .failedApplication }
                throw await refuse(condition, error.description)
            }
            onOffer?("\(file.name ?? "?") (\(size) bytes) from \(id.peer)")
            offers.append((content, file, transport))
        }
        var transports: [ICEContentTransport?] = []
        var ibbStreams: [(inbound: IBBInbound, router: IBBRouter)?] = []
        var s5bLocals: [Int: S5BLocal] = [:]
        defer {
            let t = transports.compactMap { $0 }
            Task { for x in t { await x.close() } }
            for case let ibb? in ibbStreams { ibb.router.remove(ibb.inbound) }
        }
        do throws(FileTransferSessionError) {
            var answers: [JingleContent] = []
            for (i, offer) in offers.enumerated() {
                var file = offer.file
                if sinks[i].resumeOffset > 0 { file.range = FileTransferRange(offset: sinks[i].resumeOffset) }
                let ours: any JingleTransportMethod
                if let ibb = offer.transport as? IBBTransport {
                    let expected = await expectIBB(engine: engine, from: id.peer, offer: ibb)
                    transports.append(nil)
                    ibbStreams.append((expected.inbound, expected.router))
                    ours = expected.answer
                } else if let s5b = offer.transport as? S5BTransport {
                    transports.append(nil)
                    ibbStreams.append(nil)
                    let local = try await s5bListen(engine: engine, peer: id.peer, sid: s5b.sid, options: options)
                    s5bLocals[i] = local
                    ours = local.transport
                } else {
                    guard let ice = offer.transport as? ICEUDPTransport else { preconditionFailure("offers were checked above") }
                    let transport = try await ICEContentTransport.make(options.ice, role: .controlled, timeout: options.connectTimeout)
                    transports.append(transport)
                    ibbStreams.append(nil)
                    try await transport.apply(remote: ice)
                    // XEP-0320 §3: we answer actpass with active, so we are the DTLS client.
                    ours = try await transport.jingleTransport(setup: .active, idPrefix: "r\(i)-", withholdingCandidates: options.trickleOnly)
                }
                answers.append(JingleContent(creator: offer.content.creator, name: offer.content.name, senders: offer.content.senders,
                                             description: FileTransferDescription(file: file), transport: ours))
            }
            do { try await engine.accept(id, contents: answers) } catch { throw FileTransferSessionError.protocolError(error.description) }
            let trickler = CandidateTrickler.start(engine: engine, id: id, events: events, sent: .sessionAccept, contents: answers,
                                                   transports: transports, options: options)
            defer { trickler.stop() }
            var results: [FileTransferResult] = []
            for (i, offer) in offers.enumerated() {
                let sink = sinks[i]
                let offset = sink.resumeOffset
                let channel: any FileByteReader
                if let ibb = ibbStreams[i] {
                    channel = IBBReader(inbound: ibb.inbound, router: ibb.router, events: events, idleTimeout: options.connectTimeout)
                } else if let local = s5bLocals[i], let remote = offer.transport as? S5BTransport {
                    if let link = try await s5bEstablish(engine: engine, id: id, events: events, content: offer.content, local: local, remote: remote,
                                                         weAreInitiator: false, options: options) {
                        channel = S5BReader(socket: link.socket, idleTimeout: options.connectTimeout, candidate: link.candidate.type)
                    } else {
                        channel = try await awaitReplacement(engine: engine, id: id, events: events, content: offer.content, options: options,
                                                             cause: .transport("no SOCKS5 candidate connected either way"))
                    }
                } else {
                    guard let remote = offer.transport as? ICEUDPTransport, let ice = transports[i] else { preconditionFailure("an ICE agent per ICE offer") }
                    channel = try await receiveOverICE(engine: engine, id: id, events: events, content: offer.content, remote: remote, ice: ice, options: options)
                }
                let started = ContinuousClock.now
                let total = sink.expectedSize ?? 0
                var lastReport = ContinuousClock.now
                while true {
                    let bytes: [UInt8]?
                    bytes = try await channel.read()
                    guard let bytes else { break }
                    do { try sink.write(bytes) } catch {
                        // The reason goes out first, so the sender reports it rather than the aborted stream.
                        try? await engine.terminate(id, reason: JingleReason(.failedApplication, text: JingleFileTransfer.peerText(error)))
                        await channel.abort(error.description)
                        throw FileTransferSessionError.file(error.description)
                    }
                    if let progress, ContinuousClock.now - lastReport > .milliseconds(200) {
                        lastReport = ContinuousClock.now
                        progress(FileTransferProgress(name: sink.name, done: sink.received, total: total, transferred: sink.received - offset, offset: offset))
                    }
                }
                progress?(FileTransferProgress(name: sink.name, done: sink.received, total: total, transferred: sink.received - offset, offset: offset))
                await channel.release()
                if let size = sink.expectedSize, sink.received != size {
                    throw FileTransferSessionError.transport("the stream ended after \(sink.received) of \(size) bytes")
                }
                let (path, expected) = try await verifyAndConfirm(engine: engine, id: id, events: events, creator: offer.content.creator,
                                                                  name: offer.content.name, file: offer.file, sink: sink, options: options)
                let elapsed = ContinuousClock.now - started
                results.append(FileTransferResult(name: sink.name, path: path, size: total, offset: offset, transferred: sink.received - offset,
                                                  sha256: expected, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                                                  verified: true, transport: channel is IBBReader ? .ibb : channel is S5BReader ? .s5b : .ice,
                                                  s5bCandidate: (channel as? S5BReader)?.candidate))
            }
            // The sender ends the session after the last `received`; wait for it briefly.
            _ = try? await events.take(timeout: .seconds(5), "session end") { event -> Bool? in
                if case .ended = event { return true }
                return nil
            }
            return results
        } catch {
            for s in sinks where s.finalPath == nil { s.abort(keepPartial: true) }
            if case .peerTerminated = error {} else if case .verification = error {} else {
                try? await engine.terminate(id, reason: JingleReason(.failedApplication, text: error.description))
            }
            throw error
        }
    }
}

extension JingleFileTransfer {
    /// The receiver's end of one file (push or pull): the sha-256 from the offer, else from the sender's
    /// `checksum` session-info (XEP-0234 §8.1); the `.part` file is kept only if it matches (otherwise the
    /// session ends with media-error and nothing is kept), then `received` (§8.2). Returns the kept path and hash.
    static func verifyAndConfirm(engine: JingleEngine, id: JingleSessionID, events: SessionEventBuffer, creator: JingleRole,
                                 name: String, file: FileTransferFile, sink: FileSink,
                                 options: FileTransferOptions) async throws(FileTransferSessionError) -> (path: String, sha256: [UInt8]) {
        let expected: (algorithm: HashAlgorithm, digest: [UInt8])
        if let h = preferredHash(file.hashes) {
            expected = h
        } else {
            expected = try await events.take(timeout: options.answerTimeout, "the sender's checksum") { event -> (HashAlgorithm, [UInt8])? in
                guard case .received(let p) = event, p.action == .sessionInfo else { return nil }
                for info in p.info {
                    if case .checksum(_, let n, let f)? = info.payload as? FileTransferInfo, n == name, let h = preferredHash(f.hashes) { return h }
                }
                return nil
            }
        }
        let path: String
        do { path = try sink.finish(expectedHash: expected.digest, algorithm: expected.algorithm) } catch {
            try? await engine.terminate(id, reason: JingleReason(.mediaError, text: error.description))
            throw FileTransferSessionError.verification(error.description)
        }
        do { try await engine.sendInfo(id, [JingleInfo(FileTransferInfo.received(creator: creator, name: name))]) } catch {
            throw FileTransferSessionError.protocolError(error.description)
        }
        // The sha-256 of what was kept: the one checked, or the running one of the sink.
        return (path, expected.algorithm == .sha256 ? expected.digest : sink.currentDigest)
    }

    /// The hash to check a file against (XEP-0300 §4): sha-256 when the sender gave one, else the strongest
    /// other function we run (senders that name only sha-1 or sha-512 are verified too, instead of waiting in
    /// vain for a sha-256 checksum); nil when none is usable. Empty digests (bad base64) do not count.
    static func preferredHash(_ hashes: [FileHash]) -> (algorithm: HashAlgorithm, digest: [UInt8])? {
        let order: [HashAlgorithm] = [.sha256, .sha512, .sha384, .sha1]
        for algorithm in order {
            if let h = hashes.first(where: { HashAlgorithm(textualName: $0.algo) == algorithm && $0.digest.count == algorithm.digestLength }) {
                return (algorithm, h.digest)
            }
        }
        return nil
    }
}
