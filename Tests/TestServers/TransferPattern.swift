/// A deterministic byte stream for transfer tests and benchmarks: SplitMix64 of the 8-byte-word index, so
/// any slice can be produced or checked alone, and a second process (the benchmark's peer mode) produces
/// exactly what the test expects.
public enum Pattern {
    public static func word(_ index: UInt64, seed: UInt64) -> UInt64 {
        var z = index &* 0x9E37_79B9_7F4A_7C15 &+ seed
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` bytes of the stream starting at `offset` (a multiple of 8).
    public static func bytes(offset: Int, count: Int, seed: UInt64) -> [UInt8] {
        precondition(offset % 8 == 0)
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            var i = 0
            while i + 8 <= count {
                raw.storeBytes(of: word(UInt64((offset + i) / 8), seed: seed).littleEndian, toByteOffset: i, as: UInt64.self)
                i += 8
            }
            if i < count {
                let last = word(UInt64((offset + i) / 8), seed: seed).littleEndian
                withUnsafeBytes(of: last) { for j in 0..<(count - i) { raw[i + j] = $0[j] } }
            }
            initialized = count
        }
    }
}
