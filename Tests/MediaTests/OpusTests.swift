import Foundation
@testable import Media
import RTP
import Testing

/// Opus (RFC 7587) through libopus, and calls that negotiate it.
@Suite("Opus", .serialized)
struct OpusTests {
    @Test("a 440 Hz tone survives Opus encoding and decoding (48 kHz mono, 20 ms frames)", arguments: [440.0, 880.0])
    func roundTrip(frequency: Double) throws {
        var source = AudioSampleSource(tone: frequency)
        let encoder = try OpusEncoder(), decoder = try OpusDecoder()
        var decoded: [Int16] = []
        var sizes: [Int] = []
        for _ in 0..<50 {
            let packet = try encoder.encode(narrowband: source.nextFrame(count: 160))
            sizes.append(packet.count)
            let wide = try decoder.decode(packet)
            #expect(wide.count == 960, "20 ms at 48 kHz")
            decoded += OpusDecoder.downsample(wide)
        }
        #expect(sizes.allSatisfy { $0 > 0 && $0 < 400 }, "compressed frames: \(sizes.prefix(5))")
        // Skip the codec's start-up (look-ahead) before judging the tone.
        let steady = Array(decoded.dropFirst(800))
        #expect(Goertzel.dominantFrequency(in: steady, sampleRate: 8000, candidates: [440, 880]) == frequency)
        #expect(Goertzel.dominantFrequency(in: steady, sampleRate: 8000, range: 300...1000, step: 10) == frequency)
    }

    @Test("a packet libopus cannot decode is a typed error, and a lost one is concealed")
    func badPacketAndLoss() throws {
        let decoder = try OpusDecoder()
        // TOC code 3 with a frame count of 0 is invalid (RFC 6716 §3.2.5, R5).
        #expect(throws: MediaError.self) { try decoder.decode([0x03, 0x00]) }
        #expect(try decoder.decode(nil).count == 960, "packet loss concealment yields one 20 ms frame")
    }

    @Test("a call between two of our sessions negotiates opus and each side records the other's tone")
    func callWithOpus() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (a, b) = try await makeCall(directory: directory)
        #expect(a.negotiated.audioFormat.codec == .opus && b.negotiated.audioFormat.codec == .opus, "opus/48000/2 is preferred over PCMU")
        #expect(a.negotiated.audioFormat.payloadType == 111)
        try await a.log.waitMediaFlowing()
        try await b.log.waitMediaFlowing()
        try await Task.sleep(for: .seconds(2))
        let statsA = await a.session.stop(), statsB = await b.session.stop()
        await a.link.close(); await b.link.close()
        #expect(statsB.packetsReceived * 100 >= statsA.packetsSent * 95, "answerer got \(statsB.packetsReceived) of \(statsA.packetsSent)")
        #expect(statsA.malformed == 0 && statsB.malformed == 0)
        let heardByA = try recordedSamples(a.recording), heardByB = try recordedSamples(b.recording)
        #expect(heardByA.count >= 8000 && heardByB.count >= 8000, "at least a second each way")
        #expect(Goertzel.dominantFrequency(in: heardByA, sampleRate: 8000, candidates: [440, 880]) == 880)
        #expect(Goertzel.dominantFrequency(in: heardByB, sampleRate: 8000, candidates: [440, 880]) == 440)
    }

    @Test("without opus in the offer the call falls back to PCMU and still carries the tones")
    func callWithG711() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (a, b) = try await makeCall(g711Only: true, directory: directory)
        #expect(a.negotiated.audioFormat.codec == .pcmu && b.negotiated.audioFormat.codec == .pcmu)
        try await a.log.waitMediaFlowing()
        try await b.log.waitMediaFlowing()
        try await Task.sleep(for: .seconds(1))
        await hangUp(a, b)
        #expect(Goertzel.dominantFrequency(in: try recordedSamples(a.recording), sampleRate: 8000, candidates: [440, 880]) == 880)
        #expect(Goertzel.dominantFrequency(in: try recordedSamples(b.recording), sampleRate: 8000, candidates: [440, 880]) == 440)
    }
}
