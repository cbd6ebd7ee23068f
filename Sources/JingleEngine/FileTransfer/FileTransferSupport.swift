import DTLS
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ICE
import Jingle
import Synchronization
import XMPPCore

/// Options shared by both ends of a XEP-0234 transfer.
public struct FileTransferOptions: Sendable {
    /// ICE agent settings (host interfaces, STUN, TURN, relay-only). The role is set per side.
    public var ice: ICEConfiguration
    /// How long ICE plus DTLS may take to connect a content.
    public var connectTimeout: Duration
    /// How long to wait for the peer's answer, its checksum or its `received`.
    public var answerTimeout: Duration
    /// Test hook: the sender corrupts the checksum it announces (to exercise the receiver's check).
    public var corruptChecksum: Bool
    /// Told what went out on the signalling path and when local gathering finished (tests, verbose output).
    public var observer: (@Sendable (FileTransferSignal) -> Void)? = nil
    /// Send the session-initiate or session-accept without any candidate and deliver every one in
    /// transport-info (XEP-0176 §5.3 allows it; some clients do so). Tests use it to play such a peer.
    public var trickleOnly = false
    /// What the sender offers; with `.ice` it falls back to IBB when ICE cannot connect.
    public var transport: FileTransferTransport = .ice
    /// Propose IBB with transport-replace when ICE fails (XEP-0166 §7.2.15); off, an ICE failure ends the session.
    public var ibbFallback = true
    /// Test hook: the sender advertises only an unreachable ICE candidate and ignores the receiver's, so ICE
    /// cannot connect for real (exercises the IBB fallback).
    public var unreachableICEForTesting = false
    /// SOCKS5 proxies (XEP-0065 streamhosts) for S5B: offered as `proxy` candidates next to our direct one
    /// (XEP-0260 §2.2), and whether the peer's proxy candidates are tried (`.none`: neither).
    public var s5bProxy: S5BProxyChoice = .discover
    /// Test hook: our S5B direct candidate names a bound but closed port, so no direct connection to us can
    /// succeed (exercises proxy candidates).
    public var unreachableS5BDirectForTesting = false

    public init(ice: ICEConfiguration = ICEConfiguration(), connectTimeout: Duration = .seconds(20),
                answerTimeout: Duration = .seconds(120), corruptChecksum: Bool = false) {
        self.ice = ice
        self.connectTimeout = connectTimeout
        self.answerTimeout = answerTimeout
        self.corruptChecksum = corruptChecksum
    }

    /// The disco#info features a file-transfer endpoint advertises (XEP-0234 §10, XEP-0176, XEP-0320,
    /// XEP-0300 §4, XEP-0261 §4 with XEP-0047, XEP-0260 §5).
    public static let features = [
        NS.jingleFileTransfer, NS.jingleICEUDP, NS.jingleDTLS, NS.hashes, "urn:xmpp:hash-function-text-names:sha-256",
        NS.jingleIBB, NS.ibb, NS.jingleS5B,
    ]
}

/// Progress of one file, for a progress bar or JSON lines.
public struct FileTransferProgress: Sendable {
    public var name: String
    /// Bytes of the file that are now at the receiver (including a resumed prefix).
    public var done: UInt64
    public var total: UInt64
    /// Bytes that went over the wire in this session (excludes a resumed prefix).
    public var transferred: UInt64
    public var offset: UInt64
}

/// What happened to one file.
public struct FileTransferResult: Sendable {
    public var name: String
    public var path: String?
    public var size: UInt64
    /// First byte sent or received in this session (XEP-0234 §7 range offset).
    public var offset: UInt64
    /// Bytes that went over the wire.
    public var transferred: UInt64
    public var sha256: [UInt8]
    public var seconds: Double
    public var verified: Bool
    /// The transport the bytes finally went over (IBB after a fallback).
    public var transport: FileTransferTransport = .ice
    /// With S5B: the type of the nominated candidate (XEP-0260 §2.4), `.proxy` when a XEP-0065 proxy relayed.
    public var s5bCandidate: S5BCandidate.CandidateType? = nil
}

public enum FileTransferSessionError: Error, Sendable, CustomStringConvertible {
    case declined(String)
    case peerTerminated(JingleReason?)
    case timeout(String)
    case transport(String)
    case file(String)
    case verification(String)
    case protocolError(String)
    /// A feature this implementation does not carry out (yet).
    case unsupported(String)

    public var description: String {
        switch self {
        case .declined(let why): "declined: \(why)"
        case .peerTerminated(let reason):
            "peer ended the session: \(reason?.condition.rawValue ?? "no reason")\(reason?.text.map { " (\($0))" } ?? "")"
        case .timeout(let what): "timed out waiting for \(what)"
        case .transport(let what): "transport failed: \(what)"
        case .file(let what): what
        case .verification(let what): "verification failed: \(what)"
        case .protocolError(let what): "protocol error: \(what)"
        case .unsupported(let what): "unsupported: \(what)"
        }
    }
}

/// Buffers a session's events so the transfer code can wait for a particular one (the engine gives one
/// stream per session, with a single consumer).
final class SessionEventBuffer: Sendable {
    private let storage = Mutex<(events: [JingleEvent], ended: Bool)>(([], false))

    init(_ events: AsyncStream<JingleEvent>) {
        Task { [self] in
            for await event in events { storage.withLock { $0.events.append(event) } }
            storage.withLock { $0.ended = true }
        }
    }

    /// Removes and returns the first buffered event for which `match` gives a value.
    func take<T>(timeout: Duration, _ what: String, _ match: (JingleEvent) -> T?) async throws(FileTransferSessionError) -> T {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found: T? = storage.withLock { state in
                for (i, event) in state.events.enumerated() {
                    if let value = match(event) { state.events.remove(at: i); return value }
                }
                return nil
            }
            if let found { return found }
            if let end = endReason() { throw .peerTerminated(end) }
            guard ContinuousClock.now < deadline else { throw .timeout(what) }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Whether a buffered event matches, leaving it in the buffer.
    func contains(_ match: (JingleEvent) -> Bool) -> Bool {
        storage.withLock { $0.events.contains(where: match) }
    }

    /// The peer's session-terminate reason, if the session ended.
    func endReason() -> JingleReason? {
        storage.withLock { state in
            for event in state.events { if case .ended(let reason, _) = event { return reason ?? JingleReason(.generalError) } }
            return nil
        }
    }

    /// Every transport-info's candidates for `content`, removing them from the buffer.
    func takeTransportInfo(content: String) -> [Jingle.ICECandidate] {
        storage.withLock { state in
            var out: [Jingle.ICECandidate] = []
            state.events.removeAll { event in
                guard case .received(let p) = event, p.action == .transportInfo else { return false }
                var used = false
                for c in p.contents where c.name == content {
                    if let t = c.transport as? ICEUDPTransport { out += t.candidates; used = true }
                }
                return used && p.contents.allSatisfy { $0.name == content }
            }
            return out
        }
    }
}

/// Records an ICE agent's events (single consumer) so we can wait for one.
final class ICEEventLog: Sendable {
    private let storage = Mutex<[ICEEvent]>([])

    init(_ agent: ICEAgent) {
        let events = agent.events
        Task { [self] in for await event in events { storage.withLock { $0.append(event) } } }
    }

    /// Everything recorded so far, oldest first.
    func snapshot() -> [ICEEvent] { storage.withLock { $0 } }

    /// Whether the agent reported `.failed` at some point.
    var hasFailed: Bool { storage.withLock { $0.contains { if case .failed = $0 { true } else { false } } } }

    /// Waits for an event `match` accepts; throws at the deadline, or as soon as the agent reported
    /// `.failed` unless `tolerateFailure`.
    func wait(timeout: Duration, _ what: String, tolerateFailure: Bool = false, _ match: (ICEEvent) -> Bool) async throws(FileTransferSessionError) {
        let deadline = ContinuousClock.now + timeout
        while true {
            let state: (found: Bool, failed: Bool) = storage.withLock { events in
                (events.contains(where: match), events.contains { if case .failed = $0 { true } else { false } })
            }
            if state.found { return }
            if state.failed && !tolerateFailure { throw .transport("ICE failed (\(what))") }
            guard ContinuousClock.now < deadline else { throw .timeout(what) }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// One content's ICE agent with its gathered candidates and our DTLS certificate.
struct ICEContentTransport {
    let agent: ICEAgent
    let stream: ICEStreamID
    let log: ICEEventLog
    let certificate: DTLSCertificate

    static func make(_ configuration: ICEConfiguration, role: ICEConfiguration.Role, timeout: Duration) async throws(FileTransferSessionError) -> ICEContentTransport {
        var configuration = configuration
        configuration.role = role
        do {
            let agent = try ICEAgent(configuration: configuration)
            let log = ICEEventLog(agent)
            let stream = try await agent.addStream(components: 1)
            // Gathering runs on while the session is signalled: what is known when the session-initiate or
            // session-accept goes out travels in it, the rest is trickled in transport-info (XEP-0176 §5.3,
            // `CandidateTrickler`), so a slow STUN or TURN server no longer delays the offer.
            try await agent.gatherCandidates(stream: stream)
            let certificate = try DTLSCertificate.generate()
            return ICEContentTransport(agent: agent, stream: stream, log: log, certificate: certificate)
        } catch let error as FileTransferSessionError {
            throw error
        } catch {
            throw .transport("\(error)")
        }
    }

    /// Our `<transport/>`: credentials, the candidates gathered so far (possibly none: the rest is trickled),
    /// our fingerprint with `setup`.
    func jingleTransport(setup: DTLSSetup, idPrefix: String, withholdingCandidates: Bool = false) async throws(FileTransferSessionError) -> ICEUDPTransport {
        do {
            let credentials = try await agent.localCredentials(stream: stream)
            let candidates = withholdingCandidates ? [] : try await agent.localCandidates(stream: stream)
            let jingleCandidates = candidates.enumerated().map { TransportMapping.jingleCandidate($1, id: "\(idPrefix)\($0)") }
            return ICEUDPTransport(ufrag: credentials.ufrag, pwd: credentials.pwd, candidates: jingleCandidates,
                                   fingerprints: [TransportMapping.jingleFingerprint(certificate.fingerprint(), setup: setup)])
        } catch {
            throw .transport("\(error)")
        }
    }

    /// Gives the agent the peer's credentials and candidates.
    func apply(remote: ICEUDPTransport) async throws(FileTransferSessionError) {
        guard let ufrag = remote.ufrag, let pwd = remote.pwd else { throw .protocolError("ICE-UDP transport without ufrag/pwd (XEP-0176 §5)") }
        do {
            try await agent.setRemoteCredentials(ICECredentials(ufrag: ufrag, pwd: pwd), stream: stream)
            try await addCandidates(remote.candidates)
        } catch let error as FileTransferSessionError {
            throw error
        } catch {
            throw .transport("\(error)")
        }
    }

    func addCandidates(_ candidates: [Jingle.ICECandidate]) async throws(FileTransferSessionError) {
        let mapped = candidates.compactMap(TransportMapping.iceCandidate)
        guard !mapped.isEmpty else { return }
        do { try await agent.addRemoteCandidates(mapped, stream: stream) } catch { throw .transport("\(error)") }
    }

    /// Waits for ICE, taking trickled candidates from transport-info meanwhile (XEP-0176 §5.3), then runs DTLS.
    func connect(role: DTLSRole, remoteFingerprint: Jingle.DTLSFingerprint?, events: SessionEventBuffer, content: String,
                 timeout: Duration) async throws(FileTransferSessionError) -> SecureStreamBox {
        guard let remoteFingerprint, let fingerprint = TransportMapping.dtlsFingerprint(remoteFingerprint) else {
            throw .protocolError("no usable DTLS fingerprint in the peer's transport (XEP-0320)")
        }
        let deadline = ContinuousClock.now + timeout
        // The responder applies the offer's candidates and starts its checks before the initiator has the
        // answer; the initiator holds those checks unanswered until it knows the responder's credentials
        // (RFC 8445 §7.3), so when many sessions are set up at once (Benchmarks/parallel-transfers: 100) the
        // responder's first checks can all time out and libnice reports `failed`, then recovers to `ready`
        // through the initiator's checks and triggered checks. A failure therefore ends the wait only when
        // it lasts `failureGrace`.
        let failureGrace: Duration = .seconds(5)
        var failedSince: ContinuousClock.Instant?
        while true {
            let trickled = events.takeTransportInfo(content: content)
            if !trickled.isEmpty { try await addCandidates(trickled) }
            do {
                try await log.wait(timeout: .milliseconds(50), "ICE", tolerateFailure: true) { if case .stateChanged(_, 1, .ready) = $0 { true } else { false } }
                break
            } catch {
                if case .transport = error { throw error }
                if let end = events.endReason() { throw .peerTerminated(end) }
                if hasNoLocalCandidate() { throw .transport("no local ICE candidate (check --bind, --turn)") }
                // The receiver cancels the attempt when the peer falls back to another transport.
                if Task.isCancelled { throw .transport("ICE connectivity check abandoned") }
                if log.hasFailed {
                    let since = failedSince ?? ContinuousClock.now
                    failedSince = since
                    if ContinuousClock.now - since > failureGrace { throw .transport("ICE failed (no working candidate pair)") }
                }
                guard ContinuousClock.now < deadline else { throw .timeout("ICE connectivity (no usable candidate pair)") }
            }
        }
        var configuration = SecureStreamConfiguration()
        configuration.transport.initialRetransmissionTimeout = .milliseconds(200)
        // A peer that goes silent (killed, unplugged) ends the transfer after the connect timeout rather
        // than PeerStream's default 30 s.
        configuration.stream.idleTimeout = timeout
        // A file is written into the stream as fast as the disk gives it, so the send buffer is always full,
        // and a receiver busy writing and hashing lets its receive buffer fill: with PeerStream's 4 MiB
        // defaults, 100 concurrent transfers (Benchmarks/parallel-transfers) peaked at 427-497 MB resident,
        // 171-312 MB with a 1 MiB send buffer alone. 1 MiB each way still covers the window of a loopback
        // or LAN path (1 MiB per 10 ms RTT is 100 MB/s per transfer) and bounds the rings to 2 MiB per
        // transfer.
        configuration.stream.sendBufferCapacity = 1 << 20
        configuration.stream.receiveWindow = 1 << 20
        do {
            let stream = try await SecureStream.connect(agent: agent, stream: stream, role: role, certificate: certificate,
                                                        remoteFingerprint: fingerprint, configuration: configuration)
            return SecureStreamBox(stream: stream)
        } catch {
            throw .transport("DTLS: \(error)")
        }
    }

    /// Gathering finished without a single local candidate: nothing can ever connect.
    func hasNoLocalCandidate() -> Bool {
        let events = log.snapshot()
        return events.contains { if case .gatheringDone = $0 { true } else { false } }
            && !events.contains { if case .localCandidate = $0 { true } else { false } }
    }

    func close() async { await agent.close() }
}

import SecureTransport

struct SecureStreamBox: Sendable { let stream: SecureStream }

enum XEP0082 {
    static func format(_ seconds: Double) -> String {
        // XEP-0082 DateTime, UTC with a Z, whole seconds (what ISO 8601 "internet date time" gives).
        Date(timeIntervalSince1970: seconds).formatted(.iso8601)
    }
}

extension JingleContent {
    /// Why this side cannot take the content as a plain transfer: it asks for a `<security/>` method, such as
    /// XEP-0391 JET (end-to-end encrypted files), that this engine does not implement. Taken as plain, the bytes
    /// on disk would be ciphertext and the hash check would fail at the end; refused at once, the peer can fall
    /// back. nil when the content asks for none. (XEP-0166 has no `unsupported-security`; `security-error` is
    /// the reason that names the part that failed.)
    var unsupportedSecurity: String? {
        guard let security else { return nil }
        return "content \(name) asks for <security xmlns='\(security.wireNamespace)'/> (end-to-end encryption such as XEP-0391 JET), "
            + "which is not supported; files go over DTLS-encrypted ICE (XEP-0234 with XEP-0320) or IBB instead"
    }
}
