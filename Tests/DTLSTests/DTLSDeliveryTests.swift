import DTLS
import Testing

/// The network reorders and duplicates datagrams; the handshake must not care (RFC 6347 §4.2.2 reassembles
/// fragments in any order, §4.1.2.6 drops duplicates).
@Suite("DTLS under reordering, duplication and noise")
struct DTLSDeliveryTests {
    /// Runs a handshake where every batch of datagrams one side emits is transformed before delivery. When
    /// both sides go quiet before completing, the retransmission timers run, as they would on a real network:
    /// a ChangeCipherSpec that arrives before the messages it follows is dropped (it has no message sequence
    /// number to be buffered by), and only a retransmitted flight recovers it (RFC 6347 §4.2.4).
    func handshake(mtu: Int, transform: ([[UInt8]]) -> [[UInt8]]) async throws -> Link {
        let link = try makeLink(mtu: mtu, initialRetransmissionTimeout: .milliseconds(50))
        var pending: [([UInt8], DTLSRole)] = transform(try link.client.start(now: .now)).map { ($0, .server) }
        // Generous: the timers run on the real clock, and CI machines are shared and slow.
        let end = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < end, link.client.state != .connected || link.server.state != .connected {
            if pending.isEmpty {
                guard let next = [link.client.nextTimeout, link.server.nextTimeout].compactMap({ $0 }).min() else { break }
                try await Task.sleep(until: next + .milliseconds(2), clock: .continuous)
                pending += transform(try link.client.handleTimeout(now: .now)).map { ($0, .server) }
                pending += transform(try link.server.handleTimeout(now: .now)).map { ($0, .client) }
                continue
            }
            let batch = pending
            pending = []
            // Everything in flight toward one side arrives as one transformed batch.
            for destination in [DTLSRole.server, .client] {
                var replies: [[UInt8]] = []
                for (datagram, to) in batch where to == destination {
                    link.wire.append(datagram)
                    replies += try link.connection(destination).receive(datagram, now: .now).datagrams
                }
                let other: DTLSRole = destination == .client ? .server : .client
                pending += transform(replies).map { ($0, other) }
            }
        }
        return link
    }

    @Test("flights delivered in reverse order still complete", arguments: [300, 1200])
    func reversed(mtu: Int) async throws {
        let link = try await handshake(mtu: mtu) { $0.reversed() }
        #expect(link.client.state == .connected)
        #expect(link.server.state == .connected)
        #expect(link.wire.allSatisfy { $0.count <= mtu })
    }

    @Test("every datagram delivered twice: duplicates are dropped, keys agree")
    func duplicated() async throws {
        let link = try await handshake(mtu: 500) { $0.flatMap { [$0, $0] } }
        #expect(link.client.state == .connected)
        #expect(link.server.state == .connected)
        #expect(try link.client.exportSRTPKeyingMaterial().clientKey == (try link.server.exportSRTPKeyingMaterial()).clientKey)
    }

    @Test("random datagrams in the DTLS range never crash or break a connection")
    func noise() throws {
        var generator = SystemRandomNumberGenerator()
        let link = try makeLink()
        let hello = try link.client.start(now: .now)
        func randomDatagram() -> [UInt8] {
            let count = Int.random(in: 1...300, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes[0] = UInt8.random(in: 20...63, using: &generator)
            if count > 2, Bool.random(using: &generator) { bytes[1] = 0xFE; bytes[2] = 0xFD }
            if count > 13, Bool.random(using: &generator) {
                bytes[11] = UInt8((count - 13) >> 8)
                bytes[12] = UInt8((count - 13) & 0xFF)
            }
            return bytes
        }
        var malformed = 0
        for _ in 0..<200 {
            do {
                let output = try link.client.receive(randomDatagram(), now: .now)
                #expect(output.applicationData.isEmpty)
            } catch DTLSError.malformedDatagram {
                malformed += 1
            } catch {
                // A well-framed forged handshake record may legitimately fail the handshake; start over.
                break
            }
        }
        #expect(malformed > 0)
        if link.client.state == .handshaking {
            try link.shuttle(hello, to: .server)
            #expect(link.client.state == .connected)
            for _ in 0..<200 { _ = try? link.server.receive(randomDatagram(), now: .now) }
            try link.shuttle(try link.client.send([1, 2, 3]), to: .server)
            #expect(link.serverReceived.last == [1, 2, 3])
        }
    }
}
