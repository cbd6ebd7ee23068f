import PeerStream
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SplitMix64: a tiny seeded generator, so every simulated run is reproducible.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }
}

/// One direction of the simulated path.
struct LinkConditions: Sendable {
    var oneWayDelay: Duration = .milliseconds(10)
    /// Serialisation rate cap; nil is an infinitely fast link.
    var bitsPerSecond: Double?
    /// Drop-tail bound on the bottleneck queue (only with a rate cap).
    var queueLimitBytes = 256 * 1024
    var lossRate = 0.0
    var reorderRate = 0.0
    /// A reordered datagram is held back by up to this much extra.
    var reorderExtraDelay: Duration = .milliseconds(5)
    var duplicateRate = 0.0
}

/// Two connections joined by a lossy, delaying, rate-limited, reordering, duplicating link, on a virtual
/// clock. Time jumps from event to event, so a run costs only the packets it moves.
struct NetworkSimulator {
    struct Datagram {
        var deliverAt: Int64
        var sequence: UInt64
        var destination: Int
        var bytes: [UInt8]
    }

    var connections: [PeerStreamConnection]
    var links: [LinkConditions]
    var now: Int64 = 0
    /// Events each side reported since the test last cleared them.
    var events: [[PeerStreamEvent]] = [[], []]
    /// Errors `receive` threw, per side.
    var rejections: [[PeerStreamError]] = [[], []]
    var datagramsSent = [0, 0]
    var datagramsDropped = [0, 0]
    /// Most datagrams one side produced at a single instant (one `pump`).
    var largestBurst = [0, 0]
    /// Return true to drop a datagram (after the random loss): `(from side, datagram)`.
    var dropFilter: ((Int, [UInt8]) -> Bool)?
    /// Sees every datagram sent, before loss: `(from side, datagram)`.
    var tap: ((Int, [UInt8]) -> Void)?

    private var rng: SplitMix64
    private var busyUntil: [Int64] = [0, 0]
    private var heap: [Datagram] = []
    private var sequence: UInt64 = 0
    private var scratch: [UInt8]

    init(a: PeerStreamConfiguration, b: PeerStreamConfiguration, aToB: LinkConditions, bToA: LinkConditions, seed: UInt64) {
        connections = [PeerStreamConnection(configuration: a, now: .zero), PeerStreamConnection(configuration: b, now: .zero)]
        links = [aToB, bToA]
        rng = SplitMix64(seed: seed)
        scratch = [UInt8](repeating: 0, count: max(a.largestDatagramSize, b.largestDatagramSize))
    }

    var instant: PeerStreamInstant { PeerStreamInstant(nanoseconds: now) }

    var elapsed: Duration { .nanoseconds(now) }

    /// Moves every datagram both sides may send now onto the link.
    mutating func pump() {
        var buffer: [UInt8] = []
        swap(&buffer, &scratch)  // borrow the scratch buffer without a copy-on-write
        let at = instant
        for side in 0..<2 {
            var burst = 0
            while true {
                let count = buffer.withUnsafeMutableBytes { connections[side].nextDatagram(now: at, into: $0) }
                if count == 0 { break }
                burst += 1
                transmit(Array(buffer[0..<count]), from: side)
            }
            largestBurst[side] = max(largestBurst[side], burst)
        }
        swap(&buffer, &scratch)
    }

    private mutating func transmit(_ datagram: [UInt8], from side: Int) {
        datagramsSent[side] += 1
        tap?(side, datagram)
        let link = links[side]
        if link.lossRate > 0, rng.unit() < link.lossRate {
            datagramsDropped[side] += 1
            return
        }
        if let filter = dropFilter, filter(side, datagram) {
            datagramsDropped[side] += 1
            return
        }
        let copies = link.duplicateRate > 0 && rng.unit() < link.duplicateRate ? 2 : 1
        for _ in 0..<copies {
            var departure = now
            if let rate = link.bitsPerSecond {
                let start = max(now, busyUntil[side])
                let backlogBytes = Double(start - now) * rate / 8e9
                if backlogBytes > Double(link.queueLimitBytes) {
                    datagramsDropped[side] += 1
                    continue
                }
                busyUntil[side] = start + Int64((Double(datagram.count * 8) / rate * 1e9).rounded(.up))
                departure = busyUntil[side]
            }
            var arrival = departure + nanoseconds(link.oneWayDelay)
            if link.reorderRate > 0, rng.unit() < link.reorderRate {
                arrival += Int64(rng.unit() * Double(nanoseconds(link.reorderExtraDelay)))
            }
            push(Datagram(deliverAt: arrival, sequence: sequence, destination: 1 - side, bytes: datagram))
            sequence += 1
        }
    }

    /// Advances the clock to the next arrival or deadline and processes everything due then. Returns false
    /// when nothing at all is scheduled (the connections are stuck or done).
    mutating func advance() -> Bool {
        var next: Int64? = heap.first?.deliverAt
        for side in 0..<2 {
            if let deadline = connections[side].nextDeadline?.nanoseconds { next = min(next ?? deadline, deadline) }
        }
        guard let next else { return false }
        now = max(now, next)
        while let first = heap.first, first.deliverAt <= now {
            let datagram = pop()
            do {
                let reported = try connections[datagram.destination].receive(datagram.bytes, now: instant)
                events[datagram.destination].append(contentsOf: reported)
            } catch {
                rejections[datagram.destination].append(error)
            }
        }
        for side in 0..<2 {
            if let deadline = connections[side].nextDeadline?.nanoseconds, deadline <= now {
                events[side].append(contentsOf: connections[side].handleTimeout(now: instant))
            }
        }
        return true
    }

    /// Runs `application` (reads, writes, checks) and the network until `done` holds. Returns false if the
    /// virtual time limit passes or the system stalls first.
    mutating func run(limit: Duration, application: (inout NetworkSimulator) -> Void,
                      until done: (NetworkSimulator) -> Bool) -> Bool {
        let deadline = now + nanoseconds(limit)
        var stalledRounds = 0
        while true {
            application(&self)
            pump()
            if done(self) { return true }
            let before = now
            guard advance(), now <= deadline else { return false }
            stalledRounds = now == before ? stalledRounds + 1 : 0
            if stalledRounds > 100_000 { return false }
        }
    }

    // MARK: Binary heap ordered by (deliverAt, sequence)

    private static func earlier(_ x: Datagram, _ y: Datagram) -> Bool {
        x.deliverAt != y.deliverAt ? x.deliverAt < y.deliverAt : x.sequence < y.sequence
    }

    private mutating func push(_ datagram: Datagram) {
        heap.append(datagram)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.earlier(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func pop() -> Datagram {
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count, Self.earlier(heap[left], heap[smallest]) { smallest = left }
                if right < heap.count, Self.earlier(heap[right], heap[smallest]) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}

func nanoseconds(_ duration: Duration) -> Int64 {
    let (seconds, attoseconds) = duration.components
    return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
}

/// A seeded byte pattern of prime period: the writer sends it, the reader compares against it, so a byte
/// out of place (other than by a multiple of the period) is caught without storing the stream.
struct StreamPattern {
    static let period = 1_048_573
    /// The period plus one chunk, so any chunk starting inside the period is contiguous.
    let bytes: [UInt8]
    let chunk: Int

    init(seed: UInt64, chunk: Int = 65_536) {
        var rng = SplitMix64(seed: seed)
        var bytes = [UInt8](repeating: 0, count: Self.period + chunk)
        bytes.withUnsafeMutableBytes { raw in
            var index = 0
            while index + 8 <= Self.period {
                raw.storeBytes(of: rng.next(), toByteOffset: index, as: UInt64.self)
                index += 8
            }
            while index < Self.period {
                raw[index] = UInt8(truncatingIfNeeded: rng.next())
                index += 1
            }
            (raw.baseAddress! + Self.period).copyMemory(from: raw.baseAddress!, byteCount: chunk)
        }
        self.bytes = bytes
        self.chunk = chunk
    }
}

/// Writes `total` pattern bytes into a connection as fast as it accepts them, then finishes.
struct PatternWriter {
    let pattern: StreamPattern
    let total: UInt64
    private(set) var written: UInt64 = 0
    private(set) var finished = false

    init(pattern: StreamPattern, total: UInt64) {
        self.pattern = pattern
        self.total = total
    }

    mutating func step(_ connection: inout PeerStreamConnection) throws {
        while written < total, connection.sendBufferSpace > 0 {
            let position = Int(written % UInt64(StreamPattern.period))
            let count = Int(min(UInt64(pattern.chunk), total - written))
            let accepted = try pattern.bytes.withUnsafeBytes {
                try connection.write(UnsafeRawBufferPointer(rebasing: $0[position..<(position + count)]))
            }
            written += UInt64(accepted)
            if accepted < count { break }
        }
        if written == total, !finished {
            try connection.finish()
            finished = true
        }
    }
}

/// Reads everything readable and checks it against the pattern; counts mismatching chunks.
struct PatternReader {
    let pattern: StreamPattern
    private(set) var received: UInt64 = 0
    private(set) var mismatches = 0
    private var buffer = [UInt8](repeating: 0, count: 65_536)
    var paused = false

    init(pattern: StreamPattern) {
        self.pattern = pattern
    }

    mutating func step(_ connection: inout PeerStreamConnection) {
        guard !paused else { return }
        while true {
            let count = buffer.withUnsafeMutableBytes { connection.read(into: $0) }
            if count == 0 { return }
            let position = Int(received % UInt64(StreamPattern.period))
            let same = buffer.withUnsafeBytes { got in
                pattern.bytes.withUnsafeBytes { want in
                    memcmp(got.baseAddress!, want.baseAddress! + position, count) == 0
                }
            }
            if !same { mismatches += 1 }
            received += UInt64(count)
        }
    }
}
