public import DTLS

/// Tunables of a `DTLSTransport`.
public struct DTLSTransportConfiguration: Sendable, Hashable {
    /// Largest datagram on the wire (RFC 8445 leaves it to the application; 1200 fits every IPv6 path).
    public var mtu: Int
    /// Largest datagram on the wire that path MTU discovery above DTLS (`SecureStream`, RFC 8899) may reach:
    /// by default the UDP payload of a 1500-byte Ethernet frame over IPv4 (1500 − 20 − 8 = 1472; over IPv6 the
    /// search settles 20 bytes lower). Records start at `mtu` and only grow once a probe of the larger size
    /// came through. Equal to `mtu` turns discovery off; 8972 suits a jumbo-frame LAN (9000).
    public var maxMTU: Int
    /// `use_srtp` profiles offered (client) or accepted (server), RFC 5764 §4.1.1; empty for plain DTLS.
    /// Offered by default so that calls can take SRTP keys from the same handshake.
    public var srtpProfiles: [DTLSSRTPProfile]
    /// First flight retransmission timer (RFC 6347 §4.2.4.1 recommends 1 s).
    public var initialRetransmissionTimeout: Duration
    /// The handshake fails with `handshakeTimedOut` when it has not completed in this time.
    public var handshakeTimeout: Duration
    /// Test and benchmark facility: the probability (0…1) that an outgoing datagram carrying application
    /// data is dropped instead of sent, from a generator seeded with `lossInjectionSeed` so a run can be
    /// repeated. Handshake flights are never dropped (their loss is covered by the DTLS tests and would only
    /// add retransmission timeouts). Keep 0 in production.
    public var lossInjection: Double
    public var lossInjectionSeed: UInt64

    public init(
        mtu: Int = 1200,
        maxMTU: Int = 1472,
        srtpProfiles: [DTLSSRTPProfile] = [.aeadAES128GCM, .aesCM128HmacSHA1_80],
        initialRetransmissionTimeout: Duration = .seconds(1),
        handshakeTimeout: Duration = .seconds(15),
        lossInjection: Double = 0,
        lossInjectionSeed: UInt64 = 0x5EC0_12E5_7EA4
    ) {
        self.mtu = mtu
        self.maxMTU = maxMTU
        self.srtpProfiles = srtpProfiles
        self.initialRetransmissionTimeout = initialRetransmissionTimeout
        self.handshakeTimeout = handshakeTimeout
        self.lossInjection = lossInjection
        self.lossInjectionSeed = lossInjectionSeed
    }
}

/// Counters of one `DTLSTransport`.
public struct DTLSTransportStatistics: Sendable, Hashable {
    /// Datagrams handed to ICE (handshake and application data).
    public var datagramsSent = 0
    /// DTLS datagrams received on the component.
    public var datagramsReceived = 0
    /// Application-data datagrams dropped by `lossInjection`.
    public var datagramsDroppedByLossInjection = 0
    /// Datagrams ICE could not send (socket buffer full …); the layer above treats them as lost.
    public var sendFailures = 0
    /// Received datagrams that were not DTLS records (dropped, RFC 7983 §7) or did not parse.
    public var datagramsDiscarded = 0
    /// RTP/RTCP datagrams passed to the media handler.
    public var mediaDatagramsReceived = 0

    public init() {}
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, seedable, good enough to decide which datagram to drop.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
