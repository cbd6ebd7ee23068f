import ICE
import TestServers
import Testing
import XMPPLink

/// XEP-0215 end to end: the TURN credentials Prosody hands out are accepted by a real coturn sharing its
/// REST secret, proven by an ICE agent that gathers a relay candidate with them.
struct ExternalServicesTURNTests {
    @Test(.timeLimit(.minutes(1)))
    func prosodyCredentialsAreAcceptedByCoturn() async throws {
        let server = try ProsodyServer.get()
        let coturn = try CoturnServer(port: server.turnPort, authentication: .restSecret)
        defer { coturn.stop() }
        let client = try await server.connect("alice")
        let services = try await client.externalServices()
        await client.close()
        let turn = try #require(services.first { $0.type == "turn" && ($0.transport ?? "udp") == "udp" })
        let username = try #require(turn.username), password = try #require(turn.password)

        let agent = try ICEAgent(configuration: ICEConfiguration(
            localAddresses: ["127.0.0.1"],
            turnServers: [.init(address: turn.host, port: UInt16(turn.port ?? 3478), username: username, password: password)],
            relayOnly: true))
        let stream = try await agent.addStream(components: 1)
        var relay: ICE.ICECandidate?
        try await agent.gatherCandidates(stream: stream)
        for await event in agent.events {
            if case .localCandidate(let candidate, _) = event, candidate.type == .relay { relay = candidate; break }
            if case .gatheringDone = event { break }
        }
        await agent.close()
        let candidate = try #require(relay, "coturn refused the XEP-0215 credentials: no relay candidate")
        #expect(candidate.address == "127.0.0.1")

        // The same agent set-up with a wrong password gets no relay candidate: the check can fail.
        let refused = try ICEAgent(configuration: ICEConfiguration(
            localAddresses: ["127.0.0.1"],
            turnServers: [.init(address: turn.host, port: UInt16(turn.port ?? 3478), username: username, password: "wrong")],
            relayOnly: true))
        let refusedStream = try await refused.addStream(components: 1)
        try await refused.gatherCandidates(stream: refusedStream)
        var gotRelay = false
        for await event in refused.events {
            if case .localCandidate(let c, _) = event, c.type == .relay { gotRelay = true; break }
            if case .gatheringDone = event { break }
        }
        await refused.close()
        #expect(!gotRelay)
    }
}
