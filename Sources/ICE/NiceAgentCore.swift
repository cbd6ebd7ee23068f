internal import CNice
import Logging
import Synchronization
import Dispatch

/// Owns one `NiceAgent` and the loop thread it lives on. Every libnice call except `nice_agent_send`
/// runs on that thread (libnice emits its signals on whichever thread made the call), so the fields
/// marked "loop thread" are only ever touched there; the rest sits behind mutexes.
final class NiceAgentCore: @unchecked Sendable {
    struct ComponentKey: Hashable {
        var stream: UInt32
        var component: UInt32
    }

    struct Receivers {
        var handler: ICEAgent.ReceiveHandler?
        var flushHandler: ICEAgent.FlushHandler?
        var streams: [ComponentKey: AsyncStream<[UInt8]>.Continuation] = [:]
    }

    struct Shared {
        var streams: [UInt32: Int] = [:]
        var states: [ComponentKey: ICEState] = [:]
    }

    let configuration: ICEConfiguration
    let logger: Logger
    let loop: GLibLoopThread
    let events: AsyncStream<ICEEvent>.Continuation
    let probe = LifecycleProbe()

    // Loop thread only.
    private var agent: OpaquePointer?
    private var handlerIDs: [UInt] = []
    private var streams: [UInt32: Int] = [:]
    private var tornDown = false
    /// A flush (idle source) is queued behind the datagrams being read now.
    private var flushPending = false
    /// Streams whose remote credentials are known (since creation or the last restart).
    private var remoteCredentialsKnown: Set<UInt32> = []
    /// Remote candidates and end-of-candidates received before the remote credentials.
    private var heldBack: [UInt32: (candidates: [ICECandidate], ended: Bool)] = [:]

    /// Whether jobs from other threads are still accepted; closed first during teardown.
    private let accepting = Mutex(true)
    /// The agent for `nice_agent_send` from any thread; held during a send so teardown cannot unref
    /// the agent underneath it.
    private let sendGate = Mutex<AgentHandle?>(nil)
    private let receivers = Mutex(Receivers())
    let shared = Mutex(Shared())
    /// Cached sockets of selected pairs for `sendBatch` (see `DirectPath`); written on the loop thread only.
    let directPaths = Mutex<[ComponentKey: DirectPath]>([:])

    init(configuration: ICEConfiguration, logger: Logger, events: AsyncStream<ICEEvent>.Continuation) throws(ICEError) {
        self.configuration = configuration
        self.logger = logger
        self.events = events
        try Self.validate(configuration)
        _ = LibniceLog.installed
        if configuration.debugLogging { LibniceLog.retainDebug() }
        loop = GLibLoopThread.start(probe: probe)
        let created = Mutex<Result<Void, ICEError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        schedule({ [self] in
            let r: Result<Void, ICEError>
            do throws(ICEError) { try createAgent(); r = .success(()) } catch { r = .failure(error) }
            created.withLock { $0 = r }
            done.signal()
        }, rejected: { done.signal() })
        // Agent creation takes well under a millisecond; wait so configuration errors surface from init.
        done.wait()
        let outcome = created.withLock { $0 } ?? .failure(.closed)
        if case .failure(let error) = outcome {
            shutdown()
            throw error
        }
    }

    private static func validate(_ c: ICEConfiguration) throws(ICEError) {
        for a in c.localAddresses { _ = try NiceConversion.address(a, port: 0) }
        if let s = c.stunServer { _ = try NiceConversion.address(s.address, port: s.port) }
        for t in c.turnServers { _ = try NiceConversion.address(t.address, port: t.port) }
        if let r = c.portRange, r.lowerBound == 0 {
            throw .invalidConfiguration("port range must start above 0")
        }
        if c.relayOnly && c.turnServers.isEmpty {
            throw .invalidConfiguration("relay-only needs at least one TURN server")
        }
    }

    // MARK: - Running work on the loop thread

    /// Runs `work` on the loop thread; `rejected` runs instead once the agent is closing.
    func schedule(_ work: @escaping @Sendable () -> Void, rejected: @escaping @Sendable () -> Void) {
        if loop.isCurrent {
            work()
            return
        }
        let accepted = accepting.withLock { open -> Bool in
            guard open else { return false }
            loop.invoke(LoopJob(work, rejected: rejected))
            return true
        }
        if !accepted { rejected() }
    }

    /// Runs `body` with the agent on the loop thread and returns its result to the caller.
    func perform<T: Sendable>(
        _ body: @escaping @Sendable (NiceAgentCore, OpaquePointer) throws(ICEError) -> T
    ) async throws(ICEError) -> T {
        let result = await withCheckedContinuation { (cont: CheckedContinuation<Result<T, ICEError>, Never>) in
            schedule({ [self] in
                guard let agent else {
                    cont.resume(returning: .failure(.closed))
                    return
                }
                do throws(ICEError) {
                    cont.resume(returning: .success(try body(self, agent)))
                } catch {
                    cont.resume(returning: .failure(error))
                }
            }, rejected: { cont.resume(returning: .failure(.closed)) })
        }
        return try result.get()
    }

    // MARK: - Agent life cycle (loop thread)

    private func createAgent() throws(ICEError) {
        let c = configuration
        var flags = NICE_AGENT_OPTION_NONE.rawValue
        if c.reliable { flags |= NICE_AGENT_OPTION_RELIABLE.rawValue }
        if c.trickle { flags |= NICE_AGENT_OPTION_ICE_TRICKLE.rawValue }
        if c.nomination == .regular { flags |= NICE_AGENT_OPTION_REGULAR_NOMINATION.rawValue }
        if !c.fullMode { flags |= NICE_AGENT_OPTION_LITE_MODE.rawValue }
        if c.consentFreshness { flags |= NICE_AGENT_OPTION_CONSENT_FRESHNESS.rawValue }
        guard let a = nice_agent_new_full(loop.context, NICE_COMPATIBILITY_RFC5245, NiceAgentOption(rawValue: flags)) else {
            throw .operationFailed("nice_agent_new_full")
        }
        agent = a
        let object = UnsafeMutableRawPointer(a)
        // Lets tests see that the last reference really went away (no leaked agent).
        g_object_weak_ref(sj_G_OBJECT(object), { data, _ in
            guard let data else { return }
            Unmanaged<LifecycleProbe>.fromOpaque(data).takeRetainedValue().niceAgentFinalized.store(true, ordering: .releasing)
        }, Unmanaged.passRetained(probe).toOpaque())
        sj_g_object_set_boolean(object, "controlling-mode", c.role == .controlling ? 1 : 0)
        sj_g_object_set_boolean(object, "upnp", c.upnp ? 1 : 0)
        sj_g_object_set_boolean(object, "ice-tcp", c.iceTCP ? 1 : 0)
        sj_g_object_set_boolean(object, "force-relay", c.relayOnly ? 1 : 0)
        // RFC 7675 §5.1: consent is refreshed with binding requests, which also serve as keepalives.
        sj_g_object_set_boolean(object, "keepalive-conncheck", c.consentFreshness ? 1 : 0)
        if let stun = c.stunServer {
            sj_g_object_set_string(object, "stun-server", stun.address)
            sj_g_object_set_uint(object, "stun-server-port", UInt32(stun.port))
        }
        if let v = c.stunInitialTimeoutMilliseconds { sj_g_object_set_uint(object, "stun-initial-timeout", UInt32(clamping: v)) }
        if let v = c.stunMaxRetransmissions { sj_g_object_set_uint(object, "stun-max-retransmissions", UInt32(clamping: v)) }
        if let v = c.idleTimeoutMilliseconds { sj_g_object_set_uint(object, "idle-timeout", UInt32(clamping: v)) }
        nice_agent_set_software(a, "SwiftJingle")
        for literal in c.localAddresses {
            var address = try NiceConversion.address(literal, port: 0)
            guard nice_agent_add_local_address(a, &address) != 0 else {
                throw .operationFailed("nice_agent_add_local_address(\(literal))")
            }
        }
        connectSignals(a)
        let handle = AgentHandle(pointer: a)
        sendGate.withLock { $0 = handle }
    }

    private func connectSignals(_ a: OpaquePointer) {
        let me = Unmanaged.passUnretained(self).toOpaque()
        let object = UnsafeMutableRawPointer(a)
        typealias CandidateCallback = @convention(c) (
            OpaquePointer?, UnsafeMutablePointer<NiceCandidate>?, UnsafeMutableRawPointer?) -> Void
        typealias StreamCallback = @convention(c) (OpaquePointer?, UInt32, UnsafeMutableRawPointer?) -> Void
        typealias StateCallback = @convention(c) (OpaquePointer?, UInt32, UInt32, UInt32, UnsafeMutableRawPointer?) -> Void
        typealias PairCallback = @convention(c) (
            OpaquePointer?, UInt32, UInt32, UnsafeMutablePointer<NiceCandidate>?, UnsafeMutablePointer<NiceCandidate>?,
            UnsafeMutableRawPointer?) -> Void
        typealias ComponentCallback = @convention(c) (OpaquePointer?, UInt32, UInt32, UnsafeMutableRawPointer?) -> Void

        let onCandidate: CandidateCallback = { _, candidate, data in
            guard let candidate, let data else { return }
            Unmanaged<NiceAgentCore>.fromOpaque(data).takeUnretainedValue().didGather(candidate)
        }
        let onGatheringDone: StreamCallback = { _, stream, data in
            guard let data else { return }
            Unmanaged<NiceAgentCore>.fromOpaque(data).takeUnretainedValue().events.yield(
                .gatheringDone(stream: ICEStreamID(rawValue: Int(stream))))
        }
        let onState: StateCallback = { agent, stream, component, state, data in
            guard let data else { return }
            let core = Unmanaged<NiceAgentCore>.fromOpaque(data).takeUnretainedValue()
            core.didChangeState(stream, component, state)
            if let agent { core.refreshDirectPath(agent, stream, component) }
        }
        let onPair: PairCallback = { agent, stream, component, local, remote, data in
            guard let data, let local, let remote else { return }
            let core = Unmanaged<NiceAgentCore>.fromOpaque(data).takeUnretainedValue()
            if let agent { core.refreshDirectPath(agent, stream, component) }
            core.events.yield(
                .selectedPair(
                    stream: ICEStreamID(rawValue: Int(stream)), component: Int(component),
                    local: NiceConversion.candidate(local), remote: NiceConversion.candidate(remote)))
        }
        let onWritable: ComponentCallback = { _, stream, component, data in
            guard let data else { return }
            Unmanaged<NiceAgentCore>.fromOpaque(data).takeUnretainedValue().events.yield(
                .writable(stream: ICEStreamID(rawValue: Int(stream)), component: Int(component)))
        }
        handlerIDs.append(sj_g_signal_connect(object, "new-candidate-full", unsafeBitCast(onCandidate, to: GCallback.self), me))
        handlerIDs.append(sj_g_signal_connect(object, "candidate-gathering-done", unsafeBitCast(onGatheringDone, to: GCallback.self), me))
        handlerIDs.append(sj_g_signal_connect(object, "component-state-changed", unsafeBitCast(onState, to: GCallback.self), me))
        handlerIDs.append(sj_g_signal_connect(object, "new-selected-pair-full", unsafeBitCast(onPair, to: GCallback.self), me))
        handlerIDs.append(sj_g_signal_connect(object, "reliable-transport-writable", unsafeBitCast(onWritable, to: GCallback.self), me))
    }

    private func didGather(_ candidate: UnsafeMutablePointer<NiceCandidate>) {
        events.yield(.localCandidate(
            NiceConversion.candidate(candidate), stream: ICEStreamID(rawValue: Int(candidate.pointee.stream_id))))
    }

    private func didChangeState(_ stream: UInt32, _ component: UInt32, _ raw: UInt32) {
        let state = NiceConversion.state(raw)
        logger.debug("ICE component state", metadata: ["stream": "\(stream)", "component": "\(component)", "state": "\(state)"])
        shared.withLock { $0.states[ComponentKey(stream: stream, component: component)] = state }
        let id = ICEStreamID(rawValue: Int(stream))
        events.yield(.stateChanged(stream: id, component: Int(component), state: state))
        if state == .failed { events.yield(.failed(stream: id, component: Int(component))) }
    }

    fileprivate func didReceive(_ stream: UInt32, _ component: UInt32, _ bytes: UnsafeRawBufferPointer) {
        // Copy what is needed out of the lock: a handler may call `send`, which must not find it held.
        let key = ComponentKey(stream: stream, component: component)
        let (handler, continuation, flushes) = receivers.withLock { ($0.handler, $0.streams[key], $0.flushHandler != nil) }
        handler?(ICEStreamID(rawValue: Int(stream)), Int(component), bytes)
        if let continuation { continuation.yield([UInt8](bytes)) }
        if flushes, !flushPending { scheduleFlush() }
    }

    /// Queues the flush handler behind everything ready now: libnice reads a socket until it would block,
    /// one callback per datagram, and GLib dispatches an idle-priority source only when no socket or timer
    /// of higher priority is ready, so the flush runs once per burst of datagrams.
    private func scheduleFlush() {
        flushPending = true
        guard let source = g_idle_source_new() else { return }
        g_source_set_priority(source, 200)  // G_PRIORITY_DEFAULT_IDLE
        let callback: @convention(c) (UnsafeMutableRawPointer?) -> gboolean = { data in
            guard let data else { return 0 }
            Unmanaged<NiceAgentCore>.fromOpaque(data).takeUnretainedValue().runFlush()
            return 0  // G_SOURCE_REMOVE
        }
        g_source_set_callback(source, callback, Unmanaged.passRetained(self).toOpaque(), { data in
            guard let data else { return }
            Unmanaged<NiceAgentCore>.fromOpaque(data).release()
        })
        g_source_attach(source, loop.context)
        g_source_unref(source)
    }

    private func runFlush() {
        flushPending = false
        let handler = receivers.withLock { $0.flushHandler }
        handler?()
    }

    func setFlushHandler(_ handler: ICEAgent.FlushHandler?) {
        receivers.withLock { $0.flushHandler = handler }
    }

    /// Unhooks everything from the agent and drops it, then stops the loop (loop thread only).
    func teardown() {
        guard !tornDown else { return }
        tornDown = true
        accepting.withLock { $0 = false }
        sendGate.withLock { $0 = nil }
        dropDirectPaths(stream: nil)
        if let a = agent {
            for (stream, count) in streams {
                for component in 1...count {
                    nice_agent_attach_recv(a, stream, UInt32(component), loop.context, nil, nil)
                }
            }
            for id in handlerIDs { g_signal_handler_disconnect(UnsafeMutableRawPointer(a), id) }
            handlerIDs = []
            streams = [:]
            agent = nil
            g_object_unref(UnsafeMutableRawPointer(a))
        }
        let open = receivers.withLock { r -> [AsyncStream<[UInt8]>.Continuation] in
            let all = Array(r.streams.values)
            r = Receivers()
            return all
        }
        for c in open { c.finish() }
        events.finish()
        if configuration.debugLogging { LibniceLog.releaseDebug() }
        loop.quit()
    }

    /// Synchronous shutdown for `deinit`: tears down on the loop thread and joins it.
    func shutdown() {
        if loop.isCurrent {
            // Dropped from inside a callback on our own thread: finish from the top of the loop, and let
            // the thread end by itself.
            loop.post(LoopJob({ [self] in teardown() }, rejected: {}))
            loop.join()
            return
        }
        schedule({ [self] in teardown() }, rejected: {})
        loop.join()
    }

    /// Asks TURN servers to drop our allocations (nice_agent_close_async), waiting at most `limit`.
    func releaseRelays(limit: Duration) async {
        guard !configuration.turnServers.isEmpty else { return }
        let waiter = OneShot()
        await withCheckedContinuation { (cont: CheckedContinuation<Void, Never>) in
            waiter.arm(cont)
            schedule({ [self] in
                guard let agent else {
                    waiter.fire()
                    return
                }
                nice_agent_close_async(agent, { _, _, data in
                    guard let data else { return }
                    Unmanaged<OneShot>.fromOpaque(data).takeRetainedValue().fire()
                }, Unmanaged.passRetained(waiter).toOpaque())
            }, rejected: { waiter.fire() })
            Task {
                try? await Task.sleep(for: limit)
                waiter.fire()
            }
        }
    }

    // MARK: - Operations (loop thread, through `perform`)

    func componentCount(_ stream: ICEStreamID) throws(ICEError) -> Int {
        guard let id = UInt32(exactly: stream.rawValue), let count = streams[id] else {
            throw .unknownStream(stream.rawValue)
        }
        return count
    }

    func checkComponent(_ stream: ICEStreamID, _ component: Int) throws(ICEError) {
        let count = try componentCount(stream)
        guard (1...count).contains(component) else {
            throw .unknownComponent(stream: stream.rawValue, component: component)
        }
    }

    func addStream(_ a: OpaquePointer, components: Int) throws(ICEError) -> ICEStreamID {
        guard (1...256).contains(components) else {
            throw .invalidConfiguration("a stream has 1 to 256 components (RFC 8445 §5.1.1.1)")
        }
        let id = nice_agent_add_stream(a, UInt32(components))
        guard id != 0 else { throw .operationFailed("nice_agent_add_stream") }
        streams[id] = components
        shared.withLock { $0.streams[id] = components }
        do throws(ICEError) {
            try configureStream(a, id, components: components)
        } catch {
            removeStream(a, id)
            throw error
        }
        return ICEStreamID(rawValue: Int(id))
    }

    private func configureStream(_ a: OpaquePointer, _ id: UInt32, components: Int) throws(ICEError) {
        let me = Unmanaged.passUnretained(self).toOpaque()
        for component in 1...UInt32(components) {
            if let range = configuration.portRange {
                nice_agent_set_port_range(a, id, component, UInt32(range.lowerBound), UInt32(range.upperBound))
            }
            for turn in configuration.turnServers {
                let type: NiceRelayType
                switch turn.transport {
                case .udp: type = NICE_RELAY_TYPE_TURN_UDP
                case .tcp: type = NICE_RELAY_TYPE_TURN_TCP
                case .tls: type = NICE_RELAY_TYPE_TURN_TLS
                }
                guard nice_agent_set_relay_info(
                    a, id, component, turn.address, UInt32(turn.port), turn.username, turn.password, type) != 0
                else { throw .invalidAddress(turn.address) }
            }
            let received: NiceAgentRecvFunc = { _, stream, component, length, buffer, data in
                guard let data, let buffer else { return }
                Unmanaged<NiceAgentCore>.fromOpaque(data).takeUnretainedValue().didReceive(
                    stream, component, UnsafeRawBufferPointer(start: buffer, count: Int(length)))
            }
            guard nice_agent_attach_recv(a, id, component, loop.context, received, me) != 0 else {
                throw .operationFailed("nice_agent_attach_recv")
            }
        }
    }

    /// Detaches and removes one stream; its datagram streams finish.
    func removeStream(_ a: OpaquePointer, _ id: UInt32) {
        guard let count = streams.removeValue(forKey: id) else { return }
        dropDirectPaths(stream: id)
        remoteCredentialsKnown.remove(id)
        heldBack[id] = nil
        for component in 1...UInt32(count) {
            nice_agent_attach_recv(a, id, component, loop.context, nil, nil)
        }
        nice_agent_remove_stream(a, id)
        shared.withLock { state in
            state.streams[id] = nil
            state.states = state.states.filter { $0.key.stream != id }
        }
        let finished = receivers.withLock { r -> [AsyncStream<[UInt8]>.Continuation] in
            let mine = r.streams.filter { $0.key.stream == id }
            for key in mine.keys { r.streams[key] = nil }
            return Array(mine.values)
        }
        for c in finished { c.finish() }
    }

    func setRemoteCredentials(_ a: OpaquePointer, _ stream: ICEStreamID, _ credentials: ICECredentials) throws(ICEError) {
        let id = NiceOperations.id(stream)
        try NiceOperations.setRemoteCredentials(a, stream, credentials)
        remoteCredentialsKnown.insert(id)
        if let held = heldBack.removeValue(forKey: id) {
            if !held.candidates.isEmpty { try NiceOperations.addRemoteCandidates(a, stream, held.candidates) }
            if held.ended { try NiceOperations.peerGatheringDone(a, stream) }
        }
    }

    func addRemoteCandidates(_ a: OpaquePointer, _ stream: ICEStreamID, _ candidates: [ICECandidate]) throws(ICEError) {
        let id = NiceOperations.id(stream)
        guard remoteCredentialsKnown.contains(id) else {
            // Check them now so the caller hears about a bad candidate at once, not at flush time.
            for c in candidates { nice_candidate_free(try NiceConversion.niceCandidate(c, stream: id)) }
            heldBack[id, default: ([], false)].candidates += candidates
            return
        }
        try NiceOperations.addRemoteCandidates(a, stream, candidates)
    }

    func endOfRemoteCandidates(_ a: OpaquePointer, _ stream: ICEStreamID) throws(ICEError) {
        let id = NiceOperations.id(stream)
        guard remoteCredentialsKnown.contains(id) else {
            heldBack[id, default: ([], false)].ended = true
            return
        }
        try NiceOperations.peerGatheringDone(a, stream)
    }

    func restart(_ a: OpaquePointer, _ stream: ICEStreamID, _ credentials: ICECredentials?) throws(ICEError) -> ICECredentials {
        let id = NiceOperations.id(stream)
        dropDirectPaths(stream: id)
        let fresh = try NiceOperations.restart(a, stream, credentials)
        // RFC 8445 §9: the peer's old credentials no longer apply; wait for its new ones.
        remoteCredentialsKnown.remove(id)
        heldBack[id] = nil
        return fresh
    }

    func setRole(_ a: OpaquePointer, _ role: ICEConfiguration.Role) {
        sj_g_object_set_boolean(UnsafeMutableRawPointer(a), "controlling-mode", role == .controlling ? 1 : 0)
    }

    // MARK: - Any thread

    func send(_ bytes: UnsafeRawBufferPointer, stream: ICEStreamID, component: Int) throws(ICEError) -> Int {
        guard let s = UInt32(exactly: stream.rawValue), let c = UInt32(exactly: component),
              let length = UInt32(exactly: bytes.count) else {
            throw .unknownStream(stream.rawValue)
        }
        let sent = try sendGate.withLock { (agent: inout AgentHandle?) throws(ICEError) -> Int32 in
            guard let agent else { throw .closed }
            return nice_agent_send(agent.pointer, s, c, length, bytes.baseAddress?.assumingMemoryBound(to: CChar.self))
        }
        if sent >= 0 { return Int(sent) }
        let (count, state) = shared.withLock { ($0.streams[s], $0.states[ComponentKey(stream: s, component: c)]) }
        guard let count else { throw .unknownStream(stream.rawValue) }
        guard (1...count).contains(component) else {
            throw .unknownComponent(stream: stream.rawValue, component: component)
        }
        guard state == .connected || state == .ready else {
            throw .notConnected(stream: stream.rawValue, component: component)
        }
        if configuration.reliable { throw .wouldBlock }
        throw .sendFailed(stream: stream.rawValue, component: component)
    }

    func setReceiveHandler(_ handler: ICEAgent.ReceiveHandler?) {
        receivers.withLock { $0.handler = handler }
    }

    func datagrams(stream: ICEStreamID, component: Int, bufferLimit: Int) -> AsyncStream<[UInt8]> {
        let (result, continuation) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingNewest(bufferLimit))
        let key = ComponentKey(stream: UInt32(truncatingIfNeeded: stream.rawValue), component: UInt32(truncatingIfNeeded: component))
        let accepted = accepting.withLock { $0 }
        if !accepted {
            continuation.finish()
            return result
        }
        let previous = receivers.withLock { r -> AsyncStream<[UInt8]>.Continuation? in
            let old = r.streams[key]
            r.streams[key] = continuation
            return old
        }
        previous?.finish()
        return result
    }
}

/// What tests check after shutdown: the `NiceAgent` was finalized and the loop thread has ended.
final class LifecycleProbe: Sendable {
    let niceAgentFinalized = Atomic<Bool>(false)
    let loopThreadFinished = Atomic<Bool>(false)
    var isNiceAgentFinalized: Bool { niceAgentFinalized.load(ordering: .acquiring) }
    var isLoopThreadFinished: Bool { loopThreadFinished.load(ordering: .acquiring) }
}

/// The agent pointer as shared with sending threads; only dereferenced under `sendGate`.
struct AgentHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Resumes a continuation exactly once, whichever of a libnice callback or a timer comes first.
final class OneShot: Sendable {
    private let continuation = Mutex<CheckedContinuation<Void, Never>?>(nil)
    func arm(_ c: CheckedContinuation<Void, Never>) { continuation.withLock { $0 = c } }
    func fire() { continuation.withLock { c in let taken = c; c = nil; return taken }?.resume() }
}
