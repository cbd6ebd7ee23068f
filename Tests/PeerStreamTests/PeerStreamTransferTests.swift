import PeerStream
import Testing

private let connectionID: UInt32 = 0x5EED_CAFE

private func configuration(_ change: (inout PeerStreamConfiguration) -> Void = { _ in }) -> PeerStreamConfiguration {
    var c = PeerStreamConfiguration(connectionID: connectionID)
    change(&c)
    return c
}

/// Sends `total` pattern bytes from side 0 to side 1 and returns the simulator, writer and reader at the end.
private func transfer(total: UInt64, link: LinkConditions, back: LinkConditions? = nil, seed: UInt64,
                      limit: Duration = .seconds(3600),
                      config: (inout PeerStreamConfiguration) -> Void = { _ in })
    -> (sim: NetworkSimulator, writer: PatternWriter, reader: PatternReader, completed: Bool)
{
    let pattern = StreamPattern(seed: seed)
    var writer = PatternWriter(pattern: pattern, total: total)
    var reader = PatternReader(pattern: pattern)
    var sim = NetworkSimulator(a: configuration(config), b: configuration(config), aToB: link, bToA: back ?? link, seed: seed)
    var failure: (any Error)?
    let completed = sim.run(limit: limit, application: { sim in
        do { try writer.step(&sim.connections[0]) } catch { failure = error }
        reader.step(&sim.connections[1])
        if reader.received == total, sim.connections[1].isPeerFinished, sim.connections[0].state == .open {
            // Side 1 answers the FIN with its own once it has everything: a clean close of both directions.
            try? sim.connections[1].finish()
        }
    }, until: { s in reader.received == total && failure == nil && s.connections.allSatisfy { $0.state == .closed } })
    #expect(failure == nil)
    return (sim, writer, reader, completed)
}

@Test func delivers64MiBExactlyAt5PercentLoss() {
    let total: UInt64 = 64 << 20
    var link = LinkConditions()
    link.oneWayDelay = .milliseconds(10)
    link.lossRate = 0.05
    let (sim, _, reader, completed) = transfer(total: total, link: link, seed: 0x64)
    #expect(completed)
    #expect(reader.received == total)
    #expect(reader.mismatches == 0)
    #expect(sim.connections[1].isAtEndOfStream)
    let stats = sim.connections[0].statistics
    #expect(stats.packetsLost > 0)
    #expect(stats.bytesRetransmitted > 0)
    #expect(sim.rejections.allSatisfy { $0.isEmpty })
    print("64 MiB at 5% loss: virtual \(sim.elapsed), sent \(stats.packetsSent) packets, lost \(stats.packetsLost), retransmitted \(stats.bytesRetransmitted) B, cwnd \(stats.congestionWindow), srtt \(String(describing: stats.smoothedRTT))")
}
