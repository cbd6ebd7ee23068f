import Foundation
@testable import ICE
import Testing

@Suite("ICEAgent on loopback", .serialized)
struct ICEAgentTests {
    @Test("two agents reach a selected host pair on loopback and exchange datagrams both ways", arguments: [
        (ICEConfiguration.Nomination.aggressive, "127.0.0.1"),
        (.regular, "127.0.0.1"),
        (.aggressive, "::1"),
    ])
    func connectAndExchange(nomination: ICEConfiguration.Nomination, address: String) async throws {
        var configuration = loopbackConfiguration(.controlling, addresses: [address])
        configuration.nomination = nomination
        let a = try await Peer.make(configuration)
        configuration.role = .controlled
        let b = try await Peer.make(configuration)
        let started = ContinuousClock.now
        try await connect(a, b)
        print("ICE time to READY on \(address), \(nomination) nomination (gather + checks, both agents): \(ContinuousClock.now - started)")

        for peer in [a, b] {
            let pair = try #require(try await peer.agent.selectedPair(stream: peer.stream))
            #expect(pair.local.address == address)
            #expect(pair.remote.address == address)
            #expect(pair.local.type == .host)
            #expect(peer.log.selectedPairs(peer.stream).last.map { $0.0 } == pair.local)
            #expect(try await peer.agent.state(stream: peer.stream) == .ready)
        }
        let aPair = try #require(try await a.agent.selectedPair(stream: a.stream))
        let bPair = try #require(try await b.agent.selectedPair(stream: b.stream))
        #expect(aPair.local.port == bPair.remote.port)
        #expect(aPair.remote.port == bPair.local.port)

        try await expectDatagrams(from: a, to: b, payloads: [randomPayload(1), randomPayload(200), randomPayload(1200)])
        try await expectDatagrams(from: b, to: a, payloads: [randomPayload(7), randomPayload(1200), randomPayload(50)])
        await a.agent.close()
        await b.agent.close()
    }

    @Test("host candidates come from the configured port range, one port per component")
    func portRange() async throws {
        let base = UInt16.random(in: 42_000...58_000)
        var configuration = loopbackConfiguration(.controlling)
        configuration.portRange = base...(base + 99)
        let a = try await Peer.make(configuration, components: 2)
        try await a.agent.gatherCandidates(stream: a.stream)
        try await a.log.waitForGatheringDone(a.stream)
        let ports = a.log.localCandidates(a.stream).map(\.port)
        #expect(ports.count == 2)
        #expect(ports.allSatisfy { configuration.portRange?.contains($0) == true })
        #expect(Set(ports).count == 2)
        await a.agent.close()
    }

    @Test("a role conflict (both controlling) is resolved by the tie-breaker and the agents connect")
    func roleConflict() async throws {
        // RFC 8445 §7.3.1.1: 487 Role Conflict, the larger tie-breaker keeps the controlling role.
        let a = try await Peer.make(loopbackConfiguration(.controlling))
        let b = try await Peer.make(loopbackConfiguration(.controlling))
        try await connect(a, b)
        try await expectDatagrams(from: a, to: b, payloads: [randomPayload(32)])
        try await expectDatagrams(from: b, to: a, payloads: [randomPayload(32)])
        await a.agent.close()
        await b.agent.close()
    }

    @Test("two streams on one agent pair connect independently and keep their datagrams apart; removeStream")
    func twoStreams() async throws {
        let a = try await Peer.make(loopbackConfiguration(.controlling))
        let b = try await Peer.make(loopbackConfiguration(.controlled))
        try await connect(a, b)
        let a2 = Peer(agent: a.agent, log: a.log, stream: try await a.agent.addStream())
        let b2 = Peer(agent: b.agent, log: b.log, stream: try await b.agent.addStream())
        #expect(a2.stream != a.stream)
        try await connect(a2, b2)

        let onFirst = b.agent.datagrams(stream: b.stream)
        let onSecond = b.agent.datagrams(stream: b2.stream)
        try a.agent.send([2, 2, 2], stream: a2.stream)
        try a.agent.send([1, 1, 1], stream: a.stream)
        // Each stream's queue holds only its own datagram.
        #expect(try await receive(1, from: onFirst) == [[1, 1, 1]])
        #expect(try await receive(1, from: onSecond) == [[2, 2, 2]])

        let second = b.agent.datagrams(stream: b2.stream)  // replaces (finishes) onSecond
        try await b.agent.removeStream(b2.stream)
        var leftovers = 0
        for await _ in second { leftovers += 1 }  // finished by removeStream
        #expect(leftovers == 0)
        await #expect(throws: ICEError.unknownStream(b2.stream.rawValue)) {
            try await b.agent.localCredentials(stream: b2.stream)
        }
        try await expectDatagrams(from: b, to: a, payloads: [[3]])
        await a.agent.close()
        await b.agent.close()
    }

    @Test("trickle: candidates delivered late, one at a time, shuffled; end-of-candidates", arguments: [true, false])
    func trickle(credentialsFirst: Bool) async throws {
        let addresses = ["127.0.0.1", "127.0.0.2"]
        let a = try await Peer.make(loopbackConfiguration(.controlling, addresses: addresses), components: 2)
        let b = try await Peer.make(loopbackConfiguration(.controlled, addresses: addresses), components: 2)
        try await a.agent.gatherCandidates(stream: a.stream)
        try await b.agent.gatherCandidates(stream: b.stream)
        try await a.log.waitForGatheringDone(a.stream)
        try await b.log.waitForGatheringDone(b.stream)
        let fromA = a.log.localCandidates(a.stream)
        let fromB = b.log.localCandidates(b.stream)
        // Two addresses times two components, host candidates only.
        #expect(fromA.count == 4)
        #expect(fromB.count == 4)
        #expect(Set(fromA.map(\.component)) == [1, 2])
        #expect(Set(fromA.map(\.address)) == Set(addresses))

        let credentialsA = try await a.agent.localCredentials(stream: a.stream)
        let credentialsB = try await b.agent.localCredentials(stream: b.stream)
        try await Task.sleep(for: .milliseconds(100))  // late: well after gathering finished
        if credentialsFirst {
            try await a.agent.setRemoteCredentials(credentialsB, stream: a.stream)
            try await b.agent.setRemoteCredentials(credentialsA, stream: b.stream)
        }
        async let toB: Void = trickleOneByOne(fromA.shuffled(), into: b)
        async let toA: Void = trickleOneByOne(fromB.shuffled(), into: a)
        _ = try await (toA, toB)
        try await a.agent.endOfRemoteCandidates(stream: a.stream)
        try await b.agent.endOfRemoteCandidates(stream: b.stream)
        if !credentialsFirst {
            // Candidates and even end-of-candidates may arrive before the ufrag/pwd they belong to
            // (signalling reorders); they wait for the credentials instead of failing.
            try await Task.sleep(for: .milliseconds(300))
            #expect(!a.log.all.contains { if case .failed = $0 { true } else { false } })
            try await a.agent.setRemoteCredentials(credentialsB, stream: a.stream)
            try await b.agent.setRemoteCredentials(credentialsA, stream: b.stream)
        }
        for component in 1...2 {
            try await a.log.waitForState(.ready, stream: a.stream, component: component)
            try await b.log.waitForState(.ready, stream: b.stream, component: component)
        }
        #expect(!a.log.all.contains { if case .failed = $0 { true } else { false } })
        try await expectDatagrams(from: a, to: b, component: 2, payloads: [randomPayload(100)])
        try await expectDatagrams(from: b, to: a, component: 1, payloads: [randomPayload(100)])
        await a.agent.close()
        await b.agent.close()
    }

    @Test("trickle: remote candidates before local gathering, local ones forwarded as they are found")
    func trickleBeforeGathering() async throws {
        let a = try await Peer.make(loopbackConfiguration(.controlling, addresses: ["127.0.0.1", "127.0.0.2"]))
        let b = try await Peer.make(loopbackConfiguration(.controlled, addresses: ["127.0.0.2", "127.0.0.1"]))
        try await a.agent.gatherCandidates(stream: a.stream)
        try await a.log.waitForGatheringDone(a.stream)
        try await b.agent.setRemoteCredentials(try await a.agent.localCredentials(stream: a.stream), stream: b.stream)
        try await a.agent.setRemoteCredentials(try await b.agent.localCredentials(stream: b.stream), stream: a.stream)
        // B learns A's candidates before it has any of its own (RFC 8838 §11: pairs form as they can).
        try await trickleOneByOne(a.log.localCandidates(a.stream).shuffled(), into: b)
        try await b.agent.endOfRemoteCandidates(stream: b.stream)
        try await b.agent.gatherCandidates(stream: b.stream)
        // Forward each of B's candidates to A as the event arrives, then end-of-candidates (RFC 8838 §8.2).
        var forwarded = 0
        var index = 0
        while true {
            let event = try await b.log.wait(after: index, for: "B's next gathering event") { $0 }
            index += 1
            if case .localCandidate(let c, b.stream) = event {
                try await a.agent.addRemoteCandidates([c], stream: a.stream)
                forwarded += 1
            } else if case .gatheringDone(b.stream) = event {
                break
            }
        }
        #expect(forwarded == 2)
        try await a.agent.endOfRemoteCandidates(stream: a.stream)
        try await a.log.waitForState(.ready, stream: a.stream)
        try await b.log.waitForState(.ready, stream: b.stream)
        try await expectDatagrams(from: a, to: b, payloads: [randomPayload(64)])
        try await expectDatagrams(from: b, to: a, payloads: [randomPayload(64)])
        await a.agent.close()
        await b.agent.close()
    }

    private func trickleOneByOne(_ candidates: [ICECandidate], into peer: Peer) async throws {
        for c in candidates {
            try await peer.agent.addRemoteCandidates([c], stream: peer.stream)
            try await Task.sleep(for: .milliseconds(15))
        }
    }

    @Test("checks against a silent candidate end in .failed once end-of-candidates is given")
    func endOfCandidatesLetsChecksFail() async throws {
        var configuration = loopbackConfiguration(.controlling)
        configuration.stunInitialTimeoutMilliseconds = 50
        configuration.stunMaxRetransmissions = 2
        configuration.idleTimeoutMilliseconds = 100
        let a = try await Peer.make(configuration)
        try await a.agent.gatherCandidates(stream: a.stream)
        try await a.log.waitForGatheringDone(a.stream)
        try await a.agent.setRemoteCredentials(
            ICECredentials(ufrag: "nobodyhome", pwd: "nobodyhomepassword0123456"), stream: a.stream)
        // A bound socket that never answers: checks time out (no ICMP port-unreachable shortcut).
        let silent = SilentUDPSocket()
        defer { silent.close() }
        let deadPort = silent.port
        try await a.agent.addRemoteCandidates(
            [ICECandidate(foundation: "1", component: 1, priority: 2_130_706_431, address: "127.0.0.1", port: deadPort, type: .host)],
            stream: a.stream)
        // libnice 0.1.21 already declares the component failed once every pair has failed, even before
        // end-of-candidates (trickle only holds failure while no pair exists), so only the outcome is checked.
        try await a.agent.endOfRemoteCandidates(stream: a.stream)
        try await a.log.wait(for: ".failed") { event -> Bool? in
            if case .failed(a.stream, 1) = event { return true }
            return nil
        }
        #expect(try await a.agent.state(stream: a.stream) == .failed)
        await a.agent.close()
    }

    @Test("ICE restart with new credentials: re-established with the new ones, the old ones are refused",
          arguments: [true, false])
    func restart(peersLearnNewCredentials: Bool) async throws {
        var configuration = ICEConfiguration(localAddresses: ["127.0.0.1"])
        configuration.stunInitialTimeoutMilliseconds = 50
        configuration.stunMaxRetransmissions = 3
        configuration.idleTimeoutMilliseconds = 100
        configuration.role = .controlling
        let a = try await Peer.make(configuration)
        configuration.role = .controlled
        let b = try await Peer.make(configuration)
        try await connect(a, b)
        let oldA = try await a.agent.localCredentials(stream: a.stream)
        let oldB = try await b.agent.localCredentials(stream: b.stream)

        let newA = ICECredentials(ufrag: "rstA", pwd: "restartedPasswordOfA0123")
        let newB = ICECredentials(ufrag: "rstB", pwd: "restartedPasswordOfB0123")
        let markA = a.log.count
        let markB = b.log.count
        #expect(try await a.agent.restart(stream: a.stream, newCredentials: newA) == newA)
        #expect(try await b.agent.restart(stream: b.stream, newCredentials: newB) == newB)
        #expect(try await a.agent.localCredentials(stream: a.stream).ufrag == "rstA")
        #expect(try await b.agent.localCredentials(stream: b.stream).ufrag == "rstB")
        #expect(oldA.ufrag != newA.ufrag)

        // RFC 8445 §9: after a restart each side must use the peer's new ufrag/pwd; with the old ones
        // every check is answered 401 or dropped and the component fails.
        try await a.agent.setRemoteCredentials(peersLearnNewCredentials ? newB : oldB, stream: a.stream)
        try await b.agent.setRemoteCredentials(peersLearnNewCredentials ? newA : oldA, stream: b.stream)
        try await b.agent.addRemoteCandidates(try await a.agent.localCandidates(stream: a.stream), stream: b.stream)
        try await a.agent.addRemoteCandidates(try await b.agent.localCandidates(stream: b.stream), stream: a.stream)
        try await a.agent.endOfRemoteCandidates(stream: a.stream)
        try await b.agent.endOfRemoteCandidates(stream: b.stream)
        if peersLearnNewCredentials {
            try await a.log.waitForState(.ready, stream: a.stream, after: markA)
            try await b.log.waitForState(.ready, stream: b.stream, after: markB)
            // The restart really went back through the checks (RFC 8445 §9: the check lists restart).
            let states = a.log.all.dropFirst(markA).compactMap { e -> ICEState? in
                if case .stateChanged(_, 1, let s) = e { return s }
                return nil
            }
            let connectingAt = try #require(states.firstIndex(of: .connecting))
            let readyAt = try #require(states.firstIndex(of: .ready))
            #expect(connectingAt < readyAt)
            try await expectDatagrams(from: a, to: b, payloads: [randomPayload(300)])
            try await expectDatagrams(from: b, to: a, payloads: [randomPayload(300)])
        } else {
            try await a.log.waitForState(.failed, stream: a.stream, after: markA)
            try await b.log.waitForState(.failed, stream: b.stream, after: markB)
            let readyAgain = (a.log.all.dropFirst(markA) + b.log.all.dropFirst(markB)).contains {
                if case .stateChanged(_, _, .ready) = $0 { return true }
                return false
            }
            #expect(!readyAgain)
        }
        await a.agent.close()
        await b.agent.close()
    }

    @Test("errors are typed: bad credentials, unknown stream/component, FQDN candidates, send before connect, closed")
    func typedErrors() async throws {
        let a = try await Peer.make(loopbackConfiguration(.controlling))
        await #expect(throws: ICEError.invalidCredentials("ufrag must be 4 to 256 ice-chars (RFC 8839 §5.4)")) {
            try await a.agent.setRemoteCredentials(ICECredentials(ufrag: "ab", pwd: String(repeating: "x", count: 22)), stream: a.stream)
        }
        await #expect(throws: ICEError.unknownStream(99)) {
            try await a.agent.gatherCandidates(stream: ICEStreamID(rawValue: 99))
        }
        await #expect(throws: ICEError.unknownComponent(stream: a.stream.rawValue, component: 2)) {
            try await a.agent.localCandidates(stream: a.stream, component: 2)
        }
        await #expect(throws: ICEError.unsupported("FQDN candidate address peer.example.org")) {
            try await a.agent.addRemoteCandidates(
                [ICECandidate(foundation: "1", component: 1, priority: 1, address: "peer.example.org", port: 5000, type: .host)],
                stream: a.stream)
        }
        #expect(throws: ICEError.notConnected(stream: a.stream.rawValue, component: 1)) {
            try a.agent.send([1, 2, 3], stream: a.stream)
        }
        #expect(throws: ICEError.invalidAddress("not-an-ip")) {
            _ = try ICEAgent(configuration: ICEConfiguration(localAddresses: ["not-an-ip"]))
        }
        #expect(throws: ICEError.invalidConfiguration("relay-only needs at least one TURN server")) {
            _ = try ICEAgent(configuration: ICEConfiguration(relayOnly: true))
        }
        await a.agent.close()
        #expect(throws: ICEError.closed) { try a.agent.send([1], stream: a.stream) }
        await #expect(throws: ICEError.closed) { try await a.agent.localCredentials(stream: a.stream) }
    }

    @Test("the last reference dropped inside the receive handler (on the agent's own thread) still shuts down")
    func dropOnOwnThread() async throws {
        let a = try await Peer.make(loopbackConfiguration(.controlling))
        let holder = AgentHolder()
        let events: AsyncStream<ICEEvent>
        let probe: LifecycleProbe
        do {
            let b = try await Peer.make(loopbackConfiguration(.controlled))
            try await connect(a, b)
            holder.hold(b.agent)
            events = b.agent.events
            probe = b.agent.lifecycleProbe
            b.agent.setReceiveHandler { _, _, _ in holder.release() }
        }
        // Only the holder keeps B alive now; the datagram makes B's own thread drop it.
        try a.agent.send([42], stream: a.stream)
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in events {}
                return true
            }
            group.addTask {
                try await Task.sleep(for: .seconds(5))
                return false
            }
            let finished = try await group.next()
            group.cancelAll()
            #expect(finished == true)
        }
        // The thread was detached rather than joined; it ends right after the teardown.
        let deadline = ContinuousClock.now + .seconds(5)
        while !probe.isLoopThreadFinished && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        #expect(probe.isNiceAgentFinalized)
        #expect(probe.isLoopThreadFinished)
        await a.agent.close()
    }

    @Test("an agent dropped without close() finalizes its NiceAgent and joins its thread")
    func dropWithoutClose() async throws {
        var events: AsyncStream<ICEEvent>?
        var probe: LifecycleProbe?
        do {
            let agent = try ICEAgent(configuration: loopbackConfiguration(.controlled))
            let stream = try await agent.addStream()
            try await agent.gatherCandidates(stream: stream)
            events = agent.events
            probe = agent.lifecycleProbe
            #expect(probe?.isNiceAgentFinalized == false)
        }
        // deinit joined the thread, so both are already true, and the event stream has finished.
        #expect(probe?.isNiceAgentFinalized == true)
        #expect(probe?.isLoopThreadFinished == true)
        var count = 0
        if let events { for await _ in events { count += 1 } }
        #expect(count >= 1)
    }

    @Test("close() after connecting finalizes both NiceAgents (no leaked reference) and joins the threads")
    func closeFinalizes() async throws {
        let a = try await Peer.make(loopbackConfiguration(.controlling))
        let b = try await Peer.make(loopbackConfiguration(.controlled))
        try await connect(a, b)
        try await expectDatagrams(from: a, to: b, payloads: [randomPayload(10)])
        for peer in [a, b] {
            await peer.agent.close()
            #expect(peer.agent.lifecycleProbe.isNiceAgentFinalized)
            #expect(peer.agent.lifecycleProbe.isLoopThreadFinished)
        }
    }
}
