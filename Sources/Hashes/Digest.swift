internal import COpenSSL

/// Hash functions used across the engine: XEP-0300 file hashes, SCRAM (RFC 5802/7677), XEP-0115
/// verification strings, XEP-0114 handshakes and DTLS fingerprints. A thin layer over OpenSSL's EVP API.
public enum HashAlgorithm: String, Sendable, CaseIterable, Hashable {
    case sha1 = "sha-1"
    case sha256 = "sha-256"
    case sha384 = "sha-384"
    case sha512 = "sha-512"

    /// The name registered in the IANA "Hash Function Textual Names" registry (used by XEP-0300 and
    /// SDP `a=fingerprint`).
    public var textualName: String { rawValue }

    /// Parses an IANA textual name, case-insensitively (`SHA-256` and `sha-256` are the same).
    public init?(textualName: String) {
        self.init(rawValue: textualName.lowercased())
    }

    /// Digest length in bytes.
    public var digestLength: Int {
        switch self {
        case .sha1: 20
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }

    var evp: OpaquePointer? {
        switch self {
        case .sha1: EVP_sha1()
        case .sha256: EVP_sha256()
        case .sha384: EVP_sha384()
        case .sha512: EVP_sha512()
        }
    }
}

/// An incremental hash: feed it data as it is read, then take the digest.
public struct Digest: ~Copyable {
    public let algorithm: HashAlgorithm
    private let context: OpaquePointer

    public init(_ algorithm: HashAlgorithm) {
        self.algorithm = algorithm
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, algorithm.evp, nil) == 1 else {
            preconditionFailure("OpenSSL could not initialise \(algorithm.rawValue)")
        }
        self.context = context
    }

    private init(algorithm: HashAlgorithm, context: OpaquePointer) {
        self.algorithm = algorithm
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    /// An independent copy of the hash state, e.g. to read the digest so far and keep hashing.
    public borrowing func copy() -> Digest {
        guard let copy = EVP_MD_CTX_new(), EVP_MD_CTX_copy_ex(copy, context) == 1 else {
            preconditionFailure("OpenSSL could not copy a digest context")
        }
        return Digest(algorithm: algorithm, context: copy)
    }

    /// Adds bytes to the hash.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        _ = EVP_DigestUpdate(context, base, bytes.count)
    }

    /// Adds bytes to the hash.
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if done == nil { Array(bytes).withUnsafeBytes { update($0) } }
    }

    /// Returns the digest and ends the hash.
    public consuming func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = EVP_DigestFinal_ex(context, &out, &length)
        return Array(out.prefix(Int(length)))
    }

    /// One-shot hash of `bytes`.
    public static func hash<Bytes: Sequence>(_ algorithm: HashAlgorithm, _ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var digest = Digest(algorithm)
        digest.update(bytes)
        return digest.finalize()
    }
}

/// HMAC (RFC 2104) and PBKDF2 (RFC 8018), as SCRAM needs them.
public enum KeyedHash {
    public static func hmac(_ algorithm: HashAlgorithm, key: [UInt8], data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = key.withUnsafeBufferPointer { k in
            data.withUnsafeBufferPointer { d in
                HMAC(algorithm.evp, k.baseAddress, Int32(k.count), d.baseAddress, d.count, &out, &length)
            }
        }
        return Array(out.prefix(Int(length)))
    }

    public static func pbkdf2(_ algorithm: HashAlgorithm, password: [UInt8], salt: [UInt8], iterations: Int, length: Int? = nil) -> [UInt8] {
        let length = length ?? algorithm.digestLength
        var out = [UInt8](repeating: 0, count: length)
        let rc = password.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { pc in
                PKCS5_PBKDF2_HMAC(pc.baseAddress, Int32(pc.count), salt, Int32(salt.count), Int32(iterations), algorithm.evp, Int32(length), &out)
            }
        }
        precondition(rc == 1, "PBKDF2 failed")
        return out
    }
}

/// Cryptographically secure random bytes from OpenSSL's DRBG.
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return out }
        precondition(RAND_bytes(&out, Int32(count)) == 1, "OpenSSL RAND_bytes failed")
        return out
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hexadecimal.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
