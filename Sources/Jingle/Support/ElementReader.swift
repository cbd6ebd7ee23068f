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

    init(_ element: XMLElement, section: String) {
        self.element = element
        self.section = section
    }

    /// Checks name and namespace of the element being read.
    init(_ element: XMLElement, name: String, namespace: String, section: String) throws(JingleParseError) {
        guard element.name == name, element.namespace == namespace else {
            throw JingleParseError(.unexpectedElement(name: element.name, namespace: element.namespace), element: name, section: section)
        }
        self.init(element, section: section)
    }

    func error(_ kind: JingleParseError.Kind) -> JingleParseError {
        JingleParseError(kind, element: element.name, section: section)
    }

    mutating func optional(_ name: String) -> String? {
        var found: String?
        // Lengths first: unequal small strings otherwise take the full comparison path.
        let length = name.utf8.count
        for (index, attribute) in element.attributes.enumerated()
        where attribute.name.utf8.count == length && attribute.name == name && attribute.namespace.isEmpty {
            usedAttributes.insert(index)
            if found == nil { found = attribute.value }
        }
        return found
    }

    mutating func required(_ name: String) throws(JingleParseError) -> String {
        guard let value = optional(name) else { throw error(.missingAttribute(name)) }
        return value
    }

    mutating func optional<T: FixedWidthInteger>(_ name: String, as type: T.Type) throws(JingleParseError) -> T? {
        guard let raw = optional(name) else { return nil }
        guard let value = T(raw) else { throw error(.invalidAttribute(name, value: raw)) }
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

    mutating func optionalJID(_ name: String) throws(JingleParseError) -> JID? {
        guard let raw = optional(name) else { return nil }
        do { return try JID(raw) } catch { throw self.error(.invalidAttribute(name, value: raw)) }
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
        if usedAttributes.count == element.attributes.count { return [] }
        var out: [XMLAttribute] = []
        for (index, attribute) in element.attributes.enumerated() where !usedAttributes.contains(index) { out.append(attribute) }
        return out
    }

    /// Child elements not read: extensions to keep.
    var remainingChildren: [XMLElement] {
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

/// A set of small non-negative integers: one word inline, more words only past 63.
struct IndexBits {
    private var low: UInt64 = 0
    private var high: [UInt64] = []
    private(set) var count = 0

    mutating func insert(_ index: Int) {
        if contains(index) { return }
        count += 1
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
