/// Word-at-a-time scanning of UTF-8 text for the few bytes that need a closer look: text and attribute values
/// are mostly letters and digits, and testing eight of them at once with integer arithmetic costs about as much
/// as testing one byte by byte. Used by the fast document parser and by the serializer's escaping.
enum XMLWordScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The high bit of some byte is set if a byte of `word` is zero ("haszero": exact for the word as a whole).
    @inline(__always)
    private static func zeroBytes(_ word: UInt64) -> UInt64 {
        (word &- ones) & ~word & highs
    }

    /// The first index from `start` where the eight bytes starting there hold a C0 control, a byte from 0x80, or
    /// one of `a`, `b`, `c`, `d`; or the last place where fewer than eight bytes remain before `end`; or `end` when
    /// those last bytes are plain too (tested as the word ending at `end`, overlapping bytes already tested). The
    /// caller looks at the bytes from the index returned one by one.
    @inline(__always)
    static func skipPlainWords(_ base: UnsafePointer<UInt8>, from start: Int, end: Int,
                               _ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> Int {
        let wa = ones &* UInt64(a), wb = ones &* UInt64(b), wc = ones &* UInt64(c), wd = ones &* UInt64(d)
        func isPlain(_ word: UInt64) -> Bool {
            // Bytes below 0x20 ("hasless"), and bytes from 0x80.
            let unusual = ((word &- ones &* 0x20) & ~word & highs) | (word & highs)
            return unusual | zeroBytes(word ^ wa) | zeroBytes(word ^ wb) | zeroBytes(word ^ wc) | zeroBytes(word ^ wd) == 0
        }
        var i = start
        while end - i >= 8 {
            guard isPlain(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) else { return i }
            i += 8
        }
        if i < end && end - start >= 8 && isPlain(UnsafeRawPointer(base + end - 8).loadUnaligned(as: UInt64.self)) { return end }
        return i
    }
}
