import XMLStream

/// A stanza error (RFC 6120 §8.3): a type, a defined condition, optional text and an optional
/// application-specific condition element (e.g. `<out-of-order xmlns='urn:xmpp:jingle:errors:1'/>`).
public struct StanzaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// RFC 6120 §8.3.2: how the sender should treat the error.
    public enum ErrorType: String, Sendable, Hashable, CaseIterable {
        case auth, cancel, `continue`, modify, wait
    }

    /// RFC 6120 §8.3.3: every defined condition.
    public enum Condition: String, Sendable, Hashable, CaseIterable {
        case badRequest = "bad-request"
        case conflict
        case featureNotImplemented = "feature-not-implemented"
        case forbidden
        case gone
        case internalServerError = "internal-server-error"
        case itemNotFound = "item-not-found"
        case jidMalformed = "jid-malformed"
        case notAcceptable = "not-acceptable"
        case notAllowed = "not-allowed"
        case notAuthorized = "not-authorized"
        case policyViolation = "policy-violation"
        case recipientUnavailable = "recipient-unavailable"
        case redirect
        case registrationRequired = "registration-required"
        case remoteServerNotFound = "remote-server-not-found"
        case remoteServerTimeout = "remote-server-timeout"
        case resourceConstraint = "resource-constraint"
        case serviceUnavailable = "service-unavailable"
        case subscriptionRequired = "subscription-required"
        case undefinedCondition = "undefined-condition"
        case unexpectedRequest = "unexpected-request"

        /// The error type RFC 6120 §8.3.3 gives in each condition's example.
        public var defaultType: ErrorType {
            switch self {
            case .badRequest, .jidMalformed, .notAcceptable, .policyViolation, .redirect: .modify
            case .conflict, .featureNotImplemented, .gone, .internalServerError, .itemNotFound, .notAllowed,
                 .remoteServerNotFound, .serviceUnavailable, .undefinedCondition: .cancel
            case .forbidden, .notAuthorized, .registrationRequired, .subscriptionRequired: .auth
            case .recipientUnavailable, .remoteServerTimeout, .resourceConstraint, .unexpectedRequest: .wait
            }
        }
    }

    public var type: ErrorType
    public var condition: Condition
    /// The alternate address of `gone` and `redirect` (RFC 6120 §8.3.3.5, §8.3.3.14).
    public var conditionText: String?
    public var text: String?
    public var textLanguage: String?
    /// The entity that generated the error (RFC 6120 §8.3.2 `by`).
    public var by: String?
    /// An application-specific condition element (RFC 6120 §8.3.4).
    public var applicationCondition: XMLElement?

    public init(_ condition: Condition, type: ErrorType? = nil, text: String? = nil,
                applicationCondition: XMLElement? = nil, by: String? = nil, conditionText: String? = nil) {
        self.condition = condition
        self.type = type ?? condition.defaultType
        self.text = text
        self.applicationCondition = applicationCondition
        self.by = by
        self.conditionText = conditionText
    }

    /// Parses an `<error/>` element. Unknown or missing conditions become `undefined-condition` and an
    /// unknown type becomes `cancel`, as a receiver must still act on the error.
    public init(element: XMLElement) {
        self.type = element[attribute: "type"].flatMap(ErrorType.init(rawValue:)) ?? .cancel
        self.by = element[attribute: "by"]
        var condition: Condition?
        for child in element.elements {
            if child.namespace == NS.stanzas {
                if child.name == "text" {
                    text = child.text
                    textLanguage = child.attribute("lang", namespace: xmlNamespaceURI)
                } else if condition == nil, let known = Condition(rawValue: child.name) {
                    condition = known
                    let t = child.text
                    conditionText = t.isEmpty ? nil : t
                }
            } else if applicationCondition == nil {
                applicationCondition = child
            }
        }
        self.condition = condition ?? .undefinedCondition
    }

    /// The `<error/>` element (in the namespace of the enclosing stanza, given as `namespace`).
    public func element(namespace: String = NS.client) -> XMLElement {
        var error = XMLElement(name: "error", namespace: namespace)
        error[attribute: "type"] = type.rawValue
        if let by { error[attribute: "by"] = by }
        var conditionElement = XMLElement(name: condition.rawValue, namespace: NS.stanzas)
        if let conditionText { conditionElement.append(text: conditionText) }
        error.append(conditionElement)
        if let text {
            var textElement = XMLElement(name: "text", namespace: NS.stanzas)
            if let textLanguage { textElement.setAttribute("lang", namespace: xmlNamespaceURI, value: textLanguage) }
            textElement.append(text: text)
            error.append(textElement)
        }
        if let applicationCondition { error.append(applicationCondition) }
        return error
    }

    public var description: String {
        var out = "\(type.rawValue)/\(condition.rawValue)"
        if let applicationCondition { out += " (\(applicationCondition.name))" }
        if let text { out += ": \(text)" }
        return out
    }
}
