import XMLStream

/// The three stanza kinds of RFC 6120 §8, as views over an `XMLElement`.
///
/// Each keeps the whole element, so unknown attributes and extension payloads survive being read,
/// changed and written again.
public protocol Stanza: Sendable, Hashable {
    /// The underlying element; its namespace is the stream's content namespace (`jabber:client`,
    /// `jabber:server` or `jabber:component:accept`).
    var element: XMLElement { get set }
    init(element: XMLElement) throws(StanzaParseError)
}

/// Why an element is not a usable stanza.
public enum StanzaParseError: Error, Sendable, Hashable, CustomStringConvertible {
    case wrongElement(expected: String, found: String)
    case missingAttribute(String)
    case invalidAttribute(name: String, value: String)
    case invalidJID(attribute: String, JIDError)
    case iqPayloadCount(Int)

    public var description: String {
        switch self {
        case .wrongElement(let expected, let found): "expected <\(expected)/>, found <\(found)/>"
        case .missingAttribute(let name): "missing required attribute '\(name)'"
        case .invalidAttribute(let name, let value): "invalid value '\(value)' for attribute '\(name)'"
        case .invalidJID(let attribute, let error): "attribute '\(attribute)': \(error)"
        case .iqPayloadCount(let n): "an IQ get/set must have exactly one payload element (RFC 6120 §8.2.3), found \(n)"
        }
    }
}

extension Stanza {
    public var id: String? {
        get { element[attribute: "id"] }
        set { element[attribute: "id"] = newValue }
    }

    /// `from`, or nil when absent. An invalid JID reads as nil (use `validatedAddresses()` to reject).
    public var from: JID? {
        get { element[attribute: "from"].flatMap { try? JID($0) } }
        set { element[attribute: "from"] = newValue?.description }
    }

    public var to: JID? {
        get { element[attribute: "to"].flatMap { try? JID($0) } }
        set { element[attribute: "to"] = newValue?.description }
    }

    /// The `<error/>` child, if the stanza is of type error.
    public var error: StanzaError? {
        guard element[attribute: "type"] == "error", let e = element.child("error") else { return nil }
        return StanzaError(element: e)
    }

    /// Checks that `from` and `to`, when present, are valid JIDs (RFC 6120 §8.1.1, §8.1.2).
    public func validatedAddresses() throws(StanzaParseError) {
        for name in ["from", "to"] {
            if let value = element[attribute: name] {
                do throws(JIDError) { _ = try JID(value) } catch { throw .invalidJID(attribute: name, error) }
            }
        }
    }
}

/// An IQ stanza (RFC 6120 §8.2.3).
public struct IQ: Stanza {
    public enum Kind: String, Sendable, Hashable, CaseIterable { case get, set, result, error }

    public var element: XMLElement

    public init(element: XMLElement) throws(StanzaParseError) {
        guard element.name == "iq" else { throw .wrongElement(expected: "iq", found: element.name) }
        guard let type = element[attribute: "type"] else { throw .missingAttribute("type") }
        guard let kind = Kind(rawValue: type) else { throw .invalidAttribute(name: "type", value: type) }
        guard element[attribute: "id"] != nil else { throw .missingAttribute("id") }
        if kind == .get || kind == .set {
            let count = element.elements.count
            if count != 1 { throw .iqPayloadCount(count) }
        }
        self.element = element
    }

    public init(type: Kind, id: String, from: JID? = nil, to: JID? = nil, payload: XMLElement? = nil, namespace: String = NS.client) {
        var e = XMLElement(name: "iq", namespace: namespace)
        e[attribute: "type"] = type.rawValue
        e[attribute: "id"] = id
        e[attribute: "from"] = from?.description
        e[attribute: "to"] = to?.description
        if let payload { e.append(payload) }
        self.element = e
    }

    public var type: Kind { Kind(rawValue: element[attribute: "type"] ?? "") ?? .error }

    /// The first child element that is not `<error/>`: the request or result payload.
    public var payload: XMLElement? { element.elements.first { $0.name != "error" } }

    /// A result for this request: addresses swapped, same id, optional payload.
    public func makeResult(payload: XMLElement? = nil) -> IQ {
        IQ(type: .result, id: id ?? "", from: to, to: from, payload: payload, namespace: element.namespace)
    }

    /// An error reply for this request (RFC 6120 §8.3.1: addresses swapped, same id; the original
    /// payload may be included, and we leave it out to keep replies small).
    public func makeError(_ error: StanzaError) -> IQ {
        var reply = IQ(type: .error, id: id ?? "", from: to, to: from, namespace: element.namespace)
        reply.element.append(error.element(namespace: element.namespace))
        return reply
    }
}

/// A message stanza (RFC 6120 §8.2.1, RFC 6121 §5).
public struct Message: Stanza {
    public enum Kind: String, Sendable, Hashable, CaseIterable { case chat, error, groupchat, headline, normal }

    public var element: XMLElement

    public init(element: XMLElement) throws(StanzaParseError) {
        guard element.name == "message" else { throw .wrongElement(expected: "message", found: element.name) }
        if let type = element[attribute: "type"], Kind(rawValue: type) == nil {
            throw .invalidAttribute(name: "type", value: type)
        }
        self.element = element
    }

    public init(type: Kind = .normal, id: String? = nil, from: JID? = nil, to: JID? = nil, body: String? = nil, payloads: [XMLElement] = [], namespace: String = NS.client) {
        var e = XMLElement(name: "message", namespace: namespace)
        if type != .normal { e[attribute: "type"] = type.rawValue }
        e[attribute: "id"] = id
        e[attribute: "from"] = from?.description
        e[attribute: "to"] = to?.description
        if let body { e.append(XMLElement("body", namespace: namespace, text: body)) }
        for payload in payloads { e.append(payload) }
        self.element = e
    }

    /// RFC 6121 §5.2.2: absent means `normal`.
    public var type: Kind { element[attribute: "type"].flatMap(Kind.init(rawValue:)) ?? .normal }
    public var body: String? { element.child("body")?.text }
}

/// A presence stanza (RFC 6120 §8.2.2, RFC 6121 §4).
public struct Presence: Stanza {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case available, error, probe, subscribe, subscribed, unavailable, unsubscribe, unsubscribed
    }

    public var element: XMLElement

    public init(element: XMLElement) throws(StanzaParseError) {
        guard element.name == "presence" else { throw .wrongElement(expected: "presence", found: element.name) }
        if let type = element[attribute: "type"], type == "available" || Kind(rawValue: type) == nil {
            throw .invalidAttribute(name: "type", value: type)
        }
        self.element = element
    }

    public init(type: Kind = .available, id: String? = nil, from: JID? = nil, to: JID? = nil, payloads: [XMLElement] = [], namespace: String = NS.client) {
        var e = XMLElement(name: "presence", namespace: namespace)
        if type != .available { e[attribute: "type"] = type.rawValue }
        e[attribute: "id"] = id
        e[attribute: "from"] = from?.description
        e[attribute: "to"] = to?.description
        for payload in payloads { e.append(payload) }
        self.element = e
    }

    /// RFC 6121 §4.7.1: no type attribute means available.
    public var type: Kind { element[attribute: "type"].flatMap(Kind.init(rawValue:)) ?? .available }
}
