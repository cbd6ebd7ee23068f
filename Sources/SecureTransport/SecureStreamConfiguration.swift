import DTLS
public import PeerStream

/// Tunables of a `SecureStream`: the DTLS transport below and the PeerStream connection on top.
public struct SecureStreamConfiguration: Sendable, Hashable {
    /// How PeerStream datagrams are protected on the wire. Both ends must use the same.
    public enum PacketProtectionMode: Sendable, Hashable {
        /// AES-128-GCM under keys exported from the DTLS handshake (RFC 5705, `DTLS.PacketProtection`): the
        /// PeerStream header (its first byte moved into 80…127, the range RFC 9443 §5 leaves to QUIC, so the
        /// RFC 7983 demultiplexer tells it from DTLS, STUN and RTP) authenticated in the clear, the rest
        /// encrypted, a 16-byte tag; the packet number is the nonce. DTLS keeps the handshake and close_notify.
        case exportedKeys
        /// Every PeerStream datagram in its own DTLS 1.2 application-data record (37 bytes with AES-GCM).
        case dtlsRecords

        /// Bytes each protected datagram adds to the PeerStream datagram.
        public var overhead: Int {
            switch self {
            case .exportedKeys: 16
            case .dtlsRecords: 37
            }
        }
    }

    public var transport: DTLSTransportConfiguration
    public var packetProtection: PacketProtectionMode
    /// Both ends must use the same `connectionID` and `maxDatagramSize`. The datagram budget must leave room
    /// for the protection overhead under `transport.mtu` (`packetProtection.overhead`: 1200 → 1184 with
    /// exported keys, 1200 → 1163 with DTLS records).
    public var stream: PeerStreamConfiguration
    /// Packet numbers per AES-GCM key with `.exportedKeys` (`PacketProtection.keyUpdateInterval`). Both ends
    /// must agree, so it is not public: tests lower it to cross many key changes in a short transfer.
    var keyUpdateInterval: UInt64 = PacketProtection.defaultKeyUpdateInterval

    public init(
        transport: DTLSTransportConfiguration = DTLSTransportConfiguration(),
        stream: PeerStreamConfiguration = SecureStreamConfiguration.defaultStream,
        packetProtection: PacketProtectionMode = .exportedKeys
    ) {
        self.transport = transport
        self.stream = stream
        self.packetProtection = packetProtection
    }

    /// PeerStream's defaults with connection id 1, except ACK frequency: an ACK after every 4 ack-eliciting
    /// packets instead of 2, and at most 1 ms later instead of 5 ms (RFC 9000 §13.2.2 lets a receiver ACK
    /// less often). Here every ACK is a whole protected datagram, encrypted, sent and decrypted with a system call on
    /// each side, so with 2 a third of all datagrams were ACKs; the shorter delay bounds the wait when fewer
    /// packets than that are in flight. Measured (bench-transport-throughput, shared 2-core machine):
    ///   loopback 128 MiB        2: 63-64 MB/s   4: 70-78 MB/s   8: 71-86 MB/s
    ///   impaired (2 %, 100 Mbit) 2: 9.3 MB/s    4: 10.3 MB/s    8: 9.4-10.2 MB/s
    ///   5 % loss test (debug)    2: 9.5-10.5 s  4: 10.8-11.2 s  8: 16.6 s
    /// 8 stalls on lossy paths, where the congestion window holds fewer than 8 packets; 4 is the balance.
    /// Measured again with wire v2, 1472-byte datagrams and exported-key protection (ACKs are ~70 bytes on
    /// the wire now, and the 1 ms delay already caps them at ~1000/s on a slow path):
    ///   loopback 512 MiB, ours only   4: 438-510 MB/s   8: 498-510 MB/s   16: 411-508 MB/s
    ///   impaired (32 MiB)            4: ratio 1.02-1.03 (one outlier 0.76)   8: 1.02   16: 1.02-1.09
    ///   5 % loss test (debug)        4: 8.4-8.6 s       8: 15.4-15.6 s     16: 16.3-16.4 s
    /// Neither benchmark tells the thresholds apart while 8 and 16 still nearly double the 5 % loss test, so
    /// 4 stays and no adaptive scheme was added.
    /// Both ends must use the same `maxAckDelay` (the peer's probe timeout assumes it). A 0.7 loss reduction
    /// and a 16- or 64-packet window floor did not help and were left out.
    ///
    /// At most 4 SACK ranges per ACK instead of 32, as TCP's SACK option carries at most 4 blocks (RFC 2018
    /// §3) and RFC 9000 §13.2.4 lets a receiver limit the ranges it reports. On a lossy path every ACK
    /// otherwise soon carries all 32 (35 + 32 × 16 bytes + the DTLS record, ~620 bytes on the wire per 4 data
    /// packets, ~12 % of the path's capacity spent on ACKs). One gap stays in ~4 successive gaps' worth of
    /// ACKs (~50 ACKs at 2 % loss), so a few lost ACKs do not hide it. Measured (impaired benchmark, 32 MiB,
    /// 2 % loss, 100 Mbit/s): 32 ranges 10.9 MB/s, 4 ranges 11.3 MB/s, kernel TCP 11.0.
    public static var defaultStream: PeerStreamConfiguration {
        PeerStreamConfiguration(connectionID: 1, maxDatagramSize: 1200 - PacketProtectionMode.exportedKeys.overhead,
                                maxAckDelay: .milliseconds(1), ackElicitingThreshold: 4, maxAckRanges: 4)
    }

    /// Checks what `PeerStreamConnection` would otherwise stop on with a precondition, and that a PeerStream
    /// datagram plus the protection overhead (`packetProtection.overhead`) fits the MTU.
    public func validate() throws(SecureTransportError) {
        let s = stream
        func require(_ condition: Bool, _ text: String) throws(SecureTransportError) {
            if !condition { throw .invalidConfiguration(text) }
        }
        let overhead = packetProtection.overhead
        try require(s.maxDatagramSize >= 64 && s.maxDatagramSize + overhead <= transport.mtu,
                    "stream.maxDatagramSize \(s.maxDatagramSize) + \(overhead) bytes of protection overhead must fit mtu \(transport.mtu)")
        try require(s.receiveWindow >= Int(PeerStreamConnection.initialFlowControlLimit), "stream.receiveWindow below 64 KiB")
        try require(s.sendBufferCapacity > 0, "stream.sendBufferCapacity must be positive")
        try require(s.ackElicitingThreshold >= 1, "stream.ackElicitingThreshold must be at least 1")
        try require(s.maxAckRanges >= 1 && s.maxAckRanges <= PeerStreamPacket.maxAckRanges
                    && PeerStreamPacket.ackFixedSize + s.maxAckRanges * PeerStreamPacket.ackRangeSize <= s.maxDatagramSize,
                    "stream.maxAckRanges must fit the datagram budget")
        try require(s.minimumWindowPackets >= 1 && s.initialWindowPackets >= s.minimumWindowPackets,
                    "stream windows: need 1 <= minimumWindowPackets <= initialWindowPackets")
        try require(s.lossReductionFactor > 0 && s.lossReductionFactor < 1, "stream.lossReductionFactor must be in (0, 1)")
        try require(s.maxBurstPackets >= 1, "stream.maxBurstPackets must be at least 1")
        try require(s.pacingGranularity >= .zero, "stream.pacingGranularity must not be negative")
        try require((0...1).contains(transport.lossInjection), "transport.lossInjection must be within 0…1")
        try require(transport.maxMTU >= transport.mtu && transport.maxMTU <= 65_507,
                    "transport.maxMTU \(transport.maxMTU) must be within mtu \(transport.mtu)…65507")
        if let probed = s.maxProbedDatagramSize {
            try require(probed >= s.maxDatagramSize && probed + overhead <= transport.maxMTU,
                        "stream.maxProbedDatagramSize \(probed) + \(overhead) bytes of protection overhead must fit maxMTU \(transport.maxMTU)")
        }
        try require(s.pathMTURaiseInterval > .zero, "stream.pathMTURaiseInterval must be positive")
    }

    /// Test and benchmark facility, forwarded to `transport.lossInjection`: drop this fraction (0…1) of
    /// outgoing application-data datagrams, seeded so runs repeat.
    public var lossInjection: Double {
        get { transport.lossInjection }
        set { transport.lossInjection = newValue }
    }
}

/// What a `SecureStream` holds and has done.
public struct SecureStreamStatistics: Sendable, Hashable {
    /// The PeerStream machine's counters (packets, retransmissions, RTT, congestion window).
    public var stream: PeerStreamStatistics
    /// The DTLS transport's counters (datagrams, injected losses).
    public var transport: DTLSTransportStatistics
    /// The PeerStream datagram size in use (`stream.datagramSize`: the base size, or larger once path MTU
    /// discovery confirmed it) and the UDP payload it makes with the DTLS record overhead.
    public var datagramSize: Int
    public var udpPayloadSize: Int
    /// Protected packets (exported keys) that did not authenticate or had no header: dropped.
    public var packetsDiscarded: Int
    /// Bytes accepted by `write` and not yet acknowledged by the peer (≤ `sendBufferCapacity`).
    public var bufferedForSending: Int
    /// Bytes of the receive buffer in use: received, not yet read (≤ `receiveWindow`).
    public var bufferedForReading: Int
}
