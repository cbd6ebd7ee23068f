import DTLS
import ICE
import Media
import SDP
import SRTP

/// The SDP rewriting of the media-anchored gateway: each leg sees the gateway as its media peer.
///
/// - Jingle leg: the RTP description as the other party wrote it (codecs, payload types, ptime, direction),
///   with the gateway's ICE-UDP credentials and candidates (RFC 8839), its DTLS fingerprint and setup role
///   (RFC 8122, RFC 5763 §5), rtcp-mux (RFC 5761) and a one-member BUNDLE group, `UDP/TLS/RTP/SAVPF`.
/// - SIP leg: the same description over the gateway's UDP port (`c=`/`m=`), `RTP/AVP` — or `RTP/SAVP` with
///   the gateway's own `a=crypto` when the SIP offer carried SDES (RFC 4568) — and no ICE.
///
/// One audio stream is anchored; other m-lines of a SIP offer are refused (port 0, RFC 3264 §6) and an
/// offer without audio is `unsupported`.
enum AnchoredSDP {
    static let secureMID = "0"

    /// What the gateway puts on the Jingle leg for itself.
    struct SecureLocal {
        var credentials: ICECredentials
        var candidates: [ICECandidate]
        var fingerprint: DTLS.DTLSFingerprint
        var setup: SDPSetupRole
    }

    /// What the gateway puts on the SIP leg for itself.
    struct PlainLocal {
        var host: String
        var port: UInt16
        var rtcpMux: Bool
        /// Our SDES key (RTP/SAVP) when the SIP side uses SDES.
        var crypto: SDESCryptoAttribute?
    }

    /// What the gateway needs of the Jingle peer's description.
    struct SecurePeer {
        var credentials: ICECredentials
        var candidates: [ICECandidate]
        var fingerprint: DTLS.DTLSFingerprint
        var setup: SDPSetupRole?
        /// `a=end-of-candidates` (RFC 8840 §8.2): the list is complete; without it more may be trickled.
        var endOfCandidates = false
    }

    /// The index of the anchored (first usable audio) m-line.
    static func anchoredIndex(_ description: SessionDescription) throws(GatewayError) -> Int {
        guard let index = description.media.firstIndex(where: { $0.media == "audio" && !$0.isRejected && $0.proto.uppercased().contains("RTP/") }) else {
            throw .unsupported("media anchoring needs an RTP audio m-line")
        }
        return index
    }

    // MARK: plain -> secure

    /// The Jingle-leg description built from a SIP-leg one (offer or answer): only the anchored m-line.
    /// - Parameter mid: the m-line's mid, which names the Jingle content: for an answer, the offer's.
    static func secure(from plain: SessionDescription, local: SecureLocal, mid: String = secureMID) throws(GatewayError) -> SessionDescription {
        let index = try anchoredIndex(plain)
        var section = plain.media[index]
        let address = local.candidates.first?.address ?? "0.0.0.0"
        section.port = local.candidates.first?.port ?? 9
        section.proto = "UDP/TLS/RTP/SAVPF"
        section.connections = [SDPConnection(addressType: address.contains(":") ? "IP6" : "IP4", address: address)]
        section.attributes = section.attributes.filter(keepOnSecureLeg)
        if section.direction == nil, let direction = plain.attributes.first(where: { if case .direction = $0 { true } else { false } }) {
            section.attributes.append(direction)
        }
        section.attributes.insert(.mid(mid), at: 0)
        section.attributes += [
            .rtcpMux,
            .iceUfrag(local.credentials.ufrag), .icePwd(local.credentials.pwd),
            .fingerprint(SDPFingerprint(hashFunction: local.fingerprint.algorithm, fingerprint: local.fingerprint.value)),
            .setup(local.setup),
        ]
        for candidate in local.candidates {
            if let parsed = try? SDPCandidate(parsing: candidate.sdpAttributeValue) { section.attributes.append(.candidate(parsed)) }
        }
        section.attributes.append(.endOfCandidates)
        return SessionDescription(
            origin: SDPOrigin(sessionID: plain.origin.sessionID, sessionVersion: plain.origin.sessionVersion,
                              addressType: address.contains(":") ? "IP6" : "IP4", address: address),
            attributes: [.group(SDPGroup(semantics: "BUNDLE", identifiers: [mid]))],
            media: [section])
    }

    /// The Jingle-leg answer (`secure`, the anchored stream only) completed with every other stream of the
    /// Jingle offer, accepted inactive (RFC 3264 §6.1) in the same BUNDLE transport: the gateway anchors one
    /// audio stream, and Jingle cannot refuse a content inside session-accept, while WebRTC callers (a
    /// Conversations video call) need an answer m-line for each offered one. The m-lines keep the offer's
    /// order; each carries the gateway's ICE credentials and fingerprint, no candidates. Only streams of the
    /// offer's BUNDLE group are added (the gateway runs one ICE session).
    static func withInactiveStreams(_ secure: SessionDescription, offer: SessionDescription) -> SessionDescription {
        // Without BUNDLE each stream would need an ICE session of its own, which the gateway does not run.
        guard let anchored = secure.media.first, let anchoredMID = anchored.mid, let bundle = offer.bundleGroup,
              bundle.identifiers.contains(anchoredMID) else { return secure }
        let others = offer.media.filter { !$0.isRejected && $0.mid.map(bundle.identifiers.contains) == true && $0.mid != anchoredMID }
        guard !others.isEmpty else { return secure }
        var answer = secure
        answer.media = offer.media.compactMap { offered -> SDPMediaDescription? in
            guard let mid = offered.mid, !offered.isRejected, bundle.identifiers.contains(mid) else { return nil }
            return mid == anchoredMID ? anchored : OfferLayout.inactive(offered, mid: mid, carrier: anchored, in: secure)
        }
        if !answer.media.contains(where: { $0.mid == anchoredMID }) { answer.media.insert(anchored, at: 0) }
        answer.attributes.removeAll { if case .group = $0 { true } else { false } }
        answer.attributes.append(.group(SDPGroup(semantics: "BUNDLE", identifiers: answer.media.compactMap(\.mid))))
        return answer
    }

    /// Attributes of the RTP description that cross to the Jingle leg (transport and keying are the gateway's).
    private static func keepOnSecureLeg(_ attribute: SDPAttribute) -> Bool {
        switch attribute {
        case .candidate, .endOfCandidates, .remoteCandidates, .iceUfrag, .icePwd, .iceOptions, .iceLite, .fingerprint, .setup,
             .crypto, .rtcp, .rtcpMux, .mid, .group:
            false
        default:
            true
        }
    }

    // MARK: secure -> plain

    /// The SIP-leg description built from a Jingle-leg one.
    /// - Parameter template: for an answer, the SIP offer: its other m-lines come back refused, in order.
    static func plain(from secure: SessionDescription, local: PlainLocal, template: SessionDescription? = nil) throws(GatewayError) -> SessionDescription {
        let index = try anchoredIndex(secure)
        var section = secure.media[index]
        section.port = local.port
        section.proto = local.crypto == nil ? "RTP/AVP" : "RTP/SAVP"
        section.connections = []
        section.attributes = section.attributes.filter(keepOnPlainLeg)
        if local.rtcpMux { section.attributes.append(.rtcpMux) }
        if let crypto = local.crypto {
            section.attributes.append(.crypto(SDPCrypto(tag: UInt32(crypto.tag), suite: crypto.profile.sdesName,
                                                        keyParams: crypto.keyParams.map(\.formatted).joined(separator: ";"))))
        }
        var media = [section]
        if let template {
            let anchored = (try? anchoredIndex(template)) ?? 0
            media = template.media.enumerated().map { offset, offered in
                if offset == anchored { return section }
                var refused = offered
                refused.port = 0
                refused.attributes = []
                return refused
            }
        }
        let type = local.host.contains(":") ? "IP6" : "IP4"
        return SessionDescription(
            origin: SDPOrigin(username: "gateway", sessionID: secure.origin.sessionID, sessionVersion: secure.origin.sessionVersion,
                              addressType: type, address: local.host),
            connection: SDPConnection(addressType: type, address: local.host),
            media: media)
    }

    private static func keepOnPlainLeg(_ attribute: SDPAttribute) -> Bool {
        switch attribute {
        case .candidate, .endOfCandidates, .remoteCandidates, .iceUfrag, .icePwd, .iceOptions, .iceLite, .fingerprint, .setup,
             .crypto, .rtcp, .rtcpMux, .rtcpRsize, .rtcpFeedback, .extmap, .extmapAllowMixed, .group, .msidSemantic:
            false
        default:
            true
        }
    }

    // MARK: reading the peers

    /// The Jingle peer's ICE and DTLS parameters (with BUNDLE they may sit in the first m-line or at session level).
    static func securePeer(_ description: SessionDescription) throws(GatewayError) -> SecurePeer {
        let section = description.media[try anchoredIndex(description)]
        guard let ufrag = description.iceUfrag(for: section), let pwd = description.icePwd(for: section) else {
            throw .invalidSDP("the Jingle side has no ICE credentials (RFC 8839 §5.4)")
        }
        guard let attribute = description.fingerprints(for: section).first,
              let fingerprint = try? DTLS.DTLSFingerprint(algorithm: attribute.hashFunction, value: attribute.fingerprint) else {
            throw .invalidSDP("the Jingle side has no usable DTLS fingerprint (XEP-0320, RFC 8122 §5)")
        }
        var candidates: [ICECandidate] = []
        for candidate in section.candidates where candidate.component == 1 {
            // ICE-TCP and mDNS candidates are skipped (RFC 8839 §5.1 lets an agent ignore what it cannot use).
            if let parsed = try? ICECandidate(sdp: candidate.serialized()), parsed.transport == .udp, !candidates.contains(parsed) {
                candidates.append(parsed)
            }
        }
        var peer = SecurePeer(credentials: ICECredentials(ufrag: ufrag, pwd: pwd), candidates: candidates, fingerprint: fingerprint,
                              setup: description.setup(for: section))
        peer.endOfCandidates = section.endOfCandidates
        return peer
    }

    /// Where the SIP peer receives RTP and RTCP (RFC 3605 `a=rtcp`, RFC 5761 `a=rtcp-mux`).
    static func plainPeer(_ description: SessionDescription, muxAgreed: Bool) throws(GatewayError) -> PlainLegPeer {
        let section = description.media[try anchoredIndex(description)]
        guard let connection = description.connection(for: section) else { throw .invalidSDP("the SIP side's m=audio has no c= line") }
        let rtp = UDPEndpoint(host: connection.address, port: section.port)
        if muxAgreed { return PlainLegPeer(rtp: rtp, rtcp: nil) }
        for attribute in section.attributes {
            if case .rtcp(let address) = attribute {
                return PlainLegPeer(rtp: rtp, rtcp: UDPEndpoint(host: address.connection?.address ?? connection.address, port: address.port))
            }
        }
        return PlainLegPeer(rtp: rtp, rtcp: UDPEndpoint(host: connection.address, port: section.port &+ 1))
    }

    /// What the anchored gateway offers when a SIP caller's INVITE has no SDP (delayed offer): the codecs
    /// WebRTC and SIP phones share, as a plain offer the Jingle offer is built from (`secure(from:)`); the
    /// Jingle party picks among them, and the gateway's 200 offers the SIP caller what it picked.
    static let delayedOfferTemplate = [
        "v=0", "o=gateway 0 0 IN IP4 0.0.0.0", "s=-", "c=IN IP4 0.0.0.0", "t=0 0",
        "m=audio 9 RTP/AVP 111 9 0 8 101",
        "a=rtpmap:111 opus/48000/2", "a=fmtp:111 minptime=10;useinbandfec=1",
        "a=rtpmap:9 G722/8000", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=sendrecv",
    ].map { $0 + "\r\n" }.joined()

    /// Where the SIP caller receives media, from its answer (in the ACK) to the gateway's offer in the 200.
    static func delayedAnswerPeer(_ text: String?) throws(GatewayError) -> PlainLegPeer {
        guard let text else { throw .invalidSDP("the ACK carries no SDP answer") }
        let answer: SessionDescription
        do { answer = try SessionDescription(parsing: text) } catch { throw .invalidSDP("the ACK's SDP: \(error)") }
        // anchoredIndex skips refused (port 0) m-lines: an answer refusing the audio fails there.
        let section = answer.media[try anchoredIndex(answer)]
        guard !section.formats.isEmpty else { throw .invalidSDP("the SIP caller refused the audio stream") }
        guard !section.proto.uppercased().contains("SAVP") else { throw .invalidSDP("an SRTP answer to a plain RTP offer") }
        return try plainPeer(answer, muxAgreed: section.rtcpMux)
    }

    /// The SIP peer's SDES key of the anchored m-line, the first with a suite we run (RFC 4568 §7.1.1: the
    /// answerer picks one).
    static func plainCrypto(_ description: SessionDescription) -> SDESCryptoAttribute? {
        guard let index = try? anchoredIndex(description), description.media[index].proto.uppercased().contains("SAVP") else { return nil }
        for crypto in description.media[index].cryptos {
            let text = "\(crypto.tag) \(crypto.suite) \(crypto.keyParams)" + (crypto.sessionParams.map { " \($0)" } ?? "")
            if let parsed = try? SDESCryptoAttribute(parsing: text) { return parsed }
        }
        return nil
    }

    /// A fresh SDES key answering `remote` (same tag and suite, RFC 4568 §7.1.2).
    static func localCrypto(answering remote: SDESCryptoAttribute) -> SDESCryptoAttribute {
        var generator = SystemRandomNumberGenerator()
        let key = (0..<remote.profile.keyLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let salt = (0..<remote.profile.saltLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return SDESCryptoAttribute(tag: remote.tag, profile: remote.profile, keyParams: [SDESKeyParams(key: key, salt: salt)])
    }

    /// An answer's m-lines named like the offer's, by position (RFC 3264 §6: the answer has the offer's m-lines
    /// in order): SIP answers often leave out `a=mid`, which names the Jingle content the answer must match.
    static func adoptingMIDs(of offer: SessionDescription, _ answer: SessionDescription) -> SessionDescription {
        var answer = answer
        for index in answer.media.indices where index < offer.media.count && answer.media[index].mid == nil {
            if let mid = offer.media[index].mid { answer.media[index].attributes.insert(.mid(mid), at: 0) }
        }
        return answer
    }

    /// The direction of the anchored m-line (media level, else session level, else sendrecv).
    static func direction(_ description: SessionDescription) -> SDPDirection {
        guard let index = try? anchoredIndex(description) else { return .sendrecv }
        return description.media[index].effectiveDirection(in: description)
    }

    /// `description` with the anchored m-line's direction set and the origin's version bumped (RFC 3264 §8).
    static func with(direction: SDPDirection, _ description: SessionDescription) -> SessionDescription {
        var description = description
        description.origin.sessionVersion += 1
        description.attributes.removeAll { if case .direction = $0 { true } else { false } }
        if let index = try? anchoredIndex(description) {
            description.media[index].attributes.removeAll { if case .direction = $0 { true } else { false } }
            description.media[index].attributes.append(.direction(direction))
        }
        return description
    }
}
