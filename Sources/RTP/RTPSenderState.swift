/// The sending side of one RTP source: numbers packets and timestamps them from initial values the caller
/// chooses (RFC 3550 §5.1 asks for random ones; randomness stays outside this pure type), and keeps the
/// packet and octet counts that sender reports carry (§6.4.1).
public struct RTPSenderState: Sendable, Hashable {
    public let ssrc: UInt32
    public let initialSequenceNumber: UInt16
    public let initialTimestamp: UInt32
    public private(set) var nextSequenceNumber: UInt16
    /// Packets sent so far (wraps, as the SR field does).
    public private(set) var packetCount: UInt32 = 0
    /// Payload octets sent so far, excluding headers and padding (RFC 3550 §6.4.1).
    public private(set) var octetCount: UInt32 = 0

    public init(ssrc: UInt32, initialSequenceNumber: UInt16, initialTimestamp: UInt32) {
        self.ssrc = ssrc
        self.initialSequenceNumber = initialSequenceNumber
        self.initialTimestamp = initialTimestamp
        nextSequenceNumber = initialSequenceNumber
    }

    /// The RTP timestamp of media `offset` clock ticks after the stream's start.
    public func timestamp(atOffset offset: UInt32) -> UInt32 { initialTimestamp &+ offset }

    /// Builds the next packet: the sequence number advances by one, wrapping.
    public mutating func makePacket(
        payloadType: UInt8, payload: [UInt8], timestampOffset: UInt32, marker: Bool = false,
        csrcs: [UInt32] = [], headerExtension: RTPHeaderExtension? = nil
    ) -> RTPPacket {
        let header = RTPHeader(
            marker: marker, payloadType: payloadType, sequenceNumber: nextSequenceNumber,
            timestamp: timestamp(atOffset: timestampOffset), ssrc: ssrc, csrcs: csrcs, headerExtension: headerExtension
        )
        nextSequenceNumber &+= 1
        packetCount &+= 1
        octetCount &+= UInt32(truncatingIfNeeded: payload.count)
        return RTPPacket(header: header, payload: payload)
    }

    /// A sender report for `ntpTimestamp`, which is the same instant as media offset `timestampOffset`.
    public func makeSenderReport(
        ntpTimestamp: UInt64, timestampOffset: UInt32, reportBlocks: [RTCPReportBlock] = []
    ) -> RTCPSenderReport {
        RTCPSenderReport(
            ssrc: ssrc, ntpTimestamp: ntpTimestamp, rtpTimestamp: timestamp(atOffset: timestampOffset),
            packetCount: packetCount, octetCount: octetCount, reportBlocks: reportBlocks
        )
    }
}
