import Foundation

/// Streams 16-bit PCM to a WAV file: the header is written first with zero sizes and fixed up on `close()`,
/// so a recording of unknown length needs no buffering in memory.
public final class WAVWriter {
    public let format: WAVFormat
    public private(set) var dataBytes: UInt32 = 0
    private var handle: FileHandle?

    /// Creates (or truncates) the file at `url` and writes the header.
    public init(url: URL, format: WAVFormat) throws(WAVError) {
        try format.validate()
        self.format = format
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw .io("cannot create \(url.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: url)
            self.handle = handle
            try handle.write(contentsOf: format.header(dataBytes: 0))
        } catch {
            throw .io(String(describing: error))
        }
    }

    /// Appends interleaved samples; their count must be whole frames.
    public func write(_ samples: [Int16]) throws(WAVError) {
        guard let handle else { throw .invalidWrite("write after close") }
        guard samples.count % Int(format.channels) == 0 else {
            throw .invalidWrite("\(samples.count) samples are not whole \(format.channels)-channel frames")
        }
        let added = samples.count * 2
        // RIFF sizes are 32-bit: the RIFF size field is 36 + data bytes.
        guard Int(dataBytes) + added <= Int(UInt32.max) - 36 else { throw .invalidWrite("WAV data over 4 GiB") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(added)
        bytes.appendLittleEndianSamples(samples)
        do {
            try handle.write(contentsOf: bytes)
        } catch {
            throw .io(String(describing: error))
        }
        dataBytes += UInt32(added)
    }

    /// Writes the final RIFF and data sizes into the header and closes the file. Calling it again does nothing.
    public func close() throws(WAVError) {
        guard let handle else { return }
        self.handle = nil
        var riffSize: [UInt8] = []
        riffSize.appendLittleEndian32(36 + dataBytes)
        var dataSize: [UInt8] = []
        dataSize.appendLittleEndian32(dataBytes)
        do {
            try handle.seek(toOffset: 4)
            try handle.write(contentsOf: riffSize)
            try handle.seek(toOffset: 40)
            try handle.write(contentsOf: dataSize)
            try handle.close()
        } catch {
            throw .io(String(describing: error))
        }
    }

    deinit {
        // A writer dropped without close() still leaves a readable file.
        try? close()
    }
}

extension WAVAudio {
    /// Reads and parses a WAV file.
    public init(contentsOf url: URL) throws(WAVError) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .io(String(describing: error))
        }
        try self.init(parsing: [UInt8](data))
    }

    /// Writes the audio to `url` in one go.
    public func write(to url: URL) throws(WAVError) {
        let bytes = try serialized()
        do {
            try Data(bytes).write(to: url)
        } catch {
            throw .io(String(describing: error))
        }
    }
}
