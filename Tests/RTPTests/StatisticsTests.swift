import Testing
import RTP

/// Feeds sequence numbers with timestamps 160 apart and arrivals exactly on time.
@discardableResult
func feed(_ stats: inout RTPSourceStatistics, _ sequences: [UInt16]) -> [RTPSequenceVerdict] {
    sequences.map { stats.receive(sequenceNumber: $0, timestamp: UInt32($0) &* 160, arrival: UInt32($0) &* 160) }
}

@Test func sequenceWrapsAroundWithoutLoss() {
    var stats = RTPSourceStatistics(ssrc: 1, firstSequenceNumber: 65530)
    let sequence = (0..<12).map { UInt16(truncatingIfNeeded: 65530 + $0) }
    let verdicts = feed(&stats, sequence)
    // RFC 3550 A.1: the first packet is on probation; the second validates the source and becomes the base.
    #expect(verdicts[0] == .probation)
    #expect(verdicts.dropFirst().allSatisfy { $0 == .accepted })
    #expect(stats.isValid)
    #expect(stats.cycles == 65536)
    #expect(stats.maxSequence == 5)
    #expect(stats.extendedHighestSequenceNumber == 65536 + 5)
    #expect(stats.baseSequence == 65531)
    #expect(stats.expected == 11)
    #expect(stats.received == 11)
    #expect(stats.cumulativeLost == 0)
}

struct LossCase: Sendable, CustomTestStringConvertible {
    let name: String
    let start: UInt16
    let count: Int
    let dropped: Set<Int>
    var testDescription: String { name }
}

@Test(arguments: [
    LossCase(name: "no loss", start: 100, count: 50, dropped: []),
    LossCase(name: "one lost", start: 100, count: 50, dropped: [10]),
    LossCase(name: "burst of five", start: 100, count: 50, dropped: [20, 21, 22, 23, 24]),
    LossCase(name: "losses across the wrap", start: 65500, count: 80, dropped: [30, 35, 36, 40, 79 - 1]),
    LossCase(name: "scattered", start: 0, count: 200, dropped: Set(stride(from: 5, to: 200, by: 7))),
])
func lossIsCountedAsExpectedMinusReceived(_ loss: LossCase) {
    var stats = RTPSourceStatistics(ssrc: 1, firstSequenceNumber: loss.start)
    let sent = (0..<loss.count).map { UInt16(truncatingIfNeeded: Int(loss.start) + $0) }
    feed(&stats, sent.enumerated().filter { !loss.dropped.contains($0.offset) }.map(\.element))
    // Packets 0 and 1 always arrive, so the base is packet 1 and losses after it are all counted.
    #expect(stats.expected == UInt32(loss.count - 1))
    #expect(stats.cumulativeLost == Int64(loss.dropped.count))
    let block = stats.makeReportBlock(now: .zero)
    #expect(block.cumulativeLost == Int32(loss.dropped.count))
    // A.3: fraction = lost/expected in the interval × 256, truncated.
    #expect(block.fractionLost == UInt8((loss.dropped.count << 8) / (loss.count - 1)))
    #expect(block.extendedHighestSequenceNumber == UInt32(Int(loss.start) + loss.count - 1))
}

@Test func fractionLostCoversOnlyTheIntervalSinceTheLastReport() {
    var stats = RTPSourceStatistics(ssrc: 7, firstSequenceNumber: 0, minSequential: 1)
    feed(&stats, Array(0..<10).filter { $0 != 4 && $0 != 5 })
    let first = stats.makeReportBlock(now: .zero)
    #expect(first.cumulativeLost == 2)
    #expect(first.fractionLost == UInt8((2 << 8) / 10))
    feed(&stats, Array(10..<20))
    let second = stats.makeReportBlock(now: .zero)
    #expect(second.cumulativeLost == 2)
    #expect(second.fractionLost == 0)
    feed(&stats, Array(20..<30).filter { $0 != 25 })
    let third = stats.makeReportBlock(now: .zero)
    #expect(third.cumulativeLost == 3)
    #expect(third.fractionLost == UInt8((1 << 8) / 10))
}

@Test func duplicatesMakeLossNegativeAndFractionZero() {
    var stats = RTPSourceStatistics(ssrc: 1, firstSequenceNumber: 0, minSequential: 1)
    feed(&stats, [0, 1, 2, 2, 3, 3, 3, 4])
    #expect(stats.received == 8)
    #expect(stats.expected == 5)
    #expect(stats.cumulativeLost == -3)
    let block = stats.makeReportBlock(now: .zero)
    #expect(block.cumulativeLost == -3)
    #expect(block.fractionLost == 0)
}

@Test func reorderedPacketsWithinTheMisorderWindowCount() {
    var stats = RTPSourceStatistics(ssrc: 1, firstSequenceNumber: 10, minSequential: 1)
    let verdicts = feed(&stats, [10, 11, 13, 12, 14])
    #expect(verdicts.allSatisfy { $0 == .accepted })
    #expect(stats.maxSequence == 14)
    #expect(stats.cumulativeLost == 0)
}

@Test func aLargeJumpIsRejectedUntilConfirmedThenRestarts() {
    var stats = RTPSourceStatistics(ssrc: 1, firstSequenceNumber: 1000)
    feed(&stats, Array(1000..<1010))
    #expect(stats.received == 9)
    // 20000 ahead is beyond MAX_DROPOUT (3000) and not a misorder: dropped, remembered as bad_seq - 1.
    #expect(feed(&stats, [21000]) == [.rejectedJump])
    #expect(stats.maxSequence == 1009)
    // A second unrelated jump is also dropped.
    #expect(feed(&stats, [40000]) == [.rejectedJump])
    // 40001 follows the last jump: the source restarted; statistics begin again from it.
    #expect(feed(&stats, [40001, 40002]) == [.restarted, .accepted])
    #expect(stats.baseSequence == 40001)
    #expect(stats.received == 2)
    #expect(stats.cumulativeLost == 0)
}

@Test func probationResetsOnOutOfOrderStart() {
    var stats = RTPSourceStatistics(ssrc: 1, firstSequenceNumber: 50, minSequential: 3)
    #expect(feed(&stats, [50, 52, 53, 54, 55]) == [.probation, .probation, .probation, .accepted, .accepted])
    #expect(stats.baseSequence == 54)
    #expect(stats.isValid)
}

/// The floating-point form of RFC 3550 A.8 as the reference: J += (|D| - J) / 16.
func referenceJitter(timestamps: [UInt32], arrivals: [UInt32]) -> Double {
    var jitter = 0.0
    for index in 1..<timestamps.count {
        let d = Double(Int64(arrivals[index]) - Int64(arrivals[index - 1]) - (Int64(timestamps[index]) - Int64(timestamps[index - 1])))
        jitter += (abs(d) - jitter) / 16
    }
    return jitter
}

struct JitterCase: Sendable, CustomTestStringConvertible {
    let name: String
    /// Arrival offset (in timestamp units) of each packet relative to its ideal time.
    let offsets: [Int]
    var testDescription: String { name }
}

@Test(arguments: [
    JitterCase(name: "steady", offsets: Array(repeating: 500, count: 50)),
    JitterCase(name: "one step", offsets: [0, 80]),
    JitterCase(name: "alternating 0/40", offsets: (0..<200).map { $0 % 2 == 0 ? 0 : 40 }),
    JitterCase(name: "sawtooth", offsets: (0..<100).map { ($0 % 5) * 30 }),
    JitterCase(name: "spike", offsets: Array(repeating: 0, count: 20) + [800] + Array(repeating: 0, count: 20)),
])
func jitterFollowsRFC3550A8(_ jitterCase: JitterCase) {
    let start: UInt32 = 0xFFFF_F000  // timestamps wrap during the run
    let timestamps = jitterCase.offsets.indices.map { start &+ UInt32($0) &* 160 }
    let arrivals = jitterCase.offsets.enumerated().map { UInt32(truncatingIfNeeded: 1_000_000 + $0.offset * 160 + $0.element) }
    var stats = RTPSourceStatistics(ssrc: 1, firstSequenceNumber: 0, minSequential: 1)
    for index in timestamps.indices {
        _ = stats.receive(sequenceNumber: UInt16(index), timestamp: timestamps[index], arrival: arrivals[index])
    }
    let expected = referenceJitter(
        timestamps: jitterCase.offsets.indices.map { UInt32($0 * 160) }, arrivals: arrivals
    )
    // The integer form truncates, so it may trail the exact value by up to one unit (plus rounding drift).
    #expect(abs(Double(stats.jitter) - expected) <= 1.5, "jitter \(stats.jitter), reference \(expected)")
    #expect(stats.makeReportBlock(now: .zero).jitter == stats.jitter)
}

@Test func jitterOfOneStepMatchesTheFormulaExactly() {
    var stats = RTPSourceStatistics(ssrc: 1, firstSequenceNumber: 0, minSequential: 1)
    _ = stats.receive(sequenceNumber: 0, timestamp: 0, arrival: 1000)
    _ = stats.receive(sequenceNumber: 1, timestamp: 160, arrival: 1160 + 160)
    // |D| = 160, J = 160/16 = 10.
    #expect(stats.jitter == 10)
}

@Test func reportBlockCarriesLSRAndDLSR() {
    var stats = RTPSourceStatistics(ssrc: 0xABCD, firstSequenceNumber: 0, minSequential: 1)
    feed(&stats, [0, 1, 2])
    #expect(stats.makeReportBlock(now: .seconds(5)).lastSenderReport == 0)
    stats.receiveSenderReport(ntpTimestamp: 0xE123_4567_89AB_CDEF, arrival: .seconds(10))
    let block = stats.makeReportBlock(now: .milliseconds(11_500))
    #expect(block.ssrc == 0xABCD)
    #expect(block.lastSenderReport == 0x4567_89AB)
    // RFC 3550 §6.4.1: DLSR in 1/65536 s; 1.5 s = 98304.
    #expect(block.delaySinceLastSenderReport == 98304)
}

@Test func receptionTableReportsValidSourcesInSSRCOrder() throws {
    var table = RTPReceptionStatistics()
    for sequence in UInt16(0)..<10 {
        for ssrc: UInt32 in [30, 10] {
            let header = RTPHeader(payloadType: 0, sequenceNumber: sequence &+ UInt16(ssrc), timestamp: UInt32(sequence) * 160, ssrc: ssrc)
            _ = table.receive(header, arrival: UInt32(sequence) * 160)
        }
    }
    _ = table.receive(RTPHeader(payloadType: 0, sequenceNumber: 5, timestamp: 0, ssrc: 20), arrival: 0)  // still on probation
    table.receive(RTCPSenderReport(ssrc: 30, ntpTimestamp: 0x0000_1234_5678_0000, rtpTimestamp: 0, packetCount: 0, octetCount: 0), arrival: .seconds(1))
    let blocks = table.makeReportBlocks(now: .seconds(2))
    #expect(blocks.map(\.ssrc) == [10, 30])
    #expect(blocks[1].lastSenderReport == 0x1234_5678)
    #expect(blocks[1].delaySinceLastSenderReport == 65536)
    // The blocks go straight into an RR that round-trips.
    let rr = RTCPPacket.receiverReport(RTCPReceiverReport(ssrc: 99, reportBlocks: blocks))
    #expect(try RTCPPacket.parseCompound(rr.serialized()) == [rr])
    table.remove(ssrc: 10)
    #expect(table.makeReportBlocks(now: .seconds(3)).map(\.ssrc) == [30])
}

@Test func senderStateNumbersAndCountsPackets() throws {
    var sender = RTPSenderState(ssrc: 0x1234, initialSequenceNumber: 65534, initialTimestamp: 0xFFFF_FF00)
    let packets = (0..<4).map { index in
        sender.makePacket(payloadType: 0, payload: Array(repeating: 0xFF, count: 160), timestampOffset: UInt32(index) * 160, marker: index == 0)
    }
    #expect(packets.map(\.sequenceNumber) == [65534, 65535, 0, 1])
    #expect(packets.map(\.timestamp) == [0xFFFF_FF00, 0xFFFF_FFA0, 0x40, 0xE0])
    #expect(packets.map(\.marker) == [true, false, false, false])
    #expect(packets.allSatisfy { $0.ssrc == 0x1234 })
    #expect(sender.packetCount == 4)
    #expect(sender.octetCount == 640)
    let report = sender.makeSenderReport(ntpTimestamp: 42, timestampOffset: 640)
    #expect(report.rtpTimestamp == 0xFFFF_FF00 &+ 640)
    #expect(report.packetCount == 4 && report.octetCount == 640)
}

@Test func timestampUnitsConversion() {
    #expect(RTPSourceStatistics.timestampUnits(.seconds(1), clockRate: 8000) == 8000)
    #expect(RTPSourceStatistics.timestampUnits(.milliseconds(20), clockRate: 8000) == 160)
    #expect(RTPSourceStatistics.timestampUnits(.milliseconds(1500), clockRate: 90000) == 135_000)
}

@Test func receptionTableStopsAtItsSourceLimit() {
    var table = RTPReceptionStatistics(maxSources: 3)
    for ssrc: UInt32 in 1...5 {
        let verdict = table.receive(RTPHeader(payloadType: 0, sequenceNumber: 1, timestamp: 0, ssrc: ssrc), arrival: 0)
        #expect(verdict == (ssrc <= 3 ? .probation : .sourceLimitReached))
    }
    #expect(table.sources.count == 3)
    table.remove(ssrc: 2)
    #expect(table.receive(RTPHeader(payloadType: 0, sequenceNumber: 1, timestamp: 0, ssrc: 9), arrival: 0) == .probation)
}

@Test func hostileTransitTimesDoNotOverflowJitter() {
    var stats = RTPSourceStatistics(ssrc: 1, firstSequenceNumber: 0, minSequential: 1)
    for index in 0..<2000 {
        _ = stats.receive(sequenceNumber: UInt16(index), timestamp: index % 2 == 0 ? 0 : 0x8000_0000, arrival: 0)
    }
    // |D| is 2^31 each time; J converges to it without wrapping.
    #expect(stats.jitter >= 0x7FFF_0000)
    #expect(stats.makeReportBlock(now: .seconds(100_000)).delaySinceLastSenderReport == 0)
}

@Test func delaySinceLastSenderReportSaturates() {
    var stats = RTPSourceStatistics(ssrc: 1, firstSequenceNumber: 0, minSequential: 1)
    feed(&stats, [0])
    stats.receiveSenderReport(ntpTimestamp: 1 << 16, arrival: .seconds(1))
    #expect(stats.makeReportBlock(now: .seconds(100_000)).delaySinceLastSenderReport == .max)
    #expect(stats.makeReportBlock(now: .zero).delaySinceLastSenderReport == 0)
}
