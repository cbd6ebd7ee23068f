import Foundation
import Testing
import XMLStream
import XMPPCore
@testable import Jingle

/// Jingle stanzas in the shape other clients send them (written for this corpus after the output of each client,
/// not copied from one): they must parse without error, keep what they do not know (XEP-0166 §8: unknown elements
/// and attributes are ignored, never a reason to fail), survive their own serialisation, and a session-initiate
/// must be acknowledged with an IQ result.
struct InteropJingleTests {
    static func element(_ file: String) throws -> XMLElement {
        guard let url = Fixtures.url(file, subdirectory: "Fixtures/interop") else { throw FixtureError.missing(file) }
        return try XMLElement(parsing: try String(contentsOf: url, encoding: .utf8)).trimmingWhitespaceText()
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let file: String
        /// The transport namespace every content must parse into a typed model for (not `UnknownJinglePayload`),
        /// or nil when the client uses a transport we have no model for.
        let transport: String?
        var testDescription: String { file }
    }

    static let initiates: [Case] = [
        Case(file: "conversations-file-offer-ice.xml", transport: NS.jingleICEUDP),
        Case(file: "conversations-file-offer-s5b.xml", transport: NS.jingleS5B),
        Case(file: "conversations-file-offer-ibb.xml", transport: NS.jingleIBB),
        Case(file: "dino-file-offer.xml", transport: NS.jingleS5B),
        Case(file: "gajim-file-offer.xml", transport: NS.jingleS5B),
        Case(file: "chan-motif-ice-udp.xml", transport: NS.jingleICEUDP),
        Case(file: "chan-motif-google-transport.xml", transport: nil),
        Case(file: "unknown-extensions-everywhere.xml", transport: NS.jingleICEUDP),
    ]

    @Test(arguments: initiates)
    func parsesAndSurvivesItsOwnSerialisation(_ c: Case) throws {
        let iq = try IQ(element: try Self.element(c.file))
        let jingleElement = try #require(iq.payload)
        let payload = try JinglePayload(element: jingleElement)
        #expect(payload.action == .sessionInitiate)
        #expect(!payload.contents.isEmpty)
        for content in payload.contents {
            let transport = try #require(content.transport)
            if let expected = c.transport {
                #expect(transport.wireNamespace == expected)
                #expect(!(transport is UnknownJinglePayload), "\(expected) should have a typed model")
            } else {
                #expect(transport is UnknownJinglePayload, "an unknown transport is kept verbatim")
            }
        }
        // Model -> XML -> model is the identity, and re-serialising is stable.
        let again = try JinglePayload(element: try XMLElement(parsing: payload.element().serialized()))
        #expect(again == payload)
        #expect(again.element().serialized() == payload.element().serialized())
    }

    /// XEP-0166 §8 / XEP-0167 §… forward compatibility: unknown attributes and elements at every level are
    /// kept, so a proxy or gateway passes them on untouched.
    @Test func unknownExtensionsAreKeptAtEveryLevel() throws {
        let iq = try IQ(element: try Self.element("unknown-extensions-everywhere.xml"))
        let payload = try JinglePayload(element: try #require(iq.payload))
        let written = payload.element().serialized()
        for marker in ["x-jingle='kept'", "x-session-hint", "x-content='yes'", "x-desc='1'", "x-pt='1'", "x-param='1'", "x-fb='1'",
                       "x-codec-extra", "x-ext='1'", "x-src='1'", "ssrc-info", "x-future-child", "<deep attr='v'", "x-tr='1'",
                       "x-cand='1'", "x-transport-hint", "x-content-child"] {
            #expect(written.replacingOccurrences(of: "\"", with: "'").contains(marker), "\(marker) lost")
        }
        let rtp = try #require(payload.contents.first?.description as? RTPDescription)
        #expect(rtp.payloadTypes.first?.id == 111)
        #expect(rtp.rtcpMux)
        let ice = try #require(payload.contents.first?.transport as? ICEUDPTransport)
        #expect(ice.fingerprints.first?.setup == .actpass)
        #expect(ice.candidates.first?.port == 50000)
    }

    /// The responder's session manager acknowledges each session-initiate with an IQ result (XEP-0166 §6.3),
    /// before any application decision, and reports the payload as an event.
    @Test(arguments: initiates)
    func sessionManagerAcknowledgesTheInitiate(_ c: Case) throws {
        let iq = try IQ(element: try Self.element(c.file))
        let local = try #require(iq.to)
        var manager = JingleSessionManager(local: local, ids: SequentialIDGenerator(prefix: "r"), sessionIDs: SequentialIDGenerator(prefix: "s"))
        let actions = manager.receive(iq, now: t0)
        #expect(answer(to: iq, in: actions) == .result)
        let received = events(actions).compactMap { if case .received(let p) = $0 { p } else { nil } }
        if c.transport == nil {
            // Known limitation, pinned: Google's legacy p2p transport (chan_motif's default) has no model. XEP-0166
            // §6.3.2: acknowledge, then terminate with unsupported-transports; the application never sees it.
            #expect(received.isEmpty)
            let terminate = try #require(sentIQs(actions).compactMap { try? JinglePayload(element: $0.payload ?? XMLElement(name: "none")) }.first)
            #expect(terminate.action == .sessionTerminate)
            #expect(terminate.reason?.condition == .unsupportedTransports)
            return
        }
        #expect(received.count == 1)
        #expect(received.first?.sid == iq.payload?[attribute: "sid"])
        let peer = try #require(iq.from)
        #expect(manager.session(peer: peer, sid: try #require(iq.payload?[attribute: "sid"])) != nil)
    }

    /// Jicofo sends from the MUC occupant JID and names its real JID as initiator; XEP-0166 §7.1 lets the two
    /// differ. Later requests may repeat either JID; a third one is still refused.
    @Test func mucFocusInitiatorMayDifferFromTheSender() throws {
        let focusOccupant = jid("room1@conference.meet.example/focus"), focusReal = jid("focus@auth.meet.example/focus")
        let me = jid("juliet@meet.example/7c1a9e0b")
        var manager = JingleSessionManager(local: me, ids: SequentialIDGenerator(prefix: "r"), sessionIDs: SequentialIDGenerator(prefix: "s"))
        let initiate = IQ(type: .set, id: "j1", from: focusOccupant, to: me,
                          payload: JinglePayload(action: .sessionInitiate, sid: "8q0n", initiator: focusReal, contents: [audioContent("audio")]).element())
        #expect(answer(to: initiate, in: manager.receive(initiate, now: t0)) == .result)
        #expect(manager.session(peer: focusOccupant, sid: "8q0n") != nil, "the session is keyed by the sender the server vouches for")
        for (n, (claimed, expected)) in [(focusReal, Answer.result), (focusOccupant, .result), (mallory, .error(.badRequest))].enumerated() {
            let info = IQ(type: .set, id: "t\(n)", from: focusOccupant, to: me,
                          payload: JinglePayload(action: .transportInfo, sid: "8q0n", initiator: claimed,
                                                 contents: [JingleContent(creator: .initiator, name: "audio", transport: iceTransport(candidates: [hostCandidate(10_000 + UInt16(n))]))]).element())
            #expect(answer(to: info, in: manager.receive(info, now: t0)) == expected, "initiator \(claimed)")
        }
    }

    // MARK: - File-transfer details

    /// XEP-0234 v5 `<file/>` with XEP-0300 hashes:2 and XEP-0446 metadata (Dino).
    @Test func dinoFileOfferKeepsHashesAndMetadata() throws {
        let iq = try IQ(element: try Self.element("dino-file-offer.xml"))
        let payload = try JinglePayload(element: try #require(iq.payload))
        let description = try #require(payload.contents.first?.description as? FileTransferDescription)
        #expect(description.file.name == "holiday.mp4")
        #expect(description.file.size == 73_400_320)
        #expect(description.file.mediaType == "video/mp4")
        #expect(description.file.hashes.map(\.algo) == ["sha-256", "blake2b-256"])
        let written = payload.element().serialized()
        #expect(written.contains("urn:xmpp:file:metadata:0"))
        #expect(written.contains("1920"))
        let s5b = try #require(payload.contents.first?.transport as? S5BTransport)
        #expect(s5b.candidates.first?.host == "2001:db8::44")
    }

    /// Conversations offers ICE-UDP with a DTLS fingerprint and an XEP-0343 sctpmap for file transfer.
    @Test func conversationsICEFileOffer() throws {
        let iq = try IQ(element: try Self.element("conversations-file-offer-ice.xml"))
        let payload = try JinglePayload(element: try #require(iq.payload))
        let content = try #require(payload.contents.first)
        #expect(content.senders == .initiator)
        let ice = try #require(content.transport as? ICEUDPTransport)
        #expect(ice.fingerprints.map(\.hash) == ["sha-256"])
        #expect(ice.candidates.map(\.network) == [1])
        #expect(ice.element().serialized().contains("sctpmap"))
        let description = try #require(content.description as? FileTransferDescription)
        #expect(description.file.hashes.first?.algo == "sha-256")
    }

    /// Gajim sends an XTLS `<security/>` stub it never uses; it must not make the offer fail.
    @Test func gajimSecurityElementIsTolerated() throws {
        let iq = try IQ(element: try Self.element("gajim-file-offer.xml"))
        let payload = try JinglePayload(element: try #require(iq.payload))
        #expect(payload.element().serialized().contains("urn:xmpp:jingle:security:xtls:0"))
    }

    // MARK: - Jingle Message Initiation (XEP-0353)

    @Test func conversationsProposeAndProceed() throws {
        let propose = try #require(try Message(element: try Self.element("conversations-jmi-propose.xml")).jingleMessage())
        #expect(propose.kind == .propose)
        #expect(propose.id == "Hq8d0aZk2Lp9")
        let rtp = try #require(propose.descriptions.first as? RTPDescription)
        #expect(rtp.media == "audio")
        #expect(rtp.payloadTypes.isEmpty, "JMI carries a bare <description media='audio'/>")

        let proceed = try #require(try Message(element: try Self.element("conversations-jmi-proceed.xml")).jingleMessage())
        #expect(proceed.kind == .proceed)
        #expect(proceed.id == propose.id)
        // Conversations' OMEMO device element is an unknown child: kept.
        #expect(proceed.element().serialized().contains("dlts-srtp-verification"))
        // XEP-0353 §3.2: the session-initiate that follows reuses the proposal id as its sid.
        var manager = JingleSessionManager(local: jid("romeo@montague.lit/Conversations.x7Qa"), ids: SequentialIDGenerator(prefix: "i"),
                                           sessionIDs: SequentialIDGenerator(prefix: "s"))
        let content = JingleContent(creator: .initiator, name: "0", senders: .both, description: RTPDescription(media: "audio", payloadTypes: [
            RTPPayloadType(id: 111, name: "opus", clockrate: 48000, channels: 2)]), transport: iceTransport())
        let (sid, _) = try manager.sendSessionInitiate(to: jid("juliet@capulet.lit/Conversations.J3"), contents: [content], sid: proceed.id, now: t0)
        #expect(sid == propose.id)
    }
}
