extension XMLElement {
    /// Serializes the element as XML text.
    ///
    /// Namespaces are written minimally: an element in the same namespace as its parent (or as
    /// `defaultNamespace`, the namespace in scope where the text will be placed) gets no `xmlns`;
    /// any other element declares its namespace as the default. Qualified attributes (other than
    /// `xml:`) get generated prefixes declared on their element. Characters that XML 1.0 cannot carry
    /// (C0 controls other than tab, newline and carriage return) are replaced by U+FFFD so the output is
    /// always well-formed.
    public func serialized(defaultNamespace: String = "") -> String {
        var out = XMLByteWriter()
        write(into: &out, inheritedNamespace: defaultNamespace)
        return out.makeString()
    }

    /// The UTF-8 bytes of `serialized(defaultNamespace:)`.
    public func serializedBytes(defaultNamespace: String = "") -> [UInt8] {
        var out = XMLByteWriter()
        write(into: &out, inheritedNamespace: defaultNamespace)
        return out.makeArray()
    }

    private func write(into out: inout XMLByteWriter, inheritedNamespace: String) {
        out.append(UInt8(ascii: "<"))
        out.append(string: name)
        // Lengths first: a child in another namespace than its parent (a Jingle description, transport or
        // extension) nearly always has a name of another length, and then no string comparison is needed.
        if namespace.utf8.count != inheritedNamespace.utf8.count || namespace != inheritedNamespace {
            out.append(" xmlns=\"")
            out.appendEscaped(namespace, attribute: true)
            out.append(UInt8(ascii: "\""))
        }
        if !attributes.isEmpty { writeAttributes(into: &out) }
        if children.isEmpty {
            out.append("/>")
            return
        }
        out.append(UInt8(ascii: ">"))
        // By index: the array's elements are read in place instead of being copied out one by one.
        for index in children.indices {
            switch children[index] {
            case .element(let element): element.write(into: &out, inheritedNamespace: namespace)
            case .text(let text): out.appendEscaped(text, attribute: false)
            }
        }
        out.append("</")
        out.append(string: name)
        out.append(UInt8(ascii: ">"))
    }

    private func writeAttributes(into out: inout XMLByteWriter) {
        var declared: [String] = []   // namespaces given generated prefixes ns1, ns2, ... on this element only
        // Fields are read in place (`attributes[index].name`): binding the whole attribute to a constant would
        // copy it, retaining its three strings.
        for index in attributes.indices {
            out.append(UInt8(ascii: " "))
            if attributes[index].namespace.isEmpty {
                // The common case: an unqualified attribute.
            } else if attributes[index].namespace == xmlNamespaceURI {
                out.append("xml:")
            } else {
                let number: Int
                if let known = declared.firstIndex(of: attributes[index].namespace) {
                    number = known + 1
                } else {
                    declared.append(attributes[index].namespace)
                    number = declared.count
                    out.append("xmlns:ns")
                    out.append(decimal: number)
                    out.append("=\"")
                    out.appendEscaped(attributes[index].namespace, attribute: true)
                    out.append("\" ")
                }
                out.append("ns")
                out.append(decimal: number)
                out.append(UInt8(ascii: ":"))
            }
            out.append(string: attributes[index].name)
            out.append("=\"")
            out.appendEscaped(attributes[index].value, attribute: true)
            out.append(UInt8(ascii: "\""))
        }
    }
}

/// The serializer's output: one growing byte buffer, written through a pointer. Appending a byte is a store and
/// a capacity check (no uniqueness check as for an Array), and a run of text that needs no escaping is copied in
/// one piece. The String is made once at the end.
struct XMLByteWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    /// Room for `extra` more bytes.
    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if capacity - count < extra { grow(to: count + extra) }
    }

    private mutating func grow(to needed: Int) {
        let newCapacity = Swift.max(needed, capacity * 2)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.initialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        (base + count).initialize(from: source, count: bytes.count)
        count += bytes.count
    }

    /// Markup.
    mutating func append(_ literal: StaticString) {
        append(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// The UTF-8 bytes of `text` unchanged (names).
    mutating func append(string text: String) {
        if text.utf8.withContiguousStorageIfAvailable({ append($0) }) != nil { return }
        var copy = text
        copy.withUTF8 { append($0) }
    }

    mutating func append(decimal value: Int) {
        if value >= 10 { append(decimal: value / 10) }
        append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    /// `text` escaped for character data (`attribute` false) or for a double-quoted attribute value.
    mutating func appendEscaped(_ text: String, attribute: Bool) {
        if text.utf8.withContiguousStorageIfAvailable({ appendEscaped($0, attribute: attribute) }) != nil { return }
        var copy = text
        copy.withUTF8 { appendEscaped($0, attribute: attribute) }
    }

    /// Copies runs that need no escaping in one piece. Besides the masked bytes, only 0xEF needs a look: it leads
    /// U+FFFE and U+FFFF, the only non-characters valid UTF-8 can hold (XML 1.0 §2.2 `Char`).
    private mutating func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, attribute: Bool) {
        guard let base = bytes.baseAddress else { return }
        // In text `&`, `<`, `>` (for `]]>`) and C0 controls other than tab and newline; in attribute values also
        // `"`, tab and newline (attribute-value normalisation would turn them into spaces, XML 1.0 §3.3.3).
        let special = attribute ? XMLWordScan.attributeSpecial : XMLWordScan.textSpecial
        let classes = XMLWordScan.asciiClasses.utf8Start
        let quote = attribute ? UInt8(ascii: "\"") : UInt8(ascii: ">")
        let count = bytes.count
        var runStart = 0, i = 0
        while i < count {
            i = XMLWordScan.skipPlainWords(base, from: i, end: count, UInt8(ascii: "&"), UInt8(ascii: "<"), UInt8(ascii: ">"), quote)
            let wordEnd = Swift.min(i + 8, count)
            while i < wordEnd {
                let b = base[i]
                if b < 128 ? classes[Int(b)] & special == 0 : b != 0xEF {
                    i += 1
                    continue
                }
                var skip = 1
                if b == 0xEF {
                    guard i + 2 < count, base[i + 1] == 0xBF, base[i + 2] == 0xBE || base[i + 2] == 0xBF else {
                        i += 1
                        continue
                    }
                    skip = 3
                }
                append(UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                switch b {
                case UInt8(ascii: "&"): append("&amp;")
                case UInt8(ascii: "<"): append("&lt;")
                case UInt8(ascii: ">"): append("&gt;")
                case UInt8(ascii: "\""): append("&quot;")
                case 0x09: append("&#9;")
                case 0x0A: append("&#10;")
                case 0x0D: append("&#13;")
                default: append("\u{FFFD}")   // another C0 control, or U+FFFE / U+FFFF
                }
                i += skip
                runStart = i
            }
        }
        append(UnsafeBufferPointer(rebasing: bytes[runStart..<count]))
    }

    consuming func makeString() -> String {
        let count = self.count, base = self.base
        return String(unsafeUninitializedCapacity: count) { target in
            guard let start = target.baseAddress else { return 0 }
            start.initialize(from: base, count: count)
            return count
        }
    }

    consuming func makeArray() -> [UInt8] {
        let count = self.count, base = self.base
        return [UInt8](unsafeUninitializedCapacity: count) { target, initialized in
            if let start = target.baseAddress { start.initialize(from: base, count: count) }
            initialized = count
        }
    }
}

/// Escaping rules for XML 1.0 text and attribute values.
public enum XMLEscaping {
    /// Appends `text` escaped for character data: `&`, `<`, `>` (the last for `]]>`), and `\r` (which a
    /// parser would otherwise normalise to `\n`).
    public static func appendText(_ text: String, to out: inout String) {
        if !text.unicodeScalars.contains(where: needsTextEscape) { out += text; return }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\r": out += "&#13;"
            default: appendScalar(scalar, to: &out)
            }
        }
    }

    /// Appends `value` escaped for a double-quoted attribute: also `"`, and tab/newline/CR as character
    /// references, since attribute-value normalisation would turn them into spaces.
    public static func appendAttribute(_ value: String, to out: inout String) {
        if !value.unicodeScalars.contains(where: needsAttributeEscape) { out += value; return }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t": out += "&#9;"
            case "\n": out += "&#10;"
            case "\r": out += "&#13;"
            default: appendScalar(scalar, to: &out)
            }
        }
    }

    /// Appends `text` escaped for character data, as bytes.
    public static func appendText(_ text: String, to out: inout [UInt8]) {
        var writer = XMLByteWriter(capacity: text.utf8.count + 16)
        writer.appendEscaped(text, attribute: false)
        out.append(contentsOf: writer.makeArray())
    }

    /// Appends `value` escaped for a double-quoted attribute, as bytes.
    public static func appendAttribute(_ value: String, to out: inout [UInt8]) {
        var writer = XMLByteWriter(capacity: value.utf8.count + 16)
        writer.appendEscaped(value, attribute: true)
        out.append(contentsOf: writer.makeArray())
    }

    /// Whether a scalar can appear in an XML 1.0 document at all (XML 1.0 §2.2 `Char`).
    public static func isXMLChar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
        default: false
        }
    }

    private static func appendScalar(_ scalar: Unicode.Scalar, to out: inout String) {
        out.unicodeScalars.append(isXMLChar(scalar) ? scalar : "\u{FFFD}")
    }

    private static func needsTextEscape(_ s: Unicode.Scalar) -> Bool {
        s == "&" || s == "<" || s == ">" || s == "\r" || !isXMLChar(s)
    }

    private static func needsAttributeEscape(_ s: Unicode.Scalar) -> Bool {
        s == "&" || s == "<" || s == ">" || s == "\"" || s == "\t" || s == "\n" || s == "\r" || !isXMLChar(s)
    }
}

extension XMLElement {
    /// Parses a complete document holding exactly one root element.
    public init(parsing text: String, limits: XMLStreamLimits = .default) throws(XMLStreamError) {
        var text = text
        let fast = text.withUTF8 { XMLFastDocumentParser.parse($0, limits: limits) }
        if let fast {
            self = fast
            return
        }
        try self.init(parsingWithLibXML2: Array(text.utf8), limits: limits)
    }

    /// Parses a complete document (bytes) holding exactly one root element.
    ///
    /// Plain documents (what this module's serializer writes) are read by a small byte-level parser; anything
    /// else, and every error, goes through libxml2, so the result and the errors are the same either way.
    public init(parsing bytes: [UInt8], limits: XMLStreamLimits = .default) throws(XMLStreamError) {
        if let fast = bytes.withUnsafeBufferPointer({ XMLFastDocumentParser.parse($0, limits: limits) }) {
            self = fast
            return
        }
        try self.init(parsingWithLibXML2: bytes, limits: limits)
    }

    /// Parses a complete document with libxml2 only (the reference the fast path is tested against).
    init(parsingWithLibXML2 bytes: [UInt8], limits: XMLStreamLimits = .default) throws(XMLStreamError) {
        let parser = XMLStreamParser(mode: .document, limits: limits)
        var events = try parser.feed(bytes)
        events += try parser.finish()
        guard events.count == 1, case .element(let root) = events[0] else { throw .notASingleElement }
        self = root
    }
}

extension XMLElement: CustomStringConvertible {
    public var description: String { serialized() }
}
