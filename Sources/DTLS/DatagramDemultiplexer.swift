/// Sorts datagrams that share one ICE 5-tuple by their first byte (RFC 7983 §7, updating RFC 5764 §5.1.2).
///
/// ```
///              +----------------+
///              |        [0..3] -+--> STUN
///              |      [16..19] -+--> ZRTP
///  packet -->  |      [20..63] -+--> DTLS
///              |      [64..79] -+--> TURN Channel
///              |    [128..191] -+--> RTP/RTCP
///              +----------------+    (anything else is dropped)
/// ```
public enum DatagramDemultiplexer {
    /// What a datagram carries, per RFC 7983 §7.
    public enum PacketKind: Sendable, Hashable, CaseIterable {
        case stun
        case zrtp
        case dtls
        case turnChannel
        /// RTP or RTCP (they share the range; RFC 5761 §4 tells them apart by payload type).
        case rtp
        /// Outside every registered range: RFC 7983 §7 says to drop it.
        case unknown
    }

    /// Classifies by the first byte of the datagram.
    public static func kind(ofFirstByte byte: UInt8) -> PacketKind {
        switch byte {
        case 0...3: .stun
        case 16...19: .zrtp
        case 20...63: .dtls
        case 64...79: .turnChannel
        case 128...191: .rtp
        default: .unknown
        }
    }

    /// Classifies a datagram; an empty one is `.unknown`.
    public static func kind<Bytes: Collection>(of datagram: Bytes) -> PacketKind where Bytes.Element == UInt8 {
        guard let first = datagram.first else { return .unknown }
        return kind(ofFirstByte: first)
    }
}
