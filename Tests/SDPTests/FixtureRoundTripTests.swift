import Testing
@testable import SDP

@Suite("Fixture round trips")
struct FixtureRoundTripTests {
    @Test("parse -> serialize -> parse gives an equal model", arguments: allFixtures)
    func modelRoundTrip(name: String) throws {
        let text = try fixture(name)
        let model = try SessionDescription(parsing: text)
        let again = try SessionDescription(parsing: model.serialized())
        #expect(again == model)
        #expect(!model.media.isEmpty)
    }

    @Test("canonical CRLF fixtures serialize back to the same text", arguments: canonicalFixtures)
    func textRoundTrip(name: String) throws {
        let text = try fixture(name)
        #expect(text.utf8.contains(0x0D), "fixture should use CRLF")
        let model = try SessionDescription(parsing: text)
        #expect(model.serialized() == text)
    }

    @Test("LF-only input and a missing final newline parse to the same model", arguments: canonicalFixtures)
    func lfAndMissingFinalNewline(name: String) throws {
        let text = try fixture(name)
        let model = try SessionDescription(parsing: text)
        let lfText = lf(text)
        #expect(try SessionDescription(parsing: lfText) == model)
        #expect(try SessionDescription(parsing: String(lfText.dropLast())) == model)
        #expect(try SessionDescription(parsing: String(text.utf8.dropLast(2))!) == model)
    }

    @Test func sloppyInputIsNormalised() throws {
        let model = try SessionDescription(parsing: try fixture("sloppy-lf"))
        #expect(model.sessionName == "")
        #expect(model.attributes == [.msidSemantic(SDPMsidSemantic(semantic: "WMS"))])
        let audio = try #require(model.media.first)
        #expect(audio.port == 8000 && audio.formats == ["0", "101", "96"])
        #expect(audio.formatParameters(for: "101")?.parameters == [SDPFormatParameter(name: nil, value: "0-15")])
        #expect(audio.formatParameters(for: "96")?.parameters == [
            SDPFormatParameter(name: "profile-level-id", value: "42e01f"),
            SDPFormatParameter(name: "packetization-mode", value: "1"),
        ])
        // A fractional ptime is legal (RFC 8866 §6.4) but not representable as whole milliseconds.
        #expect(audio.attributes.contains(.other(name: "ptime", value: "22.5")))
        #expect(audio.candidates.first?.generation == 2)
        #expect(audio.setup == .passive)
        let serialized = model.serialized()
        #expect(serialized.contains("a=fmtp:96 profile-level-id=42e01f;packetization-mode=1\r\n"))
        #expect(serialized.contains("m=audio 8000 RTP/AVP 0 101 96\r\n"))
        #expect(serialized.contains("a=msid-semantic:WMS\r\n"))
    }

    /// Flag attributes with trailing blanks (`a=sendrecv `, seen from SIP phones) are the flags; a blank inside
    /// a name is still an error naming the line.
    @Test func flagAttributesWithTrailingBlanks() throws {
        let head = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
        let model = try SessionDescription(parsing: head + "a=sendrecv \r\na=rtcp-mux\t\r\na=X-flag  \r\n")
        #expect(model.media.first?.attributes == [.direction(.sendrecv), .rtcpMux, .other(name: "X-flag", value: nil)])
        #expect(model.serialized().hasSuffix("a=sendrecv\r\na=rtcp-mux\r\na=X-flag\r\n"))
        #expect {
            _ = try SessionDescription(parsing: head + "a=send recv\r\n")
        } throws: { error in
            (error as? SDPError)?.line == 7
        }
    }
}

@Suite("Fixture contents")
struct FixtureContentTests {
    @Test func browserOffer() throws {
        let offer = try SessionDescription(parsing: try fixture("browser-offer"))
        #expect(offer.origin.sessionID == "4611731400430051336" && offer.origin.sessionVersion == 2)
        #expect(offer.bundleGroup == SDPGroup(semantics: "BUNDLE", identifiers: ["0", "1", "2"]))
        #expect(offer.attributes.contains(.extmapAllowMixed))
        #expect(offer.media.map(\.media) == ["audio", "video", "application"])
        #expect(offer.media.map(\.mid) == ["0", "1", "2"])

        let audio = offer.media[0]
        #expect(audio.formats == ["111", "63", "9", "0", "8", "13", "110", "126"])
        #expect(audio.codec(for: "111") == SDPRTPMap(payloadType: 111, encodingName: "opus", clockRate: 48000, channels: 2))
        #expect(audio.formatParameters(for: "111")?["useinbandfec"] == "1")
        #expect(audio.formatParameters(for: "126")?.parameters == [SDPFormatParameter(name: nil, value: "0-15")])
        #expect(audio.attributes.contains(.ptime(20)) && audio.attributes.contains(.maxptime(120)))
        #expect(audio.rtcpMux && audio.attributes.contains(.rtcpRsize) && audio.endOfCandidates)
        #expect(audio.attributes.contains(.rtcp(SDPRTCPAddress(port: 9, connection: SDPConnection(address: "0.0.0.0")))))
        #expect(audio.iceUfrag == "EsAw" && audio.icePwd == "P2uYro0UCOQ4zxjKXaWCBui1")
        #expect(audio.attributes.contains(.iceOptions(["trickle"])))
        #expect(audio.setup == .actpass)
        #expect(audio.fingerprints.first?.hashFunction == "sha-256")
        #expect(audio.attributes.contains(.msid(SDPMediaStreamID(streamID: "7a3b5c1e-stream", trackID: "0f1e2d3c-audio-track"))))
        #expect(audio.sources.first == SDPSourceAttribute(ssrc: 1001, name: "cname", value: "k5Ot8UpyZgqYzVjH"))
        #expect(audio.sources.last?.value == "7a3b5c1e-stream 0f1e2d3c-audio-track")

        let candidates = audio.candidates
        #expect(candidates.count == 6)
        #expect(candidates.map(\.type) == [.host, .host, .host, .srflx, .relay, .host])
        #expect(candidates[1].address == "4c8a9f1e-0b6d-4a6e-9a8c-2f0b2c7d1e55.local")
        #expect(candidates[2].transport == "tcp" && candidates[2].tcpType == "active" && candidates[2].port == 9)
        #expect(candidates[3].relatedAddress == "192.0.2.10" && candidates[3].relatedPort == 46243)
        #expect(candidates[4].ufrag == "EsAw" && candidates[4].priority == 41885439)
        #expect(candidates[4].extensions.map(\.name) == ["generation", "ufrag", "network-id", "network-cost"])
        #expect(candidates[5].address == "2001:db8::10" && candidates[5].networkCost == "50")
        #expect(candidates.allSatisfy { $0.generation == 0 && $0.component == 1 })

        let video = offer.media[1]
        #expect(video.extmaps.map(\.direction) == [nil, nil, nil, nil, .sendonly, .recvonly, nil])
        #expect(video.extmaps[4] == SDPExtmap(id: 5, direction: .sendonly, uri: "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"))
        #expect(video.sourceGroups == [SDPSourceGroup(semantics: "FID", ssrcs: [2002, 2003])])
        #expect(video.formatParameters(for: "97")?["apt"] == "96")
        #expect(video.formatParameters(for: "102")?["PACKETIZATION-MODE"] == "1")
        // `a=rtcp-fb:*` applies to every payload type of the m= line (RFC 4585 §4.2).
        let vp8Feedback = video.rtcpFeedback(for: "96")
        #expect(vp8Feedback.count == 7)
        #expect(vp8Feedback.contains(SDPRTCPFeedback(format: .all, type: "nack")))
        #expect(video.rtcpFeedback(for: "118").map(\.type) == ["nack", "trr-int"])
        #expect(video.rtcpFeedback(for: "118").last?.trrInterval == 100)
        #expect(video.rtcpFeedback(for: "96").contains(SDPRTCPFeedback(format: .format("96"), type: "nack", parameter: "pli")))

        let data = offer.media[2]
        #expect(data.proto == "UDP/DTLS/SCTP" && data.formats == ["webrtc-datachannel"])
        #expect(data.sctpPort == 5000 && data.maxMessageSize == 262144)
    }

    @Test func sipPhoneOfferUsesStaticPayloadTypes() throws {
        let offer = try SessionDescription(parsing: try fixture("sip-phone-offer"))
        let audio = try #require(offer.media.first)
        #expect(offer.connection == SDPConnection(networkType: "IN", addressType: "IP4", address: "192.0.2.50"))
        #expect(offer.connection(for: audio)?.address == "192.0.2.50")
        #expect(audio.codec(for: "0") == SDPRTPMap(payloadType: 0, encodingName: "PCMU", clockRate: 8000, channels: 1))
        #expect(audio.codec(for: "101")?.encodingName == "telephone-event")
        #expect(audio.iceUfrag == nil && audio.candidates.isEmpty)
        #expect(audio.effectiveDirection(in: offer) == .sendrecv)
    }

    @Test func sdesOffer() throws {
        let audio = try #require(try SessionDescription(parsing: try fixture("sdes-offer")).media.first)
        #expect(audio.cryptos.map(\.tag) == [1, 2, 3])
        #expect(audio.cryptos[0] == SDPCrypto(tag: 1, suite: "AES_CM_128_HMAC_SHA1_80",
                                              keyParams: "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32"))
        #expect(audio.cryptos[1].sessionParams == "KDR=1 UNENCRYPTED_SRTCP")
        #expect(audio.cryptos[2].keyParams.contains(";inline:"))
    }

    @Test func oldStyleDataChannel() throws {
        let offer = try SessionDescription(parsing: try fixture("datachannel-sctpmap-offer"))
        let data = try #require(offer.media.first)
        #expect(data.attributes.contains(.sctpmap(SDPSCTPMap(port: 5000, protocolName: "webrtc-datachannel", streams: 256))))
        #expect(data.maxMessageSize == 1_073_741_823)
        #expect(offer.fingerprints(for: data).count == 1)
        #expect(offer.attributes.contains(.msidSemantic(SDPMsidSemantic(semantic: "WMS", identifiers: ["*"]))))
    }

    @Test func directionsAndRejection() throws {
        let answer = try SessionDescription(parsing: try fixture("directions-answer"))
        #expect(answer.media.map { $0.effectiveDirection(in: answer) } == [.sendonly, .recvonly, .inactive, .sendrecv])
        #expect(answer.media.map(\.isRejected) == [false, false, false, true])
        #expect(answer.media[0].formatParameters(for: "101")?.parameters == [SDPFormatParameter(name: nil, value: "0-15,66,70")])
        #expect(answer.media.allSatisfy { $0.direction == nil || $0.setup == .active })
    }

    @Test func everyLineTypeOfRFC8866() throws {
        let session = try SessionDescription(parsing: try fixture("all-line-types"))
        #expect(session.information == "SDP Offer #1")
        #expect(session.uri == "http://www.jdoe.example.com/home.html")
        #expect(session.emails.count == 2 && session.phones == ["+1 617 555-6011"])
        #expect(session.bandwidths == [SDPBandwidth(type: "CT", value: 128)])
        #expect(session.timing.count == 2)
        #expect(session.timing[0].repeats == [
            SDPRepeatTimes(interval: "604800", activeDuration: "3600", offsets: ["0", "90000"]),
            SDPRepeatTimes(interval: "7d", activeDuration: "1h", offsets: ["0", "25h"]),
        ])
        #expect(session.timeZones == [SDPTimeZoneAdjustment(adjustmentTime: 2882844526, offset: "-1h"),
                                      SDPTimeZoneAdjustment(adjustmentTime: 2898848070, offset: "0")])
        #expect(session.encryptionKey == "prompt")
        #expect(session.attributes.first == .direction(.recvonly))
        #expect(session.media[0].information == "main audio")
        #expect(session.media[0].encryptionKey == "clear:not-a-real-key")
        #expect(session.media[0].effectiveDirection(in: session) == .recvonly)
        #expect(session.media[1].port == 51372 && session.media[1].numberOfPorts == 2)
        #expect(session.media[1].connections.count == 2)
        #expect(session.media[1].attributes.contains(.other(name: "framerate", value: "29.97")))
        #expect(session.media[1].attributes.contains(.other(name: "x-empty-value", value: "")))
        #expect(session.media[2].media == "text")
    }

    @Test func iceLiteAndRemoteCandidates() throws {
        let session = try SessionDescription(parsing: try fixture("ice-lite-reoffer"))
        #expect(session.attributes.contains(.iceLite))
        let audio = try #require(session.media.first)
        #expect(session.iceUfrag(for: audio) == "lite")
        #expect(audio.attributes.contains(.remoteCandidates([
            SDPRemoteCandidate(component: 1, address: "198.51.100.9", port: 50000),
            SDPRemoteCandidate(component: 2, address: "198.51.100.9", port: 50001),
        ])))
        let prflx = try #require(audio.candidates.last)
        #expect(prflx.type == .prflx && prflx.relatedPort == 40000)
        // Unknown candidate extensions stay, in order, before the known ones that follow them.
        #expect(prflx.extensions == [SDPCandidateExtension(name: "x-vendor", value: "opaque"),
                                     SDPCandidateExtension(name: "generation", value: "1")])
    }

    @Test func realPeers() throws {
        let aiortc = try SessionDescription(parsing: try fixture("aiortc-offer"))
        #expect(aiortc.media.first?.fingerprints.map(\.hashFunction) == ["sha-256", "sha-384", "sha-512"])
        #expect(aiortc.media.first?.candidates.first?.foundation.count == 32)
        let baresip = try SessionDescription(parsing: try fixture("baresip-offer"))
        #expect(baresip.media.first?.formatParameters(for: "101")?.parameters == [SDPFormatParameter(name: nil, value: "0-15")])
        #expect(baresip.media.first?.attributes.contains(.other(name: "minptime", value: "20")) == true)
        let baresipICE = try SessionDescription(parsing: try fixture("baresip-ice-dtls-offer"))
        #expect(baresipICE.attributes.contains(.setup(.actpass)))
        #expect(baresipICE.media.first.map { baresipICE.fingerprints(for: $0).first?.hashFunction } == "SHA-256")
        #expect(baresipICE.media.first?.candidates.map(\.transport) == ["UDP", "UDP"])
    }
}

@Suite("Parser entry points")
struct ParserEntryPointTests {
    @Test func bytesInputMatchesStringInput() throws {
        let text = try fixture("browser-offer")
        #expect(try SDPParser().parse(bytes: Array(text.utf8)) == SessionDescription(parsing: text))
        // Invalid UTF-8 in a free-text field is replaced, not trusted, and does not stop parsing.
        let bytes = Array("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=".utf8) + [0xFF, 0xFE] + Array("\r\nt=0 0\r\n".utf8)
        let session = try SDPParser().parse(bytes: bytes)
        #expect(session.sessionName == "\u{FFFD}\u{FFFD}")
    }

    @Test("a hand-built .other with a typed name re-parses as the typed case")
    func otherWithTypedName() throws {
        var session = SessionDescription(origin: SDPOrigin(sessionID: "1", sessionVersion: 1))
        session.attributes = [.other(name: "mid", value: "audio"), .other(name: "rtcp-mux", value: nil)]
        let parsed = try SessionDescription(parsing: session.serialized())
        #expect(parsed.attributes == [.mid("audio"), .rtcpMux])
    }

    @Test func mediaSectionSerializesAlone() throws {
        let session = try SessionDescription(parsing: try fixture("sip-phone-offer"))
        let text = session.media[0].serialized()
        #expect(text.hasPrefix("m=audio 5004 RTP/AVP 0 8 18 101\r\n"))
        #expect(text.hasSuffix("a=sendrecv\r\n"))
        #expect(SDPAttribute.fmtp(SDPFormatParameters(format: "101", parameters: [SDPFormatParameter(name: nil, value: "0-15")])).serialized() == "fmtp:101 0-15")
    }
}
