/// An XML element as a value: qualified by its namespace URI, with attributes, children and text.
///
/// The model is the one XMPP needs (RFC 6120 §11): no comments, no processing instructions, no DTD.
/// Text and child elements are kept in document order as ``XMLNode``s so that mixed content round-trips.
/// Namespace *prefixes* are not part of the value: two elements that differ only by the prefix their
/// author chose are equal, and the serializer picks prefixes itself (default namespaces where it can).
public struct XMLElement: Sendable, Hashable {
    /// The local name (without any prefix).
    public var name: String
    /// The namespace URI; empty string means "no namespace".
    public var namespace: String
    /// Attributes in document order. Unqualified attributes have an empty namespace.
    public var attributes: [XMLAttribute]
    /// Child nodes (elements and text) in document order.
    public var children: [XMLNode]

    public init(name: String, namespace: String = "", attributes: [XMLAttribute] = [], children: [XMLNode] = []) {
        self.name = name
        self.namespace = namespace
        self.attributes = attributes
        self.children = children
    }

    /// Convenience initialiser taking unqualified attributes as pairs, in the given order.
    public init(_ name: String, namespace: String = "", _ attributes: KeyValuePairs<String, String?> = [:], children: [XMLElement] = [], text: String? = nil) {
        self.name = name
        self.namespace = namespace
        self.attributes = attributes.compactMap { key, value in value.map { XMLAttribute(name: key, value: $0) } }
        self.children = children.map(XMLNode.element)
        if let text, !text.isEmpty { self.children.append(.text(text)) }
    }
}

/// One attribute. `namespace` is empty for ordinary (unprefixed) attributes; `xml:lang` has the XML namespace.
public struct XMLAttribute: Sendable, Hashable {
    public var name: String
    public var namespace: String
    public var value: String

    public init(name: String, namespace: String = "", value: String) {
        self.name = name
        self.namespace = namespace
        self.value = value
    }
}

/// A child of an element.
public enum XMLNode: Sendable, Hashable {
    case element(XMLElement)
    case text(String)
}

/// The namespace bound to the `xml` prefix (XML Namespaces §3).
public let xmlNamespaceURI = "http://www.w3.org/XML/1998/namespace"

extension XMLElement {
    // MARK: attributes

    /// The value of the unqualified attribute `name`, if present.
    public subscript(attribute name: String) -> String? {
        get { attributes.first { $0.name == name && $0.namespace.isEmpty }?.value }
        set { setAttribute(name, namespace: "", value: newValue) }
    }

    /// The value of attribute `name` in `namespace` (use `xmlNamespaceURI` for `xml:lang`).
    public func attribute(_ name: String, namespace: String = "") -> String? {
        attributes.first { $0.name == name && $0.namespace == namespace }?.value
    }

    /// Sets, replaces or (with `nil`) removes an attribute, keeping the position of an existing one.
    public mutating func setAttribute(_ name: String, namespace: String = "", value: String?) {
        if let index = attributes.firstIndex(where: { $0.name == name && $0.namespace == namespace }) {
            if let value { attributes[index].value = value } else { attributes.remove(at: index) }
        } else if let value {
            attributes.append(XMLAttribute(name: name, namespace: namespace, value: value))
        }
    }

    // MARK: children

    /// Child elements in order (text nodes skipped).
    public var elements: [XMLElement] {
        children.compactMap { if case .element(let e) = $0 { e } else { nil } }
    }

    /// The first child element with the given name and (if given) namespace.
    public func child(_ name: String, namespace: String? = nil) -> XMLElement? {
        for case .element(let e) in children where e.name == name && (namespace == nil || e.namespace == namespace) {
            return e
        }
        return nil
    }

    /// All child elements with the given name and (if given) namespace.
    public func children(_ name: String, namespace: String? = nil) -> [XMLElement] {
        elements.filter { $0.name == name && (namespace == nil || $0.namespace == namespace) }
    }

    /// All child elements in the given namespace.
    public func children(inNamespace namespace: String) -> [XMLElement] {
        elements.filter { $0.namespace == namespace }
    }

    /// The concatenated text of the direct text children.
    public var text: String {
        var out = ""
        for case .text(let t) in children { out += t }
        return out
    }

    /// Appends a child element.
    public mutating func append(_ element: XMLElement) { children.append(.element(element)) }

    /// Appends a text node (merging with a preceding text node).
    public mutating func append(text: String) {
        guard !text.isEmpty else { return }
        if case .text(let previous)? = children.last {
            children[children.count - 1] = .text(previous + text)
        } else {
            children.append(.text(text))
        }
    }

    /// Removes every child element matching name and namespace.
    public mutating func removeChildren(_ name: String, namespace: String? = nil) {
        children.removeAll {
            if case .element(let e) = $0 { return e.name == name && (namespace == nil || e.namespace == namespace) }
            return false
        }
    }

    /// A copy without whitespace-only text nodes, recursively: what a parser of "pretty" XML would keep
    /// once indentation is ignored. XMPP stanzas carry no significant whitespace between elements.
    public func trimmingWhitespaceText() -> XMLElement {
        var copy = self
        let hasElements = children.contains { if case .element = $0 { true } else { false } }
        copy.children = children.compactMap { node in
            switch node {
            case .element(let e): return .element(e.trimmingWhitespaceText())
            case .text(let t):
                if hasElements && t.allSatisfy({ $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }) { return nil }
                return .text(t)
            }
        }
        return copy
    }
}
