/// What a `PeerStreamConnection` tells its driver after `receive` or `handleTimeout`.
public enum PeerStreamEvent: Hashable, Sendable {
    /// New bytes became readable in order (edge-triggered: emitted whenever the readable end advances).
    case readable
    /// Send-buffer space opened after a `write` accepted fewer bytes than offered.
    case writable
    /// The peer's FIN arrived and every byte before it has been received: after reading what is buffered the
    /// peer's direction is at end of stream. Emitted once.
    case finished
    /// Both directions are done: our FIN and all our data are acknowledged, and the peer's stream is complete.
    /// Keep the connection for `lingerDuration` so a retransmitted FIN from the peer still gets its ACK.
    case closed
    /// The peer aborted the connection with this reason.
    case aborted(PeerStreamAbortReason)
    /// Nothing was heard from the peer for `idleTimeout`.
    case timedOut
}

/// The code and text carried by a RESET packet.
public struct PeerStreamAbortReason: Hashable, Sendable {
    public var code: UInt16
    public var message: String

    public init(code: UInt16, message: String) {
        self.code = code
        self.message = message
    }

    /// The application cancelled the transfer.
    public static let cancelledCode: UInt16 = 0x0001
    /// The receiving application refused the data (e.g. disk full, hash mismatch).
    public static let refusedCode: UInt16 = 0x0002
    /// The peer broke the protocol.
    public static let protocolViolationCode: UInt16 = 0x0003
    /// An internal error.
    public static let internalErrorCode: UInt16 = 0x0004
}

/// Where a connection is in its life.
public enum PeerStreamState: Hashable, Sendable {
    /// Data may flow (either direction may have finished already).
    case open
    /// Both directions completed cleanly (see `PeerStreamEvent.closed`).
    case closed
    /// Aborted; `byPeer` tells who sent the RESET.
    case aborted(PeerStreamAbortReason, byPeer: Bool)
    /// Nothing heard from the peer for `idleTimeout`.
    case timedOut
}

/// Counters and estimator state, for logs and tests.
public struct PeerStreamStatistics: Hashable, Sendable {
    /// Datagrams produced by `nextDatagram`/`poll`, of every type.
    public var packetsSent = 0
    /// Datagrams accepted by `receive` (rejected ones are counted in `packetsRejected`).
    public var packetsReceived = 0
    /// Datagrams rejected by `receive` with an error.
    public var packetsRejected = 0
    /// Ack-eliciting packets received again (same packet number).
    public var duplicatePacketsReceived = 0
    /// Stream payload bytes sent, retransmissions included.
    public var bytesSent: UInt64 = 0
    /// Stream payload bytes sent again after a loss or as a probe.
    public var bytesRetransmitted: UInt64 = 0
    /// Stream payload bytes received, duplicates included.
    public var bytesReceived: UInt64 = 0
    /// Bytes handed to the application by `read`.
    public var bytesRead: UInt64 = 0
    /// Packets declared lost (RFC 9002 §6.1).
    public var packetsLost = 0
    /// Probe timeouts that fired (RFC 9002 §6.2).
    public var probeTimeouts = 0
    /// Times the congestion window was reduced (one per recovery period, RFC 9002 §7.3.2).
    public var congestionEvents = 0
    /// Times the window collapsed to the minimum after losses spanning 3 PTOs (RFC 9002 §7.6).
    public var persistentCongestionEvents = 0
    /// Smoothed RTT (nil before the first sample).
    public var smoothedRTT: Duration?
    public var rttVariance: Duration?
    public var minRTT: Duration?
    public var latestRTT: Duration?
    /// Congestion window in bytes.
    public var congestionWindow = 0
    /// Slow-start threshold in bytes (nil while still in the first slow start).
    public var slowStartThreshold: Int?
    /// Bytes of ack-eliciting packets in flight.
    public var bytesInFlight = 0
    /// Largest datagram the sender produces now: `maxDatagramSize`, or larger once path MTU discovery
    /// confirmed a bigger size (RFC 8899).
    public var datagramSize = 0
    /// Path MTU probes sent, acknowledged and declared lost (RFC 8899 §4.1; lost probes are not congestion).
    public var pathMTUProbesSent = 0
    public var pathMTUProbesAcknowledged = 0
    public var pathMTUProbesLost = 0
    /// Probes the driver could not send because the local interface's MTU is smaller (`pathMTUProbeRefused`).
    public var pathMTUProbesRefused = 0
    /// Times full-size packets kept being lost and the size fell back to `maxDatagramSize` (RFC 8899 §4.3).
    public var pathMTUBlackHoles = 0
}
