/// Fixed-capacity byte store addressed by absolute stream offset (position = offset mod capacity).
///
/// Both the send buffer and the receive buffer are one of these: the live span of offsets is never wider than
/// the capacity (the caller guarantees it), so offsets map to slots without any per-packet allocation and
/// copies are at most a few `memcpy`s.
///
/// The slots live in segments of `segmentSize` bytes that are allocated on first write and freed by
/// `discard(below:)` once every offset they held was consumed (acknowledged on the send side, read by the
/// application on the receive side). Memory then follows the bytes actually buffered rather than the
/// capacity: a connection whose sender sends nothing holds no receive segments, and a hundred concurrent
/// transfers, each of which keeps only its congestion window in flight, hold a few segments each instead of
/// 2 × 4 MiB each (measured with Benchmarks/parallel-transfers: a preallocated, zero-filled ring put 1.6 GB
/// of rings into one process running 100 transfers at both ends).
struct ByteRing: Sendable {
    /// Segment `k` holds positions `k * segmentSize ..< min((k + 1) * segmentSize, capacity)`; empty when
    /// not allocated. Arrays keep the value semantics of the connection that owns the ring.
    private var segments: [[UInt8]]
    private let segmentSize: Int
    let capacity: Int
    /// One past the highest offset ever written: a segment whose slots may already hold bytes of the next
    /// lap must not be freed.
    private var writtenEnd: UInt64 = 0
    /// Offsets below this were passed by `discard`; it moves by whole segments.
    private var discardedUpTo: UInt64 = 0

    static let defaultSegmentSize = 64 << 10

    init(capacity: Int, segmentSize: Int = ByteRing.defaultSegmentSize) {
        precondition(capacity > 0, "ByteRing capacity must be positive")
        precondition(segmentSize > 0, "ByteRing segment size must be positive")
        self.capacity = capacity
        self.segmentSize = min(segmentSize, capacity)
        self.segments = Array(repeating: [], count: (capacity + self.segmentSize - 1) / self.segmentSize)
    }

    /// Bytes currently allocated for slots (for statistics and tests).
    var allocatedBytes: Int { segments.reduce(0) { $0 + $1.count } }

    private func segmentLength(_ k: Int) -> Int { min(segmentSize, capacity - k * segmentSize) }

    /// Copies `source` into the slots of `offset ..< offset + source.count`.
    mutating func write(at offset: UInt64, from source: UnsafeRawBufferPointer) {
        let count = source.count
        guard count > 0, let base = source.baseAddress else { return }
        precondition(count <= capacity, "ByteRing write wider than capacity")
        var position = Int(offset % UInt64(capacity))
        var done = 0
        while done < count {
            let k = position / segmentSize
            let within = position - k * segmentSize
            let length = segmentLength(k)
            let n = min(count - done, length - within)
            if segments[k].isEmpty { segments[k] = [UInt8](repeating: 0, count: length) }
            segments[k].withUnsafeMutableBytes { slots in
                (slots.baseAddress! + within).copyMemory(from: base + done, byteCount: n)
            }
            done += n
            position += n
            if position == capacity { position = 0 }
        }
        writtenEnd = max(writtenEnd, offset + UInt64(count))
    }

    /// Copies the slots of `offset ..< offset + destination.count` into `destination`. Slots never written
    /// (or already discarded) read as zeros; callers only read what they wrote and still hold.
    func read(at offset: UInt64, into destination: UnsafeMutableRawBufferPointer) {
        let count = destination.count
        guard count > 0, let base = destination.baseAddress else { return }
        precondition(count <= capacity, "ByteRing read wider than capacity")
        var position = Int(offset % UInt64(capacity))
        var done = 0
        while done < count {
            let k = position / segmentSize
            let within = position - k * segmentSize
            let n = min(count - done, segmentLength(k) - within)
            if segments[k].isEmpty {
                (base + done).initializeMemory(as: UInt8.self, repeating: 0, count: n)
            } else {
                segments[k].withUnsafeBytes { slots in
                    (base + done).copyMemory(from: slots.baseAddress! + within, byteCount: n)
                }
            }
            done += n
            position += n
            if position == capacity { position = 0 }
        }
    }

    /// The caller is done with every offset below `liveStart`: frees each segment that lies wholly below it,
    /// unless a write of the next lap already put bytes into it.
    mutating func discard(below liveStart: UInt64) {
        while discardedUpTo < liveStart {
            let position = Int(discardedUpTo % UInt64(capacity))
            let k = position / segmentSize
            let segmentStart = discardedUpTo - UInt64(position - k * segmentSize)
            let segmentEnd = segmentStart + UInt64(segmentLength(k))
            guard segmentEnd <= liveStart else { return }
            if writtenEnd <= segmentStart + UInt64(capacity) { segments[k] = [] }
            discardedUpTo = segmentEnd
        }
    }
}
