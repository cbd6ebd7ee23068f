import PeerStream
import Testing

/// Mutations of real traffic: whatever arrives, the connection throws a typed error or accepts it, never
/// crashes, and its memory stays within the window.
@Test(arguments: [UInt64(1), 2, 3])
func mutatedDatagramsAreRejectedOrAbsorbedWithoutCrashing(seed: UInt64) throws {
    let window = 128 << 10
    let config = PeerStreamConfiguration(connectionID: 42, receiveWindow: window, sendBufferCapacity: 256 << 10)
    var link = LinkConditions()
    link.lossRate = 0.05
    var sim = NetworkSimulator(a: config, b: config, aToB: link, bToA: link, seed: seed)
    var traffic: [(side: Int, bytes: [UInt8])] = []
    sim.tap = { side, datagram in traffic.append((side, datagram)) }
    _ = try sim.connections[0].write([UInt8](repeating: 0x11, count: 200_000))
    try sim.connections[0].finish()
    let ran = sim.run(limit: .seconds(30), application: { sim in
        _ = sim.connections[1].read(maxBytes: 1 << 20)
        if sim.connections[1].isAtEndOfStream { try? sim.connections[1].finish() }
    }, until: { s in s.connections.allSatisfy { $0.state == .closed } })
    #expect(ran)
    #expect(traffic.count > 100)

    var rng = SplitMix64(seed: seed)
    // Side 0's traffic goes to a fresh receiver, side 1's (ACKs) to a sender that has sent 200 kB.
    var receiver = PeerStreamConnection(configuration: config, now: .zero)
    var sender = PeerStreamConnection(configuration: config, now: .zero)
    _ = try sender.write([UInt8](repeating: 0x22, count: 200_000))
    _ = sender.poll(now: .zero)
    var accepted = 0
    var rejected = 0
    for (index, packet) in traffic.enumerated() {
        for _ in 0..<8 {
            var bytes = packet.bytes
            switch rng.next() % 5 {
            case 0:
                let at = Int(rng.next() % UInt64(bytes.count))
                bytes[at] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            case 1:
                bytes.removeLast(Int(rng.next() % UInt64(bytes.count)))
            case 2:
                bytes += (0..<Int(rng.next() % 40 + 1)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            case 3:
                // Overwrite an 8-byte field after the fixed header part with an extreme value.
                if bytes.count >= 22 {
                    let at = 6 + Int(rng.next() % UInt64(bytes.count - 13))
                    let value: UInt64 = [0, 1, UInt64.max, 1 << 62, (1 << 62) - 1, rng.next()][Int(rng.next() % 6)]
                    withUnsafeBytes(of: value.bigEndian) { bytes.replaceSubrange(at..<(at + 8), with: $0) }
                }
            default:
                bytes = (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            }
            let now = PeerStreamInstant(nanoseconds: Int64(index) * 1_000_000)
            do {
                if packet.side == 0 {
                    _ = try receiver.receive(bytes, now: now)
                } else {
                    _ = try sender.receive(bytes, now: now)
                }
                accepted += 1
            } catch {
                rejected += 1
            }
            #expect(receiver.receiveBufferOccupancy <= window)
            // Whatever they make of it, both still speak valid protocol.
            for datagram in receiver.poll(now: now) + sender.poll(now: now) {
                _ = try PeerStreamPacket.parse(datagram, connectionID: 42)
            }
            _ = receiver.read(maxBytes: 4096)
        }
    }
    #expect(accepted > 0)
    #expect(rejected > accepted)
    #expect(receiver.statistics.packetsRejected + sender.statistics.packetsRejected == rejected)
}
