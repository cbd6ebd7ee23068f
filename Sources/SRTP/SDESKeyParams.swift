/// The `inline:` key parameters of an SDES `a=crypto` attribute (RFC 4568 §6.1):
///
/// ```
/// key-params = "inline:" key-salt ["|" lifetime] ["|" mki ":" mki-length]
/// key-salt   = base64(master key || master salt)
/// lifetime   = ["2^"] 1*DIGIT          ; packets
/// mki        = 1*DIGIT, mki-length = 1*3DIGIT (1..128 bytes)
/// ```
///
/// Formatting reproduces what was parsed (a `2^20` lifetime stays `2^20`).
public struct SDESKeyParams: Sendable, Hashable, CustomStringConvertible {
    public enum Lifetime: Sendable, Hashable {
        /// Written as a decimal packet count.
        case packets(UInt64)
        /// Written as `2^n`.
        case powerOfTwo(Int)

        /// The number of packets, when it fits 64 bits.
        public var packetCount: UInt64? {
            switch self {
            case .packets(let count): count
            case .powerOfTwo(let exponent): exponent < 64 ? UInt64(1) << UInt64(exponent) : nil
            }
        }
    }

    /// Master Key Identifier (RFC 3711 §3.1): its value and the number of bytes it takes in each packet.
    public struct MKI: Sendable, Hashable {
        public var value: UInt64
        public var length: Int

        public init(value: UInt64, length: Int) {
            self.value = value
            self.length = length
        }
    }

    public var key: [UInt8]
    public var salt: [UInt8]
    public var lifetime: Lifetime?
    public var mki: MKI?

    public init(key: [UInt8], salt: [UInt8], lifetime: Lifetime? = nil, mki: MKI? = nil) {
        self.key = key
        self.salt = salt
        self.lifetime = lifetime
        self.mki = mki
    }

    /// Parses `inline:…` for `profile`, which fixes how the decoded bytes split into key and salt.
    public init(parsing text: String, profile: SRTPProfile) throws {
        let prefix = "inline:"
        guard text.hasPrefix(prefix) else { throw SRTPError.invalidKeyParams("key method is not 'inline:'") }
        let fields = text.dropFirst(prefix.count).split(separator: "|", omittingEmptySubsequences: false)
        guard (1...3).contains(fields.count) else { throw SRTPError.invalidKeyParams("too many '|' fields") }
        guard let material = Base64.decode(fields[0]) else {
            throw SRTPError.invalidKeyParams("key-salt is not base64")
        }
        let expected = profile.keyLength + profile.saltLength
        guard material.count == expected else {
            throw SRTPError.invalidKeyParams("key-salt has \(material.count) bytes, \(profile.sdesName) needs \(expected)")
        }
        var lifetime: Lifetime?
        var mki: MKI?
        for field in fields.dropFirst() {
            if field.contains(":") {
                guard mki == nil else { throw SRTPError.invalidKeyParams("two MKI fields") }
                mki = try Self.parseMKI(field)
            } else {
                // RFC 4568 §6.1: the lifetime, when present, comes before the MKI.
                guard lifetime == nil, mki == nil else { throw SRTPError.invalidKeyParams("lifetime out of place") }
                lifetime = try Self.parseLifetime(field)
            }
        }
        self.init(
            key: Array(material[0..<profile.keyLength]), salt: Array(material[profile.keyLength...]),
            lifetime: lifetime, mki: mki)
    }

    /// `inline:<base64>[|lifetime][|mki:length]`.
    public var formatted: String {
        var text = "inline:" + Base64.encode(key + salt)
        switch lifetime {
        case .packets(let count): text += "|\(count)"
        case .powerOfTwo(let exponent): text += "|2^\(exponent)"
        case nil: break
        }
        if let mki { text += "|\(mki.value):\(mki.length)" }
        return text
    }

    public var description: String { formatted }

    private static func parseLifetime(_ field: Substring) throws -> Lifetime {
        if field.hasPrefix("2^") {
            guard let exponent = decimal(field.dropFirst(2)), exponent <= 255 else {
                throw SRTPError.invalidKeyParams("lifetime '\(field)'")
            }
            return .powerOfTwo(Int(exponent))
        }
        guard let count = decimal(field) else { throw SRTPError.invalidKeyParams("lifetime '\(field)'") }
        return .packets(count)
    }

    private static func parseMKI(_ field: Substring) throws -> MKI {
        let parts = field.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let value = decimal(parts[0]), let length = decimal(parts[1]), (1...128).contains(length)
        else { throw SRTPError.invalidKeyParams("MKI '\(field)'") }
        // The value must fit the declared length (RFC 4568 §6.1).
        if length < 8, value >> (8 * length) != 0 {
            throw SRTPError.invalidKeyParams("MKI value \(value) does not fit \(length) bytes")
        }
        return MKI(value: value, length: Int(length))
    }

    /// 1*DIGIT that fits 64 bits.
    private static func decimal(_ text: Substring) -> UInt64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return UInt64(text)
    }
}

/// Standard base64 (RFC 4648 §4), as RFC 4568 §6.1 uses for key-salt. Decoding accepts missing padding.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let b0 = bytes[index]
            let b1 = index + 1 < bytes.count ? bytes[index + 1] : 0
            let b2 = index + 2 < bytes.count ? bytes[index + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(index + 1 < bytes.count ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(index + 2 < bytes.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: Substring) -> [UInt8]? {
        var digits = Array(text.utf8)
        while digits.last == UInt8(ascii: "=") { digits.removeLast() }
        guard digits.count % 4 != 1, text.utf8.count - digits.count <= 2 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for digit in digits {
            guard let value = sextet(digit) else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }

    private static func sextet(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
