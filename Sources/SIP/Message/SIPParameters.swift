/// One `;name[=value]` parameter of a SIP URI or header (RFC 3261 §19.1.1, §25.1 `generic-param`).
public struct SIPParameter: Sendable, Hashable {
    public var name: String
    /// `nil` for a parameter without `=value` (e.g. `;lr`, `;rport`).
    public var value: String?

    public init(_ name: String, _ value: String? = nil) {
        self.name = name
        self.value = value
    }
}

/// An ordered list of parameters with case-insensitive name lookup (RFC 3261 §7.3.1: parameter names
/// are case-insensitive). Order is kept so that serialisation reproduces what was received.
public struct SIPParameters: Sendable, Hashable, ExpressibleByArrayLiteral, Sequence {
    public private(set) var items: [SIPParameter]

    public init(_ items: [SIPParameter] = []) { self.items = items }
    public init(arrayLiteral elements: SIPParameter...) { self.items = elements }

    public func makeIterator() -> IndexingIterator<[SIPParameter]> { items.makeIterator() }
    public var isEmpty: Bool { items.isEmpty }

    /// Whether a parameter of this name is present (with or without a value).
    public func contains(_ name: String) -> Bool {
        items.contains { $0.name.caseInsensitiveEquals(name) }
    }

    /// The value of the first parameter of this name; `nil` if absent or valueless.
    public subscript(_ name: String) -> String? {
        items.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    /// Replaces every parameter of this name with one (appended at the position of the first one).
    public mutating func set(_ name: String, _ value: String?) {
        if let index = items.firstIndex(where: { $0.name.caseInsensitiveEquals(name) }) {
            items[index] = SIPParameter(name, value)
            items = items.enumerated().filter { $0.offset == index || !$0.element.name.caseInsensitiveEquals(name) }.map(\.element)
        } else {
            items.append(SIPParameter(name, value))
        }
    }

    public mutating func remove(_ name: String) {
        items.removeAll { $0.name.caseInsensitiveEquals(name) }
    }

    /// `;a=b;c` form.
    var serialized: String {
        var out = ""
        for item in items {
            out += ";" + item.name
            if let value = item.value { out += "=" + value }
        }
        return out
    }

    /// Parses `;a=b;c=d` (the leading `;` optional), tolerating LWS around `;` and `=` (RFC 3261 §25.1
    /// SEMI and EQUAL allow SWS). Quoted values keep their quotes.
    static func parse(_ text: Substring) throws(SIPParseError) -> SIPParameters {
        var result: [SIPParameter] = []
        for piece in text.splitOutsideQuotes(separator: ";") {
            let trimmed = piece.trimmingLWS()
            if trimmed.isEmpty { continue }
            if let eq = trimmed.firstIndex(of: "=") {
                let name = trimmed[..<eq].trimmingLWS()
                let value = trimmed[trimmed.index(after: eq)...].trimmingLWS()
                guard !name.isEmpty, name.allSatisfy(\.isSIPTokenCharacter) else {
                    throw SIPParseError(.invalidParameter, reason: "Bad parameter '\(trimmed)'")
                }
                result.append(SIPParameter(String(name), String(value)))
            } else {
                guard trimmed.allSatisfy(\.isSIPTokenCharacter) else {
                    throw SIPParseError(.invalidParameter, reason: "Bad parameter '\(trimmed)'")
                }
                result.append(SIPParameter(String(trimmed), nil))
            }
        }
        return SIPParameters(result)
    }
}

extension StringProtocol {
    func caseInsensitiveEquals(_ other: some StringProtocol) -> Bool {
        lowercased() == other.lowercased()
    }

    /// Strips SP / HTAB / CR / LF on both ends (RFC 3261 §25.1 LWS after unfolding).
    func trimmingLWS() -> Substring {
        let isLWS: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        var sub = self[...]
        while let first = sub.first, isLWS(first) { sub = sub.dropFirst() }
        while let last = sub.last, isLWS(last) { sub = sub.dropLast() }
        return Substring(sub)
    }

    /// Splits on `separator` outside double-quoted strings (with `\` escapes) and outside `<...>`,
    /// as SIP list headers and parameter lists need (RFC 3261 §7.3.1: commas inside quotes or an
    /// angle-bracketed URI do not separate values).
    func splitOutsideQuotes(separator: Character) -> [Substring] {
        var parts: [Substring] = []
        var inQuotes = false
        var escaped = false
        var angle = 0
        var start = startIndex
        var index = startIndex
        while index < endIndex {
            let ch = self[index]
            if escaped {
                escaped = false
            } else if inQuotes {
                if ch == "\\" { escaped = true } else if ch == "\"" { inQuotes = false }
            } else if ch == "\"" {
                inQuotes = true
            } else if ch == "<" {
                angle += 1
            } else if ch == ">" {
                angle = Swift.max(0, angle - 1)
            } else if ch == separator && angle == 0 {
                parts.append(Substring(self[start..<index]))
                start = self.index(after: index)
            }
            index = self.index(after: index)
        }
        parts.append(Substring(self[start..<endIndex]))
        return parts
    }
}

extension Character {
    /// RFC 3261 §25.1 `token` characters.
    var isSIPTokenCharacter: Bool {
        guard let ascii = asciiValue else { return false }
        if (0x30...0x39).contains(ascii) || (0x41...0x5A).contains(ascii) || (0x61...0x7A).contains(ascii) { return true }
        return "-.!%*_+`'~".contains(self)
    }
}

/// `"..."` with `\` escapes removed, or the text as is when not quoted (RFC 3261 §25.1 quoted-string).
func unquoted(_ text: some StringProtocol) -> String {
    let trimmed = text.trimmingLWS()
    guard trimmed.count >= 2, trimmed.first == "\"", trimmed.last == "\"" else { return String(trimmed) }
    var out = ""
    var escaped = false
    for ch in trimmed.dropFirst().dropLast() {
        if escaped { out.append(ch); escaped = false } else if ch == "\\" { escaped = true } else { out.append(ch) }
    }
    return out
}

/// Quotes a string for a quoted-string production, escaping `"` and `\`.
func quoted(_ text: String) -> String {
    var out = "\""
    for ch in text {
        if ch == "\"" || ch == "\\" { out.append("\\") }
        out.append(ch)
    }
    return out + "\""
}
