import Foundation
import Testing
import XMLStream
import XMPPCore
@testable import Jingle

/// Where the local machine stands when the request arrives: phase × our role.
enum Situation: String, CaseIterable, CustomTestStringConvertible {
    case pendingInitiator, pendingResponder, activeInitiator, activeResponder, endedInitiator, endedResponder

    var role: JingleRole { rawValue.hasSuffix("Initiator") ? .initiator : .responder }
    var phase: JingleSession.Phase {
        if rawValue.hasPrefix("pending") { return .pending }
        if rawValue.hasPrefix("active") { return .active }
        return .ended
    }
    var testDescription: String { rawValue }
}

/// What we did before the request, so that answers (content-accept, transport-accept, …) have something to answer.
enum Preparation { case none, ourContentAdd, ourTransportReplace }

let sid = "S1"
let me = alice
let them = bob

let ibb = IBBTransport(blockSize: 4096, sid: "ibb-1")

/// Builds a session of `situation` with `me` as local party and `them` as peer.
func makeSession(_ situation: Situation, _ preparation: Preparation) throws -> JingleSession {
    var session: JingleSession
    let config = JingleSession.Configuration()
    switch situation.role {
    case .initiator:
        session = try JingleSession.sendSessionInitiate(sid: sid, local: me, peer: them, contents: [audioContent()],
                                                        ids: SequentialIDGenerator(prefix: "m"), now: t0).0
        if situation.phase != .pending {
            let accept = IQ(type: .set, id: "acc", from: them, to: me,
                            payload: JinglePayload(action: .sessionAccept, sid: sid, responder: them, contents: [audioContent()]).element())
            #expect(answer(to: accept, in: session.receive(accept, now: t0)) == .result)
        }
    case .responder:
        let initiate = IQ(type: .set, id: "ini", from: them, to: me,
                          payload: JinglePayload(action: .sessionInitiate, sid: sid, initiator: them, contents: [audioContent()]).element())
        let (made, actions) = JingleSession.receiveSessionInitiate(initiate, local: me, configuration: config, ids: SequentialIDGenerator(prefix: "m"), now: t0)
        #expect(answer(to: initiate, in: actions) == .result)
        session = try #require(made)
        if situation.phase != .pending { _ = try session.sendSessionAccept(contents: [audioContent()]) }
    }
    switch preparation {
    case .none: break
    case .ourContentAdd: _ = try session.sendContentAdd([audioContent("local-extra", creator: situation.role)])
    case .ourTransportReplace:
        _ = try session.sendTransportReplace([JingleContent(creator: .initiator, name: "voice", transport: ibb)])
    }
    if situation.phase == .ended { _ = try session.sendSessionTerminate(reason: JingleReason(.success)) }
    #expect(session.phase == situation.phase)
    return session
}

/// A well-formed request of each action, as the peer (whose role is `peerRole`) would send it.
func peerPayload(_ action: JingleWireAction, peerRole: JingleRole) -> JinglePayload {
    let ours = peerRole.other
    let voice = JingleContent(creator: .initiator, name: "voice")
    var contents: [JingleContent] = []
    var reason: JingleReason?
    var info: [JingleInfo] = []
    switch action {
    case .contentAccept: contents = [audioContent("local-extra", creator: ours)]
    case .contentReject: contents = [JingleContent(creator: ours, name: "local-extra")]
    case .contentAdd: contents = [audioContent("peer-extra", creator: peerRole)]
    case .contentModify: contents = [JingleContent(creator: .initiator, name: "voice", senders: .initiator)]
    case .contentRemove: contents = [voice]
    case .descriptionInfo: contents = [JingleContent(creator: .initiator, name: "voice", description: RTPDescription(media: "audio", payloadTypes: [RTPPayloadType(id: 0, name: "PCMU", clockrate: 8000)]))]
    case .securityInfo: contents = [JingleContent(creator: .initiator, name: "voice", security: UnknownJinglePayload(element: XMLElement(name: "security", namespace: "urn:xmpp:jingle:security:xtls:0")))]
    case .sessionAccept: contents = [audioContent()]
    case .sessionInfo: info = [JingleInfo(RTPSessionInfo.ringing)]
    case .sessionInitiate: contents = [audioContent()]
    case .sessionTerminate: reason = JingleReason(.success)
    case .transportAccept, .transportReject, .transportReplace: contents = [JingleContent(creator: .initiator, name: "voice", transport: ibb)]
    case .transportInfo: contents = [JingleContent(creator: .initiator, name: "voice", transport: iceTransport(candidates: [hostCandidate(40000)]))]
    }
    return JinglePayload(action: action, sid: sid, contents: contents, reason: reason, info: info)
}

func preparation(for action: JingleWireAction) -> Preparation {
    switch action {
    case .contentAccept, .contentReject: .ourContentAdd
    case .transportAccept, .transportReject: .ourTransportReplace
    default: .none
    }
}

let ack = Answer.result
let ooo = Answer.error(.jingle(.outOfOrder))
let unk = Answer.error(.jingle(.unknownSession))
let tie = Answer.error(.jingle(.tieBreak))

/// XEP-0166 §7.2 per action, columns in `Situation` order:
/// pendingInitiator, pendingResponder, activeInitiator, activeResponder, endedInitiator, endedResponder.
/// Ended sessions answer everything with unknown-session (§6.7).
let expectedFromPeer: [JingleWireAction: [Answer]] = [
    .contentAccept:    [ack, ack, ack, ack, unk, unk],   // §7.2.1 (answers our content-add)
    .contentAdd:       [ack, ack, ack, ack, unk, unk],   // §7.2.2
    .contentModify:    [ack, ack, ack, ack, unk, unk],   // §7.2.3
    .contentReject:    [ack, ack, ack, ack, unk, unk],   // §7.2.4 (answers our content-add)
    .contentRemove:    [ack, ack, ack, ack, unk, unk],   // §7.2.5
    .descriptionInfo:  [ack, ack, ack, ack, unk, unk],   // §7.2.6
    .securityInfo:     [ack, ack, ack, ack, unk, unk],   // §7.2.7
    .sessionAccept:    [ack, ooo, ooo, ooo, unk, unk],   // §7.2.8: responder only, pending only
    .sessionInfo:      [ack, ack, ack, ack, unk, unk],   // §7.2.9
    .sessionInitiate:  [tie, ooo, ooo, ooo, unk, unk],   // §7.2.10 + tie-breaking: same sid from both sides
    .sessionTerminate: [ack, ack, ack, ack, unk, unk],   // §7.2.11
    .transportAccept:  [ack, ack, ack, ack, unk, unk],   // §7.2.12 (answers our transport-replace)
    .transportInfo:    [ack, ack, ack, ack, unk, unk],   // §7.2.13
    .transportReject:  [ack, ack, ack, ack, unk, unk],   // §7.2.14 (answers our transport-replace)
    .transportReplace: [ack, ack, ack, ack, unk, unk],   // §7.2.15
]

/// Answers with nothing to answer (no content-add or transport-replace of ours pending) are out of order.
let expectedUnprepared: [JingleWireAction: [Answer]] = [
    .contentAccept:   [ooo, ooo, ooo, ooo, unk, unk],
    .contentReject:   [ooo, ooo, ooo, ooo, unk, unk],
    .transportAccept: [ooo, ooo, ooo, ooo, unk, unk],
    .transportReject: [ooo, ooo, ooo, ooo, unk, unk],
]

/// Phase after an acknowledged request, where it changes.
func expectedPhase(after action: JingleWireAction, answer: Answer, from situation: Situation) -> JingleSession.Phase {
    guard answer == .result else { return situation.phase }
    switch action {
    case .sessionAccept: return .active
    case .sessionTerminate: return .ended
    case .contentRemove: return .ended   // the only content is gone: the session is void (§7.2.5)
    default: return situation.phase
    }
}

@Suite struct SessionTransitionTests {
    @Test(arguments: JingleWireAction.allCases, Situation.allCases)
    func requestFromPeer(_ action: JingleWireAction, _ situation: Situation) throws {
        var session = try makeSession(situation, preparation(for: action))
        let iq = IQ(type: .set, id: "req", from: them, to: me, payload: peerPayload(action, peerRole: situation.role.other).element())
        let actions = session.receive(iq, now: t0)
        let expected = try #require(expectedFromPeer[action]?[Situation.allCases.firstIndex(of: situation)!])
        #expect(answer(to: iq, in: actions) == expected)
        #expect(session.phase == expectedPhase(after: action, answer: expected, from: situation))
        // An acknowledged request reaches the application; a refused one does not.
        let told = events(actions).contains {
            switch $0 {
            case .received(let p): p.action == action
            case .ended(_, let byPeer): action == .sessionTerminate && byPeer
            default: false
            }
        }
        #expect(told == (expected == .result))
    }

    @Test(arguments: Array(expectedUnprepared.keys), Situation.allCases)
    func answerWithoutRequestIsOutOfOrder(_ action: JingleWireAction, _ situation: Situation) throws {
        var session = try makeSession(situation, .none)
        let iq = IQ(type: .set, id: "req", from: them, to: me, payload: peerPayload(action, peerRole: situation.role.other).element())
        let expected = try #require(expectedUnprepared[action]?[Situation.allCases.firstIndex(of: situation)!])
        #expect(answer(to: iq, in: session.receive(iq, now: t0)) == expected)
    }

    /// XEP-0166 §7.1: a session is bound to its two parties; the same request from anyone else is answered as
    /// for an unknown session and changes nothing (a session-accept from a third party cannot hijack the call).
    @Test(arguments: JingleWireAction.allCases, Situation.allCases)
    func requestFromThirdParty(_ action: JingleWireAction, _ situation: Situation) throws {
        var session = try makeSession(situation, preparation(for: action))
        let iq = IQ(type: .set, id: "req", from: mallory, to: me, payload: peerPayload(action, peerRole: situation.role.other).element())
        let actions = session.receive(iq, now: t0)
        #expect(answer(to: iq, in: actions) == unk)
        #expect(events(actions).isEmpty)
        #expect(session.phase == situation.phase)
    }

    @Test(arguments: [Situation.pendingInitiator, .activeResponder])
    func unknownSessionInfoPayloadIsUnsupportedInfo(_ situation: Situation) throws {
        var session = try makeSession(situation, .none)
        var payload = JinglePayload(action: .sessionInfo, sid: sid)
        payload.info = [JingleInfo(UnknownJinglePayload(element: XMLElement(name: "queued", namespace: "urn:example:info")))]
        let iq = IQ(type: .set, id: "info", from: them, to: me, payload: payload.element())
        #expect(answer(to: iq, in: session.receive(iq, now: t0)) == .error(.jingle(.unsupportedInfo)))
        // A message the RTP info namespace does not define is not understood either.
        payload.info = [JingleInfo(UnknownJinglePayload(element: XMLElement(name: "queued", namespace: NS.jingleRTPInfo)))]
        let queued = IQ(type: .set, id: "queued", from: them, to: me, payload: payload.element())
        #expect(answer(to: queued, in: session.receive(queued, now: t0)) == .error(.jingle(.unsupportedInfo)))
        // A known message with a missing required attribute is malformed (XEP-0167 §5: mute needs creator).
        payload.info = [JingleInfo(UnknownJinglePayload(element: XMLElement(name: "mute", namespace: NS.jingleRTPInfo)))]
        let badMute = IQ(type: .set, id: "mute", from: them, to: me, payload: payload.element())
        #expect(answer(to: badMute, in: session.receive(badMute, now: t0)) == .error(.badRequest))
        // An empty session-info is a ping (§7.2.9) and is acknowledged.
        let ping = IQ(type: .set, id: "ping", from: them, to: me, payload: JinglePayload(action: .sessionInfo, sid: sid).element())
        #expect(answer(to: ping, in: session.receive(ping, now: t0)) == .result)
    }

    @Test func malformedAndSemanticallyBadRequestsAreBadRequest() throws {
        var session = try makeSession(.activeInitiator, .none)
        let broken = try XMLElement(parsing: "<jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='S1'><content name='voice'/></jingle>")
        let cases: [XMLElement] = [
            broken,
            JinglePayload(action: .transportInfo, sid: sid, contents: [JingleContent(creator: .initiator, name: "nonexistent", transport: ibb)]).element(),
            JinglePayload(action: .contentModify, sid: sid, contents: [JingleContent(creator: .initiator, name: "voice")]).element(),
            JinglePayload(action: .contentAdd, sid: sid, contents: [JingleContent(creator: .responder, name: "no-description")]).element(),
            JinglePayload(action: .transportInfo, sid: sid, initiator: mallory, contents: [JingleContent(creator: .initiator, name: "voice", transport: ibb)]).element(),
        ]
        for (n, payload) in cases.enumerated() {
            let iq = IQ(type: .set, id: "bad\(n)", from: them, to: me, payload: payload)
            #expect(answer(to: iq, in: session.receive(iq, now: t0)) == .error(.badRequest), "case \(n)")
        }
        #expect(session.phase == .active)
        let wrongSid = IQ(type: .set, id: "ws", from: them, to: me, payload: JinglePayload(action: .sessionInfo, sid: "other").element())
        #expect(answer(to: wrongSid, in: session.receive(wrongSid, now: t0)) == unk)
    }

    /// XEP-0166 §7.4: every reason condition travels in session-terminate and reaches the peer's application.
    @Test(arguments: JingleReason.Condition.allCases)
    func sessionTerminateWithEveryReason(_ condition: JingleReason.Condition) throws {
        var local = try makeSession(.activeInitiator, .none)
        let reason = JingleReason(condition, text: "because", alternativeSessionID: condition == .alternativeSession ? "S2" : nil)
        let sent = try #require(sentIQs(try local.sendSessionTerminate(reason: reason)).first)
        #expect(local.phase == .ended && local.endReason == reason)
        var remote = try makeSession(.activeResponder, .none)
        // The same stanza as the remote machine (where `them` initiated) receives it.
        var payload = try #require(try sent.jingle())
        #expect(payload.reason == reason)
        payload.initiator = them
        let incoming = IQ(type: .set, id: sent.id ?? "", from: them, to: me, payload: payload.element())
        let actions = remote.receive(incoming, now: t0)
        #expect(answer(to: incoming, in: actions) == .result)
        #expect(events(actions).contains(.ended(reason, byPeer: true)))
        #expect(remote.endReason == reason)
        // XEP-0166 §6.7: after the end, further requests are for an unknown session.
        let late = IQ(type: .set, id: "late", from: them, to: me, payload: JinglePayload(action: .sessionInfo, sid: sid).element())
        #expect(answer(to: late, in: remote.receive(late, now: t0)) == unk)
    }

    /// An unanswered session-initiate times out: the machine asked for a timer, and when it fires it ends the
    /// session with reason timeout.
    @Test func unansweredSessionInitiateTimesOut() throws {
        let (started, actions) = try JingleSession.sendSessionInitiate(sid: sid, local: me, peer: them, contents: [audioContent()],
                                                                       configuration: .init(ackTimeout: .seconds(5), acceptTimeout: .seconds(60)),
                                                                       ids: SequentialIDGenerator(prefix: "m"), now: t0)
        var session = started
        let ackTimer = JingleTimer(.sessionInitiateAck, sid: sid, peer: them)
        #expect(actions.contains(.scheduleTimer(ackTimer, deadline: t0 + .seconds(5))))
        #expect(actions.contains(.scheduleTimer(JingleTimer(.sessionAccept, sid: sid, peer: them), deadline: t0 + .seconds(60))))
        let fired = session.timerFired(ackTimer, now: t0 + .seconds(5))
        let terminate = try #require(sentIQs(fired).first)
        let payload = try #require(try terminate.jingle())
        #expect(payload.action == .sessionTerminate && payload.reason?.condition == .timeout)
        #expect(session.phase == .ended)
        #expect(events(fired).contains(.ended(JingleReason(.timeout), byPeer: false)))
    }

    @Test func acknowledgedInitiateDisarmsTheAckTimer() throws {
        let (started, actions) = try JingleSession.sendSessionInitiate(sid: sid, local: me, peer: them, contents: [audioContent()],
                                                                       ids: SequentialIDGenerator(prefix: "m"), now: t0)
        var session = started
        let initiate = try #require(sentIQs(actions).first)
        var result = initiate.makeResult()
        result.from = them
        let after = session.receive(result, now: t0)
        #expect(after.contains(.cancelTimer(JingleTimer(.sessionInitiateAck, sid: sid, peer: them))))
        #expect(after.contains(.event(session: session.id, .acknowledged(.sessionInitiate, id: initiate.id ?? ""))))
        #expect(session.timerFired(JingleTimer(.sessionInitiateAck, sid: sid, peer: them), now: t0 + .seconds(60)).isEmpty)
        // The accept timer still runs: nobody answers, the call expires.
        let expired = session.timerFired(JingleTimer(.sessionAccept, sid: sid, peer: them), now: t0 + .seconds(120))
        #expect(try sentIQs(expired).first?.jingle()?.reason?.condition == .expired)
    }

    @Test func errorToSessionInitiateEndsTheSession() throws {
        let (started, actions) = try JingleSession.sendSessionInitiate(sid: sid, local: me, peer: them, contents: [audioContent()],
                                                                       ids: SequentialIDGenerator(prefix: "m"), now: t0)
        var session = started
        let initiate = try #require(sentIQs(actions).first)
        var error = initiate.makeError(StanzaError(.serviceUnavailable))
        error.from = them
        let after = session.receive(error, now: t0)
        #expect(session.phase == .ended)
        #expect(events(after).contains(.ended(nil, byPeer: true)))
    }

    /// Our own mistakes throw a typed error instead of producing bad stanzas.
    @Test func illegalLocalSendsThrow() throws {
        var responder = try makeSession(.activeResponder, .none)
        #expect(throws: JingleSessionError.self) { try responder.sendSessionAccept(contents: [audioContent()]) }
        #expect(throws: JingleSessionError.self) { try responder.sendContentAccept([audioContent("nothing-pending")]) }
        #expect(throws: JingleSessionError.self) { try responder.sendTransportAccept([JingleContent(creator: .initiator, name: "voice", transport: ibb)]) }
        var initiator = try makeSession(.pendingInitiator, .none)
        #expect(throws: JingleSessionError.self) { try initiator.sendSessionAccept(contents: [audioContent()]) }
        _ = try initiator.sendSessionTerminate(reason: JingleReason(.cancel))
        #expect(throws: JingleSessionError.self) { try initiator.sendTransportInfo([audioContent()]) }
    }
}
