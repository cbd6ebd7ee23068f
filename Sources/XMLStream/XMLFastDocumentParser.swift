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

    /// A namespace binding in scope: the prefix's place in the input (count 0 for the default namespace) and
    /// the namespace it names (see `namespaceString`).
    private struct Binding {
        var prefixStart: Int
        var prefixCount: Int
        var namespace: Int
    }

    /// Namespace numbers that are not in `namespaces`: no namespace, and the one `xml` is bound to.
    private static let noNamespace = -1
    private static let xmlNamespace = -2

    /// A namespace name read in this document, made into a String once: every element in its scope, and every
    /// later declaration of the same name, shares that String instead of allocating its own copy (namespace
    /// names are longer than a small string holds).
    private struct Namespace {
        /// The name's bytes in the input (it outlives the parse), so that finding a name again compares bytes
        /// without a copy of them; nil for a name written with references, whose String's bytes are compared.
        var bytes: UnsafePointer<UInt8>?
        var count: Int
        var uri: String
    }

    private var stack: [Open] = []
    private var bindings: [Binding] = []
    private var namespaces: [Namespace] = []
    /// Reused buffer for text and attribute values that hold references.
    private var scratch: [UInt8] = []
    /// Reused list of the attributes of the tag being read; only the first `rawCount` are current.
    private var raw: [RawAttribute] = []
    private var rawCount = 0

    private init(bytes: UnsafeBufferPointer<UInt8>, limits: XMLStreamLimits) {
        self.bytes = bytes
        self.limits = limits
        stack.reserveCapacity(16)
        bindings.reserveCapacity(16)
        raw.reserveCapacity(16)
    }

    /// The root element, or nil when the input is outside the subset (or not well-formed).
    ///
    /// The characters allowed are checked where they can occur: names, white space and markup are matched
    /// byte by byte against ASCII, so only text and attribute values (`checkCharacters`) can hold anything else.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, limits: XMLStreamLimits) -> XMLElement? {
        guard bytes.count <= limits.maxStanzaBytes else { return nil }
        var parser = XMLFastDocumentParser(bytes: bytes, limits: limits)
        return parser.document()
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
        var i = position
        while i < bytes.count && Self.isSpace(bytes[i]) { i += 1 }
        position = i
    }

    /// Whether `b` is below 64 and its bit is set in `mask`: one shift instead of a chain of comparisons.
    @inline(__always)
    private static func isIn(_ b: UInt8, _ mask: UInt64) -> Bool {
        b < 64 && (mask &>> UInt64(b)) & 1 != 0
    }

    static func isNameStart(_ b: UInt8) -> Bool { XMLWordScan.asciiClass(b) & XMLWordScan.nameStart != 0 }

    static func isNameChar(_ b: UInt8) -> Bool { XMLWordScan.asciiClass(b) & XMLWordScan.nameChar != 0 }

    static func isPathChar(_ b: UInt8) -> Bool { XMLWordScan.asciiClass(b) & XMLWordScan.uriPathChar != 0 }

    /// A qualified name of ASCII name characters (XML Namespaces §4 `QName`): returns where the prefix ends
    /// (the colon), or -1 without a prefix; nil if there is no valid name here.
    private mutating func qualifiedName() -> (start: Int, colon: Int)? {
        let start = position, count = bytes.count
        guard start < count, let base = bytes.baseAddress, Self.isNameStart(base[start]) else { return nil }
        let classes = XMLWordScan.asciiClasses.utf8Start
        var i = start + 1
        var colon = -1
        while i < count {
            let b = base[i]
            // Name characters are ASCII: one table load decides.
            if b < 128 && classes[Int(b)] & XMLWordScan.nameChar != 0 {
                i += 1
            } else if b == UInt8(ascii: ":") && colon < 0 {
                colon = i
                i += 1
                guard i < count, Self.isNameStart(base[i]) else { return nil }
            } else {
                break
            }
        }
        position = i
        return (start, colon)
    }

    /// A String of bytes already known to be valid UTF-8. Small ASCII strings are built in place without a
    /// validation pass (the common case: names and short values); longer ones are copied into new storage.
    private static func makeString(_ source: UnsafeBufferPointer<UInt8>) -> String {
        if source.isEmpty { return "" }
        return String(unsafeUninitializedCapacity: source.count) { target in
            _ = target.initialize(fromContentsOf: source)
            return source.count
        }
    }

    private func string(_ start: Int, _ end: Int) -> String {
        Self.makeString(slice(start, end))
    }

    private func slice(_ start: Int, _ end: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[start..<end])
    }

    /// Whether the `count` bytes at `a` and at `b` (both inside the input) are the same; eight at a time first.
    private func equalBytes(_ a: Int, _ b: Int, count: Int) -> Bool {
        guard let base = bytes.baseAddress else { return count == 0 }
        return Self.equalBytes(base + a, base + b, count: count)
    }

    /// Whether the `count` bytes at `a` and at `b` are the same; eight at a time first.
    private static func equalBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, count: Int) -> Bool {
        var i = 0
        while i + 8 <= count {
            if UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self) != UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self) {
                return false
            }
            i += 8
        }
        while i < count {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    private static func equal(_ a: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        guard a.count == literal.utf8CodeUnitCount else { return false }
        let l = literal.utf8Start
        for i in 0..<a.count where a[i] != l[i] { return false }
        return true
    }

    private func isBytes(_ start: Int, _ count: Int, _ literal: StaticString) -> Bool {
        Self.equal(slice(start, start + count), literal)
    }

    /// The namespace bound to a prefix (count 0: the default namespace, `noNamespace` when none is declared).
    private func resolve(prefixStart: Int, count: Int) -> Int? {
        var i = bindings.count - 1
        while i >= 0 {
            let binding = bindings[i]
            if binding.prefixCount == count && equalBytes(binding.prefixStart, prefixStart, count: count) { return binding.namespace }
            i -= 1
        }
        if count == 0 { return Self.noNamespace }
        if isBytes(prefixStart, count, "xml") { return Self.xmlNamespace }
        return nil
    }

    private func namespaceString(_ namespace: Int) -> String {
        if namespace >= 0 { return namespaces[namespace].uri }
        return namespace == Self.xmlNamespace ? xmlNamespaceURI : ""
    }

    /// The number of the namespace name `uri` (the value of an `xmlns` attribute): a name seen before in this
    /// document is found in `namespaces`; a new one is checked once and added. Nil for a name left to libxml2.
    /// `inInput`: `uri` lies in the input (not in `scratch`).
    private mutating func intern(_ uri: UnsafeBufferPointer<UInt8>, inInput: Bool) -> Int? {
        if uri.isEmpty { return Self.noNamespace }
        guard let bytes = uri.baseAddress else { return Self.noNamespace }
        for index in namespaces.indices where namespaces[index].count == uri.count {
            let same: Bool
            if let known = namespaces[index].bytes {
                same = Self.equalBytes(known, bytes, count: uri.count)
            } else {
                same = namespaces[index].uri.utf8.elementsEqual(uri)
            }
            if same { return index }
        }
        // The xml and xmlns namespace names cannot be bound to another prefix (XML Namespaces §3), and
        // libxml2 refuses a namespace name that is not a URI (RFC 3986): only plain ones are read here.
        guard !Self.equal(uri, "http://www.w3.org/XML/1998/namespace"), !Self.equal(uri, "http://www.w3.org/2000/xmlns/"),
              Self.isPlainURI(bytes: uri) else { return nil }
        namespaces.append(Namespace(bytes: inInput ? bytes : nil, count: uri.count, uri: Self.makeString(uri)))
        return namespaces.count - 1
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
        // The path, most of the name: one table load per byte, `#` (at most once) the only other case.
        guard let base = bytes.baseAddress else { return true }
        let classes = XMLWordScan.asciiClasses.utf8Start, count = bytes.count
        var sawFragment = false
        while i < count {
            let b = base[i]
            if b < 128 && classes[Int(b)] & XMLWordScan.uriPathChar != 0 {
                i += 1
            } else if b == UInt8(ascii: "#") && !sawFragment {
                sawFragment = true
                i += 1
            } else {
                return false
            }
        }
        return true
    }

    // MARK: tags

    /// An attribute of the tag being read, as places in the input; `namespace` is filled in once the tag's
    /// namespace declarations are known.
    private struct RawAttribute {
        var start: Int
        var colon: Int
        var end: Int
        var value: CharacterData
        /// `xmlns` or `xmlns:prefix`: a namespace declaration, not an attribute of the element.
        var isDeclaration: Bool
        var namespace = XMLFastDocumentParser.noNamespace
    }

    /// Where a text or attribute value sits in the input, and what its bytes need before they become a String.
    private struct CharacterData {
        var start: Int
        var end: Int
        var hasReference: Bool
    }

    private mutating func startTag(into root: inout XMLElement?) -> Bool {
        position += 1   // "<"
        guard let name = qualifiedName() else { return false }   // also rejects "<!" and "<?"
        let nameEnd = position
        rawCount = 0
        var declarations = 0
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
            let prefixEnd = attributeName.colon < 0 ? attributeEnd : attributeName.colon
            let isDeclaration = isBytes(attributeName.start, prefixEnd - attributeName.start, "xmlns")
            if isDeclaration { declarations += 1 }
            let attribute = RawAttribute(start: attributeName.start, colon: attributeName.colon, end: attributeEnd, value: value,
                                         isDeclaration: isDeclaration)
            if rawCount < raw.count { raw[rawCount] = attribute } else { raw.append(attribute) }
            rawCount += 1
        }
        guard rawCount <= limits.maxAttributes, stack.count + 1 <= limits.maxDepth else { return false }

        // Namespace declarations first: they apply to the element's own name and attributes.
        let bindingsBefore = bindings.count
        let attributeCount = rawCount - declarations
        if declarations > 0 {
            for index in 0..<rawCount where raw[index].isDeclaration {
                let a = raw[index]
                let prefixStart: Int, prefixCount: Int
                if a.colon < 0 {
                    prefixStart = a.start
                    prefixCount = 0
                } else {
                    prefixStart = a.colon + 1
                    prefixCount = a.end - prefixStart
                    // Binding `xml` or `xmlns`, or unbinding a prefix (not allowed in XML 1.0): libxml2 decides.
                    if a.value.start == a.value.end || isBytes(prefixStart, prefixCount, "xml") || isBytes(prefixStart, prefixCount, "xmlns") {
                        return false
                    }
                }
                guard let namespace = declaredNamespace(a.value) else { return false }
                bindings.append(Binding(prefixStart: prefixStart, prefixCount: prefixCount, namespace: namespace))
            }
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

        let namespace: Int
        if name.colon < 0 {
            guard let resolved = resolve(prefixStart: name.start, count: 0) else { return false }
            namespace = resolved
        } else {
            let count = name.colon - name.start
            guard !isBytes(name.start, count, "xml"), !isBytes(name.start, count, "xmlns"),
                  let resolved = resolve(prefixStart: name.start, count: count) else { return false }
            namespace = resolved
        }
        let localStart = name.colon < 0 ? name.start : name.colon + 1

        var attributes: [XMLAttribute] = []
        if attributeCount > 0 {
            guard let read = self.attributes(count: attributeCount) else { return false }
            attributes = read
        }
        let element = XMLElement(name: string(localStart, nameEnd), namespace: namespaceString(namespace),
                                 attributes: attributes, children: [])
        if closed {
            bindings.removeLast(bindings.count - bindingsBefore)
            attach(element, root: &root)
        } else {
            stack.append(Open(element: element, nameStart: name.start, nameCount: nameEnd - name.start,
                              bindings: bindings.count - bindingsBefore))
        }
        return true
    }

    /// The namespace an `xmlns` attribute declares, by number.
    private mutating func declaredNamespace(_ value: CharacterData) -> Int? {
        if !value.hasReference { return intern(slice(value.start, value.end), inInput: true) }
        guard decodeIntoScratch(value) else { return nil }
        let decoded = scratch
        return decoded.withUnsafeBufferPointer { intern($0, inInput: false) }
    }

    /// The tag's attributes other than namespace declarations (there are `count`), in document order; nil for
    /// an undeclared prefix or an attribute given twice (libxml2 reports both).
    private mutating func attributes(count: Int) -> [XMLAttribute]? {
        var attributes: [XMLAttribute] = []
        attributes.reserveCapacity(count)
        // One bit per (length, first and last byte) of the local names so far: only a name whose bit is already
        // set is compared with the earlier ones, so a tag's attributes cost linear, not quadratic, time.
        var seen: UInt64 = 0
        for index in 0..<rawCount {
            let a = raw[index]
            if a.isDeclaration { continue }
            let namespace: Int
            if a.colon < 0 {
                namespace = Self.noNamespace
            } else {
                let count = a.colon - a.start
                guard let resolved = resolve(prefixStart: a.start, count: count) else { return nil }
                namespace = resolved
            }
            if namespace != Self.noNamespace { raw[index].namespace = namespace }   // the default otherwise
            let localStart = a.colon < 0 ? a.start : a.colon + 1
            let bit: UInt64 = 1 &<< UInt64(truncatingIfNeeded: (a.end - localStart) &* 7 &+ Int(bytes[localStart]) &+ Int(bytes[a.end - 1]) &* 3)
            // Same local name and namespace as an earlier attribute (namespaces compare by number: one per name).
            if seen & bit != 0, isRepeated(index, localStart: localStart, namespace: namespace) { return nil }
            seen |= bit
            guard let value = string(a.value) else { return nil }
            attributes.append(XMLAttribute(name: string(localStart, a.end), namespace: namespaceString(namespace), value: value))
        }
        return attributes
    }

    /// Whether an attribute before `index` (not a namespace declaration) has the local name at `localStart` and
    /// the same namespace.
    private func isRepeated(_ index: Int, localStart: Int, namespace: Int) -> Bool {
        let end = raw[index].end
        for other in 0..<index where raw[other].namespace == namespace {
            let o = raw[other]
            let otherStart = o.colon < 0 ? o.start : o.colon + 1
            if o.end - otherStart == end - localStart && equalBytes(otherStart, localStart, count: end - localStart)
                && !o.isDeclaration {
                return true
            }
        }
        return false
    }

    private mutating func endTag(into root: inout XMLElement?) -> Bool {
        position += 2   // "</"
        guard let open = stack.popLast() else { return false }
        // The open tag's name, then no further name character: what follows must be space or `>`.
        guard position + open.nameCount <= bytes.count, equalBytes(position, open.nameStart, count: open.nameCount) else { return false }
        position += open.nameCount
        skipSpace()
        guard peek(0) == UInt8(ascii: ">") else { return false }
        position += 1
        bindings.removeLast(open.bindings)
        attach(open.element, root: &root)
        return true
    }

    private mutating func attach(_ element: consuming XMLElement, root: inout XMLElement?) {
        if stack.isEmpty {
            root = element
        } else {
            let parent = stack.count - 1
            if stack[parent].element.children.isEmpty { stack[parent].element.children.reserveCapacity(8) }
            stack[parent].element.children.append(.element(element))
        }
    }

    // MARK: character data

    /// Bytes that end or need a look in an attribute value: C0 controls (a literal tab or newline would be
    /// normalised to a space, XML 1.0 §3.3.3), both quotes, `&` and `<`.
    private static let attributeStops: UInt64 = 0x1000_00C4_FFFF_FFFF
    /// The same in text: C0 controls other than tab and newline (no CR to normalise, XML 1.0 §2.11), `&`, `<`,
    /// and `>` (for `]]>`).
    private static let textStops: UInt64 = 0x5000_0040_FFFF_F9FF

    /// A quoted attribute value; nil for `<`, a control character, a missing quote, or characters outside the
    /// subset (see `checkCharacters`).
    private mutating func attributeValue() -> CharacterData? {
        guard let quote = peek(0), quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else { return nil }
        guard let base = bytes.baseAddress else { return nil }
        let start = position + 1
        var end = start
        var hasReference = false, ascii = true
        scan: while end < bytes.count {
            end = XMLWordScan.skipPlainWords(base, from: end, end: bytes.count, quote, UInt8(ascii: "&"), UInt8(ascii: "<"), UInt8(ascii: "<"))
            let wordEnd = Swift.min(end + 8, bytes.count)
            while end < wordEnd {
                let b = base[end]
                if Self.isIn(b, Self.attributeStops) {
                    if b == quote { break scan }
                    if b == UInt8(ascii: "&") {
                        hasReference = true
                    } else if b != UInt8(ascii: "\"") && b != UInt8(ascii: "'") {
                        return nil
                    }
                } else if b >= 0x80 {
                    ascii = false
                }
                end += 1
            }
        }
        guard end < bytes.count else { return nil }
        position = end + 1
        guard ascii || checkCharacters(start, end) else { return nil }
        return CharacterData(start: start, end: end, hasReference: hasReference)
    }

    /// Valid UTF-8 without U+FFFE or U+FFFF (XML 1.0 §2.2). Text and attribute values start and end at ASCII
    /// bytes, so checking each of them checks the whole document.
    private func checkCharacters(_ start: Int, _ end: Int) -> Bool {
        guard String(validating: slice(start, end), as: UTF8.self) != nil else { return false }
        var i = start
        while i + 2 < end {
            if bytes[i] == 0xEF && bytes[i + 1] == 0xBF && (bytes[i + 2] == 0xBE || bytes[i + 2] == 0xBF) { return false }
            i += 1
        }
        return true
    }

    /// The String of checked character data, with its references replaced; nil for a reference outside the subset.
    private mutating func string(_ data: CharacterData) -> String? {
        if !data.hasReference { return Self.makeString(slice(data.start, data.end)) }
        guard decodeIntoScratch(data) else { return nil }
        return scratch.withUnsafeBufferPointer { Self.makeString($0) }
    }

    /// Replaces `scratch` by the bytes of `data` with its references replaced.
    private mutating func decodeIntoScratch(_ data: CharacterData) -> Bool {
        scratch.removeAll(keepingCapacity: true)
        var i = data.start
        while i < data.end {
            if bytes[i] == UInt8(ascii: "&") {
                guard let next = reference(at: i, end: data.end) else { return false }
                i = next
            } else {
                scratch.append(bytes[i])
                i += 1
            }
        }
        return true
    }

    /// Character data up to the next `<`: appended to the open element as one text node, as the libxml2 path
    /// gathers it. `]]>` is not allowed in content (XML 1.0 §2.4).
    private mutating func text() -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let start = position
        var end = start
        var hasReference = false, ascii = true
        scan: while end < bytes.count {
            end = XMLWordScan.skipPlainWords(base, from: end, end: bytes.count, UInt8(ascii: "<"), UInt8(ascii: "&"), UInt8(ascii: ">"), UInt8(ascii: ">"))
            let wordEnd = Swift.min(end + 8, bytes.count)
            while end < wordEnd {
                let b = base[end]
                if Self.isIn(b, Self.textStops) {
                    if b == UInt8(ascii: "<") { break scan }
                    if b == UInt8(ascii: "&") {
                        hasReference = true
                    } else if b == UInt8(ascii: ">") {
                        if end >= start + 2 && base[end - 1] == UInt8(ascii: "]") && base[end - 2] == UInt8(ascii: "]") { return false }
                    } else {
                        return false
                    }
                } else if b >= 0x80 {
                    ascii = false
                }
                end += 1
            }
        }
        position = end
        guard ascii || checkCharacters(start, end),
              let value = string(CharacterData(start: start, end: end, hasReference: hasReference)) else { return false }
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
