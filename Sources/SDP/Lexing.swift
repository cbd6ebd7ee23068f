// Small scanners shared by the parser. They work on the UTF-8 bytes of the input, never on Characters: a
// combining mark after a space or a colon would otherwise glue the separator into one grapheme and hide it.
// Every separator of the SDP grammars is ASCII, and a UTF-8 continuation byte never equals an ASCII byte, so
// cutting at separator bytes always leaves whole scalars on both sides.

/// A run of the input's UTF-8 bytes. The parser holds the whole input in one contiguous buffer for the length
/// of a parse (`String.withUTF8`), so a field is a pointer and a count: cutting one costs no reference count,
/// no index translation and no allocation.
typealias Bytes = UnsafeBufferPointer<UInt8>

extension UnsafeBufferPointer<UInt8> {
    /// The bytes as a String, made once for the model. The input was valid UTF-8 and is only ever cut at
    /// ASCII bytes, so decoding replaces nothing; for ASCII it is a copy (15 bytes or fewer: no allocation).
    @inline(__always)
    var string: String {
        // Up to 15 bytes fit in a String's inline storage; when they are ASCII (checked by the initializer)
        // the bytes are only copied, without the validation pass `String(decoding:)` makes first.
        if count <= 15, let source = baseAddress {
            return String(unsafeUninitializedCapacity: count) { target in
                guard let target = target.baseAddress else { return 0 }
                target.initialize(from: source, count: count)
                return count
            }
        }
        return String(decoding: self, as: UTF8.self)
    }

    /// The bytes as text for an error message.
    var text: Substring { Substring(string) }

    /// The bytes from `start` up to `end`. Callers keep `0 <= start <= end <= count`; the standard library
    /// checks the slice bounds.
    @inline(__always)
    func cut(_ start: Int, _ end: Int) -> Bytes { Bytes(rebasing: self[start..<end]) }

    /// The bytes after the first `count`.
    @inline(__always)
    func dropping(_ count: Int) -> Bytes { cut(Swift.min(count, self.count), self.count) }

    /// True when the bytes spell `literal` exactly (an ASCII keyword or attribute name).
    @inline(__always)
    func equals(_ literal: StaticString) -> Bool {
        let length = literal.utf8CodeUnitCount
        guard count == length else { return false }
        let expected = literal.utf8Start
        for index in 0..<length where self[index] != expected[index] { return false }
        return true
    }

    /// Splits at the first `separator` byte; nil when it does not occur.
    @inline(__always)
    func splitOnce(at separator: UInt8) -> (Bytes, Bytes)? {
        guard let index = firstIndex(of: separator, from: 0) else { return nil }
        return (cut(0, index), cut(index + 1, count))
    }

    /// The index of the first `target` byte at or after `start`, looking at eight bytes at a time: after
    /// `word ^ pattern` a matching byte is zero, and `(x - 0x0101…) & ~x & 0x8080…` flags zero bytes. A flag can
    /// be false only above a true zero byte (a borrow), so the lowest flag always marks the first match.
    @inline(__always)
    func firstIndex(of target: UInt8, from start: Int) -> Int? {
        var index = start
        let end = count
        if let base = baseAddress {
            let pattern = UInt64(target) &* 0x0101_0101_0101_0101
            while end - index >= 8 {
                let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)) ^ pattern
                let found = (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
                if found != 0 { return index + found.trailingZeroBitCount / 8 }
                index += 8
            }
        }
        while index < end {
            if self[index] == target { return index }
            index += 1
        }
        return nil
    }

    /// Without leading and trailing spaces and tabs.
    var trimmed: Bytes {
        var start = 0
        var end = count
        while start < end, self[start] == 0x20 || self[start] == 0x09 { start += 1 }
        while end > start, self[end - 1] == 0x20 || self[end - 1] == 0x09 { end -= 1 }
        return start == 0 && end == count ? self : cut(start, end)
    }

    /// True when every byte is a digit and there is at least one.
    var isDigits: Bool { !isEmpty && allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }

    /// RFC 8866 §9 `token`: one or more `token-char`s.
    var isToken: Bool { !isEmpty && allSatisfy(isTokenByte) }

    /// True when non-empty with no space, tab, CR, LF or NUL: a single field such as an address, a foundation
    /// or a URI (RFC 8866 §9 `non-ws-string`, loosened to any non-blank Unicode).
    var isField: Bool { !isEmpty && allSatisfy { $0 != 0x20 && $0 != 0x0D && $0 != 0x0A && $0 != 0x00 && $0 != 0x09 } }

    /// True when the bytes can stand as the rest of a line: no CR, LF or NUL (RFC 8866 §9 `byte-string`).
    var isLineText: Bool { allSatisfy { $0 != 0x0D && $0 != 0x0A && $0 != 0x00 } }
}

/// Runs `body` on the contiguous UTF-8 bytes of `text` (made contiguous first if it is not native) with a
/// ``ValueReader`` whose field list lives on the stack for the call, keeping the typed error that
/// `String.withUTF8`, which only rethrows, would widen to `any Error`.
func withUTF8<T>(of text: String, _ body: (Bytes, inout ValueReader) throws(SDPError) -> T) throws(SDPError) -> T {
    var text = text
    let result = text.withUTF8 { bytes -> Result<T, SDPError> in
        withUnsafeTemporaryAllocation(of: Bytes.self, capacity: Fields.inlineCapacity) { scratch in
            var reader = ValueReader(fields: Fields(scratch: scratch))
            do throws(SDPError) {
                return .success(try body(bytes, &reader))
            } catch {
                return .failure(error)
            }
        }
    }
    return try result.get()
}

/// The high bit of each byte of `word` that is zero, and no other bit: `(x & 0x7F) + 0x7F` sets a byte's high
/// bit exactly when its low seven bits are not all zero, never carrying into the next byte, and `| x` adds the
/// bytes whose own high bit is set. Words are loaded little-endian, so the lowest set bit is the first byte.
@inline(__always)
func zeroBytes(_ word: UInt64) -> UInt64 {
    let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
    return ~(((word & low7) &+ low7) | word | low7)
}

/// RFC 8866 §9 `token-char`: printable ASCII except the separators space, `"`, `(`, `)`, `,`, `/`, `:`, `;`, `<`,
/// `=`, `>`, `?`, `@`, `[`, `\`, `]`, `{`, `}`. One bit per ASCII byte in two words, so the test is a shift.
@inline(__always)
func isTokenByte(_ byte: UInt8) -> Bool {
    let low: UInt64 = 0x03FF_6CFA_0000_0000   // 0x00-0x3F: ! # $ % & ' * + - . 0-9
    let high: UInt64 = 0x7FFF_FFFF_C7FF_FFFE  // 0x40-0x7F: A-Z ^ _ ` a-z { | } ~
    switch byte {
    case 0..<64: return (low >> byte) & 1 != 0
    case 64..<128: return (high >> (byte - 64)) & 1 != 0
    default: return false
    }
}

/// The space-separated fields of a value, found without making a String or an array per line: the parser
/// keeps one `Fields` for a whole description and refills it for each value. The first 32 pieces go to scratch
/// memory on the stack (no allocation, no uniqueness check per piece); a value with more spills into an array.
///
/// Doubled or trailing spaces, which some SIP devices write, are tolerated: empty pieces are dropped. After
/// `maxSplits` pieces the rest is one piece, kept as written. This is exactly what
/// `split(separator: " ", maxSplits:, omittingEmptySubsequences: true)` gives.
struct Fields {
    static let inlineCapacity = 32
    /// Room for the first pieces, provided by the caller for the length of a parse (see ``withUTF8(of:_:)``).
    private let inline: UnsafeMutableBufferPointer<Bytes>
    private var overflow: [Bytes] = []
    private(set) var count = 0

    init(scratch: UnsafeMutableBufferPointer<Bytes>) {
        inline = scratch
    }


    /// The piece at `index`; callers check ``count`` first.
    subscript(index: Int) -> Bytes {
        precondition(index < count, "field index out of range")
        return index < inline.count ? inline[index] : overflow[index - inline.count]
    }

    @inline(__always)
    private mutating func add(_ piece: Bytes) {
        if count < inline.count {
            inline.initializeElement(at: count, to: piece)
        } else {
            if count == inline.count { overflow.removeAll(keepingCapacity: true) }
            overflow.append(piece)
        }
        count += 1
    }

    /// Refills the pieces from `text`; returns their number.
    ///
    /// Spaces are found eight bytes at a time: every set bit of ``zeroBytes(_:)`` of `word ^ 0x2020…` is a
    /// space, in order.
    @discardableResult
    mutating func split(_ text: Bytes, maxSplits: Int = .max) -> Int {
        count = 0
        var pieceStart = 0
        let end = text.count
        /// Handles the space at `space`; false once `maxSplits` pieces are made.
        func space(at space: Int) -> Bool {
            let appended = pieceStart != space
            if appended { add(text.cut(pieceStart, space)) }
            pieceStart = space + 1
            return !(appended && count == maxSplits)
        }
        scan: if maxSplits > 0 {
            var index = 0
            if let base = text.baseAddress {
                while end - index >= 8 {
                    let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
                    var spaces = zeroBytes(word ^ 0x2020_2020_2020_2020)
                    while spaces != 0 {
                        guard space(at: index + spaces.trailingZeroBitCount / 8) else { break scan }
                        spaces &= spaces &- 1
                    }
                    index += 8
                }
            }
            while index < end {
                if text[index] == 0x20, !space(at: index) { break scan }
                index += 1
            }
        }
        if pieceStart != end { add(text.cut(pieceStart, end)) }
        return count
    }

    /// The pieces from `start` on, each as a String.
    func strings(from start: Int) -> [String] {
        guard start < count else { return [] }
        var result: [String] = []
        result.reserveCapacity(count - start)
        for index in start..<count { result.append(self[index].string) }
        return result
    }
}

/// Parses `1*DIGIT` into an unsigned integer type; nil for anything else (signs, spaces, overflow).
/// Written by hand because `UInt16("+5")` succeeds and RFC 8866 grammars have no signs.
func parseUnsigned<T: FixedWidthInteger & UnsignedInteger>(_ text: Substring, as type: T.Type = T.self) -> T? {
    if let result = text.utf8.withContiguousStorageIfAvailable({ (bytes) -> T? in parseUnsigned(bytes: bytes) }) { return result }
    return parseUnsigned(bytes: Array(text.utf8))
}

func parseUnsigned<T: FixedWidthInteger & UnsignedInteger>(bytes: some Collection<UInt8>) -> T? {
    var value: T = 0
    for byte in bytes {
        guard byte >= 0x30, byte <= 0x39 else { return nil }
        let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
        let (sum, overflow2) = times10.addingReportingOverflow(T(byte - 0x30))
        if overflow1 || overflow2 { return nil }
        value = sum
    }
    return bytes.isEmpty ? nil : value
}

/// Parses digits into `T`, telling apart "not a number", "negative" and "too large".
func unsigned<T: FixedWidthInteger & UnsignedInteger>(_ text: Bytes, _ type: T.Type, field: String, line: Int,
                                                      kind: SDPError.Kind = .malformedValue) throws(SDPError) -> T {
    if let value: T = parseUnsigned(bytes: text) { return value }
    if text.first == UInt8(ascii: "-"), text.dropping(1).isDigits {
        throw SDPError(.valueOutOfRange, line: line, "\(field) cannot be negative, got \(quoted(text))")
    }
    if text.isDigits {
        throw SDPError(.valueOutOfRange, line: line, "\(field) must be at most \(T.max), got \(quoted(text))")
    }
    throw SDPError(kind, line: line, "\(field) must be a decimal number, got \(quoted(text))")
}

/// A short quotation of offending text for error messages.
func quoted(_ text: Bytes) -> String { quoted(text.text) }

/// A short quotation of offending text for error messages.
func quoted(_ text: Substring) -> String {
    let limit = 60
    let scalars = text.unicodeScalars
    if scalars.count <= limit { return "'\(text)'" }
    return "'\(String(String.UnicodeScalarView(scalars.prefix(limit))))…'"
}
