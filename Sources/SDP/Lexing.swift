// Small scanners shared by the parser. They work on Unicode scalars or bytes, never on Characters: a combining
// mark after a space or a colon would otherwise glue the separator into one grapheme and hide it.

/// Splits at the first occurrence of `separator`; nil when it does not occur. ASCII separators are found on
/// the UTF-8 bytes (a continuation byte never equals an ASCII byte, so this is the same as scanning scalars).
func splitOnce(_ text: Substring, at separator: Unicode.Scalar) -> (Substring, Substring)? {
    guard separator.isASCII else {
        let scalars = text.unicodeScalars
        guard let index = scalars.firstIndex(of: separator) else { return nil }
        return (Substring(scalars[..<index]), Substring(scalars[scalars.index(after: index)...]))
    }
    let byte = UInt8(separator.value)
    let utf8 = text.utf8
    let offset: Int?? = utf8.withContiguousStorageIfAvailable { $0.firstIndex(of: byte) }
    let index: Substring.UTF8View.Index
    if let offset {
        guard let offset else { return nil }
        index = utf8.index(utf8.startIndex, offsetBy: offset)
    } else {
        guard let found = utf8.firstIndex(of: byte) else { return nil }
        index = found
    }
    return (Substring(utf8[..<index]), Substring(utf8[utf8.index(after: index)...]))
}

/// Splits on spaces, dropping empty pieces, so that doubled or trailing spaces some SIP devices write are
/// tolerated in typed values. Works on the UTF-8 bytes and gives exactly what
/// `split(separator: " ", maxSplits:, omittingEmptySubsequences: true)` gives: after `maxSplits` pieces the
/// rest is one piece, kept as written.
func spaceSeparated(_ text: Substring, maxSplits: Int = .max) -> [Substring] {
    let utf8 = text.utf8
    // Offsets found on the contiguous bytes; the pieces are then cut with O(1) index arithmetic.
    let fast: [Substring]? = utf8.withContiguousStorageIfAvailable { bytes in
        var parts: [Substring] = []
        parts.reserveCapacity(8)
        func piece(_ start: Int, _ end: Int) -> Substring {
            let from = utf8.index(utf8.startIndex, offsetBy: start)
            return Substring(utf8[from..<utf8.index(from, offsetBy: end - start)])
        }
        var pieceStart = 0
        var index = 0
        let end = bytes.count
        if maxSplits > 0 {
            while index != end {
                if bytes[index] == 0x20 {
                    let appended = pieceStart != index
                    if appended { parts.append(piece(pieceStart, index)) }
                    index += 1
                    pieceStart = index
                    if appended && parts.count == maxSplits { break }
                    continue
                }
                index += 1
            }
        }
        if pieceStart != end { parts.append(piece(pieceStart, end)) }
        return parts
    }
    if let fast { return fast }
    var parts: [Substring] = []
    parts.reserveCapacity(8)
    var pieceStart = utf8.startIndex
    var index = pieceStart
    let end = utf8.endIndex
    if maxSplits > 0 {
        while index != end {
            if utf8[index] == 0x20 {
                let appended = pieceStart != index
                if appended { parts.append(Substring(utf8[pieceStart..<index])) }
                utf8.formIndex(after: &index)
                pieceStart = index
                if appended && parts.count == maxSplits { break }
                continue
            }
            utf8.formIndex(after: &index)
        }
    }
    if pieceStart != end { parts.append(Substring(utf8[pieceStart..<end])) }
    return parts
}

/// Removes leading and trailing spaces and tabs.
func trimmed(_ text: Substring) -> Substring {
    let utf8 = text.utf8
    guard let first = utf8.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }),
          let last = utf8.lastIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return Substring() }
    if first == utf8.startIndex && last == utf8.index(before: utf8.endIndex) { return text }
    return Substring(utf8[first...last])
}

/// Parses `1*DIGIT` into an unsigned integer type; nil for anything else (signs, spaces, overflow).
/// Written by hand because `UInt16("+5")` succeeds and RFC 8866 grammars have no signs.
func parseUnsigned<T: FixedWidthInteger & UnsignedInteger>(_ text: Substring, as type: T.Type = T.self) -> T? {
    if let result = text.utf8.withContiguousStorageIfAvailable({ (bytes) -> T? in parseUnsigned(bytes: bytes) }) { return result }
    var value: T = 0
    var sawDigit = false
    for byte in text.utf8 {
        guard byte >= 0x30, byte <= 0x39 else { return nil }
        sawDigit = true
        let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
        let (sum, overflow2) = times10.addingReportingOverflow(T(byte - 0x30))
        if overflow1 || overflow2 { return nil }
        value = sum
    }
    return sawDigit ? value : nil
}

func parseUnsigned<T: FixedWidthInteger & UnsignedInteger>(bytes: UnsafeBufferPointer<UInt8>) -> T? {
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

/// True when every byte is a digit and there is at least one.
func isDigits(_ text: Substring) -> Bool {
    allBytes(text) { $0 >= 0x30 && $0 <= 0x39 } && !text.utf8.isEmpty
}

/// `predicate` holds for every UTF-8 byte; run on the contiguous bytes when the text has them (it always does
/// for text the parser cut from a native string), which is several times faster than the generic view.
@inline(__always)
func allBytes(_ text: Substring, _ predicate: (UInt8) -> Bool) -> Bool {
    if let result = text.utf8.withContiguousStorageIfAvailable({ $0.allSatisfy(predicate) }) { return result }
    return text.utf8.allSatisfy(predicate)
}

/// RFC 8866 §9 `token-char`: printable ASCII except the separators space, `"`, `(`, `)`, `,`, `/`, `:`, `;`,
/// `<`, `=`, `>`, `?`, `@`, `[`, `\`, `]`, `{`, `}`.
func isToken(_ text: Substring) -> Bool {
    !text.utf8.isEmpty && allBytes(text) { byte in
        switch byte {
        case 0x21, 0x23...0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x30...0x39, 0x41...0x5A, 0x5E...0x7E: return true
        default: return false
        }
    }
}

/// True when the text is non-empty and has no space, tab, CR, LF or NUL: a single field such as an address,
/// a foundation or a URI (RFC 8866 §9 `non-ws-string`, loosened to any non-blank Unicode).
func isField(_ text: Substring) -> Bool {
    !text.utf8.isEmpty && allBytes(text) { $0 != 0x20 && $0 != 0x0D && $0 != 0x0A && $0 != 0x00 && $0 != 0x09 }
}

/// True when the text can stand as the rest of a line: no CR, LF or NUL (RFC 8866 §9 `byte-string`).
func isLineText(_ text: Substring) -> Bool {
    allBytes(text) { $0 != 0x0D && $0 != 0x0A && $0 != 0x00 }
}
