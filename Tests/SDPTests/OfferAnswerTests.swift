import Testing
@testable import SDP

private let localFingerprint = SDPFingerprint(hashFunction: "sha-256", fingerprint: "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99")
private let localCandidate = SDPCandidate(foundation: "1", component: 1, transport: "udp", priority: 2_130_706_431,
                                          address: "127.0.0.1", port: 40000, type: .host)
private let localOrigin = SDPOrigin(sessionID: "777", sessionVersion: 1)

private func capabilities(
    codecs: [SDPCodecCapability] = [
        SDPCodecCapability(name: "opus", clockRate: 48000, channels: 2),
        SDPCodecCapability(name: "PCMU", clockRate: 8000),
        SDPCodecCapability(name: "telephone-event", clockRate: 8000),
        SDPCodecCapability(name: "VP8", clockRate: 90000),
        SDPCodecCapability(name: "rtx", clockRate: 90000),
    ],
    kinds: Set<String> = ["audio", "video", "application"], direction: SDPDirection = .sendrecv, bundle: Bool = true
) -> SDPLocalCapabilities {
    SDPLocalCapabilities(codecs: codecs, mediaKinds: kinds, direction: direction, iceUfrag: "locl", icePwd: "localpasswordlocalpassword",
                         candidates: [localCandidate], fingerprint: localFingerprint, supportsBundle: bundle, maxMessageSize: 65536)
}

/// A minimal offer with one m-line built from text lines.
private func offer(media: String, session: [String] = [], attributes: [String]) throws -> SessionDescription {
    let lines = ["v=0", "o=- 5 5 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0"] + session + [media] + attributes
    return try SessionDescription(parsing: lines.joined(separator: "\r\n") + "\r\n")
}

@Suite("Offer/answer (RFC 3264)")
struct OfferAnswerTests {
    @Test func answersTheBrowserOffer() throws {
        let offer = try SessionDescription(parsing: try fixture("browser-offer"))
        let answer = try SessionDescription.answer(to: offer, capabilities: capabilities(), origin: localOrigin)
        #expect(answer.origin == localOrigin)
        #expect(answer.timing == offer.timing)
        #expect(answer.media.map(\.media) == ["audio", "video", "application"])
        #expect(answer.media.map(\.mid) == ["0", "1", "2"])
        // Offerer's payload type numbers and order; telephone-event/48000 (110) is not supported, /8000 (126) is.
        #expect(answer.media[0].formats == ["111", "0", "126"])
        // rtx 97 follows VP8 96; rtx 103 (apt H264) and 117 (apt red) do not.
        #expect(answer.media[1].formats == ["96", "97"])
        #expect(answer.media[2].formats == ["webrtc-datachannel"])
        #expect(answer.bundleGroup?.identifiers == ["0", "1", "2"])
        for section in answer.media {
            #expect(section.setup == .active)
            #expect(section.fingerprints == [localFingerprint])
            #expect(section.iceUfrag == "locl" && section.icePwd == "localpasswordlocalpassword")
            #expect(section.port == 40000 && section.connections.first?.address == "127.0.0.1")
        }
        // Candidates only in the first bundled m-line.
        #expect(answer.media.map(\.candidates.count) == [1, 0, 0])
        #expect(answer.media[0].endOfCandidates)
        #expect(answer.media[0].rtcpMux && answer.media[0].attributes.contains(.rtcpRsize))
        #expect(answer.media[0].formatParameters(for: "111")?["useinbandfec"] == "1")
        #expect(answer.media[0].formatParameters(for: "126")?.parameters == [SDPFormatParameter(name: nil, value: "0-15")])
        #expect(answer.media[1].rtcpFeedback(for: "96").count == 7)
        #expect(answer.media[1].formatParameters(for: "97")?["apt"] == "96")
        #expect(answer.media[2].sctpPort == 5000 && answer.media[2].maxMessageSize == 65536)
        #expect(answer.media[0].effectiveDirection(in: answer) == .sendrecv)
        // The answer is itself valid SDP.
        #expect(try SessionDescription(parsing: answer.serialized()) == answer)
    }

    struct CodecCase: Sendable, CustomTestStringConvertible {
        let formats: String
        let rtpmaps: [String]
        let supported: [SDPCodecCapability]
        let expected: [String]?
        var testDescription: String { "\(formats) -> \(expected?.description ?? "rejected")" }
    }

    static let codecCases: [CodecCase] = [
        CodecCase(formats: "0 8 101", rtpmaps: ["a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15"],
                  supported: [SDPCodecCapability(name: "PCMA", clockRate: 8000), SDPCodecCapability(name: "telephone-event", clockRate: 8000)],
                  expected: ["8", "101"]),
        CodecCase(formats: "0 8 101", rtpmaps: ["a=rtpmap:101 telephone-event/8000"],
                  supported: [SDPCodecCapability(name: "PCMA", clockRate: 8000)], expected: ["8"]),
        CodecCase(formats: "0 101", rtpmaps: ["a=rtpmap:101 telephone-event/8000"],
                  supported: [SDPCodecCapability(name: "telephone-event", clockRate: 8000)], expected: nil),
        CodecCase(formats: "0", rtpmaps: [], supported: [SDPCodecCapability(name: "pcmu", clockRate: 8000)], expected: ["0"]),
        CodecCase(formats: "0 8", rtpmaps: [],
                  supported: [SDPCodecCapability(name: "PCMA", clockRate: 8000), SDPCodecCapability(name: "PCMU", clockRate: 8000)],
                  expected: ["0", "8"]),
        CodecCase(formats: "109", rtpmaps: ["a=rtpmap:109 opus/48000/2"],
                  supported: [SDPCodecCapability(name: "opus", clockRate: 48000)], expected: nil),
        CodecCase(formats: "109 9", rtpmaps: ["a=rtpmap:109 opus/48000/2"],
                  supported: [SDPCodecCapability(name: "opus", clockRate: 48000, channels: 2), SDPCodecCapability(name: "G722", clockRate: 8000)],
                  expected: ["109", "9"]),
        CodecCase(formats: "96 97", rtpmaps: ["a=rtpmap:96 unknown/8000", "a=rtpmap:97 PCMU/16000"],
                  supported: [SDPCodecCapability(name: "PCMU", clockRate: 8000)], expected: nil),
    ]

    @Test("codec intersection keeps the offerer's numbers and order", arguments: codecCases)
    func codecIntersection(_ testCase: CodecCase) throws {
        let offered = try offer(media: "m=audio 5004 RTP/AVP \(testCase.formats)", attributes: testCase.rtpmaps)
        let answer = try SessionDescription.answer(to: offered, capabilities: capabilities(codecs: testCase.supported), origin: localOrigin)
        let section = try #require(answer.media.first)
        if let expected = testCase.expected {
            #expect(section.formats == expected)
            #expect(section.port == 40000)
        } else {
            #expect(section.port == 0)
            #expect(section.formats == offered.media[0].formats)
        }
    }

    @Test("direction is reversed (RFC 3264 §6.1), limited by the local direction", arguments: [
        ("a=sendonly", SDPDirection.sendrecv, SDPDirection.recvonly),
        ("a=recvonly", .sendrecv, .sendonly),
        ("a=sendrecv", .sendrecv, .sendrecv),
        ("a=inactive", .sendrecv, .inactive),
        ("", .sendrecv, .sendrecv),
        ("a=sendrecv", .recvonly, .recvonly),
        ("a=recvonly", .recvonly, .inactive),
        ("a=sendonly", .sendonly, .inactive),
    ])
    func directionInversion(offered: String, local: SDPDirection, expected: SDPDirection) throws {
        let lines = offered.isEmpty ? [] : [offered]
        let mediaLevel = try offer(media: "m=audio 5004 RTP/AVP 0", attributes: lines)
        let sessionLevel = try offer(media: "m=audio 5004 RTP/AVP 0", session: lines, attributes: [])
        for offered in [mediaLevel, sessionLevel] {
            let answer = try SessionDescription.answer(to: offered, capabilities: capabilities(direction: local), origin: localOrigin)
            #expect(answer.media.first?.direction == expected)
        }
    }

    @Test("unsupported or already refused m-lines get port 0 (RFC 3264 §6)")
    func rejection() throws {
        let offered = try SessionDescription(parsing: try fixture("directions-answer"))
        let answer = try SessionDescription.answer(to: offered, capabilities: capabilities(kinds: ["audio"]), origin: localOrigin)
        #expect(answer.media.map(\.port) == [40000, 0, 40000, 0])
        #expect(answer.media.map(\.mid) == ["a1", "v1", "a2", "v2"])
        #expect(answer.media[1].formats == ["96"] && answer.media[3].formats == ["100"])
        #expect(answer.media[1].attributes == [.mid("v1")])
        #expect(answer.media.map(\.isRejected) == [false, true, false, true])
        // BUNDLE keeps only the accepted mids, in offer order.
        #expect(answer.bundleGroup?.identifiers == ["a1", "a2"])
        // The offerer was `active`, so we are `passive`; its sendonly becomes our recvonly.
        #expect(answer.media[0].setup == .passive && answer.media[0].direction == .recvonly)
        #expect(answer.media[2].direction == .inactive)
    }

    @Test func withoutBundleSupportEverySectionCarriesCandidates() throws {
        let offer = try SessionDescription(parsing: try fixture("browser-offer"))
        let answer = try SessionDescription.answer(to: offer, capabilities: capabilities(bundle: false), origin: localOrigin)
        #expect(answer.bundleGroup == nil)
        #expect(answer.media.map(\.candidates.count) == [1, 1, 1])
    }

    @Test("DTLS setup role (RFC 5763 §5, RFC 4145 §4)", arguments: [
        (SDPSetupRole?.some(.actpass), SDPSetupRole.active),
        (.some(.active), .passive),
        (.some(.passive), .active),
        (.some(.holdconn), .holdconn),
        (nil, .passive),
    ])
    func setupRole(offered: SDPSetupRole?, expected: SDPSetupRole) throws {
        #expect(SDPSetupRole.answering(offered) == expected)
        var attributes = ["a=fingerprint:sha-256 01:02", "a=ice-ufrag:abcd", "a=ice-pwd:abcdefghijklmnopqrstuv"]
        if let offered { attributes.append("a=setup:\(offered.rawValue)") }
        let offered = try offer(media: "m=audio 9 UDP/TLS/RTP/SAVPF 0", attributes: attributes)
        let answer = try SessionDescription.answer(to: offered, capabilities: capabilities(), origin: localOrigin)
        #expect(answer.media.first?.setup == expected)
    }

    @Test func sessionLevelDTLSAndICEApplyToEveryMLine() throws {
        let offered = try SessionDescription(parsing: try fixture("baresip-ice-dtls-offer"))
        let answer = try SessionDescription.answer(to: offered, capabilities: capabilities(), origin: localOrigin)
        let audio = try #require(answer.media.first)
        #expect(audio.port == 40000 && audio.formats == ["0", "101"])
        #expect(audio.setup == .active && audio.fingerprints == [localFingerprint])
        #expect(audio.iceUfrag == "locl" && audio.candidates == [localCandidate])
    }

    @Test func dtlsWithoutLocalFingerprintIsRejected() throws {
        var local = capabilities()
        local.fingerprint = nil
        let offered = try SessionDescription(parsing: try fixture("aiortc-offer"))
        let answer = try SessionDescription.answer(to: offered, capabilities: local, origin: localOrigin)
        #expect(answer.media.map(\.port) == [0])
        #expect(answer.bundleGroup == nil)
    }

    @Test func iceOfferWithoutLocalCredentialsThrows() throws {
        var local = capabilities()
        local.iceUfrag = nil
        let offered = try SessionDescription(parsing: try fixture("aiortc-offer"))
        #expect {
            try SessionDescription.answer(to: offered, capabilities: local, origin: localOrigin)
        } throws: { error in
            (error as? SDPError)?.kind == .offerAnswer
        }
    }

    @Test("a SIP phone without ICE gets c= and port from the local candidate, no ICE lines")
    func plainSIPOffer() throws {
        let offered = try SessionDescription(parsing: try fixture("sip-phone-offer"))
        let answer = try SessionDescription.answer(to: offered, capabilities: capabilities(), origin: localOrigin)
        let audio = try #require(answer.media.first)
        #expect(audio.proto == "RTP/AVP" && audio.formats == ["0", "101"])
        #expect(audio.port == 40000 && audio.connections == [SDPConnection(address: "127.0.0.1")])
        #expect(audio.iceUfrag == nil && audio.candidates.isEmpty && audio.fingerprints.isEmpty)
        // PCMU came without rtpmap (static payload type), so the answer writes none either.
        #expect(audio.rtpMaps.map(\.payloadType) == [101])
        #expect(audio.formatParameters(for: "101")?.parameters == [SDPFormatParameter(name: nil, value: "0-15")])
    }

    @Test func sdesPicksTheFirstSupportedSuiteAndItsTag() throws {
        let offered = try SessionDescription(parsing: try fixture("sdes-offer"))
        var local = capabilities()
        local.sdesKeyParams = "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
        var answer = try SessionDescription.answer(to: offered, capabilities: local, origin: localOrigin)
        #expect(answer.media.first?.cryptos == [SDPCrypto(tag: 1, suite: "AES_CM_128_HMAC_SHA1_80", keyParams: local.sdesKeyParams!)])
        local.sdesSuites = ["AES_CM_128_HMAC_SHA1_32"]
        answer = try SessionDescription.answer(to: offered, capabilities: local, origin: localOrigin)
        #expect(answer.media.first?.cryptos.map(\.tag) == [2])
        local.sdesKeyParams = nil
        answer = try SessionDescription.answer(to: offered, capabilities: local, origin: localOrigin)
        #expect(answer.media.first?.port == 0)
    }

    @Test func localFormatParametersReplaceTheOffered() throws {
        let offered = try offer(media: "m=audio 5004 RTP/AVP 111", attributes: ["a=rtpmap:111 opus/48000/2", "a=fmtp:111 minptime=10;useinbandfec=1"])
        var codecs = [SDPCodecCapability(name: "opus", clockRate: 48000, channels: 2, parameters: [SDPFormatParameter(name: "stereo", value: "1")])]
        var answer = try SessionDescription.answer(to: offered, capabilities: capabilities(codecs: codecs), origin: localOrigin)
        #expect(answer.media.first?.formatParameters == [SDPFormatParameters(format: "111", parameters: [SDPFormatParameter(name: "stereo", value: "1")])])
        codecs[0].parameters = []
        answer = try SessionDescription.answer(to: offered, capabilities: capabilities(codecs: codecs), origin: localOrigin)
        #expect(answer.media.first?.formatParameters.isEmpty == true)
    }

    @Test("o= version: same when unchanged, +1 when changed (RFC 3264 §8)")
    func versionCounting() throws {
        let first = try SessionDescription(parsing: try fixture("sip-phone-offer"))
        #expect(try first.versioned(after: first).origin.sessionVersion == 1785)
        var changed = first
        changed.media[0].attributes.append(.direction(.sendonly))
        changed.origin.sessionVersion = 1
        let next = try changed.versioned(after: first)
        #expect(next.origin.sessionVersion == 1786)
        #expect(try next.versioned(after: next).origin.sessionVersion == 1786)
        #expect(try first.bumpingVersion().origin.sessionVersion == 1786)
        var last = first
        last.origin.sessionVersion = .max
        #expect(throws: SDPError.self) { try last.bumpingVersion() }
        #expect(throws: SDPError.self) { try changed.versioned(after: last) }
        #expect(try last.versioned(after: last) == last)
    }

    @Test func supportedHeaderExtensionsKeepTheirIDAndReverseDirection() throws {
        let offer = try SessionDescription(parsing: try fixture("browser-offer"))
        var local = capabilities()
        local.headerExtensions = ["urn:ietf:params:rtp-hdrext:sdes:mid", "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"]
        let answer = try SessionDescription.answer(to: offer, capabilities: local, origin: localOrigin)
        #expect(answer.media[0].extmaps == [SDPExtmap(id: 4, uri: "urn:ietf:params:rtp-hdrext:sdes:mid")])
        #expect(answer.media[1].extmaps == [
            SDPExtmap(id: 5, direction: .recvonly, uri: "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"),
            SDPExtmap(id: 4, uri: "urn:ietf:params:rtp-hdrext:sdes:mid"),
        ])
        #expect(try SessionDescription.answer(to: offer, capabilities: capabilities(), origin: localOrigin).media.allSatisfy(\.extmaps.isEmpty))
    }

    @Test func trickleAnswerBeforeGathering() throws {
        let offer = try SessionDescription(parsing: try fixture("aiortc-offer"))
        var local = capabilities()
        local.candidates = []
        local.candidatesComplete = false
        let audio = try #require(try SessionDescription.answer(to: offer, capabilities: local, origin: localOrigin).media.first)
        #expect(audio.port == 9 && audio.connections == [SDPConnection(address: "0.0.0.0")])
        #expect(audio.attributes.contains(.iceOptions(["trickle"])) && !audio.endOfCandidates && audio.candidates.isEmpty)
        #expect(audio.formats == ["96"] && audio.setup == .active)
    }

    @Test func reversedDirectionIsAnInvolution() {
        for direction in SDPDirection.allCases {
            #expect(direction.reversed.reversed == direction)
            #expect(direction.reversed.sends == direction.receives)
            #expect(SDPDirection(sends: direction.sends, receives: direction.receives) == direction)
        }
    }
}
