import DTLS
import Foundation
import ICE
@testable import Media
import SDP
import Synchronization
import Testing

/// RTCP feedback (RFC 4585, XEP-0293), header extensions (RFC 8285, XEP-0294) and sources (RFC 5576,
/// XEP-0339) in the call's offer and answer, and what the media session does with them.
@Suite("CallSDP: rtcp-fb, extmap and ssrc", .serialized)
struct CallSDPExtensionsTests {
    static let credentials = ICECredentials(ufrag: "abcd", pwd: "0123456789abcdefghijkl")

    static func local(ssrc: UInt32? = 0x1234_5678, cname: String? = "ours@example") throws -> CallSDPLocal {
        let candidate = try ICECandidate(sdp: "candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host")
        return CallSDPLocal(credentials: credentials, candidates: [candidate], fingerprint: try DTLSCertificate.generate().fingerprint(),
                            audioSSRC: ssrc, cname: cname)
    }

    /// A browser-like offer: feedback we implement (nack) and some we do not (nack pli, transport-cc,
    /// goog-remb, ccm fir), header extensions we do (audio level) and do not understand, two SSRCs in a FID group.
    static let browserOffer = """
        v=0
        o=- 4611731400430051336 2 IN IP4 127.0.0.1
        s=-
        t=0 0
        a=group:BUNDLE 0
        m=audio 40002 UDP/TLS/RTP/SAVPF 0 8 101
        c=IN IP4 127.0.0.1
        a=mid:0
        a=sendrecv
        a=rtcp-mux
        a=ice-ufrag:wxyz
        a=ice-pwd:abcdefghijkl0123456789
        a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99
        a=setup:actpass
        a=candidate:1 1 udp 2130706431 127.0.0.1 40002 typ host
        a=end-of-candidates
        a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
        a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
        a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
        a=rtpmap:0 PCMU/8000
        a=rtcp-fb:0 nack
        a=rtcp-fb:0 nack pli
        a=rtcp-fb:0 transport-cc
        a=rtpmap:8 PCMA/8000
        a=rtcp-fb:8 goog-remb
        a=rtpmap:101 telephone-event/8000
        a=rtcp-fb:* ccm fir
        a=rtcp-fb:* nack
        a=ssrc-group:FID 11111 22222
        a=ssrc:11111 cname:theirs
        a=ssrc:11111 msid:stream track
        a=ssrc:22222 cname:theirs

        """.replacingOccurrences(of: "\n", with: "\r\n")

    @Test("the offer's audio m-line carries rtcp-fb nack per codec (opus, PCMU, PCMA), the audio level extmap and our ssrc with its cname")
    func offerCarriesThem() throws {
        let offer = CallSDP.offer(try Self.local())
        let reparsed = try SessionDescription(parsing: offer.serialized())
        let audio = try #require(reparsed.media.first { $0.media == "audio" })
        #expect(Set(audio.rtcpFeedback) == [SDPRTCPFeedback(format: .format("111"), type: "nack"), SDPRTCPFeedback(format: .format("0"), type: "nack"),
                                            SDPRTCPFeedback(format: .format("8"), type: "nack")])
        #expect(audio.extmaps == [SDPExtmap(id: 1, uri: CallSDP.audioLevelURI)])
        #expect(audio.sources == [SDPSourceAttribute(ssrc: 0x1234_5678, name: "cname", value: "ours@example")])
    }

    @Test("without an SSRC to announce the offer has no a=ssrc line")
    func offerWithoutSSRC() throws {
        let offer = CallSDP.offer(try Self.local(ssrc: nil))
        #expect(offer.media.allSatisfy { $0.sources.isEmpty })
    }

    @Test("the answer to a browser offer keeps nack and the audio level extension (same id), drops the rest, adds our ssrc")
    func answerKeepsWhatWeSupport() throws {
        let offer = try SessionDescription(parsing: Self.browserOffer)
        let answer = try SessionDescription(parsing: try CallSDP.answer(to: offer, try Self.local(ssrc: 0xCAFE_F00D, cname: "answerer")).serialized())
        let audio = try #require(answer.media.first)
        #expect(!audio.isRejected)
        #expect(Set(audio.rtcpFeedback) == [SDPRTCPFeedback(format: .format("0"), type: "nack"), SDPRTCPFeedback(format: .all, type: "nack")],
                "\(audio.rtcpFeedback)")
        #expect(audio.extmaps.map(\.id) == [5], "RFC 8285 §7: the offered id is kept")
        #expect(audio.extmaps.map(\.uri) == [CallSDP.audioLevelURI])
        #expect(audio.sources == [SDPSourceAttribute(ssrc: 0xCAFE_F00D, name: "cname", value: "answerer")])
        #expect(audio.sourceGroups.isEmpty, "the offerer's FID group describes its own sources, not ours")

        let ours = try CallSDP.negotiate(offer: offer, answer: answer, weAreOfferer: false)
        #expect(ours.remoteAudioSSRCs == [11111, 22222])
        #expect(ours.audioLevelExtensionID == 5)
        #expect(ours.nack)
        let theirs = try CallSDP.negotiate(offer: offer, answer: answer, weAreOfferer: true)
        #expect(theirs.remoteAudioSSRCs == [0xCAFE_F00D])
    }

    /// A video call (Conversations offers audio + video in one BUNDLE group) answered without video: the video
    /// m-line is accepted inactive with the offered codecs, so the Jingle session-accept can carry it (a
    /// refused content has no transport) and a WebRTC offerer gets an m-line for each of its own.
    @Test("an audio-only answer to a video offer keeps the video m-line, inactive, with the offered codecs")
    func audioOnlyAnswerToVideoOffer() throws {
        let text = Self.browserOffer.replacingOccurrences(of: "a=group:BUNDLE 0", with: "a=group:BUNDLE 0 1") + """
            m=video 40002 UDP/TLS/RTP/SAVPF 96 97 98
            c=IN IP4 127.0.0.1
            a=mid:1
            a=sendrecv
            a=rtcp-mux
            a=ice-ufrag:wxyz
            a=ice-pwd:abcdefghijkl0123456789
            a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99
            a=setup:actpass
            a=rtpmap:96 VP9/90000
            a=rtpmap:97 rtx/90000
            a=fmtp:97 apt=96
            a=rtpmap:98 AV1/90000

            """
        let offer = try SessionDescription(parsing: text)
        let answer = try SessionDescription(parsing: try CallSDP.answer(to: offer, try Self.local()).serialized())
        #expect(answer.media.map(\.media) == ["audio", "video"])
        let video = answer.media[1]
        #expect(!video.isRejected)
        #expect(video.formats == ["96", "97", "98"])
        #expect(video.direction == .inactive)
        #expect(answer.bundleGroup?.identifiers == ["0", "1"])
        #expect(answer.media[0].direction == .sendrecv)
    }

    @Test("an answer without rtcp-fb or extmap turns NACK and the audio level off")
    func answerWithoutThem() throws {
        let offer = CallSDP.offer(try Self.local())
        var answer = try CallSDP.answer(to: offer, try Self.local(ssrc: 42))
        for index in answer.media.indices {
            answer.media[index].attributes.removeAll {
                if case .rtcpFeedback = $0 { return true }
                if case .extmap = $0 { return true }
                return false
            }
        }
        let negotiated = try CallSDP.negotiate(offer: offer, answer: answer, weAreOfferer: true)
        #expect(!negotiated.nack)
        #expect(negotiated.audioLevelExtensionID == nil)
        #expect(negotiated.remoteAudioSSRCs == [42])
    }

    @Test("in a call the packets come from the SSRC each side announced, with the audio level it negotiated")
    func signalledSSRCIsSent() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (a, b) = try await makeCall(directory: directory)
        try await a.log.waitMediaFlowing()
        try await b.log.waitMediaFlowing()
        try await Task.sleep(for: .milliseconds(200))
        #expect(a.negotiated.remoteAudioSSRCs == [b.announcedSSRC])
        #expect(b.negotiated.remoteAudioSSRCs == [a.announcedSSRC])
        #expect(a.session.audioSSRC == a.announcedSSRC && b.session.audioSSRC == b.announcedSSRC)
        #expect(b.session.statistics.remoteAudioSSRC == a.announcedSSRC, "the answerer receives from the SSRC the offer announced")
        #expect(a.session.statistics.remoteAudioSSRC == b.announcedSSRC, "the offerer receives from the SSRC the answer announced")
        #expect(a.negotiated.audioLevelExtensionID == 1 && a.negotiated.nack)
        // A full-scale-ish tone is loud: well above silence (127) in -dBov.
        let level = try #require(b.session.statistics.remoteAudioLevel)
        #expect(level < 30, "audio level \(level) -dBov of a tone")
        await hangUp(a, b)
    }

    @Test("a lost audio packet is asked for with a generic NACK and sent again (RFC 4585 §6.2.1)")
    func nackRetransmits() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (a, b) = try await makeCall(directory: directory)
        try await b.log.waitMediaFlowing()
        // Lose the 10th and 12th audio packets from now on at the offerer's sending side.
        let seen = Mutex(0)
        let dropped = Mutex<[UInt16]>([])
        a.session.setSendFilterHook { sequence in
            let count = seen.withLock { $0 += 1; return $0 }
            guard count == 10 || count == 12 else { return true }
            dropped.withLock { $0.append(sequence) }
            return false
        }
        try await Task.sleep(for: .milliseconds(800))
        let statsA = a.session.statistics, statsB = b.session.statistics
        #expect(dropped.withLock { $0.count } == 2)
        #expect(statsB.nacksSent >= 1, "the answerer noticed the gap")
        #expect(statsA.nacksReceived >= 1)
        #expect(statsA.retransmissions >= 2, "both lost packets were sent again: \(statsA.retransmissions)")
        #expect(statsB.packetsLost == 0, "after retransmission nothing is missing: \(statsB.packetsLost)")
        await hangUp(a, b)
    }
}
