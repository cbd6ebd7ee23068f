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

@Test func reorderingAndDuplicationInBothDirectionsAreTolerated() {
    var link = LinkConditions()
    link.oneWayDelay = .milliseconds(15)
    link.lossRate = 0.01
    link.reorderRate = 0.2
    link.reorderExtraDelay = .milliseconds(20)
    link.duplicateRate = 0.1
    let total: UInt64 = 6 << 20
    let patterns = [StreamPattern(seed: 1), StreamPattern(seed: 2)]
    var writers = patterns.map { PatternWriter(pattern: $0, total: total) }
    // Side 0 reads what side 1 wrote (pattern 2) and the other way round.
    var readers = [PatternReader(pattern: patterns[1]), PatternReader(pattern: patterns[0])]
    var sim = NetworkSimulator(a: configuration(), b: configuration(), aToB: link, bToA: link, seed: 77)
    var failure: (any Error)?
    let completed = sim.run(limit: .seconds(600), application: { sim in
        for side in 0..<2 {
            do { try writers[side].step(&sim.connections[side]) } catch { failure = error }
            readers[side].step(&sim.connections[side])
        }
    }, until: { s in s.connections.allSatisfy { $0.state == .closed } })
    #expect(completed)
    #expect(failure == nil)
    for side in 0..<2 {
        #expect(readers[side].received == total)
        #expect(readers[side].mismatches == 0)
        #expect(sim.connections[side].isAtEndOfStream)
        #expect(sim.connections[side].statistics.duplicatePacketsReceived > 0)
    }
    #expect(sim.events[0].filter { $0 == .closed }.count == 1)
    #expect(sim.events[1].filter { $0 == .finished }.count == 1)
    #expect(sim.rejections.allSatisfy { $0.isEmpty })
}

@Test func pausedReaderStopsTheSenderWithinTheWindowBound() throws {
    let window = 256 << 10
    let sendBuffer = 512 << 10
    let total: UInt64 = 8 << 20
    var link = LinkConditions()
    link.oneWayDelay = .milliseconds(5)
    link.lossRate = 0.02
    let pattern = StreamPattern(seed: 3)
    var writer = PatternWriter(pattern: pattern, total: total)
    var reader = PatternReader(pattern: pattern)
    let config = configuration { $0.receiveWindow = window; $0.sendBufferCapacity = sendBuffer }
    var sim = NetworkSimulator(a: config, b: config, aToB: link, bToA: link, seed: 3)
    var largestOccupancy = 0
    var largestUnacked = 0
    var failure: (any Error)?
    let application = { (sim: inout NetworkSimulator) in
        do { try writer.step(&sim.connections[0]) } catch { failure = error }
        reader.step(&sim.connections[1])
        largestOccupancy = max(largestOccupancy, sim.connections[1].receiveBufferOccupancy)
        largestUnacked = max(largestUnacked, sim.connections[0].unacknowledgedBytes)
    }
    // Read the first megabyte, then pause the reader.
    let ran1 = sim.run(limit: .seconds(60), application: application, until: { _ in reader.received >= 1 << 20 })
    #expect(ran1)
    reader.paused = true
    let pausedAt = reader.received
    // Twice the idle timeout: window probes keep both sides alive while nothing moves.
    let pauseEnd = sim.now + nanoseconds(.seconds(60))
    let sentBeforeStall = sim.datagramsSent
    _ = sim.run(limit: .seconds(61), application: application, until: { s in s.now >= pauseEnd })
    #expect(reader.received == pausedAt)
    #expect(sim.connections[1].readableBytes + Int(pausedAt) - Int(sim.connections[1].statistics.bytesRead) >= 0)
    // The sender is blocked: everything it may have written is bounded by window + send buffer.
    #expect(writer.written <= pausedAt + UInt64(window + sendBuffer))
    #expect(sim.connections[1].receiveBufferOccupancy == window)
    #expect(sim.connections[0].sendBufferSpace == 0)
    #expect(sim.connections.allSatisfy { $0.state == .open })
    // During a minute of stall only a handful of window probes and their ACKs went out.
    let stallTraffic = zip(sim.datagramsSent, sentBeforeStall).map { $0 - $1 }
    #expect(stallTraffic[0] < 400 && stallTraffic[1] < 400)
    // Resume: everything arrives.
    reader.paused = false
    let completed = sim.run(limit: .seconds(600), application: { sim in
        application(&sim)
        if reader.received == total, sim.connections[1].isPeerFinished { try? sim.connections[1].finish() }
    }, until: { s in s.connections.allSatisfy { $0.state == .closed } })
    #expect(completed)
    #expect(failure == nil)
    #expect(reader.received == total)
    #expect(reader.mismatches == 0)
    #expect(largestOccupancy <= window)
    #expect(largestUnacked <= sendBuffer)
    #expect(sim.events[0].contains(.writable))
    print("back-pressure: stall traffic \(stallTraffic), largest receive occupancy \(largestOccupancy)")
}

@Test func abortCarriesItsReasonToThePeer() throws {
    var sim = NetworkSimulator(a: configuration(), b: configuration(), aToB: LinkConditions(), bToA: LinkConditions(), seed: 4)
    _ = try sim.connections[0].write([UInt8](repeating: 0xAB, count: 100_000))
    let ran2 = sim.run(limit: .seconds(5), application: { _ in }, until: { s in s.connections[1].readableBytes > 0 })
    #expect(ran2)
    sim.connections[1].abort(code: PeerStreamAbortReason.refusedCode, message: "disk full")
    let ran3 = sim.run(limit: .seconds(5), application: { _ in }, until: { s in s.connections[0].state != .open })
    #expect(ran3)
    let reason = PeerStreamAbortReason(code: PeerStreamAbortReason.refusedCode, message: "disk full")
    #expect(sim.connections[0].state == .aborted(reason, byPeer: true))
    #expect(sim.connections[1].state == .aborted(reason, byPeer: false))
    #expect(sim.events[0].contains(.aborted(reason)))
    #expect(!sim.events[1].contains(.aborted(reason)))
    #expect(throws: PeerStreamError.aborted(reason)) { try sim.connections[0].write([1]) }
    #expect(throws: PeerStreamError.aborted(reason)) { try sim.connections[1].finish() }
    #expect(sim.connections[0].nextDeadline == nil)
    #expect(sim.connections[0].poll(now: sim.instant).isEmpty)
}

@Test func abortReasonSurvivesALossyPathAndIsCutToOneDatagram() throws {
    var lossy = LinkConditions()
    lossy.lossRate = 0.3
    var sim = NetworkSimulator(a: configuration(), b: configuration(), aToB: lossy, bToA: lossy, seed: 5)
    _ = try sim.connections[0].write([UInt8](repeating: 1, count: 1 << 20))
    _ = sim.run(limit: .seconds(2), application: { _ in }, until: { _ in false })
    let long = String(repeating: "é", count: 2000)
    sim.connections[0].abort(code: 0x7777, message: long)
    let ran4 = sim.run(limit: .seconds(60), application: { _ in }, until: { s in s.connections[1].state != .open })
    #expect(ran4)
    guard case .aborted(let reason, byPeer: true) = sim.connections[1].state else {
        Issue.record("peer not aborted: \(sim.connections[1].state)"); return
    }
    #expect(reason.code == 0x7777)
    #expect(reason.message.utf8.count <= PeerStreamConfiguration.defaultMaxDatagramSize - 18)
    #expect(long.hasPrefix(reason.message) && !reason.message.isEmpty)
}

@Test(arguments: [0, 1, 1000, 1139, 1140, 300_000])
func finishDeliversEndOfStreamAndClosesBothSides(size: Int) throws {
    var sim = NetworkSimulator(a: configuration(), b: configuration(), aToB: LinkConditions(), bToA: LinkConditions(), seed: 6)
    let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    #expect(try sim.connections[0].write(payload) == size)
    try sim.connections[0].finish()
    try sim.connections[0].finish()  // idempotent
    #expect(throws: PeerStreamError.writeAfterFinish) { try sim.connections[0].write([1]) }
    var received: [UInt8] = []
    let ran5 = sim.run(limit: .seconds(10), application: { sim in
        received += sim.connections[1].read(maxBytes: 1 << 20)
    }, until: { s in s.connections[1].isAtEndOfStream })
    #expect(ran5)
    #expect(received == payload)
    #expect(sim.events[1].filter { $0 == .finished }.count == 1)
    #expect(sim.events[1].contains(.readable) == (size > 0))
    // Half-closed: side 1 may still send; side 0 still reads.
    #expect(sim.connections[0].state == .open)
    #expect(try sim.connections[1].write([9, 8, 7]) == 3)
    try sim.connections[1].finish()
    var back: [UInt8] = []
    let ran6 = sim.run(limit: .seconds(10), application: { sim in
        back += sim.connections[0].read(maxBytes: 100)
    }, until: { s in s.connections.allSatisfy { $0.state == .closed } })
    #expect(ran6)
    #expect(back == [9, 8, 7])
    #expect(sim.events.allSatisfy { $0.filter { $0 == .closed }.count == 1 })
    #expect(throws: PeerStreamError.writeAfterFinish) { try sim.connections[1].write([1]) }
    #expect(sim.connections[0].isAtEndOfStream && sim.connections[1].isAtEndOfStream)
}

@Test func congestionWindowGrowsWithoutLossAndShrinksOnLoss() throws {
    var link = LinkConditions()
    link.oneWayDelay = .milliseconds(20)
    var sim = NetworkSimulator(a: configuration(), b: configuration(), aToB: link, bToA: link, seed: 7)
    let initial = sim.connections[0].statistics.congestionWindow
    #expect(initial == 10 * PeerStreamConfiguration.defaultMaxDatagramSize)
    let pattern = StreamPattern(seed: 7)
    var writer = PatternWriter(pattern: pattern, total: 64 << 20)
    var reader = PatternReader(pattern: pattern)
    let application = { (sim: inout NetworkSimulator) in
        try? writer.step(&sim.connections[0])
        reader.step(&sim.connections[1])
    }
    let ran7 = sim.run(limit: .seconds(30), application: application, until: { _ in reader.received >= 4 << 20 })
    #expect(ran7)
    let grown = sim.connections[0].statistics
    #expect(grown.congestionWindow > 8 * initial)
    #expect(grown.congestionEvents == 0 && grown.packetsLost == 0 && grown.slowStartThreshold == nil)
    // Drop the next three DATA packets from side 0.
    var toDrop = 3
    sim.dropFilter = { side, datagram in
        guard side == 0, toDrop > 0, datagram[0] == 0x21 else { return false }  // version 2, DATA
        toDrop -= 1
        return true
    }
    let lostBefore = grown.packetsLost
    let ran8 = sim.run(limit: .seconds(30), application: application, until: { s in
        s.connections[0].statistics.packetsLost > lostBefore })
    #expect(ran8)
    let reduced = sim.connections[0].statistics
    #expect(reduced.congestionEvents == 1)
    #expect(reduced.congestionWindow < grown.congestionWindow)
    #expect(reduced.slowStartThreshold != nil)
    // One reduction per recovery period: the three losses of one flight count once. Acknowledgements of
    // packets sent before the reduction do not grow the window (RFC 9002 §7.3.2), so run well past them.
    let ran9 = sim.run(limit: .seconds(30), application: application, until: { _ in reader.received >= 32 << 20 })
    #expect(ran9)
    let after = sim.connections[0].statistics
    #expect(after.packetsLost == 3)
    #expect(after.congestionEvents == 1)
    #expect(after.congestionWindow > reduced.congestionWindow)  // congestion avoidance grows it again
    #expect(reader.mismatches == 0)
}

@Test func smoothedRTTTracksThePath() throws {
    var link = LinkConditions()
    link.oneWayDelay = .milliseconds(25)
    let (sim, _, reader, completed) = transfer(total: 2 << 20, link: link, seed: 8)
    #expect(completed && reader.mismatches == 0)
    let stats = sim.connections[0].statistics
    let srtt = try #require(stats.smoothedRTT)
    let minRTT = try #require(stats.minRTT)
    #expect(minRTT >= .milliseconds(50))
    #expect(srtt >= .milliseconds(50) && srtt <= .milliseconds(56))
}

@Test func idleTimeoutFiresWhenThePeerGoesSilent() throws {
    let config = configuration { $0.idleTimeout = .seconds(5); $0.keepaliveInterval = nil }
    var sim = NetworkSimulator(a: config, b: config, aToB: LinkConditions(), bToA: LinkConditions(), seed: 9)
    _ = try sim.connections[0].write([UInt8](repeating: 1, count: 10_000))
    let ran10 = sim.run(limit: .seconds(2), application: { _ in }, until: { s in s.connections[1].readableBytes == 10_000 })
    #expect(ran10)
    let silentFrom = sim.now
    sim.links[0].lossRate = 1
    sim.links[1].lossRate = 1
    _ = try sim.connections[0].write([1, 2, 3])
    let ran11 = sim.run(limit: .seconds(30), application: { _ in }, until: { s in s.connections.allSatisfy { $0.state == .timedOut } })
    #expect(ran11)
    #expect(sim.events[0].contains(.timedOut) && sim.events[1].contains(.timedOut))
    #expect(sim.now - silentFrom >= nanoseconds(.seconds(5)))
    #expect(sim.now - silentFrom < nanoseconds(.seconds(6)))
    #expect(throws: PeerStreamError.timedOut) { try sim.connections[0].write([1]) }
    #expect(sim.connections[0].statistics.probeTimeouts > 0)
}

@Test func keepalivesHoldAnIdleConnectionOpen() {
    let config = configuration { $0.idleTimeout = .seconds(5); $0.keepaliveInterval = .seconds(1) }
    var sim = NetworkSimulator(a: config, b: config, aToB: LinkConditions(), bToA: LinkConditions(), seed: 10)
    let end = nanoseconds(.seconds(120))
    _ = sim.run(limit: .seconds(121), application: { _ in }, until: { s in s.now >= end })
    #expect(sim.connections.allSatisfy { $0.state == .open })
    #expect(sim.datagramsSent[0] > 60 && sim.datagramsSent[0] < 600)
}

@Test func rateLimitedPathIsFilledAndBurstsAreBounded() {
    var link = LinkConditions()
    link.oneWayDelay = .milliseconds(10)
    link.bitsPerSecond = 100e6
    let total: UInt64 = 32 << 20
    let (sim, _, reader, completed) = transfer(total: total, link: link, seed: 11)
    #expect(completed && reader.mismatches == 0)
    let seconds = Double(nanoseconds(sim.elapsed)) / 1e9
    let megabits = Double(total) * 8 / seconds / 1e6
    print("100 Mbit/s, 20 ms RTT, no random loss: goodput \(megabits) Mbit/s, lost \(sim.connections[0].statistics.packetsLost), largest burst \(sim.largestBurst)")
    #expect(megabits > 70)
    #expect(sim.largestBurst[0] <= PeerStreamConfiguration(connectionID: 0).maxBurstPackets + 1)
}

/// At 2 % random loss on a 100 Mbit/s, 20 ms RTT path, goodput is set by the loss rate, as for TCP. The
/// reference is the steady-state model of a Reno-style TCP (Mathis et al. 1997) with our payload size:
/// rate = MSS / RTT × sqrt(3 / (2p)) — kernel TCP's CUBIC is built to match it in this regime (RFC 9438 §4.3).
@Test func lossLimitedGoodputMatchesTheTCPModel() {
    var link = LinkConditions()
    link.oneWayDelay = .milliseconds(10)
    link.bitsPerSecond = 100e6
    link.lossRate = 0.02
    let total: UInt64 = 16 << 20
    let (sim, _, reader, completed) = transfer(total: total, link: link, back: LinkConditions(oneWayDelay: .milliseconds(10)), seed: 12)
    #expect(completed && reader.mismatches == 0)
    let seconds = Double(nanoseconds(sim.elapsed)) / 1e9
    let goodput = Double(total) * 8 / seconds
    let mss = Double(PeerStreamConfiguration(connectionID: 0).maxPayload)
    let model = mss * 8 / 0.020 * (3.0 / (2 * 0.02)).squareRoot()
    print("2% loss, 100 Mbit/s, 20 ms RTT: goodput \(goodput / 1e6) Mbit/s, Reno model \(model / 1e6) Mbit/s, PTOs \(sim.connections[0].statistics.probeTimeouts)")
    #expect(goodput > 0.75 * model)
    #expect(goodput < 1.5 * model)  // and no cheating on congestion control
}

@Test func aBlackoutIsPersistentCongestionAndCollapsesTheWindow() {
    var link = LinkConditions()
    link.oneWayDelay = .milliseconds(10)
    var sim = NetworkSimulator(a: configuration(), b: configuration(), aToB: link, bToA: link, seed: 13)
    let pattern = StreamPattern(seed: 13)
    var writer = PatternWriter(pattern: pattern, total: 16 << 20)
    var reader = PatternReader(pattern: pattern)
    var smallestWindowAfterBlackout = Int.max
    var blackoutEnd: Int64?
    let application = { (sim: inout NetworkSimulator) in
        try? writer.step(&sim.connections[0])
        reader.step(&sim.connections[1])
        if let end = blackoutEnd, sim.now >= end {
            sim.links[0].lossRate = 0
            sim.links[1].lossRate = 0
            smallestWindowAfterBlackout = min(smallestWindowAfterBlackout, sim.connections[0].statistics.congestionWindow)
        }
    }
    let ran1 = sim.run(limit: .seconds(30), application: application, until: { _ in reader.received >= 2 << 20 })
    #expect(ran1)
    let before = sim.connections[0].statistics
    #expect(before.persistentCongestionEvents == 0)
    #expect(before.congestionWindow > 20 * PeerStreamConfiguration.defaultMaxDatagramSize)
    sim.links[0].lossRate = 1
    sim.links[1].lossRate = 1
    blackoutEnd = sim.now + nanoseconds(.seconds(3))
    let ran2 = sim.run(limit: .seconds(120), application: application, until: { s in s.connections[1].isPeerFinished })
    #expect(ran2)
    let after = sim.connections[0].statistics
    #expect(after.persistentCongestionEvents >= 1)
    #expect(smallestWindowAfterBlackout == 2 * PeerStreamConfiguration.defaultMaxDatagramSize)
    #expect(after.probeTimeouts >= 3)
    #expect(reader.received == 16 << 20 && reader.mismatches == 0)
}

/// Random paths (seeded): loss up to 20 %, reordering, duplication, rate caps, small windows and buffers,
/// data both ways. Every run must finish byte-exact and close cleanly on both sides.
@Test(arguments: Array(UInt64(100)..<UInt64(124)))
func randomPathsAlwaysDeliverAndClose(seed: UInt64) {
    var rng = SplitMix64(seed: seed)
    func randomLink() -> LinkConditions {
        var link = LinkConditions()
        link.oneWayDelay = .microseconds(Int64(rng.next() % 60_000))
        link.lossRate = rng.unit() * 0.2
        link.reorderRate = rng.unit() * 0.3
        link.reorderExtraDelay = .microseconds(Int64(rng.next() % 30_000 + 1))
        link.duplicateRate = rng.unit() * 0.1
        if rng.next() % 2 == 0 { link.bitsPerSecond = Double(rng.next() % 200 + 5) * 1e6 }
        link.queueLimitBytes = Int(rng.next() % (512 << 10)) + 16 << 10
        return link
    }
    let window = Int(rng.next() % (1 << 20)) + 65_536
    let sendBuffer = Int(rng.next() % (1 << 20)) + 1
    let datagram = Int(rng.next() % 1000) + 600
    let pacing = rng.next() % 2 == 0
    let config = configuration {
        $0.receiveWindow = window
        $0.sendBufferCapacity = sendBuffer
        $0.maxDatagramSize = datagram
        $0.maxAckRanges = min(32, (datagram - PeerStreamPacket.ackFixedSize) / PeerStreamPacket.ackRangeSize)
        $0.pacing = pacing
    }
    let totals = [UInt64(rng.next() % (2 << 20)), UInt64(rng.next() % (1 << 20))]
    let patterns = [StreamPattern(seed: seed), StreamPattern(seed: seed + 1000)]
    var writers = [PatternWriter(pattern: patterns[0], total: totals[0]), PatternWriter(pattern: patterns[1], total: totals[1])]
    var readers = [PatternReader(pattern: patterns[1]), PatternReader(pattern: patterns[0])]
    var sim = NetworkSimulator(a: config, b: config, aToB: randomLink(), bToA: randomLink(), seed: seed)
    var failure: (any Error)?
    let completed = sim.run(limit: .seconds(3600), application: { sim in
        for side in 0..<2 {
            do { try writers[side].step(&sim.connections[side]) } catch { failure = error }
            readers[side].step(&sim.connections[side])
        }
    }, until: { s in s.connections.allSatisfy { $0.state == .closed } })
    #expect(completed, "links \(sim.links), window \(window), send buffer \(sendBuffer), datagram \(datagram)")
    #expect(failure == nil)
    #expect(readers[1].received == totals[0] && readers[0].received == totals[1])
    #expect(readers.allSatisfy { $0.mismatches == 0 })
    #expect(sim.rejections.allSatisfy { $0.isEmpty })
}
