import DTLS
import ICE
import Jingle
import Testing
@testable import JingleEngine

struct TransportMappingTests {
    @Test func candidatesRoundTrip() throws {
        var relay = ICE.ICECandidate(foundation: "3", component: 1, transport: .udp, priority: 16_777_215,
                                     address: "127.0.0.1", port: 49_170, type: .relay)
        relay.relatedAddress = "127.0.0.1"
        relay.relatedPort = 50_000
        relay.generation = 1
        relay.network = 2
        let jingle = TransportMapping.jingleCandidate(relay, id: "c1")
        #expect(jingle.type == .relay && jingle.relAddr == "127.0.0.1" && jingle.relPort == 50_000)
        #expect(jingle.protocol == "udp" && jingle.generation == 1 && jingle.network == 2 && jingle.id == "c1")
        let back = try #require(TransportMapping.iceCandidate(jingle))
        #expect(back == relay)
    }

    @Test func tcpCandidatesAreNotForTheAgent() {
        let c = Jingle.ICECandidate(component: 1, foundation: "1", id: "x", ip: "127.0.0.1", port: 9, priority: 1, protocol: "tcp", type: .host)
        #expect(TransportMapping.iceCandidate(c) == nil)
    }

    @Test func fingerprintsRoundTrip() throws {
        let certificate = try DTLSCertificate.generate()
        let ours = certificate.fingerprint()
        let jingle = TransportMapping.jingleFingerprint(ours, setup: .actpass)
        #expect(jingle.hash == "sha-256" && jingle.setup == .actpass)
        #expect(TransportMapping.dtlsFingerprint(jingle) == ours)
    }

    @Test(arguments: [
        (DTLSSetup.actpass, DTLSSetup.active, DTLSRole?.some(.server)),
        (.actpass, .passive, .client),
        (.active, .actpass, .client),
        (.passive, .actpass, .server),
        (.active, .passive, .client),
        (.passive, .active, .server),
        (.active, .active, nil),
        (.passive, .passive, nil),
        (.actpass, .actpass, nil),
    ])
    func dtlsRoles(local: DTLSSetup, remote: DTLSSetup, expected: DTLSRole?) {
        #expect(TransportMapping.dtlsRole(local: local, remote: remote) == expected)
    }
}
