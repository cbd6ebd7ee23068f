import Foundation
import Testing
import Jingle
import SDP
import XMLStream
import XMPPCore
@testable import JingleSDP

/// SDP -> Jingle -> SDP over the real captures and the hand-written cases.
struct SDPRoundTripTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let fixture: String
        let author: JingleRole
        let action: JingleWireAction
        var testDescription: String { "\(fixture) as \(author.rawValue) \(action.rawValue)" }
    }

    static let cases: [Case] = [
        Case(fixture: "browser-offer", author: .initiator, action: .sessionInitiate),       // audio+video+data, BUNDLE, rtx/red/ulpfec
        Case(fixture: "sip-phone-offer", author: .initiator, action: .sessionInitiate),     // PCMU/PCMA/G729 + telephone-event, raw UDP
        Case(fixture: "sdes-offer", author: .initiator, action: .sessionInitiate),          // SDES crypto
        Case(fixture: "datachannel-sctpmap-offer", author: .initiator, action: .sessionInitiate), // old sctpmap form
        Case(fixture: "directions-answer", author: .responder, action: .sessionAccept),     // sendonly/recvonly/inactive/rejected
        Case(fixture: "directions-answer", author: .initiator, action: .sessionInitiate),
        Case(fixture: "aiortc-offer", author: .initiator, action: .sessionInitiate),         // real aiortc capture
        Case(fixture: "baresip-offer", author: .initiator, action: .sessionInitiate),        // real baresip capture
        Case(fixture: "baresip-ice-dtls-offer", author: .initiator, action: .sessionInitiate),
        Case(fixture: "ice-lite-reoffer", author: .initiator, action: .sessionInitiate),
        Case(fixture: "trickle-offer", author: .initiator, action: .sessionInitiate),        // trickle: no candidates
        Case(fixture: "browser-offer", author: .initiator, action: .transportInfo),
        Case(fixture: "datachannel-sctpmap-offer", author: .initiator, action: .transportInfo),
    ]

    @Test(arguments: cases)
    func losslessAfterOneNormalisation(_ c: Case) throws {
        let original = try fixtureSDP(c.fixture)
        let (jingle, mapped) = try roundTrip(original, author: c.author, action: c.action)
        if c.action == .transportInfo {
            // Transport only: every candidate and credential survives.
            for (before, after) in zip(original.media, mapped.media) {
                #expect(after.candidates.count == before.candidates.filter { $0.transport.lowercased() == "udp" }.count)
                #expect(mapped.iceUfrag(for: after) == original.iceUfrag(for: before))
            }
            #expect(jingle.contents.allSatisfy { $0.description == nil })
            return
        }
        #expect(mapped.media.map(\.mid) == contentNames(original).map(Optional.some))
        #expect(normalizedSections(mapped) == normalizedSections(original))
        #expect(mapped.groups == original.groups)
        #expect(mapped.origin.sessionID == original.origin.sessionID)
    }

    @Test(arguments: cases)
    func stableAfterOneNormalisation(_ c: Case) throws {
        let first = try roundTrip(try fixtureSDP(c.fixture), author: c.author, action: c.action)
        let second = try roundTrip(first.sdp, author: c.author, action: c.action)
        #expect(second.sdp == first.sdp)
        #expect(second.sdp.serialized() == first.sdp.serialized())
        #expect(canonical(second.jingle) == canonical(first.jingle))
    }

    @Test func icePortAndAddressComeFromTheDefaultCandidate() throws {
        let (_, mapped) = try roundTrip(try fixtureSDP("browser-offer"), author: .initiator, action: .sessionInitiate)
        // The relay candidate is the default, as the browser chose it; bundled sections share it (RFC 8843 §7.3).
        for section in mapped.media {
            #expect(section.port == 50123)
            #expect(section.connections == [SDPConnection(address: "203.0.113.7")])
        }
    }
}

/// Jingle -> SDP -> Jingle over the XEP example stanzas.
struct XEPExampleTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let file: String
        let author: JingleRole
        var testDescription: String { file }
    }

    static let stanzas: [Case] = [
        Case(file: "xep-0167-01", author: .initiator), Case(file: "xep-0167-03", author: .responder),
        Case(file: "xep-0176-01", author: .initiator), Case(file: "xep-0176-07", author: .initiator),
        Case(file: "xep-0177-01", author: .initiator),
        Case(file: "xep-0320-01", author: .initiator), Case(file: "xep-0320-02", author: .responder),
        Case(file: "xep-0320-03", author: .responder),
    ]

    @Test(arguments: stanzas)
    func stanzaSurvivesSDP(_ c: Case) throws {
        let original = try xepJingle(c.file)
        let (sdp, back) = try roundTrip(original, author: c.author)
        #expect(canonical(back) == canonical(original))
        #expect(sdp.origin.sessionID == original.sid)
        let candidates = original.contents.compactMap { $0.transport.flatMap(JingleSDPMapper.iceTransport) }.flatMap(\.candidates)
        #expect(sdp.media.flatMap(\.candidates).count == candidates.count)
    }

    @Test func xep0167InitiationAsSDP() throws {
        let sdp = try mapper.sdp(from: try xepJingle("xep-0167-01"), author: .initiator)
        let audio = try #require(sdp.media.first)
        #expect(audio.proto == "RTP/AVP")
        #expect(audio.formats == ["96", "97", "18", "0", "103", "98"])
        #expect(audio.rtpMaps.map { "\($0.payloadType) \($0.encodingName)/\($0.clockRate)" }
                == ["96 speex/16000", "97 speex/8000", "103 L16/16000", "98 x-ISAC/8000"])
        // Static types named as RFC 3551 names them need no rtpmap.
        #expect(audio.codec(for: "18")?.encodingName == "G729")
        #expect(audio.rtpMaps.first { $0.payloadType == 103 }?.channels == 2)
        // The srflx candidate is the default; its related address travels.
        #expect(audio.port == 45664)
        #expect(audio.candidates.last?.relatedAddress == "10.0.1.1")
        #expect(audio.candidates.last?.relatedPort == 8998)
        #expect(audio.candidates.allSatisfy { $0.networkID == "1" && $0.generation == 0 })
    }

    @Test func xep0320FingerprintAsSDP() throws {
        let sdp = try mapper.sdp(from: try xepJingle("xep-0320-01"), author: .initiator)
        let audio = try #require(sdp.media.first)
        #expect(audio.proto == "UDP/TLS/RTP/SAVPF")
        #expect(audio.fingerprints == [SDPFingerprint(hashFunction: "sha-256", fingerprint: "02:1A:CC:54:27:AB:EB:9C:53:3F:3E:4B:65:2E:7D:46:3F:54:42:CD:54:F1:7A:03:A2:7D:F9:B0:7F:46:19:B2")])
        #expect(audio.setup == .actpass)
        let answer = try mapper.sdp(from: try xepJingle("xep-0320-02"), author: .responder)
        #expect(answer.media.first?.setup == .active)
    }

    @Test func xep0177RawUDPAsSDP() throws {
        let sdp = try mapper.sdp(from: try xepJingle("xep-0177-01"), author: .initiator)
        let audio = try #require(sdp.media.first)
        #expect(audio.port == 13540)
        #expect(audio.connections == [SDPConnection(address: "10.1.1.104")])
        #expect(audio.iceUfrag == nil && audio.candidates.isEmpty)
        #expect(sdp.attributes.isEmpty, "no ICE, so no a=ice-options")
    }

    /// XEP-0293/0294 examples are bare descriptions: carried in a description-info content.
    @Test(arguments: ["xep-0293-01", "xep-0294-01", "xep-0294-05"])
    func descriptionSurvivesSDP(_ file: String) throws {
        let description = try RTPDescription(element: try xepElement(file))
        let payload = JinglePayload(action: .descriptionInfo, sid: "s1", contents: [
            JingleContent(creator: .initiator, name: "video", description: description),
        ])
        let (_, back) = try roundTrip(payload, author: .initiator)
        #expect(canonical(back) == canonical(payload))
    }

    @Test func xep0293FeedbackAsSDP() throws {
        let description = try RTPDescription(element: try xepElement("xep-0293-01"))
        let payload = JinglePayload(action: .descriptionInfo, sid: "s1", contents: [JingleContent(creator: .initiator, name: "v", description: description)])
        let video = try #require(try mapper.sdp(from: payload, author: .initiator).media.first)
        #expect(video.rtcpFeedback == [
            SDPRTCPFeedback(format: .format("96"), type: "nack", parameter: "sli"),
            SDPRTCPFeedback(format: .format("96"), type: "trr-int", parameter: "100"),
            SDPRTCPFeedback(format: .all, type: "nack", parameter: "pli"),
        ])
    }

    /// XEP-0294 Example 5 maps `a=extmap:2/recvonly` to senders='initiator': that is the responder's view.
    @Test func xep0294SendersAreTheResponderView() throws {
        let description = try RTPDescription(element: try xepElement("xep-0294-05"))
        let payload = JinglePayload(action: .descriptionInfo, sid: "s1", contents: [JingleContent(creator: .initiator, name: "v", description: description)])
        let asResponder = try #require(try mapper.sdp(from: payload, author: .responder).media.first)
        #expect(asResponder.extmaps.map(\.direction) == [nil, .recvonly, nil])
        let asInitiator = try #require(try mapper.sdp(from: payload, author: .initiator).media.first)
        #expect(asInitiator.extmaps.map(\.direction) == [nil, .sendonly, nil])
        #expect(asInitiator.attributes.contains(.extmapAllowMixed))
    }
}
