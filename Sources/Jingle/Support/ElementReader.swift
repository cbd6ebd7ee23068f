import XMLStream
import XMPPCore

/// Reads a known element's attributes and children while remembering which ones were understood, so that
/// everything else can be kept verbatim (extension attributes and elements) and written back unchanged.
struct ElementReader {
    let element: XMLElement
    let section: String
    private var usedAttributes: Set<String> = []
    private var usedChildren: Set<Int> = []

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
        usedAttributes.insert(name)
        return element[attribute: name]
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
        for case .element(let child) in element.children {
            if child.name == name && child.namespace == namespace {
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
        for case .element(let child) in element.children {
            if child.name == name && child.namespace == namespace {
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
        element.attributes.filter { !($0.namespace.isEmpty && usedAttributes.contains($0.name)) }
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
