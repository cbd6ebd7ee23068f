import DTLS
#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
import ICE
public import Jingle
import JingleSDP
public import Media
import SDP
public import XMPPCore

/// What one side of a Jingle RTP call (XEP-0167) sends and records.
public struct CallOptions: Sendable {
    public var audioSource: AudioSource
    /// Record the peer's audio (8 kHz mono WAV).
    public var recordURL: URL?
    /// Local addresses for ICE host candidates; empty means every interface.
    public var bindAddresses: [String]
    /// Offer (or accept) a video content in the BUNDLE group (XEP-0338), relayed to and from local UDP ports.
    public var video: Bool
    public var videoInput: UDPEndpoint?
    public var videoOutput: UDPEndpoint?
    /// How long ICE and DTLS may take once both descriptions are known.
    public var connectTimeout: Duration
    /// Statistics interval.
    public var reportInterval: Duration
    /// Test hook: announce this fingerprint instead of our certificate's (the peer must then end the call
    /// with `security-error`, XEP-0320 §3 / RFC 5763 §5).
    var announcedFingerprintOverride: DTLS.DTLSFingerprint?
    /// Test hook: behave like clients that trickle (Conversations, Dino): our session-initiate/accept carries
    /// no candidates, and one transport-info `delay` after it carries them all, with our
    /// `<end-of-candidates/>` only when `end`.
    var trickleLate: LateCandidates?
    struct LateCandidates: Sendable {
        var end: Bool
        var delay: Duration = .zero
    }

    public init(audioSource: AudioSource = .tone(440), recordURL: URL? = nil, bindAddresses: [String] = [], video: Bool = false,
                videoInput: UDPEndpoint? = nil, videoOutput: UDPEndpoint? = nil, connectTimeout: Duration = .seconds(20),
                reportInterval: Duration = .seconds(1)) {
        self.audioSource = audioSource
        self.recordURL = recordURL
        self.bindAddresses = bindAddresses
        self.video = video
        self.videoInput = videoInput
        self.videoOutput = videoOutput
        self.connectTimeout = connectTimeout
        self.reportInterval = reportInterval
    }
}

/// What a call reports, in order.
public enum CallEvent: Sendable, Hashable {
    /// The callee's device rings (XEP-0167 §5 `<ringing/>`; for the callee: it was sent).
    case ringing
    /// The callee accepted (session-accept sent or received).
    case accepted
    /// ICE found a working pair.
    case iceConnected(local: String, remote: String)
    /// DTLS-SRTP keys are in place.
    case connected
    /// The first media packet from the peer was decrypted.
    case mediaFlowing
    case stats(MediaStatistics)
    /// The peer's session-info (hold, unhold, mute, unmute, active).
    case peerInfo(RTPSessionInfo)
    /// The peer refused contents we added mid-call (content-reject, XEP-0166 §7.2.5), by name.
    case contentRejected([String])
    /// The session ended; the reason as sent or received.
    case ended(JingleReason?, byPeer: Bool)
}

/// Why a call could not be placed or answered.
public enum CallError: Error, Sendable, CustomStringConvertible {
    case engine(JingleEngineError)
    case media(MediaError)
    case mapping(String)
    /// The peer ended the session before media could run.
    case ended(JingleReason?)
    case unsupported(String)

    public var description: String {
        switch self {
        case .engine(let e): "Jingle: \(e)"
        case .media(let e): "media: \(e)"
        case .mapping(let text): "Jingle/SDP: \(text)"
        case .ended(let reason): "the session ended (\(reason?.condition.rawValue ?? "no reason"))\(reason?.text.map { ": \($0)" } ?? "")"
        case .unsupported(let text): "unsupported: \(text)"
        }
    }
}

/// One Jingle RTP call (XEP-0167) over a `JingleEngine`: ICE-UDP (XEP-0176) with every candidate in the
/// session-initiate/accept, DTLS-SRTP with the fingerprint of XEP-0320, rtcp-mux and a BUNDLE group
/// (XEP-0338), audio (Opus/PCMU/PCMA/telephone-event, XEP-0293 nack, XEP-0294 audio level, XEP-0339 source) and optionally relayed video.
///
/// The contents are the SDP of `CallSDP` mapped by `JingleSDPMapper`, so exactly what the SIP side speaks.
///
/// ```
/// let call = try await JingleCall.place(engine: engine, to: bob, options: CallOptions(audioSource: .tone(440)))
/// for await event in call.events { … }
/// let stats = await call.hangUp()
/// ```
public actor JingleCall {
    public nonisolated let id: JingleSessionID
    public nonisolated let role: JingleRole
    public nonisolated let events: AsyncStream<CallEvent>
    public nonisolated let engine: JingleEngine
    /// When the set-up steps happened: `initiate.sent`/`initiate.received`, `accept.sent`/`accept.received`,
    /// the ICE link's `ice.*` and the media session's `dtls.*`/`media.*` marks.
    public nonisolated let timeline: SetupTimeline
    /// The SSRC our audio goes out with, as announced in our description (XEP-0339 `<source/>`).
    public nonisolated let audioSSRC: UInt32
    /// The RTCP CNAME announced with it (RFC 3550 §6.5.1).
    public nonisolated let cname: String

    /// The XEP-0353 proposal id when the call was proposed to a bare JID first.
    public private(set) var proposalID: String?
    func setProposalID(_ id: String) { proposalID = id }

    private let continuation: AsyncStream<CallEvent>.Continuation
    private let link: ICEMediaLink
    private let certificate: DTLSCertificate
    private let options: CallOptions
    typealias Gathered = (credentials: ICECredentials, candidates: [ICE.ICECandidate])
    private var gathered: Gathered?
    private var offer: SessionDescription?
    private var answer: SessionDescription?
    private var media: MediaSession?
    private var localHold = false
    private var remoteHold = false
    private var muted = false
    private(set) var finished = false
    /// Set once `finish` has run to its end (statistics taken, waiters resumed). `finished` is set on entry:
    /// the actor is reentrant, so a second caller can arrive while the first is suspended in `media.stop()`.
    private var ended = false
    private var finalStatistics: MediaStatistics?
    private var endedWaiters: [CheckedContinuation<Void, Never>] = []
    /// Candidates the peer trickled (transport-info) before its description reached the ICE agent.
    private var trickledEarly: [ICE.ICECandidate] = []
    private var trickledEnd = false
    /// Whether `setRemote` ran, so trickled candidates go straight to the agent.
    private var remoteApplied = false
    private var tasks: [Task<Void, Never>] = []

    private init(engine: JingleEngine, id: JingleSessionID, role: JingleRole, link: ICEMediaLink, certificate: DTLSCertificate,
                 options: CallOptions, timeline: SetupTimeline, source: (ssrc: UInt32, cname: String)) {
        self.engine = engine
        self.timeline = timeline
        audioSSRC = source.ssrc
        cname = source.cname
        self.id = id
        self.role = role
        self.link = link
        self.certificate = certificate
        self.options = options
        (events, continuation) = AsyncStream.makeStream(of: CallEvent.self, bufferingPolicy: .unbounded)
    }

    /// The XEP-0030 features a client taking calls advertises.
    public static let features = [NS.jingleRTP, NS.jingleRTPAudio, NS.jingleRTPVideo, NS.jingleICEUDP, NS.jingleDTLS,
                                  "urn:ietf:rfc:5761", "urn:ietf:rfc:5888"]

    // MARK: placing

    /// Gathers candidates, sends session-initiate to `peer` (a full JID) and returns at once; the call goes on
    /// when the peer accepts (watch `events`).
    /// `sid` is the session id to use, generated when nil (XEP-0353 passes the proposal id).
    public static func place(engine: JingleEngine, to peer: JID, options: CallOptions, sid: String? = nil) async throws(CallError) -> JingleCall {
        let timeline = SetupTimeline()
        timeline.mark("call.start")
        let (link, certificate) = try await prepare(options, controlling: true, timeline: timeline)
        let gathered: (credentials: ICECredentials, candidates: [ICE.ICECandidate])
        do { gathered = try await link.gatherAll() } catch { await link.close(); throw .media(error) }
        let source = newSource()
        let offer = CallSDP.offer(CallSDPLocal(credentials: gathered.credentials, candidates: gathered.candidates,
                                               fingerprint: options.announcedFingerprintOverride ?? certificate.fingerprint(), video: options.video,
                                               audioSSRC: source.ssrc, cname: source.cname))
        let payload: JinglePayload
        do {
            payload = try JingleSDPMapper().jingle(from: offer, context: .init(author: .initiator, action: .sessionInitiate, initiator: engine.localJID))
        } catch {
            await link.close()
            throw .mapping("\(error)")
        }
        let handle: JingleSessionHandle
        do {
            timeline.mark("initiate.sent")
            let contents = options.trickleLate == nil ? payload.contents : Self.withoutCandidates(payload.contents)
            handle = try await engine.initiate(to: peer, contents: contents, groups: payload.groups, sid: sid)
            if let late = options.trickleLate {
                try? await Task.sleep(for: late.delay)
                try await engine.sendTransportInfo(handle.id, contents: Self.trickled(payload.contents, end: late.end))
            }
        } catch {
            await link.close()
            throw .engine(error)
        }
        let call = JingleCall(engine: engine, id: handle.id, role: .initiator, link: link, certificate: certificate, options: options,
                              timeline: timeline, source: source)
        await call.begin(offer: offer, gathered: gathered, events: handle.events)
        return call
    }

    // MARK: answering

    /// Answers a session-initiate: sends `<ringing/>` (XEP-0167 §5), gathers, sends session-accept and starts
    /// media. A session-initiate that is not an RTP call is terminated with `unsupported-applications`.
    public static func answer(engine: JingleEngine, incoming: IncomingJingleSession, options: CallOptions) async throws(CallError) -> JingleCall {
        let timeline = SetupTimeline()
        timeline.mark("initiate.received")
        // The agent, certificate and candidates do not depend on the offer: get them while <ringing/> goes out
        // and the offer is read (they are most of the answerer's share of the set-up time).
        let preparing = Task { await prepareAndGather(options, timeline: timeline) }
        try? await engine.sendInfo(incoming.id, [JingleInfo(RTPSessionInfo.ringing)])
        let offer: SessionDescription
        do {
            guard incoming.initiate.contents.contains(where: { $0.description is RTPDescription }) else {
                try? await engine.terminate(incoming.id, reason: JingleReason(.unsupportedApplications))
                throw CallError.mapping("the session-initiate has no RTP content")
            }
            offer = try JingleSDPMapper().sdp(from: incoming.initiate, author: .initiator)
        } catch {
            let prepared = await preparing.value
            if case .success(let ready) = prepared { await ready.link.close() }
            if let error = error as? CallError { throw error }
            try? await engine.terminate(incoming.id, reason: JingleReason(.failedApplication, text: "\(error)"))
            throw .mapping("\(error)")
        }
        let prepared = await preparing.value
        let link: ICEMediaLink, certificate: DTLSCertificate, gathered: Gathered
        switch prepared {
        case .success(let ready): (link, certificate, gathered) = (ready.link, ready.certificate, ready.gathered)
        case .failure(let error): throw error
        }
        let call = JingleCall(engine: engine, id: incoming.id, role: .responder, link: link, certificate: certificate, options: options,
                              timeline: timeline, source: newSource())
        call.continuation.yield(.ringing)
        do {
            try await call.accept(offer: offer, gathered: gathered, events: incoming.handle.events)
        } catch {
            // The caller hung up while ICE or DTLS was still connecting: that, not the interrupted wait, is the news.
            if let ending = await call.peerEnding { throw .ended(ending) }
            await call.finish(reason: JingleReason(error.isSecurity ? .securityError : .failedApplication, text: "\(error)"), byPeer: false, send: true)
            throw error
        }
        return call
    }

    private static func prepareAndGather(_ options: CallOptions, timeline: SetupTimeline) async
        -> Result<(link: ICEMediaLink, certificate: DTLSCertificate, gathered: Gathered), CallError> {
        let link: ICEMediaLink, certificate: DTLSCertificate
        do {
            (link, certificate) = try await prepare(options, controlling: false, timeline: timeline)
        } catch {
            return .failure(error)
        }
        do {
            return .success((link, certificate, try await link.gatherAll()))
        } catch {
            await link.close()
            return .failure(.media(error))
        }
    }

    /// A random SSRC (RFC 3550 §8.1) and CNAME (RFC 7022 §4.1: random per call) for our audio.
    private static func newSource() -> (ssrc: UInt32, cname: String) {
        (UInt32.random(in: 1...UInt32.max), UUID().uuidString.lowercased())
    }

    private static func prepare(_ options: CallOptions, controlling: Bool, timeline: SetupTimeline) async throws(CallError) -> (ICEMediaLink, DTLSCertificate) {
        var configuration = ICEConfiguration(role: controlling ? .controlling : .controlled)
        configuration.localAddresses = options.bindAddresses
        let certificate: DTLSCertificate
        do { certificate = try DTLSCertificate.generate() } catch { throw .media(.dtls(.openSSL(operation: "generate", reason: "\(error)"))) }
        do {
            return (try await ICEMediaLink(configuration: configuration, timeline: timeline), certificate)
        } catch {
            throw .media(error)
        }
    }

    private func begin(offer: SessionDescription, gathered: (credentials: ICECredentials, candidates: [ICE.ICECandidate]), events: AsyncStream<JingleEvent>) {
        self.offer = offer
        self.gathered = gathered
        watch(events)
    }

    private func accept(offer: SessionDescription, gathered: Gathered, events: AsyncStream<JingleEvent>) async throws(CallError) {
        self.offer = offer
        watch(events)
        self.gathered = gathered
        let answer: SessionDescription
        let payload: JinglePayload
        do {
            answer = try CallSDP.answer(to: offer, CallSDPLocal(credentials: gathered.credentials, candidates: gathered.candidates,
                                                                fingerprint: options.announcedFingerprintOverride ?? certificate.fingerprint(),
                                                                video: options.video, audioSSRC: audioSSRC, cname: cname))
            payload = try JingleSDPMapper().jingle(from: answer, context: .init(author: .responder, action: .sessionAccept, sid: id.sid,
                                                                                initiator: id.peer, responder: engine.localJID))
        } catch let error as MediaError {
            throw .media(error)
        } catch {
            throw .mapping("\(error)")
        }
        self.answer = answer
        timeline.mark("accept.sent")
        do {
            if let late = options.trickleLate {
                try await engine.accept(id, contents: Self.withoutCandidates(payload.contents), groups: payload.groups)
                try? await Task.sleep(for: late.delay)
                try await engine.sendTransportInfo(id, contents: Self.trickled(payload.contents, end: late.end))
            } else {
                try await engine.accept(id, contents: payload.contents, groups: payload.groups)
            }
        } catch {
            throw .engine(error)
        }
        continuation.yield(.accepted)
        try await connect()
    }

    /// Both descriptions known: negotiate, run ICE, start DTLS-SRTP.
    private func connect() async throws(CallError) {
        guard let offer, let answer else { preconditionFailure("connect before offer/answer") }
        let negotiated: NegotiatedCall
        do { negotiated = try CallSDP.negotiate(offer: offer, answer: answer, weAreOfferer: role == .initiator) } catch { throw .media(error) }
        var video: VideoRelay?
        if options.video, let payloadType = negotiated.videoPayloadType {
            video = VideoRelay(payloadType: payloadType, receivePayloadTypes: negotiated.videoReceivePayloadTypes,
                               input: options.videoInput, output: options.videoOutput)
        }
        let session: MediaSession
        do {
            session = try MediaSession(transport: link.transport, configuration: MediaConfiguration(
                keying: .dtls(fingerprint: negotiated.remoteFingerprint, setup: negotiated.dtlsRole), certificate: certificate,
                audioFormat: negotiated.audioFormat, audioSource: options.audioSource, recordURL: options.recordURL,
                video: video, direction: negotiated.direction, cname: cname, reportInterval: options.reportInterval,
                audioSSRC: audioSSRC, audioLevelExtensionID: negotiated.audioLevelExtensionID, nack: negotiated.nack), timeline: timeline)
        } catch {
            throw .media(error)
        }
        media = session
        watch(session.events)
        do {
            // A peer that trickles (no end-of-candidates yet) may still send the candidates that work, so ICE
            // must not give up when the first ones fail; then only `connectTimeout` ends the attempt.
            let early = trickledEarly
            trickledEarly = []
            try await link.setRemote(credentials: negotiated.remoteCredentials, candidates: negotiated.remoteCandidates + early,
                                     complete: negotiated.remoteEndOfCandidates || trickledEnd)
            remoteApplied = true
            // Candidates trickled while the agent took the description.
            if !trickledEarly.isEmpty || (trickledEnd && !negotiated.remoteEndOfCandidates) {
                let late = trickledEarly
                trickledEarly = []
                try await link.addRemoteCandidates(late, complete: trickledEnd)
            }
            try await link.waitUntilConnected(timeout: options.connectTimeout)
        } catch {
            throw .media(error)
        }
        if let pair = await link.selectedPair() {
            continuation.yield(.iceConnected(local: "\(pair.local.address):\(pair.local.port)", remote: "\(pair.remote.address):\(pair.remote.port)"))
        }
        if localHold || remoteHold || muted { session.hold() }
        timeline.mark("media.start")
        session.start()
    }

    // MARK: events

    private func watch(_ events: AsyncStream<JingleEvent>) {
        tasks.append(Task { [weak self] in
            for await event in events { await self?.handle(event) }
        })
    }

    private func watch(_ events: AsyncStream<MediaEvent>) {
        tasks.append(Task { [weak self] in
            for await event in events { await self?.handle(event) }
        })
    }

    private func handle(_ event: JingleEvent) async {
        switch event {
        case .received(let payload):
            switch payload.action {
            case .sessionAccept where role == .initiator && answer == nil:
                timeline.mark("accept.received")
                do {
                    answer = try JingleSDPMapper().sdp(from: payload, author: .responder)
                } catch {
                    await finish(reason: JingleReason(.failedApplication, text: "\(error)"), byPeer: false, send: true)
                    return
                }
                continuation.yield(.accepted)
                // ICE and DTLS take a while; later Jingle events (session-info, session-terminate) must not wait.
                tasks.append(Task { [weak self] in await self?.connectAfterAccept() })
            case .sessionInfo:
                for info in payload.info {
                    guard let rtp = info.payload as? RTPSessionInfo else { continue }
                    continuation.yield(rtp == .ringing ? .ringing : .peerInfo(rtp))
                    switch rtp {
                    case .hold: remoteHold = true
                    case .unhold, .active: remoteHold = false
                    default: break
                    }
                    applySending()
                }
            case .transportInfo:
                await applyTrickled(payload)
            case .contentAdd:
                // The media session's streams are fixed when it starts, so contents added mid-call (video,
                // XEP-0166 §7.2.1) are refused with content-reject (§7.2.5); offer video at session-initiate.
                try? await engine.perform(on: id) { (s: inout JingleSession) throws(JingleSessionError) in
                    try s.sendContentReject(payload.contents, reason: JingleReason(.failedApplication, text: "contents cannot be added to a running call"))
                }
            case .contentReject:
                continuation.yield(.contentRejected(payload.contents.map(\.name)))
            case .contentAccept:
                // A peer that accepts our mid-call video: we cannot start it in the running media session, so
                // the content is removed again (XEP-0166 §7.2.4) rather than left half-working.
                let names = payload.contents.map(\.name)
                try? await engine.perform(on: id) { (s: inout JingleSession) throws(JingleSessionError) in
                    try s.sendContentRemove(payload.contents, reason: JingleReason(.failedApplication, text: "video cannot start mid-call"))
                }
                continuation.yield(.contentRejected(names))
            default:
                break
            }
        case .ended(let reason, let byPeer):
            await finish(reason: reason, byPeer: byPeer, send: false)
        default:
            break
        }
    }

    /// XEP-0176 §6 / RFC 8838: candidates the peer sends in transport-info after its description. Before the
    /// description reached the ICE agent they wait in `trickledEarly`; a transport with other credentials
    /// (an ICE restart, XEP-0176 §7) is not supported by a running call and is ignored.
    private func applyTrickled(_ payload: JinglePayload) async {
        let remoteUfrag = (role == .initiator ? answer : offer).flatMap { description in
            description.media.first { !$0.isRejected && $0.iceUfrag != nil }.flatMap { description.iceUfrag(for: $0) }
        }
        let (candidates, end) = TransportMapping.trickled(in: payload.contents, remoteUfrag: remoteUfrag)
        guard !candidates.isEmpty || end else { return }
        if !remoteApplied {
            trickledEarly += candidates
            trickledEnd = trickledEnd || end
            return
        }
        do {
            try await link.addRemoteCandidates(candidates, complete: end)
        } catch {
            await finish(reason: JingleReason(.failedTransport, text: "\(error)"), byPeer: false, send: true)
        }
    }

    /// The contents with their ICE-UDP transports' candidates (and our end-of-candidates) taken out.
    static func withoutCandidates(_ contents: [JingleContent]) -> [JingleContent] {
        contents.map { content in
            var content = content
            if var transport = content.transport as? ICEUDPTransport {
                transport.candidates = []
                transport.extensions.removeAll { $0.name == "end-of-candidates" && $0.namespace == SDPMappingExtension.namespace }
                content.transport = transport
            }
            return content
        }
    }

    /// A transport-info's contents: each content's name and creator with its ICE-UDP transport (candidates,
    /// and end-of-candidates when `end`), no description (XEP-0176 §6).
    static func trickled(_ contents: [JingleContent], end: Bool) -> [JingleContent] {
        contents.compactMap { content in
            guard var transport = content.transport as? ICEUDPTransport, !transport.candidates.isEmpty else { return nil }
            if !end { transport.extensions.removeAll { $0.name == "end-of-candidates" && $0.namespace == SDPMappingExtension.namespace } }
            return JingleContent(creator: content.creator, name: content.name, senders: content.senders, description: nil, transport: transport)
        }
    }

    private func connectAfterAccept() async {
        do {
            try await connect()
        } catch {
            await finish(reason: JingleReason(error.isSecurity ? .securityError : .failedTransport, text: "\(error)"), byPeer: false, send: true)
        }
    }

    private func handle(_ event: MediaEvent) async {
        switch event {
        case .connected: continuation.yield(.connected)
        case .mediaFlowing: continuation.yield(.mediaFlowing)
        case .stats(let stats): continuation.yield(.stats(stats))
        case .ended: break
        case .failed(let error):
            let condition: JingleReason.Condition
            switch error {
            case .fingerprintMismatch, .dtls: condition = .securityError
            default: condition = .mediaError
            }
            await finish(reason: JingleReason(condition, text: "\(error)"), byPeer: false, send: true)
        }
    }

    // MARK: controls

    /// Puts the peer on hold (XEP-0167 §7): `<hold/>` is sent and our media stops.
    public func hold() async throws(CallError) {
        localHold = true
        applySending()
        try await send(.hold)
    }

    /// Ends our hold (`<unhold/>`); media goes again unless the peer holds us.
    public func unhold() async throws(CallError) {
        localHold = false
        applySending()
        try await send(.unhold)
    }

    /// Mutes our audio (`<mute/>`, XEP-0167 §5).
    public func mute() async throws(CallError) {
        muted = true
        applySending()
        try await send(.mute(creator: .initiator, name: contentName))
    }

    public func unmute() async throws(CallError) {
        muted = false
        applySending()
        try await send(.unmute(creator: .initiator, name: contentName))
    }

    /// `<active/>`: the user is back (XEP-0167 §5); ends a hold by either side as unhold does.
    public func active() async throws(CallError) {
        localHold = false
        applySending()
        try await send(.active)
    }

    /// Offers a video content mid-call with content-add (XEP-0166 §7.2.1, XEP-0167 §4), in the BUNDLE group
    /// of the audio. Peers built on this type refuse it with content-reject (`.contentRejected`); a peer that
    /// accepts gets content-remove, since the running media session cannot start video.
    public func addVideo() async throws(CallError) {
        guard let gathered, !finished else { throw .unsupported("the call is not running") }
        let sdp = CallSDP.offer(CallSDPLocal(credentials: gathered.credentials, candidates: gathered.candidates,
                                             fingerprint: certificate.fingerprint(), video: true, audioSSRC: audioSSRC, cname: cname))
        let payload: JinglePayload
        do {
            payload = try JingleSDPMapper().jingle(from: sdp, context: .init(author: role, action: .contentAdd, sid: id.sid, creator: role))
        } catch {
            throw .mapping("\(error)")
        }
        let video = payload.contents.filter { ($0.description as? RTPDescription)?.media == "video" }
        guard !video.isEmpty else { throw .mapping("no video content in the mapped description") }
        do {
            try await engine.perform(on: id) { (s: inout JingleSession) throws(JingleSessionError) in try s.sendContentAdd(video, groups: payload.groups) }
        } catch {
            throw .engine(error)
        }
    }

    private var contentName: String? { offer?.media.first?.mid }

    private func send(_ info: RTPSessionInfo) async throws(CallError) {
        do { try await engine.sendInfo(id, [JingleInfo(info)]) } catch { throw .engine(error) }
    }

    private func applySending() {
        guard let media else { return }
        if localHold || remoteHold || muted { media.hold() } else { media.resume() }
    }

    /// The media counters now.
    public var statistics: MediaStatistics { finalStatistics ?? media?.statistics ?? MediaStatistics() }

    /// Ends the call with session-terminate (`success` unless told otherwise) and returns the final counters.
    public func hangUp(reason: JingleReason = JingleReason(.success)) async -> MediaStatistics {
        await finish(reason: reason, byPeer: false, send: true)
        // The peer may have ended the call just before: its finish may still be collecting the statistics.
        await waitUntilEnded()
        return finalStatistics ?? MediaStatistics()
    }

    /// Returns once the call has ended (by either side) and its final statistics are known.
    public func waitUntilEnded() async {
        if ended { return }
        await withCheckedContinuation { endedWaiters.append($0) }
    }

    /// The peer's reason, once the peer ended the session.
    private var peerEnding: JingleReason??

    private func finish(reason: JingleReason?, byPeer: Bool, send: Bool) async {
        guard !finished else { return }
        finished = true
        if byPeer { peerEnding = .some(reason) }
        if send, let reason { try? await engine.terminate(id, reason: reason) }
        if let media { finalStatistics = await media.stop() }
        await link.close()
        continuation.yield(.ended(reason, byPeer: byPeer))
        continuation.finish()
        for task in tasks { task.cancel() }
        tasks.removeAll()
        ended = true
        for waiter in endedWaiters { waiter.resume() }
        endedWaiters.removeAll()
    }
}

extension CallError {
    var isSecurity: Bool {
        if case .media(let error) = self {
            switch error {
            case .fingerprintMismatch, .dtls: return true
            default: return false
            }
        }
        return false
    }
}
