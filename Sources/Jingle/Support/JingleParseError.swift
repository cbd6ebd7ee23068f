/// Why an element is not a valid Jingle payload: what is wrong, on which element, and the section of the
/// specification that makes it wrong, so a peer's mistake can be reported precisely.
public struct JingleParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A required attribute is absent.
        case missingAttribute(String)
        /// An attribute's value is outside what the specification allows.
        case invalidAttribute(String, value: String)
        /// A required child element is absent.
        case missingChild(String)
        /// The element is not the one expected here (name and namespace found).
        case unexpectedElement(name: String, namespace: String)
        /// Character data is not of the required form.
        case invalidText(String)
        /// Valid per the specification, but a feature this implementation does not carry.
        case unsupported(String)
    }

    public var kind: Kind
    /// The local name of the element at fault.
    public var element: String
    /// The rule broken, e.g. `XEP-0166 §7.1`.
    public var section: String

    public init(_ kind: Kind, element: String, section: String) {
        self.kind = kind
        self.element = element
        self.section = section
    }

    public var description: String {
        let what: String
        switch kind {
        case .missingAttribute(let name): what = "missing required attribute '\(name)'"
        case .invalidAttribute(let name, let value): what = "invalid value '\(value)' for attribute '\(name)'"
        case .missingChild(let name): what = "missing required child <\(name)/>"
        case .unexpectedElement(let name, let namespace): what = "unexpected element <\(name) xmlns='\(namespace)'/>"
        case .invalidText(let text): what = "invalid character data '\(text)'"
        case .unsupported(let feature): what = "unsupported: \(feature)"
        }
        return "<\(element)/>: \(what) (\(section))"
    }
}
