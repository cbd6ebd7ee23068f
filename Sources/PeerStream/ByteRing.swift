/// Fixed-capacity byte store addressed by absolute stream offset (position = offset mod capacity).
///
/// Both the send buffer and the receive buffer are one of these: the live span of offsets is never wider than
/// the capacity (the caller guarantees it), so offsets map to slots without any per-packet allocation and
/// copies are at most two `memcpy`s.
struct ByteRing: Sendable {
    private var storage: [UInt8]
    let capacity: Int

    init(capacity: Int) {
        precondition(capacity > 0, "ByteRing capacity must be positive")
        self.capacity = capacity
        self.storage = [UInt8](repeating: 0, count: capacity)
    }

    /// Copies `source` into the slots of `offset ..< offset + source.count`.
    mutating func write(at offset: UInt64, from source: UnsafeRawBufferPointer) {
        let count = source.count
        guard count > 0, let base = source.baseAddress else { return }
        precondition(count <= capacity, "ByteRing write wider than capacity")
        let position = Int(offset % UInt64(capacity))
        let first = min(count, capacity - position)
        storage.withUnsafeMutableBytes { slots in
            (slots.baseAddress! + position).copyMemory(from: base, byteCount: first)
            if first < count {
                slots.baseAddress!.copyMemory(from: base + first, byteCount: count - first)
            }
        }
    }

    /// Copies the slots of `offset ..< offset + destination.count` into `destination`.
    func read(at offset: UInt64, into destination: UnsafeMutableRawBufferPointer) {
        let count = destination.count
        guard count > 0, let base = destination.baseAddress else { return }
        precondition(count <= capacity, "ByteRing read wider than capacity")
        let position = Int(offset % UInt64(capacity))
        let first = min(count, capacity - position)
        storage.withUnsafeBytes { slots in
            base.copyMemory(from: slots.baseAddress! + position, byteCount: first)
            if first < count {
                (base + first).copyMemory(from: slots.baseAddress!, byteCount: count - first)
            }
        }
    }
}
