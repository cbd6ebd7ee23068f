/// What a playout buffer did with an inserted packet.
public enum PlayoutVerdict: Sendable, Hashable {
    /// Held for reordering (and possibly already released, with others, into the output).
    case buffered
    /// Its sequence number was at or before the last one played out: too late, dropped.
    case late
    /// A packet with the same sequence number is already waiting: dropped.
    case duplicate
}

/// A reordering buffer that turns received audio packets of one source into a continuous mono PCM stream,
/// for recording to a file rather than for low-latency playback.
///
/// It holds up to `depth` packets and releases the oldest (by sequence number, wrap-aware) whenever more are
/// waiting, so any reordering within that window is undone. Between released packets, a forward jump of the
/// RTP timestamp beyond the previous packet's end (loss, or silence suppression) is filled with silence, capped
/// at `maxGapSamples`. Packets older than the last released one are dropped as late, and repeats of a waiting
/// packet as duplicates.
///
/// A sender that restarts its sequence numbers far behind (more than `maxMisorder` before the last released
/// packet) would otherwise make every later packet late. As in RFC 3550 Appendix A.1, such a packet is held as a
/// candidate; if the next packet follows it in sequence, everything waiting is played out and the buffer
/// starts again from the candidate.
public struct PlayoutBuffer: Sendable {
    public struct Statistics: Sendable, Hashable {
        public var releasedPackets = 0
        public var latePackets = 0
        public var duplicatePackets = 0
        /// Sequence numbers skipped between released packets.
        public var lostPackets = 0
        /// Silence samples inserted for gaps.
        public var concealedSamples = 0
        /// Times the buffer restarted on a sender's sequence-number reset.
        public var resynchronizations = 0
    }

    public struct Result: Sendable, Hashable {
        public var verdict: PlayoutVerdict
        /// PCM now ready for output, in order (possibly empty).
        public var samples: [Int16]
    }

    private struct Entry: Sendable {
        var timestamp: UInt32
        var samples: [Int16]
    }

    public let depth: Int
    public let maxGapSamples: Int
    public let maxMisorder: Int
    public private(set) var statistics = Statistics()
    /// Waiting packets by extended sequence number.
    private var pending: [Int64: Entry] = [:]
    private var highestSequence: Int64?
    private var lastReleased: (sequence: Int64, endTimestamp: UInt32)?
    /// A packet far behind the stream, kept in case the sender restarted from it.
    private var resyncCandidate: (sequenceNumber: UInt16, entry: Entry)?

    /// - Parameters:
    ///   - depth: packets held for reordering (5 × 20 ms = 100 ms by default).
    ///   - maxGapSamples: most silence inserted for one gap (8000 = 1 s at 8 kHz), so a bogus timestamp jump
    ///     cannot blow up the recording.
    ///   - maxMisorder: how far behind a packet may be and still count as merely late (RFC 3550 A.1 uses 100).
    public init(depth: Int = 5, maxGapSamples: Int = 8000, maxMisorder: Int = 100) {
        self.depth = max(0, depth)
        self.maxGapSamples = max(0, maxGapSamples)
        self.maxMisorder = max(0, maxMisorder)
    }

    /// Number of packets waiting.
    public var bufferedPackets: Int { pending.count }

    /// Inserts the decoded samples of one packet.
    public mutating func insert(sequenceNumber: UInt16, timestamp: UInt32, samples: [Int16]) -> Result {
        let sequence = extend(sequenceNumber)
        if let lastReleased, sequence <= lastReleased.sequence {
            if lastReleased.sequence - sequence > Int64(maxMisorder) {
                if let candidate = resyncCandidate, candidate.sequenceNumber &+ 1 == sequenceNumber {
                    return resynchronize(from: candidate, then: sequenceNumber, Entry(timestamp: timestamp, samples: samples))
                }
                resyncCandidate = (sequenceNumber, Entry(timestamp: timestamp, samples: samples))
            }
            statistics.latePackets += 1
            return Result(verdict: .late, samples: [])
        }
        resyncCandidate = nil
        if pending[sequence] != nil {
            statistics.duplicatePackets += 1
            return Result(verdict: .duplicate, samples: [])
        }
        pending[sequence] = Entry(timestamp: timestamp, samples: samples)
        highestSequence = max(highestSequence ?? sequence, sequence)
        var output: [Int16] = []
        while pending.count > depth { releaseOldest(into: &output) }
        return Result(verdict: .buffered, samples: output)
    }

    /// Inserts a G.711 packet, decoding its payload.
    public mutating func insert(_ packet: RTPPacket, law: G711Law) -> Result {
        insert(sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp, samples: law.decode(packet.payload))
    }

    /// Plays out what is waiting, forgets the old numbering and starts again from the candidate and its successor.
    private mutating func resynchronize(
        from candidate: (sequenceNumber: UInt16, entry: Entry), then sequenceNumber: UInt16, _ entry: Entry
    ) -> Result {
        var output = flush()
        statistics.resynchronizations += 1
        // The candidate was counted as late when it arrived; it is played after all.
        statistics.latePackets -= 1
        lastReleased = nil
        highestSequence = nil
        resyncCandidate = nil
        output += insert(sequenceNumber: candidate.sequenceNumber, timestamp: candidate.entry.timestamp, samples: candidate.entry.samples).samples
        output += insert(sequenceNumber: sequenceNumber, timestamp: entry.timestamp, samples: entry.samples).samples
        return Result(verdict: .buffered, samples: output)
    }

    /// Releases every waiting packet (at the end of a recording).
    public mutating func flush() -> [Int16] {
        var output: [Int16] = []
        while !pending.isEmpty { releaseOldest(into: &output) }
        return output
    }

    /// Places a 16-bit sequence number on a 64-bit line next to the highest seen, taking the nearer of the
    /// wrap-around candidates (within ±32768).
    private func extend(_ sequenceNumber: UInt16) -> Int64 {
        guard let highestSequence else { return Int64(sequenceNumber) + (1 << 16) }
        let delta = Int16(bitPattern: sequenceNumber &- UInt16(truncatingIfNeeded: highestSequence))
        return highestSequence + Int64(delta)
    }

    private mutating func releaseOldest(into output: inout [Int16]) {
        guard let sequence = pending.keys.min(), let entry = pending.removeValue(forKey: sequence) else { return }
        if let lastReleased {
            statistics.lostPackets += Int(sequence - lastReleased.sequence - 1)
            let gap = Int(Int32(bitPattern: entry.timestamp &- lastReleased.endTimestamp))
            if gap > 0 {
                let silence = min(gap, maxGapSamples)
                output.append(contentsOf: repeatElement(0, count: silence))
                statistics.concealedSamples += silence
            }
        }
        output.append(contentsOf: entry.samples)
        statistics.releasedPackets += 1
        lastReleased = (sequence, entry.timestamp &+ UInt32(truncatingIfNeeded: entry.samples.count))
    }
}
