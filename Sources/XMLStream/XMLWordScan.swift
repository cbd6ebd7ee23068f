/// Word-at-a-time scanning of UTF-8 text for the few bytes that need a closer look: text and attribute values
/// are mostly letters and digits, and testing eight of them at once with integer arithmetic costs about as much
/// as testing one byte by byte. Used by the fast document parser and by the serializer's escaping.
enum XMLWordScan {
    /// The class of each ASCII byte, as flags added to "@" (0x40, so the flags are the low five bits): one load
    /// decides, and a StaticString is constant data with nothing to initialise or retain.
    static let asciiClasses: StaticString =
        "XXXXXXXXXPPXXXXXXXXXXXXXXXXXXXXX@@P@@@X@@@@@@FFDFFFFFFFFFFD@X@X@DGGGGGGGGGGGGGGGGGGGGGGGGGG@@@@G@GGGGGGGGGGGGGGGGGGGGGGGGGG@@@D@"
    /// A name start (letters and `_`), XML Namespaces §3 `NCName` restricted to ASCII.
    static let nameStart: UInt8 = 1
    /// A name character: also digits, `-` and `.`.
    static let nameChar: UInt8 = 2
    /// A character of a plain URI path: letters, digits, `-`, `.`, `_`, `~`, `:`, `/`, `@`.
    static let uriPathChar: UInt8 = 4
    /// Escaped in text: `&`, `<`, `>` and C0 controls other than tab and newline.
    static let textSpecial: UInt8 = 8
    /// Escaped in a double-quoted attribute value: `&`, `<`, `>`, `"` and every C0 control.
    static let attributeSpecial: UInt8 = 16

    /// The flags of `b`; none for bytes from 0x80.
    @inline(__always)
    static func asciiClass(_ b: UInt8) -> UInt8 {
        b < 128 ? asciiClasses.utf8Start[Int(b)] & 0x1F : 0
    }

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The high bit of some byte is set if a byte of `word` is zero ("haszero": exact for the word as a whole).
    @inline(__always)
    private static func zeroBytes(_ word: UInt64) -> UInt64 {
        (word &- ones) & ~word & highs
    }

    /// The index of the first byte from `start` that is a C0 control, a byte from 0x80, or one of `a`, `b`, `c`,
    /// `d`, or `end` if there is none; when fewer than eight bytes are left of a string shorter than eight, the
    /// index where the caller must go on byte by byte. Bytes from the index returned are looked at one by one.
    ///
    /// In each flag word the lowest flagged byte is exact (a borrow only carries upwards, so a false flag sits
    /// above a true one), which gives the first byte to look at.
    @inline(__always)
    static func skipPlainWords(_ base: UnsafePointer<UInt8>, from start: Int, end: Int,
                               _ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> Int {
        let wa = ones &* UInt64(a), wb = ones &* UInt64(b), wc = ones &* UInt64(c), wd = ones &* UInt64(d)
        /// The high bit of each byte of the eight at `offset` that needs a look (byte 0 in the lowest bits).
        func flags(at offset: Int) -> UInt64 {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self))
            // Bytes below 0x20 ("hasless"), and bytes from 0x80.
            let unusual = ((word &- ones &* 0x20) & ~word & highs) | (word & highs)
            return unusual | zeroBytes(word ^ wa) | zeroBytes(word ^ wb) | zeroBytes(word ^ wc) | zeroBytes(word ^ wd)
        }
        var i = start
        while end - i >= 8 {
            let flagged = flags(at: i)
            if flagged != 0 { return i + flagged.trailingZeroBitCount / 8 }
            i += 8
        }
        if i < end && end - start >= 8 {
            // The last word, overlapping bytes already found plain: its first flagged byte is at or after `i`.
            let flagged = flags(at: end - 8)
            return flagged == 0 ? end : end - 8 + flagged.trailingZeroBitCount / 8
        }
        return i
    }
}
