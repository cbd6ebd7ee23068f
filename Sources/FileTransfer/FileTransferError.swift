import Hashes

/// Everything that can go wrong while offering, receiving or verifying a file. Each case carries what a
/// person needs to act on it.
public enum FileTransferError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The offered name cannot be made safe (XEP-0234 §13).
    case invalidName(offered: String, reason: String)
    /// The offer is larger than the receiver allows (`--max-size`).
    case tooLarge(size: UInt64, limit: UInt64)
    /// The peer sent more bytes than it offered, or the stream ended before the offered size.
    case sizeMismatch(expected: UInt64, received: UInt64)
    /// The received bytes do not hash to the value the sender announced (XEP-0300).
    case hashMismatch(algorithm: HashAlgorithm, expected: [UInt8], actual: [UInt8])
    /// No hash the receiver can check was offered.
    case noUsableHash(offered: [String])
    /// The disk filled up; the bytes received so far are kept in `partPath` for a later resume.
    case diskFull(partPath: String, received: UInt64)
    /// The target directory does not exist or is not a directory.
    case notADirectory(String)
    /// No free alternative name was found for a file that exists already.
    case noFreeName(String)
    /// A system call failed.
    case io(operation: String, path: String, errno: Int32, message: String)
    /// A byte range outside the file was requested (XEP-0234 §5.2).
    case invalidRange(offset: UInt64, length: UInt64?, size: UInt64)

    public var description: String {
        switch self {
        case .invalidName(let offered, let reason): "refused file name \(String(reflecting: offered)): \(reason)"
        case .tooLarge(let size, let limit): "offered file is \(size) bytes, more than the limit of \(limit) bytes (--max-size)"
        case .sizeMismatch(let expected, let received): "expected \(expected) bytes, received \(received)"
        case .hashMismatch(let algorithm, let expected, let actual):
            "\(algorithm.rawValue) mismatch: expected \(expected.hexString), got \(actual.hexString); nothing was kept"
        case .noUsableHash(let offered): "no supported hash offered (got: \(offered.isEmpty ? "none" : offered.joined(separator: ", ")))"
        case .diskFull(let path, let received): "no space left on device: disk full after \(received) bytes; partial data kept in \(path) for --resume"
        case .notADirectory(let path): "\(path) is not a directory"
        case .noFreeName(let name): "\(name) and its numbered alternatives all exist"
        case .io(let operation, let path, _, let message): "\(operation) \(path): \(message)"
        case .invalidRange(let offset, let length, let size):
            "range offset \(offset)\(length.map { " length \($0)" } ?? "") lies outside a file of \(size) bytes"
        }
    }
}
