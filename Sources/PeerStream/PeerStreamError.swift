/// Everything that can go wrong in PeerStream, as one error type for the layer.
///
/// Errors thrown by `PeerStreamConnection.receive` describe a datagram that was rejected: malformed on the wire
/// or violating the protocol. The datagram is then ignored as a whole (no state changed) and the connection
/// goes on, so a forged or corrupted packet can never tear down a transfer nor make the machine crash.
public enum PeerStreamError: Error, Hashable, Sendable {
    // MARK: Malformed datagrams (wire format)

    /// The datagram ended before a field: `needed` bytes were required, `available` were there.
    case truncated(needed: Int, available: Int)
    /// The version byte is not one this implementation speaks.
    case unsupportedVersion(UInt8)
    /// The type byte names no packet type.
    case unknownPacketType(UInt8)
    /// The connection id does not belong to this connection.
    case connectionIDMismatch(expected: UInt32, received: UInt32)
    /// A packet number at or above 2^62.
    case packetNumberOutOfRange(UInt64)
    /// A stream offset (or offset + length) above 2^62.
    case offsetOutOfRange(UInt64)
    /// Bytes after the end of the packet.
    case trailingBytes(Int)
    /// A DATA payload larger than the configured datagram budget allows.
    case payloadTooLarge(Int)
    /// An ACK range count of 0 or above `PeerStreamPacket.maxAckRanges`.
    case invalidAckRangeCount(Int)
    /// ACK ranges that are not descending, disjoint, non-adjacent, or do not start at the largest acknowledged.
    case invalidAckRanges
    /// A RESET reason that is not UTF-8.
    case invalidReasonText

    // MARK: Protocol violations by the peer (datagram ignored)

    /// Data beyond the flow-control limit this side advertised.
    case flowControlViolation(limit: UInt64, end: UInt64)
    /// A FIN that contradicts an earlier FIN or data already received, or data beyond the final offset.
    case finalOffsetViolation(finalOffset: UInt64, offending: UInt64)
    /// Data that would split the receive buffer into more out-of-order pieces than the receiver tracks
    /// (`receiveWindow / 512 + 64`; honest senders with full-size packets stay far below).
    case tooManyGaps(limit: Int)
    /// An ACK for a packet number this side never sent.
    case ackOfUnsentPacket(UInt64)

    // MARK: Local use of the connection

    /// `write` after `finish()`.
    case writeAfterFinish
    /// The connection was aborted (by either side); the reason is the one carried by RESET.
    case aborted(PeerStreamAbortReason)
    /// The connection timed out after `idleTimeout` without hearing from the peer.
    case timedOut
}
