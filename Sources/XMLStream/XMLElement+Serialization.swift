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
        String(decoding: serializedBytes(defaultNamespace: defaultNamespace), as: UTF8.self)
    }

    /// The UTF-8 bytes of `serialized(defaultNamespace:)`.
    ///
    /// Written into one byte buffer: appending bytes is a copy, where appending to a `String` re-checks its
    /// storage on every piece, and text that needs no escaping (nearly all of it) is copied in one go.
    public func serializedBytes(defaultNamespace: String = "") -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        write(into: &out, inheritedNamespace: defaultNamespace)
        return out
    }

    private func write(into out: inout [UInt8], inheritedNamespace: String) {
        out.append(UInt8(ascii: "<"))
        XMLEscaping.appendRaw(name, to: &out)
        if namespace != inheritedNamespace {
            XMLEscaping.appendRaw(" xmlns=\"", to: &out)
            XMLEscaping.appendAttribute(namespace, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        if !attributes.isEmpty { writeAttributes(into: &out) }
        if children.isEmpty {
            out.append(UInt8(ascii: "/"))
            out.append(UInt8(ascii: ">"))
            return
        }
        out.append(UInt8(ascii: ">"))
        for child in children {
            switch child {
            case .element(let element): element.write(into: &out, inheritedNamespace: namespace)
            case .text(let text): XMLEscaping.appendText(text, to: &out)
            }
        }
        out.append(UInt8(ascii: "<"))
        out.append(UInt8(ascii: "/"))
        XMLEscaping.appendRaw(name, to: &out)
        out.append(UInt8(ascii: ">"))
    }

    private func writeAttributes(into out: inout [UInt8]) {
        var declared: [(namespace: String, prefix: String)] = []   // generated prefixes, for this element only
        for attribute in attributes {
            out.append(UInt8(ascii: " "))
            if attribute.namespace.isEmpty {
                // The common case: an unqualified attribute.
            } else if attribute.namespace == xmlNamespaceURI {
                XMLEscaping.appendRaw("xml:", to: &out)
            } else {
                let prefix: String
                if let existing = declared.first(where: { $0.namespace == attribute.namespace }) {
                    prefix = existing.prefix
                } else {
                    prefix = "ns\(declared.count + 1)"
                    declared.append((attribute.namespace, prefix))
                    XMLEscaping.appendRaw("xmlns:\(prefix)=\"", to: &out)
                    XMLEscaping.appendAttribute(attribute.namespace, to: &out)
                    XMLEscaping.appendRaw("\" ", to: &out)
                }
                XMLEscaping.appendRaw(prefix, to: &out)
                out.append(UInt8(ascii: ":"))
            }
            XMLEscaping.appendRaw(attribute.name, to: &out)
            out.append(UInt8(ascii: "="))
            out.append(UInt8(ascii: "\""))
            XMLEscaping.appendAttribute(attribute.value, to: &out)
            out.append(UInt8(ascii: "\""))
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
        if appendVerbatim(text, attribute: false, to: &out) { return }
        var escaped = ""
        appendText(text, to: &escaped)
        appendRaw(escaped, to: &out)
    }

    /// Appends `value` escaped for a double-quoted attribute, as bytes.
    public static func appendAttribute(_ value: String, to out: inout [UInt8]) {
        if appendVerbatim(value, attribute: true, to: &out) { return }
        var escaped = ""
        appendAttribute(value, to: &escaped)
        appendRaw(escaped, to: &out)
    }

    /// Appends the UTF-8 bytes of `text` unchanged (names, markup).
    @inline(__always)
    static func appendRaw(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { out.append(contentsOf: $0) }
    }

    /// Copies `text` in one piece when no byte needs escaping, and says whether it did. Bytes that may need
    /// work: the markup characters, C0 controls (tab and newline are fine in text), and 0xEF, the lead byte of
    /// the non-characters U+FFFE and U+FFFF; everything else in valid UTF-8 is an XML `Char` (surrogates cannot
    /// occur in a Swift string).
    private static func appendVerbatim(_ text: String, attribute: Bool, to out: inout [UInt8]) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            for b in bytes {
                switch b {
                case UInt8(ascii: "&"), UInt8(ascii: "<"), UInt8(ascii: ">"), 0xEF: return false
                case UInt8(ascii: "\""): if attribute { return false }
                case 0x09, 0x0A: if attribute { return false }
                case 0x00..<0x20: return false
                default: break
                }
            }
            out.append(contentsOf: bytes)
            return true
        }
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
