import Testing
import RTP
import TestServers

/// Random byte flips, truncations and extensions of valid inputs: every parser must either succeed or throw
/// its typed error; a trap here fails the whole test run.
@Test func mutatedInputsNeverCrashTheParsers() throws {
    var random = SplitMix64(seed: 0xF00D)
    let rtpSeeds = rtpVectors.map(\.bytes)
    let rtcpSeeds = rtcpVectors.map(\.bytes)
    let wavSeed = try WAVAudio(format: WAVFormat(sampleRate: 8000, channels: 2), samples: [1, 2, 3, 4]).serialized()
    var outcomes = (parsed: 0, rejected: 0)
    for round in 0..<3000 {
        let seeds = [rtpSeeds, rtcpSeeds, [wavSeed]][round % 3]
        var bytes = seeds[Int.random(in: 0..<seeds.count, using: &random)]
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            switch Int.random(in: 0...2, using: &random) {
            case 0 where !bytes.isEmpty:
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            case 1 where !bytes.isEmpty:
                bytes.removeLast(Int.random(in: 1...bytes.count, using: &random))
            default:
                bytes += (0..<Int.random(in: 1...8, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
        }
        let succeeded: Bool
        switch round % 3 {
        case 0: succeeded = (try? RTPPacket(parsing: bytes)) != nil
        case 1: succeeded = (try? RTCPPacket.parseCompound(bytes)) != nil
        default: succeeded = (try? WAVAudio(parsing: bytes)) != nil
        }
        if succeeded { outcomes.parsed += 1 } else { outcomes.rejected += 1 }
        _ = RTPPacketClass.classify(bytes)
        _ = try? TelephoneEvent(parsing: Array(bytes.prefix(4)))
    }
    // Both paths were exercised.
    #expect(outcomes.parsed > 100)
    #expect(outcomes.rejected > 100)
}
