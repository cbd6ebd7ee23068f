import Foundation
import Jingle
import JingleEngine
import JingleSDP
import Logging
import SDP
import SIP
import XMPPCore
import XMPPLink

/// What the gateway has done so far (printed on SIGUSR1 and at exit by `jingle gateway`).
public struct GatewayCounters: Sendable, Equatable, CustomStringConvertible {
    public var calls = 0
    public var active = 0
    public var completed = 0
    /// Failed calls by reason (`busy`, `decline`, `unavailable`, `cancel`, `bad-sdp`, `no-mapping`, …).
    public var failed: [String: Int] = [:]
    public var failedTotal: Int { failed.values.reduce(0, +) }

    public init() {}

    public var description: String {
        let reasons = failed.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return "calls=\(calls) active=\(active) completed=\(completed) failed=\(failedTotal)" + (reasons.isEmpty ? "" : " (\(reasons))")
    }
}

/// A SIP <-> XMPP Jingle gateway (draft-ietf-stox-media), signalling only: SDP and Jingle are translated,
/// media flows end to end between the SIP and the Jingle party.
///
/// ```
/// let sip = try await SIPEndpoint.start(.init(host: "127.0.0.1", port: 5060))
/// let component = XMPPComponent(.init(domain: try JID("jingle.localhost"), secret: s, host: "127.0.0.1", port: 5347))
/// try await component.connect()
/// let gateway = SIPGateway(sip: sip, xmpp: component, localJID: try JID("jingle.localhost"),
///                          configuration: .init(addressMap: try GatewayAddressMap(...)))
/// await gateway.start()
/// ```
///
/// SIP -> XMPP: INVITE (SDP offer) -> session-initiate; session-info ringing -> 180; session-accept (plus the
/// transport-info that follows within `candidateWait`) -> 200 with the answer; BYE <-> session-terminate
/// success; CANCEL -> terminate cancel; busy -> 486, decline -> 603, no answer / error -> 480.
/// XMPP -> SIP: session-initiate to `user@gateway` (plus trickled candidates within `candidateWait`) -> INVITE;
/// 180 -> ringing; 200 -> session-accept; failures -> terminate with the mapped reason.
public actor SIPGateway {
    public struct Configuration: Sendable {
        public var addressMap: GatewayAddressMap
        /// How long to wait for transport-info after a session-initiate/accept before writing the SDP
        /// (candidates are gathered, not trickled, towards SIP: the `urn:ietf:rfc:3264` style).
        public var candidateWait: Duration
        public var mapper: JingleSDPMapper

        public init(addressMap: GatewayAddressMap, candidateWait: Duration = .milliseconds(200),
                    mapper: JingleSDPMapper = JingleSDPMapper(options: .init(foundations: .numeric))) {
            self.addressMap = addressMap
            self.candidateWait = candidateWait
            self.mapper = mapper
        }
    }

    public nonisolated let sip: SIPEndpoint
    public nonisolated let engine: JingleEngine
    public nonisolated let configuration: Configuration
    private let link: RecipientTrackingSession
    private let logger: Logger
    private var counters = GatewayCounters()
    private var tasks: [Task<Void, Never>] = []

    public init(sip: SIPEndpoint, xmpp: any XMPPSession, localJID: JID, configuration: Configuration,
                logger: Logger = Logger(label: "swiftjingle.gateway")) {
        self.sip = sip
        let link = RecipientTrackingSession(xmpp)
        self.link = link
        self.engine = JingleEngine(link: link, localJID: localJID, idPrefix: "gw", logger: logger)
        self.configuration = configuration
        self.logger = logger
    }

    public func counterSnapshot() -> GatewayCounters { counters }

    /// Starts answering both sides.
    public func start() async {
        await engine.start()
        // XEP-0167 RTP sessions over ICE-UDP and raw UDP; 3264 = we gather rather than trickle towards SIP.
        await engine.advertise([NS.jingleRTP, NS.jingleRTPAudio, NS.jingleICEUDP, NS.jingleRawUDP, "urn:ietf:rfc:3264"])
        let sipCalls = sip.incomingCalls
        tasks.append(Task { [weak self] in
            await withDiscardingTaskGroup { group in
                for await call in sipCalls {
                    group.addTask { await self?.bridgeFromSIP(call) }
                }
            }
        })
        let sessions = engine.incomingSessions
        tasks.append(Task { [weak self] in
            await withDiscardingTaskGroup { group in
                for await session in sessions {
                    group.addTask { await self?.bridgeFromXMPP(session) }
                }
            }
        })
    }

    /// Stops answering: ends the engine's streams (calls in progress are not terminated).
    public func stop() async {
        for task in tasks { task.cancel() }
        await engine.stop()
    }

    /// `stop()`, then closes the XMPP link and the SIP endpoint.
    public func shutdown() async {
        await stop()
        await link.close()
        await sip.shutdown()
    }

    // MARK: bookkeeping

    private func began() { counters.calls += 1; counters.active += 1 }
    private func ended(failure: String?) {
        counters.active -= 1
        if let failure { counters.failed[failure, default: 0] += 1 } else { counters.completed += 1 }
    }

    // MARK: SIP -> XMPP

    private enum Input: Sendable {
        case sip(SIPCallEvent)
        case jingle(JingleEvent)
        case flush
        case sipFinished
        case jingleFinished
    }

    private static func merged(sip: AsyncStream<SIPCallEvent>, jingle: AsyncStream<JingleEvent>) -> (AsyncStream<Input>, AsyncStream<Input>.Continuation, [Task<Void, Never>]) {
        let (stream, continuation) = AsyncStream.makeStream(of: Input.self)
        let a = Task { for await e in sip { continuation.yield(.sip(e)) }; continuation.yield(.sipFinished) }
        let b = Task { for await e in jingle { continuation.yield(.jingle(e)) }; continuation.yield(.jingleFinished) }
        return (stream, continuation, [a, b])
    }

    private func bridgeFromSIP(_ incoming: IncomingCall) async {
        began()
        let callID = incoming.info.callID
        let uri = incoming.info.requestURI
        let target = "sip:\(uri.user.map { "\($0)@" } ?? "")\(uri.host)"
        guard let mapped = configuration.addressMap.jid(forSIP: target), let jid = try? JID(mapped) else {
            logger.notice("call sip=\(callID) to \(target): no mapping -> 404")
            try? await incoming.reject(status: 404)
            ended(failure: "no-mapping")
            return
        }
        guard let offerText = incoming.sdp else {
            // A delayed offer would need the Jingle side to offer first: not mapped (draft-ietf-stox-media §5).
            logger.notice("call sip=\(callID): INVITE without SDP -> 488")
            try? await incoming.reject(status: 488)
            ended(failure: "no-offer")
            return
        }
        let payload: JinglePayload
        do {
            let offer = try SessionDescription(parsing: offerText)
            payload = try configuration.mapper.jingle(from: offer, context: .init(author: .initiator, action: .sessionInitiate,
                                                                                   initiator: engine.localJID, responder: jid))
        } catch {
            logger.notice("call sip=\(callID): unmappable SDP (\(error)) -> 488")
            try? await incoming.reject(status: 488)
            ended(failure: "bad-sdp")
            return
        }
        let handle: JingleSessionHandle
        do {
            handle = try await engine.initiate(to: jid, contents: payload.contents, groups: payload.groups)
        } catch {
            logger.notice("call sip=\(callID): session-initiate failed (\(error)) -> 480")
            try? await incoming.reject(status: 480)
            ended(failure: "unavailable")
            return
        }
        let sid = handle.id.sid
        logger.info("call sip=\(callID) jingle=\(sid) \(incoming.info.from.uri) -> \(jid)")
        let (inputs, continuation, feeders) = Self.merged(sip: incoming.events, jingle: handle.events)
        defer { for f in feeders { f.cancel() }; continuation.finish() }

        var answered = false
        var accept: [JingleContent]?
        var failure: String?
        var sipDone = false, jingleDone = false
        loop: for await input in inputs {
            switch input {
            case .jingle(.received(let p)):
                switch p.action {
                case .sessionInfo where p.info.contains(where: { ($0.payload as? RTPSessionInfo) == .ringing }):
                    if !answered { try? await incoming.ring() }
                case .sessionAccept:
                    accept = p.contents
                    let wait = configuration.candidateWait
                    Task { try? await Task.sleep(for: wait); continuation.yield(.flush) }
                case .transportInfo:
                    if var contents = accept, !answered {
                        Self.mergeCandidates(p.contents, into: &contents)
                        accept = contents
                    } else {
                        // Trickle after the answer would need SIP INFO (RFC 8840): not implemented.
                        logger.debug("call sip=\(callID) jingle=\(sid): late transport-info dropped")
                    }
                default: break
                }
            case .flush:
                guard let contents = accept, !answered else { break }
                do {
                    let answer = JinglePayload(action: .sessionAccept, sid: sid, initiator: engine.localJID, responder: jid, contents: contents)
                    let sdp = try configuration.mapper.sdp(from: answer, author: .responder).serialized()
                    try await incoming.answer(sdp: sdp)
                    answered = true
                    logger.info("call sip=\(callID) jingle=\(sid): answered")
                } catch {
                    logger.notice("call sip=\(callID) jingle=\(sid): answer unmappable (\(error))")
                    try? await engine.terminate(handle.id, reason: JingleReason(.incompatibleParameters))
                    try? await incoming.reject(status: 488)
                    failure = "bad-sdp"
                }
            case .jingle(.requestFailed(.sessionInitiate, _, let error)):
                logger.notice("call sip=\(callID) jingle=\(sid): session-initiate refused (\(error.condition)) -> 480")
                if !answered { try? await incoming.reject(status: 480) }
                failure = "unavailable"
                try? await engine.terminate(handle.id, reason: JingleReason(.gone))
            case .jingle(.ended(let reason, _)):
                jingleDone = true
                if answered {
                    if !sipDone { try? await incoming.hangUp() }
                } else if failure == nil {
                    let status = GatewayStatusMapping.sipStatus(for: reason?.condition)
                    if !sipDone { try? await incoming.reject(status: status) }
                    failure = Self.failureName(reason?.condition, status: status)
                }
                logger.info("call sip=\(callID) jingle=\(sid): Jingle ended (\(reason?.condition.rawValue ?? "no reason"))")
                if sipDone { break loop }
            case .sip(.ended(let reason)):
                sipDone = true
                if !jingleDone {
                    let condition: JingleReason.Condition = switch reason {
                    case .remoteCancelled: .cancel
                    case .timeout: .timeout
                    case .rejected: .decline
                    default: .success
                    }
                    if reason == .remoteCancelled { failure = failure ?? "cancel" }
                    try? await engine.terminate(handle.id, reason: JingleReason(condition))
                }
                logger.info("call sip=\(callID) jingle=\(sid): SIP ended (\(reason))")
                break loop
            case .sip(.failed(let status, _)):
                sipDone = true
                failure = failure ?? "sip-\(status)"
                if !jingleDone { try? await engine.terminate(handle.id, reason: JingleReason(.generalError)) }
                break loop
            case .sip(.info), .sip(.remoteReinvite), .sip(.confirmed), .sip(.ringing), .sip(.answered):
                // Re-INVITE is answered automatically with the current SDP by the endpoint; hold/content changes
                // are not translated to Jingle (unsupported in this version).
                break
            case .sipFinished:
                sipDone = true
                if !jingleDone { try? await engine.terminate(handle.id, reason: JingleReason(.success)) }
                break loop
            case .jingleFinished:
                if sipDone { break loop }
                jingleDone = true
            case .jingle:
                break
            }
        }
        logger.info("call sip=\(callID) jingle=\(sid) over\(failure.map { ": failed (\($0))" } ?? "")")
        ended(failure: failure)
    }

    private static func failureName(_ condition: JingleReason.Condition?, status: Int) -> String {
        switch status {
        case 486: "busy"
        case 603: "decline"
        case 480: "unavailable"
        case 487: "cancel"
        default: condition?.rawValue ?? "sip-\(status)"
        }
    }

    /// Adds the ICE candidates of transport-info contents to the matching contents (by name).
    static func mergeCandidates(_ extra: [JingleContent], into contents: inout [JingleContent]) {
        for e in extra {
            guard let index = contents.firstIndex(where: { $0.name == e.name }),
                  let add = e.transport as? ICEUDPTransport, var ice = contents[index].transport as? ICEUDPTransport else { continue }
            for candidate in add.candidates where !ice.candidates.contains(where: { $0.id == candidate.id }) {
                ice.candidates.append(candidate)
            }
            if ice.ufrag == nil { ice.ufrag = add.ufrag; ice.pwd = add.pwd }
            contents[index].transport = ice
        }
    }

    // MARK: XMPP -> SIP

    private func bridgeFromXMPP(_ session: IncomingJingleSession) async {
        began()
        let id = session.id
        let dialled = link.recipient(peer: id.peer, sid: id.sid) ?? engine.localJID
        defer { link.forget(peer: id.peer, sid: id.sid) }
        let bare = dialled.bare.description
        guard let mapped = configuration.addressMap.sipURI(forJID: bare), let uri = try? SIPURI(mapped) else {
            logger.notice("call jingle=\(id.sid) to \(bare): no mapping")
            try? await engine.terminate(id, reason: JingleReason(.gone, text: "no route to \(bare)"))
            ended(failure: "no-mapping")
            return
        }
        // Gather: transport-info that follows the session-initiate joins the offer (urn:ietf:rfc:3264 style);
        // the INVITE goes out when `candidateWait` has passed.
        var contents = session.initiate.contents
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
        let jingleEvents = session.handle.events
        var feeders = [Task { for await e in jingleEvents { continuation.yield(.jingle(e)) }; continuation.yield(.jingleFinished) }]
        let wait = configuration.candidateWait
        feeders.append(Task { try? await Task.sleep(for: wait); continuation.yield(.flush) })
        defer { for f in feeders { f.cancel() }; continuation.finish() }
        var call: SIPCall?
        var answered = false
        var failure: String?
        var sipDone = false, jingleDone = false
        loop: for await input in inputs {
            switch input {
            case .flush:
                guard call == nil, !jingleDone else { break }
                let sdp: String
                do {
                    var offer = session.initiate
                    offer.contents = contents
                    sdp = try configuration.mapper.sdp(from: offer, author: .initiator).serialized()
                } catch {
                    logger.notice("call jingle=\(id.sid): offer unmappable (\(error))")
                    try? await engine.terminate(id, reason: JingleReason(.failedApplication))
                    failure = "bad-sdp"
                    break loop
                }
                do {
                    let c = try await sip.invite(to: uri, sdp: sdp, fromUser: id.peer.localpart)
                    call = c
                    let sipEvents = c.events
                    feeders.append(Task { for await e in sipEvents { continuation.yield(.sip(e)) }; continuation.yield(.sipFinished) })
                    logger.info("call jingle=\(id.sid) sip-handle=\(c.handle) \(id.peer) -> \(uri)")
                } catch {
                    logger.notice("call jingle=\(id.sid): INVITE failed (\(error))")
                    try? await engine.terminate(id, reason: JingleReason(.generalError))
                    failure = "sip-error"
                    break loop
                }
            case .jingle(.received(let p)) where p.action == .transportInfo:
                if call == nil {
                    Self.mergeCandidates(p.contents, into: &contents)
                } else {
                    logger.debug("call jingle=\(id.sid): late transport-info dropped (trickle over SIP INFO not implemented)")
                }
            case .sip(.ringing):
                try? await engine.sendInfo(id, [JingleInfo(RTPSessionInfo.ringing)])
            case .sip(.answered(let answerSDP)):
                do {
                    guard let answerSDP else { throw GatewayError.invalidSDP("200 OK without SDP") }
                    let answer = try configuration.mapper.jingle(from: try SessionDescription(parsing: answerSDP),
                                                                 context: .init(author: .responder, action: .sessionAccept, sid: id.sid,
                                                                                initiator: id.peer, responder: engine.localJID))
                    try await engine.accept(id, contents: answer.contents, groups: answer.groups)
                    answered = true
                    logger.info("call jingle=\(id.sid): answered")
                } catch {
                    logger.notice("call jingle=\(id.sid): answer unmappable (\(error))")
                    try? await call?.hangUp()
                    try? await engine.terminate(id, reason: JingleReason(.incompatibleParameters))
                    failure = "bad-sdp"
                }
            case .sip(.failed(let status, _)):
                sipDone = true
                let condition = GatewayStatusMapping.jingleReason(forSIPStatus: status)
                failure = failure ?? Self.failureName(condition, status: status)
                if !jingleDone { try? await engine.terminate(id, reason: JingleReason(condition)) }
                break loop
            case .sip(.ended(let reason)):
                sipDone = true
                if !jingleDone { try? await engine.terminate(id, reason: JingleReason(reason == .timeout ? .timeout : .success)) }
                break loop
            case .sipFinished:
                sipDone = true
                if !jingleDone { try? await engine.terminate(id, reason: JingleReason(.success)) }
                break loop
            case .jingle(.ended(let reason, _)):
                jingleDone = true
                if !answered { failure = failure ?? "cancel" }
                guard let call, !sipDone else { break loop }
                // BYE or CANCEL; the loop ends when the SIP side reports the end.
                do {
                    try await call.hangUp()
                } catch {
                    logger.notice("call jingle=\(id.sid): hanging up the SIP leg failed (\(error))")
                    sipDone = true
                    break loop
                }
                _ = reason
            case .jingleFinished:
                jingleDone = true
                if call == nil || sipDone { break loop }
            default:
                break
            }
        }
        logger.info("call jingle=\(id.sid) over\(failure.map { ": failed (\($0))" } ?? "")")
        ended(failure: failure)
    }
}
