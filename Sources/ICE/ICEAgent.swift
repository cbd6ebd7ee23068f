#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Logging

/// An ICE agent (RFC 8445) over libnice. Each agent owns a GLib main context and a thread iterating it;
/// every libnice call is made on that thread, so the async methods hop there and back. `send` may be
/// called from any thread. Events arrive in order on `events` (one consumer).
///
/// Typical use (Jingle ICE-UDP, XEP-0176): `addStream`, read `localCredentials`, `gatherCandidates`
/// and trickle each `.localCandidate`; feed the peer's `setRemoteCredentials`/`addRemoteCandidates`/
/// `endOfRemoteCandidates`; wait for `.stateChanged(…, .ready)`; then `send` and read `datagrams`.
/// Call `close()` when done (it also releases TURN allocations); dropping the last reference tears
/// the agent down synchronously.
public final class ICEAgent: Sendable {
    /// Called on the agent's thread for every datagram (or pseudo-TCP chunk in reliable mode). The
    /// buffer is only valid during the call. It may call `send`; it must not block.
    public typealias ReceiveHandler = @Sendable (_ stream: ICEStreamID, _ component: Int, _ bytes: UnsafeRawBufferPointer) -> Void

    /// The swift-log logger that receives libnice's own GLib log output (domains "libnice",
    /// "libnice-stun", "libnice-socket", "libnice-pseudotcp"): warnings always, debug output once an agent
    /// was created with `debugLogging`. Process-wide, because libnice's log switch is.
    /// Called on the agent's thread after a burst of received datagrams was handed to the `ReceiveHandler`
    /// (once libnice has read everything ready): the place to act on the whole burst at once.
    public typealias FlushHandler = @Sendable () -> Void

    public static var libniceLogger: Logger {
        get { LibniceLog.current.withLock { $0 } }
        set { LibniceLog.current.withLock { $0 = newValue } }
    }

    public let configuration: ICEConfiguration
    public let events: AsyncStream<ICEEvent>
    private let core: NiceAgentCore

    public init(configuration: ICEConfiguration = ICEConfiguration(), logger: Logger = Logger(label: "swiftjingle.ice")) throws(ICEError) {
        self.configuration = configuration
        let (events, continuation) = AsyncStream<ICEEvent>.makeStream(bufferingPolicy: .unbounded)
        self.events = events
        core = try NiceAgentCore(configuration: configuration, logger: logger, events: continuation)
    }

    deinit {
        core.shutdown()
    }

    /// For tests: observes the agent's teardown.
    var lifecycleProbe: LifecycleProbe { core.probe }

    /// Adds a stream of `components` components (1 = RTP or data, 2 = RTP + RTCP), sets its port range
    /// and TURN servers and starts listening for its packets.
    public func addStream(components: Int = 1) async throws(ICEError) -> ICEStreamID {
        try await core.perform { core, agent throws(ICEError) in try core.addStream(agent, components: components) }
    }

    /// Removes a stream (e.g. a Jingle content-remove); its `datagrams` streams finish.
    public func removeStream(_ stream: ICEStreamID) async throws(ICEError) {
        try await core.perform { core, agent throws(ICEError) in
            _ = try core.componentCount(stream)
            core.removeStream(agent, NiceOperations.id(stream))
        }
    }

    /// Changes the role; libnice applies it at the next `restart` (RFC 8445 §9 lets a restart change
    /// roles) or before gathering.
    public func setRole(_ role: ICEConfiguration.Role) async throws(ICEError) {
        try await core.perform { core, agent in core.setRole(agent, role) }
    }

    /// This side's ufrag/pwd for the stream (new ones after `restart`).
    public func localCredentials(stream: ICEStreamID) async throws(ICEError) -> ICECredentials {
        try await core.perform { core, agent throws(ICEError) in
            _ = try core.componentCount(stream)
            return try NiceOperations.localCredentials(agent, stream)
        }
    }

    /// Starts gathering; candidates then arrive as `.localCandidate`, and `.gatheringDone` at the end.
    public func gatherCandidates(stream: ICEStreamID) async throws(ICEError) {
        try await core.perform { core, agent throws(ICEError) in
            _ = try core.componentCount(stream)
            try NiceOperations.gather(agent, stream)
        }
    }

    /// The local candidates gathered so far for one component.
    public func localCandidates(stream: ICEStreamID, component: Int = 1) async throws(ICEError) -> [ICECandidate] {
        try await core.perform { core, agent throws(ICEError) in
            try core.checkComponent(stream, component)
            return NiceOperations.localCandidates(agent, stream, component)
        }
    }

    /// Sets the peer's ufrag/pwd (validated against RFC 8839 §5.4).
    public func setRemoteCredentials(_ credentials: ICECredentials, stream: ICEStreamID) async throws(ICEError) {
        try credentials.validate()
        try await core.perform { core, agent throws(ICEError) in
            _ = try core.componentCount(stream)
            try core.setRemoteCredentials(agent, stream, credentials)
        }
    }

    /// Adds remote candidates (trickle ICE, RFC 8838 §11: may be called repeatedly, in any order, also
    /// before local gathering has finished). All candidates are checked before any is used. Candidates
    /// that arrive before the peer's credentials are held back until `setRemoteCredentials`, since no
    /// check can be authenticated without them (RFC 8445 §7.2.2).
    public func addRemoteCandidates(_ candidates: [ICECandidate], stream: ICEStreamID) async throws(ICEError) {
        try await core.perform { core, agent throws(ICEError) in
            for c in candidates { try core.checkComponent(stream, c.component) }
            try core.addRemoteCandidates(agent, stream, candidates)
        }
    }

    /// The peer has sent end-of-candidates (RFC 8838 §13): components without a working pair may now fail.
    /// Before the peer's credentials are known it is held back with the candidates.
    public func endOfRemoteCandidates(stream: ICEStreamID) async throws(ICEError) {
        try await core.perform { core, agent throws(ICEError) in
            _ = try core.componentCount(stream)
            try core.endOfRemoteCandidates(agent, stream)
        }
    }

    /// ICE restart of one stream (RFC 8445 §9): new local credentials (the given ones, or fresh random
    /// ones), remote candidates forgotten; local candidates are kept (read them with `localCandidates`).
    /// Exchange credentials and candidates again afterwards: remote candidates given after the restart
    /// wait for the peer's new credentials. Returns the new local credentials.
    @discardableResult
    public func restart(stream: ICEStreamID, newCredentials: ICECredentials? = nil) async throws(ICEError) -> ICECredentials {
        try newCredentials?.validate()
        return try await core.perform { core, agent throws(ICEError) in
            _ = try core.componentCount(stream)
            return try core.restart(agent, stream, newCredentials)
        }
    }

    /// The pair libnice currently sends on, if any.
    public func selectedPair(stream: ICEStreamID, component: Int = 1) async throws(ICEError) -> (local: ICECandidate, remote: ICECandidate)? {
        let pair: ICECandidatePair? = try await core.perform { core, agent throws(ICEError) in
            try core.checkComponent(stream, component)
            return NiceOperations.selectedPair(agent, stream, component)
        }
        return pair.map { ($0.local, $0.remote) }
    }

    /// The component's current state.
    public func state(stream: ICEStreamID, component: Int = 1) async throws(ICEError) -> ICEState {
        try await core.perform { core, agent throws(ICEError) in
            try core.checkComponent(stream, component)
            return NiceOperations.state(agent, stream, component)
        }
    }

    /// Sends one datagram (reliable mode: bytes into the pseudo-TCP stream) on the selected pair.
    /// Returns the bytes accepted; reliable mode may accept fewer, or throw `wouldBlock`.
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer, stream: ICEStreamID, component: Int = 1) throws(ICEError) -> Int {
        try core.send(bytes, stream: stream, component: component)
    }

    @discardableResult
    public func send(_ bytes: [UInt8], stream: ICEStreamID, component: Int = 1) throws(ICEError) -> Int {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(ICEError) -> Int in try core.send(buffer, stream: stream, component: component) }
        }.get()
    }

    @discardableResult
    public func send(_ data: Data, stream: ICEStreamID, component: Int = 1) throws(ICEError) -> Int {
        try data.withUnsafeBytes { buffer in
            Result { () throws(ICEError) -> Int in try core.send(buffer, stream: stream, component: component) }
        }.get()
    }

    /// Sends datagrams in order on the selected pair, with as few system calls as the pair allows: for a
    /// host/server-reflexive/peer-reflexive local candidate over UDP (and `configuration.directSend`), one
    /// sendmmsg(2) or UDP GSO send per batch straight on the pair's socket; otherwise (relayed local
    /// candidate: TURN framing, reliable mode, not yet connected) one `nice_agent_send` each. Returns how many
    /// were sent; the others met a full socket buffer (then the rest of the batch too) or a local filter and are
    /// dropped, as the network would.
    /// Throws when not even the first could be sent (`notConnected`, `sendFailed`, `closed`, …).
    @discardableResult
    public func sendBatch(_ datagrams: [[UInt8]], stream: ICEStreamID, component: Int = 1) throws(ICEError) -> Int {
        try core.sendBatch(datagrams, stream: stream, component: component)
    }

    /// As `sendBatch`, and whether the kernel refused a datagram as larger than the local interface's MTU
    /// allows (EMSGSIZE: direct sends never fragment, see `sendBatch`), which a path MTU probe takes as a failed
    /// size at once (RFC 8899 §4.6.2). Only the direct path can tell; through libnice `tooLarge` stays false.
    public func sendBatchReportingSize(_ datagrams: [[UInt8]], stream: ICEStreamID, component: Int = 1) throws(ICEError) -> (sent: Int, tooLarge: Bool) {
        let result = try core.sendBatchReporting(datagrams, stream: stream, component: component)
        return (result.sent, result.error == EMSGSIZE)
    }

    /// Whether `sendBatch` currently bypasses libnice on this component (the selected pair allows it).
    public func usesDirectSend(stream: ICEStreamID, component: Int = 1) -> Bool {
        core.hasDirectPath(stream: stream, component: component)
    }

    /// Datagrams received on one component, copied out, oldest dropped beyond `bufferLimit`. Ask before
    /// data flows; asking again replaces (finishes) the previous stream for that component.
    public func datagrams(stream: ICEStreamID, component: Int = 1, bufferLimit: Int = 4096) -> AsyncStream<[UInt8]> {
        core.datagrams(stream: stream, component: component, bufferLimit: max(1, bufferLimit))
    }

    /// Installs (or removes, with nil) a handler that sees every received datagram without copying;
    /// it runs in addition to any `datagrams` stream.
    public func setReceiveHandler(_ handler: ReceiveHandler?) {
        core.setReceiveHandler(handler)
    }

    /// Installs (or removes) the handler told after each burst of received datagrams (see `FlushHandler`).
    public func setReceiveFlushHandler(_ handler: FlushHandler?) {
        core.setFlushHandler(handler)
    }

    /// Releases TURN allocations (waiting at most `relayReleaseLimit`), detaches from libnice, stops and
    /// joins the agent's thread, and finishes `events` and the datagram streams. Later calls throw `closed`.
    public func close(relayReleaseLimit: Duration = .seconds(2)) async {
        await core.releaseRelays(limit: relayReleaseLimit)
        await withCheckedContinuation { (cont: CheckedContinuation<Void, Never>) in
            core.schedule({ [core] in
                core.teardown()
                cont.resume()
            }, rejected: { cont.resume() })
        }
        core.loop.join()
    }
}

struct ICECandidatePair: Sendable {
    var local: ICECandidate
    var remote: ICECandidate
}
