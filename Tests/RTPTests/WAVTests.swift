import Foundation
import Testing
import RTP

func temporaryWAV(_ name: String = #function) -> URL {
    FileManager.default.temporaryDirectory
        .appendingPathComponent("rtp-tests-\(UUID().uuidString)-\(name.filter(\.isLetter)).wav")
}

struct WAVCase: Sendable, CustomTestStringConvertible {
    let sampleRate: UInt32
    let channels: UInt16
    var testDescription: String { "\(sampleRate) Hz × \(channels)" }
}

let wavCases = [8000, 16000, 48000].flatMap { rate in [1, 2].map { WAVCase(sampleRate: UInt32(rate), channels: UInt16($0)) } }

@Test(arguments: wavCases)
func streamedWAVReadsBackIdentically(_ wavCase: WAVCase) throws {
    let url = temporaryWAV()
    defer { try? FileManager.default.removeItem(at: url) }
    let format = WAVFormat(sampleRate: wavCase.sampleRate, channels: wavCase.channels)
    var generator = ToneGenerator(frequency: 440, amplitude: 12000, sampleRate: Double(wavCase.sampleRate))
    var written: [Int16] = []
    let writer = try WAVWriter(url: url, format: format)
    for frameSize in [160, 320, 1, 999] {
        let mono = generator.nextFrame(count: frameSize)
        // Stereo: left is the tone, right its negation, so channel order is checked too.
        let frame = wavCase.channels == 1 ? mono : mono.flatMap { [$0, $0 == .min ? .max : -$0] }
        try writer.write(frame)
        written += frame
    }
    // Extremes, a whole number of frames for mono and stereo alike.
    written += [Int16.min, Int16.max, 0, -1]
    try writer.write([Int16.min, Int16.max, 0, -1])
    try writer.close()
    #expect(writer.dataBytes == UInt32(written.count * 2))

    let bytes = try [UInt8](Data(contentsOf: url))
    #expect(bytes.count == 44 + written.count * 2)
    // The sizes fixed up on close (RIFF size = file size - 8; data size = samples × 2).
    #expect(UInt32(bytes[4]) | UInt32(bytes[5]) << 8 | UInt32(bytes[6]) << 16 | UInt32(bytes[7]) << 24 == UInt32(bytes.count - 8))
    #expect(UInt32(bytes[40]) | UInt32(bytes[41]) << 8 | UInt32(bytes[42]) << 16 | UInt32(bytes[43]) << 24 == UInt32(written.count * 2))

    let audio = try WAVAudio(contentsOf: url)
    #expect(audio.format == format)
    #expect(audio.samples == written)
    #expect(try audio.serialized() == bytes)
    if wavCase.channels == 2 {
        #expect(audio.channel(0).count == written.count / 2)
        #expect(Goertzel.dominantFrequency(in: audio.channel(1), sampleRate: Double(wavCase.sampleRate), candidates: [440, 880]) == 440)
    }
}

@Test func writerRefusesPartialFramesAndWritesAfterClose() throws {
    let url = temporaryWAV()
    defer { try? FileManager.default.removeItem(at: url) }
    let writer = try WAVWriter(url: url, format: WAVFormat(sampleRate: 8000, channels: 2))
    #expect(throws: WAVError.self) { try writer.write([1, 2, 3]) }
    try writer.write([1, 2])
    try writer.close()
    try writer.close()
    #expect(throws: WAVError.invalidWrite("write after close")) { try writer.write([1, 2]) }
    #expect(try WAVAudio(contentsOf: url).samples == [1, 2])
}

@Test func writerDroppedWithoutCloseStillLeavesAValidFile() throws {
    let url = temporaryWAV()
    defer { try? FileManager.default.removeItem(at: url) }
    do {
        let writer = try WAVWriter(url: url, format: WAVFormat(sampleRate: 16000))
        try writer.write([5, 6, 7])
    }
    #expect(try WAVAudio(contentsOf: url).samples == [5, 6, 7])
}

@Test func unknownChunksAreSkippedIncludingOddSizedOnes() throws {
    var bytes = try WAVAudio(format: WAVFormat(sampleRate: 8000), samples: [1, -2, 3]).serialized()
    // Insert "LIST" (3 bytes + pad byte) and "fact" between fmt and data, and fix the RIFF size.
    let extra = Array("LIST".utf8) + [3, 0, 0, 0, 0x61, 0x62, 0x63, 0x00] + Array("fact".utf8) + [4, 0, 0, 0, 3, 0, 0, 0]
    bytes.insert(contentsOf: extra, at: 36)
    let riffSize = UInt32(bytes.count - 8)
    bytes[4] = UInt8(riffSize & 0xFF)
    bytes[5] = UInt8(riffSize >> 8 & 0xFF)
    let audio = try WAVAudio(parsing: bytes)
    #expect(audio.samples == [1, -2, 3])
    #expect(audio.format == WAVFormat(sampleRate: 8000))
}

/// A canonical header with chosen fields, for the rejection table.
func wavHeader(
    riff: String = "RIFF", wave: String = "WAVE", riffSize: UInt32? = nil, formatTag: UInt16 = 1, channels: UInt16 = 1,
    sampleRate: UInt32 = 8000, byteRate: UInt32? = nil, blockAlign: UInt16? = nil, bits: UInt16 = 16,
    fmtSize: UInt32 = 16, dataSize: UInt32 = 4, data: [UInt8] = [0, 0, 0, 0], fmtFirst: Bool = true
) -> [UInt8] {
    func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    func le32(_ v: UInt32) -> [UInt8] { le16(UInt16(v & 0xFFFF)) + le16(UInt16(v >> 16)) }
    let align = blockAlign ?? channels * bits / 8
    var fmtBody = le16(formatTag) + le16(channels) + le32(sampleRate) + le32(byteRate ?? sampleRate * UInt32(align)) + le16(align) + le16(bits)
    fmtBody += Array(repeating: 0, count: max(0, Int(fmtSize) - 16))
    let fmt = Array("fmt ".utf8) + le32(fmtSize) + fmtBody.prefix(Int(fmtSize))
    let dataChunk = Array("data".utf8) + le32(dataSize) + data
    let body = Array(wave.utf8) + (fmtFirst ? fmt + dataChunk : dataChunk + fmt)
    return Array(riff.utf8) + le32(riffSize ?? UInt32(body.count)) + body
}

struct BadWAV: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let expectedKind: String
    var testDescription: String { name }
}

@Test(arguments: [
    BadWAV(name: "empty", bytes: [], expectedKind: "notRIFFWAVE"),
    BadWAV(name: "RIFX", bytes: wavHeader(riff: "RIFX"), expectedKind: "notRIFFWAVE"),
    BadWAV(name: "AVI ", bytes: wavHeader(wave: "AVI "), expectedKind: "notRIFFWAVE"),
    BadWAV(name: "RIFF size past the end", bytes: wavHeader(riffSize: 1000), expectedKind: "truncated"),
    BadWAV(name: "data size past the end", bytes: wavHeader(dataSize: 400), expectedKind: "truncated"),
    BadWAV(name: "data before fmt", bytes: wavHeader(fmtFirst: false), expectedKind: "missingFormatChunk"),
    BadWAV(name: "no data chunk", bytes: Array(wavHeader(riffSize: 28).prefix(36)), expectedKind: "missingDataChunk"),
    BadWAV(name: "only the RIFF header", bytes: Array("RIFF".utf8) + [4, 0, 0, 0] + Array("WAVE".utf8), expectedKind: "missingFormatChunk"),
    BadWAV(name: "8-bit", bytes: wavHeader(bits: 8), expectedKind: "unsupportedFormat"),
    BadWAV(name: "IEEE float", bytes: wavHeader(formatTag: 3, bits: 32), expectedKind: "unsupportedFormat"),
    BadWAV(name: "3 channels", bytes: wavHeader(channels: 3, dataSize: 6, data: [0, 0, 0, 0, 0, 0]), expectedKind: "unsupportedFormat"),
    BadWAV(name: "fmt chunk of 14 bytes", bytes: wavHeader(fmtSize: 14), expectedKind: "invalidFormat"),
    BadWAV(name: "block align mismatch", bytes: wavHeader(blockAlign: 4), expectedKind: "invalidFormat"),
    BadWAV(name: "byte rate mismatch", bytes: wavHeader(byteRate: 8000), expectedKind: "invalidFormat"),
    BadWAV(name: "sample rate 0", bytes: wavHeader(sampleRate: 0), expectedKind: "invalidFormat"),
    BadWAV(name: "data not whole frames", bytes: wavHeader(channels: 2, dataSize: 6, data: [0, 0, 0, 0, 0, 0]), expectedKind: "invalidFormat"),
])
func badWAVHeadersAreRejected(_ bad: BadWAV) {
    do {
        let audio = try WAVAudio(parsing: bad.bytes)
        Issue.record("parsed \(audio.samples.count) samples")
    } catch {
        #expect(kind(error) == bad.expectedKind)
    }
}

@Test func wellFormedHeaderFromTheTableBuilderParses() throws {
    // Guards the rejection table: its builder makes a valid file when nothing is broken.
    #expect(try WAVAudio(parsing: wavHeader(data: [1, 0, 0xFF, 0xFF])).samples == [1, -1])
}

@Test func missingFileIsAnIOError() {
    do {
        _ = try WAVAudio(contentsOf: URL(fileURLWithPath: "/nonexistent/dir/x.wav"))
        Issue.record("read a missing file")
    } catch {
        #expect(kind(error) == "io")
    }
    #expect(throws: WAVError.self) { try WAVWriter(url: URL(fileURLWithPath: "/nonexistent/dir/x.wav"), format: WAVFormat(sampleRate: 8000)) }
}

@Test func absurdSampleRateIsRefusedNotOverflowed() {
    // 0x7FFFFFFF Hz × 4-byte frames would overflow the 32-bit byte rate.
    #expect(throws: WAVError.invalidFormat("sample rate 2147483647")) {
        try WAVAudio(parsing: wavHeader(channels: 2, sampleRate: 0x7FFF_FFFF, byteRate: 0, blockAlign: 4))
    }
    #expect(throws: WAVError.self) { try WAVAudio(format: WAVFormat(sampleRate: 0), samples: []).serialized() }
}
