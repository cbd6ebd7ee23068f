#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// close(2), outside `WAVWriter` whose own `close()` would shadow it.
private func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}

/// Streams 16-bit PCM to a WAV file: the header is written first with zero sizes and fixed up on `close()`,
/// so a recording of unknown length needs no buffering in memory.
public final class WAVWriter {
    public let format: WAVFormat
    public private(set) var dataBytes: UInt32 = 0
    /// The open file descriptor; -1 once closed.
    private var fd: Int32

    /// Creates (or truncates) the file at `url` and writes the header.
    public init(url: URL, format: WAVFormat) throws(WAVError) {
        try format.validate()
        self.format = format
        fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io("cannot create \(url.path): \(String(cString: strerror(errno)))") }
        do throws(WAVError) {
            try writeAll(format.header(dataBytes: 0), at: 0)
        } catch {
            closeDescriptor(fd)
            fd = -1
            throw error
        }
    }

    /// Appends interleaved samples; their count must be whole frames.
    public func write(_ samples: [Int16]) throws(WAVError) {
        guard fd >= 0 else { throw .invalidWrite("write after close") }
        guard samples.count % Int(format.channels) == 0 else {
            throw .invalidWrite("\(samples.count) samples are not whole \(format.channels)-channel frames")
        }
        let added = samples.count * 2
        // RIFF sizes are 32-bit: the RIFF size field is 36 + data bytes.
        guard Int(dataBytes) + added <= Int(UInt32.max) - 36 else { throw .invalidWrite("WAV data over 4 GiB") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(added)
        bytes.appendLittleEndianSamples(samples)
        try writeAll(bytes, at: 44 + Int(dataBytes))
        dataBytes += UInt32(added)
    }

    /// Writes the final RIFF and data sizes into the header and closes the file. Calling it again does nothing.
    public func close() throws(WAVError) {
        guard fd >= 0 else { return }
        defer {
            closeDescriptor(fd)
            fd = -1
        }
        var riffSize: [UInt8] = []
        riffSize.appendLittleEndian32(36 + dataBytes)
        var dataSize: [UInt8] = []
        dataSize.appendLittleEndian32(dataBytes)
        try writeAll(riffSize, at: 4)
        try writeAll(dataSize, at: 40)
    }

    /// pwrite(2) until every byte is written (a short write only happens on signals or a full disk).
    private func writeAll(_ bytes: [UInt8], at offset: Int) throws(WAVError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("write failed: \(String(cString: strerror(errno)))")
            }
            done += n
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
