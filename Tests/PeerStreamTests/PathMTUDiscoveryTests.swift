import PeerStream
import Testing

/// Datagram Packetization Layer PMTU Discovery (RFC 8899) on the simulated path: the path drops every
/// datagram above its MTU (as a router with DF set would), in both directions.

private let base = PeerStreamConfiguration.defaultMaxDatagramSize  // 1163: 1200 on the wire with DTLS
private let limit = 1435  // 1472 on the wire: a 1500-byte Ethernet MTU

private func configuration(raise: Duration = .seconds(600)) -> PeerStreamConfiguration {
    // A 256 KiB window keeps the transfer at ~25 MB/s on the 10 ms RTT, so it lasts long enough for the search.
    PeerStreamConfiguration(connectionID: 7, maxProbedDatagramSize: limit, pathMTURaiseInterval: raise, receiveWindow: 256 << 10)
}

private struct Run {
    var sim: NetworkSimulator
    var writer: PatternWriter
    var reader: PatternReader
    /// Largest DATA datagram side 0 sent.
    var largestData = 0
}

private func start(pathMTU: Int, total: UInt64, raise: Duration = .seconds(600), seed: UInt64) -> Run {
    var link = LinkConditions()
    link.oneWayDelay = .milliseconds(5)
    let pattern = StreamPattern(seed: seed)
    var run = Run(
        sim: NetworkSimulator(a: configuration(raise: raise), b: configuration(raise: raise), aToB: link, bToA: link, seed: seed),
        writer: PatternWriter(pattern: pattern, total: total), reader: PatternReader(pattern: pattern))
    run.sim.dropFilter = { _, datagram in datagram.count > pathMTU }
    return run
}

private func advance(_ run: inout Run, until done: (Run) -> Bool) -> Bool {
    var largest = run.largestData
    run.sim.tap = { side, datagram in
        if side == 0, datagram[0] == 0x21 { largest = max(largest, datagram.count) }
    }
    var writer = run.writer
    var reader = run.reader
    var snapshot = run
    let finished = run.sim.run(limit: .seconds(120), application: { sim in
        try? writer.step(&sim.connections[0])
        reader.step(&sim.connections[1])
    }, until: { sim in
        snapshot.sim = sim
        snapshot.reader = reader
        return done(snapshot)
    })
    run.writer = writer
    run.reader = reader
    run.largestData = largest
    return finished
}

@Test(arguments: [base, 1250, 1300, 1400, limit, 9000])
func discoveryRaisesTheSizeToThePathButNotBeyond(pathMTU: Int) {
    let total: UInt64 = 16 << 20
    var run = start(pathMTU: pathMTU, total: total, seed: UInt64(pathMTU))
    #expect(advance(&run) { $0.reader.received == total })
    #expect(run.reader.mismatches == 0)
    let stats = run.sim.connections[0].statistics
    let reachable = min(pathMTU, limit)
    // Binary search down to 16 bytes of the path's size, never above it.
    #expect(stats.datagramSize <= reachable)
    #expect(stats.datagramSize > reachable - PathMTUSearch.granularity || stats.datagramSize == base)
    #expect(run.largestData == stats.datagramSize)
    #expect(stats.pathMTUProbesAcknowledged >= (reachable > base ? 1 : 0))
    if pathMTU < limit { #expect(stats.pathMTUProbesLost >= 3) }
    // Lost probes are no congestion signal and no data loss (RFC 8899 §3).
    #expect(stats.congestionEvents == 0)
    #expect(stats.packetsLost == 0)
    #expect(run.sim.rejections.allSatisfy { $0.isEmpty })
}

@Test func aBlackHoleFallsBackToTheBaseAndTheSearchResumesLater() {
    let total: UInt64 = 64 << 20
    var run = start(pathMTU: 9000, total: total, raise: .seconds(2), seed: 31)
    #expect(advance(&run) { $0.sim.connections[0].statistics.datagramSize == limit && $0.reader.received > 2 << 20 })
    // The path now silently drops everything above 1200 bytes (a tunnel came up on the way).
    run.sim.dropFilter = { _, datagram in datagram.count > 1200 }
    #expect(advance(&run) { $0.sim.connections[0].statistics.pathMTUBlackHoles == 1 })
    #expect(run.sim.connections[0].statistics.datagramSize == base)
    let fellAt = run.sim.now
    // After the raise interval the search runs again and settles on what the path carries now.
    #expect(advance(&run) { $0.reader.received == total })
    #expect(run.reader.mismatches == 0)
    let stats = run.sim.connections[0].statistics
    #expect(run.sim.now - fellAt > 2_000_000_000)
    #expect(stats.datagramSize <= 1200)
    #expect(stats.datagramSize > 1200 - PathMTUSearch.granularity)
    #expect(stats.pathMTUBlackHoles == 1)
}

@Test func withoutAProbeLimitNoProbeIsSent() {
    let total: UInt64 = 1 << 20
    var link = LinkConditions()
    link.oneWayDelay = .milliseconds(5)
    let config = PeerStreamConfiguration(connectionID: 7)
    let pattern = StreamPattern(seed: 3)
    var run = Run(sim: NetworkSimulator(a: config, b: config, aToB: link, bToA: link, seed: 3),
                  writer: PatternWriter(pattern: pattern, total: total), reader: PatternReader(pattern: pattern))
    #expect(advance(&run) { $0.reader.received == total })
    let stats = run.sim.connections[0].statistics
    #expect(stats.pathMTUProbesSent == 0)
    #expect(stats.datagramSize == base)
    #expect(run.largestData == base)
}

/// A driver whose interface MTU is smaller than the probe (EMSGSIZE under IP_PMTUDISC_PROBE) reports it: that
/// size fails on its first probe instead of after three losses, and the search still ends at the interface's
/// size.
@Test func aProbeTheDriverCannotSendFailsItsSizeAtOnce() throws {
    let interface = 1300
    var a = PeerStreamConnection(configuration: configuration(), now: .zero)
    var b = PeerStreamConnection(configuration: configuration(), now: .zero)
    let pattern = StreamPattern(seed: 5)
    var writer = PatternWriter(pattern: pattern, total: 8 << 20)
    var reader = PatternReader(pattern: pattern)
    var probesBySize: [Int: Int] = [:]
    var now: Int64 = 0
    var buffer = [UInt8](repeating: 0, count: configuration().largestDatagramSize)
    // Both ends exchange everything at once each millisecond (a 1 ms path); nothing is lost on the way.
    for _ in 0..<2_000 where reader.received < 8 << 20 {
        now += 1_000_000
        let t = PeerStreamInstant(nanoseconds: now)
        try writer.step(&a)
        while true {
            let count = buffer.withUnsafeMutableBytes { a.nextDatagram(now: t, into: $0) }
            if count == 0 { break }
            let datagram = Array(buffer[0..<count])
            if datagram[0] == PeerStreamPacket.probeFirstByte {
                probesBySize[count, default: 0] += 1
                if count > interface {
                    a.pathMTUProbeRefused(size: count, now: t)
                    continue
                }
            }
            _ = try b.receive(datagram, now: t)
        }
        reader.step(&b)
        for datagram in b.poll(now: t) { _ = try a.receive(datagram, now: t) }
        if let deadline = a.nextDeadline, deadline <= t { _ = a.handleTimeout(now: t) }
        if let deadline = b.nextDeadline, deadline <= t { _ = b.handleTimeout(now: t) }
    }
    #expect(reader.received == 8 << 20 && reader.mismatches == 0)
    let stats = a.statistics
    #expect(stats.datagramSize <= interface)
    #expect(stats.datagramSize > interface - PathMTUSearch.granularity)
    // Every size above the interface was tried once, not three times.
    let tooLarge = probesBySize.filter { $0.key > interface }
    #expect(!tooLarge.isEmpty)
    #expect(tooLarge.values.allSatisfy { $0 == 1 })
    #expect(stats.pathMTUProbesRefused == tooLarge.count)
    #expect(stats.congestionEvents == 0)
}
