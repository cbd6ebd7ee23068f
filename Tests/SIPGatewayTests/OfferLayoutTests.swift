import Jingle
import JingleSDP
import SDP
@testable import SIPGateway
import Testing

/// Passthrough offers with streams Jingle cannot carry (BFCP, T.38, MSRP), and re-offers, without network.
struct OfferLayoutTests {
    /// A video phone's offer: audio, video, BFCP floor control, and a T.38 stream; no a=mid anywhere.
    static let videoPhoneOffer = """
    v=0\r
    o=polycom 1700 1700 IN IP4 192.0.2.20\r
    s=-\r
    c=IN IP4 192.0.2.20\r
    t=0 0\r
    m=audio 2222 RTP/AVP 0 101\r
    a=rtpmap:0 PCMU/8000\r
    a=rtpmap:101 telephone-event/8000\r
    a=fmtp:101 0-15\r
    a=sendrecv\r
    m=application 5070 UDP/BFCP *\r
    a=floorctrl:c-s\r
    a=confid:1\r
    m=video 2224 RTP/AVP 109\r
    a=rtpmap:109 H264/90000\r
    a=fmtp:109 profile-level-id=42e01f\r
    m=image 6000 udptl t38\r
    a=T38FaxVersion:0\r

    """

    static let mapper = JingleSDPMapper()

    /// What a Jingle party answers: every offered content accepted as offered, seen from the responder.
    static func jingleAnswer(to offer: SessionDescription, keeping: Set<String>? = nil) throws -> (payload: JinglePayload, sdp: SessionDescription) {
        let payload = try mapper.jingle(from: offer, context: .init(author: .initiator, action: .sessionInitiate))
        var accept = payload
        accept.action = .sessionAccept
        if let keeping { accept.contents = accept.contents.filter { keeping.contains($0.name) } }
        return (payload, try mapper.sdp(from: accept, author: .responder))
    }

    @Test func onlyRTPAndDataChannelStreamsCross() throws {
        let offer = try SessionDescription(parsing: Self.videoPhoneOffer)
        // Without the layout the mapping refuses the whole offer: that is what used to fail the call.
        #expect(throws: JingleSDPError.self) { try Self.mapper.jingle(from: offer, context: .init(author: .initiator, action: .sessionInitiate)) }
        let layout = try OfferLayout(offer)
        #expect(layout.carried == [0, 2])
        #expect(layout.refusesSome)
        let carried = layout.carriedOffer
        #expect(carried.media.map(\.media) == ["audio", "video"])
        #expect(carried.connection == offer.connection)
        let (payload, _) = try Self.jingleAnswer(to: carried)
        #expect(payload.contents.map(\.name) == ["audio", "video"])
    }

    @Test func answerHasTheOffersMLinesWithTheUncarriedRefused() throws {
        let offer = try SessionDescription(parsing: Self.videoPhoneOffer)
        let layout = try OfferLayout(offer)
        let (payload, jingleSDP) = try Self.jingleAnswer(to: layout.carriedOffer)
        let answer = layout.answer(jingleSDP, contentNames: payload.contents.map(\.name))
        // RFC 3264 §6: same count, order and media types; refused ones keep proto and formats, port 0.
        #expect(answer.media.map(\.media) == ["audio", "application", "video", "image"])
        #expect(answer.media.map(\.port) == [2222, 0, 2224, 0])
        #expect(answer.media[1].proto == "UDP/BFCP" && answer.media[1].formats == ["*"])
        #expect(answer.media[3].proto == "udptl" && answer.media[3].formats == ["t38"])
        #expect(answer.media[1].attributes.isEmpty && answer.media[3].attributes.isEmpty)
        // Each m-line has a c= line in reach (the mapped answer has none at session level).
        for section in answer.media { #expect(answer.connection(for: section) != nil, "\(section.media)") }
        // And it is SDP that parses back to itself.
        #expect(try SessionDescription(parsing: answer.serialized()) == answer)
    }

    @Test func aContentTheJinglePartyLeftOutIsRefused() throws {
        let offer = try SessionDescription(parsing: Self.videoPhoneOffer)
        let layout = try OfferLayout(offer)
        let (payload, jingleSDP) = try Self.jingleAnswer(to: layout.carriedOffer, keeping: ["audio"])
        let answer = layout.answer(jingleSDP, contentNames: payload.contents.map(\.name))
        #expect(answer.media.map(\.port) == [2222, 0, 0, 0])
        #expect(answer.media[2].proto == "RTP/AVP" && answer.media[2].formats == ["109"])
    }

    @Test func bundleGroupKeepsOnlyCarriedMids() throws {
        let offer = try SessionDescription(parsing: """
        v=0\r
        o=- 1 1 IN IP4 192.0.2.1\r
        s=-\r
        c=IN IP4 192.0.2.1\r
        t=0 0\r
        a=group:BUNDLE a f\r
        m=audio 4000 RTP/AVP 0\r
        a=mid:a\r
        m=image 4002 udptl t38\r
        a=mid:f\r

        """)
        let layout = try OfferLayout(offer)
        let carried = layout.carriedOffer
        #expect(carried.bundleGroup?.identifiers == ["a"])
        #expect(carried.media.count == 1)
    }

    @Test(arguments: [
        "m=image 6000 udptl t38",
        "m=audio 0 RTP/AVP 0",
        "m=application 5070 UDP/BFCP *",
    ])
    func anOfferWithNothingToCarryIsUnsupported(line: String) throws {
        let offer = try SessionDescription(parsing: "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\(line)\r\n")
        #expect {
            _ = try OfferLayout(offer)
        } throws: { error in
            guard case GatewayError.unsupported(let why) = error else { return false }
            return why.contains(line.split(separator: " ").prefix(2).joined(separator: " "))
        }
    }

    @Test func offerWithoutExtraStreamsIsUntouched() throws {
        let offer = try SessionDescription(parsing: AnchoredSDPTests.sipOffer)
        let layout = try OfferLayout(offer)
        #expect(!layout.refusesSome)
        #expect(layout.carriedOffer == offer)
    }

    // MARK: re-offers

    static func session(_ media: String...) throws -> SessionDescription {
        try SessionDescription(parsing: "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
            + media.map { $0 + "\r\n" }.joined())
    }

    @Test func faxSwitchReofferIsRefused() throws {
        let current = try Self.session("m=audio 4000 RTP/AVP 0")
        // In place: the audio m-line becomes T.38.
        let inPlace = try Self.session("m=image 4000 udptl t38")
        #expect(OfferLayout.reofferProblem(inPlace, current: current)?.contains("m=image udptl") == true)
        // Audio refused and T.38 added: nothing live would be left.
        let added = try Self.session("m=audio 0 RTP/AVP 0", "m=image 4002 udptl t38")
        #expect(OfferLayout.reofferProblem(added, current: current)?.contains("keeps none") == true)
        // Fewer m-lines than the session.
        let video = try Self.session("m=audio 4000 RTP/AVP 0", "m=video 4002 RTP/AVP 96")
        #expect(OfferLayout.reofferProblem(current, current: video)?.contains("not removed") == true)
    }

    @Test func reofferAddingAStreamGetsItRefused() throws {
        let current = try Self.session("m=audio 4000 RTP/AVP 0")
        let offer = try Self.session("m=audio 5000 RTP/AVP 0", "m=image 5002 udptl t38")
        #expect(OfferLayout.reofferProblem(offer, current: current) == nil)
        let answer = OfferLayout.reanswer(offer, current: current)
        #expect(answer.media.map(\.media) == ["audio", "image"])
        #expect(answer.media.map(\.port) == [4000, 0])
    }

    @Test func reofferRefusingOneOfTwoStreams() throws {
        let current = try Self.session("m=audio 4000 RTP/AVP 0", "m=video 4002 RTP/AVP 96")
        let offer = try Self.session("m=audio 5000 RTP/AVP 0", "m=video 0 RTP/AVP 96")
        #expect(OfferLayout.reofferProblem(offer, current: current) == nil)
        let answer = OfferLayout.reanswer(offer, current: current)
        #expect(answer.media.map(\.port) == [4000, 0])
        // A plain hold re-offer (same streams) is answered from the session as it is.
        #expect(OfferLayout.reanswer(current, current: current) == current)
    }

    // MARK: SIP answers to Jingle offers

    static let jingleVideoOffer = """
    v=0\r
    o=- 5 1 IN IP4 127.0.0.1\r
    s=-\r
    t=0 0\r
    a=group:BUNDLE a v\r
    m=audio 9 UDP/TLS/RTP/SAVPF 111\r
    c=IN IP4 0.0.0.0\r
    a=mid:a\r
    a=rtpmap:111 opus/48000/2\r
    m=video 9 UDP/TLS/RTP/SAVPF 96 97\r
    c=IN IP4 0.0.0.0\r
    a=mid:v\r
    a=rtpmap:96 VP8/90000\r
    a=rtpmap:97 rtx/90000\r

    """

    /// A WebRTC-capable SIP party (ICE, BUNDLE) that refuses the video of a Jingle video call: the video
    /// comes back inactive in the accepted audio's transport, so the session-accept carries both contents.
    @Test func refusedBundledStreamBecomesInactiveForJingle() throws {
        let offer = try SessionDescription(parsing: Self.jingleVideoOffer)
        let answer = try SessionDescription(parsing: """
            v=0\r
            o=asterisk 1 1 IN IP4 192.0.2.9\r
            s=-\r
            t=0 0\r
            a=group:BUNDLE a\r
            m=audio 40000 UDP/TLS/RTP/SAVPF 111\r
            c=IN IP4 192.0.2.9\r
            a=mid:a\r
            a=ice-ufrag:astU\r
            a=ice-pwd:0123456789abcdefghijkl\r
            a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r
            a=setup:active\r
            a=rtcp-mux\r
            a=rtpmap:111 opus/48000/2\r
            a=candidate:1 1 udp 2130706431 192.0.2.9 40000 typ host\r
            m=video 0 UDP/TLS/RTP/SAVPF 96\r
            a=mid:v\r

            """)
        let raw = try Self.mapper.jingle(from: answer, context: .init(author: .responder, action: .sessionAccept, sid: "s"))
        #expect(raw.contents.contains { $0.transport == nil }, "as it came, the refused video has no transport: no session-accept")
        let fixed = OfferLayout.jingleAcceptable(answer, offer: offer)
        #expect(fixed.media.map(\.port) == [40000, 40000])
        #expect(fixed.media[1].direction == .inactive && fixed.media[1].formats == ["96", "97"])
        #expect(fixed.bundleGroup?.identifiers == ["a", "v"])
        let accept = try Self.mapper.jingle(from: fixed, context: .init(author: .responder, action: .sessionAccept, sid: "s"))
        #expect(accept.contents.map(\.name) == ["a", "v"])
        #expect(accept.contents[1].senders == JingleSenders.none)
        #expect((accept.contents[1].transport as? ICEUDPTransport)?.ufrag == "astU")
    }

    /// Without an ICE transport to share (a plain SIP phone), the refused stream is left out of the accept.
    @Test func refusedStreamWithoutICEIsLeftOut() throws {
        let offer = try SessionDescription(parsing: Self.jingleVideoOffer)
        let answer = try Self.session("m=audio 4000 RTP/AVP 0", "m=video 0 RTP/AVP 96")
        let fixed = OfferLayout.jingleAcceptable(answer, offer: offer)
        #expect(fixed.media.map(\.media) == ["audio"])
        #expect(OfferLayout.jingleAcceptable(fixed, offer: offer) == fixed, "nothing refused: unchanged")
    }
}
