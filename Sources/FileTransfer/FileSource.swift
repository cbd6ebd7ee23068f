#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Hashes

/// What XEP-0234 §3 says about a file in an offer.
public struct FileDescription: Sendable, Hashable {
    public var name: String
    public var size: UInt64
    /// Last modification, seconds since 1970 (XEP-0082 date-time on the wire).
    public var modified: Double?
    public var mediaType: String?
    public var desc: String?
    public var hashes: [HashAlgorithm: [UInt8]]

    public init(name: String, size: UInt64, modified: Double? = nil, mediaType: String? = nil, desc: String? = nil, hashes: [HashAlgorithm: [UInt8]] = [:]) {
        self.name = name
        self.size = size
        self.modified = modified
        self.mediaType = mediaType
        self.desc = desc
        self.hashes = hashes
    }
}

/// Reads a file to send, hashing while reading (so a file is read once when its hash goes in a
/// `checksum` at the end), optionally from a byte range (XEP-0234 §7, resume).
public final class FileSource {
    public let path: String
    public let size: UInt64
    public let modified: Double
    /// First byte and number of bytes this source delivers.
    public let offset: UInt64
    public let length: UInt64
    public private(set) var delivered: UInt64 = 0

    private var fd: Int32
    private var digest: Digest

    /// Opens `path` for reading bytes `offset ..< offset + length` (all of it by default).
    public init(path: String, offset: UInt64 = 0, length: UInt64? = nil, algorithm: HashAlgorithm = .sha256) throws(FileTransferError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw FileSink.ioError("open", path) }
        var info = stat()
        if fstat(fd, &info) != 0 { let e = FileSink.ioError("stat", path); close(fd); throw e }
        if (info.st_mode & S_IFMT) != S_IFREG {
            close(fd)
            throw .io(operation: "open", path: path, errno: EINVAL, message: "not a regular file")
        }
        let size = UInt64(info.st_size)
        if offset > size || (length.map { offset + $0 > size } ?? false) {
            close(fd)
            throw .invalidRange(offset: offset, length: length, size: size)
        }
        if offset > 0 && lseek(fd, off_t(offset), SEEK_SET) < 0 { let e = FileSink.ioError("seek", path); close(fd); throw e }
        self.fd = fd
        self.path = path
        self.size = size
        self.modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        self.offset = offset
        self.length = length ?? (size - offset)
        self.digest = Digest(algorithm)
        // Fadvise sequential access: the kernel reads ahead further.
        _ = posix_fadvise(fd, off_t(offset), off_t(self.length), Int32(POSIX_FADV_SEQUENTIAL))
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Reads up to `buffer.count` bytes into `buffer`; returns 0 at the end of the range.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(FileTransferError) -> Int {
        let wanted = Int(min(UInt64(buffer.count), length - delivered))
        if wanted == 0 { return 0 }
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, wanted)
            if n < 0 { if errno == EINTR { continue }; throw FileSink.ioError("read", path) }
            if n == 0 { throw .sizeMismatch(expected: length, received: delivered) }   // file shrank under us
            digest.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            delivered += UInt64(n)
            return n
        }
    }

    /// Reads the next chunk of at most `max` bytes; empty at the end.
    public func read(max: Int = 1 << 16) throws(FileTransferError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: max)
        let n = try out.withUnsafeMutableBytes { buffer -> Result<Int, FileTransferError> in
            do throws(FileTransferError) { return .success(try read(into: buffer)) } catch { return .failure(error) }
        }.get()
        out.removeLast(max - n)
        return out
    }

    /// The hash of the bytes delivered so far (of the whole range once `delivered == length`).
    public var digestOfDelivered: [UInt8] { digest.copy().finalize() }

    /// Hashes a whole file (for offers that carry the hash up front).
    public static func hash(path: String, algorithm: HashAlgorithm = .sha256) throws(FileTransferError) -> [UInt8] {
        let source = try FileSource(path: path, algorithm: algorithm)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 17, alignment: 16)
        defer { buffer.deallocate() }
        while try source.read(into: buffer) > 0 {}
        return source.digestOfDelivered
    }

    /// The XEP-0234 description of a file: its base name, size, modification time and (optionally) hash.
    public static func describe(path: String, withHash: Bool, mediaType: String? = nil, desc: String? = nil) throws(FileTransferError) -> FileDescription {
        let source = try FileSource(path: path)
        let name = path.split(separator: "/").last.map(String.init) ?? path
        var description = FileDescription(name: name, size: source.size, modified: source.modified, mediaType: mediaType, desc: desc)
        if withHash { description.hashes[.sha256] = try hash(path: path) }
        return description
    }
}
