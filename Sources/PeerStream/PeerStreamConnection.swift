/// A reliable, ordered, flow-controlled byte stream over a datagram path — the I/O-free core.
///
/// Files travel peer to peer over one ICE component inside DTLS records. This machine turns that datagram path
/// into one byte stream in each direction. It owns no socket, clock or random source: the driver feeds
/// datagrams to `receive(_:now:)`, takes datagrams from `nextDatagram(now:into:)` (or `poll(now:)`) until it
/// returns nothing, calls `handleTimeout(now:)` when `nextDeadline` passes, and moves bytes with
/// `write`/`read`. After every `receive`, `handleTimeout`, `write`, `read`, `finish` or `abort`, poll again.
///
/// ## Wire format, version 2
///
/// One packet per datagram. Integers are QUIC variable-length integers (RFC 9000 §16: the two high bits of the
/// first byte say 1, 2, 4 or 8 bytes, the value is big-endian, at most 2^62 − 1) unless a width is given.
/// Every packet starts with the same header:
///
/// ```
///  version/type  1 byte   high nibble: version 2; low nibble: 1 DATA, 2 ACK, 3 FIN, 4 RESET, 5 PING, 6 PROBE
///  connection    varint   agreed out of band (1 byte for ids below 64); other values are rejected
///  packet no.    varint   < 2^62, one counter per sender, every packet a new number (never reused,
///                         retransmissions included, as QUIC RFC 9000 §12.3), so every ACK is unambiguous
///                         for RTT (no Karn ambiguity)
/// ```
///
/// Bodies:
///
/// ```
/// DATA  (ack-eliciting) offset varint | payload = the rest of the datagram (DATA is the only frame)
///                       offset + length <= 2^62; the whole datagram <= the receiver's largest datagram size
/// ACK                   largest acknowledged | ack delay µs | max data | range count (1...64) |
///                       first range length | (count − 1) × (gap, range length)      all varints
///                       RFC 9000 §19.3.1: the first range is [largest − length, largest]; each further range
///                       ends gap + 2 below the previous smallest. A range running below zero is rejected, so
///                       ranges are descending, disjoint and non-adjacent by construction.
///                       max data = the flow-control limit: the offset the peer may send up to (exclusive).
///                       ACKs are not ack-eliciting; they are never retransmitted (a later ACK repeats them).
/// FIN   (ack-eliciting) final offset varint (= total bytes of the stream; data beyond it is a violation)
/// RESET                 code UInt16 big-endian | reason UTF-8 = the rest of the datagram — aborts both ways
/// PING  (ack-eliciting) empty — keepalive and flow-control window probe; answered by an immediate ACK
/// PROBE (ack-eliciting) padding to the size being probed (content ignored) — path MTU probe (RFC 8899 §4.1),
///                       answered by an immediate ACK; never retransmitted, its loss is no congestion signal
/// ```
///
/// A data packet of a transfer below 1 GiB with fewer than 2^30 packets has a 10-byte header (version 1 had
/// 24). ACK-only packets take packet numbers too and receivers record them, so SACK ranges only have gaps
/// where packets were really lost. Before the first ACK a sender may send up to `initialFlowControlLimit`
/// (64 KiB). A receiver accepts datagrams up to its `largestDatagramSize`.
///
/// ## Path MTU discovery
///
/// With `maxProbedDatagramSize` set, the sender runs Datagram Packetization Layer PMTU Discovery (RFC 8899):
/// it starts at `maxDatagramSize`, sends PROBE packets of larger sizes (largest allowed first, then a binary
/// search, three lost probes fail a size) and raises its datagram size when one is acknowledged. Three probe
/// timeouts in a row with nothing acknowledged above the base size is taken for a black hole (§4.3): back to
/// `maxDatagramSize`, probing again after `pathMTURaiseInterval`. A driver that cannot send a probe because the
/// local interface's MTU is smaller (EMSGSIZE) calls `pathMTUProbeRefused`: that size fails at once.
/// `statistics.datagramSize` is the size in use.
///
/// A datagram with any field out of bounds, a short read, or trailing bytes is rejected with a
/// `PeerStreamError` and ignored; so are packets breaking the protocol (data beyond the advertised window or
/// the final offset, ACKs of unsent packets). No state changes for a rejected datagram.
///
/// ## Sender
///
/// - Loss detection as RFC 9002 §6: a packet is lost when a packet 3 numbers later is acknowledged or when it
///   is 9/8 × max(smoothed RTT, latest RTT) older than an acknowledged one; the probe timeout (§6.2) sends
///   new data or repeats the oldest outstanding data. Lost byte ranges are re-sent in new packets.
/// - RTT: RFC 9002 §5 (smoothed RTT, RTT variance, min RTT, ack delay capped at `maxAckDelay`).
/// - Congestion control: NewReno as RFC 9002 §7 (slow start, congestion avoidance, one reduction per recovery
///   period, minimum window on persistent congestion §7.6), driven by the SACK ranges. Pacing (§7.7) at
///   1.25 × cwnd / smoothed RTT with bursts of at most max(`maxBurstPackets`, one `pacingGranularity` of the
///   rate); bursts never exceed the congestion window.
/// - Flow control: new data never goes beyond the peer's max data. A sender blocked by flow control with
///   nothing in flight sends PING window probes with exponential backoff, so a lost window update cannot
///   stall the stream.
/// - ACK processing costs O(newly acknowledged + outstanding holes + ranges): packets acknowledged once are
///   never looked at again.
///
/// ## Receiver
///
/// Out-of-order data is placed straight into a ring of `receiveWindow` bytes; `read` hands out the contiguous
/// prefix. The advertised limit is `bytes read + receiveWindow`, so it only moves when the application reads;
/// a window update (an ACK) goes out once it has moved by a quarter window. ACKs go out after
/// `ackElicitingThreshold` (2) ack-eliciting packets, after `maxAckDelay`, or at once when a packet arrives out
/// of order (RFC 9000 §13.2.1) or is a FIN or PING.
///
/// Memory is bounded: the receive side holds at most `receiveWindow` bytes (received but unread, in order or
/// not), the send side at most `sendBufferCapacity` bytes (written but unacknowledged), plus per-packet
/// bookkeeping for packets in flight and at most `receiveWindow / 512 + 64` out-of-order pieces. A paused
/// reader therefore stops the sender once the window is used up.
///
/// ## Life cycle
///
/// ```
///            finish() on both sides, all data and both FINs acknowledged
///   open ──────────────────────────────────────────────────────────────▶ closed
///    │  abort() / RESET received                                           │ (still ACKs retransmissions
///    ├──────────────────────────────────────────▶ aborted                  │  for lingerDuration)
///    │  nothing heard for idleTimeout
///    └──────────────────────────────────────────▶ timedOut
/// ```
public struct PeerStreamConnection: Sendable {
    /// The flow-control limit both sides assume before the first ACK arrives.
    public static let initialFlowControlLimit: UInt64 = 65_536

    public let configuration: PeerStreamConfiguration

    // MARK: Derived configuration

    let connectionID: UInt32
    /// The size of the datagrams we produce now (the base size, or what path MTU discovery confirmed).
    var maxDatagramSize: Int
    /// The largest datagram we accept (`configuration.largestDatagramSize`).
    let receiveLimit: Int
    var pathMTU: PathMTUDiscovery
    let maxAckDelay: Int64
    let idleTimeout: Int64
    let keepaliveInterval: Int64?
    let pacingGranularity: Int64
    /// Most out-of-order pieces the receive buffer tracks.
    let maxReceiveGaps: Int

    // MARK: Life cycle

    var lifecycle: PeerStreamState = .open
    var nextPacketNumber: UInt64 = 0
    var stats = PeerStreamStatistics()
    var localAbortReason: PeerStreamAbortReason?
    var resetPending = false
    /// How many more RESETs we answer incoming packets with after aborting (RFC 9000 §10.2.1 spirit).
    var resetBudget = 8

    // MARK: Sender state

    var sendBuffer: ByteRing
    /// Lowest stream offset not yet acknowledged; the send ring holds `sendBase ..< writeOffset`.
    var sendBase: UInt64 = 0
    var writeOffset: UInt64 = 0
    /// Next offset never sent before.
    var nextSendOffset: UInt64 = 0
    var peerMaxData: UInt64 = PeerStreamConnection.initialFlowControlLimit
    /// Acknowledged offsets above `sendBase`.
    var ackedOffsets = OffsetRangeSet()
    /// Byte ranges declared lost, in the order they were lost; `retransmitHead` is the first live entry.
    var retransmitQueue: [Range<UInt64>] = []
    var retransmitHead = 0
    var localFinalOffset: UInt64?
    var finPending = false
    var finAcked = false
    var writeBlocked = false

    /// Ack-eliciting packets sent, by increasing packet number. `sentSlotBase` is the absolute slot of
    /// `sent[0]`; slots stay valid across compaction.
    var sent: [SentPacket] = []
    var sentSlotBase = 0
    /// Index into `sent` of the oldest packet that may still be in flight.
    var sentHead = 0
    /// Absolute slot of the first packet above the largest acknowledged packet number.
    var scanSlot = 0
    /// Absolute slots of in-flight packets below the largest acknowledged (candidates for loss), ascending.
    var holes: [Int] = []
    var largestAcked: UInt64?
    var lossTime: Int64?
    var ptoCount = 0
    var probesPending = 0
    var pingPending = false
    var persistCount = 0
    var lastAckElicitingSent: Int64
    var ackElicitingInFlight = 0
    var bytesInFlight = 0
    var rtt: RTTEstimator
    /// When the first RTT sample was taken (RFC 9002 §7.6.2 only counts losses of packets sent after it).
    var firstRTTSampleTime: Int64?
    var congestion: NewRenoController
    var pacingTokens: Double
    var pacingLastRefill: Int64
    var pacingBlockedUntil: Int64?

    // MARK: Receiver state

    var receiveBuffer: ByteRing
    /// Bytes handed to the application.
    var readOffset: UInt64 = 0
    /// End of the in-order prefix received.
    var contiguousEnd: UInt64 = 0
    /// Received ranges above `contiguousEnd`.
    var receivedOffsets = OffsetRangeSet()
    var peerFinalOffset: UInt64?
    var peerFinishedReported = false
    /// Highest flow-control limit ever advertised (the initial limit until the first ACK).
    var advertisedMaxData: UInt64 = PeerStreamConnection.initialFlowControlLimit
    var windowUpdatePending = false
    /// Packet numbers received (all types, so that ranges stay contiguous), highest ranges kept.
    var receivedPackets = OffsetRangeSet()
    var largestReceived: UInt64?
    var largestReceivedTime: Int64 = 0
    var unackedElicitingCount = 0
    var ackDeadline: Int64?
    var ackNow = false
    var lastReceiveTime: Int64

    public init(configuration: PeerStreamConfiguration, now: PeerStreamInstant) {
        let c = configuration
        precondition(c.maxDatagramSize >= 64 && c.maxDatagramSize <= 65_535, "maxDatagramSize out of range")
        precondition(c.largestDatagramSize <= 65_535, "maxProbedDatagramSize out of range")
        precondition(c.pathMTURaiseInterval > .zero, "pathMTURaiseInterval must be positive")
        precondition(c.receiveWindow >= Int(PeerStreamConnection.initialFlowControlLimit), "receiveWindow below 64 KiB")
        precondition(c.sendBufferCapacity > 0, "sendBufferCapacity must be positive")
        precondition(c.ackElicitingThreshold >= 1, "ackElicitingThreshold must be >= 1")
        precondition(c.maxAckRanges >= 1 && c.maxAckRanges <= PeerStreamPacket.maxAckRanges
                     && PeerStreamPacket.ackFixedSize + c.maxAckRanges * PeerStreamPacket.ackRangeSize <= c.maxDatagramSize,
                     "maxAckRanges must fit the datagram budget")
        precondition(c.minimumWindowPackets >= 1 && c.initialWindowPackets >= c.minimumWindowPackets, "bad windows")
        precondition(c.lossReductionFactor > 0 && c.lossReductionFactor < 1, "lossReductionFactor must be in (0, 1)")
        precondition(c.maxBurstPackets >= 1, "maxBurstPackets must be >= 1")
        precondition(c.pacingGranularity >= .zero, "pacingGranularity must not be negative")
        self.configuration = c
        connectionID = c.connectionID
        maxDatagramSize = c.maxDatagramSize
        receiveLimit = c.largestDatagramSize
        pathMTU = PathMTUDiscovery(base: c.maxDatagramSize, limit: c.maxProbedDatagramSize,
                                   raiseInterval: c.pathMTURaiseInterval.peerStreamNanoseconds)
        maxAckDelay = c.maxAckDelay.peerStreamNanoseconds
        idleTimeout = c.idleTimeout.peerStreamNanoseconds
        keepaliveInterval = c.keepaliveInterval?.peerStreamNanoseconds
        pacingGranularity = c.pacingGranularity.peerStreamNanoseconds
        maxReceiveGaps = c.receiveWindow / 512 + 64
        sendBuffer = ByteRing(capacity: c.sendBufferCapacity)
        receiveBuffer = ByteRing(capacity: c.receiveWindow)
        rtt = RTTEstimator(initialRTT: c.initialRTT.peerStreamNanoseconds)
        congestion = NewRenoController(
            maxDatagramSize: c.maxDatagramSize, initialWindowPackets: c.initialWindowPackets,
            minimumWindowPackets: c.minimumWindowPackets, lossReductionFactor: c.lossReductionFactor)
        pacingTokens = Double(c.maxBurstPackets * c.maxDatagramSize)
        pacingLastRefill = now.nanoseconds
        lastAckElicitingSent = now.nanoseconds
        lastReceiveTime = now.nanoseconds
    }

    // MARK: State queries

    public var state: PeerStreamState { lifecycle }

    /// Bytes `write` would accept now.
    public var sendBufferSpace: Int {
        sendBuffer.capacity - Int(writeOffset - sendBase)
    }

    /// Bytes written but not yet acknowledged by the peer (the sender's share of the memory bound).
    public var unacknowledgedBytes: Int { Int(writeOffset - sendBase) }

    /// Bytes `read` would return now.
    public var readableBytes: Int { Int(contiguousEnd - readOffset) }

    /// Span of the receive ring in use: from the first unread byte to the highest byte received. Never more
    /// than `receiveWindow`.
    public var receiveBufferOccupancy: Int {
        Int(max(contiguousEnd, receivedOffsets.last?.upperBound ?? 0) - readOffset)
    }

    /// The flow-control limit this side has advertised.
    public var advertisedLimit: UInt64 { advertisedMaxData }

    /// The peer's FIN arrived and every byte before it has been received.
    public var isPeerFinished: Bool {
        guard let final = peerFinalOffset else { return false }
        return contiguousEnd == final
    }

    /// The peer's stream is complete and the application has read all of it.
    public var isAtEndOfStream: Bool {
        guard let final = peerFinalOffset else { return false }
        return readOffset == final
    }

    /// How long to keep a closed connection so that retransmitted FINs are still acknowledged (3 × PTO, as
    /// RFC 9000 §10.2's draining period).
    public var lingerDuration: Duration {
        .nanoseconds(3 * rtt.probeTimeout(maxAckDelay: maxAckDelay))
    }

    public var statistics: PeerStreamStatistics {
        var s = stats
        if rtt.hasSample {
            s.smoothedRTT = .nanoseconds(rtt.smoothed)
            s.rttVariance = .nanoseconds(rtt.variance)
            s.minRTT = .nanoseconds(rtt.minimum)
            s.latestRTT = .nanoseconds(rtt.latest)
        }
        s.congestionWindow = congestion.congestionWindow
        s.slowStartThreshold = congestion.slowStartThreshold == .max ? nil : congestion.slowStartThreshold
        s.congestionEvents = congestion.congestionEvents
        s.bytesInFlight = bytesInFlight
        s.datagramSize = maxDatagramSize
        return s
    }

    // MARK: Application side

    /// Queues bytes for sending; returns how many fit the send buffer (possibly 0). When fewer than offered
    /// were taken, `.writable` follows once acknowledgements free space.
    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws(PeerStreamError) -> Int {
        try checkWritable()
        let room = min(sendBufferSpace, Int(PeerStreamPacket.maxValue - writeOffset))
        let count = min(bytes.count, room)
        if count > 0 {
            sendBuffer.write(at: writeOffset, from: UnsafeRawBufferPointer(rebasing: bytes[0..<count]))
            writeOffset += UInt64(count)
        }
        if count < bytes.count { writeBlocked = true }
        return count
    }

    public mutating func write(_ bytes: [UInt8]) throws(PeerStreamError) -> Int {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(PeerStreamError) -> Int in try write(raw) } }
        return try result.get()
    }

    public mutating func write(_ bytes: ArraySlice<UInt8>) throws(PeerStreamError) -> Int {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(PeerStreamError) -> Int in try write(raw) } }
        return try result.get()
    }

    /// Ends our direction: a FIN follows the last byte written. Idempotent.
    public mutating func finish() throws(PeerStreamError) {
        switch lifecycle {
        case .open, .closed: if localFinalOffset != nil { return }
        case .aborted, .timedOut: break
        }
        try checkWritable()
        localFinalOffset = writeOffset
        finPending = true
    }

    private func checkWritable() throws(PeerStreamError) {
        switch lifecycle {
        case .open:
            if localFinalOffset != nil { throw .writeAfterFinish }
        case .closed: throw .writeAfterFinish
        case .aborted(let reason, _): throw .aborted(reason)
        case .timedOut: throw .timedOut
        }
    }

    /// Aborts both directions and tells the peer why (RESET). Buffered data is dropped. The message is cut to
    /// fit one datagram. No-op once aborted or timed out.
    public mutating func abort(code: UInt16, message: String) {
        switch lifecycle {
        case .open, .closed: break
        case .aborted, .timedOut: return
        }
        let limit = maxDatagramSize - PeerStreamPacket.headerSize - 2
        var text = ""
        var length = 0
        for scalar in message.unicodeScalars {
            let size = String(scalar).utf8.count
            if length + size > limit { break }
            text.unicodeScalars.append(scalar)
            length += size
        }
        let reason = PeerStreamAbortReason(code: code, message: text)
        lifecycle = .aborted(reason, byPeer: false)
        localAbortReason = reason
        resetPending = true
        resetBudget -= 1
        clearTimers()
    }

    /// Copies up to `buffer.count` in-order bytes into `buffer`; returns how many.
    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(buffer.count, readableBytes)
        guard count > 0 else { return 0 }
        receiveBuffer.read(at: readOffset, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]))
        readOffset += UInt64(count)
        stats.bytesRead += UInt64(count)
        receiveBuffer.discard(below: readOffset)
        // Window update once the limit has moved by a quarter window (RFC 9000 §4.2 leaves the policy open;
        // a quarter keeps updates rare yet the sender far from blocking).
        let newLimit = readOffset + UInt64(receiveBuffer.capacity)
        if newLimit - advertisedMaxData >= UInt64(receiveBuffer.capacity / 4) { windowUpdatePending = true }
        return count
    }

    /// Returns up to `maxBytes` in-order bytes (empty when nothing is readable).
    public mutating func read(maxBytes: Int) -> [UInt8] {
        let count = min(maxBytes, readableBytes)
        guard count > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = read(into: UnsafeMutableRawBufferPointer(buffer))
        }
    }

    mutating func clearTimers() {
        lossTime = nil
        ackDeadline = nil
        pacingBlockedUntil = nil
        probesPending = 0
        pingPending = false
    }
}

/// Book-keeping for one ack-eliciting packet sent.
struct SentPacket: Sendable {
    /// A `probe` keeps its size in `offset`; its `size` is 0 because probes are not counted in flight for
    /// congestion control (RFC 8899 §3: their loss is no congestion signal).
    enum Kind: UInt8, Sendable { case data, fin, ping, probe }
    enum State: UInt8, Sendable { case inFlight, acked, lost }

    var packetNumber: UInt64
    var timeSent: Int64
    var offset: UInt64
    var length: Int32
    var size: Int32
    var kind: Kind
    var state: State
}
