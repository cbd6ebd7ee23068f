/// Everything that can go wrong in the DTLS layer. Reasons coming from OpenSSL carry the text of its error queue.
public enum DTLSError: Error, Sendable, Hashable {
    /// The peer's certificate does not hash to the fingerprint signalled out of band (RFC 5763 §5, RFC 8122 §5).
    case fingerprintMismatch(expected: DTLSFingerprint, actual: DTLSFingerprint)
    /// The fingerprint text is not `XX:XX:…` hexadecimal (RFC 8122 §5).
    case invalidFingerprint(String)
    /// No hash function of that name is available to check a fingerprint with.
    case unsupportedFingerprintAlgorithm(String)
    /// The peer completed the handshake without a certificate (RFC 5763 §5 requires one on both sides).
    case missingPeerCertificate
    /// A datagram handed to `receive` is not a sequence of DTLS records (RFC 6347 §4.1).
    case malformedDatagram(String)
    /// The handshake failed; the reason is OpenSSL's, including alerts received from the peer.
    case handshakeFailed(String)
    /// Every retransmission of a flight went unanswered (RFC 6347 §4.2.4.1).
    case handshakeTimedOut
    /// A record failed after the handshake (bad MAC is dropped silently; this is for fatal conditions).
    case protocolError(String)
    /// `start` was not called, or the client received data before starting.
    case notStarted
    /// Application data or key export before the handshake completed and the fingerprint was checked.
    case notConnected
    /// The connection was closed or has failed; it cannot be used any more.
    case closed
    /// DTLS keeps record boundaries, so a message that does not fit one record under the path MTU is refused
    /// rather than split.
    case applicationDataTooLarge(size: Int, limit: Int)
    /// The MTU is below what OpenSSL can fragment a handshake into.
    case invalidMTU(Int)
    /// No `use_srtp` profile was negotiated (RFC 5764 §4.1.1), so there is no SRTP key to export.
    case noSRTPProfileNegotiated
    /// Setting up OpenSSL failed (out of memory, unusable certificate…).
    case openSSL(operation: String, reason: String)
}
