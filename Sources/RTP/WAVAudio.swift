/// Why a WAV file could not be read or written.
public enum WAVError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file does not start with a `RIFF` header of type `WAVE`.
    case notRIFFWAVE
    /// A chunk (or the RIFF header) declares more bytes than the file holds.
    case truncated(chunk: String, declared: Int, available: Int)
    /// The `data` chunk came before any `fmt ` chunk, or there was none.
    case missingFormatChunk
    case missingDataChunk
    /// Anything other than 16-bit integer PCM with one or two channels.
    case unsupportedFormat(formatTag: UInt16, channels: UInt16, bitsPerSample: UInt16)
    /// A `fmt ` chunk whose fields contradict each other, or a data size that is not whole frames.
    case invalidFormat(String)
    /// Samples that are not whole frames, a file over 4 GiB, or writing after close.
    case invalidWrite(String)
    /// The file system refused a read or write.
    case io(String)

    public var description: String {
        switch self {
        case .notRIFFWAVE: "not a RIFF WAVE file"
        case .truncated(let chunk, let declared, let available): "chunk '\(chunk)' declares \(declared) bytes, \(available) present"
        case .missingFormatChunk: "no fmt chunk before the data"
        case .missingDataChunk: "no data chunk"
        case .unsupportedFormat(let tag, let channels, let bits): "unsupported WAV format tag \(tag), \(channels) channels, \(bits) bits"
        case .invalidFormat(let reason): "invalid WAV format: \(reason)"
        case .invalidWrite(let reason): "invalid WAV write: \(reason)"
        case .io(let reason): "WAV I/O failed: \(reason)"
        }
    }
}

/// The PCM layout this target reads and writes: 16-bit little-endian integer samples, mono or stereo.
public struct WAVFormat: Sendable, Hashable {
    public var sampleRate: UInt32
    public var channels: UInt16
    public static let bitsPerSample: UInt16 = 16
    public static let maxSampleRate: UInt32 = 768_000

    public init(sampleRate: UInt32, channels: UInt16 = 1) {
        self.sampleRate = sampleRate
        self.channels = channels
    }

    public var blockAlign: UInt16 { channels &* 2 }
    public var byteRate: UInt32 { sampleRate &* UInt32(blockAlign) }

    func validate() throws(WAVError) {
        guard channels == 1 || channels == 2 else {
            throw .unsupportedFormat(formatTag: 1, channels: channels, bitsPerSample: Self.bitsPerSample)
        }
        // A bound well above any real audio rate keeps byteRate inside its 32-bit field.
        guard (1...Self.maxSampleRate).contains(sampleRate) else { throw .invalidFormat("sample rate \(sampleRate)") }
    }

    /// The 44-byte canonical header: RIFF/WAVE, a 16-byte `fmt ` chunk, and the `data` chunk header.
    func header(dataBytes: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(44)
        bytes.append(contentsOf: Array("RIFF".utf8))
        bytes.appendLittleEndian32(36 &+ dataBytes)
        bytes.append(contentsOf: Array("WAVEfmt ".utf8))
        bytes.appendLittleEndian32(16)
        bytes.appendLittleEndian16(1)
        bytes.appendLittleEndian16(channels)
        bytes.appendLittleEndian32(sampleRate)
        bytes.appendLittleEndian32(byteRate)
        bytes.appendLittleEndian16(blockAlign)
        bytes.appendLittleEndian16(Self.bitsPerSample)
        bytes.append(contentsOf: Array("data".utf8))
        bytes.appendLittleEndian32(dataBytes)
        return bytes
    }
}

/// PCM audio held in memory: a format and interleaved samples.
public struct WAVAudio: Sendable, Hashable {
    public var format: WAVFormat
    /// Interleaved samples (left, right, left, … for stereo).
    public var samples: [Int16]

    public init(format: WAVFormat, samples: [Int16]) {
        self.format = format
        self.samples = samples
    }

    /// Samples of one channel (0 = left or mono).
    public func channel(_ index: Int) -> [Int16] {
        let count = Int(format.channels)
        guard index >= 0, index < count else { return [] }
        return stride(from: index, to: samples.count, by: count).map { samples[$0] }
    }

    /// Parses a RIFF WAVE file: chunks are walked by their sizes (odd sizes padded, RIFF §3), unknown chunks
    /// skipped, and the format checked before any sample is read.
    public init(parsing bytes: [UInt8]) throws(WAVError) {
        guard bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WAVE".utf8) else {
            throw .notRIFFWAVE
        }
        let riffEnd = 8 + Int(bytes.littleEndian32(at: 4))
        guard riffEnd <= bytes.count else {
            throw .truncated(chunk: "RIFF", declared: riffEnd - 8, available: bytes.count - 8)
        }
        var format: WAVFormat?
        var offset = 12
        while offset + 8 <= riffEnd {
            let id = String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
            let size = Int(bytes.littleEndian32(at: offset + 4))
            let bodyStart = offset + 8
            guard size <= riffEnd - bodyStart else {
                throw .truncated(chunk: id, declared: size, available: riffEnd - bodyStart)
            }
            let body = bytes[bodyStart..<bodyStart + size]
            switch id {
            case "fmt ":
                format = try Self.parseFormat(Array(body))
            case "data":
                guard let format else { throw .missingFormatChunk }
                guard size % Int(format.blockAlign) == 0 else {
                    throw .invalidFormat("data size \(size) is not a whole number of \(format.blockAlign)-byte frames")
                }
                var samples: [Int16] = []
                samples.reserveCapacity(size / 2)
                var index = bodyStart
                while index < bodyStart + size {
                    samples.append(Int16(bitPattern: UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8))
                    index += 2
                }
                self.init(format: format, samples: samples)
                return
            default:
                break
            }
            offset = bodyStart + size + (size & 1)
        }
        throw format == nil ? .missingFormatChunk : .missingDataChunk
    }

    private static func parseFormat(_ body: [UInt8]) throws(WAVError) -> WAVFormat {
        guard body.count >= 16 else { throw .invalidFormat("fmt chunk of \(body.count) bytes (16 needed)") }
        var tag = body.littleEndian16(at: 0)
        let channels = body.littleEndian16(at: 2)
        let sampleRate = body.littleEndian32(at: 4)
        let byteRate = body.littleEndian32(at: 8)
        let blockAlign = body.littleEndian16(at: 12)
        let bits = body.littleEndian16(at: 14)
        // WAVE_FORMAT_EXTENSIBLE: the real format tag is the first two bytes of the sub-format GUID.
        if tag == 0xFFFE, body.count >= 40 { tag = body.littleEndian16(at: 24) }
        guard tag == 1, bits == WAVFormat.bitsPerSample, channels == 1 || channels == 2 else {
            throw .unsupportedFormat(formatTag: tag, channels: channels, bitsPerSample: bits)
        }
        let format = WAVFormat(sampleRate: sampleRate, channels: channels)
        try format.validate()
        guard blockAlign == format.blockAlign else { throw .invalidFormat("block align \(blockAlign), expected \(format.blockAlign)") }
        guard byteRate == format.byteRate else { throw .invalidFormat("byte rate \(byteRate), expected \(format.byteRate)") }
        return format
    }

    /// The canonical 44-byte-header WAV file.
    public func serialized() throws(WAVError) -> [UInt8] {
        try format.validate()
        guard samples.count % Int(format.channels) == 0 else {
            throw .invalidWrite("\(samples.count) samples are not whole \(format.channels)-channel frames")
        }
        guard samples.count * 2 <= Int(UInt32.max) - 36 else { throw .invalidWrite("over 4 GiB of samples") }
        var bytes = format.header(dataBytes: UInt32(samples.count * 2))
        bytes.reserveCapacity(44 + samples.count * 2)
        bytes.appendLittleEndianSamples(samples)
        return bytes
    }
}

extension Array where Element == UInt8 {
    mutating func appendLittleEndian16(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
    }

    mutating func appendLittleEndian32(_ value: UInt32) {
        appendLittleEndian16(UInt16(truncatingIfNeeded: value))
        appendLittleEndian16(UInt16(truncatingIfNeeded: value >> 16))
    }

    mutating func appendLittleEndianSamples(_ samples: [Int16]) {
        for sample in samples { appendLittleEndian16(UInt16(bitPattern: sample)) }
    }

    /// Callers check bounds first.
    func littleEndian16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) | UInt16(self[offset + 1]) << 8
    }

    func littleEndian32(at offset: Int) -> UInt32 {
        UInt32(littleEndian16(at: offset)) | UInt32(littleEndian16(at: offset + 2)) << 16
    }
}
