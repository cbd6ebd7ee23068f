public import Hashes

/// A certificate fingerprint as signalled out of band: SDP `a=fingerprint` (RFC 8122 §5) and the
/// `<fingerprint hash='sha-256'>` element of XEP-0320.
///
/// The value is upper-case hexadecimal pairs joined by colons (`AB:CD:…`); parsing accepts either case.
public struct DTLSFingerprint: Sendable, Hashable, CustomStringConvertible {
    /// The hash function's textual name from the IANA registry, lower-cased (`sha-256`).
    public let algorithm: String
    /// The digest.
    public let bytes: [UInt8]

    /// Parses `value` (`AB:CD:…`, case-insensitive) for the hash function named `algorithm`.
    /// A known algorithm must come with a digest of its length.
    public init(algorithm: String, value: String) throws {
        let name = algorithm.lowercased()
        guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenByte) else {
            throw DTLSError.invalidFingerprint("hash function name '\(algorithm)' is not a token")
        }
        var bytes: [UInt8] = []
        for pair in value.split(separator: ":", omittingEmptySubsequences: false) {
            let digits = Array(pair.utf8)
            guard digits.count == 2, let high = Self.hexValue(digits[0]), let low = Self.hexValue(digits[1]) else {
                throw DTLSError.invalidFingerprint("'\(value)' is not colon-separated hexadecimal pairs")
            }
            bytes.append(high << 4 | low)
        }
        if let known = HashAlgorithm(textualName: name), known.digestLength != bytes.count {
            throw DTLSError.invalidFingerprint("\(name) digest has \(known.digestLength) bytes, got \(bytes.count)")
        }
        self.algorithm = name
        self.bytes = bytes
    }

    /// Parses the SDP attribute value form, `sha-256 AB:CD:…` (RFC 8122 §5: hash-func SP fingerprint).
    public init(attributeValue: String) throws {
        let parts = attributeValue.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else {
            throw DTLSError.invalidFingerprint("expected 'hash-func fingerprint', got '\(attributeValue)'")
        }
        try self.init(algorithm: String(parts[0]), value: String(parts[1]))
    }

    /// A fingerprint from a digest computed with `algorithm`.
    public init(algorithm: HashAlgorithm, bytes: [UInt8]) {
        self.algorithm = algorithm.textualName
        self.bytes = bytes
    }

    /// Upper-case hexadecimal pairs joined by colons, as RFC 8122 §5 writes them.
    public var value: String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3)
        for (index, byte) in bytes.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ":")) }
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `sha-256 AB:CD:…`, the SDP attribute value.
    public var attributeValue: String { "\(algorithm) \(value)" }

    public var description: String { attributeValue }

    /// The hash function, when it is one this build can compute.
    public var hashAlgorithm: HashAlgorithm? { HashAlgorithm(textualName: algorithm) }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// RFC 8122 §5: hash-func is a token (RFC 4566 token characters).
    private static func isTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "!#$%&'*+-.^_`{|}~".utf8.contains(c)
        }
    }
}
