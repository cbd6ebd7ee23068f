// Small scanners shared by the parser. They work on Unicode scalars or bytes, never on Characters: a combining
// mark after a space or a colon would otherwise glue the separator into one grapheme and hide it.

/// Splits at the first occurrence of `separator`; nil when it does not occur.
func splitOnce(_ text: Substring, at separator: Unicode.Scalar) -> (Substring, Substring)? {
    let scalars = text.unicodeScalars
    guard let index = scalars.firstIndex(of: separator) else { return nil }
    return (Substring(scalars[..<index]), Substring(scalars[scalars.index(after: index)...]))
}

/// Splits on spaces, dropping empty pieces, so that doubled or trailing spaces some SIP devices write are
/// tolerated in typed values.
func spaceSeparated(_ text: Substring, maxSplits: Int = .max) -> [Substring] {
    text.unicodeScalars.split(separator: " ", maxSplits: maxSplits, omittingEmptySubsequences: true).map { Substring($0) }
}

/// Removes leading and trailing spaces and tabs.
func trimmed(_ text: Substring) -> Substring {
    let scalars = text.unicodeScalars
    guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }),
          let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" }) else { return Substring() }
    return Substring(scalars[first...last])
}

/// Parses `1*DIGIT` into an unsigned integer type; nil for anything else (signs, spaces, overflow).
/// Written by hand because `UInt16("+5")` succeeds and RFC 8866 grammars have no signs.
func parseUnsigned<T: FixedWidthInteger & UnsignedInteger>(_ text: Substring, as type: T.Type = T.self) -> T? {
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

/// True when every byte is a digit and there is at least one.
func isDigits(_ text: Substring) -> Bool {
    !text.isEmpty && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
}

/// RFC 8866 §9 `token-char`: printable ASCII except the separators space, `"`, `(`, `)`, `,`, `/`, `:`, `;`,
/// `<`, `=`, `>`, `?`, `@`, `[`, `\`, `]`, `{`, `}`.
func isToken(_ text: Substring) -> Bool {
    !text.isEmpty && text.utf8.allSatisfy { byte in
        switch byte {
        case 0x21, 0x23...0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x30...0x39, 0x41...0x5A, 0x5E...0x7E: return true
        default: return false
        }
    }
}

/// True when the text is non-empty and has no space, tab, CR, LF or NUL: a single field such as an address,
/// a foundation or a URI (RFC 8866 §9 `non-ws-string`, loosened to any non-blank Unicode).
func isField(_ text: Substring) -> Bool {
    !text.isEmpty && text.unicodeScalars.allSatisfy { $0 != " " && $0 != "\r" && $0 != "\n" && $0 != "\0" && $0 != "\t" }
}

/// True when the text can stand as the rest of a line: no CR, LF or NUL (RFC 8866 §9 `byte-string`).
func isLineText(_ text: Substring) -> Bool {
    text.unicodeScalars.allSatisfy { $0 != "\r" && $0 != "\n" && $0 != "\0" }
}
