import Foundation
@testable import ICE
import TestServers
import Testing

@Suite("ICE through a private coturn", .serialized)
struct ICETURNTests {
    @Test("relay-only agents select a relay/relay pair through coturn and exchange datagrams",
          arguments: [ICEConfiguration.TURNServer.Transport.udp, .tcp])
    func relayOnly(transport: ICEConfiguration.TURNServer.Transport) async throws {
        let coturn = try CoturnServer.start(authentication: .staticUser)
        defer { coturn.stop() }
        func configuration(_ role: ICEConfiguration.Role) -> ICEConfiguration {
            var c = loopbackConfiguration(role)
            c.turnServers = [.init(address: "127.0.0.1", port: UInt16(coturn.port), username: "alice", password: "alicepw", transport: transport)]
            c.relayOnly = true
            return c
        }
        let a = try await Peer.make(configuration(.controlling))
        let b = try await Peer.make(configuration(.controlled))
        do {
            try await connect(a, b)
        } catch {
            // What coturn saw tells a TURN problem from an ICE one.
            let log = (try? String(contentsOfFile: coturn.directory + "/turnserver.log", encoding: .utf8)) ?? "(no coturn log)"
            print("coturn log (last 40 lines):\n" + log.split(separator: "\n").suffix(40).joined(separator: "\n"))
            throw error
        }
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

@Suite("ICE with a STUN server")
struct ICESTUNTests {
    @Test("a STUN server's mapped address becomes a server-reflexive candidate with the host as related address")
    func stunServer() async throws {
        // A minimal STUN responder that reports a different (still loopback) mapped address, so the srflx
        // candidate is not discarded as redundant with the host one (RFC 8445 §5.1.3).
        let stun = try FakeSTUNServer(mappedAddress: (127, 0, 0, 5), mappedPort: 40_000)
        defer { stun.stop() }
        var configuration = loopbackConfiguration(.controlling)
        configuration.stunServer = .init(address: "127.0.0.1", port: stun.port)
        let a = try await Peer.make(configuration)
        try await a.agent.gatherCandidates(stream: a.stream)
        try await a.log.waitForGatheringDone(a.stream)
        let candidates = a.log.localCandidates(a.stream)
        let host = try #require(candidates.first { $0.type == .host })
        let srflx = try #require(candidates.first { $0.type == .srflx })
        #expect(srflx.address == "127.0.0.5")
        #expect(srflx.port == 40_000)
        #expect(srflx.relatedAddress == host.address)
        #expect(srflx.relatedPort == host.port)
        #expect(srflx.priority < host.priority)
        #expect(stun.requestsAnswered >= 1)
        await a.agent.close()
    }
}
