import XMLStream
import XMPPCore

/// Routes Jingle IQs to sessions by peer and sid (XEP-0166 §7.1: a session is identified by its sid together
/// with the parties), creates responder sessions on session-initiate, and answers requests for sessions that do
/// not exist with unknown-session. Pure, like the sessions it holds.
public struct JingleSessionManager: Sendable {
    public typealias SessionKey = JingleSessionID

    public let local: JID
    public var configuration: JingleSession.Configuration
    private var ids: any JingleIDGenerator
    private var sessionIDs: any JingleIDGenerator
    private var sessions: [SessionKey: JingleSession] = [:]
    /// Sessions held (live or ended and not yet removed), for leak checks under load.
    @_spi(Diagnostics) public var sessionCount: Int { sessions.count }

    /// `ids` names IQs; `sessionIDs` names sessions we start (XEP-0166 §7.1: sid chosen by the initiator).
    public init(local: JID, configuration: JingleSession.Configuration = .init(), ids: any JingleIDGenerator, sessionIDs: any JingleIDGenerator) {
        self.local = local
        self.configuration = configuration
        self.ids = ids
        self.sessionIDs = sessionIDs
    }

    public func session(peer: JID, sid: String) -> JingleSession? { sessions[SessionKey(peer: peer, sid: sid)] }
    public var allSessions: [JingleSession] { Array(sessions.values) }

    /// Forgets sessions that have ended.
    public mutating func removeEndedSessions() { sessions = sessions.filter { $0.value.phase != .ended } }

    /// Starts a session as initiator, with a fresh sid unless one is given (XEP-0353 §3.2: after Jingle
    /// Message Initiation the session-initiate reuses the proposal's id as its sid).
    public mutating func sendSessionInitiate(to peer: JID, contents: [JingleContent], groups: [JingleGroup] = [], sid given: String? = nil,
                                             now: ContinuousClock.Instant) throws(JingleSessionError) -> (sid: String, actions: [JingleAction]) {
        if let given, given.isEmpty || sessions[SessionKey(peer: peer, sid: given)] != nil {
            throw JingleSessionError(action: .sessionInitiate, phase: .pending, detail: "sid '\(given)' is empty or already in use with \(peer)")
        }
        let sid = given ?? sessionIDs.next()
        let scoped = SessionScopedIDs(base: ids, sid: sid)
        let (session, actions) = try JingleSession.sendSessionInitiate(sid: sid, local: local, peer: peer, contents: contents, groups: groups,
                                                                       configuration: configuration, ids: scoped, now: now)
        ids = scoped.advanced
        sessions[SessionKey(peer: peer, sid: sid)] = session
        return (sid, actions)
    }

    /// Runs one of a session's `send…` methods.
    public mutating func withSession(peer: JID, sid: String, _ body: (inout JingleSession) throws(JingleSessionError) -> [JingleAction]) throws(JingleManagerError) -> [JingleAction] {
        let key = SessionKey(peer: peer, sid: sid)
        guard var session = sessions[key] else { throw .noSuchSession(key) }
        do throws(JingleSessionError) {
            let actions = try body(&session)
            sessions[key] = session
            return actions
        } catch {
            throw .session(error)
        }
    }

    /// Handles an incoming IQ that carries Jingle or answers one of our Jingle requests.
    public mutating func receive(_ iq: IQ, now: ContinuousClock.Instant) -> [JingleAction] {
        guard let from = iq.from else { return iq.type == .set ? [.reply(iq.makeError(StanzaError(.badRequest)))] : [] }
        switch iq.type {
        case .result, .error:
            guard let id = iq.id, let key = sessions.first(where: { $0.key.peer == from && $0.value.isAwaiting(replyTo: id) })?.key else { return [] }
            return deliver(iq, to: key, now: now)
        case .get, .set:
            break
        }
        guard let element = iq.payload, element.name == "jingle", element.namespace == NS.jingle else {
            // RFC 6120 §8.4: a request we do not handle.
            return [.reply(iq.makeError(StanzaError(.serviceUnavailable)))]
        }
        guard let sid = element[attribute: "sid"], !sid.isEmpty else {
            return [.reply(iq.makeError(StanzaError(.badRequest, text: "jingle without sid (XEP-0166 §7.1)")))]
        }
        let key = SessionKey(peer: from, sid: sid)
        if sessions[key] != nil { return deliver(iq, to: key, now: now) }
        guard element[attribute: "action"] == JingleWireAction.sessionInitiate.rawValue else {
            // XEP-0166 §7.2 / §6.7: a request for a session we do not know (or that already ended and was forgotten).
            if let action = element[attribute: "action"], JingleWireAction(rawValue: action) == nil {
                return [.reply(iq.makeError(StanzaError(.badRequest, text: "unknown action '\(action)'")))]
            }
            return [.reply(iq.makeError(JingleErrorCondition.unknownSession.stanzaError))]
        }
        // XEP-0166 tie-breaking (Example 34) and XEP-0353 §3.5: when both parties start a session with each
        // other at once, the session with the lower sid survives. If ours is lower, theirs loses.
        if let ours = sessions.values.first(where: { $0.peer == from && $0.role == .initiator && $0.phase == .pending }), ours.sid < sid {
            return [.reply(iq.makeError(JingleErrorCondition.tieBreak.stanzaError))]
        }
        let scoped = SessionScopedIDs(base: ids, sid: sid)
        let (session, actions) = JingleSession.receiveSessionInitiate(iq, local: local, configuration: configuration, ids: scoped, now: now)
        if let session {
            ids = scoped.advanced
            sessions[key] = session
        }
        return actions
    }

    /// A timer armed by one of the sessions expired.
    public mutating func timerFired(_ timer: JingleTimer, now: ContinuousClock.Instant) -> [JingleAction] {
        let key = SessionKey(peer: timer.peer, sid: timer.sid)
        guard var session = sessions[key] else { return [] }
        let actions = session.timerFired(timer, now: now)
        sessions[key] = session
        return actions
    }

    private mutating func deliver(_ iq: IQ, to key: SessionKey, now: ContinuousClock.Instant) -> [JingleAction] {
        guard var session = sessions[key] else { return [] }
        let actions = session.receive(iq, now: now)
        sessions[key] = session
        return actions
    }
}

/// Why `withSession` could not run.
public enum JingleManagerError: Error, Sendable, Hashable {
    case noSuchSession(JingleSessionManager.SessionKey)
    case session(JingleSessionError)
}

/// Gives each session ids that cannot collide with another session's: the manager's generator's next value
/// plus the sid, then a counter.
struct SessionScopedIDs: JingleIDGenerator {
    private var prefix: String
    private var counter: UInt64 = 0
    private(set) var advanced: any JingleIDGenerator

    init(base: any JingleIDGenerator, sid: String) {
        var base = base
        prefix = base.next() + "." + sid
        advanced = base
    }

    mutating func next() -> String {
        counter += 1
        return "\(prefix).\(counter)"
    }
}
