public import ICE
import Synchronization

/// One ICE agent with one stream of one component (rtcp-mux + BUNDLE), driven the non-trickle way an SDP
/// endpoint uses it: gather everything, signal it, apply the peer's, wait for a working pair.
///
/// It consumes the agent's `events` (their single consumer) and keeps them, so waits never race.
public final class ICEMediaLink: Sendable {
    public let agent: ICEAgent
    public let stream: ICEStreamID
    /// When gathering finished and component 1 reached each state (`ice.gathered`, `ice.connecting`,
    /// `ice.connected`, `ice.ready`, `ice.selectedPair`), as the events arrived.
    public let timeline: SetupTimeline
    private let log = EventRecord()

    /// The recorded events and the waiters to wake when one arrives (a class so the recording task can share it).
    private final class EventRecord: Sendable {
        struct State {
            var events: [ICEEvent] = []
            var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
            var nextWaiter: UInt64 = 0
            /// The link was closed: no event will come, waiting stops.
            var closed = false
        }
        let state = Mutex(State())

        func append(_ event: ICEEvent) { changeAndWake { $0.events.append(event) } }

        func events(from index: Int) -> [ICEEvent] { state.withLock { Array($0.events.dropFirst(index)) } }

        var isClosed: Bool { state.withLock { $0.closed } }

        func close() { changeAndWake { $0.closed = true } }

        /// Applies `change` and resumes every waiter, which then looks at the new state.
        private func changeAndWake(_ change: (inout State) -> Void) {
            let waiters = state.withLock { state in
                change(&state)
                defer { state.waiters.removeAll() }
                return Array(state.waiters.values)
            }
            for waiter in waiters { waiter.resume() }
        }

        /// Suspends until an event beyond `seen` arrives or `deadline` passes (whichever first).
        func waitForEvent(after seen: Int, until deadline: ContinuousClock.Instant) async {
            let id = state.withLock { state -> UInt64 in
                state.nextWaiter += 1
                return state.nextWaiter
            }
            let timer = Task { [weak self] in
                try? await Task.sleep(until: deadline, clock: .continuous)
                self?.wake(id)
            }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.events.count > seen || state.closed || ContinuousClock.now >= deadline { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            timer.cancel()
        }

        private func wake(_ id: UInt64) {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Creates the agent and its stream and starts recording events.
    public init(configuration: ICEConfiguration, timeline: SetupTimeline = SetupTimeline()) async throws(MediaError) {
        self.timeline = timeline
        do {
            agent = try ICEAgent(configuration: configuration)
            stream = try await agent.addStream(components: 1)
        } catch {
            throw .ice("cannot create the ICE agent: \(error)")
        }
        let events = agent.events
        Task { [log, timeline] in
            for await event in events {
                switch event {
                case .gatheringDone: timeline.mark("ice.gathered")
                case .stateChanged(_, 1, let state): timeline.mark("ice.\(state)")
                case .selectedPair(_, 1, _, _): timeline.mark("ice.selectedPair")
                default: break
                }
                log.append(event)
            }
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

    /// Applies the peer's credentials and candidates. `complete` (the default) also signals end-of-candidates
    /// (RFC 8838 §13), so ICE fails as soon as every pair has failed; a peer that trickles has not finished,
    /// so pass false and hand later candidates to `addRemoteCandidates`.
    public func setRemote(credentials: ICECredentials, candidates: [ICECandidate], complete: Bool = true) async throws(MediaError) {
        do {
            try await agent.setRemoteCredentials(credentials, stream: stream)
            let usable = candidates.filter { $0.component == 1 }
            if !usable.isEmpty { try await agent.addRemoteCandidates(usable, stream: stream) }
            if complete { try await agent.endOfRemoteCandidates(stream: stream) }
        } catch {
            throw .ice("remote description refused: \(error)")
        }
    }

    /// Candidates the peer trickled after its description (RFC 8838 §11; XEP-0176 transport-info), and
    /// end-of-candidates when `complete`. Call after `setRemote`.
    public func addRemoteCandidates(_ candidates: [ICECandidate], complete: Bool) async throws(MediaError) {
        do {
            let usable = candidates.filter { $0.component == 1 }
            if !usable.isEmpty { try await agent.addRemoteCandidates(usable, stream: stream) }
            if complete { try await agent.endOfRemoteCandidates(stream: stream) }
        } catch {
            throw .ice("trickled candidates refused: \(error)")
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

    /// Closes the agent; a `waitUntilConnected` in progress ends with an error at once (the call it was for is over).
    public func close() async {
        log.close()
        await agent.close()
    }

    private func wait(timeout: Duration, for what: String, _ match: (ICEEvent) throws(MediaError) -> Bool?) async throws(MediaError) {
        let deadline = ContinuousClock.now + timeout
        var seen = 0
        while true {
            let fresh = log.events(from: seen)
            seen += fresh.count
            for event in fresh where try match(event) == true { return }
            guard !log.isClosed else { throw .ice("the ICE link was closed while waiting for \(what)") }
            guard ContinuousClock.now < deadline else { throw .ice("timed out waiting for \(what)") }
            await log.waitForEvent(after: seen, until: deadline)
        }
    }
}
