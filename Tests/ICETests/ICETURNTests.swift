import Foundation
import ICE
import Testing

@Suite("ICE through a private coturn", .serialized)
struct ICETURNTests {
    @Test("relay-only agents select a relay/relay pair through coturn and exchange datagrams")
    func relayOnly() async throws {
        let coturn = try Coturn()
        defer { coturn.stop() }
        func configuration(_ role: ICEConfiguration.Role) -> ICEConfiguration {
            var c = loopbackConfiguration(role)
            c.turnServers = [.init(address: "127.0.0.1", port: coturn.port, username: "alice", password: "alicepw")]
            c.relayOnly = true
            return c
        }
        let a = try await Peer.make(configuration(.controlling))
        let b = try await Peer.make(configuration(.controlled))
        try await connect(a, b)
        for peer in [a, b] {
            let candidates = peer.log.localCandidates(peer.stream)
            #expect(!candidates.isEmpty)
            #expect(candidates.allSatisfy { $0.type == .relay })
            let pair = try #require(try await peer.agent.selectedPair(stream: peer.stream))
            #expect(pair.local.type == .relay)
            #expect(pair.remote.type == .relay)
            #expect(pair.local.address == "127.0.0.1")
        }
        try await expectDatagrams(from: a, to: b, payloads: [randomPayload(1200), randomPayload(20)])
        try await expectDatagrams(from: b, to: a, payloads: [randomPayload(1200), randomPayload(20)])
        await a.agent.close()
        await b.agent.close()
    }
}
