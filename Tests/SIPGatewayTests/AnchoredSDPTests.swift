import DTLS
import ICE
import Jingle
import JingleSDP
import Media
import SDP
@testable import SIPGateway
import SRTP
import Testing

/// The SDP rewriting of `--media anchored`, without network.
struct AnchoredSDPTests {
    static let sipOffer = """
    v=0\r
    o=sipp 1 1 IN IP4 127.0.0.1\r
    s=-\r
    c=IN IP4 127.0.0.1\r
    t=0 0\r
    m=audio 40000 RTP/AVP 0 8 101\r
    a=rtpmap:0 PCMU/8000\r
    a=rtpmap:8 PCMA/8000\r
    a=rtpmap:101 telephone-event/8000\r
    a=fmtp:101 0-15\r
    a=ptime:20\r
    a=sendrecv\r
    m=video 40002 RTP/AVP 96\r
    a=rtpmap:96 VP8/90000\r

    """

    func secureLocal(setup: SDPSetupRole) throws -> AnchoredSDP.SecureLocal {
        let candidate = try ICECandidate(sdp: "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host")
        return AnchoredSDP.SecureLocal(credentials: ICECredentials(ufrag: "gwUfrag1", pwd: "gatewayIcePassword012345"),
                                       candidates: [candidate], fingerprint: try DTLSCertificate.generate().fingerprint(), setup: setup)
    }

    @Test func sipOfferBecomesAJingleOfferWithICEAndFingerprint() throws {
        let offer = try SessionDescription(parsing: Self.sipOffer)
        let secure = try AnchoredSDP.secure(from: offer, local: try secureLocal(setup: .actpass))
        let text = secure.serialized()
        #expect(secure.media.count == 1, "only the audio stream is anchored")
        #expect(text.contains("m=audio 50000 UDP/TLS/RTP/SAVPF 0 8 101"))
        #expect(text.contains("c=IN IP4 127.0.0.1"))
        #expect(text.contains("a=ice-ufrag:gwUfrag1") && text.lowercased().contains("a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host"))
        #expect(text.contains("a=fingerprint:sha-256 ") && text.contains("a=setup:actpass") && text.contains("a=rtcp-mux"))
        #expect(text.contains("a=fmtp:101 0-15") && text.contains("a=ptime:20"))
        #expect(!text.contains("40000"), "the SIP party's port must not reach the Jingle side")
        // What the Jingle side needs of it reads back.
        let peer = try AnchoredSDP.securePeer(secure)
        #expect(peer.credentials.ufrag == "gwUfrag1" && peer.candidates.count == 1 && peer.setup == .actpass)
    }

    @Test(arguments: [false, true])
    func jingleAnswerBecomesAPlainSIPAnswer(sdes: Bool) throws {
        let offer = try SessionDescription(parsing: Self.sipOffer)
        let jingleAnswer = try AnchoredSDP.secure(from: offer, local: try secureLocal(setup: .active))
        let port = try PlainRTPPort(host: "127.0.0.1")
        defer { port.close() }
        let remote = sdes ? try SRTP.SDESCryptoAttribute(parsing: "1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj") : nil
        let crypto = remote.map(AnchoredSDP.localCrypto(answering:))
        let plain = try AnchoredSDP.plain(from: jingleAnswer, local: AnchoredSDP.PlainLocal(host: "127.0.0.1", port: port.rtpPort, rtcpMux: false, crypto: crypto),
                                          template: offer)
        let text = plain.serialized()
        #expect(text.contains("m=audio \(port.rtpPort) \(sdes ? "RTP/SAVP" : "RTP/AVP") 0 8 101"))
        #expect(text.contains("c=IN IP4 127.0.0.1"))
        #expect(text.contains("m=video 0 RTP/AVP 96"), "the video m-line is refused in place (RFC 3264 §6)")
        for absent in ["a=candidate", "a=ice-", "a=fingerprint", "a=setup", "a=rtcp-mux", "a=group"] {
            #expect(!text.contains(absent), "\(absent) leaked into the SIP side")
        }
        #expect(text.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") == sdes)
        if let crypto { #expect(crypto.keyParams.first?.key != remote?.keyParams.first?.key) }
        #expect(port.rtpPort % 2 == 0 && port.rtcpPort == port.rtpPort + 1)
    }

    @Test func plainPeerFollowsRTCPAttributes() throws {
        let offer = try SessionDescription(parsing: Self.sipOffer)
        #expect(try AnchoredSDP.plainPeer(offer, muxAgreed: false) == PlainLegPeer(rtp: UDPEndpoint(host: "127.0.0.1", port: 40000),
                                                                                   rtcp: UDPEndpoint(host: "127.0.0.1", port: 40001)))
        #expect(try AnchoredSDP.plainPeer(offer, muxAgreed: true).rtcp == nil)
        var withRTCP = offer
        withRTCP.media[0].attributes.append(.rtcp(SDPRTCPAddress(port: 41234)))
        #expect(try AnchoredSDP.plainPeer(withRTCP, muxAgreed: false).rtcp == UDPEndpoint(host: "127.0.0.1", port: 41234))
    }

    @Test func offerWithoutAudioIsUnsupported() throws {
        let videoOnly = try SessionDescription(parsing: """
        v=0\r
        o=- 1 1 IN IP4 127.0.0.1\r
        s=-\r
        c=IN IP4 127.0.0.1\r
        t=0 0\r
        m=video 40002 RTP/AVP 96\r
        a=rtpmap:96 VP8/90000\r

        """)
        #expect(throws: GatewayError.unsupported("media anchoring needs an RTP audio m-line")) {
            try AnchoredSDP.secure(from: videoOnly, local: try secureLocal(setup: .actpass))
        }
    }

    @Test(arguments: [(SDPDirection.sendonly, SDPDirection.recvonly), (.inactive, .inactive), (.sendrecv, .sendrecv)])
    func holdDirectionsAndVersions(offered: SDPDirection, answered: SDPDirection) throws {
        let current = try SessionDescription(parsing: Self.sipOffer)
        let answer = AnchoredSDP.with(direction: offered.reversed, current)
        #expect(AnchoredSDP.direction(answer) == answered)
        #expect(answer.origin.sessionVersion == current.origin.sessionVersion + 1, "RFC 3264 §8: a new version for a changed description")
        #expect(answer.media[0].attributes.filter { if case .direction = $0 { true } else { false } }.count == 1)
    }

    /// A Jingle video call (audio + video in one BUNDLE group) through the anchored gateway to an audio-only
    /// SIP party: the session-accept keeps the video content, accepted inactive (senders='none') in the
    /// gateway's bundled ICE transport, instead of leaving it out (WebRTC callers need every m-line answered).
    @Test func jingleVideoOfferGetsItsVideoAnsweredInactive() throws {
        let jingleOffer = try SessionDescription(parsing: """
            v=0
            o=- 77 1 IN IP4 127.0.0.1
            s=-
            t=0 0
            a=group:BUNDLE 0 1
            m=audio 40000 UDP/TLS/RTP/SAVPF 111 0
            c=IN IP4 127.0.0.1
            a=mid:0
            a=rtcp-mux
            a=ice-ufrag:them
            a=ice-pwd:0123456789abcdefghijkl
            a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99
            a=setup:actpass
            a=rtpmap:111 opus/48000/2
            a=rtpmap:0 PCMU/8000
            m=video 40000 UDP/TLS/RTP/SAVPF 96 97
            c=IN IP4 127.0.0.1
            a=mid:1
            a=rtcp-mux
            a=rtpmap:96 VP8/90000
            a=rtpmap:97 rtx/90000
            a=fmtp:97 apt=96

            """)
        let plainAnswer = try SessionDescription(parsing: "v=0\r\no=sip 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
        let secure = try AnchoredSDP.secure(from: plainAnswer, local: try secureLocal(setup: .active), mid: "0")
        let answer = AnchoredSDP.withInactiveStreams(secure, offer: jingleOffer)
        #expect(answer.media.map(\.mid) == ["0", "1"])
        #expect(answer.bundleGroup?.identifiers == ["0", "1"])
        let video = answer.media[1]
        #expect(video.media == "video" && video.port == answer.media[0].port && video.formats == ["96", "97"])
        #expect(video.direction == .inactive)
        #expect(video.iceUfrag == "gwUfrag1" && video.candidates.isEmpty)
        // Mapped to the session-accept the gateway sends: both contents, video inactive over ICE-UDP.
        let accept = try JingleSDPMapper().jingle(from: answer, context: .init(author: .responder, action: .sessionAccept, sid: "s"))
        #expect(accept.contents.map(\.name) == ["0", "1"])
        #expect(accept.contents[1].senders == JingleSenders.none)
        #expect((accept.contents[1].transport as? ICEUDPTransport)?.ufrag == "gwUfrag1")
        // An audio-only Jingle offer is answered as before.
        var audioOnly = jingleOffer
        audioOnly.media.removeLast()
        #expect(AnchoredSDP.withInactiveStreams(secure, offer: audioOnly) == secure)
    }

    @Test func answerWithoutMIDTakesTheOffersMIDs() throws {
        var offer = try SessionDescription(parsing: Self.sipOffer)
        offer.media[0].attributes.append(.mid("audio-1"))
        let answer = try SessionDescription(parsing: Self.sipOffer)
        let named = AnchoredSDP.adoptingMIDs(of: offer, answer)
        #expect(named.media[0].mid == "audio-1")
        #expect(named.media[1].mid == nil, "an offered m-line without mid stays without")
        var own = answer
        own.media[0].attributes.append(.mid("kept"))
        #expect(AnchoredSDP.adoptingMIDs(of: offer, own).media[0].mid == "kept")
    }

    /// Delayed offer: the template becomes a Jingle offer with the gateway's transport, and the SIP caller's
    /// answer in the ACK gives the plain peer — or a clear error when it does not answer the offer.
    @Test func delayedOfferTemplateAndAnswer() throws {
        let template = try SessionDescription(parsing: AnchoredSDP.delayedOfferTemplate)
        #expect(template.media.count == 1 && template.media[0].formats == ["111", "9", "0", "8", "101"])
        let answer = """
        v=0\r
        o=pbx 1 1 IN IP4 127.0.0.1\r
        s=-\r
        c=IN IP4 127.0.0.1\r
        t=0 0\r
        m=audio 41000 RTP/AVP 0\r
        a=rtpmap:0 PCMU/8000\r
        a=rtcp-mux\r

        """
        #expect(try AnchoredSDP.delayedAnswerPeer(answer) == PlainLegPeer(rtp: UDPEndpoint(host: "127.0.0.1", port: 41000), rtcp: nil))
        let noMux = answer.replacingOccurrences(of: "a=rtcp-mux\r\n", with: "")
        #expect(try AnchoredSDP.delayedAnswerPeer(noMux).rtcp == UDPEndpoint(host: "127.0.0.1", port: 41001))
        let bad: [(String?, String)] = [
            (nil, "no SDP answer"),
            ("v=0\r\nnonsense", "the ACK's SDP"),
            (answer.replacingOccurrences(of: "m=audio 41000", with: "m=audio 0"), "RTP audio"),
            (answer.replacingOccurrences(of: "RTP/AVP", with: "RTP/SAVP"), "SRTP answer"),
        ]
        for (text, expected) in bad {
            #expect {
                try AnchoredSDP.delayedAnswerPeer(text)
            } throws: { error in
                "\(error)".contains(expected)
            }
        }
    }
}
