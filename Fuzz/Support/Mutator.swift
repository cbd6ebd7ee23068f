/// A small, fast, seedable PRNG (SplitMix64, Steele et al. 2014), so a fuzz run is reproducible from its seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Turns one input into a nearby one, the way coverage-guided fuzzers do (bit flips, truncation, splicing,
/// interesting values, dictionary tokens), but driven only by a seeded PRNG.
public struct Mutator: Sendable {
    public var rng: SplitMix64
    public let dictionary: [[UInt8]]
    public let maxLength: Int

    /// Values at integer and length boundaries, as bytes and as decimal text (for text protocols).
    static let interestingBytes: [[UInt8]] = [
        [0x00], [0x01], [0x7F], [0x80], [0xFF], [0x00, 0x00], [0xFF, 0xFF], [0x7F, 0xFF], [0x80, 0x00],
        [0x00, 0x00, 0x00, 0x00], [0xFF, 0xFF, 0xFF, 0xFF], [0x7F, 0xFF, 0xFF, 0xFF], [0x80, 0x00, 0x00, 0x00],
        [0xC0], [0xE0, 0x80], [0xF0, 0x90, 0x80], [0xED, 0xA0, 0x80], [0xEF, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80],
    ]
    static let interestingText: [String] = [
        "0", "-1", "-0", "1", "255", "256", "65535", "65536", "2147483647", "2147483648", "4294967295",
        "4294967296", "18446744073709551615", "18446744073709551616", "99999999999999999999999999", "1e9", "0x10",
        " ", "\t", "\r\n", "\n", "\r", "\0", "", "/", ":", "@", ";", "=", "&", "<", ">", "\"", "'",
    ]

    public init(seed: UInt64, dictionary: [[UInt8]], maxLength: Int) {
        rng = SplitMix64(seed: seed)
        self.dictionary = dictionary
        self.maxLength = maxLength
    }

    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(rng.next() % UInt64(n)) }

    /// One to four stacked mutations of `input`; `other` is a second corpus entry for splicing.
    public mutating func mutate(_ input: [UInt8], other: [UInt8]) -> [UInt8] {
        var data = input
        for _ in 0...below(4) { mutateOnce(&data, other: other) }
        if data.count > maxLength { data.removeLast(data.count - maxLength) }
        return data
    }

    private mutating func mutateOnce(_ data: inout [UInt8], other: [UInt8]) {
        let position = below(data.count + 1)
        switch below(13) {
        case 0:  // flip one bit
            if !data.isEmpty { data[below(data.count)] ^= UInt8(1) << UInt8(below(8)) }
        case 1:  // set a random byte
            if !data.isEmpty { data[below(data.count)] = UInt8(truncatingIfNeeded: rng.next()) }
        case 2:  // insert random bytes
            let n = 1 + below(8)
            data.insert(contentsOf: (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: position)
        case 3:  // delete a range
            if !data.isEmpty {
                let start = below(data.count)
                data.removeSubrange(start..<min(data.count, start + 1 + below(16)))
            }
        case 4:  // duplicate a range somewhere else
            if !data.isEmpty {
                let start = below(data.count)
                let chunk = Array(data[start..<min(data.count, start + 1 + below(64))])
                data.insert(contentsOf: chunk, at: below(data.count + 1))
            }
        case 5:  // truncate
            data.removeLast(data.count - position)
        case 6:  // splice: our prefix, the other input's suffix
            if !other.isEmpty { data = Array(data[..<position]) + other[below(other.count)...] }
        case 7:  // insert an interesting binary value
            data.insert(contentsOf: Self.interestingBytes[below(Self.interestingBytes.count)], at: position)
        case 8:  // overwrite with an interesting binary value
            let value = Self.interestingBytes[below(Self.interestingBytes.count)]
            if data.count >= value.count {
                let start = below(data.count - value.count + 1)
                data.replaceSubrange(start..<start + value.count, with: value)
            }
        case 9:  // insert interesting text
            data.insert(contentsOf: Array(Self.interestingText[below(Self.interestingText.count)].utf8), at: position)
        case 10, 11:  // insert a dictionary token
            if !dictionary.isEmpty { data.insert(contentsOf: dictionary[below(dictionary.count)], at: position) }
        default:  // replace a run of ASCII digits by an interesting number
            if let start = data.indices.dropFirst(below(data.count)).first(where: { (0x30...0x39).contains(data[$0]) }) {
                var end = start
                while end < data.count, (0x30...0x39).contains(data[end]) { end += 1 }
                data.replaceSubrange(start..<end, with: Array(Self.interestingText[below(17)].utf8))
            }
        }
    }
}
