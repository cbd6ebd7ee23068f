import Foundation
@testable import ICE
import TestServers
import Testing

/// Mixed sizes: runs of equal 1200-byte datagrams (one UDP GSO send each) broken by shorter ones.
private func batchPayloads(_ count: Int, seed: Int) -> [[UInt8]] {
    (0..<count).map { i in
        let size = i % 7 == 6 ? 1 + (i * 37 + seed) % 300 : 1200
        var p = randomPayload(size)
        p[0] = UInt8(truncatingIfNeeded: i)  // also makes reordering visible
        return p
    }
}

/// Sends `batches` batches from `from` to `to` and checks each arrives complete and in order.
private func expectBatches(from: Peer, to: Peer, batches: Int, size: Int) async throws {
    let incoming = to.agent.datagrams(stream: to.stream)
    for b in 0..<batches {
        // Small enough for the default socket receive buffer, so loopback loses nothing.
        let payloads = batchPayloads(size, seed: b)
        #expect(try from.agent.sendBatch(payloads, stream: from.stream) == payloads.count)
        let got = try await receive(payloads.count, from: incoming)
        #expect(got == payloads)
    }
}

@Suite("ICEAgent.sendBatch")
struct ICEBatchSendTests {
    @Test("on a host pair sendBatch writes straight to the pair's socket and delivers every datagram in order",
          arguments: [true, false])
    func hostPair(directSend: Bool) async throws {
        var ca = loopbackConfiguration(.controlling)
        var cb = loopbackConfiguration(.controlled)
        ca.directSend = directSend
        cb.directSend = directSend
        ca.socketBufferBytes = 1 << 20
        let a = try await Peer.make(ca)
        let b = try await Peer.make(cb)
        try await connect(a, b)
        #expect(a.agent.usesDirectSend(stream: a.stream) == directSend)
        #expect(b.agent.usesDirectSend(stream: b.stream) == directSend)
        try await expectBatches(from: a, to: b, batches: 3, size: 40)
        try await expectBatches(from: b, to: a, batches: 2, size: 25)
        // Single datagrams through libnice still arrive between batches.
        try await expectDatagrams(from: a, to: b, payloads: [randomPayload(100)])
        #expect(try a.agent.sendBatch([], stream: a.stream) == 0)
        await a.agent.close()
        await b.agent.close()
        #expect(!a.agent.usesDirectSend(stream: a.stream))
        #expect(throws: ICEError.closed) { try a.agent.sendBatch([[1, 2, 3]], stream: a.stream) }
    }

    @Test("before a pair is selected sendBatch throws notConnected; an unknown stream is rejected")
    func notConnected() async throws {
        let a = try await Peer.make(loopbackConfiguration(.controlling))
        #expect(!a.agent.usesDirectSend(stream: a.stream))
        #expect(throws: ICEError.notConnected(stream: a.stream.rawValue, component: 1)) {
            try a.agent.sendBatch([[1, 2, 3]], stream: a.stream)
        }
        #expect(throws: ICEError.unknownStream(a.stream.rawValue + 7)) {
            try a.agent.sendBatch([[1]], stream: ICEStreamID(rawValue: a.stream.rawValue + 7))
        }
        await a.agent.close()
    }

    @Test("removing the stream drops the direct path")
    func removeStream() async throws {
        let a = try await Peer.make(loopbackConfiguration(.controlling))
        let b = try await Peer.make(loopbackConfiguration(.controlled))
        try await connect(a, b)
        #expect(a.agent.usesDirectSend(stream: a.stream))
        try await a.agent.removeStream(a.stream)
        #expect(!a.agent.usesDirectSend(stream: a.stream))
        #expect(throws: ICEError.unknownStream(a.stream.rawValue)) { try a.agent.sendBatch([[1]], stream: a.stream) }
        await a.agent.close()
        await b.agent.close()
    }
}

@Suite("ICEAgent.sendBatch through a private coturn", .serialized)
struct ICEBatchSendTURNTests {
    @Test("on a relay pair sendBatch keeps to libnice (TURN framing) and still delivers in order")
    func relayPair() async throws {
        let coturn = try CoturnServer.start(authentication: .staticUser)
        defer { coturn.stop() }
        func configuration(_ role: ICEConfiguration.Role) -> ICEConfiguration {
            var c = loopbackConfiguration(role)
            c.turnServers = [.init(address: "127.0.0.1", port: UInt16(coturn.port), username: "alice", password: "alicepw", transport: .udp)]
            c.relayOnly = true
            return c
        }
        let a = try await Peer.make(configuration(.controlling))
        let b = try await Peer.make(configuration(.controlled))
        try await connect(a, b)
        let pair = try #require(try await a.agent.selectedPair(stream: a.stream))
        #expect(pair.local.type == .relay)
        #expect(!a.agent.usesDirectSend(stream: a.stream))
        #expect(!b.agent.usesDirectSend(stream: b.stream))
        try await expectBatches(from: a, to: b, batches: 2, size: 20)
        try await expectBatches(from: b, to: a, batches: 1, size: 20)
        await a.agent.close()
        await b.agent.close()
    }
}
