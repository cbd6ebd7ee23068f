import Foundation
@testable import ICE
import Testing

@Suite("ICE through a private coturn", .serialized)
struct ICETURNTests {
    @Test("relay-only agents select a relay/relay pair through coturn and exchange datagrams",
          arguments: [ICEConfiguration.TURNServer.Transport.udp, .tcp])
    func relayOnly(transport: ICEConfiguration.TURNServer.Transport) async throws {
        let coturn = try Coturn()
        defer { coturn.stop() }
        func configuration(_ role: ICEConfiguration.Role) -> ICEConfiguration {
            var c = loopbackConfiguration(role)
            c.turnServers = [.init(address: "127.0.0.1", port: coturn.port, username: "alice", password: "alicepw", transport: transport)]
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
        for peer in [a, b] {
            let started = ContinuousClock.now
            await peer.agent.close()  // also deallocates the TURN allocation (RFC 8656 §7: lifetime 0)
            print("ICE close() with a TURN allocation took \(ContinuousClock.now - started)")
            #expect(peer.agent.lifecycleProbe.isNiceAgentFinalized)
            #expect(peer.agent.lifecycleProbe.isLoopThreadFinished)
        }
    }
}
