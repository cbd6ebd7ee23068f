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
        var out = ""
        out.reserveCapacity(256)
        write(into: &out, inheritedNamespace: defaultNamespace)
        return out
    }

    /// The UTF-8 bytes of `serialized(defaultNamespace:)`.
    public func serializedBytes(defaultNamespace: String = "") -> [UInt8] {
        Array(serialized(defaultNamespace: defaultNamespace).utf8)
    }

    private func write(into out: inout String, inheritedNamespace: String) {
        out += "<"
        out += name
        if namespace != inheritedNamespace {
            out += " xmlns=\""
            XMLEscaping.appendAttribute(namespace, to: &out)
            out += "\""
        }
        var declared: [String: String] = [:]   // namespace -> generated prefix, for this element only
        for attribute in attributes {
            out += " "
            if attribute.namespace == xmlNamespaceURI {
                out += "xml:"
            } else if !attribute.namespace.isEmpty {
                let prefix: String
                if let existing = declared[attribute.namespace] {
                    prefix = existing
                } else {
                    prefix = "ns\(declared.count + 1)"
                    declared[attribute.namespace] = prefix
                    out += "xmlns:\(prefix)=\""
                    XMLEscaping.appendAttribute(attribute.namespace, to: &out)
                    out += "\" "
                }
                out += prefix + ":"
            }
            out += attribute.name
            out += "=\""
            XMLEscaping.appendAttribute(attribute.value, to: &out)
            out += "\""
        }
        if children.isEmpty {
            out += "/>"
            return
        }
        out += ">"
        for child in children {
            switch child {
            case .element(let element): element.write(into: &out, inheritedNamespace: namespace)
            case .text(let text): XMLEscaping.appendText(text, to: &out)
            }
        }
        out += "</"
        out += name
        out += ">"
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
        try self.init(parsing: Array(text.utf8), limits: limits)
    }

    /// Parses a complete document (bytes) holding exactly one root element.
    public init(parsing bytes: [UInt8], limits: XMLStreamLimits = .default) throws(XMLStreamError) {
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
