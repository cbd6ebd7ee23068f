public import ICE
import Synchronization

/// One ICE agent with one stream of one component (rtcp-mux + BUNDLE), driven the non-trickle way an SDP
/// endpoint uses it: gather everything, signal it, apply the peer's, wait for a working pair.
///
/// It consumes the agent's `events` (their single consumer) and keeps them, so waits never race.
public final class ICEMediaLink: Sendable {
    public let agent: ICEAgent
    public let stream: ICEStreamID
    private let log = EventRecord()

    /// The recorded events (a class so the recording task can share it).
    private final class EventRecord: Sendable {
        let events = Mutex<[ICEEvent]>([])
        func withLock<T>(_ body: (inout [ICEEvent]) -> T) -> T { events.withLock { body(&$0) } }
    }

    /// Creates the agent and its stream and starts recording events.
    public init(configuration: ICEConfiguration) async throws(MediaError) {
        do {
            agent = try ICEAgent(configuration: configuration)
            stream = try await agent.addStream(components: 1)
        } catch {
            throw .ice("cannot create the ICE agent: \(error)")
        }
        let events = agent.events
        Task { [log] in
            for await event in events { log.withLock { $0.append(event) } }
        }
    }

    /// The media transport over this link's component 1.
    public var transport: ICEMediaTransport { ICEMediaTransport(agent: agent, stream: stream) }

    /// Gathers every candidate (host, and server-reflexive/relay when STUN/TURN are configured) and returns
    /// them with the local credentials once gathering is done (RFC 8839 §4.1: no trickle, so the SDP is only
    /// written once complete).
    public func gatherAll(timeout: Duration = .seconds(10)) async throws(MediaError) -> (credentials: ICECredentials, candidates: [ICECandidate]) {
        do {
            try await agent.gatherCandidates(stream: stream)
        } catch {
            throw .ice("gathering failed: \(error)")
        }
        let stream = stream
        try await wait(timeout: timeout, for: "candidate gathering") { event in
            if case .gatheringDone(stream) = event { return true }
            return nil
        }
        do {
            let credentials = try await agent.localCredentials(stream: stream)
            let candidates = try await agent.localCandidates(stream: stream, component: 1)
            guard !candidates.isEmpty else { throw MediaError.ice("no local candidate was gathered") }
            return (credentials, candidates)
        } catch let error as MediaError {
            throw error
        } catch {
            throw .ice("\(error)")
        }
    }

    /// Applies the peer's credentials and full candidate list (then end-of-candidates, RFC 8838 §13).
    public func setRemote(credentials: ICECredentials, candidates: [ICECandidate]) async throws(MediaError) {
        do {
            try await agent.setRemoteCredentials(credentials, stream: stream)
            let usable = candidates.filter { $0.component == 1 }
            if !usable.isEmpty { try await agent.addRemoteCandidates(usable, stream: stream) }
            try await agent.endOfRemoteCandidates(stream: stream)
        } catch {
            throw .ice("remote description refused: \(error)")
        }
    }

    /// Waits until component 1 is connected (a working pair; `ready` when `requireReady`), or throws when
    /// ICE fails or time runs out.
    public func waitUntilConnected(timeout: Duration = .seconds(20), requireReady: Bool = false) async throws(MediaError) {
        let stream = stream
        try await wait(timeout: timeout, for: requireReady ? "ICE ready" : "ICE connected") { event throws(MediaError) -> Bool? in
            switch event {
            case .stateChanged(stream, 1, .ready): return true
            case .stateChanged(stream, 1, .connected): return requireReady ? nil : true
            case .stateChanged(stream, 1, .failed), .failed(stream, 1): throw .ice("no working candidate pair (checks failed)")
            default: return nil
            }
        }
    }

    /// The selected pair, for reports.
    public func selectedPair() async -> (local: ICECandidate, remote: ICECandidate)? {
        try? await agent.selectedPair(stream: stream)
    }

    public func close() async {
        await agent.close()
    }

    private func wait(timeout: Duration, for what: String, _ match: (ICEEvent) throws(MediaError) -> Bool?) async throws(MediaError) {
        let deadline = ContinuousClock.now + timeout
        var seen = 0
        while true {
            let fresh = log.withLock { Array($0.dropFirst(seen)) }
            seen += fresh.count
            for event in fresh where try match(event) == true { return }
            guard ContinuousClock.now < deadline else { throw .ice("timed out waiting for \(what)") }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }
}
