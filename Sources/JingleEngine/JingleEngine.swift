@_spi(Diagnostics) import Jingle
import Logging
import Synchronization
import XMLStream
import XMPPCore
import XMPPLink

/// Carries out the Jingle session machines' actions over an XMPP link (a client, a component or a
/// serverless peer link): incoming Jingle IQs go into the pure `JingleSessionManager`, and what it asks
/// for — IQs to send, replies, timers, events — is done here. Applications (file transfer, calls, the
/// gateway) drive sessions through this actor and read each session's events.
public actor JingleEngine {
    public nonisolated let link: any XMPPSession
    public nonisolated let localJID: JID
    /// Sessions a peer started, in arrival order, each with its session-initiate.
    public nonisolated let incomingSessions: AsyncStream<IncomingJingleSession>

    private var manager: JingleSessionManager
    private var timers: [JingleTimer: Task<Void, Never>] = [:]
    private var streams: [JingleSessionID: AsyncStream<JingleEvent>.Continuation] = [:]
    private let incomingContinuation: AsyncStream<IncomingJingleSession>.Continuation
    private let logger: Logger
    private var started = false
    /// Outgoing stanzas in the order the session machines produced them; one writer sends them, waiting only
    /// until each is written (not answered), so a session's IQs cannot overtake each other (XEP-0166 §7) and
    /// `stop()` can flush what is still queued (a session-terminate just before exit must still go out).
    private let outbox: AsyncStream<Outgoing>.Continuation
    private let writer: Task<Void, Never>

    enum Outgoing: Sendable {
        case iq(IQ)
        case stanza(XMLElement)
    }

    /// The XEP-0030 features of Jingle core; applications add theirs with `advertise(_:)`.
    public static let coreFeatures = [NS.jingle]

    public init(link: any XMPPSession, localJID: JID, configuration: JingleSession.Configuration = .init(),
                idPrefix: String = "sj", logger: Logger = Logger(label: "swiftjingle.engine")) {
        self.link = link
        self.localJID = localJID
        // Process-unique, unguessable prefixes: sids and IQ ids must not collide with a peer's (XEP-0166 §7.1).
        let random = UInt64.random(in: 0..<UInt64.max)
        let tag = String(random, radix: 36)
        self.manager = JingleSessionManager(local: localJID, configuration: configuration,
                                            ids: SequentialIDGenerator(prefix: "\(idPrefix)\(tag)"),
                                            sessionIDs: SequentialIDGenerator(prefix: "s\(tag)"))
        (self.incomingSessions, self.incomingContinuation) = AsyncStream.makeStream(of: IncomingJingleSession.self)
        self.logger = logger
        let (stream, outbox) = AsyncStream.makeStream(of: Outgoing.self)
        self.outbox = outbox
        let box = EngineBox()
        self.writer = Task { [link] in
            for await item in stream {
                switch item {
                case .stanza(let element):
                    try? await link.send(element)
                case .iq(let iq):
                    let written = WrittenSignal()
                    Task {
                        let answer: IQ
                        do {
                            answer = try await link.sendIQ(iq, timeout: .seconds(30)) { written.signal() }
                        } catch let XMPPLinkError.stanzaError(error) {
                            var e = IQ(type: .error, id: iq.id ?? "", from: iq.to, to: iq.from)
                            e.element.append(error.element())
                            answer = e
                        } catch {
                            written.signal()
                            // No answer: the session's own acknowledgement timer decides (XEP-0166 §6.3).
                            await box.engine?.log("no answer to \(iq.id ?? "?"): \(error)")
                            return
                        }
                        written.signal()
                        await box.engine?.receiveAnswer(answer)
                    }
                    await written.wait()
                }
            }
        }
        box.engine = self
    }

    /// Registers the Jingle IQ handler and the core disco features. Call once, after the link is up.
    public func start() async {
        guard !started else { return }
        started = true
        await link.addFeatures(Self.coreFeatures)
        await link.register(iqHandler: NS.jingle) { [weak self] iq in
            guard let self else { throw StanzaError(.serviceUnavailable) }
            return try await self.handleIncoming(iq)
        }
    }

    /// Adds disco#info features (XEP-0030) for the applications and transports in use.
    public func advertise(_ features: [String]) async {
        await link.addFeatures(features)
    }

    /// Stops: terminates nothing by itself (call `terminate` first), cancels timers, ends event streams.
    public func stop() async {
        // Flush: what the sessions already sent (a final session-terminate) is written before the caller closes
        // the link; bounded, so a stuck link cannot hold up shutdown.
        outbox.finish()
        let writer = self.writer
        let deadline = Task { try? await Task.sleep(for: .seconds(2)); writer.cancel() }
        await writer.value
        deadline.cancel()
        for task in timers.values { task.cancel() }
        timers.removeAll()
        for continuation in streams.values { continuation.finish() }
        streams.removeAll()
        incomingContinuation.finish()
        if started { await link.unregisterIQHandler(namespace: NS.jingle) }
    }

    // MARK: sessions we start

    /// Sends session-initiate (XEP-0166 §6.2) and returns the session's handle and event stream. `sid` is
    /// generated unless given (XEP-0353 §3.2 reuses the proposal id).
    public func initiate(to peer: JID, contents: [JingleContent], groups: [JingleGroup] = [], sid: String? = nil) throws(JingleEngineError) -> JingleSessionHandle {
        let result: (sid: String, actions: [JingleAction])
        do throws(JingleSessionError) {
            result = try manager.sendSessionInitiate(to: peer, contents: contents, groups: groups, sid: sid, now: .now)
        } catch {
            throw .session(error)
        }
        let id = JingleSessionID(peer: peer, sid: result.sid)
        let events = makeStream(for: id)
        perform(result.actions)
        return JingleSessionHandle(id: id, events: events)
    }

    // MARK: acting on a session

    /// Runs one of the session machine's `send…` methods (session-accept, transport-info, session-info, …)
    /// and carries out what it asks for.
    public func perform(on id: JingleSessionID, _ body: (inout JingleSession) throws(JingleSessionError) -> [JingleAction]) throws(JingleEngineError) {
        let actions: [JingleAction]
        do throws(JingleManagerError) {
            actions = try manager.withSession(peer: id.peer, sid: id.sid, body)
        } catch {
            switch error {
            case .noSuchSession: throw .noSuchSession(id)
            case .session(let e): throw .session(e)
            }
        }
        perform(actions)
    }

    public func accept(_ id: JingleSessionID, contents: [JingleContent], groups: [JingleGroup] = []) throws(JingleEngineError) {
        try perform(on: id) { (s: inout JingleSession) throws(JingleSessionError) in try s.sendSessionAccept(contents: contents, groups: groups) }
    }

    public func terminate(_ id: JingleSessionID, reason: JingleReason) throws(JingleEngineError) {
        try perform(on: id) { (s: inout JingleSession) throws(JingleSessionError) in try s.sendSessionTerminate(reason: reason) }
    }

    public func sendInfo(_ id: JingleSessionID, _ info: [JingleInfo]) throws(JingleEngineError) {
        try perform(on: id) { (s: inout JingleSession) throws(JingleSessionError) in try s.sendSessionInfo(info) }
    }

    public func sendTransportInfo(_ id: JingleSessionID, contents: [JingleContent]) throws(JingleEngineError) {
        try perform(on: id) { (s: inout JingleSession) throws(JingleSessionError) in try s.sendTransportInfo(contents) }
    }

    /// What the engine holds, by kind, for leak checks under load (benchmarks, soak runs).
    @_spi(Diagnostics) public func diagnostics() -> [String: Int] {
        ["jingle.sessions": manager.sessionCount, "jingle.timers": timers.count, "jingle.streams": streams.count]
    }

    /// The session's current state (nil once it ended and was forgotten).
    public func session(_ id: JingleSessionID) -> JingleSession? { manager.session(peer: id.peer, sid: id.sid) }

    // MARK: incoming

    /// The IQ handler: feeds the manager and answers with the reply it chose (XEP-0166 §7: every set is
    /// acknowledged, with a result or an error).
    private func handleIncoming(_ iq: IQ) throws -> XMLElement? {
        let actions = manager.receive(iq, now: .now)
        var reply: IQ?
        var rest: [JingleAction] = []
        for action in actions {
            if case .reply(let r) = action, reply == nil, r.id == iq.id { reply = r } else { rest.append(action) }
        }
        perform(rest)
        guard let reply else { return nil }
        if reply.type == .error { throw reply.error ?? StanzaError(.undefinedCondition) }
        return reply.payload
    }

    // MARK: carrying out actions

    private func perform(_ actions: [JingleAction]) {
        for action in actions {
            switch action {
            case .send(let iq):
                outbox.yield(.iq(iq))
            case .reply(let iq):
                // A reply not tied to the IQ being handled (rare): send it as a stanza, in order.
                outbox.yield(.stanza(iq.element))
            case .scheduleTimer(let timer, let deadline):
                timers[timer]?.cancel()
                timers[timer] = Task { [weak self] in
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    if Task.isCancelled { return }
                    await self?.timerFired(timer)
                }
            case .cancelTimer(let timer):
                timers.removeValue(forKey: timer)?.cancel()
            case .event(let id, let event):
                deliver(event, to: id)
            }
        }
    }

    private func receiveAnswer(_ iq: IQ) {
        perform(manager.receive(iq, now: .now))
    }

    private func timerFired(_ timer: JingleTimer) {
        timers.removeValue(forKey: timer)
        perform(manager.timerFired(timer, now: .now))
    }

    private func log(_ message: String) { logger.debug("\(message)") }

    private func makeStream(for id: JingleSessionID) -> AsyncStream<JingleEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: JingleEvent.self)
        streams[id] = continuation
        return stream
    }

    private func deliver(_ event: JingleEvent, to id: JingleSessionID) {
        if let continuation = streams[id] {
            continuation.yield(event)
        } else if case .received(let payload) = event, payload.action == .sessionInitiate {
            let events = makeStream(for: id)
            incomingContinuation.yield(IncomingJingleSession(handle: JingleSessionHandle(id: id, events: events), initiate: payload))
        } else {
            logger.debug("event for unknown session \(id): \(event)")
        }
        if case .ended = event {
            streams.removeValue(forKey: id)?.finish()
            for (timer, task) in timers where timer.sid == id.sid && timer.peer == id.peer {
                task.cancel()
                timers.removeValue(forKey: timer)
            }
            manager.removeEndedSessions()
        }
    }
}

/// A session as the application sees it: its identity and its events, in order.
public struct JingleSessionHandle: Sendable {
    public let id: JingleSessionID
    public let events: AsyncStream<JingleEvent>
}

/// A session a peer started.
public struct IncomingJingleSession: Sendable {
    public let handle: JingleSessionHandle
    /// The session-initiate as received.
    public let initiate: JinglePayload
    public var id: JingleSessionID { handle.id }
}

public enum JingleEngineError: Error, Sendable, CustomStringConvertible {
    case noSuchSession(JingleSessionID)
    case session(JingleSessionError)

    public var description: String {
        switch self {
        case .noSuchSession(let id): "no Jingle session \(id)"
        case .session(let error): error.description
        }
    }
}

/// Signalled once (further signals are ignored); `wait()` returns once it has been signalled.
final class WrittenSignal: Sendable {
    private let state = Mutex<(done: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.done { return nil }
            state.done = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.done { return true }
                state.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}

/// A weak reference to the engine for its writer task, which is made before the engine is fully initialised.
final class EngineBox: Sendable {
    private let reference = Mutex<Weak?>(nil)
    private struct Weak: @unchecked Sendable { weak var engine: JingleEngine? }

    var engine: JingleEngine? {
        get { reference.withLock { $0?.engine } }
        set { reference.withLock { $0 = Weak(engine: newValue) } }
    }
}
