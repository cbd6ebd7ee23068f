/// What the sequence check of RFC 3550 Appendix A.1 decided about one packet.
public enum RTPSequenceVerdict: Sendable, Hashable {
    /// Valid (in order, a small gap, or a duplicate/reordered packet within the misorder window): counted.
    case accepted
    /// The source is not yet valid: fewer than `minSequential` packets in sequence so far. Not counted.
    case probation
    /// A jump too large to be loss or misordering; dropped. If the next packet follows it in sequence, the
    /// source is taken to have restarted.
    case rejectedJump
    /// The packet followed a rejected jump in sequence: statistics restarted from it (it is counted).
    case restarted
    /// A new SSRC arrived while `RTPReceptionStatistics` already tracks its maximum number of sources: ignored,
    /// so that a peer cannot make the table grow without bound.
    case sourceLimitReached
}

/// Reception statistics for one RTP source (one SSRC) as RFC 3550 Appendix A specifies them: sequence validation
/// with wrap-around (A.1), expected and lost counts and the lost fraction per interval (A.3), interarrival
/// jitter (A.8), and LSR/DLSR from the source's sender reports (§6.4.1). Pure: arrival times are passed in.
public struct RTPSourceStatistics: Sendable {
    /// RFC 3550 A.1 constants.
    public static let maxDropout: UInt16 = 3000
    public static let maxMisorder: UInt16 = 100
    static let sequenceModulus: UInt32 = 1 << 16

    public let ssrc: UInt32
    /// Highest sequence number seen.
    public private(set) var maxSequence: UInt16
    /// Count of sequence-number wraps, shifted left 16 (as in A.1).
    public private(set) var cycles: UInt32
    public private(set) var baseSequence: UInt32
    private var badSequence: UInt32
    private var probation: Int
    private let minSequential: Int
    /// Packets counted as received (A.1), duplicates included.
    public private(set) var received: UInt32
    private var expectedPrior: UInt32
    private var receivedPrior: UInt32
    /// Relative transit time of the previous packet, in timestamp units (A.8).
    private var lastTransit: Int32?
    /// Jitter scaled by 16, as in the integer form of A.8; 64 bits so that absurd transit differences from a
    /// peer cannot overflow it.
    private var scaledJitter: UInt64
    private var lastSenderReport: (compactNTP: UInt32, arrival: Duration)?

    /// Starts tracking a source on its first packet's sequence number (A.1: `init_seq`, then probation).
    /// `minSequential` is how many packets in sequence make the source valid (RFC 3550 suggests 2).
    /// The first packet still has to be passed to `receive`.
    public init(ssrc: UInt32, firstSequenceNumber: UInt16, minSequential: Int = 2) {
        self.ssrc = ssrc
        self.minSequential = max(1, minSequential)
        maxSequence = 0
        cycles = 0
        baseSequence = 0
        badSequence = 0
        received = 0
        expectedPrior = 0
        receivedPrior = 0
        scaledJitter = 0
        probation = 0
        initSequence(firstSequenceNumber)
        maxSequence = firstSequenceNumber &- 1
        probation = self.minSequential
    }

    private mutating func initSequence(_ sequence: UInt16) {
        baseSequence = UInt32(sequence)
        maxSequence = sequence
        badSequence = Self.sequenceModulus + 1
        cycles = 0
        received = 0
        receivedPrior = 0
        expectedPrior = 0
    }

    /// Feeds one packet. `arrival` is the arrival time in the same units as the RTP timestamp (the source's
    /// clock rate), wrapping like it; only differences matter (A.8).
    public mutating func receive(sequenceNumber: UInt16, timestamp: UInt32, arrival: UInt32) -> RTPSequenceVerdict {
        let verdict = updateSequence(sequenceNumber)
        switch verdict {
        case .accepted, .restarted:
            updateJitter(timestamp: timestamp, arrival: arrival)
        case .probation, .rejectedJump, .sourceLimitReached:
            break
        }
        return verdict
    }

    /// RFC 3550 Appendix A.1 `update_seq`.
    private mutating func updateSequence(_ sequence: UInt16) -> RTPSequenceVerdict {
        let delta = sequence &- maxSequence
        if probation > 0 {
            // Source not yet valid: it must deliver `minSequential` packets in sequence.
            if sequence == maxSequence &+ 1 {
                probation -= 1
                maxSequence = sequence
                if probation == 0 {
                    initSequence(sequence)
                    received &+= 1
                    return .accepted
                }
            } else {
                probation = minSequential - 1
                maxSequence = sequence
            }
            return .probation
        } else if delta < Self.maxDropout {
            // In order, with a permissible gap; a smaller number than the maximum means it wrapped.
            if sequence < maxSequence { cycles &+= Self.sequenceModulus }
            maxSequence = sequence
        } else if UInt32(delta) <= Self.sequenceModulus - UInt32(Self.maxMisorder) {
            // A very large jump: accept it only if the next packet follows it (the sender restarted).
            if UInt32(sequence) == badSequence {
                initSequence(sequence)
                lastTransit = nil
                received &+= 1
                return .restarted
            }
            badSequence = (UInt32(sequence) + 1) & (Self.sequenceModulus - 1)
            return .rejectedJump
        }
        // Otherwise a duplicate or a reordered packet within the misorder window: counted, as A.1 does.
        received &+= 1
        return .accepted
    }

    /// RFC 3550 Appendix A.8, integer form: J += (|D| - J)/16, kept scaled by 16.
    private mutating func updateJitter(timestamp: UInt32, arrival: UInt32) {
        let transit = Int32(bitPattern: arrival &- timestamp)
        defer { lastTransit = transit }
        guard let lastTransit else { return }
        let difference = transit &- lastTransit
        let magnitude = UInt64(difference.magnitude)
        scaledJitter = scaledJitter + magnitude - ((scaledJitter + 8) >> 4)
    }

    /// Remembers a sender report from this source for the LSR/DLSR fields (RFC 3550 §6.4.1).
    /// `arrival` is on the same clock as `now` in `makeReportBlock`.
    public mutating func receiveSenderReport(ntpTimestamp: UInt64, arrival: Duration) {
        lastSenderReport = (UInt32(truncatingIfNeeded: ntpTimestamp >> 16), arrival)
    }

    /// Cycles plus highest sequence number (A.3 `extended_max`).
    public var extendedHighestSequenceNumber: UInt32 { cycles &+ UInt32(maxSequence) }

    /// Packets expected since the base sequence number (A.3).
    public var expected: UInt32 { extendedHighestSequenceNumber &- baseSequence &+ 1 }

    /// Expected minus received, which duplicates can make negative (A.3), before clamping to 24 bits.
    public var cumulativeLost: Int64 { Int64(expected) - Int64(received) }

    /// Interarrival jitter in timestamp units (A.8).
    public var jitter: UInt32 { UInt32(clamping: scaledJitter >> 4) }

    /// Whether the source has passed probation (A.1).
    public var isValid: Bool { probation == 0 }

    /// Builds a report block and starts a new reporting interval for the lost fraction (A.3).
    /// `now` is on the clock of the `arrival` passed to `receiveSenderReport`.
    public mutating func makeReportBlock(now: Duration) -> RTCPReportBlock {
        let expectedNow = expected
        let expectedInterval = expectedNow &- expectedPrior
        expectedPrior = expectedNow
        let receivedInterval = received &- receivedPrior
        receivedPrior = received
        let lostInterval = Int64(expectedInterval) - Int64(receivedInterval)
        let fraction: UInt8 =
            if expectedInterval == 0 || lostInterval <= 0 { 0 } else {
                UInt8(clamping: (lostInterval << 8) / Int64(expectedInterval))
            }
        // A.3: clamp to the 24-bit signed field.
        let range = RTCPReportBlock.cumulativeLostRange
        let lost = Int32(min(max(cumulativeLost, Int64(range.lowerBound)), Int64(range.upperBound)))

        var lsr: UInt32 = 0
        var dlsr: UInt32 = 0
        if let last = lastSenderReport {
            lsr = last.compactNTP
            dlsr = Self.units65536(now - last.arrival)
        }
        return RTCPReportBlock(
            ssrc: ssrc, fractionLost: fraction, cumulativeLost: lost,
            extendedHighestSequenceNumber: extendedHighestSequenceNumber, jitter: jitter,
            lastSenderReport: lsr, delaySinceLastSenderReport: dlsr
        )
    }

    /// A duration in units of 1/65536 s, clamped to the 32-bit DLSR field (RFC 3550 §6.4.1).
    static func units65536(_ duration: Duration) -> UInt32 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        // 65536 s and more no longer fit the 32-bit field.
        guard seconds < 65536 else { return .max }
        // 1e18 / 65536 ≈ 1.5e13 attoseconds per unit; dividing first keeps the product in range.
        let fraction = attoseconds / (1_000_000_000_000_000_000 / 65536)
        return UInt32(clamping: seconds * 65536 + fraction)
    }

    /// Converts a time on any clock to RTP timestamp units at `clockRate`, wrapping to 32 bits, for `arrival`.
    public static func timestampUnits(_ time: Duration, clockRate: UInt32) -> UInt32 {
        let (seconds, attoseconds) = time.components
        let whole = seconds &* Int64(clockRate)
        let fraction = Int64((Double(attoseconds) / 1e18 * Double(clockRate)).rounded(.down))
        return UInt32(truncatingIfNeeded: whole &+ fraction)
    }
}

/// Reception statistics for every source heard on one RTP session (RFC 3550 §3), keyed by SSRC.
public struct RTPReceptionStatistics: Sendable {
    public private(set) var sources: [UInt32: RTPSourceStatistics] = [:]
    public let minSequential: Int
    public let maxSources: Int

    public init(minSequential: Int = 2, maxSources: Int = 64) {
        self.minSequential = minSequential
        self.maxSources = maxSources
    }

    /// Feeds one RTP packet's header; a new SSRC starts a new source (RFC 3550 A.1).
    public mutating func receive(_ header: RTPHeader, arrival: UInt32) -> RTPSequenceVerdict {
        if sources[header.ssrc] == nil, sources.count >= maxSources { return .sourceLimitReached }
        return sources[header.ssrc, default: RTPSourceStatistics(
            ssrc: header.ssrc, firstSequenceNumber: header.sequenceNumber, minSequential: minSequential
        )].receive(sequenceNumber: header.sequenceNumber, timestamp: header.timestamp, arrival: arrival)
    }

    /// Notes a sender report for LSR/DLSR, if its source is known.
    public mutating func receive(_ report: RTCPSenderReport, arrival: Duration) {
        sources[report.ssrc]?.receiveSenderReport(ntpTimestamp: report.ntpTimestamp, arrival: arrival)
    }

    /// Forgets a source, for example after its BYE (RFC 3550 §6.3.7).
    public mutating func remove(ssrc: UInt32) {
        sources[ssrc] = nil
    }

    /// One report block per valid source, in SSRC order, at most 31 (the RC field's limit; RFC 3550 §6.4
    /// leaves the rest for the next report).
    public mutating func makeReportBlocks(now: Duration) -> [RTCPReportBlock] {
        var blocks: [RTCPReportBlock] = []
        for ssrc in sources.keys.sorted() where blocks.count < 31 {
            guard sources[ssrc]?.isValid == true else { continue }
            if let block = sources[ssrc]?.makeReportBlock(now: now) { blocks.append(block) }
        }
        return blocks
    }
}
