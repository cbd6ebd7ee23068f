import Jingle
import Testing
import XMLStream
import XMPPCore
import XMPPLink
@testable import JingleEngine

/// Session-initiates written the way other clients write them, sent as raw IQs over a real peer link to our
/// engine: each must be acknowledged with an IQ result (XEP-0166 §6.3) and surface as an incoming session.
/// (This target has no fixture resources; the stanzas are inline. The fuller corpus lives in
/// Tests/JingleTests/Fixtures/interop and Tests/JingleSDPTests/Fixtures/interop.)
struct InteropSessionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        /// The `<jingle/>` element; `INITIATOR` is replaced by the sending JID.
        let jingle: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "Conversations audio call (DTLS, BUNDLE, hdrext, ssrc)", jingle: """
            <jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='Cv-call-1' initiator='INITIATOR'>
              <content creator='initiator' name='0' senders='both'>
                <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>
                  <payload-type id='111' name='opus' clockrate='48000' channels='2'>
                    <parameter name='useinbandfec' value='1'/>
                    <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='transport-cc'/>
                  </payload-type>
                  <payload-type id='0' name='PCMU' clockrate='8000'/>
                  <payload-type id='126' name='telephone-event' clockrate='8000'/>
                  <rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='1' uri='urn:ietf:params:rtp-hdrext:ssrc-audio-level'/>
                  <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='3127624193'><parameter name='cname' value='W7hL'/></source>
                  <rtcp-mux/>
                </description>
                <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='Rf2k' pwd='Xy9cLw3Mq0nZ7bVt1pKs5hJd'>
                  <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>91:3D:0A:6B:E2:57:C8:14:F0:39:AD:72:5E:C6:0B:98:43:E1:27:DC:66:0F:B5:82:19:A4:7E:3C:D0:55:8B:21</fingerprint>
                </transport>
              </content>
              <group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'><content name='0'/></group>
            </jingle>
            """),
        Case(name: "Jicofo audio with Jitsi extensions and estos bundle", jingle: """
            <jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='jicofo-1' initiator='INITIATOR'>
              <content creator='initiator' name='audio' senders='both'>
                <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio' maxptime='60'>
                  <payload-type id='111' name='opus' clockrate='48000' channels='2'/>
                  <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='3452128851' name='jvb-a0'>
                    <parameter name='msid' value='mixedmslabel mixedlabelaudio0'/>
                    <ssrc-info xmlns='http://jitsi.org/jitmeet' owner='jvb'/>
                  </source>
                  <rtcp-mux/>
                </description>
                <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='5ndn81h8m3o3pf' pwd='3a9l0crgh40ho8utl5r2d5tq7c'>
                  <rtcp-mux/>
                  <web-socket xmlns='http://jitsi.org/protocol/colibri' url='wss://meet.example/colibri-ws/x'/>
                  <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' required='false' setup='actpass'>6B:41:88:0E:C7:35:F2:9A:14:D6:70:AB:3E:58:C1:0F:92:E4:27:7D:B0:63:1A:C8:5F:09:E3:46:BD:72:A8:1C</fingerprint>
                  <candidate component='1' foundation='1' generation='0' id='c1' ip='127.0.0.1' network='0' port='10000' priority='2130706431' protocol='udp' type='host'/>
                </transport>
              </content>
              <bundle xmlns='http://estos.de/ns/bundle'/>
            </jingle>
            """),
        Case(name: "Asterisk chan_motif ICE-UDP with two components", jingle: """
            <jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='asterisk-4b2c' initiator='INITIATOR'>
              <content creator='initiator' name='audio' senders='both'>
                <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>
                  <payload-type id='0' name='PCMU' clockrate='8000'/>
                  <payload-type id='101' name='telephone-event' clockrate='8000'/>
                </description>
                <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd='b7xUo6QLc0m9vI4Y1t2RkN' ufrag='Wq3l'>
                  <candidate component='1' foundation='1' generation='0' id='m1' ip='127.0.0.1' network='0' port='18270' priority='2130706431' protocol='udp' type='host'/>
                  <candidate component='2' foundation='1' generation='0' id='m2' ip='127.0.0.1' network='0' port='18271' priority='2130706430' protocol='udp' type='host'/>
                </transport>
              </content>
            </jingle>
            """),
    ]

    @Test(.timeLimit(.minutes(1)), arguments: cases)
    func foreignInitiateIsAcknowledgedAndSurfaces(_ c: Case) async throws {
        let (alice, bob) = try await JingleEngineTests.connectedPair()
        let aliceJID = try JID("alice@localhost/sj"), bobJID = try JID("bob@localhost/sj")
        let element = try XMLElement(parsing: c.jingle.replacingOccurrences(of: "INITIATOR", with: aliceJID.description)).trimmingWhitespaceText()
        let iq = IQ(type: .set, id: "interop-1", to: bobJID, payload: element)
        var incoming = bob.incomingSessions.makeAsyncIterator()
        let reply = try await alice.link.sendIQ(iq, timeout: .seconds(5))
        #expect(reply.type == .result)
        let session = try #require(await incoming.next())
        #expect(session.initiate.sid == element[attribute: "sid"])
        #expect(session.initiate.contents.map(\.name) == element.children("content", namespace: NS.jingle).compactMap { $0[attribute: "name"] })
        await alice.stop(); await bob.stop()
    }
}
