import Foundation
import Testing
import XMLStream
import XMPPCore
@testable import Jingle

@Suite struct ModelCodecTests {
    func loadBundle() throws -> (XMLElement, JinglePayload) {
        guard let url = Bundle.module.url(forResource: "bundle-initiate", withExtension: "xml", subdirectory: "Fixtures/stanzas") else {
            throw FixtureError.missing("bundle-initiate.xml")
        }
        let root = try XMLElement(parsing: String(contentsOf: url, encoding: .utf8))
        let iq = try IQ(element: root)
        let jingle = try #require(try iq.jingle())
        return (try #require(iq.payload), jingle)
    }

    @Test func groupingSourcesAndExtensionsRoundTrip() throws {
        let (original, jingle) = try loadBundle()
        #expect(jingle.element().normalizedForComparison() == original.normalizedForComparison())
        #expect(jingle.groups == [JingleGroup(semantics: "BUNDLE", contents: ["audio", "video"])])
        #expect(jingle.extraAttributes == [XMLAttribute(name: "x-vendor", value: "kept")])
        let audio = try #require(jingle.contents.first?.description as? RTPDescription)
        #expect(audio.rtcpMux && audio.extmapAllowMixed)
        #expect(audio.bandwidth == RTPBandwidth(type: "AS", value: "64"))
        #expect(audio.payloadTypes[0].ptime == 20 && audio.payloadTypes[0].maxptime == 120)
        #expect(audio.payloadTypes[0].parameters == [RTPParameter(name: "minptime", value: "10"), RTPParameter(name: "useinbandfec", value: "1")])
        #expect(audio.sources == [RTPSource(ssrc: 1234567890, parameters: [RTPParameter(name: "cname", value: "romeo-cname"), RTPParameter(name: "msid", value: "stream0 track0")])])
        #expect(audio.extensions.map(\.name) == ["x-unknown"])
        let ice = try #require(jingle.contents.first?.transport as? ICEUDPTransport)
        #expect(ice.candidates.first?.extraAttributes == [XMLAttribute(name: "tcptype", value: "passive")])
        let video = try #require(jingle.contents.last?.description as? RTPDescription)
        #expect(video.sourceGroups == [RTPSourceGroup(semantics: "FID", ssrcs: [11, 12])])
        #expect(jingle.contents.last?.senders == nil && jingle.contents.last?.effectiveSenders == .both)
    }

    @Test func modelsBuiltInCodeSerializeAndParseBack() throws {
        let content = JingleContent(
            creator: .initiator, name: "a-file", senders: .initiator,
            description: FileTransferDescription(file: FileTransferFile(name: "a.bin", size: 10, hashes: [FileHash(algo: "sha-256", digest: Array(repeating: 7, count: 32))])),
            transport: IBBTransport(blockSize: 4096, sid: "ibb1"))
        let payload = JinglePayload(action: .sessionInitiate, sid: "s1", initiator: jid("a@localhost/x"), contents: [content],
                                    reason: JingleReason(.alternativeSession, text: "use this", alternativeSessionID: "s0"))
        let text = payload.element().serialized()
        let back = try JinglePayload(element: XMLElement(parsing: text))
        #expect(back == payload)
        let message = JingleMessage(.propose, id: "p1", descriptions: [RTPDescription(media: "audio")])
        #expect(try JingleMessage(element: XMLElement(parsing: message.element().serialized())) == message)
        for info in [RTPSessionInfo.active, .hold, .unhold, .ringing, .mute(creator: .initiator, name: "voice"), .unmute(creator: .responder, name: nil)] {
            #expect(try RTPSessionInfo(element: info.element()) == info)
        }
    }

    /// Each malformed input is refused with an error that names the element, the fault and the XEP section.
    @Test(arguments: [
        ("<jingle xmlns='urn:xmpp:jingle:1' action='session-dance' sid='s'/>",
         JingleParseError(.invalidAttribute("action", value: "session-dance"), element: "jingle", section: "XEP-0166 §7.1")),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate'/>",
         JingleParseError(.missingAttribute("sid"), element: "jingle", section: "XEP-0166 §7.1")),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s' initiator='@bad'/>",
         JingleParseError(.invalidAttribute("initiator", value: "@bad"), element: "jingle", section: "XEP-0166 §7.1")),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='content-add' sid='s'><content name='x'/></jingle>",
         JingleParseError(.missingAttribute("creator"), element: "content", section: "XEP-0166 §7.3")),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='content-add' sid='s'><content creator='initiator' name='x' senders='everyone'/></jingle>",
         JingleParseError(.invalidAttribute("senders", value: "everyone"), element: "content", section: "XEP-0166 §7.3")),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='s'><reason><text>why</text></reason></jingle>",
         JingleParseError(.missingChild("condition"), element: "reason", section: "XEP-0166 §7.4")),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='s'><reason><busy/><decline/></reason></jingle>",
         JingleParseError(.unexpectedElement(name: "decline", namespace: NS.jingle), element: "reason", section: "XEP-0166 §7.4")),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'><content creator='initiator' name='v'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='200'/></description></content></jingle>",
         JingleParseError(.invalidAttribute("id", value: "200"), element: "payload-type", section: "XEP-0167 §4")),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='s'><content creator='initiator' name='v'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><candidate component='1' foundation='1' generation='0' id='c' ip='127.0.0.1' port='70000' priority='1' protocol='udp' type='host'/></transport></content></jingle>",
         JingleParseError(.invalidAttribute("port", value: "70000"), element: "candidate", section: "XEP-0176 §5")),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='s'><content creator='initiator' name='v'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='sideways'>AB</fingerprint></transport></content></jingle>",
         JingleParseError(.invalidAttribute("setup", value: "sideways"), element: "fingerprint", section: "XEP-0320 §3")),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='s'><content creator='initiator' name='v'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='active'>XYZ</fingerprint></transport></content></jingle>",
         JingleParseError(.invalidText("XYZ"), element: "fingerprint", section: "XEP-0320 §3")),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'><content creator='initiator' name='f'><description xmlns='urn:xmpp:jingle:apps:file-transfer:5'/></content></jingle>",
         JingleParseError(.missingChild("file"), element: "description", section: "XEP-0234 §3")),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'><content creator='initiator' name='f'><description xmlns='urn:xmpp:jingle:apps:file-transfer:5'><file><hash xmlns='urn:xmpp:hashes:2' algo='sha-1'>***</hash></file></description></content></jingle>",
         JingleParseError(.invalidText("***"), element: "hash", section: "XEP-0300 §3")),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'><content creator='initiator' name='f'><transport xmlns='urn:xmpp:jingle:transports:ibb:1' sid='x'/></content></jingle>",
         JingleParseError(.missingAttribute("block-size"), element: "transport", section: "XEP-0261 §2")),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'><content creator='initiator' name='f'><transport xmlns='urn:xmpp:jingle:transports:s5b:1' sid='x'><candidate cid='c' host='h' jid='a@b' priority='1' type='warp'/></transport></content></jingle>",
         JingleParseError(.invalidAttribute("type", value: "warp"), element: "candidate", section: "XEP-0260 §2")),
    ])
    func malformedIsRefusedWithSection(_ text: String, _ expected: JingleParseError) throws {
        let element = try XMLElement(parsing: text)
        #expect(throws: expected) { try JinglePayload(element: element) }
    }

    @Test(arguments: JingleMessage.Kind.allCases)
    func jingleMessageTravelsInAMessage(_ kind: JingleMessage.Kind) throws {
        let payload = JingleMessage(kind, id: "ca3cf894", descriptions: kind == .propose ? [RTPDescription(media: "audio")] : [],
                                    reason: kind == .finish || kind == .reject ? JingleReason(.busy, text: "later") : nil)
        let message = payload.message(id: "m1", from: alice, to: jid("bob@localhost"))
        let wire = try XMLElement(parsing: message.element.serialized())
        let back = try #require(try Message(element: wire).jingleMessage())
        #expect(back == payload)
        #expect(back.kind == kind)
        #expect(wire[attribute: "type"] == "chat" && wire.child("store", namespace: "urn:xmpp:hints") != nil)
    }

    @Test func proposeWithoutDescriptionIsRefused() throws {
        let text = "<propose xmlns='urn:xmpp:jingle-message:0' id='x'/>"
        #expect(throws: JingleParseError(.missingChild("description"), element: "propose", section: "XEP-0353 §3")) {
            try JingleMessage(element: XMLElement(parsing: text))
        }
    }

    @Test func unknownRegistryNamespacesAreKeptVerbatim() throws {
        var registry = JingleRegistry()
        registry.register(transport: IBBTransport.self)
        let text = "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'><content creator='initiator' name='v'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='0'/></description><transport xmlns='urn:xmpp:jingle:transports:ibb:1' block-size='10' sid='i'/></content></jingle>"
        let parsed = try JinglePayload(element: XMLElement(parsing: text), registry: registry)
        #expect(parsed.contents[0].description is UnknownJinglePayload)
        #expect(parsed.contents[0].transport is IBBTransport)
        #expect(!registry.supportsDescription(NS.jingleRTP))
        #expect(JingleRegistry.standard.supportsDescription(NS.jingleRTP))
        #expect(parsed.element() == (try XMLElement(parsing: text)))
    }
}
