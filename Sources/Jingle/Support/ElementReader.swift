import XMLStream
import XMPPCore

/// Reads a known element's attributes and children while remembering which ones were understood, so that
/// everything else can be kept verbatim (extension attributes and elements) and written back unchanged.
struct ElementReader {
    let element: XMLElement
    let section: String
    /// Positions (in `element.attributes`, and among the child elements) of what was read. A bit set rather
    /// than a `Set<String>`: no hashing, and no allocation for the first 64 of each.
    private var usedAttributes = IndexBits()
    private var usedChildren = IndexBits()
    /// Where the next attribute lookup starts (see `optional`).
    private var nextAttribute = 0
    /// The number of child elements, once `forEachChild` has counted them.
    private var childElementCount: Int?

    init(_ element: XMLElement, section: String) {
        self.element = element
        self.section = section
    }

    /// Checks name and namespace of the element being read.
    init(_ element: XMLElement, name: String, namespace: String, section: String) throws(JingleParseError) {
        guard element.is(name, namespace) else {
            throw JingleParseError(.unexpectedElement(name: element.name, namespace: element.namespace), element: name, section: section)
        }
        self.init(element, section: section)
    }

    func error(_ kind: JingleParseError.Kind) -> JingleParseError {
        JingleParseError(kind, element: element.name, section: section)
    }

    /// The first unqualified attribute with this name. Later ones with the same name (XML forbids them, a
    /// hand-built element may have them) count as read too: `remainingAttributes` leaves them out.
    mutating func optional(_ name: String) -> String? {
        // By index on the buffer: no copy of each attribute (three strings) per comparison.
        element.attributes.withUnsafeBufferPointer { attributes in
            // Models read attributes in about the order they write them: try the one after the last read first.
            // It is the first with this name when every attribute before it has been read (under other names).
            let hint = nextAttribute
            if hint < attributes.count, usedAttributes.containsAll(below: hint),
               ASCIIText.equals(attributes[hint].name, name), attributes[hint].namespace.isEmpty {
                usedAttributes.insert(hint)
                nextAttribute = hint + 1
                return attributes[hint].value
            }
            for index in attributes.indices where ASCIIText.equals(attributes[index].name, name) && attributes[index].namespace.isEmpty {
                usedAttributes.insert(index)
                nextAttribute = index + 1
                return attributes[index].value
            }
            return nil
        }
    }

    mutating func required(_ name: String) throws(JingleParseError) -> String {
        guard let value = optional(name) else { throw error(.missingAttribute(name)) }
        return value
    }

    mutating func optional<T: FixedWidthInteger>(_ name: String, as type: T.Type) throws(JingleParseError) -> T? {
        guard let raw = optional(name) else { return nil }
        guard let value = ASCIIText.parseInteger(raw, as: T.self) else { throw error(.invalidAttribute(name, value: raw)) }
        return value
    }

    mutating func required<T: FixedWidthInteger>(_ name: String, as type: T.Type) throws(JingleParseError) -> T {
        guard let value = try optional(name, as: type) else { throw error(.missingAttribute(name)) }
        return value
    }

    mutating func optional<T: RawRepresentable>(_ name: String, as type: T.Type) throws(JingleParseError) -> T? where T.RawValue == String {
        guard let raw = optional(name) else { return nil }
        guard let value = T(rawValue: raw) else { throw error(.invalidAttribute(name, value: raw)) }
        return value
    }

    mutating func required<T: RawRepresentable>(_ name: String, as type: T.Type) throws(JingleParseError) -> T where T.RawValue == String {
        guard let value = try optional(name, as: type) else { throw error(.missingAttribute(name)) }
        return value
    }

    /// The same for our enums, matched on bytes (`ASCIIText.enumCase`) rather than through `init(rawValue:)`.
    mutating func optional<T: RawRepresentable & CaseIterable>(_ name: String, as type: T.Type) throws(JingleParseError) -> T? where T.RawValue == String {
        guard let raw = optional(name) else { return nil }
        guard let value = ASCIIText.enumCase(raw, as: T.self) else { throw error(.invalidAttribute(name, value: raw)) }
        return value
    }

    mutating func required<T: RawRepresentable & CaseIterable>(_ name: String, as type: T.Type) throws(JingleParseError) -> T where T.RawValue == String {
        guard let value = try optional(name, as: type) else { throw error(.missingAttribute(name)) }
        return value
    }

    mutating func optionalJID(_ name: String) throws(JingleParseError) -> JID? {
        guard let raw = optional(name) else { return nil }
        do { return try JID(raw) } catch { throw self.error(.invalidAttribute(name, value: raw)) }
    }

    /// Visits every child element once, in document order; `body` returns whether it understood the child
    /// (marked as read) or leaves it to the extensions. One pass instead of one scan (and array) per kind.
    mutating func forEachChild<E: Error>(_ body: (borrowing XMLElement) throws(E) -> Bool) throws(E) {
        var index = 0
        // Borrowed from the buffer: iterating the array copies each child (four retains and releases).
        try element.children.withUnsafeBufferPointer { (children) throws(E) in
            for position in children.indices {
                guard case .element(let child) = children[position] else { continue }
                if try body(child) { usedChildren.insert(index) }
                index += 1
            }
        }
        childElementCount = index
    }

    /// Child elements with this name and namespace, marked as understood.
    mutating func children(_ name: String, namespace: String) -> [XMLElement] {
        var out: [XMLElement] = []
        var index = 0
        let length = name.utf8.count
        for case .element(let child) in element.children {
            if child.name.utf8.count == length && child.name == name && child.namespace == namespace {
                out.append(child)
                usedChildren.insert(index)
            }
            index += 1
        }
        return out
    }

    /// Child elements in this namespace with any of the given names, in document order.
    mutating func children(names: Set<String>, namespace: String) -> [XMLElement] {
        var out: [XMLElement] = []
        var index = 0
        for case .element(let child) in element.children {
            if names.contains(child.name) && child.namespace == namespace {
                out.append(child)
                usedChildren.insert(index)
            }
            index += 1
        }
        return out
    }

    mutating func child(_ name: String, namespace: String) -> XMLElement? {
        var index = 0
        let length = name.utf8.count
        for case .element(let child) in element.children {
            if child.name.utf8.count == length && child.name == name && child.namespace == namespace {
                usedChildren.insert(index)
                return child
            }
            index += 1
        }
        return nil
    }

    mutating func requiredChild(_ name: String, namespace: String) throws(JingleParseError) -> XMLElement {
        guard let child = child(name, namespace: namespace) else { throw error(.missingChild(name)) }
        return child
    }

    /// The text of a child element holding only character data.
    mutating func childText(_ name: String, namespace: String) -> String? {
        child(name, namespace: namespace)?.text
    }

    /// Attributes not read: extensions to keep.
    var remainingAttributes: [XMLAttribute] {
        // Every position read is below the count, so "all read" is one mask test (no bit counting).
        if usedAttributes.containsAll(below: element.attributes.count) { return [] }
        let attributes = element.attributes
        // A repeat of an attribute that was read is read too (at most one name per lookup, so this stays small).
        var readNames: [String] = []
        for index in attributes.indices where usedAttributes.contains(index) && attributes[index].namespace.isEmpty {
            readNames.append(attributes[index].name)
        }
        var out: [XMLAttribute] = []
        for (index, attribute) in attributes.enumerated() where !usedAttributes.contains(index) {
            if attribute.namespace.isEmpty && readNames.contains(attribute.name) { continue }
            out.append(attribute)
        }
        return out
    }

    /// Child elements not read: extensions to keep.
    var remainingChildren: [XMLElement] {
        if let childElementCount, usedChildren.containsAll(below: childElementCount) { return [] }
        var out: [XMLElement] = []
        var index = 0
        for case .element(let child) in element.children {
            if !usedChildren.contains(index) { out.append(child) }
            index += 1
        }
        return out
    }

    var layout: SourceLayout { SourceLayout(element) }
}

extension XMLElement {
    /// Name and namespace test for a known (ASCII) name, cheap when they differ (see `ASCIIText.equals`).
    @inline(__always)
    func `is`(_ name: String, _ namespace: String) -> Bool {
        ASCIIText.equals(self.name, name) && ASCIIText.equals(self.namespace, namespace)
    }
}

/// Reading children in one pass, in document order, while reporting the error the model's reading order
/// defines: each kind of child has a rank (its place in that order), and the first error of the lowest rank
/// wins, exactly as if each kind had been read in its own pass. Children of a rank at or above a recorded
/// error need not be read at all.
struct ChildErrors {
    private var first: JingleParseError?
    private var rank = Int.max

    /// Runs `body` unless an error of this rank or a lower one is already known; nil when skipped or failed.
    mutating func read<T>(rank: Int, _ body: () throws(JingleParseError) -> T) -> T? {
        guard rank < self.rank else { return nil }
        do {
            return try body()
        } catch {
            first = error
            self.rank = rank
            return nil
        }
    }

    /// Appends what `body` reads to `list` (moved in: no copy of the model), unless skipped or failed.
    @inline(__always)
    mutating func append<T>(rank: Int, to list: inout [T], _ body: () throws(JingleParseError) -> T) {
        guard rank < self.rank else { return }
        do {
            list.append(try body())
        } catch {
            first = error
            self.rank = rank
        }
    }

    /// Records an error found without reading (e.g. a repeated element), at its rank.
    mutating func record(_ error: JingleParseError, rank: Int) {
        if rank < self.rank { first = error; self.rank = rank }
    }

    func check() throws(JingleParseError) {
        if let first { throw first }
    }
}

/// A set of small non-negative integers: one word inline, more words only past 63.
struct IndexBits {
    private var low: UInt64 = 0
    private var high: [UInt64] = []

    var count: Int {
        var total = low.nonzeroBitCount
        for word in high { total += word.nonzeroBitCount }
        return total
    }

    /// True when 0..<bound are all in the set.
    @inline(__always)
    func containsAll(below bound: Int) -> Bool {
        if bound == 0 { return true }
        if bound <= 64 {
            let mask: UInt64 = bound == 64 ? ~0 : (1 << UInt64(bound)) - 1
            return low & mask == mask
        }
        return (0..<bound).allSatisfy(contains)
    }

    @inline(__always)
    mutating func insert(_ index: Int) {
        if index < 64 {
            low |= 1 << UInt64(index)
        } else {
            let word = index / 64 - 1
            if high.count <= word { high.append(contentsOf: repeatElement(0, count: word - high.count + 1)) }
            high[word] |= 1 << UInt64(index % 64)
        }
    }

    func contains(_ index: Int) -> Bool {
        if index < 64 { return low & (1 << UInt64(index)) != 0 }
        let word = index / 64 - 1
        return word < high.count && high[word] & (1 << UInt64(index % 64)) != 0
    }
}


extension String {
    /// The string without leading and trailing XML whitespace (XML 1.0 §2.3 S: space, tab, CR, LF); cheaper than
    /// Foundation's trimming and exactly the characters pretty-printing adds.
    var trimmingXMLWhitespace: String {
        let utf8 = self.utf8
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        guard let first = utf8.firstIndex(where: { !isSpace($0) }), let last = utf8.lastIndex(where: { !isSpace($0) }) else { return "" }
        if first == utf8.startIndex && last == utf8.index(before: utf8.endIndex) { return self }
        return String(self[first...last])
    }
}
