import XMLStream
import XMPPCore

/// Every way an XMPP link can fail, typed so callers can react (and tests can assert) without parsing text.
public enum XMPPLinkError: Error, Sendable, Hashable, CustomStringConvertible {
    /// TCP connect failed (refused, unreachable, timed out).
    case connectionFailed(host: String, port: Int, reason: String)
    /// The TCP connection ended without a closing `</stream:stream>`.
    case connectionLost
    /// The TLS handshake failed (untrusted certificate, wrong name, protocol error).
    case tlsFailed(String)
    /// TLS is required by our configuration but the server did not offer STARTTLS (RFC 6120 §5.3.1).
    case tlsUnavailable
    /// The peer sent a stream error (RFC 6120 §4.9): its defined condition and optional text.
    case streamError(condition: String, text: String?)
    /// SASL authentication failed (RFC 6120 §6.5): the server's condition and optional text.
    case saslFailed(condition: String, text: String?)
    /// None of the offered SASL mechanisms is acceptable (PLAIN without TLS is refused unless allowed).
    case noAcceptableMechanism(offered: [String])
    /// The SCRAM server signature did not verify (RFC 5802 §5.1 `v=`): the server does not know the password.
    case serverSignatureMismatch
    /// The SCRAM exchange was malformed (bad nonce, missing salt, …).
    case scramProtocol(String)
    /// Resource binding failed (RFC 6120 §7.6.2).
    case bindFailed(StanzaError)
    /// The peer's XML broke a rule or a limit; we answered with the matching stream error.
    case xml(XMLStreamError)
    /// The peer broke the stream protocol (an unexpected element or header).
    case protocolViolation(String)
    /// An IQ got no answer in time.
    case timeout
    /// An IQ was answered with `type='error'`.
    case stanzaError(StanzaError)
    /// The link is not (or no longer) connected.
    case notConnected
    /// The XEP-0114 handshake was refused.
    case handshakeRefused
    /// A configuration value is invalid.
    case invalidConfiguration(String)
    /// A feature this library does not implement.
    case unsupported(String)
    /// The server sent `<see-other-host/>` (RFC 6120 §4.9.3.19): the host (and port) to connect to instead.
    /// `XMPPClient` follows it; it surfaces only when the target is unusable or redirects keep coming.
    case seeOtherHost(String)

    public var description: String {
        switch self {
        case .connectionFailed(let host, let port, let reason): "cannot connect to \(host):\(port): \(reason)"
        case .connectionLost: "connection lost"
        case .tlsFailed(let why): "TLS failed: \(why)"
        case .tlsUnavailable: "server does not offer STARTTLS but TLS is required"
        case .streamError(let condition, let text): "stream error \(condition)" + (text.map { ": \($0)" } ?? "")
        case .saslFailed(let condition, let text): "authentication failed: \(condition)" + (text.map { ": \($0)" } ?? "")
        case .noAcceptableMechanism(let offered): "no acceptable SASL mechanism among \(offered)"
        case .serverSignatureMismatch: "SCRAM server signature does not verify"
        case .scramProtocol(let why): "SCRAM protocol error: \(why)"
        case .bindFailed(let error): "resource binding failed: \(error)"
        case .xml(let error): "XML error from peer: \(error)"
        case .protocolViolation(let why): "protocol violation: \(why)"
        case .timeout: "timed out"
        case .stanzaError(let error): "stanza error \(error)"
        case .notConnected: "not connected"
        case .handshakeRefused: "component handshake refused"
        case .invalidConfiguration(let why): "invalid configuration: \(why)"
        case .unsupported(let what): "unsupported: \(what)"
        case .seeOtherHost(let target): "the server redirects to \(target) (see-other-host)"
        }
    }
}
