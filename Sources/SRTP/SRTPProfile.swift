/// SRTP crypto transforms this target offers, named as in RFC 5764 §4.1.2 / RFC 7714 §14.2 so that keys
/// exported from DTLS map across by raw value.
public enum SRTPProfile: String, Sendable, Hashable, CaseIterable {
    /// AES-128 counter mode with an 80-bit HMAC-SHA1 tag (RFC 3711 §4, §5.2; RFC 4568 §6.2.1).
    case aesCM128HmacSHA1_80 = "SRTP_AES128_CM_SHA1_80"
    /// AES-128 GCM with a 16-byte tag (RFC 7714).
    case aeadAES128GCM = "SRTP_AEAD_AES_128_GCM"

    /// The master key length in bytes.
    public var keyLength: Int { 16 }

    /// The master salt length: 112 bits for AES-CM (RFC 3711 §8.2), 96 bits for GCM (RFC 7714 §12).
    public var saltLength: Int {
        switch self {
        case .aesCM128HmacSHA1_80: 14
        case .aeadAES128GCM: 12
        }
    }

    /// Bytes added to each SRTP packet: the authentication tag (RFC 3711 §3.1, RFC 7714 §7.2).
    public var rtpOverhead: Int {
        switch self {
        case .aesCM128HmacSHA1_80: 10
        case .aeadAES128GCM: 16
        }
    }

    /// Bytes added to each SRTCP packet: the E flag and index word plus the tag (RFC 3711 §3.4).
    public var rtcpOverhead: Int { 4 + rtpOverhead }

    /// The crypto-suite name in an SDES `a=crypto` line (RFC 4568 §6.2, RFC 7714 §14.2).
    public var sdesName: String {
        switch self {
        case .aesCM128HmacSHA1_80: "AES_CM_128_HMAC_SHA1_80"
        case .aeadAES128GCM: "AEAD_AES_128_GCM"
        }
    }

    /// Looks a profile up by its SDES crypto-suite name.
    public init?(sdesName: String) {
        guard let profile = Self.allCases.first(where: { $0.sdesName == sdesName }) else { return nil }
        self = profile
    }
}

/// Whether a session protects what we send or unprotects what we receive. libsrtp keeps separate replay state
/// per direction, and a key must never protect in both (RFC 3711 §9.1).
public enum SRTPDirection: Sendable, Hashable {
    case outbound
    case inbound
}

/// Counts kept by a session. Packets that fail authentication or replay checks are dropped and counted here,
/// never handed on.
public struct SRTPStatistics: Sendable, Hashable {
    /// Packets protected (RTP and RTCP).
    public var protected = 0
    /// Packets that passed authentication and replay checks (RTP and RTCP).
    public var unprotected = 0
    /// Packets dropped because their tag did not verify (RFC 3711 §3.3 step 5).
    public var authFailures = 0
    /// Packets dropped as replayed or older than the replay window (RFC 3711 §3.3.2).
    public var replays = 0
    /// Packets dropped because they were not well-formed RTP/RTCP.
    public var malformed = 0

    public init() {}
}

public enum SRTPError: Error, Sendable, Hashable {
    /// The authentication tag did not verify; the packet was dropped.
    case authenticationFailed
    /// The packet was already received or is older than the replay window; it was dropped.
    case replay
    /// Not a well-formed RTP (RFC 3550 §5.1) or RTCP (RFC 3550 §6.4) packet.
    case malformedPacket(String)
    /// The in-place buffer has no room for the tag libsrtp appends.
    case bufferTooSmall(needed: Int, capacity: Int)
    case invalidKeyLength(expected: Int, actual: Int)
    case invalidSaltLength(expected: Int, actual: Int)
    /// Protect on an inbound session or unprotect on an outbound one.
    case wrongDirection
    /// SDES key parameters that do not parse (RFC 4568 §6.1).
    case invalidKeyParams(String)
    /// Something this target does not implement, named.
    case unsupported(String)
    /// Any other libsrtp status, with the operation that returned it.
    case libsrtp(operation: String, status: UInt32)
}
