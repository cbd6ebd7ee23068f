import XMLStream
import XMPPCore

/// One Jingle session (XEP-0166), as a pure state machine.
///
/// ```
///                    session-initiate
///                          |
///                          v
///     +------------------ PENDING ------------------+   content-*, description-info, security-info,
///     |                    |                        |   session-info, transport-* (§7.2) allowed
///     |                    | session-accept (§7.2.8)|
///     |                    v                        |
///     |                  ACTIVE  <-- same actions   |
///     |                    |                        |
///     +--------------------+------------------------+
///                          | session-terminate (§7.2.11), or timeout
///                          v
///                        ENDED  -- any request --> unknown-session (§6.7)
/// ```
///
/// `receive` takes every IQ from the peer for this session and returns what to do: acknowledge it (every
/// set gets a result or an error, XEP-0166 §7), tell the application, arm timers. `send…` methods build our
/// requests. Nothing here touches a socket or a clock; `now` comes in and timers go out.
public struct JingleSession: Sendable {
    public enum Phase: String, Sendable, Hashable { case pending, active, ended }

    public struct Configuration: Sendable {
        /// The formats the application supports; unknown namespaces get `unsupported-*` answers.
        public var registry: JingleRegistry
        /// How long the peer has to acknowledge session-initiate (RFC 6120 §8.2.3: every IQ set gets a reply).
        public var ackTimeout: Duration
        /// How long the responder has to accept; nil waits for ever.
        public var acceptTimeout: Duration?

        public init(registry: JingleRegistry = .standard, ackTimeout: Duration = .seconds(30), acceptTimeout: Duration? = .seconds(120)) {
            self.registry = registry
            self.ackTimeout = ackTimeout
            self.acceptTimeout = acceptTimeout
        }
    }

    /// A content is identified by its creator and name (XEP-0166 §7.3: the name is unique per creator).
    public struct ContentKey: Sendable, Hashable, CustomStringConvertible {
        public var creator: JingleRole
        public var name: String
        public init(creator: JingleRole, name: String) {
            self.creator = creator
            self.name = name
        }
        public init(_ content: JingleContent) { self.init(creator: content.creator, name: content.name) }
        public var description: String { "\(creator.rawValue)/\(name)" }
    }

    /// What the session knows of one content.
    public struct ContentState: Sendable, Hashable {
        public var content: JingleContent
        /// False while a content-add waits for content-accept (XEP-0166 §7.2.2).
        public var accepted: Bool
        /// The party that proposed the content.
        public var addedBy: JingleRole
        /// A transport-replace waiting for transport-accept/-reject (§7.2.15), and who sent it.
        public var pendingReplacement: PendingReplacement?
    }

    public struct PendingReplacement: Sendable, Hashable {
        public var by: JingleRole
        public var transport: JingleContent
    }

    private struct Pending: Sendable {
        var initiateAcknowledged: Bool
    }

    private struct Ended: Sendable {
        var reason: JingleReason?
        var byPeer: Bool
    }

    private enum State: Sendable {
        case pending(Pending)
        case active
        case ended(Ended)
    }

    private struct Outstanding: Sendable {
        var action: JingleWireAction
        var contents: [ContentKey]
    }

    public let sid: String
    /// Our role in this session.
    public let role: JingleRole
    public let local: JID
    public let peer: JID
    public let configuration: Configuration
    private var state: State
    private var contentStates: [ContentState]
    private var outstanding: [String: Outstanding] = [:]
    private var ids: any JingleIDGenerator
    /// The `initiator` attribute of the session-initiate when it differs from the sender (interop: Jicofo sends
    /// from the MUC occupant JID but names its real JID; XEP-0166 §7.1 lets the two differ).
    private var announcedInitiator: JID?

    public var id: JingleSessionID { JingleSessionID(peer: peer, sid: sid) }
    public var initiator: JID { role == .initiator ? local : peer }
    public var responder: JID { role == .responder ? local : peer }
    public var peerRole: JingleRole { role.other }

    public var phase: Phase {
        switch state {
        case .pending: .pending
        case .active: .active
        case .ended: .ended
        }
    }

    /// Contents of the session, accepted or still proposed, in order.
    public var contents: [ContentState] { contentStates }

    /// Why the session ended, once it has.
    public var endReason: JingleReason? {
        if case .ended(let e) = state { return e.reason }
        return nil
    }

    /// Whether an IQ id is one of our requests still waiting for its reply.
    public func isAwaiting(replyTo id: String) -> Bool { outstanding[id] != nil }

    /// Whether `party` sends media/data on a content, per its `senders` (XEP-0166 §7.3; absent means both).
    public func sends(_ party: JingleRole, on key: ContentKey) -> Bool {
        contentStates.first { ContentKey($0.content) == key }?.content.effectiveSenders.includes(party) ?? false
    }

    private init(sid: String, role: JingleRole, local: JID, peer: JID, configuration: Configuration, ids: any JingleIDGenerator, contents: [ContentState]) {
        self.sid = sid
        self.role = role
        self.local = local
        self.peer = peer
        self.configuration = configuration
        self.ids = ids
        self.contentStates = contents
        self.state = .pending(Pending(initiateAcknowledged: role == .responder))
    }

    // MARK: - Starting a session

    /// Starts a session as initiator (XEP-0166 §6.2, §7.2.10). Arms the acknowledgement timer and, if
    /// configured, the acceptance timer.
    public static func sendSessionInitiate(sid: String, local: JID, peer: JID, contents: [JingleContent], groups: [JingleGroup] = [],
                                           configuration: Configuration = Configuration(), ids: any JingleIDGenerator,
                                           now: ContinuousClock.Instant) throws(JingleSessionError) -> (JingleSession, [JingleAction]) {
        // XEP-0166 §7.2.10: at least one content, each with an application format and a transport.
        guard !contents.isEmpty, contents.allSatisfy({ $0.description != nil && $0.transport != nil && $0.creator == .initiator }) else {
            throw JingleSessionError(action: .sessionInitiate, phase: .pending, detail: "needs contents created by the initiator, each with description and transport")
        }
        var session = JingleSession(sid: sid, role: .initiator, local: local, peer: peer, configuration: configuration, ids: ids,
                                    contents: contents.map { ContentState(content: $0, accepted: true, addedBy: .initiator) })
        let payload = JinglePayload(action: .sessionInitiate, sid: sid, initiator: local, contents: contents, groups: groups)
        var actions = [session.request(payload, contents: contents.map(ContentKey.init))]
        actions.append(.scheduleTimer(JingleTimer(.sessionInitiateAck, sid: sid, peer: peer), deadline: now + configuration.ackTimeout))
        if let acceptTimeout = configuration.acceptTimeout {
            actions.append(.scheduleTimer(JingleTimer(.sessionAccept, sid: sid, peer: peer), deadline: now + acceptTimeout))
        }
        return (session, actions)
    }

    /// Creates the responder's session from a session-initiate (XEP-0166 §6.3). Returns nil (with the error
    /// reply) when the request is refused outright; otherwise the session, the acknowledgement and either the
    /// `received` event or, when nothing offered is supported, a session-terminate (§6.3.2, §7.4).
    public static func receiveSessionInitiate(_ iq: IQ, local: JID, configuration: Configuration = Configuration(),
                                              ids: any JingleIDGenerator, now: ContinuousClock.Instant) -> (JingleSession?, [JingleAction]) {
        guard iq.type == .set, let peer = iq.from else {
            return (nil, [.reply(iq.makeError(StanzaError(.badRequest, text: "session-initiate needs a from address")))])
        }
        let payload: JinglePayload
        do throws(JingleParseError) {
            guard let p = try iq.jingle(registry: configuration.registry) else {
                return (nil, [.reply(iq.makeError(StanzaError(.badRequest)))])
            }
            payload = p
        } catch {
            // XEP-0166 §6.3.2: a malformed initiation is answered with bad-request.
            return (nil, [.reply(iq.makeError(StanzaError(.badRequest, text: error.description)))])
        }
        guard payload.action == .sessionInitiate else {
            return (nil, [.reply(iq.makeError(JingleErrorCondition.unknownSession.stanzaError))])
        }
        // XEP-0166 §7.2.10: one or more contents, each with description and transport, created by the initiator.
        guard !payload.contents.isEmpty,
              payload.contents.allSatisfy({ $0.description != nil && $0.transport != nil && $0.creator == .initiator }) else {
            return (nil, [.reply(iq.makeError(StanzaError(.badRequest, text: "session-initiate needs contents with description and transport (XEP-0166 §7.2.10)")))])
        }
        // XEP-0166 §7.1: creator and name identify a content, so two contents with the same pair are ambiguous.
        if Set(payload.contents.map(ContentKey.init)).count != payload.contents.count {
            return (nil, [.reply(iq.makeError(StanzaError(.badRequest, text: "session-initiate names the same content twice (XEP-0166 §7.1)")))])
        }
        // XEP-0166 §7.1: the initiator attribute "MAY be different from the 'from' address on the IQ-set" (a MUC
        // focus such as Jicofo sends from room@conference/focus and names focus@auth/focus). The session stays
        // keyed by the sender, which the server vouches for; the attribute is remembered for later requests.
        var session = JingleSession(sid: payload.sid, role: .responder, local: local, peer: peer, configuration: configuration, ids: ids,
                                    contents: payload.contents.map { ContentState(content: $0, accepted: true, addedBy: .initiator) })
        if let claimed = payload.initiator, claimed != peer { session.announcedInitiator = claimed }
        var actions: [JingleAction] = [.reply(iq.makeResult())]
        // XEP-0166 §6.3.2: the responder acknowledges, then terminates with unsupported-applications or
        // unsupported-transports when it can use none of what is offered.
        let registry = configuration.registry
        if !payload.contents.contains(where: { registry.supportsDescription($0.description?.wireNamespace ?? "") }) {
            actions += session.terminate(JingleReason(.unsupportedApplications))
        } else if !payload.contents.contains(where: { registry.supportsTransport($0.transport?.wireNamespace ?? "") }) {
            actions += session.terminate(JingleReason(.unsupportedTransports))
        } else {
            actions.append(.event(session: session.id, .received(payload)))
        }
        return (session, actions)
    }

    // MARK: - Receiving

    /// Handles any IQ from the peer that belongs to this session: a request (set) or a reply to ours.
    public mutating func receive(_ iq: IQ, now: ContinuousClock.Instant) -> [JingleAction] {
        // XEP-0166 §7.1: a session is known only with its parties; a stanza from anyone else does not belong
        // to it (a session-accept from a third party is answered as for an unknown session).
        guard iq.from == peer else {
            if iq.type == .set { return [.reply(iq.makeError(JingleErrorCondition.unknownSession.stanzaError))] }
            return []
        }
        switch iq.type {
        case .result, .error:
            return receiveReply(iq)
        case .get:
            // XEP-0166 §7: Jingle actions are IQ-sets only.
            return [.reply(iq.makeError(StanzaError(.badRequest, text: "Jingle actions are sent as IQ-set")))]
        case .set:
            break
        }
        let payload: JinglePayload
        do throws(JingleParseError) {
            guard let p = try iq.jingle(registry: configuration.registry) else {
                return [.reply(iq.makeError(StanzaError(.featureNotImplemented)))]
            }
            payload = p
        } catch {
            return [.reply(iq.makeError(StanzaError(.badRequest, text: error.description)))]
        }
        guard payload.sid == sid else { return [.reply(iq.makeError(JingleErrorCondition.unknownSession.stanzaError))] }
        // XEP-0166 §6.7: once ended (by either side), every further request is for an unknown session.
        if case .ended = state { return [.reply(iq.makeError(JingleErrorCondition.unknownSession.stanzaError))] }
        if let claimed = payload.initiator, claimed != initiator, claimed != announcedInitiator {
            return [.reply(iq.makeError(StanzaError(.badRequest, text: "initiator attribute does not match the session")))]
        }
        switch payload.action {
        case .sessionInitiate: return receiveSessionInitiate(payload, iq)
        case .sessionAccept: return receiveSessionAccept(payload, iq)
        case .sessionTerminate: return receiveSessionTerminate(payload, iq)
        case .sessionInfo: return receiveSessionInfo(payload, iq)
        case .contentAdd: return receiveContentAdd(payload, iq)
        case .contentAccept: return receiveContentAccept(payload, iq)
        case .contentReject: return receiveContentReject(payload, iq)
        case .contentModify: return receiveContentModify(payload, iq)
        case .contentRemove: return receiveContentRemove(payload, iq)
        case .descriptionInfo: return receiveContentInfo(payload, iq)
        case .securityInfo: return receiveContentInfo(payload, iq)
        case .transportInfo: return receiveContentInfo(payload, iq)
        case .transportReplace: return receiveTransportReplace(payload, iq)
        case .transportAccept: return receiveTransportAccept(payload, iq)
        case .transportReject: return receiveTransportReject(payload, iq)
        }
    }

    /// XEP-0166 tie-breaking (Example 34): a session-initiate for a sid we ourselves initiated means both
    /// sides picked it; answer conflict + tie-break. Any other repeated session-initiate is out of order.
    private mutating func receiveSessionInitiate(_ payload: JinglePayload, _ iq: IQ) -> [JingleAction] {
        if role == .initiator, case .pending = state { return refuse(iq, .tieBreak) }
        return refuse(iq, .outOfOrder)
    }

    /// XEP-0166 §7.2.8: only the responder accepts, only while pending, with description and transport in
    /// each content, naming contents that were offered.
    private mutating func receiveSessionAccept(_ payload: JinglePayload, _ iq: IQ) -> [JingleAction] {
        guard role == .initiator, case .pending = state else { return refuse(iq, .outOfOrder) }
        guard !payload.contents.isEmpty, payload.contents.allSatisfy({ $0.description != nil && $0.transport != nil }) else {
            return badRequest(iq, "session-accept needs contents with description and transport (XEP-0166 §7.2.8)")
        }
        let offered = Set(contentStates.map { ContentKey($0.content) })
        if let unknown = payload.contents.first(where: { !offered.contains(ContentKey($0)) }) {
            return badRequest(iq, "session-accept names content \(ContentKey(unknown)) that was not offered")
        }
        // Contents left out of the accept are declined (XEP-0166 §7.2.8).
        let accepted = Dictionary(payload.contents.map { (ContentKey($0), $0) }, uniquingKeysWith: { a, _ in a })
        contentStates = contentStates.compactMap { state in
            guard let answer = accepted[ContentKey(state.content)] else { return state.accepted && state.addedBy == .initiator ? nil : state }
            var s = state
            s.content = answer
            s.accepted = true
            return s
        }
        state = .active
        return [.reply(iq.makeResult()),
                .cancelTimer(JingleTimer(.sessionInitiateAck, sid: sid, peer: peer)),
                .cancelTimer(JingleTimer(.sessionAccept, sid: sid, peer: peer)),
                .event(session: id, .received(payload))]
    }

    /// XEP-0166 §7.2.11: either party may end the session at any time; it is acknowledged and over.
    private mutating func receiveSessionTerminate(_ payload: JinglePayload, _ iq: IQ) -> [JingleAction] {
        state = .ended(Ended(reason: payload.reason, byPeer: true))
        return [.reply(iq.makeResult())] + cancelTimers() + [.event(session: id, .ended(payload.reason, byPeer: true))]
    }

    /// XEP-0166 §7.2.9: an empty session-info is a ping; a payload we do not understand gets
    /// feature-not-implemented + unsupported-info.
    private mutating func receiveSessionInfo(_ payload: JinglePayload, _ iq: IQ) -> [JingleAction] {
        if payload.info.contains(where: { $0.payload is UnknownJinglePayload || !configuration.registry.supportsInfo($0.payload.wireNamespace) })
            || !payload.extensions.isEmpty {
            return refuse(iq, .unsupportedInfo)
        }
        return acknowledge(iq, payload)
    }

    /// XEP-0166 §7.2.2: the sender adds contents it creates, each with description and transport. When both
    /// sides add a content of the same name at once, the initiator's wins (tie-break, conflict).
    private mutating func receiveContentAdd(_ payload: JinglePayload, _ iq: IQ) -> [JingleAction] {
        guard !payload.contents.isEmpty,
              payload.contents.allSatisfy({ $0.description != nil && $0.transport != nil && $0.creator == peerRole }) else {
            return badRequest(iq, "content-add needs contents created by the sender with description and transport (XEP-0166 §7.2.2)")
        }
        let existing = Set(contentStates.map { ContentKey($0.content) })
        if let dup = payload.contents.first(where: { existing.contains(ContentKey($0)) }) {
            return badRequest(iq, "content \(ContentKey(dup)) already exists")
        }
        let names = Set(payload.contents.map(\.name))
        let colliding = contentStates.filter { !$0.accepted && $0.addedBy == role && names.contains($0.content.name) }
        var actions: [JingleAction] = []
        if !colliding.isEmpty {
            if role == .initiator { return refuse(iq, .tieBreak) }
            contentStates.removeAll { s in colliding.contains { ContentKey($0.content) == ContentKey(s.content) } }
            actions.append(.event(session: id, .tieBreakLost(.contentAdd, contents: colliding.map(\.content.name))))
        }
        contentStates += payload.contents.map { ContentState(content: $0, accepted: false, addedBy: peerRole) }
        return acknowledge(iq, payload) + actions
    }

    /// XEP-0166 §7.2.1: accepts contents that we added and that are still waiting.
    private mutating func receiveContentAccept(_ payload: JinglePayload, _ iq: IQ) -> [JingleAction] {
        guard !payload.contents.isEmpty, payload.contents.allSatisfy({ awaitingAnswer(ContentKey($0)) }) else {
            return refuse(iq, .outOfOrder)
        }
        for content in payload.contents {
            update(ContentKey(content)) { $0.accepted = true; $0.content = Self.merged($0.content, with: content) }
        }
        return acknowledge(iq, payload)
    }

    /// XEP-0166 §7.2.4: declines contents that we added and that are still waiting.
    private mutating func receiveContentReject(_ payload: JinglePayload, _ iq: IQ) -> [JingleAction] {
        guard !payload.contents.isEmpty, payload.contents.allSatisfy({ awaitingAnswer(ContentKey($0)) }) else {
            return refuse(iq, .outOfOrder)
        }
        let keys = Set(payload.contents.map(ContentKey.init))
        contentStates.removeAll { keys.contains(ContentKey($0.content)) }
        return acknowledge(iq, payload)
    }

    /// XEP-0166 §7.2.3: changes who sends (§7.3 `senders`) on existing contents.
    private mutating func receiveContentModify(_ payload: JinglePayload, _ iq: IQ) -> [JingleAction] {
        guard !payload.contents.isEmpty, payload.contents.allSatisfy({ exists(ContentKey($0)) && $0.senders != nil }) else {
            return badRequest(iq, "content-modify needs existing contents with a senders attribute (XEP-0166 §7.2.3)")
        }
        for content in payload.contents {
            update(ContentKey(content)) { $0.content.senders = content.senders }
        }
        return acknowledge(iq, payload)
    }

    /// XEP-0166 §7.2.5: removes contents; if none remain, the session is void and we end it.
    private mutating func receiveContentRemove(_ payload: JinglePayload, _ iq: IQ) -> [JingleAction] {
        guard !payload.contents.isEmpty, payload.contents.allSatisfy({ exists(ContentKey($0)) }) else {
            return badRequest(iq, "content-remove names a content that does not exist (XEP-0166 §7.2.5)")
        }
        let keys = Set(payload.contents.map(ContentKey.init))
        contentStates.removeAll { keys.contains(ContentKey($0.content)) }
        var actions = acknowledge(iq, payload)
        if contentStates.isEmpty {
            actions += terminate(payload.reason ?? JingleReason(.success))
        }
        return actions
    }

    /// XEP-0166 §7.2.6 description-info, §7.2.7 security-info, §7.2.13 transport-info: information about
    /// existing contents (trickled candidates, new parameters); legal while pending and active.
    private mutating func receiveContentInfo(_ payload: JinglePayload, _ iq: IQ) -> [JingleAction] {
        guard !payload.contents.isEmpty, payload.contents.allSatisfy({ exists(ContentKey($0)) }) else {
            return badRequest(iq, "\(payload.action.rawValue) names a content that does not exist")
        }
        return acknowledge(iq, payload)
    }

    /// XEP-0166 §7.2.15: proposes another transport for existing contents. When both sides replace the same
    /// content's transport at once, the initiator's request wins (tie-break, conflict).
    private mutating func receiveTransportReplace(_ payload: JinglePayload, _ iq: IQ) -> [JingleAction] {
        guard !payload.contents.isEmpty, payload.contents.allSatisfy({ exists(ContentKey($0)) && $0.transport != nil }) else {
            return badRequest(iq, "transport-replace needs existing contents with a transport (XEP-0166 §7.2.15)")
        }
        let keys = Set(payload.contents.map(ContentKey.init))
        let colliding = contentStates.filter { keys.contains(ContentKey($0.content)) && $0.pendingReplacement?.by == role }
        var actions: [JingleAction] = []
        if !colliding.isEmpty {
            if role == .initiator { return refuse(iq, .tieBreak) }
            actions.append(.event(session: id, .tieBreakLost(.transportReplace, contents: colliding.map(\.content.name))))
        }
        let sender = peerRole
        for content in payload.contents {
            update(ContentKey(content)) { $0.pendingReplacement = PendingReplacement(by: sender, transport: content) }
        }
        return acknowledge(iq, payload) + actions
    }

    /// XEP-0166 §7.2.12: accepts our pending transport-replace; the new transport applies.
    private mutating func receiveTransportAccept(_ payload: JinglePayload, _ iq: IQ) -> [JingleAction] {
        guard !payload.contents.isEmpty, payload.contents.allSatisfy({ replacementPending(by: role, ContentKey($0)) }) else {
            return refuse(iq, .outOfOrder)
        }
        for content in payload.contents {
            update(ContentKey(content)) { s in
                if let proposed = s.pendingReplacement?.transport.transport { s.content.transport = content.transport ?? proposed }
                s.pendingReplacement = nil
            }
        }
        return acknowledge(iq, payload)
    }

    /// XEP-0166 §7.2.14: declines our pending transport-replace; the old transport stays.
    private mutating func receiveTransportReject(_ payload: JinglePayload, _ iq: IQ) -> [JingleAction] {
        guard !payload.contents.isEmpty, payload.contents.allSatisfy({ replacementPending(by: role, ContentKey($0)) }) else {
            return refuse(iq, .outOfOrder)
        }
        for content in payload.contents { update(ContentKey(content)) { $0.pendingReplacement = nil } }
        return acknowledge(iq, payload)
    }

    /// A reply to one of our requests (RFC 6120 §8.2.3).
    private mutating func receiveReply(_ iq: IQ) -> [JingleAction] {
        guard let requestID = iq.id, let request = outstanding.removeValue(forKey: requestID) else { return [] }
        if case .ended = state { return [] }
        if iq.type == .result {
            var actions: [JingleAction] = []
            if request.action == .sessionInitiate, case .pending(var p) = state {
                p.initiateAcknowledged = true
                state = .pending(p)
                actions.append(.cancelTimer(JingleTimer(.sessionInitiateAck, sid: sid, peer: peer)))
            }
            return actions + [.event(session: id, .acknowledged(request.action, id: requestID))]
        }
        let error = iq.error ?? StanzaError(.undefinedCondition)
        var actions: [JingleAction] = [.event(session: id, .requestFailed(request.action, id: requestID, error))]
        switch request.action {
        case .sessionInitiate, .sessionAccept:
            // XEP-0166 §6.3.2: an error to the initiation (or to our acceptance) means there is no session.
            state = .ended(Ended(reason: nil, byPeer: true))
            actions += cancelTimers() + [.event(session: id, .ended(nil, byPeer: true))]
        case .contentAdd:
            let keys = Set(request.contents)
            contentStates.removeAll { keys.contains(ContentKey($0.content)) && !$0.accepted }
            if JingleErrorCondition(error) == .tieBreak {
                actions.append(.event(session: id, .tieBreakLost(.contentAdd, contents: request.contents.map(\.name))))
            }
        case .transportReplace:
            for key in request.contents where replacementPending(by: role, key) { update(key) { $0.pendingReplacement = nil } }
            if JingleErrorCondition(error) == .tieBreak {
                actions.append(.event(session: id, .tieBreakLost(.transportReplace, contents: request.contents.map(\.name))))
            }
        case .contentAccept, .contentModify, .contentReject, .contentRemove, .descriptionInfo, .securityInfo,
             .sessionInfo, .sessionTerminate, .transportAccept, .transportInfo, .transportReject:
            break
        }
        return actions
    }

    // MARK: - Timers

    /// A timer we asked for has expired.
    public mutating func timerFired(_ timer: JingleTimer, now: ContinuousClock.Instant) -> [JingleAction] {
        guard timer.sid == sid, timer.peer == peer, case .pending(let p) = state else { return [] }
        switch timer.kind {
        case .sessionInitiateAck:
            // RFC 6120 §8.2.3 / XEP-0166 §6.3: no acknowledgement — give up with reason timeout (§7.4).
            guard !p.initiateAcknowledged else { return [] }
            return terminate(JingleReason(.timeout))
        case .sessionAccept:
            // Nobody answered the call: end it as expired (§7.4).
            return terminate(JingleReason(.expired))
        }
    }

    // MARK: - Sending

    /// XEP-0166 §7.2.8: the responder accepts, naming the contents it takes (each with description and transport).
    public mutating func sendSessionAccept(contents: [JingleContent], groups: [JingleGroup] = []) throws(JingleSessionError) -> [JingleAction] {
        guard role == .responder, case .pending = state else { throw illegal(.sessionAccept, "only the responder accepts, while pending") }
        guard !contents.isEmpty, contents.allSatisfy({ $0.description != nil && $0.transport != nil && exists(ContentKey($0)) }) else {
            throw illegal(.sessionAccept, "contents must be offered ones with description and transport")
        }
        let accepted = Dictionary(contents.map { (ContentKey($0), $0) }, uniquingKeysWith: { a, _ in a })
        contentStates = contentStates.compactMap { s in
            guard let answer = accepted[ContentKey(s.content)] else { return nil }
            var s = s
            s.content = answer
            return s
        }
        state = .active
        let payload = JinglePayload(action: .sessionAccept, sid: sid, initiator: initiator, responder: local, contents: contents, groups: groups)
        return [request(payload, contents: contents.map(ContentKey.init))]
    }

    /// XEP-0166 §7.2.11: ends the session at once (§6.7: it is over as soon as we send this).
    public mutating func sendSessionTerminate(reason: JingleReason) throws(JingleSessionError) -> [JingleAction] {
        if case .ended = state { throw illegal(.sessionTerminate, "already ended") }
        return terminate(reason)
    }

    /// XEP-0166 §7.2.9: informational payloads (none: a ping).
    public mutating func sendSessionInfo(_ info: [JingleInfo] = []) throws(JingleSessionError) -> [JingleAction] {
        try requireLive(.sessionInfo)
        return [request(JinglePayload(action: .sessionInfo, sid: sid, initiator: initiator, info: info), contents: [])]
    }

    /// XEP-0166 §7.2.13: e.g. trickled ICE candidates; allowed while pending.
    public mutating func sendTransportInfo(_ contents: [JingleContent]) throws(JingleSessionError) -> [JingleAction] {
        try sendContentInfo(.transportInfo, contents)
    }

    /// XEP-0166 §7.2.6.
    public mutating func sendDescriptionInfo(_ contents: [JingleContent]) throws(JingleSessionError) -> [JingleAction] {
        try sendContentInfo(.descriptionInfo, contents)
    }

    /// XEP-0166 §7.2.7.
    public mutating func sendSecurityInfo(_ contents: [JingleContent]) throws(JingleSessionError) -> [JingleAction] {
        try sendContentInfo(.securityInfo, contents)
    }

    /// XEP-0166 §7.2.2: proposes new contents created by us.
    public mutating func sendContentAdd(_ contents: [JingleContent], groups: [JingleGroup] = []) throws(JingleSessionError) -> [JingleAction] {
        try requireLive(.contentAdd)
        guard !contents.isEmpty, contents.allSatisfy({ $0.creator == role && $0.description != nil && $0.transport != nil && !exists(ContentKey($0)) }) else {
            throw illegal(.contentAdd, "new contents created by us, with description and transport")
        }
        contentStates += contents.map { ContentState(content: $0, accepted: false, addedBy: role) }
        return [request(JinglePayload(action: .contentAdd, sid: sid, initiator: initiator, contents: contents, groups: groups), contents: contents.map(ContentKey.init))]
    }

    /// XEP-0166 §7.2.1: accepts contents the peer added.
    public mutating func sendContentAccept(_ contents: [JingleContent]) throws(JingleSessionError) -> [JingleAction] {
        try requireLive(.contentAccept)
        guard !contents.isEmpty, contents.allSatisfy({ awaitingOurAnswer(ContentKey($0)) }) else {
            throw illegal(.contentAccept, "only contents the peer added and that wait for an answer")
        }
        for c in contents { update(ContentKey(c)) { $0.accepted = true; $0.content = Self.merged($0.content, with: c) } }
        return [request(JinglePayload(action: .contentAccept, sid: sid, initiator: initiator, contents: contents), contents: contents.map(ContentKey.init))]
    }

    /// XEP-0166 §7.2.4: declines contents the peer added.
    public mutating func sendContentReject(_ contents: [JingleContent], reason: JingleReason? = nil) throws(JingleSessionError) -> [JingleAction] {
        try requireLive(.contentReject)
        guard !contents.isEmpty, contents.allSatisfy({ awaitingOurAnswer(ContentKey($0)) }) else {
            throw illegal(.contentReject, "only contents the peer added and that wait for an answer")
        }
        let keys = Set(contents.map(ContentKey.init))
        contentStates.removeAll { keys.contains(ContentKey($0.content)) }
        return [request(JinglePayload(action: .contentReject, sid: sid, initiator: initiator, contents: contents.map(\.reference), reason: reason), contents: Array(keys))]
    }

    /// XEP-0166 §7.2.3: changes `senders` of existing contents (§7.3).
    public mutating func sendContentModify(_ contents: [JingleContent]) throws(JingleSessionError) -> [JingleAction] {
        try requireLive(.contentModify)
        guard !contents.isEmpty, contents.allSatisfy({ exists(ContentKey($0)) && $0.senders != nil }) else {
            throw illegal(.contentModify, "existing contents with senders")
        }
        for c in contents { update(ContentKey(c)) { $0.content.senders = c.senders } }
        return [request(JinglePayload(action: .contentModify, sid: sid, initiator: initiator, contents: contents), contents: contents.map(ContentKey.init))]
    }

    /// XEP-0166 §7.2.5: removes contents; removing the last one ends the session instead (§7.2.5: a session
    /// without contents is void).
    public mutating func sendContentRemove(_ contents: [JingleContent], reason: JingleReason? = nil) throws(JingleSessionError) -> [JingleAction] {
        try requireLive(.contentRemove)
        guard !contents.isEmpty, contents.allSatisfy({ exists(ContentKey($0)) }) else { throw illegal(.contentRemove, "existing contents only") }
        let keys = Set(contents.map(ContentKey.init))
        contentStates.removeAll { keys.contains(ContentKey($0.content)) }
        return [request(JinglePayload(action: .contentRemove, sid: sid, initiator: initiator, contents: contents.map(\.reference), reason: reason), contents: Array(keys))]
    }

    /// XEP-0166 §7.2.15: proposes a different transport for existing contents (e.g. IBB after S5B failed).
    public mutating func sendTransportReplace(_ contents: [JingleContent]) throws(JingleSessionError) -> [JingleAction] {
        try requireLive(.transportReplace)
        guard !contents.isEmpty, contents.allSatisfy({ exists(ContentKey($0)) && $0.transport != nil && !replacementPending(by: role, ContentKey($0)) }) else {
            throw illegal(.transportReplace, "existing contents with a transport and no replacement of ours pending")
        }
        let sender = role
        for c in contents { update(ContentKey(c)) { $0.pendingReplacement = PendingReplacement(by: sender, transport: c) } }
        return [request(JinglePayload(action: .transportReplace, sid: sid, initiator: initiator, contents: contents), contents: contents.map(ContentKey.init))]
    }

    /// XEP-0166 §7.2.12: accepts the peer's transport-replace.
    public mutating func sendTransportAccept(_ contents: [JingleContent]) throws(JingleSessionError) -> [JingleAction] {
        try requireLive(.transportAccept)
        guard !contents.isEmpty, contents.allSatisfy({ replacementPending(by: peerRole, ContentKey($0)) }) else {
            throw illegal(.transportAccept, "only contents with a transport-replace from the peer pending")
        }
        for c in contents {
            update(ContentKey(c)) { s in
                s.content.transport = c.transport ?? s.pendingReplacement?.transport.transport
                s.pendingReplacement = nil
            }
        }
        return [request(JinglePayload(action: .transportAccept, sid: sid, initiator: initiator, contents: contents), contents: contents.map(ContentKey.init))]
    }

    /// XEP-0166 §7.2.14: declines the peer's transport-replace.
    public mutating func sendTransportReject(_ contents: [JingleContent]) throws(JingleSessionError) -> [JingleAction] {
        try requireLive(.transportReject)
        guard !contents.isEmpty, contents.allSatisfy({ replacementPending(by: peerRole, ContentKey($0)) }) else {
            throw illegal(.transportReject, "only contents with a transport-replace from the peer pending")
        }
        for c in contents { update(ContentKey(c)) { $0.pendingReplacement = nil } }
        return [request(JinglePayload(action: .transportReject, sid: sid, initiator: initiator, contents: contents), contents: contents.map(ContentKey.init))]
    }

    // MARK: - Helpers

    private mutating func sendContentInfo(_ action: JingleWireAction, _ contents: [JingleContent]) throws(JingleSessionError) -> [JingleAction] {
        try requireLive(action)
        guard !contents.isEmpty, contents.allSatisfy({ exists(ContentKey($0)) }) else { throw illegal(action, "existing contents only") }
        return [request(JinglePayload(action: action, sid: sid, initiator: initiator, contents: contents), contents: contents.map(ContentKey.init))]
    }

    private mutating func request(_ payload: JinglePayload, contents: [ContentKey]) -> JingleAction {
        let id = ids.next()
        outstanding[id] = Outstanding(action: payload.action, contents: contents)
        return .send(IQ(type: .set, id: id, from: local, to: peer, payload: payload.element()))
    }

    /// Sends session-terminate and ends the session (XEP-0166 §6.7: ended as soon as it is sent).
    private mutating func terminate(_ reason: JingleReason) -> [JingleAction] {
        let send = request(JinglePayload(action: .sessionTerminate, sid: sid, initiator: initiator, reason: reason), contents: [])
        state = .ended(Ended(reason: reason, byPeer: false))
        return [send] + cancelTimers() + [.event(session: id, .ended(reason, byPeer: false))]
    }

    private func cancelTimers() -> [JingleAction] {
        guard role == .initiator else { return [] }
        return [.cancelTimer(JingleTimer(.sessionInitiateAck, sid: sid, peer: peer)),
                .cancelTimer(JingleTimer(.sessionAccept, sid: sid, peer: peer))]
    }

    private func acknowledge(_ iq: IQ, _ payload: JinglePayload) -> [JingleAction] {
        [.reply(iq.makeResult()), .event(session: id, .received(payload))]
    }

    private func refuse(_ iq: IQ, _ condition: JingleErrorCondition) -> [JingleAction] {
        [.reply(iq.makeError(condition.stanzaError))]
    }

    private func badRequest(_ iq: IQ, _ text: String) -> [JingleAction] {
        [.reply(iq.makeError(StanzaError(.badRequest, text: text)))]
    }

    private func requireLive(_ action: JingleWireAction) throws(JingleSessionError) {
        if case .ended = state { throw illegal(action, "the session has ended") }
    }

    private func illegal(_ action: JingleWireAction, _ detail: String) -> JingleSessionError {
        JingleSessionError(action: action, phase: phase, detail: detail)
    }

    private func exists(_ key: ContentKey) -> Bool { contentStates.contains { ContentKey($0.content) == key } }

    /// A content we added that waits for the peer's content-accept/-reject.
    private func awaitingAnswer(_ key: ContentKey) -> Bool {
        contentStates.contains { ContentKey($0.content) == key && !$0.accepted && $0.addedBy == role }
    }

    /// A content the peer added that waits for our answer.
    private func awaitingOurAnswer(_ key: ContentKey) -> Bool {
        contentStates.contains { ContentKey($0.content) == key && !$0.accepted && $0.addedBy == peerRole }
    }

    private func replacementPending(by party: JingleRole, _ key: ContentKey) -> Bool {
        contentStates.contains { ContentKey($0.content) == key && $0.pendingReplacement?.by == party }
    }

    private mutating func update(_ key: ContentKey, _ body: (inout ContentState) -> Void) {
        if let i = contentStates.firstIndex(where: { ContentKey($0.content) == key }) { body(&contentStates[i]) }
    }

    /// An answer may carry only part of a content (e.g. no transport); keep what it leaves out.
    private static func merged(_ old: JingleContent, with answer: JingleContent) -> JingleContent {
        var c = answer
        if c.description == nil { c.description = old.description }
        if c.transport == nil { c.transport = old.transport }
        if c.security == nil { c.security = old.security }
        return c
    }
}
