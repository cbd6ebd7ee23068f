#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Jingle
import JingleEngine
import JingleSDP
import Logging
import DTLS
import Media
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
    /// `--media anchored`: RTP packets relayed between the legs (both ways, all calls so far) and RTCP packets.
    public var relayedRTP = 0
    public var relayedRTCP = 0
    /// Hold and resume translated between re-INVITE and Jingle session-info (XEP-0167 §7), both ways.
    public var holds = 0
    public var resumes = 0
    /// `--media passthrough`: ICE candidates trickled between SIP INFO (RFC 8840) and transport-info, both ways.
    public var trickledCandidates = 0

    public init() {}

    public var description: String {
        let reasons = failed.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return "calls=\(calls) active=\(active) completed=\(completed) failed=\(failedTotal)" + (reasons.isEmpty ? "" : " (\(reasons))")
            + " relayed-rtp=\(relayedRTP) relayed-rtcp=\(relayedRTCP) holds=\(holds) resumes=\(resumes) trickled=\(trickledCandidates)"
    }
}

/// A SIP <-> XMPP Jingle gateway (draft-ietf-stox-media). With `media: .passthrough` it is signalling only:
/// SDP and Jingle are translated, media flows end to end between the SIP and the Jingle party. With
/// `media: .anchored` the gateway is each leg's media peer: it terminates ICE and DTLS-SRTP on the Jingle leg
/// and speaks plain RTP/AVP (or SDES RTP/SAVP when the SIP side offers `a=crypto`) on the SIP leg from a UDP
/// port of its own, relaying packets between them (`SecureToPlainRelay`).
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
/// Hold, both ways and in both modes: a re-INVITE whose audio is `sendonly`/`inactive` -> session-info
/// `<hold/>`, back to `sendrecv`/`recvonly` -> `<unhold/>`; `<hold/>` from the Jingle side -> re-INVITE with
/// `a=sendonly`, `<unhold/>`/`<active/>` -> re-INVITE with `a=sendrecv` (RFC 3264 §8.4, XEP-0167 §7).
/// The SIP endpoint should be configured with `answerReinvitesAutomatically: false` so the gateway answers
/// re-INVITEs itself (`GatewayLauncher` does so).
public actor SIPGateway {
    public struct Configuration: Sendable {
        public var addressMap: GatewayAddressMap
        /// How long to wait for transport-info after a session-initiate/accept before writing the SDP
        /// (candidates are gathered, not trickled, towards SIP: the `urn:ietf:rfc:3264` style).
        public var candidateWait: Duration
        public var mapper: JingleSDPMapper
        public var media: GatewayLauncher.MediaMode
        /// Anchored mode: local addresses for the Jingle leg's ICE host candidates (empty: every interface).
        public var iceAddresses: [String]
        /// Anchored mode: the address of the SIP leg's RTP port (written into `c=`).
        public var rtpHost: String
        /// Anchored mode: how long ICE may take to find a working pair once both descriptions are known.
        public var connectTimeout: Duration

        public init(addressMap: GatewayAddressMap, candidateWait: Duration = .milliseconds(200),
                    mapper: JingleSDPMapper = JingleSDPMapper(options: .init(foundations: .numeric)),
                    media: GatewayLauncher.MediaMode = .passthrough, iceAddresses: [String] = [], rtpHost: String = "127.0.0.1",
                    connectTimeout: Duration = .seconds(20)) {
            self.addressMap = addressMap
            self.candidateWait = candidateWait
            self.mapper = mapper
            self.media = media
            self.iceAddresses = iceAddresses
            self.rtpHost = rtpHost
            self.connectTimeout = connectTimeout
        }
    }

    public nonisolated let sip: SIPEndpoint
    public nonisolated let engine: JingleEngine
    public nonisolated let configuration: Configuration
    private let link: RecipientTrackingSession
    let logger: Logger
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
        // A registered contact is removed, so the registrar stops sending calls to a gateway that is gone.
        _ = await sip.unregister(timeout: .seconds(3))
        await link.close()
        await sip.shutdown()
    }

    // MARK: bookkeeping

    func logTrickle(_ text: String) { logger.notice("trickle: \(text)") }
    private func trickled(_ count: Int) { counters.trickledCandidates += count }

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
        case mediaFailed(String)
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
        // A delayed offer (INVITE without SDP, RFC 3261 §13.2.1): the anchored gateway offers its own media to
        // both sides — to Jingle in the session-initiate, to SIP in the 200 (the caller answers in the ACK).
        // In passthrough the gateway has no media to offer, and Jingle cannot ask its party to offer first.
        let delayedOffer = incoming.sdp == nil
        guard let offerText = incoming.sdp ?? (configuration.media == .anchored ? AnchoredSDP.delayedOfferTemplate : nil) else {
            logger.notice("call sip=\(callID): INVITE without SDP (delayed offer) -> 488: only the anchored gateway offers media of its own")
            try? await incoming.reject(status: 488)
            ended(failure: "no-offer")
            return
        }
        let offer: SessionDescription
        do {
            offer = try SessionDescription(parsing: offerText)
        } catch {
            logger.notice("call sip=\(callID): unparsable SDP (\(error)) -> 488")
            try? await incoming.reject(status: 488)
            ended(failure: "bad-sdp")
            return
        }
        // Anchored: the Jingle side gets the gateway's ICE candidates and fingerprint instead of the SIP offer's
        // address; the gateway is the controlling ICE agent and offers a=setup:actpass (RFC 5763 §5).
        var anchor: MediaAnchor?
        var jingleOffer = offer
        if configuration.media == .anchored {
            do {
                let prepared = try await MediaAnchor.prepare(controlling: true, iceAddresses: configuration.iceAddresses, plainHost: configuration.rtpHost)
                anchor = prepared
                jingleOffer = try AnchoredSDP.secure(from: offer, local: prepared.secureLocal(setup: .actpass))
            } catch {
                logger.notice("call sip=\(callID): cannot anchor the media (\(error)) -> 488")
                if let anchor { _ = await anchor.stop() }
                try? await incoming.reject(status: 488)
                ended(failure: "bad-sdp")
                return
            }
        }
        // Passthrough: the streams Jingle can express cross; the others are refused in the SIP answer.
        var layout: OfferLayout?
        let payload: JinglePayload
        do {
            if configuration.media == .passthrough {
                let split = try OfferLayout(offer)
                if split.refusesSome {
                    let left = split.offer.media.indices.filter { !split.carried.contains($0) }
                        .map { "m=\(offer.media[$0].media) \(offer.media[$0].proto)" }
                    logger.info("call sip=\(callID): refusing streams Jingle cannot carry: \(left.joined(separator: ", "))")
                }
                layout = split
                jingleOffer = split.carriedOffer
            }
            payload = try configuration.mapper.jingle(from: jingleOffer, context: .init(author: .initiator, action: .sessionInitiate,
                                                                                        initiator: engine.localJID, responder: jid))
        } catch {
            logger.notice("call sip=\(callID): unmappable SDP (\(error)) -> 488")
            if let anchor { _ = await anchor.stop() }
            try? await incoming.reject(status: 488)
            ended(failure: "bad-sdp")
            return
        }
        let handle: JingleSessionHandle
        do {
            handle = try await engine.initiate(to: jid, contents: payload.contents, groups: payload.groups)
        } catch {
            logger.notice("call sip=\(callID): session-initiate failed (\(error)) -> 480")
            if let anchor { _ = await anchor.stop() }
            try? await incoming.reject(status: 480)
            ended(failure: "unavailable")
            return
        }
        let sid = handle.id.sid
        logger.info("call sip=\(callID) jingle=\(sid) \(incoming.info.from.uri) -> \(jid)\(anchor == nil ? "" : " (media anchored)")")
        let (inputs, continuation, feeders) = Self.merged(sip: incoming.events, jingle: handle.events)
        var mediaTask: Task<Void, Never>?
        defer { for f in feeders { f.cancel() }; mediaTask?.cancel(); continuation.finish() }

        var answered = false
        var accept: [JingleContent]?
        var failure: String?
        var sipDone = false, jingleDone = false
        /// Our current SDP towards SIP (the answer), for re-INVITEs and their answers.
        var sipSide: SessionDescription?
        var holdState = HoldState()
        /// Delayed offer: the Jingle party's DTLS and ICE parameters, kept until the SIP answer arrives in the ACK.
        var awaitingAnswer: (peer: AnchoredSDP.SecurePeer, role: DTLSRole)?
        loop: for await input in inputs {
            switch input {
            case .jingle(.received(let p)):
                switch p.action {
                case .sessionInfo where p.info.contains(where: { ($0.payload as? RTPSessionInfo) == .ringing }):
                    if !answered { try? await incoming.ring() }
                case .sessionInfo:
                    if answered, let current = sipSide, let updated = await jingleHold(p, current: current, state: &holdState, call: incoming.call, label: "sip=\(callID)") {
                        sipSide = updated
                    }
                case .contentModify:
                    if answered, let current = sipSide,
                       let updated = await jingleSenders(p, jingleRole: .responder, current: current, state: &holdState, call: incoming.call, label: "sip=\(callID)") {
                        sipSide = updated
                    }
                case .sessionAccept:
                    accept = p.contents
                    let wait = configuration.candidateWait
                    Task { try? await Task.sleep(for: wait); continuation.yield(.flush) }
                case .transportInfo:
                    if var contents = accept, !answered {
                        Self.mergeCandidates(p.contents, into: &contents)
                        accept = contents
                    } else if answered, configuration.media == .passthrough {
                        // Trickle after the answer: SIP INFO (RFC 8840).
                        trickled(await jingleTrickle(p, call: incoming.call, jingleAuthor: .responder))
                    } else if answered, let anchor {
                        // Anchored: the gateway's own ICE agent takes them.
                        await anchor.trickle(p.contents)
                    } else {
                        logger.debug("call sip=\(callID) jingle=\(sid): late transport-info dropped")
                    }
                default: break
                }
            case .flush:
                guard let contents = accept, !answered else { break }
                do {
                    let answer = JinglePayload(action: .sessionAccept, sid: sid, initiator: engine.localJID, responder: jid, contents: contents)
                    var sdp = try configuration.mapper.sdp(from: answer, author: .responder)
                    if let layout {
                        // RFC 3264 §6: the offer's m-lines, in order; what did not cross (or was not accepted) refused.
                        sdp = layout.answer(sdp, contentNames: payload.contents.map(\.name))
                    }
                    if let anchor {
                        // RFC 5763 §5: the answerer's active means we are the DTLS server.
                        let peer = try AnchoredSDP.securePeer(sdp)
                        let role: DTLSRole = peer.setup == .passive ? .client : .server
                        if delayedOffer {
                            // Our offer to SIP: the codecs the Jingle party accepted, on the gateway's port; the media
                            // starts when the SIP caller's answer comes in the ACK.
                            awaitingAnswer = (peer, role)
                            sdp = try AnchoredSDP.plain(from: sdp, local: anchor.plainLocal(rtcpMux: true, crypto: nil))
                        } else {
                            let remoteCrypto = AnchoredSDP.plainCrypto(offer)
                            let localCrypto = remoteCrypto.map(AnchoredSDP.localCrypto(answering:))
                            let anchoredSection = offer.media[try AnchoredSDP.anchoredIndex(offer)]
                            let mux = anchoredSection.rtcpMux
                            sdp = try AnchoredSDP.plain(from: sdp, local: anchor.plainLocal(rtcpMux: mux, crypto: localCrypto), template: offer)
                            let plainPeer = try AnchoredSDP.plainPeer(offer, muxAgreed: mux)
                            let keying: PlainLegKeying = if let localCrypto, let remoteCrypto { .sdes(local: localCrypto, remote: remoteCrypto) } else { .none }
                            mediaTask = startMedia(anchor, peer: peer, role: role, plain: plainPeer, keying: keying, label: "sip=\(callID)", continuation: continuation)
                        }
                    }
                    try await incoming.answer(sdp: sdp.serialized())
                    sipSide = sdp
                    answered = true
                    logger.info("call sip=\(callID) jingle=\(sid): answered")
                } catch {
                    logger.notice("call sip=\(callID) jingle=\(sid): answer unmappable (\(error))")
                    try? await engine.terminate(handle.id, reason: JingleReason(.incompatibleParameters))
                    try? await incoming.reject(status: 488)
                    failure = "bad-sdp"
                }
            case .mediaFailed(let why):
                logger.notice("call sip=\(callID) jingle=\(sid): media failed (\(why))")
                failure = failure ?? "media"
                if !jingleDone { try? await engine.terminate(handle.id, reason: JingleReason(.failedTransport, text: why)) }
                if !sipDone { try? await incoming.hangUp() }
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
                    case .timeout, .sessionExpired, .expired: .timeout
                    case .rejected: .decline
                    default: .success
                    }
                    if reason == .remoteCancelled { failure = failure ?? "cancel" }
                    if reason == .expired { failure = failure ?? "expired" }
                    try? await engine.terminate(handle.id, reason: JingleReason(condition))
                }
                logger.info("call sip=\(callID) jingle=\(sid): SIP ended (\(reason))")
                break loop
            case .sip(.failed(let status, _)):
                sipDone = true
                failure = failure ?? "sip-\(status)"
                if !jingleDone { try? await engine.terminate(handle.id, reason: JingleReason(.generalError)) }
                break loop
            case .sip(.remoteReinvite(let sdp)):
                sipSide = await sipReinvite(sdp, current: sipSide, state: &holdState, call: incoming.call, session: handle.id, label: "sip=\(callID)")
            case .sip(.info(let type, let body, _)):
                if configuration.media == .passthrough, TrickleSDPFrag.isTrickle(contentType: type) {
                    trickled(await sipTrickle(body, session: handle.id, initiator: engine.localJID, responder: jid, sipAuthor: .initiator))
                }
            case .sip(.confirmed(let answerText)):
                guard let anchor, let pending = awaitingAnswer else { break }
                awaitingAnswer = nil
                do {
                    let plainPeer = try AnchoredSDP.delayedAnswerPeer(answerText)
                    mediaTask = startMedia(anchor, peer: pending.peer, role: pending.role, plain: plainPeer, keying: .none,
                                           label: "sip=\(callID)", continuation: continuation)
                } catch {
                    logger.notice("call sip=\(callID) jingle=\(sid): the ACK's answer to the gateway's offer is unusable (\(error)) -> BYE")
                    failure = "bad-sdp"
                    try? await engine.terminate(handle.id, reason: JingleReason(.incompatibleParameters))
                    try? await incoming.hangUp()
                }
            case .sip(.ringing), .sip(.answered):
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
        if let anchor { await finishMedia(anchor, label: "sip=\(callID) jingle=\(sid)") }
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
        // The address stays known until a session-terminate goes out or comes in (`RecipientTrackingSession`):
        // the engine sends our terminate after this function has returned.
        let dialled = link.recipient(peer: id.peer, sid: id.sid) ?? engine.localJID
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
        var mediaTask: Task<Void, Never>?
        defer { for f in feeders { f.cancel() }; mediaTask?.cancel(); continuation.finish() }
        var call: SIPCall?
        var answered = false
        var failure: String?
        var sipDone = false, jingleDone = false
        var anchor: MediaAnchor?
        /// The Jingle offer as SDP (anchored mode: the secure leg's remote description).
        var jingleOffer: SessionDescription?
        /// Our current SDP towards SIP (the offer), for re-INVITEs.
        var sipSide: SessionDescription?
        var holdState = HoldState()
        loop: for await input in inputs {
            switch input {
            case .flush:
                guard call == nil, !jingleDone else { break }
                var sdp: SessionDescription
                do {
                    var offer = session.initiate
                    offer.contents = contents
                    sdp = try configuration.mapper.sdp(from: offer, author: .initiator)
                    jingleOffer = sdp
                    if configuration.media == .anchored {
                        // The SIP side is offered the gateway's port, plain RTP/AVP with rtcp-mux offered (RFC 5761
                        // §5.1.1: without it in the answer, RTCP goes to the port above).
                        let prepared = try await MediaAnchor.prepare(controlling: false, iceAddresses: configuration.iceAddresses,
                                                                     plainHost: configuration.rtpHost)
                        anchor = prepared
                        sdp = try AnchoredSDP.plain(from: sdp, local: prepared.plainLocal(rtcpMux: true, crypto: nil))
                    }
                } catch {
                    logger.notice("call jingle=\(id.sid): offer unmappable (\(error))")
                    try? await engine.terminate(id, reason: JingleReason(.failedApplication))
                    failure = "bad-sdp"
                    break loop
                }
                do {
                    let c = try await sip.invite(to: uri, sdp: sdp.serialized(), fromUser: id.peer.localpart)
                    call = c
                    sipSide = sdp
                    let sipEvents = c.events
                    feeders.append(Task { for await e in sipEvents { continuation.yield(.sip(e)) }; continuation.yield(.sipFinished) })
                    logger.info("call jingle=\(id.sid) sip-handle=\(c.handle) \(id.peer) -> \(uri)\(anchor == nil ? "" : " (media anchored)")")
                } catch {
                    logger.notice("call jingle=\(id.sid): INVITE failed (\(error))")
                    try? await engine.terminate(id, reason: JingleReason(.generalError))
                    failure = "sip-error"
                    break loop
                }
            case .jingle(.received(let p)) where p.action == .transportInfo:
                if call == nil {
                    Self.mergeCandidates(p.contents, into: &contents)
                } else if let call, configuration.media == .passthrough {
                    // After the INVITE: SIP INFO (RFC 8840), which needs the dialog (a 1xx with tag or the 2xx).
                    trickled(await jingleTrickle(p, call: call, jingleAuthor: .initiator))
                } else if let anchor {
                    // Anchored: the gateway's own ICE agent takes them.
                    await anchor.trickle(p.contents)
                } else {
                    logger.debug("call jingle=\(id.sid): late transport-info dropped")
                }
            case .jingle(.received(let p)) where p.action == .sessionInfo:
                if answered, let call, let current = sipSide,
                   let updated = await jingleHold(p, current: current, state: &holdState, call: call, label: "jingle=\(id.sid)") {
                    sipSide = updated
                }
            case .jingle(.received(let p)) where p.action == .contentModify:
                if answered, let call, let current = sipSide,
                   let updated = await jingleSenders(p, jingleRole: .initiator, current: current, state: &holdState, call: call, label: "jingle=\(id.sid)") {
                    sipSide = updated
                }
            case .sip(.ringing):
                try? await engine.sendInfo(id, [JingleInfo(RTPSessionInfo.ringing)])
            case .sip(.answered(let answerSDP)):
                do {
                    guard let answerSDP else { throw GatewayError.invalidSDP("200 OK without SDP") }
                    var answer = try SessionDescription(parsing: answerSDP)
                    if let jingleOffer { answer = AnchoredSDP.adoptingMIDs(of: jingleOffer, answer) }
                    if let anchor, let jingleOffer {
                        // We answer the Jingle offer's actpass with active: the gateway is the DTLS client (RFC 5763 §5).
                        let peer = try AnchoredSDP.securePeer(jingleOffer)
                        let setup: SDPSetupRole = peer.setup == .active ? .passive : .active
                        let plainAnswer = answer
                        let offeredMID = jingleOffer.media[try AnchoredSDP.anchoredIndex(jingleOffer)].mid ?? AnchoredSDP.secureMID
                        answer = AnchoredSDP.withInactiveStreams(
                            try AnchoredSDP.secure(from: plainAnswer, local: anchor.secureLocal(setup: setup), mid: offeredMID), offer: jingleOffer)
                        let mux = plainAnswer.media[try AnchoredSDP.anchoredIndex(plainAnswer)].rtcpMux
                        let plainPeer = try AnchoredSDP.plainPeer(plainAnswer, muxAgreed: mux)
                        mediaTask = startMedia(anchor, peer: peer, role: setup == .active ? .client : .server, plain: plainPeer, keying: .none,
                                               label: "jingle=\(id.sid)", continuation: continuation)
                    }
                    if anchor == nil, let jingleOffer { answer = OfferLayout.jingleAcceptable(answer, offer: jingleOffer) }
                    let mappedAnswer = try configuration.mapper.jingle(from: answer,
                                                                       context: .init(author: .responder, action: .sessionAccept, sid: id.sid,
                                                                                      initiator: id.peer, responder: engine.localJID))
                    try await engine.accept(id, contents: mappedAnswer.contents, groups: mappedAnswer.groups)
                    answered = true
                    logger.info("call jingle=\(id.sid): answered")
                } catch {
                    logger.notice("call jingle=\(id.sid): answer unmappable (\(error))")
                    try? await call?.hangUp()
                    try? await engine.terminate(id, reason: JingleReason(.incompatibleParameters))
                    failure = "bad-sdp"
                }
            case .sip(.info(let type, let body, _)):
                if configuration.media == .passthrough, TrickleSDPFrag.isTrickle(contentType: type) {
                    trickled(await sipTrickle(body, session: id, initiator: id.peer, responder: engine.localJID, sipAuthor: .responder))
                }
            case .sip(.remoteReinvite(let sdp)):
                if let call {
                    sipSide = await sipReinvite(sdp, current: sipSide, state: &holdState, call: call, session: id, label: "jingle=\(id.sid)")
                }
            case .mediaFailed(let why):
                logger.notice("call jingle=\(id.sid): media failed (\(why))")
                failure = failure ?? "media"
                if !jingleDone { try? await engine.terminate(id, reason: JingleReason(.failedTransport, text: why)) }
                if !sipDone { try? await call?.hangUp() }
            case .sip(.failed(let status, _)):
                sipDone = true
                let condition = GatewayStatusMapping.jingleReason(forSIPStatus: status)
                failure = failure ?? Self.failureName(condition, status: status)
                if !jingleDone { try? await engine.terminate(id, reason: JingleReason(condition)) }
                break loop
            case .sip(.ended(let reason)):
                sipDone = true
                if !jingleDone { try? await engine.terminate(id, reason: JingleReason(reason == .timeout || reason == .sessionExpired ? .timeout : .success)) }
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
        if let anchor { await finishMedia(anchor, label: "jingle=\(id.sid)") }
        logger.info("call jingle=\(id.sid) over\(failure.map { ": failed (\($0))" } ?? "")")
        ended(failure: failure)
    }

    // MARK: anchored media

    /// Runs ICE and the relay in the background; a failure comes back as `.mediaFailed`.
    private func startMedia(_ anchor: MediaAnchor, peer: AnchoredSDP.SecurePeer, role: DTLSRole, plain: PlainLegPeer, keying: PlainLegKeying,
                            label: String, continuation: AsyncStream<Input>.Continuation) -> Task<Void, Never> {
        let timeout = configuration.connectTimeout
        let logger = logger
        return Task {
            do {
                try await anchor.run(secure: peer, role: role, plain: plain, keying: keying, timeout: timeout, logger: logger)
                logger.info("call \(label): media anchored (ICE connected, SIP leg \(plain.rtp))")
                guard let events = await anchor.relayEvents else { return }
                for await event in events {
                    switch event {
                    case .connected: logger.info("call \(label): DTLS-SRTP up, relaying")
                    case .failed(let error): continuation.yield(.mediaFailed("\(error)"))
                    case .ended: break
                    }
                }
            } catch is CancellationError {
            } catch {
                continuation.yield(.mediaFailed("\(error)"))
            }
        }
    }

    private func finishMedia(_ anchor: MediaAnchor, label: String) async {
        let statistics = await anchor.stop()
        counters.relayedRTP += statistics.relayedRTP
        counters.relayedRTCP += statistics.secureToPlainRTCP + statistics.plainToSecureRTCP
        logger.info("call \(label): relay \(statistics)")
    }

    // MARK: hold

    /// Which holds the gateway has passed on, so an unhold is only sent after a hold.
    struct HoldState {
        /// The SIP side put the call on hold (we sent `<hold/>` to the Jingle side).
        var sipHolds = false
        /// The Jingle side put the call on hold (we sent a re-INVITE with a=sendonly).
        var jingleHolds = false
    }

    /// A re-INVITE from the SIP side: answered with our current SDP in the answering direction (RFC 3264 §8.4);
    /// a change to or from sendonly/inactive becomes `<hold/>`/`<unhold/>` on the Jingle side (XEP-0167 §7).
    /// Returns our new current SDP.
    private func sipReinvite(_ text: String?, current: SessionDescription?, state: inout HoldState, call: SIPCall,
                             session: JingleSessionID, label: String) async -> SessionDescription? {
        guard let current else {
            try? await call.rejectReinvite(status: 491)
            return nil
        }
        guard let text, let offer = try? SessionDescription(parsing: text) else {
            // An offerless re-INVITE asks us to offer (RFC 3261 §14.2): offer what we have.
            let refreshed = AnchoredSDP.with(direction: AnchoredSDP.direction(current), current)
            try? await call.answerReinvite(sdp: refreshed.serialized())
            return refreshed
        }
        if let problem = OfferLayout.reofferProblem(offer, current: current) {
            logger.notice("call \(label): re-INVITE refused with 488, the session goes on unchanged: \(problem)")
            try? await call.rejectReinvite(status: 488)
            return current
        }
        let direction = AnchoredSDP.direction(offer)
        let answer = AnchoredSDP.with(direction: direction.reversed, OfferLayout.reanswer(offer, current: current))
        do {
            try await call.answerReinvite(sdp: answer.serialized())
        } catch {
            logger.notice("call \(label): re-INVITE answer failed (\(error))")
            return current
        }
        // The offerer holds the other side by no longer receiving: a=sendonly or a=inactive (RFC 3264 §8.4).
        let holding = !direction.receives
        if holding, !state.sipHolds {
            state.sipHolds = true
            counters.holds += 1
            logger.info("call \(label): SIP hold (a=\(direction.rawValue)) -> Jingle <hold/>")
            try? await engine.sendInfo(session, [JingleInfo(RTPSessionInfo.hold)])
        } else if !holding, state.sipHolds {
            state.sipHolds = false
            counters.resumes += 1
            logger.info("call \(label): SIP resume (a=\(direction.rawValue)) -> Jingle <unhold/>")
            try? await engine.sendInfo(session, [JingleInfo(RTPSessionInfo.unhold)])
        }
        return answer
    }

    /// A content-modify from the Jingle party (XEP-0166 §7.2.4): its new `senders` become the direction of a
    /// re-INVITE (our SDP towards SIP speaks for the Jingle party, whose role is `jingleRole`). A direction in
    /// which the Jingle party no longer receives counts as a hold (RFC 3264 §8.4).
    private func jingleSenders(_ payload: JinglePayload, jingleRole: JingleRole, current: SessionDescription, state: inout HoldState,
                               call: SIPCall, label: String) async -> SessionDescription? {
        guard let senders = payload.contents.first?.senders else { return nil }
        let other: JingleRole = jingleRole == .initiator ? .responder : .initiator
        let direction: SDPDirection = switch (senders.includes(jingleRole), senders.includes(other)) {
        case (true, true): .sendrecv
        case (true, false): .sendonly
        case (false, true): .recvonly
        case (false, false): .inactive
        }
        guard direction != AnchoredSDP.direction(current) else { return nil }
        if !direction.receives, !state.jingleHolds {
            state.jingleHolds = true
            counters.holds += 1
        } else if direction.receives, state.jingleHolds {
            state.jingleHolds = false
            counters.resumes += 1
        }
        let offer = AnchoredSDP.with(direction: direction, current)
        logger.info("call \(label): Jingle content-modify senders=\(senders.rawValue) -> re-INVITE a=\(direction.rawValue)")
        await reinvite(call, offer: offer, label: label)
        return offer
    }

    /// Sends `offer` in a re-INVITE; a failure or a non-2xx answer is logged and the call goes on as it was
    /// (RFC 3261 §14.1).
    private func reinvite(_ call: SIPCall, offer: SessionDescription, label: String) async {
        do {
            let result = try await call.reinvite(sdp: offer.serialized())
            if !(200..<300).contains(result.status) { logger.notice("call \(label): re-INVITE got \(result.status)") }
        } catch {
            logger.notice("call \(label): re-INVITE failed (\(error))")
        }
    }

    /// A session-info from the Jingle side: `<hold/>` becomes a re-INVITE with a=sendonly, `<unhold/>` or
    /// `<active/>` one with a=sendrecv. Returns our new current SDP when a re-INVITE went out.
    private func jingleHold(_ payload: JinglePayload, current: SessionDescription, state: inout HoldState, call: SIPCall,
                            label: String) async -> SessionDescription? {
        for info in payload.info {
            guard let rtp = info.payload as? RTPSessionInfo else { continue }
            let direction: SDPDirection
            switch rtp {
            case .hold where !state.jingleHolds:
                state.jingleHolds = true
                counters.holds += 1
                direction = .sendonly
            case .unhold where state.jingleHolds, .active where state.jingleHolds:
                state.jingleHolds = false
                counters.resumes += 1
                direction = .sendrecv
            default:
                continue
            }
            let offer = AnchoredSDP.with(direction: direction, current)
            logger.info("call \(label): Jingle \(rtp) -> re-INVITE a=\(direction.rawValue)")
            await reinvite(call, offer: offer, label: label)
            return offer
        }
        return nil
    }
}
