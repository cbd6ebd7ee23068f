/// Which side of the DTLS handshake we are. Jingle's XEP-0320 `setup` attribute and SDP's `a=setup`
/// (RFC 4145 §4) decide it: `active` is the client, `passive` the server (RFC 5763 §5).
public enum DTLSRole: Sendable, Hashable {
    case client
    case server
}

/// SRTP protection profiles negotiated with the DTLS `use_srtp` extension.
public enum DTLSSRTPProfile: String, Sendable, Hashable, CaseIterable {
    /// RFC 5764 §4.1.2, profile 0x0001.
    case aesCM128HmacSHA1_80 = "SRTP_AES128_CM_SHA1_80"
    /// RFC 7714 §14.2, profile 0x0007.
    case aeadAES128GCM = "SRTP_AEAD_AES_128_GCM"

    /// The master key length in bytes.
    public var keyLength: Int { 16 }

    /// The master salt length in bytes: 112 bits for AES-CM (RFC 3711 §8.2), 96 bits for GCM (RFC 7714 §12).
    public var saltLength: Int {
        switch self {
        case .aesCM128HmacSHA1_80: 14
        case .aeadAES128GCM: 12
        }
    }

    /// The two-byte identifier on the wire (RFC 5764 §4.1.2, RFC 7714 §14.2).
    public var protectionProfileID: UInt16 {
        switch self {
        case .aesCM128HmacSHA1_80: 0x0001
        case .aeadAES128GCM: 0x0007
        }
    }

    init?(protectionProfileID: UInt) {
        guard let profile = Self.allCases.first(where: { UInt($0.protectionProfileID) == protectionProfileID }) else { return nil }
        self = profile
    }
}

/// SRTP master keys and salts exported from a DTLS connection (RFC 5764 §4.2).
///
/// The exporter output is `client_key | server_key | client_salt | server_salt`; the client protects what it
/// sends with the client key and salt, the server with the server's. `local…` are ours for protecting what we
/// send, `remote…` are the peer's for unprotecting what we receive.
public struct DTLSSRTPKeyingMaterial: Sendable, Hashable {
    public let profile: DTLSSRTPProfile
    /// Our role in the handshake, which decides local and remote.
    public let role: DTLSRole
    public let clientKey: [UInt8]
    public let clientSalt: [UInt8]
    public let serverKey: [UInt8]
    public let serverSalt: [UInt8]

    public init(profile: DTLSSRTPProfile, role: DTLSRole, clientKey: [UInt8], clientSalt: [UInt8], serverKey: [UInt8], serverSalt: [UInt8]) {
        self.profile = profile
        self.role = role
        self.clientKey = clientKey
        self.clientSalt = clientSalt
        self.serverKey = serverKey
        self.serverSalt = serverSalt
    }

    /// Splits the exporter output laid out as RFC 5764 §4.2 says.
    init(profile: DTLSSRTPProfile, role: DTLSRole, exported: [UInt8]) {
        let k = profile.keyLength
        let s = profile.saltLength
        precondition(exported.count == 2 * (k + s), "exporter returned \(exported.count) bytes")
        self.init(
            profile: profile, role: role,
            clientKey: Array(exported[0..<k]),
            clientSalt: Array(exported[2 * k..<2 * k + s]),
            serverKey: Array(exported[k..<2 * k]),
            serverSalt: Array(exported[2 * k + s..<2 * k + 2 * s])
        )
    }

    public var localKey: [UInt8] { role == .client ? clientKey : serverKey }
    public var localSalt: [UInt8] { role == .client ? clientSalt : serverSalt }
    public var remoteKey: [UInt8] { role == .client ? serverKey : clientKey }
    public var remoteSalt: [UInt8] { role == .client ? serverSalt : clientSalt }
}
