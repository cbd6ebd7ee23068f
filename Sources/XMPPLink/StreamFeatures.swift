import XMLStream
import XMPPCore

/// What a `<stream:features/>` element offers (RFC 6120 §4.3.2), read once so the machine can decide.
public struct StreamFeatures: Sendable, Hashable {
    /// The whole element, for features this type does not model.
    public var element: XMLElement

    public init(element: XMLElement) { self.element = element }

    /// RFC 6120 §5.4.1.
    public var startTLS: Bool { element.child("starttls", namespace: NS.tls) != nil }
    /// RFC 6120 §6.4.1, in the server's order.
    public var saslMechanisms: [String] {
        element.child("mechanisms", namespace: NS.sasl)?.children("mechanism", namespace: NS.sasl).map(\.text) ?? []
    }
    /// RFC 6120 §7.4.
    public var bind: Bool { element.child("bind", namespace: NS.bind) != nil }
    /// RFC 3921 §3 session establishment, needed only when not marked `<optional/>` (RFC 6121 Appendix E).
    public var sessionRequired: Bool {
        guard let session = element.child("session", namespace: NS.session) else { return false }
        return session.child("optional") == nil
    }
    /// XEP-0198 §2.
    public var streamManagement: Bool { element.child("sm", namespace: NS.streamManagement) != nil }
    /// The server's XEP-0115 caps, if it announced them.
    public var capsVersion: String? { element.child("c", namespace: NS.caps)?[attribute: "ver"] }
}
