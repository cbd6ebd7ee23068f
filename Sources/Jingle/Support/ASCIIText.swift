/// Byte-level helpers for attribute values and SDP tokens.
///
/// Jingle attribute values and SDP tokens are ASCII in practice. Working on their UTF-8 bytes avoids Character
/// processing (grapheme breaking), intermediate strings and the generic integer parser and printer, which
/// dominated the cost of mapping and parsing. Every helper gives exactly the answer of the String API it stands
/// for: where bytes alone cannot tell (non-ASCII text, where Characters may combine), it falls back to that API.
package enum ASCIIText {
    /// `String(value)`: at most 20 digits, so values below 10^15 are small strings (no allocation).
    package static func decimal<T: BinaryInteger>(_ value: T) -> String {
        guard value >= 0, value.bitWidth <= 64 || value <= T(UInt64.max) else { return String(value) }
        return decimal(UInt64(truncatingIfNeeded: value))
    }

    // Concrete entry points for other modules: a generic function is not specialised across modules, and its
    // unspecialised form looks up type metadata on every call.
    package static func decimal(_ value: UInt8) -> String { decimal(UInt64(value)) }
    package static func decimal(_ value: UInt16) -> String { decimal(UInt64(value)) }
    package static func decimal(_ value: UInt32) -> String { decimal(UInt64(value)) }

    package static func decimal(_ v: UInt64) -> String {
        // Payload type ids, channels, components, generations, header extension ids: mostly below 256.
        if v < 256 { return byteDecimals[Int(v)] }
        return printDecimal(v)
    }

    /// The spellings of 0–255, made once: returning one is a copy of a small string (no allocation, no
    /// reference count), where printing it cost two passes over the digits and a string construction.
    private static let byteDecimals: [String] = (0..<256).map { printDecimal(UInt64($0)) }

    private static func printDecimal(_ v: UInt64) -> String {
        var count = 1
        var rest = v
        while rest >= 10 { rest /= 10; count += 1 }
        return String(unsafeUninitializedCapacity: count) { buffer in
            var rest = v
            var index = count
            repeat {
                index -= 1
                buffer[index] = UInt8(truncatingIfNeeded: rest % 10) &+ 0x30
                rest /= 10
            } while rest != 0
            return count
        }
    }

    /// `T(text)` (decimal, optional `+` or `-`, ASCII digits only, nil on overflow), read from the bytes.
    package static func integer(_ text: String, as type: UInt8.Type) -> UInt8? { parseInteger(text, as: type) }
    package static func integer(_ text: String, as type: UInt16.Type) -> UInt16? { parseInteger(text, as: type) }
    package static func integer(_ text: String, as type: UInt32.Type) -> UInt32? { parseInteger(text, as: type) }
    package static func integer(_ text: String, as type: UInt64.Type) -> UInt64? { parseInteger(text, as: type) }

    /// `T(text)`, generic (for this module, where it is specialised).
    static func parseInteger<T: FixedWidthInteger>(_ text: String, as type: T.Type = T.self) -> T? {
        if T.bitWidth > 64 { return T(text) }
        let parsed: T?? = text.utf8.withContiguousStorageIfAvailable { bytes -> T? in
            var index = 0
            var negative = false
            if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
                negative = first == UInt8(ascii: "-")
                index = 1
            }
            guard index < bytes.count else { return nil }
            var magnitude: UInt64 = 0
            while index < bytes.count {
                let digit = bytes[index] &- 0x30
                guard digit < 10 else { return nil }
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
                guard !o1 && !o2 else { return nil }
                magnitude = sum
                index += 1
            }
            if negative {
                if !T.isSigned { return magnitude == 0 ? 0 : nil }
                // The magnitude of T.min is one more than T.max.
                guard magnitude <= UInt64(T.max) + 1 else { return nil }
                return magnitude == UInt64(T.max) + 1 ? T.min : 0 - T(magnitude)
            }
            guard magnitude <= UInt64(T.max) else { return nil }
            return T(magnitude)
        }
        if let parsed { return parsed }
        return T(text)
    }

    /// `text == name` for a `name` of our own (an element or attribute name, a namespace, a keyword) that is
    /// ASCII without `K`, `;` or `` ` ``, with the cheap test first: most comparisons while looking up a name
    /// fail, and their lengths differ.
    ///
    /// `==` is canonical equivalence. Non-ASCII text is canonically equivalent to ASCII text only through the
    /// singleton decompositions to ASCII (U+212A KELVIN SIGN to `K`, U+037E GREEK QUESTION MARK to `;`, U+1FEF
    /// GREEK VARIA to `` ` ``); for names without those characters, equal means the same UTF-8 bytes, so text
    /// of another length is never equal.
    @inline(__always)
    package static func equals(_ text: String, _ name: String) -> Bool {
        assert(!name.utf8.contains { $0 >= 0x80 || $0 == 0x4B || $0 == 0x3B || $0 == 0x60 }, "not a plain ASCII name: \(name)")
        let count = name.utf8.count
        guard text.utf8.count == count else { return false }
        // Small strings (up to 15 bytes, held inline): `==` compares the representations first, which is cheapest.
        if count <= 15 { return text == name }
        return sameLongText(text, name)
    }

    /// `equals` for texts of the same length over 15 bytes: equal means the same bytes (see `equals`), compared
    /// eight at a time; `==` would call into the runtime's normalising comparison, several times the cost for
    /// namespace URIs. Out of line, so that the common test (lengths differ) stays small where it is inlined.
    @inline(never)
    static func sameLongText(_ text: String, _ name: String) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { a in
            name.utf8.withContiguousStorageIfAvailable { b in sameBytes(a, b) } ?? (text == name)
        } ?? (text == name)
    }

    /// True when two buffers of the same length hold the same bytes.
    @inline(__always)
    static func sameBytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        guard let pa = a.baseAddress, let pb = b.baseAddress else { return true }
        let count = a.count
        var offset = 0
        while offset + 8 <= count {
            let x = UnsafeRawPointer(pa).loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            let y = UnsafeRawPointer(pb).loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            if x != y { return false }
            offset += 8
        }
        while offset < count {
            if pa[offset] != pb[offset] { return false }
            offset += 1
        }
        return true
    }

    /// `T(rawValue: text)` for our string enums (lowercase ASCII raw values, see `equals`): the synthesised
    /// initialiser compares the text with each raw value through `==`; this compares lengths first and bytes
    /// only for a raw value of the same length.
    static func enumCase<T: RawRepresentable & CaseIterable>(_ text: String, as type: T.Type) -> T? where T.RawValue == String {
        for value in T.allCases where equals(text, value.rawValue) { return value }
        return nil
    }

    /// Runs `body` on the string's UTF-8 bytes in place. `withUTF8` needs a mutable copy of the string (a retain
    /// and a release per call); the UTF-8 view lends native and small strings' bytes without one, and only
    /// other (bridged) strings take the copying path.
    @inline(__always)
    static func withBytes<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
        var text = text
        return text.withUTF8(body)
    }

    /// True when every byte is ASCII (below 0x80).
    package static func isASCII(_ text: String) -> Bool {
        return withBytes(text) { bytes in
            for byte in bytes where byte >= 0x80 { return false }
            return true
        }
    }

    /// True when some byte satisfies `predicate`.
    @inline(__always)
    package static func containsByte(_ text: String, where predicate: (UInt8) -> Bool) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { bytes in
            for byte in bytes where predicate(byte) { return true }
            return false
        } ?? text.utf8.contains(where: predicate)
    }

    /// True when some byte is white space or a control character (at most 0x20, or DEL): not an SDP token.
    package static func containsSpaceOrControl(_ text: String) -> Bool {
        return withBytes(text) { bytes in
            guard let base = bytes.baseAddress else { return false }
            let raw = UnsafeRawPointer(base)
            var offset = 0
            // Eight bytes at a time (Bit Twiddling Hacks, "determine if a word has a byte less than n"): a byte
            // below 0x21, or a byte equal to 0x7F (a zero byte after XOR), sets its high bit in the test word.
            // The test never misses such a byte; a word that fails it is checked byte by byte below.
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            while offset + 8 <= bytes.count {
                let word = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                let delete = word ^ (ones &* 0x7F)
                let below = (word &- ones &* 0x21) & ~word & highs
                let deletes = (delete &- ones) & ~delete & highs
                if below | deletes != 0 { break }
                offset += 8
            }
            while offset < bytes.count {
                let byte = bytes[offset]
                if byte <= 0x20 || byte == 0x7F { return true }
                offset += 1
            }
            return false
        }
    }

    /// True when some byte is CR, LF or NUL: text that would break an SDP line.
    package static func containsLineBreakOrNUL(_ text: String) -> Bool {
        return withBytes(text) { bytes in
            for byte in bytes where byte == 0x0D || byte == 0x0A || byte == 0 { return true }
            return false
        }
    }

    /// True when `byte` occurs in `text`.
    package static func containsByte(_ text: String, _ byte: UInt8) -> Bool {
        return withBytes(text) { bytes in
            for candidate in bytes where candidate == byte { return true }
            return false
        }
    }

    /// `text.count` (Characters) compared with a small bound without counting Characters for ASCII text: an
    /// ASCII string without CR has one Character per byte (CR LF is a single Character).
    package static func characterCount(of text: String, isLessThan bound: Int) -> Bool {
        let bytes = text.utf8.count
        if bytes < bound { return true }
        if !containsByte(text, where: { $0 >= 0x80 || $0 == 0x0D }) { return false }
        return text.count < bound
    }

    /// `text.lowercased() == lowercase` for an ASCII lower-case literal.
    package static func equalsIgnoringCase(_ text: String, lowercase: String) -> Bool {
        // On the lent bytes (no zip of two UTF-8 views); nil when the text is not ASCII.
        let answer: Bool? = withBytes(text) { a in
            for byte in a where byte >= 0x80 { return nil }
            return withBytes(lowercase) { b in
                guard a.count == b.count else { return false }
                for index in a.indices where lower(a[index]) != b[index] { return false }
                return true
            }
        }
        return answer ?? (text.lowercased() == lowercase)
    }

    /// `a.lowercased() == b.lowercased()`.
    package static func equalIgnoringCase(_ a: String, _ b: String) -> Bool {
        guard isASCII(a) && isASCII(b) else { return a.lowercased() == b.lowercased() }
        guard a.utf8.count == b.utf8.count else { return false }
        for (x, y) in zip(a.utf8, b.utf8) where lower(x) != lower(y) { return false }
        return true
    }

    @inline(__always)
    package static func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }

    @inline(__always)
    package static func upper(_ byte: UInt8) -> UInt8 { byte >= 0x61 && byte <= 0x7A ? byte & ~0x20 : byte }
}
