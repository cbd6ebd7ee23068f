/// Whether a packet on an rtcp-mux flow is RTP or RTCP.
public enum RTPPacketClass: Sendable, Hashable {
    case rtp
    case rtcp

    /// Classifies a packet already known to be RTP or RTCP (RFC 7983 demultiplexing happens before this) by
    /// its second octet: RTCP packet types 192–223 occupy what would be the marker bit plus RTP payload types
    /// 64–95, which RFC 5761 §4 keeps out of use for RTP when RTP and RTCP share a port.
    /// Returns nil for a packet too short to have a second octet.
    public static func classify(_ bytes: [UInt8]) -> RTPPacketClass? {
        guard bytes.count >= 2 else { return nil }
        return (64...95).contains(bytes[1] & 0x7F) ? .rtcp : .rtp
    }
}
