import Testing
import XMLStream
import XMPPCore
@testable import XMPPLink

@Suite struct DiscoCapsTests {
    /// XEP-0115 §5.2: the simple generation example.
    @Test func xep0115SimpleExample() {
        let info = DiscoInfo(identities: [.init(category: "client", type: "pc", name: "Exodus 0.9.1")],
                             features: ["http://jabber.org/protocol/caps", "http://jabber.org/protocol/disco#info",
                                        "http://jabber.org/protocol/disco#items", "http://jabber.org/protocol/muc"])
        #expect(info.capsVerificationString == "QgayPKawpkPSDYmwT/WM94uAlu0=")
    }

    @Test func verificationStringDependsOnFeatures() {
        let base = DiscoInfo(identities: [.init(category: "client", type: "pc", name: "x")], features: [NS.discoInfo])
        var more = base
        more.features.insert(NS.jingle)
        #expect(base.capsVerificationString != more.capsVerificationString)
    }

    @Test func queryRoundTrip() throws {
        let info = DiscoInfo(identities: [.init(category: "client", type: "pc", name: "SwiftJingle", lang: "en")],
                             features: [NS.jingle, NS.discoInfo, NS.jingleICEUDP])
        let text = info.queryElement(node: "n#v").serialized()
        let parsed = DiscoInfo(query: try XMLElement(parsing: text))
        #expect(parsed == info)
        #expect(text.contains("node=\"n#v\""))
    }

    @Test func externalServicesParse() throws {
        let services = try XMLElement(parsing: """
            <services xmlns='urn:xmpp:extdisco:2'>
              <service host='stun.shakespeare.lit' port='9998' transport='udp' type='stun'/>
              <service expires='2014-09-13T08:16:33Z' host='turn.shakespeare.lit' password='pass' port='3478' restricted='1' transport='udp' type='turn' username='user'/>
              <service port='1' type='turn'/>
            </services>
            """)
        let parsed = ExternalService.parse(services: services)
        #expect(parsed.count == 2)
        #expect(parsed[0] == ExternalService(type: "stun", host: "stun.shakespeare.lit", port: 9998, transport: "udp"))
        #expect(parsed[1].restricted && parsed[1].username == "user" && parsed[1].password == "pass" && parsed[1].port == 3478)
    }
}
