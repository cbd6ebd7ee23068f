/// A reception report block, carried in SR and RR packets (RFC 3550 §6.4.1).
public struct RTCPReportBlock: Sendable, Hashable {
    /// The source this block reports on (SSRC_n).
    public var ssrc: UInt32
    /// Fraction of packets lost since the previous report, as a fixed-point number with the binary point at
    /// the left edge (lost/expected × 256).
    public var fractionLost: UInt8
    /// Cumulative number of packets lost: a 24-bit signed value (duplicates can make it negative), so within
    /// -8_388_608...8_388_607.
    public var cumulativeLost: Int32
    /// Sequence-number cycles count (high 16 bits) and highest sequence number received (low 16 bits).
    public var extendedHighestSequenceNumber: UInt32
    /// Interarrival jitter in timestamp units (RFC 3550 §6.4.1, Appendix A.8).
    public var jitter: UInt32
    /// Middle 32 bits of the NTP timestamp of the last SR from this source (LSR), 0 if none.
    public var lastSenderReport: UInt32
    /// Delay since that SR in units of 1/65536 s (DLSR), 0 if none.
    public var delaySinceLastSenderReport: UInt32

    public init(
        ssrc: UInt32, fractionLost: UInt8, cumulativeLost: Int32, extendedHighestSequenceNumber: UInt32,
        jitter: UInt32, lastSenderReport: UInt32, delaySinceLastSenderReport: UInt32
    ) {
        self.ssrc = ssrc
        self.fractionLost = fractionLost
        self.cumulativeLost = cumulativeLost
        self.extendedHighestSequenceNumber = extendedHighestSequenceNumber
        self.jitter = jitter
        self.lastSenderReport = lastSenderReport
        self.delaySinceLastSenderReport = delaySinceLastSenderReport
    }

    public static let length = 24
    /// Range of the 24-bit signed cumulative-lost field.
    public static let cumulativeLostRange: ClosedRange<Int32> = -0x80_0000...0x7F_FFFF

    static func parse(_ reader: inout ByteReader) throws(RTPError) -> RTCPReportBlock {
        let ssrc = try reader.readUInt32()
        let fraction = try reader.readUInt8()
        let raw = try reader.readUInt24()
        // Sign-extend the 24-bit two's-complement field.
        let cumulative = Int32(bitPattern: raw << 8) >> 8
        return RTCPReportBlock(
            ssrc: ssrc, fractionLost: fraction, cumulativeLost: cumulative,
            extendedHighestSequenceNumber: try reader.readUInt32(), jitter: try reader.readUInt32(),
            lastSenderReport: try reader.readUInt32(), delaySinceLastSenderReport: try reader.readUInt32()
        )
    }

    func append(to bytes: inout [UInt8]) throws(RTPError) {
        guard Self.cumulativeLostRange.contains(cumulativeLost) else {
            throw .fieldOutOfRange(field: "cumulativeLost", value: Int(cumulativeLost))
        }
        bytes.appendUInt32(ssrc)
        bytes.append(fractionLost)
        bytes.appendUInt24(UInt32(bitPattern: cumulativeLost) & 0x00FF_FFFF)
        bytes.appendUInt32(extendedHighestSequenceNumber)
        bytes.appendUInt32(jitter)
        bytes.appendUInt32(lastSenderReport)
        bytes.appendUInt32(delaySinceLastSenderReport)
    }
}
