/// A parser for the plain documents `XMLElement(parsing:)` nearly always gets: UTF-8 without a BOM, no XML
/// declaration, no DOCTYPE, comments, processing instructions or CDATA, ASCII names, no carriage returns and
/// no literal tab or newline inside attribute values (the cases where XML 1.0 §2.11 and §3.3.3 normalisation
/// would apply).
///
/// It either returns exactly the tree libxml2 builds for the same bytes, or nil: anything outside that subset,
/// and every error, is left to the libxml2 path, so errors and their messages do not depend on which parser
/// ran. The subset is what our own serializer writes, so a serialize-then-parse round trip never needs libxml2;
/// setting up a libxml2 push parser costs more than parsing a whole Jingle payload this way.
struct XMLFastDocumentParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let limits: XMLStreamLimits
    private var position = 0

    /// One open element: its tree so far, where its qualified name sits in the input (to match the end tag),
    /// and how many namespace bindings it pushed.
    private struct Open {
        var element: XMLElement
        var nameStart: Int
        var nameCount: Int
        var bindings: Int
    }

    /// A namespace binding in scope: the prefix's place in the input (count 0 for the default namespace).
    private struct Binding {
        var prefixStart: Int
        var prefixCount: Int
        var uri: String
    }

    private var stack: [Open] = []
    private var bindings: [Binding] = []
    /// Reused buffer for text and attribute values that hold references.
    private var scratch: [UInt8] = []
    /// Reused list of the attributes of the tag being read.
    private var raw: [RawAttribute] = []

    private init(bytes: UnsafeBufferPointer<UInt8>, limits: XMLStreamLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// The root element, or nil when the input is outside the subset (or not well-formed).
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, limits: XMLStreamLimits) -> XMLElement? {
        guard bytes.count <= limits.maxStanzaBytes, acceptsCharacters(bytes) else { return nil }
        var parser = XMLFastDocumentParser(bytes: bytes, limits: limits)
        return parser.document()
    }

    /// No C0 control other than tab and newline (so no CR to normalise and nothing XML 1.0 §2.2 forbids), and
    /// if anything is not ASCII: valid UTF-8 without U+FFFE or U+FFFF.
    private static func acceptsCharacters(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var ascii = true
        for b in bytes {
            if b < 0x20 {
                if b != 0x09 && b != 0x0A { return false }
            } else if b >= 0x80 {
                ascii = false
            }
        }
        if ascii { return true }
        guard String(validating: bytes, as: UTF8.self) != nil else { return false }
        var i = 0
        while i + 2 < bytes.count {
            if bytes[i] == 0xEF && bytes[i + 1] == 0xBF && (bytes[i + 2] == 0xBE || bytes[i + 2] == 0xBF) { return false }
            i += 1
        }
        return true
    }

    // MARK: document

    private mutating func document() -> XMLElement? {
        skipSpace()
        guard peek(0) == UInt8(ascii: "<") else { return nil }
        var root: XMLElement?
        while position < bytes.count {
            if stack.isEmpty {
                if root != nil { break }
                guard startTag(into: &root) else { return nil }
                continue
            }
            if bytes[position] == UInt8(ascii: "<") {
                if peek(1) == UInt8(ascii: "/") {
                    guard endTag(into: &root) else { return nil }
                } else {
                    guard startTag(into: &root) else { return nil }
                }
            } else {
                guard text() else { return nil }
            }
        }
        guard stack.isEmpty, let root else { return nil }
        skipSpace()
        return position == bytes.count ? root : nil
    }

    private func peek(_ offset: Int) -> UInt8? {
        position + offset < bytes.count ? bytes[position + offset] : nil
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x09 }

    private mutating func skipSpace() {
        while position < bytes.count && Self.isSpace(bytes[position]) { position += 1 }
    }

    private static func isNameStart(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || b == UInt8(ascii: "_")
    }

    private static func isNameChar(_ b: UInt8) -> Bool {
        isNameStart(b) || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
    }

    /// A qualified name of ASCII name characters (XML Namespaces §4 `QName`): returns where the prefix ends
    /// (the colon), or -1 without a prefix; nil if there is no valid name here.
    private mutating func qualifiedName() -> (start: Int, colon: Int)? {
        let start = position
        guard position < bytes.count, Self.isNameStart(bytes[position]) else { return nil }
        position += 1
        var colon = -1
        while position < bytes.count {
            let b = bytes[position]
            if Self.isNameChar(b) {
                position += 1
            } else if b == UInt8(ascii: ":") && colon < 0 {
                colon = position
                position += 1
                guard position < bytes.count, Self.isNameStart(bytes[position]) else { return nil }
            } else {
                break
            }
        }
        return (start, colon)
    }

    private func string(_ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    private func equalBytes(_ a: Int, _ b: Int, count: Int) -> Bool {
        var i = 0
        while i < count {
            if bytes[a + i] != bytes[b + i] { return false }
            i += 1
        }
        return true
    }

    private func isBytes(_ start: Int, _ count: Int, _ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        let l = literal.utf8Start
        for i in 0..<count where bytes[start + i] != l[i] { return false }
        return true
    }

    /// The namespace bound to a prefix (count 0: the default namespace, "" when none is declared).
    private func resolve(prefixStart: Int, count: Int) -> String? {
        var i = bindings.count - 1
        while i >= 0 {
            let binding = bindings[i]
            if binding.prefixCount == count && equalBytes(binding.prefixStart, prefixStart, count: count) { return binding.uri }
            i -= 1
        }
        if count == 0 { return "" }
        if isBytes(prefixStart, count, "xml") { return xmlNamespaceURI }
        return nil
    }

    /// A namespace name that is certainly a URI of RFC 3986: empty (undeclaring the default namespace), or
    /// `scheme ":" rest` with an ASCII scheme, an optional `//host[:port]` of letters, digits, `-` and `.`, and a
    /// path of unreserved characters, `:`, `/` and `@`, with at most one `#fragment` of the same. Anything else
    /// (queries, percent-escapes, IPv6 hosts, relative references) is left to libxml2's own URI parser.
    static func isPlainURI(_ uri: String) -> Bool {
        var uri = uri
        return uri.withUTF8 { isPlainURI(bytes: $0) }
    }

    private static func isPlainURI(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        if bytes.isEmpty { return true }
        func isAlpha(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) }
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        func isPathChar(_ b: UInt8) -> Bool {
            isAlpha(b) || isDigit(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_")
                || b == UInt8(ascii: "~") || b == UInt8(ascii: ":") || b == UInt8(ascii: "/") || b == UInt8(ascii: "@")
        }
        guard isAlpha(bytes[0]) else { return false }
        var i = 1
        while i < bytes.count && bytes[i] != UInt8(ascii: ":") {
            let b = bytes[i]
            guard isAlpha(b) || isDigit(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") else { return false }
            i += 1
        }
        guard i < bytes.count else { return false }
        i += 1
        if i + 1 < bytes.count && bytes[i] == UInt8(ascii: "/") && bytes[i + 1] == UInt8(ascii: "/") {
            i += 2
            let hostStart = i
            while i < bytes.count, isAlpha(bytes[i]) || isDigit(bytes[i]) || bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: ".") { i += 1 }
            guard i > hostStart else { return false }
            if i < bytes.count && bytes[i] == UInt8(ascii: ":") {
                i += 1
                let portStart = i
                while i < bytes.count && isDigit(bytes[i]) { i += 1 }
                guard i > portStart else { return false }
            }
            guard i == bytes.count || bytes[i] == UInt8(ascii: "/") else { return false }
        }
        var sawFragment = false
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "#") && !sawFragment {
                sawFragment = true
            } else if !isPathChar(b) {
                return false
            }
            i += 1
        }
        return true
    }

    // MARK: tags

    private struct RawAttribute {
        var start: Int
        var colon: Int
        var end: Int
        var value: String
    }

    private mutating func startTag(into root: inout XMLElement?) -> Bool {
        position += 1   // "<"
        guard let name = qualifiedName() else { return false }   // also rejects "<!" and "<?"
        let nameEnd = position
        raw.removeAll(keepingCapacity: true)
        var closed = false
        while true {
            let hadSpace = position < bytes.count && Self.isSpace(bytes[position])
            skipSpace()
            guard position < bytes.count else { return false }
            let b = bytes[position]
            if b == UInt8(ascii: ">") {
                position += 1
                break
            }
            if b == UInt8(ascii: "/") {
                guard peek(1) == UInt8(ascii: ">") else { return false }
                position += 2
                closed = true
                break
            }
            guard hadSpace, let attributeName = qualifiedName() else { return false }
            let attributeEnd = position
            skipSpace()
            guard peek(0) == UInt8(ascii: "=") else { return false }
            position += 1
            skipSpace()
            guard let value = attributeValue() else { return false }
            raw.append(RawAttribute(start: attributeName.start, colon: attributeName.colon, end: attributeEnd, value: value))
        }
        guard raw.count <= limits.maxAttributes, stack.count + 1 <= limits.maxDepth else { return false }

        // Namespace declarations first: they apply to the element's own name and attributes.
        let bindingsBefore = bindings.count
        var attributeCount = 0
        for a in raw {
            if a.colon < 0 && isBytes(a.start, a.end - a.start, "xmlns") {
                bindings.append(Binding(prefixStart: a.start, prefixCount: 0, uri: a.value))
            } else if a.colon >= 0 && isBytes(a.start, a.colon - a.start, "xmlns") {
                let prefixStart = a.colon + 1, prefixCount = a.end - prefixStart
                // Binding `xml` or `xmlns`, or unbinding a prefix (not allowed in XML 1.0): libxml2 decides.
                if a.value.isEmpty || isBytes(prefixStart, prefixCount, "xml") || isBytes(prefixStart, prefixCount, "xmlns") {
                    return false
                }
                bindings.append(Binding(prefixStart: prefixStart, prefixCount: prefixCount, uri: a.value))
            } else {
                attributeCount += 1
                continue
            }
            // The xml and xmlns namespace names cannot be bound to another prefix (XML Namespaces §3), and
            // libxml2 refuses a namespace name that is not a URI (RFC 3986): only plain ones are read here.
            if a.value == xmlNamespaceURI || a.value == "http://www.w3.org/2000/xmlns/" || !Self.isPlainURI(a.value) { return false }
        }
        // A prefix declared twice on one element is an error.
        if bindings.count - bindingsBefore > 1 {
            for i in bindingsBefore..<bindings.count {
                for j in (i + 1)..<bindings.count where bindings[i].prefixCount == bindings[j].prefixCount
                    && equalBytes(bindings[i].prefixStart, bindings[j].prefixStart, count: bindings[i].prefixCount) {
                    return false
                }
            }
        }

        let namespace: String
        if name.colon < 0 {
            guard let uri = resolve(prefixStart: name.start, count: 0) else { return false }
            namespace = uri
        } else {
            let count = name.colon - name.start
            guard !isBytes(name.start, count, "xml"), !isBytes(name.start, count, "xmlns"),
                  let uri = resolve(prefixStart: name.start, count: count) else { return false }
            namespace = uri
        }
        let localStart = name.colon < 0 ? name.start : name.colon + 1

        var attributes: [XMLAttribute] = []
        if attributeCount > 0 {
            attributes.reserveCapacity(attributeCount)
            for a in raw {
                let attributeNamespace: String
                if a.colon < 0 {
                    if isBytes(a.start, a.end - a.start, "xmlns") { continue }
                    attributeNamespace = ""
                } else {
                    let count = a.colon - a.start
                    if isBytes(a.start, count, "xmlns") { continue }
                    guard let uri = resolve(prefixStart: a.start, count: count) else { return false }
                    attributeNamespace = uri
                }
                let localName = string(a.colon < 0 ? a.start : a.colon + 1, a.end)
                for other in attributes where other.name == localName && other.namespace == attributeNamespace { return false }
                attributes.append(XMLAttribute(name: localName, namespace: attributeNamespace, value: a.value))
            }
        }
        let element = XMLElement(name: string(localStart, nameEnd), namespace: namespace, attributes: attributes, children: [])
        if closed {
            bindings.removeLast(bindings.count - bindingsBefore)
            attach(element, root: &root)
        } else {
            stack.append(Open(element: element, nameStart: name.start, nameCount: nameEnd - name.start,
                              bindings: bindings.count - bindingsBefore))
        }
        return true
    }

    private mutating func endTag(into root: inout XMLElement?) -> Bool {
        position += 2   // "</"
        guard let open = stack.popLast() else { return false }
        let start = position
        guard qualifiedName() != nil, position - start == open.nameCount,
              equalBytes(start, open.nameStart, count: open.nameCount) else { return false }
        skipSpace()
        guard peek(0) == UInt8(ascii: ">") else { return false }
        position += 1
        bindings.removeLast(open.bindings)
        attach(open.element, root: &root)
        return true
    }

    private mutating func attach(_ element: XMLElement, root: inout XMLElement?) {
        if stack.isEmpty {
            root = element
        } else {
            let parent = stack.count - 1
            if stack[parent].element.children.isEmpty { stack[parent].element.children.reserveCapacity(4) }
            stack[parent].element.children.append(.element(element))
        }
    }

    // MARK: character data

    /// A quoted attribute value with its references replaced; nil for `<`, a literal tab or newline (which
    /// attribute-value normalisation would turn into spaces), an unknown reference or a missing quote.
    private mutating func attributeValue() -> String? {
        guard let quote = peek(0), quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else { return nil }
        position += 1
        let start = position
        var hasReference = false
        while position < bytes.count {
            let b = bytes[position]
            if b == quote { break }
            if b == UInt8(ascii: "<") || b == 0x09 || b == 0x0A { return nil }
            if b == UInt8(ascii: "&") { hasReference = true }
            position += 1
        }
        guard position < bytes.count else { return nil }
        let end = position
        position += 1
        if !hasReference { return string(start, end) }
        scratch.removeAll(keepingCapacity: true)
        var i = start
        while i < end {
            if bytes[i] == UInt8(ascii: "&") {
                guard let next = reference(at: i, end: end) else { return nil }
                i = next
            } else {
                scratch.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: scratch, as: UTF8.self)
    }

    /// Character data up to the next `<`: appended to the open element as one text node, as the libxml2 path
    /// gathers it. `]]>` is not allowed in content (XML 1.0 §2.4).
    private mutating func text() -> Bool {
        let start = position
        var hasReference = false
        while position < bytes.count {
            let b = bytes[position]
            if b == UInt8(ascii: "<") { break }
            if b == UInt8(ascii: "&") { hasReference = true }
            if b == UInt8(ascii: ">") && position >= start + 2 && bytes[position - 1] == UInt8(ascii: "]")
                && bytes[position - 2] == UInt8(ascii: "]") { return false }
            position += 1
        }
        let end = position
        let value: String
        if !hasReference {
            value = string(start, end)
        } else {
            scratch.removeAll(keepingCapacity: true)
            var i = start
            while i < end {
                if bytes[i] == UInt8(ascii: "&") {
                    guard let next = reference(at: i, end: end) else { return false }
                    i = next
                } else {
                    scratch.append(bytes[i])
                    i += 1
                }
            }
            value = String(decoding: scratch, as: UTF8.self)
        }
        let last = stack.count - 1
        stack[last].element.children.append(.text(value))
        return true
    }

    /// Decodes the reference starting at `start` (`&`) into `scratch` and returns the index after its `;`. Only
    /// the five predefined entities and character references to XML `Char`s; anything else is left to libxml2.
    private mutating func reference(at start: Int, end: Int) -> Int? {
        var semicolon = start + 1
        while semicolon < end && bytes[semicolon] != UInt8(ascii: ";") {
            semicolon += 1
            if semicolon - start > 12 { return nil }
        }
        guard semicolon < end else { return nil }
        let nameStart = start + 1, count = semicolon - nameStart
        if isBytes(nameStart, count, "lt") { scratch.append(UInt8(ascii: "<")) }
        else if isBytes(nameStart, count, "gt") { scratch.append(UInt8(ascii: ">")) }
        else if isBytes(nameStart, count, "amp") { scratch.append(UInt8(ascii: "&")) }
        else if isBytes(nameStart, count, "quot") { scratch.append(UInt8(ascii: "\"")) }
        else if isBytes(nameStart, count, "apos") { scratch.append(UInt8(ascii: "'")) }
        else if count >= 2 && bytes[nameStart] == UInt8(ascii: "#") {
            var value: UInt32 = 0
            var i = nameStart + 1
            let hex = bytes[i] == UInt8(ascii: "x")
            if hex { i += 1 }
            guard i < semicolon else { return nil }
            while i < semicolon {
                let b = bytes[i]
                let digit: UInt32
                switch b {
                case 0x30...0x39: digit = UInt32(b - 0x30)
                case 0x61...0x66 where hex: digit = UInt32(b - 0x61 + 10)
                case 0x41...0x46 where hex: digit = UInt32(b - 0x41 + 10)
                default: return nil
                }
                value = value * (hex ? 16 : 10) + digit
                if value > 0x10FFFF { return nil }
                i += 1
            }
            guard let scalar = Unicode.Scalar(value), XMLEscaping.isXMLChar(scalar) else { return nil }
            scratch.append(contentsOf: String(scalar).utf8)
        } else {
            return nil
        }
        return semicolon + 1
    }
}
