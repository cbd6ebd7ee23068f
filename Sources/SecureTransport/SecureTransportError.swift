public import DTLS
public import ICE
public import PeerStream

/// Everything `DTLSTransport` and `SecureStream` report. Handshake failures keep the fingerprint mismatch
/// apart from other failures so that signalling can tell a forged peer from a broken path.
public enum SecureTransportError: Error, Sendable, Hashable {
    /// The peer's certificate does not hash to the fingerprint signalled out of band (RFC 5763 §5,
    /// RFC 8122 §5). The connection was closed; the peer was sent an alert.
    case fingerprintMismatch(expected: DTLSFingerprint, actual: DTLSFingerprint)
    /// The handshake failed for another reason, including an alert from the peer (for example the peer
    /// rejected our certificate: OpenSSL's text then names the alert, e.g. "bad certificate").
    case handshakeFailed(String)
    /// No handshake completed within `handshakeTimeout`.
    case handshakeTimedOut
    /// A fatal DTLS error after the handshake.
    case dtls(DTLSError)
    /// The ICE agent refused a call (closed agent, unknown stream, …).
    case ice(ICEError)
    /// The stream was aborted; `byPeer` tells whether the peer sent the reason (PeerStream RESET).
    case aborted(PeerStreamAbortReason, byPeer: Bool)
    /// Nothing was heard from the peer for the stream's idle timeout.
    case timedOut
    /// The peer closed the DTLS association (close_notify) before the stream ended cleanly.
    case closedByPeer
    /// `write` after `finish()`.
    case writeAfterFinish
    /// This side closed the transport; no further use is possible.
    case closed
    /// A configuration value that cannot work (for example a datagram budget that does not fit the MTU).
    case invalidConfiguration(String)
}
