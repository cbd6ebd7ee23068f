import XMLStream
import XMPPCore

/// The `<reason/>` element (XEP-0166 §7.4): a condition, optional human-readable text and optional
/// application-specific detail (e.g. XEP-0167 `<crypto-required/>`).
public struct JingleReason: Sendable, Hashable {
    /// Every condition XEP-0166 §7.4 defines.
    public enum Condition: String, Sendable, Hashable, CaseIterable {
        case alternativeSession = "alternative-session"
        case busy, cancel
        case connectivityError = "connectivity-error"
        case decline, expired
        case failedApplication = "failed-application"
        case failedTransport = "failed-transport"
        case generalError = "general-error"
        case gone
        case incompatibleParameters = "incompatible-parameters"
        case mediaError = "media-error"
        case securityError = "security-error"
        case success, timeout
        case unsupportedApplications = "unsupported-applications"
        case unsupportedTransports = "unsupported-transports"
    }

    public var condition: Condition
    /// The session to switch to, for `alternative-session` (XEP-0166 §7.4: `<sid/>` child).
    public var alternativeSessionID: String?
    public var text: String?
    /// `xml:lang` of the text (RFC 6120 §8.3.2 style language tag).
    public var textLanguage: String?
    /// Further elements (application-specific conditions).
    public var extensions: [XMLElement]
    /// Attributes no codec here understands, written back unchanged.
    public var extraAttributes: [XMLAttribute] = []
    var layout = SourceLayout()

    public static let section = "XEP-0166 §7.4"

    public init(_ condition: Condition, text: String? = nil, alternativeSessionID: String? = nil, extensions: [XMLElement] = []) {
        self.condition = condition
        self.text = text
        self.alternativeSessionID = alternativeSessionID
        self.extensions = extensions
    }

    public init(element: XMLElement) throws(JingleParseError) {
        var r = try ElementReader(element, name: "reason", namespace: NS.jingle, section: Self.section)
        var found: Condition?
        var sid: String?
        for child in r.children(names: Set(Condition.allCases.map(\.rawValue)), namespace: NS.jingle) {
            if found != nil { throw r.error(.unexpectedElement(name: child.name, namespace: child.namespace)) }
            found = Condition(rawValue: child.name)
            if found == .alternativeSession {
                guard let s = child.child("sid", namespace: NS.jingle)?.text, !s.isEmpty else {
                    throw JingleParseError(.missingChild("sid"), element: "alternative-session", section: Self.section)
                }
                sid = s
            }
        }
        guard let condition = found else { throw r.error(.missingChild("condition")) }
        self.condition = condition
        self.alternativeSessionID = sid
        if let t = r.child("text", namespace: NS.jingle) {
            text = t.text
            textLanguage = t.attribute("lang", namespace: xmlNamespaceURI)
        }
        extensions = r.remainingChildren
        extraAttributes = r.remainingAttributes
        layout = r.layout
    }

    public func element() -> XMLElement {
        var e = XMLElement(name: "reason", namespace: NS.jingle)
        var c = XMLElement(name: condition.rawValue, namespace: NS.jingle)
        if let alternativeSessionID { c.append(XMLElement("sid", namespace: NS.jingle, text: alternativeSessionID)) }
        e.append(c)
        if let text {
            var t = XMLElement("text", namespace: NS.jingle, text: text)
            if let textLanguage { t.setAttribute("lang", namespace: xmlNamespaceURI, value: textLanguage) }
            e.append(t)
        }
        e.finish(extraAttributes: extraAttributes, extensions: extensions, layout: layout)
        return e
    }
}

/// The Jingle-specific error conditions (`urn:xmpp:jingle:errors:1`, XEP-0166 §8), carried inside a stanza error.
public enum JingleErrorCondition: String, Sendable, Hashable, CaseIterable {
    case outOfOrder = "out-of-order"
    case tieBreak = "tie-break"
    case unknownSession = "unknown-session"
    case unsupportedInfo = "unsupported-info"
    case securityRequired = "security-required"

    /// The stanza error condition XEP-0166 §8 pairs with each.
    public var stanzaCondition: StanzaError.Condition {
        switch self {
        case .outOfOrder: .unexpectedRequest
        case .tieBreak: .conflict
        case .unknownSession: .itemNotFound
        case .unsupportedInfo: .featureNotImplemented
        case .securityRequired: .notAcceptable
        }
    }

    public var element: XMLElement { XMLElement(name: rawValue, namespace: NS.jingleErrors) }

    /// The error type of the XEP-0166 examples: `modify` for unsupported-info (Example 31), `cancel` otherwise
    /// (Examples 29, 34, 37; §7.2 for out-of-order).
    public var errorType: StanzaError.ErrorType { self == .unsupportedInfo ? .modify : .cancel }

    /// The full stanza error: defined condition plus this application condition.
    public var stanzaError: StanzaError {
        StanzaError(stanzaCondition, type: errorType, applicationCondition: element)
    }

    /// The Jingle condition of a stanza error, if it carries one.
    public init?(_ error: StanzaError) {
        guard let app = error.applicationCondition, app.namespace == NS.jingleErrors,
              let c = JingleErrorCondition(rawValue: app.name) else { return nil }
        self = c
    }
}
