#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Hashes

/// Where a received file goes: a `.part` file inside one directory, renamed to its final name only after
/// its hash matched (XEP-0234 §6 "received" is sent only then).
///
/// Guarantees:
/// - nothing is created outside `directory`: the name is sanitised (`FileName.sanitize`) and files are
///   opened relative to the directory's descriptor with `O_NOFOLLOW`, so a planted symlink is refused;
/// - an existing complete file is never overwritten: the final name gets a ` (N)` suffix instead, and
///   the final step is `link` + `unlink` (which fails rather than replaces);
/// - a hash mismatch removes the `.part` and keeps nothing as complete;
/// - a full disk or any other failure keeps the `.part` so that `--resume` can continue it.
///
/// Not thread-safe: one task writes one sink.
public final class FileSink {
    public let directory: String
    /// The sanitised name the file will have, before collision handling.
    public let name: String
    public let expectedSize: UInt64?
    /// Bytes in the `.part` file, including any that were there before (resume).
    public private(set) var received: UInt64
    /// Where the file went, once `finish` succeeded.
    public private(set) var finalPath: String?

    private let directoryFD: Int32
    private var fd: Int32
    private var digest: Digest
    private let algorithm: HashAlgorithm

    public var partName: String { name + ".part" }
    public var partPath: String { directory + "/" + partName }
    /// Where the next byte goes: the `<range offset>` to request when resuming (XEP-0234 §7).
    public var resumeOffset: UInt64 { received }

    /// Opens (or, with `resume`, reopens) the `.part` file for an offered file.
    /// - Parameters:
    ///   - directory: the only directory anything is written in (`--dir`).
    ///   - offeredName: the name the peer offered; sanitised with `FileName.sanitize`.
    ///   - expectedSize: the offered size; more bytes than this are refused, fewer fail `finish`.
    ///   - maxSize: refuse offers larger than this (`--max-size`).
    ///   - resume: continue an existing `.part`: its bytes are re-hashed so the final check covers the
    ///     whole file. Without `resume` an existing `.part` is replaced (it is not a complete file).
    ///   - algorithm: the hash computed while writing and checked by `finish`.
    public init(directory: String, offeredName: String, expectedSize: UInt64?, maxSize: UInt64? = nil,
                resume: Bool = false, algorithm: HashAlgorithm = .sha256) throws(FileTransferError) {
        if let expectedSize, let maxSize, expectedSize > maxSize { throw .tooLarge(size: expectedSize, limit: maxSize) }
        self.name = try FileName.sanitize(offeredName)
        self.directory = directory
        self.expectedSize = expectedSize
        self.algorithm = algorithm
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD < 0 { throw errno == ENOTDIR || errno == ENOENT ? .notADirectory(directory) : Self.ioError("open", directory) }
        self.directoryFD = dirFD
        self.digest = Digest(algorithm)
        self.received = 0
        let part = name + ".part"
        var flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC
        if !resume { flags |= O_TRUNC }
        let fileFD = openat(dirFD, part, flags, 0o644)
        if fileFD < 0 {
            let error = Self.ioError("create", directory + "/" + part)
            close(dirFD)
            throw error
        }
        self.fd = fileFD
        if resume {
            do throws(FileTransferError) { try rehashExistingPart() } catch {
                close(fileFD); close(dirFD)
                throw error
            }
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
        close(directoryFD)
    }

    /// Appends received bytes. Refuses bytes beyond the offered size.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(FileTransferError) {
        guard !bytes.isEmpty else { return }
        precondition(fd >= 0, "write after finish/abort")
        if let expectedSize, received + UInt64(bytes.count) > expectedSize {
            throw .sizeMismatch(expected: expectedSize, received: received + UInt64(bytes.count))
        }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ENOSPC || errno == EDQUOT { throw .diskFull(partPath: partPath, received: received + UInt64(offset)) }
                throw Self.ioError("write", partPath)
            }
            offset += n
        }
        digest.update(bytes)
        received += UInt64(bytes.count)
    }

    public func write(_ bytes: [UInt8]) throws(FileTransferError) {
        let result = bytes.withUnsafeBytes { buffer -> Result<Void, FileTransferError> in
            do throws(FileTransferError) { try write(buffer); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
    }

    /// The digest of everything received so far (the sink keeps hashing afterwards).
    public var currentDigest: [UInt8] { digest.copy().finalize() }

    /// Checks size and hash, then gives the file its final name. On a mismatch the `.part` is removed.
    /// - Parameter expectedHash: the sender's hash for `algorithm` (from the offer or a checksum).
    /// - Returns: the final path.
    @discardableResult
    public func finish(expectedHash: [UInt8]) throws(FileTransferError) -> String {
        try finish(expectedHash: expectedHash, algorithm: algorithm)
    }

    /// The same for a hash of any algorithm: one other than the sink's (a sender that names only sha-1, or
    /// whose checksum uses another function than the one hashed while receiving) is checked by reading the
    /// `.part` back.
    @discardableResult
    public func finish(expectedHash: [UInt8], algorithm checked: HashAlgorithm) throws(FileTransferError) -> String {
        precondition(fd >= 0, "finish after finish/abort")
        if let expectedSize, received != expectedSize {
            throw .sizeMismatch(expected: expectedSize, received: received)
        }
        let actual = checked == algorithm ? digest.copy().finalize() : try hashOfPart(checked)
        if actual != expectedHash {
            close(fd); fd = -1
            unlinkat(directoryFD, partName, 0)
            throw .hashMismatch(algorithm: checked, expected: expectedHash, actual: actual)
        }
        if fsync(fd) != 0 { throw Self.ioError("fsync", partPath) }
        close(fd); fd = -1
        // link() refuses to replace an existing file, so a complete file is never overwritten.
        for n in 0..<1000 {
            let candidate = n == 0 ? name : FileName.alternative(name, n)
            if linkat(directoryFD, partName, directoryFD, candidate, 0) == 0 {
                unlinkat(directoryFD, partName, 0)
                finalPath = directory + "/" + candidate
                return directory + "/" + candidate
            }
            if errno != EEXIST { throw Self.ioError("link", directory + "/" + candidate) }
        }
        throw .noFreeName(name)
    }

    /// Stops receiving. With `keepPartial` the `.part` stays for `--resume`; otherwise it is removed.
    public func abort(keepPartial: Bool) {
        if fd >= 0 { close(fd); fd = -1 }
        if !keepPartial { unlinkat(directoryFD, partName, 0) }
    }

    /// The `.part` file's hash under `algorithm`, read from its start.
    private func hashOfPart(_ algorithm: HashAlgorithm) throws(FileTransferError) -> [UInt8] {
        var other = Digest(algorithm)
        _ = try readPart(into: &other)
        return other.finalize()
    }

    private func rehashExistingPart() throws(FileTransferError) {
        let total = try readPart(into: &digest)
        if let expectedSize, total > expectedSize {
            throw .sizeMismatch(expected: expectedSize, received: total)
        }
        received = total
        if lseek(fd, off_t(total), SEEK_SET) < 0 { throw Self.ioError("seek", partPath) }
    }

    /// Feeds the whole `.part` file, from its start, to `digest`; returns its length.
    private func readPart(into digest: inout Digest) throws(FileTransferError) -> UInt64 {
        let readFD = openat(directoryFD, partName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if readFD < 0 { throw Self.ioError("open", partPath) }
        defer { close(readFD) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var total: UInt64 = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw Self.ioError("read", partPath) }
            if n == 0 { break }
            buffer.withUnsafeBytes { digest.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            total += UInt64(n)
        }
        return total
    }

    static func ioError(_ operation: String, _ path: String) -> FileTransferError {
        let code = errno
        return .io(operation: operation, path: path, errno: code, message: String(cString: strerror(code)))
    }
}
