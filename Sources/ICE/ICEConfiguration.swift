/// How an `ICEAgent` gathers and checks candidates. Defaults suit Jingle ICE-UDP (XEP-0176): full agent,
/// trickle, aggressive nomination, consent freshness on, UPnP and ICE-TCP off.
public struct ICEConfiguration: Sendable, Hashable {
    /// RFC 8445 §6.1.1: exactly one side controls nomination.
    public enum Role: Sendable, Hashable {
        case controlling
        case controlled
    }

    /// The ICE dialect. Only RFC 5245/8445 ICE is offered; libnice's Google/MSN/OC2007 dialects are not.
    public enum Compatibility: Sendable, Hashable {
        case rfc5245
    }

    /// RFC 5245 §8.1.1: aggressive nomination sets USE-CANDIDATE on every check; regular nominates a
    /// validated pair afterwards (RFC 8445 deprecates aggressive nomination; it is faster on loopback).
    public enum Nomination: Sendable, Hashable {
        case aggressive
        case regular
    }

    /// A STUN server; libnice needs an IP literal (no DNS lookup here).
    public struct STUNServer: Sendable, Hashable {
        public var address: String
        public var port: UInt16
        public init(address: String, port: UInt16 = 3478) {
            self.address = address
            self.port = port
        }
    }

    /// A TURN server (RFC 8656) for relay candidates; the address must be an IP literal.
    public struct TURNServer: Sendable, Hashable {
        public enum Transport: Sendable, Hashable {
            case udp
            case tcp
            case tls
        }
        public var address: String
        public var port: UInt16
        public var username: String
        public var password: String
        public var transport: Transport
        public init(address: String, port: UInt16 = 3478, username: String, password: String, transport: Transport = .udp) {
            self.address = address
            self.port = port
            self.username = username
            self.password = password
            self.transport = transport
        }
    }

    public var role: Role
    public var compatibility: Compatibility
    /// Reliable transport: pseudo-TCP over the selected UDP pair (libnice's `RELIABLE` option).
    public var reliable: Bool
    /// `false` makes a lite agent (RFC 8445 §2.5).
    public var fullMode: Bool
    /// Trickle ICE (RFC 8838): failure waits for `endOfRemoteCandidates`.
    public var trickle: Bool
    public var nomination: Nomination
    /// RFC 7675 consent freshness (binding requests as keepalives; consent loss fails the component).
    public var consentFreshness: Bool
    /// Restrict host candidates to these IP literals (e.g. `["127.0.0.1"]`); empty = every interface.
    public var localAddresses: [String]
    public var stunServer: STUNServer?
    public var turnServers: [TURNServer]
    /// Offer only relay candidates (libnice `force-relay`), hiding local addresses.
    public var relayOnly: Bool
    public var upnp: Bool
    /// ICE-TCP candidates (RFC 6544).
    public var iceTCP: Bool
    /// Host candidate ports; gathering fails when none in the range is free.
    public var portRange: ClosedRange<UInt16>?
    /// Initial STUN retransmission timeout (RTO, RFC 8489 §6.2.1), in milliseconds; nil keeps libnice's.
    public var stunInitialTimeoutMilliseconds: Int?
    /// STUN retransmissions (Rc, RFC 8489 §6.2.1); nil keeps libnice's 7.
    public var stunMaxRetransmissions: Int?
    /// Delay before an idle check list is declared failed, in milliseconds; nil keeps libnice's 5000.
    public var idleTimeoutMilliseconds: Int?
    /// Route libnice's debug output (GLib domain "libnice") into swift-log at `.debug`. Process-wide once on.
    public var debugLogging: Bool
    /// `ICEAgent.sendBatch` writes straight to the selected pair's UDP socket (sendmmsg(2), UDP GSO) when
    /// the pair allows it (a host/server-reflexive/peer-reflexive local candidate over UDP, unreliable mode);
    /// off: every datagram goes through `nice_agent_send`.
    public var directSend: Bool
    /// When set, SO_SNDBUF/SO_RCVBUF of the selected pair's socket are set to this many bytes (the kernel
    /// caps them at net.core.wmem_max/rmem_max; nil keeps the system default, ~208 KiB on Linux). The default,
    /// 1 MiB, lets a bulk SecureStream on loopback reach 150-230 MB/s instead of 120-150 MB/s with the system
    /// default, whose overflow cuts the congestion window every few milliseconds (bench-transport-throughput,
    /// SJ_SOCKBUF; 2-4 MiB did no better: the window then grows until one large burst overflows).
    public var socketBufferBytes: Int?

    public init(
        role: Role = .controlling,
        compatibility: Compatibility = .rfc5245,
        reliable: Bool = false,
        fullMode: Bool = true,
        trickle: Bool = true,
        nomination: Nomination = .aggressive,
        consentFreshness: Bool = true,
        localAddresses: [String] = [],
        stunServer: STUNServer? = nil,
        turnServers: [TURNServer] = [],
        relayOnly: Bool = false,
        upnp: Bool = false,
        iceTCP: Bool = false,
        portRange: ClosedRange<UInt16>? = nil,
        stunInitialTimeoutMilliseconds: Int? = nil,
        stunMaxRetransmissions: Int? = nil,
        idleTimeoutMilliseconds: Int? = nil,
        debugLogging: Bool = false,
        directSend: Bool = true,
        socketBufferBytes: Int? = 1 << 20
    ) {
        self.role = role
        self.compatibility = compatibility
        self.reliable = reliable
        self.fullMode = fullMode
        self.trickle = trickle
        self.nomination = nomination
        self.consentFreshness = consentFreshness
        self.localAddresses = localAddresses
        self.stunServer = stunServer
        self.turnServers = turnServers
        self.relayOnly = relayOnly
        self.upnp = upnp
        self.iceTCP = iceTCP
        self.portRange = portRange
        self.stunInitialTimeoutMilliseconds = stunInitialTimeoutMilliseconds
        self.stunMaxRetransmissions = stunMaxRetransmissions
        self.idleTimeoutMilliseconds = idleTimeoutMilliseconds
        self.debugLogging = debugLogging
        self.directSend = directSend
        self.socketBufferBytes = socketBufferBytes
    }
}
