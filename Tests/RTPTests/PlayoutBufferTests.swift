import Foundation
import Testing
import RTP

/// A 20 ms packet whose samples all carry `marker`, so the output shows which packet each sample came from.
func frame(_ marker: Int16, count: Int = 160) -> [Int16] { Array(repeating: marker, count: count) }

/// Inserts packets given as (sequence offset from `base`) with timestamps 160 per sequence step, then flushes.
func play(_ order: [Int], base: UInt16 = 1000, depth: Int = 4) -> (output: [Int16], buffer: PlayoutBuffer, verdicts: [PlayoutVerdict]) {
    var buffer = PlayoutBuffer(depth: depth)
    var output: [Int16] = []
    var verdicts: [PlayoutVerdict] = []
    for offset in order {
        let result = buffer.insert(
            sequenceNumber: base &+ UInt16(truncatingIfNeeded: offset), timestamp: 50_000 &+ UInt32(truncatingIfNeeded: offset * 160),
            samples: frame(Int16(offset + 1))
        )
        verdicts.append(result.verdict)
        output += result.samples
    }
    output += buffer.flush()
    return (output, buffer, verdicts)
}

/// The expected stream: each packet's 160 samples in sequence order, zeros for those missing.
func expectedStream(_ present: Set<Int>, through last: Int) -> [Int16] {
    (0...last).flatMap { present.contains($0) ? frame(Int16($0 + 1)) : frame(0) }
}

struct ReorderCase: Sendable, CustomTestStringConvertible {
    let name: String
    let order: [Int]
    var testDescription: String { name }
}

@Test(arguments: [
    ReorderCase(name: "in order", order: Array(0..<10)),
    ReorderCase(name: "swapped pairs", order: [1, 0, 3, 2, 5, 4, 7, 6, 9, 8]),
    ReorderCase(name: "one packet three late", order: [0, 1, 3, 4, 5, 2, 6, 7, 8, 9]),
    ReorderCase(name: "first packet arrives second", order: [1, 0, 2, 3, 4, 5, 6, 7, 8, 9]),
    ReorderCase(name: "reversed within the window", order: [3, 2, 1, 0, 7, 6, 5, 4, 9, 8]),
])
func reorderingWithinTheWindowIsUndone(_ reorder: ReorderCase) {
    let (output, buffer, verdicts) = play(reorder.order)
    #expect(verdicts.allSatisfy { $0 == .buffered })
    #expect(output == expectedStream(Set(0..<10), through: 9))
    #expect(buffer.statistics.releasedPackets == 10)
    #expect(buffer.statistics.lostPackets == 0)
    #expect(buffer.statistics.concealedSamples == 0)
}

@Test(arguments: [
    [0, 1, 2, 4, 5, 6],
    [0, 2, 3, 6, 7, 9],
    [0, 5],
])
func lossIsFilledWithSilence(_ received: [Int]) {
    let (output, buffer, _) = play(received)
    let last = received.max() ?? 0
    let missing = last + 1 - received.count
    #expect(output == expectedStream(Set(received), through: last))
    #expect(output.count == (last + 1) * 160)
    #expect(buffer.statistics.lostPackets == missing)
    #expect(buffer.statistics.concealedSamples == missing * 160)
}

@Test func duplicatesAndLatePacketsAreDropped() {
    let (output, buffer, verdicts) = play([0, 1, 1, 2, 3, 4, 5, 0, 6, 5, 7, 2], depth: 2)
    #expect(output == expectedStream(Set(0...7), through: 7))
    // With depth 2: the second 1 is still waiting (duplicate); 0 comes back after release (late);
    // 5 is waiting again (duplicate); 2 was released long ago (late).
    #expect(verdicts == [.buffered, .buffered, .duplicate, .buffered, .buffered, .buffered, .buffered, .late, .buffered, .duplicate, .buffered, .late])
    #expect(buffer.statistics.duplicatePackets == 2)
    #expect(buffer.statistics.latePackets == 2)
}

@Test func packetArrivingAfterItsGapWasFilledIsLate() {
    var buffer = PlayoutBuffer(depth: 1)
    var output: [Int16] = []
    for sequence: UInt16 in [0, 2, 3] {
        output += buffer.insert(sequenceNumber: sequence, timestamp: UInt32(sequence) * 160, samples: frame(Int16(sequence) + 1)).samples
    }
    // 0 and 2 were released (1 concealed); 1 now comes too late to be used.
    #expect(buffer.insert(sequenceNumber: 1, timestamp: 160, samples: frame(2)).verdict == .late)
    output += buffer.flush()
    #expect(output == frame(1) + frame(0) + frame(3) + frame(4))
}

@Test func sequenceAndTimestampWrapAround() {
    var buffer = PlayoutBuffer(depth: 3)
    var output: [Int16] = []
    let sequences: [UInt16] = [65533, 65535, 65534, 1, 0, 2, 3]
    for sequence in sequences {
        let step = UInt32(sequence &- 65533)
        output += buffer.insert(sequenceNumber: sequence, timestamp: 0xFFFF_FE00 &+ step * 160, samples: frame(Int16(step) + 1)).samples
    }
    output += buffer.flush()
    #expect(output == (1...7).flatMap { frame(Int16($0)) })
    #expect(buffer.statistics.lostPackets == 0)
}

@Test func silenceSuppressionGapsBecomeSilenceToo() {
    // Sequence numbers run on, timestamps jump (RFC 3551 §4.1: a talkspurt after silence).
    var buffer = PlayoutBuffer(depth: 0)
    var output = buffer.insert(sequenceNumber: 1, timestamp: 0, samples: frame(1)).samples
    output += buffer.insert(sequenceNumber: 2, timestamp: 160 + 800, samples: frame(2)).samples
    #expect(output == frame(1) + frame(0, count: 800) + frame(2))
    #expect(buffer.statistics.lostPackets == 0)
    #expect(buffer.statistics.concealedSamples == 800)
}

@Test func absurdTimestampJumpsAreCapped() {
    var buffer = PlayoutBuffer(depth: 0, maxGapSamples: 1600)
    var output = buffer.insert(sequenceNumber: 1, timestamp: 0, samples: frame(1)).samples
    output += buffer.insert(sequenceNumber: 2, timestamp: 1_000_000, samples: frame(2)).samples
    #expect(output.count == 160 + 1600 + 160)
}

@Test func packetizerCutsTwentyMillisecondFrames() {
    var packetizer = G711Packetizer(law: .muLaw)
    var generator = ToneGenerator(frequency: 440, amplitude: 5000)
    var frames: [G711Packetizer.Frame] = []
    for size in [100, 100, 200, 39, 500] { frames += packetizer.push(generator.nextFrame(count: size)) }
    // 939 samples: 5 whole frames, 139 waiting.
    #expect(frames.count == 5)
    #expect(frames.map(\.timestampOffset) == [0, 160, 320, 480, 640])
    #expect(frames.allSatisfy { $0.payload.count == 160 })
    let last = packetizer.flush()
    #expect(last?.timestampOffset == 800)
    #expect(last?.payload.count == 160)
    #expect(last?.payload.suffix(21).allSatisfy { $0 == G711Law.muLaw.silence } == true)
    #expect(packetizer.flush() == nil)
    #expect(packetizer.nextTimestampOffset == 960)
}

/// The whole receive path as a call recorder uses it: tone -> packetizer -> RTP on the wire (reordered, one
/// lost, one duplicated) -> parse -> playout buffer -> streamed WAV -> read back -> Goertzel.
@Test(arguments: [(440.0, G711Law.muLaw), (880.0, G711Law.aLaw)])
func recordedCallCarriesTheTone(_ frequency: Double, _ law: G711Law) throws {
    var generator = ToneGenerator(frequency: frequency, amplitude: 6000)
    var packetizer = G711Packetizer(law: law)
    var sender = RTPSenderState(ssrc: 0xCAFE, initialSequenceNumber: 65500, initialTimestamp: 0x7FFF_FFF0)
    var wire: [[UInt8]] = []
    for index in 0..<50 {
        for frame in packetizer.push(generator.nextFrame(count: 160)) {
            wire.append(try sender.makePacket(frame, law: law, marker: index == 0).serialized())
        }
    }
    #expect(wire.count == 50)
    let lost = 17
    wire.swapAt(10, 12)
    wire.swapAt(30, 31)
    wire.insert(wire[40], at: 43)
    wire.remove(at: lost)

    let url = temporaryWAV()
    defer { try? FileManager.default.removeItem(at: url) }
    let writer = try WAVWriter(url: url, format: WAVFormat(sampleRate: 8000))
    var buffer = PlayoutBuffer(depth: 5)
    var reception = RTPReceptionStatistics()
    for (arrival, bytes) in wire.enumerated() {
        #expect(RTPPacketClass.classify(bytes) == .rtp)
        let packet = try RTPPacket(parsing: bytes)
        #expect(packet.payloadType == law.payloadType)
        _ = reception.receive(packet.header, arrival: UInt32(arrival * 160))
        try writer.write(buffer.insert(packet, law: law).samples)
    }
    try writer.write(buffer.flush())
    try writer.close()

    let audio = try WAVAudio(contentsOf: url)
    #expect(audio.samples.count == 50 * 160)
    #expect(buffer.statistics.lostPackets == 1)
    #expect(buffer.statistics.duplicatePackets + buffer.statistics.latePackets == 1)
    // The lost packet's 20 ms are silence; everything else is the tone.
    #expect(audio.samples[lost * 160..<(lost + 1) * 160].allSatisfy { $0 == 0 })
    #expect(Goertzel.dominantFrequency(in: audio.samples, sampleRate: 8000, candidates: [440, 880]) == frequency)
    #expect(Goertzel.dominantFrequency(in: audio.samples, sampleRate: 8000, range: 300...1000, step: 10) == frequency)
    let block = try #require(reception.makeReportBlocks(now: .zero).first)
    #expect(block.cumulativeLost == 0)  // the duplicate makes up for the loss in RFC 3550's count
    #expect(block.extendedHighestSequenceNumber == UInt32(65500 + 49))
}

@Test func senderRestartingFarBehindIsFollowedAfterConfirmation() {
    var buffer = PlayoutBuffer(depth: 2)
    var output: [Int16] = []
    var verdicts: [PlayoutVerdict] = []
    // 20 packets from 5000, then the sender restarts at 100 with new timestamps.
    var packets: [(UInt16, UInt32, Int16)] = []
    for index in 0..<20 { packets.append((UInt16(5000 + index), UInt32(index) * 160, 1)) }
    for index in 0..<5 { packets.append((UInt16(100 + index), 900_000 + UInt32(index) * 160, 2)) }
    for (sequence, timestamp, marker) in packets {
        let result = buffer.insert(sequenceNumber: sequence, timestamp: timestamp, samples: frame(marker))
        verdicts.append(result.verdict)
        output += result.samples
    }
    output += buffer.flush()
    // The first restarted packet waits as a candidate (late); the second confirms the restart.
    #expect(verdicts[20] == .late)
    #expect(verdicts[21...].allSatisfy { $0 == .buffered })
    #expect(output == Array(repeating: 1, count: 20 * 160) + Array(repeating: 2, count: 5 * 160))
    #expect(buffer.statistics.resynchronizations == 1)
    #expect(buffer.statistics.latePackets == 0)
    #expect(buffer.statistics.releasedPackets == 25)
}

@Test func aSingleStrayOldPacketDoesNotResynchronize() {
    var buffer = PlayoutBuffer(depth: 1)
    var output: [Int16] = []
    for sequence: UInt16 in 1000..<1010 {
        output += buffer.insert(sequenceNumber: sequence, timestamp: UInt32(sequence) * 160, samples: frame(1)).samples
    }
    #expect(buffer.insert(sequenceNumber: 200, timestamp: 0, samples: frame(9)).verdict == .late)
    output += buffer.insert(sequenceNumber: 1010, timestamp: 1010 * 160, samples: frame(1)).samples
    output += buffer.flush()
    #expect(output == Array(repeating: 1, count: 11 * 160))
    #expect(buffer.statistics.resynchronizations == 0)
    #expect(buffer.statistics.latePackets == 1)
}
