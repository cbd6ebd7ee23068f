public import PeerStream

/// Tunables of a `SecureStream`: the DTLS transport below and the PeerStream connection on top.
public struct SecureStreamConfiguration: Sendable, Hashable {
    public var transport: DTLSTransportConfiguration
    /// Both ends must use the same `connectionID` and `maxDatagramSize`. The datagram budget must leave room
    /// for the DTLS record overhead under `transport.mtu` (37 bytes with AES-GCM: 1200 → 1163).
    public var stream: PeerStreamConfiguration

    public init(
        transport: DTLSTransportConfiguration = DTLSTransportConfiguration(),
        stream: PeerStreamConfiguration = SecureStreamConfiguration.defaultStream
    ) {
        self.transport = transport
        self.stream = stream
    }

    /// PeerStream's own defaults with connection id 1. (Measured on the impaired benchmark path and left as
    /// they are: a 0.7 loss reduction, a 16- or 64-packet window floor and 4 packets per ACK did not help.)
    public static var defaultStream: PeerStreamConfiguration {
        PeerStreamConfiguration(connectionID: 1)
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
    /// Bytes accepted by `write` and not yet acknowledged by the peer (≤ `sendBufferCapacity`).
    public var bufferedForSending: Int
    /// Bytes of the receive buffer in use: received, not yet read (≤ `receiveWindow`).
    public var bufferedForReading: Int
}
