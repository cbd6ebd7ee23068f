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
import Synchronization
import XMPPCore

/// What a pulling side asks for (XEP-0234 §5): a name, a sha-256 digest, or both (then both must match).
public struct FileRequest: Sendable, Hashable {
    public var name: String?
    public var sha256: [UInt8]?

    public init(name: String? = nil, sha256: [UInt8]? = nil) {
        self.name = name
        self.sha256 = sha256
    }

    /// For messages: `"a.txt"`, `"sha-256 0a1b…"`.
    public var label: String {
        [name.map { String(reflecting: $0) }, sha256.map { "sha-256 \($0.hexString)" }].compactMap { $0 }.joined(separator: " with ")
    }
}

/// The files a serving side answers requests for, and from whom.
public struct ServePolicy: Sendable {
    /// Served paths; a request matches a file's base name or its sha-256, nothing else is ever opened.
    public var files: [String]
    public var acceptAll: Bool
    public var acceptFrom: [JID]

    public init(files: [String], acceptAll: Bool = false, acceptFrom: [JID] = []) {
        self.files = files
        self.acceptAll = acceptAll
        self.acceptFrom = acceptFrom
    }

    func consents(to peer: JID) -> Bool {
        acceptAll || acceptFrom.contains { $0 == peer || ($0.isBare && $0 == peer.bare) }
    }
}

extension SessionEventBuffer {
    /// A transport failure is often the peer ending the session (its disk is full, its hash did not match):
    /// its session-terminate, if it arrives within a second, explains the failure better.
    func preferPeerReason(over error: FileTransferSessionError) async -> FileTransferSessionError {
        guard case .transport = error else { return error }
        for _ in 0..<100 {
            if let reason = endReason() { return .peerTerminated(reason) }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return error
    }
}

extension JingleFileTransfer {
    // MARK: pulling (XEP-0234 §5)

    /// Asks `peer` for files: one content per request with senders=responder (§5), receives each answer as a
    /// push receiver would (sanitised name inside the directory, `.part`, sha-256 check, §7 range with
    /// `policy.resume` when a name was asked for), confirms with `received` and ends the session.
    public static func request(engine: JingleEngine, from peer: JID, requests: [FileRequest], policy: ReceivePolicy,
                               options: FileTransferOptions, progress: ProgressHandler? = nil) async throws(FileTransferSessionError) -> [FileTransferResult] {
        guard !requests.isEmpty else { throw .file("no file requested") }
        for r in requests where r.name == nil && r.sha256 == nil { throw .file("a request needs a name or a sha-256 hash") }
        var transports: [ICEContentTransport] = []
        defer { let t = transports; Task { for x in t { await x.close() } } }
        var contents: [JingleContent] = []
        for (i, r) in requests.enumerated() {
            let transport = try await ICEContentTransport.make(options.ice, role: .controlling, timeout: options.connectTimeout)
            transports.append(transport)
            var file = FileTransferFile(name: r.name)
            if let digest = r.sha256 { file.hashes = [FileHash(algo: HashAlgorithm.sha256.rawValue, digest: digest)] }
            // §7: ask for the rest of a `.part` an earlier pull left behind.
            if policy.resume, let name = r.name, let safe = try? FileName.sanitize(name),
               let size = (try? FileManager.default.attributesOfItem(atPath: policy.directory + "/" + safe + ".part"))?[.size] as? UInt64, size > 0 {
                file.range = FileTransferRange(offset: size)
            }
            let t = try await transport.jingleTransport(setup: .actpass, idPrefix: "c\(i)-", withholdingCandidates: options.trickleOnly)
            contents.append(JingleContent(creator: .initiator, name: "file\(i)", senders: .responder,
                                          description: FileTransferDescription(file: file), transport: t))
        }
        let handle: JingleSessionHandle
        do { handle = try await engine.initiate(to: peer, contents: contents) } catch { throw .protocolError(error.description) }
        let events = SessionEventBuffer(handle.events)
        let id = handle.id
        let trickler = CandidateTrickler.start(engine: engine, id: id, events: events, sent: .sessionInitiate, contents: contents,
                                               transports: transports, options: options)
        defer { trickler.stop() }
        var sinks: [FileSink] = []
        do throws(FileTransferSessionError) {
            let accept = try await events.take(timeout: options.answerTimeout, "the peer to answer the request") { event -> JinglePayload? in
                if case .received(let p) = event, p.action == .sessionAccept { return p }
                return nil
            }
            // Check every answer before writing anything.
            var answers: [(content: JingleContent, file: FileTransferFile, transport: ICEUDPTransport)] = []
            for (i, content) in contents.enumerated() {
                guard let answered = accept.contents.first(where: { $0.name == content.name }),
                      let description = answered.description as? FileTransferDescription else {
                    throw FileTransferSessionError.protocolError("session-accept lacks content \(content.name)")
                }
                guard let remote = answered.transport as? ICEUDPTransport else {
                    throw FileTransferSessionError.unsupported("the peer answered with a transport other than ICE-UDP")
                }
                let file = description.file
                guard let size = file.size else { throw FileTransferSessionError.protocolError("the answer to \(requests[i].label) has no size") }
                if let wanted = requests[i].sha256, let offered = file.hashes.first(where: { $0.algo == HashAlgorithm.sha256.rawValue }),
                   offered.digest != wanted {
                    throw FileTransferSessionError.protocolError("the peer answered \(requests[i].label) with a file of another hash")
                }
                // The name we asked for wins; a request by hash alone takes the peer's (sanitised) name.
                let name = requests[i].name ?? file.name ?? requests[i].sha256.map { $0.hexString } ?? "file"
                let sink: FileSink
                do {
                    sink = try FileSink(directory: policy.directory, offeredName: name, expectedSize: size, maxSize: policy.maxSize,
                                        resume: policy.resume && (file.range?.offset ?? 0) > 0)
                } catch {
                    throw FileTransferSessionError.file(error.description)
                }
                sinks.append(sink)
                guard (file.range?.offset ?? 0) == sink.resumeOffset else {
                    throw FileTransferSessionError.protocolError("the peer answered range offset \(file.range?.offset ?? 0), we hold \(sink.resumeOffset) bytes")
                }
                var checked = file
                if checked.hashes.isEmpty, let wanted = requests[i].sha256 {
                    checked.hashes = [FileHash(algo: HashAlgorithm.sha256.rawValue, digest: wanted)]
                }
                answers.append((content, checked, remote))
            }
            var results: [FileTransferResult] = []
            for (i, answer) in answers.enumerated() {
                let transport = transports[i]
                try await transport.apply(remote: answer.transport)
                let remoteFP = answer.transport.fingerprints.first
                guard let role = remoteFP.flatMap({ TransportMapping.dtlsRole(local: .actpass, remote: $0.setup) }) else {
                    throw FileTransferSessionError.protocolError("the answer's DTLS setup must be active or passive (XEP-0320)")
                }
                let box = try await transport.connect(role: role, remoteFingerprint: remoteFP, events: events, content: answer.content.name,
                                                      timeout: options.connectTimeout)
                let result = try await receiveOne(engine: engine, id: id, events: events, content: answer.content, file: answer.file,
                                                  sink: sinks[i], box: box, options: options, progress: progress)
                results.append(result)
            }
            // §5: the pulling side got everything; it ends the session.
            try? await engine.terminate(id, reason: JingleReason(.success))
            return results
        } catch {
            for s in sinks where s.finalPath == nil { s.abort(keepPartial: true) }
            let error = await events.preferPeerReason(over: error)
            if case .peerTerminated = error {} else if case .verification = error {} else {
                let condition: JingleReason.Condition = if case .transport = error { .connectivityError } else if case .timeout = error { .timeout } else { .failedApplication }
                try? await engine.terminate(id, reason: JingleReason(condition, text: error.description))
            }
            throw error
        }
    }

    /// Reads one content's bytes into `sink`, verifies them against the offered hash or the sender's
    /// checksum (§8.1) and confirms with `received` (§8.2). Ends the session with a reason on failure.
    static func receiveOne(engine: JingleEngine, id: JingleSessionID, events: SessionEventBuffer, content: JingleContent,
                           file: FileTransferFile, sink: FileSink, box: SecureStreamBox, options: FileTransferOptions,
                           progress: ProgressHandler?) async throws(FileTransferSessionError) -> FileTransferResult {
        let offset = sink.resumeOffset
        let started = ContinuousClock.now
        let total = sink.expectedSize ?? 0
        var lastReport = ContinuousClock.now
        while true {
            let bytes: [UInt8]?
            do { bytes = try await box.stream.read() } catch { throw FileTransferSessionError.transport("\(error)") }
            guard let bytes else { break }
            do { try sink.write(bytes) } catch {
                try? await engine.terminate(id, reason: JingleReason(.failedApplication, text: peerText(error)))
                box.stream.abort(reason: PeerStreamAbortReason(code: 1, message: error.description))
                throw FileTransferSessionError.file(error.description)
            }
            if let progress, ContinuousClock.now - lastReport > .milliseconds(200) {
                lastReport = ContinuousClock.now
                progress(FileTransferProgress(name: sink.name, done: sink.received, total: total, transferred: sink.received - offset, offset: offset))
            }
        }
        progress?(FileTransferProgress(name: sink.name, done: sink.received, total: total, transferred: sink.received - offset, offset: offset))
        let (path, expected) = try await verifyAndConfirm(engine: engine, id: id, events: events, creator: content.creator,
                                                          name: content.name, file: file, sink: sink, options: options)
        let elapsed = ContinuousClock.now - started
        return FileTransferResult(name: sink.name, path: path, size: total, offset: offset, transferred: sink.received - offset,
                                  sha256: expected, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                                  verified: true)
    }

    /// What the peer is told when writing a received file failed: the cause, not our local paths.
    static func peerText(_ error: FileTransferError) -> String {
        switch error {
        case .diskFull(_, let received): "no space left on device (after \(received) bytes)"
        case .io(let operation, _, _, let message): "\(operation) failed: \(message)"
        default: error.description
        }
    }

    // MARK: serving requests (XEP-0234 §5, responder side)

    /// Answers an incoming request for files: each content must ask (senders=responder) for a served file by
    /// name or sha-256; anything else is refused with a reason naming only what was asked. Sends each file
    /// from the requested offset (§7), then its checksum, and waits for `received`; the requester ends the
    /// session. An incoming *offer* (a push) is declined: this side only serves.
    public static func serve(engine: JingleEngine, incoming: IncomingJingleSession, policy: ServePolicy, options: FileTransferOptions,
                             hashes: ServedHashesCache = ServedHashesCache(), progress: ProgressHandler? = nil,
                             onRequest: (@Sendable (String) -> Void)? = nil) async throws(FileTransferSessionError) -> [FileTransferResult] {
        let id = incoming.id
        let events = SessionEventBuffer(incoming.handle.events)
        func refuse(_ condition: JingleReason.Condition, _ text: String) async -> FileTransferSessionError {
            try? await engine.terminate(id, reason: JingleReason(condition, text: text))
            return condition == .decline ? .declined(text) : condition == .unsupportedTransports || condition == .unsupportedApplications ? .unsupported(text) : .file(text)
        }
        guard policy.consents(to: id.peer) else {
            throw await refuse(.decline, "request from \(id.peer) not accepted: give --yes or --accept-from \(id.peer.bare)")
        }
        var requests: [(content: JingleContent, path: String, description: FileDescription, offset: UInt64, transport: ICEUDPTransport)] = []
        for content in incoming.initiate.contents {
            guard let description = content.description as? FileTransferDescription else {
                throw await refuse(.unsupportedApplications, "content \(content.name) is not a XEP-0234 file request")
            }
            guard content.effectiveSenders == .responder else {
                throw await refuse(.decline, "this side only serves files (XEP-0234 §5 requests); offers are not accepted")
            }
            if let why = content.unsupportedSecurity { throw await refuse(.securityError, why) }
            guard let transport = content.transport as? ICEUDPTransport else {
                let kind = content.transport.map { type(of: $0).namespace } ?? "none"
                throw await refuse(.unsupportedTransports, "transport \(kind) is not supported (ICE-UDP only)")
            }
            let wanted = description.file
            let wantedHash = wanted.hashes.first { $0.algo == HashAlgorithm.sha256.rawValue }?.digest
            guard wanted.name != nil || wantedHash != nil else {
                let algos = wanted.hashes.map(\.algo)
                throw await refuse(.failedApplication, algos.isEmpty ? "a request must name a file or give its sha-256"
                                                                     : "requests by \(algos.joined(separator: ", ")) are not supported (sha-256 only)")
            }
            let label = FileRequest(name: wanted.name, sha256: wantedHash).label
            let match: String?
            do throws(FileTransferError) { match = try servedFile(matching: wanted.name, sha256: wantedHash, in: policy.files, hashes: hashes) } catch {
                throw await refuse(.failedApplication, "cannot read a served file: \(error.description)")
            }
            // Only what was asked is named: the served set is not revealed.
            guard let path = match else { throw await refuse(.failedApplication, "no served file matches \(label)") }
            if let length = wanted.range?.length {
                throw await refuse(.failedApplication, "unsupported: a range with a length (\(length)) is not served; only an offset (XEP-0234 §7)")
            }
            let served: FileDescription
            do { served = try FileSource.describe(path: path, withHash: false) } catch { throw await refuse(.failedApplication, "cannot read \(label): \(error.description)") }
            let offset = wanted.range?.offset ?? 0
            guard offset <= served.size else { throw await refuse(.failedApplication, "range offset \(offset) lies beyond the \(served.size) bytes of \(label)") }
            onRequest?("\(served.name) (\(served.size) bytes) requested by \(id.peer)\(offset > 0 ? " from byte \(offset)" : "")")
            requests.append((content, path, served, offset, transport))
        }
        var transports: [ICEContentTransport] = []
        defer { let t = transports; Task { for x in t { await x.close() } } }
        do throws(FileTransferSessionError) {
            var answers: [JingleContent] = []
            for (i, r) in requests.enumerated() {
                let transport = try await ICEContentTransport.make(options.ice, role: .controlled, timeout: options.connectTimeout)
                transports.append(transport)
                try await transport.apply(remote: r.transport)
                var file = FileTransferFile(date: r.description.modified.map(XEP0082.format), name: r.description.name, size: r.description.size)
                file.mediaType = "application/octet-stream"
                if let known = hashes.known(r.path) { file.hashes = [FileHash(algo: HashAlgorithm.sha256.rawValue, digest: known)] }
                if r.offset > 0 { file.range = FileTransferRange(offset: r.offset) }
                // XEP-0320 §3: we answer actpass with active, so we are the DTLS client.
                let ours = try await transport.jingleTransport(setup: .active, idPrefix: "r\(i)-", withholdingCandidates: options.trickleOnly)
                answers.append(JingleContent(creator: r.content.creator, name: r.content.name, senders: .responder,
                                             description: FileTransferDescription(file: file), transport: ours))
            }
            do { try await engine.accept(id, contents: answers) } catch { throw FileTransferSessionError.protocolError(error.description) }
            let trickler = CandidateTrickler.start(engine: engine, id: id, events: events, sent: .sessionAccept, contents: answers,
                                                   transports: transports, options: options)
            defer { trickler.stop() }
            var results: [FileTransferResult] = []
            for (i, r) in requests.enumerated() {
                let fp = r.transport.fingerprints.first
                let role = fp.flatMap { TransportMapping.dtlsRole(local: .active, remote: $0.setup) } ?? .client
                let box = try await transports[i].connect(role: role, remoteFingerprint: fp, events: events, content: r.content.name,
                                                          timeout: options.connectTimeout)
                let started = ContinuousClock.now
                let (sent, hash) = try await sendFile(r.path, name: r.description.name, offset: r.offset, over: box.stream, progress: progress)
                var announced = hash
                if options.corruptChecksum, !announced.isEmpty { announced[0] ^= 0xFF }
                let checksum = FileTransferInfo.checksum(creator: r.content.creator, name: r.content.name,
                                                         file: FileTransferFile(hashes: [FileHash(algo: HashAlgorithm.sha256.rawValue, digest: announced)]))
                do { try await engine.sendInfo(id, [JingleInfo(checksum)]) } catch { throw FileTransferSessionError.protocolError(error.description) }
                let name = r.content.name
                _ = try await events.take(timeout: options.answerTimeout, "the requester's confirmation of \(r.description.name)") { event -> Bool? in
                    if case .received(let p) = event, p.action == .sessionInfo,
                       p.info.contains(where: { if case .received(_, let n)? = $0.payload as? FileTransferInfo { n == name } else { false } }) {
                        return true
                    }
                    return nil
                }
                let elapsed = ContinuousClock.now - started
                box.stream.close()
                results.append(FileTransferResult(name: r.description.name, path: r.path, size: r.description.size, offset: r.offset,
                                                  transferred: sent, sha256: hash,
                                                  seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                                                  verified: true))
            }
            // The requester ends the session after its last `received`; end it ourselves if it does not.
            let ended = (try? await events.take(timeout: .seconds(5), "session end") { event -> Bool? in
                if case .ended = event { return true }
                return nil
            }) ?? false
            if !ended { try? await engine.terminate(id, reason: JingleReason(.success)) }
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

    /// The served path whose base name is `name` and/or whose sha-256 is `sha256` (both must match when both
    /// are given). Hashes are computed only for a request by hash.
    static func servedFile(matching name: String?, sha256: [UInt8]?, in files: [String], hashes: ServedHashesCache) throws(FileTransferError) -> String? {
        for path in files {
            if let name, path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) != name { continue }
            if let sha256, try hashes.sha256(path) != sha256 { continue }
            return path
        }
        return nil
    }
}

/// sha-256 of served files, computed once each on first need (a request by hash) and shared by the
/// sessions of one serving process.
public final class ServedHashesCache: Sendable {
    private let cache = Mutex<[String: [UInt8]]>([:])

    public init() {}

    func sha256(_ path: String) throws(FileTransferError) -> [UInt8] {
        if let known = known(path) { return known }
        let digest = try FileSource.hash(path: path)
        cache.withLock { $0[path] = digest }
        return digest
    }

    func known(_ path: String) -> [UInt8]? { cache.withLock { $0[path] } }
}
