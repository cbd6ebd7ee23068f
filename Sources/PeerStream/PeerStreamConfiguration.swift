/// Tunables of one connection. Both ends must agree on `connectionID`; everything else is local.
public struct PeerStreamConfiguration: Hashable, Sendable {
    /// Identifies the stream on the shared ICE component; a datagram with another id is rejected.
    public var connectionID: UInt32
    /// Largest datagram this side produces, headers included. The default is the 1200-byte ICE path budget
    /// minus the DTLS 1.2 AES-GCM record overhead (13-byte header + 8-byte explicit nonce + 16-byte tag).
    public var maxDatagramSize: Int
    /// Largest datagram Datagram Packetization Layer PMTU Discovery (RFC 8899) may raise the size to; nil
    /// (the default) keeps every datagram at `maxDatagramSize`. The connection starts at `maxDatagramSize`
    /// (the base size, RFC 8899 §5.1.2: the path is assumed to carry it), probes larger sizes with padded
    /// PROBE packets and raises the size once a probe is acknowledged. Both ends must set it alike: a
    /// receiver accepts datagrams up to `largestDatagramSize` only (a larger probe then simply fails).
    public var maxProbedDatagramSize: Int?
    /// How long a completed search (or a fall-back after a black hole) stands before probing again
    /// (RFC 8899 §5.1.1 PMTU_RAISE_TIMER: 600 s).
    public var pathMTURaiseInterval: Duration
    /// Receive buffer = the most this side ever lets the peer have outstanding beyond what the application
    /// has read (the advertised flow-control window). At least `PeerStreamConnection.initialFlowControlLimit`.
    public var receiveWindow: Int
    /// Bytes `write` accepts that are not yet acknowledged by the peer.
    public var sendBufferCapacity: Int
    /// Longest this side delays an ACK (RFC 9000 §13.2.1); the peer is assumed to use the same value when
    /// computing its probe timeout.
    public var maxAckDelay: Duration
    /// Ack-eliciting packets received before an ACK is sent at once (RFC 9000 §13.2.2 recommends 2).
    public var ackElicitingThreshold: Int
    /// Most SACK ranges one ACK carries (at most `PeerStreamPacket.maxAckRanges`).
    public var maxAckRanges: Int
    /// RTT assumed before the first sample (RFC 9002 §6.2.2: 333 ms).
    public var initialRTT: Duration
    /// Initial congestion window in datagrams (RFC 9002 §7.2: 10).
    public var initialWindowPackets: Int
    /// Floor of the congestion window in datagrams (RFC 9002 §7.2: 2).
    public var minimumWindowPackets: Int
    /// Multiplicative decrease on a congestion event (RFC 9002 §7.3.2: 0.5).
    public var lossReductionFactor: Double
    /// Pace sends at 1.25 × cwnd / smoothed RTT (RFC 9002 §7.7).
    public var pacing: Bool
    /// Largest burst, in datagrams, that pacing lets out back to back…
    public var maxBurstPackets: Int
    /// …unless the pacing rate fills more than that in this time: the timer resolution the driver can
    /// honour. On a sub-millisecond path (loopback, LAN) the burst may then reach one such interval of the
    /// pacing rate, so a driver that wakes up once per millisecond still runs at full rate.
    public var pacingGranularity: Duration
    /// Silence from the peer after which the connection times out (RFC 9000 §10.1).
    public var idleTimeout: Duration
    /// Send a PING after this much quiet so NAT bindings and the peer's idle timer stay alive; nil disables.
    public var keepaliveInterval: Duration?

    public init(
        connectionID: UInt32,
        maxDatagramSize: Int = PeerStreamConfiguration.defaultMaxDatagramSize,
        maxProbedDatagramSize: Int? = nil,
        pathMTURaiseInterval: Duration = .seconds(600),
        receiveWindow: Int = 4 << 20,
        sendBufferCapacity: Int = 4 << 20,
        maxAckDelay: Duration = .milliseconds(5),
        ackElicitingThreshold: Int = 2,
        maxAckRanges: Int = 32,
        initialRTT: Duration = .milliseconds(333),
        initialWindowPackets: Int = 10,
        minimumWindowPackets: Int = 2,
        lossReductionFactor: Double = 0.5,
        pacing: Bool = true,
        maxBurstPackets: Int = 16,
        pacingGranularity: Duration = .milliseconds(1),
        idleTimeout: Duration = .seconds(30),
        keepaliveInterval: Duration? = .seconds(10)
    ) {
        self.connectionID = connectionID
        self.maxDatagramSize = maxDatagramSize
        self.maxProbedDatagramSize = maxProbedDatagramSize
        self.pathMTURaiseInterval = pathMTURaiseInterval
        self.receiveWindow = receiveWindow
        self.sendBufferCapacity = sendBufferCapacity
        self.maxAckDelay = maxAckDelay
        self.ackElicitingThreshold = ackElicitingThreshold
        self.maxAckRanges = maxAckRanges
        self.initialRTT = initialRTT
        self.initialWindowPackets = initialWindowPackets
        self.minimumWindowPackets = minimumWindowPackets
        self.lossReductionFactor = lossReductionFactor
        self.pacing = pacing
        self.maxBurstPackets = maxBurstPackets
        self.pacingGranularity = pacingGranularity
        self.idleTimeout = idleTimeout
        self.keepaliveInterval = keepaliveInterval
    }

    /// 1200 − 37: the ICE path budget minus DTLS 1.2 AES-GCM record overhead.
    public static let defaultMaxDatagramSize = 1163

    /// Largest DATA payload under `maxDatagramSize` whatever the packet number and offset (the usual header
    /// is smaller: 7 bytes up to packet 2^30 and offset 1 GiB, so a packet usually carries more).
    public var maxPayload: Int { maxDatagramSize - PeerStreamPacket.dataHeaderSize }

    /// The largest datagram either end may send: the most this side accepts and the size of the buffer
    /// `nextDatagram` needs.
    public var largestDatagramSize: Int { max(maxDatagramSize, maxProbedDatagramSize ?? 0) }
}
