public import DTLS
public import ICE
public import SDP

/// The transport and security parameters one side puts into its SDP for a call.
public struct CallSDPLocal: Sendable {
    public var credentials: ICECredentials
    public var candidates: [ICECandidate]
    public var fingerprint: DTLSFingerprint
    /// Offer (or accept) a video m-line in the BUNDLE group.
    public var video: Bool
    public var direction: MediaDirection
    /// Our audio SSRC, announced as `a=ssrc:<ssrc> cname:<cname>` (RFC 5576 §4.1; in Jingle the XEP-0339
    /// `<source/>`). The media session must send with it (`MediaConfiguration.audioSSRC`); nil announces none.
    public var audioSSRC: UInt32?
    /// The RTCP CNAME announced with `audioSSRC` (RFC 3550 §6.5.1; `MediaConfiguration.cname`).
    public var cname: String?

    public init(credentials: ICECredentials, candidates: [ICECandidate], fingerprint: DTLSFingerprint,
                video: Bool = false, direction: MediaDirection = .sendrecv, audioSSRC: UInt32? = nil, cname: String? = nil) {
        self.credentials = credentials
        self.candidates = candidates
        self.fingerprint = fingerprint
        self.video = video
        self.direction = direction
        self.audioSSRC = audioSSRC
        self.cname = cname
    }
}

/// What offer/answer settled, seen from one side.
public struct NegotiatedCall: Sendable {
    public var remoteCredentials: ICECredentials
    public var remoteCandidates: [ICECandidate]
    public var remoteFingerprint: DTLSFingerprint
    /// Our DTLS role (RFC 5763 §5: `active` is the client).
    public var dtlsRole: DTLSRole
    public var audioFormat: AudioFormat
    /// The video payload type to send, and those to accept, when a video m-line was accepted.
    public var videoPayloadType: UInt8?
    public var videoReceivePayloadTypes: Set<UInt8>
    /// The direction we may use (the answer's, reversed for the offerer).
    public var direction: MediaDirection
    /// The audio SSRCs the peer announced (`a=ssrc`, XEP-0339 `<source/>`), in order; empty when it announced none.
    public var remoteAudioSSRCs: [UInt32]
    /// The one-byte header extension id both sides use for the RFC 6464 client-to-mixer audio level (the
    /// answer's `a=extmap`, RFC 8285 §7), when it was agreed.
    public var audioLevelExtensionID: UInt8?
    /// Whether generic NACK (`a=rtcp-fb:<pt> nack`, RFC 4585 §4.2 / XEP-0293) was agreed for the audio codec.
    public var nack: Bool
    /// Whether the remote description said its candidate list is complete (`a=end-of-candidates`, RFC 8840
    /// §8.2). Peers that trickle (RFC 8838; XEP-0176 transport-info after session-initiate, as most Jingle
    /// clients do) leave it out and send more candidates later.
    public var remoteEndOfCandidates = false
}

/// Builds and reads the SDP of a WebRTC-style call: ICE (no trickle, all candidates and
/// `a=end-of-candidates`), DTLS-SRTP over `UDP/TLS/RTP/SAVPF`, rtcp-mux, BUNDLE of one audio m-line (Opus
/// first, then PCMU, PCMA, telephone-event) and optionally one video m-line (VP8, H264).
///
/// The audio m-line also carries what the media session implements: generic NACK feedback
/// (`a=rtcp-fb:<pt> nack`, RFC 4585 §4.2; XEP-0293 in Jingle), the RFC 6464 audio level header extension
/// (`a=extmap`, RFC 8285; XEP-0294) and our SSRC with its CNAME (`a=ssrc`, RFC 5576; XEP-0339). An answer keeps
/// only those of the offered feedback types and extensions; video, which is relayed and not decoded, takes
/// neither.
public enum CallSDP {
    static let audioMID = "0"
    static let videoMID = "1"
    static let telephoneEventPT: UInt8 = 101
    /// RFC 7587 §7: Opus is always `opus/48000/2` in SDP; 111 is the dynamic type browsers use.
    static let opusPT: UInt8 = 111
    static let vp8PT: UInt8 = 96
    static let h264PT: UInt8 = 97
    /// RFC 6464 §4: the client-to-mixer audio level extension.
    public static let audioLevelURI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
    /// The id we offer it with (one-byte form, RFC 8285 §4.2: 1-14).
    static let audioLevelOfferedID: UInt16 = 1

    /// Whether the media session implements this RTCP feedback (only generic NACK, RFC 4585 §6.2.1).
    static func supportsFeedback(_ feedback: SDPRTCPFeedback) -> Bool {
        feedback.type == "nack" && feedback.parameter == nil
    }

    /// The offer (RFC 3264 §5, RFC 8829 §5.2 layout; `a=setup:actpass` as RFC 5763 §5 asks of an offerer).
    public static func offer(_ local: CallSDPLocal, sessionID: UInt64 = UInt64.random(in: 1...UInt64(Int64.max))) -> SessionDescription {
        let address = defaultAddress(local.candidates)
        var description = SessionDescription(
            origin: SDPOrigin(sessionID: String(sessionID), sessionVersion: 1, addressType: address.contains(":") ? "IP6" : "IP4", address: address),
            attributes: [.group(SDPGroup(semantics: "BUNDLE", identifiers: local.video ? [audioMID, videoMID] : [audioMID]))]
        )
        var audio = section(media: "audio", mid: audioMID, local: local, setup: .actpass, withCandidates: true)
        // Opus first: the offer's order is our preference (RFC 3264 §5.1), and the answerer keeps it.
        audio.formats = [String(opusPT), "0", "8", String(telephoneEventPT)]
        audio.attributes += [
            .extmap(SDPExtmap(id: audioLevelOfferedID, uri: audioLevelURI)),
            .rtpmap(SDPRTPMap(payloadType: opusPT, encodingName: "opus", clockRate: 48000, channels: 2)),
            // RFC 7587 §6.1: we send mono (stereo=0 is the default) with in-band FEC.
            .fmtp(SDPFormatParameters(format: String(opusPT), parameters: [
                SDPFormatParameter(name: "minptime", value: "10"), SDPFormatParameter(name: "useinbandfec", value: "1"),
            ])),
            .rtcpFeedback(SDPRTCPFeedback(format: .format(String(opusPT)), type: "nack")),
            .rtpmap(SDPRTPMap(payloadType: 0, encodingName: "PCMU", clockRate: 8000)),
            .rtcpFeedback(SDPRTCPFeedback(format: .format("0"), type: "nack")),
            .rtpmap(SDPRTPMap(payloadType: 8, encodingName: "PCMA", clockRate: 8000)),
            .rtcpFeedback(SDPRTCPFeedback(format: .format("8"), type: "nack")),
            .rtpmap(SDPRTPMap(payloadType: telephoneEventPT, encodingName: "telephone-event", clockRate: 8000)),
            .fmtp(SDPFormatParameters(format: String(telephoneEventPT), parameters: [SDPFormatParameter(name: nil, value: "0-16")])),
            .ptime(20),
        ]
        audio.attributes += sourceAttributes(local)
        description.media.append(audio)
        if local.video {
            var video = section(media: "video", mid: videoMID, local: local, setup: .actpass, withCandidates: false)
            video.formats = [String(vp8PT), String(h264PT)]
            video.attributes += [
                .rtpmap(SDPRTPMap(payloadType: vp8PT, encodingName: "VP8", clockRate: 90000)),
                .rtpmap(SDPRTPMap(payloadType: h264PT, encodingName: "H264", clockRate: 90000)),
                .fmtp(SDPFormatParameters(format: String(h264PT), parameters: [
                    SDPFormatParameter(name: "level-asymmetry-allowed", value: "1"),
                    SDPFormatParameter(name: "packetization-mode", value: "1"),
                    SDPFormatParameter(name: "profile-level-id", value: "42e01f"),
                ])),
            ]
            description.media.append(video)
        }
        return description
    }

    /// The answer (RFC 3264 §6) built by `SessionDescription.answer(to:capabilities:origin:)`: the offered
    /// PCMU/PCMA/telephone-event (and VP8/H264 with `video`) kept in the offer's order.
    public static func answer(to offer: SessionDescription, _ local: CallSDPLocal,
                              sessionID: UInt64 = UInt64.random(in: 1...UInt64(Int64.max))) throws(MediaError) -> SessionDescription {
        var codecs = [
            SDPCodecCapability(name: "opus", clockRate: 48000, channels: 2),
            SDPCodecCapability(name: "PCMU", clockRate: 8000),
            SDPCodecCapability(name: "PCMA", clockRate: 8000),
            SDPCodecCapability(name: "telephone-event", clockRate: 8000),
        ]
        if local.video {
            codecs += [SDPCodecCapability(name: "VP8", clockRate: 90000), SDPCodecCapability(name: "H264", clockRate: 90000)]
        } else {
            // Without video, an offered video stream is still accepted, but inactive (RFC 3264 §6.1), with the
            // offered codecs: Jingle has no way to refuse one content in session-accept (a content without
            // transport is not one), and WebRTC peers such as Conversations need an answer m-line for every
            // offered one, so a video call answered by an audio-only party goes on with audio.
            for section in offer.media where section.media == "video" && !section.isRejected {
                for map in section.rtpMaps where !codecs.contains(where: { $0.name.lowercased() == map.encodingName.lowercased() && $0.clockRate == map.clockRate }) {
                    codecs.append(SDPCodecCapability(name: map.encodingName, clockRate: map.clockRate, channels: map.channels))
                }
            }
        }
        let address = defaultAddress(local.candidates)
        let capabilities = SDPLocalCapabilities(
            codecs: codecs, mediaKinds: ["audio", "video"], direction: sdpDirection(local.direction),
            iceUfrag: local.credentials.ufrag, icePwd: local.credentials.pwd,
            candidates: try local.candidates.map(sdpCandidate), candidatesComplete: true,
            fingerprint: SDPFingerprint(hashFunction: local.fingerprint.algorithm, fingerprint: local.fingerprint.value),
            headerExtensions: [audioLevelURI]
        )
        var answer: SessionDescription
        do {
            answer = try SessionDescription.answer(
                to: offer, capabilities: capabilities,
                origin: SDPOrigin(sessionID: String(sessionID), sessionVersion: 1, addressType: address.contains(":") ? "IP6" : "IP4", address: address))
        } catch {
            throw .negotiation("cannot answer the offer: \(error)")
        }
        // The generic answer echoes every offered rtcp-fb of a kept codec; keep only the feedback we act on
        // (RFC 4585 §4.2: the answerer removes what it does not support), and on video (relayed) none, nor
        // the audio level extension. Our SSRC goes into the first accepted audio m-line (RFC 5576 §4.1).
        var sourcesWritten = false
        for index in answer.media.indices where !answer.media[index].isRejected {
            let isAudio = answer.media[index].media == "audio"
            if !isAudio && !local.video {
                answer.media[index].attributes.removeAll { if case .direction = $0 { true } else { false } }
                answer.media[index].attributes.append(.direction(.inactive))
            }
            answer.media[index].attributes.removeAll { attribute in
                switch attribute {
                case .rtcpFeedback(let feedback): !isAudio || !supportsFeedback(feedback)
                case .extmap(let extmap): !isAudio || extmap.uri != audioLevelURI || extmap.id > 14
                default: false
                }
            }
            if isAudio, !sourcesWritten {
                answer.media[index].attributes += sourceAttributes(local)
                sourcesWritten = true
            }
        }
        return answer
    }

    /// Reads what was agreed from the answer and the peer's description (the remote one is the answer for the
    /// offerer and the offer for the answerer).
    public static func negotiate(offer: SessionDescription, answer: SessionDescription, weAreOfferer: Bool) throws(MediaError) -> NegotiatedCall {
        let remote = weAreOfferer ? answer : offer
        guard let answerAudio = answer.media.first(where: { $0.media == "audio" && !$0.isRejected }) else {
            throw .negotiation("the answer accepts no audio m-line (no common codec?)")
        }
        guard let remoteAudio = remote.media.first(where: { $0.media == "audio" && !$0.isRejected }) else {
            throw .negotiation("no audio m-line in the remote description")
        }
        // With BUNDLE the transport lines sit in the first m-line of the group (RFC 8843 §7.1.3); look there
        // too, and at session level.
        let transportSection = remote.media.first { !$0.isRejected && $0.iceUfrag != nil } ?? remoteAudio
        guard let ufrag = remote.iceUfrag(for: transportSection), let pwd = remote.icePwd(for: transportSection) else {
            throw .negotiation("the remote description has no a=ice-ufrag/a=ice-pwd (RFC 8839 §5.4)")
        }
        let credentials = ICECredentials(ufrag: ufrag, pwd: pwd)
        do {
            try credentials.validate()
        } catch {
            throw .negotiation("remote ICE credentials: \(error)")
        }
        var candidates: [ICECandidate] = []
        for section in remote.media where !section.isRejected {
            for candidate in section.candidates where candidate.component == 1 {
                // Candidates this agent cannot use (ICE-TCP, RFC 6544, is off; mDNS names) are skipped, as
                // RFC 8839 §5.1 allows.
                if let parsed = try? ICECandidate(sdp: candidate.serialized()), parsed.transport == .udp, !candidates.contains(parsed) {
                    candidates.append(parsed)
                }
            }
        }
        guard let fingerprintAttribute = remote.fingerprints(for: transportSection).first else {
            throw .negotiation("the remote description has no a=fingerprint (RFC 8122 §5)")
        }
        let fingerprint: DTLSFingerprint
        do {
            fingerprint = try DTLSFingerprint(algorithm: fingerprintAttribute.hashFunction, value: fingerprintAttribute.fingerprint)
        } catch {
            throw .negotiation("remote fingerprint: \(error)")
        }
        let answerSetup = answer.setup(for: answerAudio) ?? .active
        let role: DTLSRole
        switch answerSetup {
        case .active: role = weAreOfferer ? .server : .client
        case .passive: role = weAreOfferer ? .client : .server
        case .actpass, .holdconn: throw .negotiation("the answer has a=setup:\(answerSetup.rawValue) (RFC 5763 §5 wants active or passive)")
        }

        var audioFormat: AudioFormat?
        var telephoneEvent: UInt8?
        for format in answerAudio.formats {
            guard let map = answerAudio.codec(for: format), let payloadType = UInt8(format) else { continue }
            switch map.encodingName.uppercased() {
            case "PCMU" where map.clockRate == 8000 && audioFormat == nil: audioFormat = AudioFormat(codec: .pcmu, payloadType: payloadType)
            case "PCMA" where map.clockRate == 8000 && audioFormat == nil: audioFormat = AudioFormat(codec: .pcma, payloadType: payloadType)
            case "OPUS" where map.clockRate == 48000 && map.channels == 2 && audioFormat == nil:
                audioFormat = AudioFormat(codec: .opus, payloadType: payloadType)
            case "TELEPHONE-EVENT" where map.clockRate == 8000: telephoneEvent = telephoneEvent ?? payloadType
            default: break
            }
        }
        guard var chosen = audioFormat else { throw .negotiation("no Opus, PCMU or PCMA in the answer's audio m-line") }
        chosen.telephoneEventPayloadType = telephoneEvent

        var videoPT: UInt8?
        var videoReceive: Set<UInt8> = []
        if let answerVideo = answer.media.first(where: { $0.media == "video" && !$0.isRejected }) {
            for format in answerVideo.formats {
                guard let map = answerVideo.codec(for: format), let payloadType = UInt8(format) else { continue }
                if ["VP8", "H264"].contains(map.encodingName.uppercased()) {
                    videoReceive.insert(payloadType)
                    if videoPT == nil { videoPT = payloadType }
                }
            }
        }
        let answered = mediaDirection(answerAudio.effectiveDirection(in: answer))
        let direction = weAreOfferer ? answered.reversed : answered
        var remoteSSRCs: [UInt32] = []
        for source in remoteAudio.sources where !remoteSSRCs.contains(source.ssrc) { remoteSSRCs.append(source.ssrc) }
        // RFC 8285 §7: the answer's id is the one both sides use; the one-byte form only carries ids 1-14.
        let levelID = answerAudio.extmaps.first { $0.uri == audioLevelURI && (1...14).contains($0.id) && $0.direction != .inactive }
            .map { UInt8($0.id) }
        let chosenFormat = String(chosen.payloadType)
        let nack = answerAudio.rtcpFeedback.contains { feedback in
            supportsFeedback(feedback) && (feedback.format == .all || feedback.format == .format(chosenFormat))
        }
        var negotiated = NegotiatedCall(remoteCredentials: credentials, remoteCandidates: candidates, remoteFingerprint: fingerprint,
                                        dtlsRole: role, audioFormat: chosen, videoPayloadType: videoPT,
                                        videoReceivePayloadTypes: videoReceive, direction: direction, remoteAudioSSRCs: remoteSSRCs,
                                        audioLevelExtensionID: levelID, nack: nack)
        negotiated.remoteEndOfCandidates = remote.media.contains { !$0.isRejected && $0.endOfCandidates }
        return negotiated
    }

    /// `a=ssrc:<ssrc> cname:<cname>` for our audio source (RFC 5576 §4.1, §6.1: cname is the one required attribute).
    private static func sourceAttributes(_ local: CallSDPLocal) -> [SDPAttribute] {
        guard let ssrc = local.audioSSRC else { return [] }
        return [.ssrc(SDPSourceAttribute(ssrc: ssrc, name: "cname", value: local.cname ?? "swiftjingle"))]
    }

    // MARK: - Helpers

    private static func section(media: String, mid: String, local: CallSDPLocal, setup: SDPSetupRole, withCandidates: Bool) -> SDPMediaDescription {
        let first = local.candidates.first
        var section = SDPMediaDescription(
            media: media, port: first?.port ?? 9, proto: "UDP/TLS/RTP/SAVPF", formats: [],
            connections: [SDPConnection(addressType: (first?.address ?? "").contains(":") ? "IP6" : "IP4", address: first?.address ?? "0.0.0.0")]
        )
        section.attributes = [
            .mid(mid), .direction(sdpDirection(local.direction)), .rtcpMux,
            .iceUfrag(local.credentials.ufrag), .icePwd(local.credentials.pwd),
            .fingerprint(SDPFingerprint(hashFunction: local.fingerprint.algorithm, fingerprint: local.fingerprint.value)),
            .setup(setup),
        ]
        if withCandidates {
            section.attributes += local.candidates.compactMap { try? SDPAttribute.candidate(sdpCandidate($0)) }
            section.attributes.append(.endOfCandidates)
        }
        return section
    }

    private static func defaultAddress(_ candidates: [ICECandidate]) -> String {
        candidates.first?.address ?? "0.0.0.0"
    }

    static func sdpCandidate(_ candidate: ICECandidate) throws(MediaError) -> SDPCandidate {
        do {
            return try SDPCandidate(parsing: candidate.sdpAttributeValue)
        } catch {
            throw .negotiation("local candidate \(candidate.sdpAttributeValue): \(error)")
        }
    }

    static func sdpDirection(_ direction: MediaDirection) -> SDPDirection {
        switch direction {
        case .sendrecv: .sendrecv
        case .sendonly: .sendonly
        case .recvonly: .recvonly
        case .inactive: .inactive
        }
    }

    static func mediaDirection(_ direction: SDPDirection) -> MediaDirection {
        switch direction {
        case .sendrecv: .sendrecv
        case .sendonly: .sendonly
        case .recvonly: .recvonly
        case .inactive: .inactive
        }
    }
}

extension MediaDirection {
    /// The direction seen from the other side.
    public var reversed: MediaDirection {
        switch self {
        case .sendrecv: .sendrecv
        case .sendonly: .recvonly
        case .recvonly: .sendonly
        case .inactive: .inactive
        }
    }
}
