import Testing
@testable import PeerStream

/// The stream rings allocate segments on first write and free them once consumed, so memory follows what is
/// buffered, not the capacity.
struct ByteRingTests {
    @Test("nothing is allocated before the first write")
    func lazy() {
        let ring = ByteRing(capacity: 4 << 20)
        #expect(ring.allocatedBytes == 0)
    }

    @Test("a stream through the ring keeps only the unconsumed segments", arguments: [
        (capacity: 1 << 20, segment: 64 << 10, chunk: 1163),
        (capacity: 1_000_000, segment: 65_536, chunk: 4096),  // capacity not a multiple of the segment
        (capacity: 300, segment: 64, chunk: 7),
    ])
    func streaming(capacity: Int, segment: Int, chunk: Int) {
        var ring = ByteRing(capacity: capacity, segmentSize: segment)
        var written: UInt64 = 0, consumed: UInt64 = 0
        let lag = UInt64(capacity / 3)
        var out = [UInt8](repeating: 0, count: chunk)
        var mismatches = 0
        // Three laps round the ring; the reader stays `lag` bytes behind and discards what it read.
        while written < UInt64(capacity * 3) {
            let bytes = (0..<chunk).map { UInt8(truncatingIfNeeded: (written + UInt64($0)) &* 31) }
            bytes.withUnsafeBytes { ring.write(at: written, from: $0) }
            written += UInt64(chunk)
            while written - consumed > lag {
                out.withUnsafeMutableBytes { ring.read(at: consumed, into: $0) }
                for (i, b) in out.enumerated() where b != UInt8(truncatingIfNeeded: (consumed + UInt64(i)) &* 31) { mismatches += 1 }
                consumed += UInt64(chunk)
                ring.discard(below: consumed)
            }
            // Live bytes, plus at most one partly consumed segment at each end.
            #expect(ring.allocatedBytes <= Int(written - consumed) + 2 * segment)
        }
        #expect(mismatches == 0)
        ring.discard(below: written)
        #expect(ring.allocatedBytes <= segment, "at most the segment the last write ended in")
    }

    @Test("a segment that already holds bytes of the next lap is not freed")
    func nextLapKept() {
        var ring = ByteRing(capacity: 256, segmentSize: 64)
        let first = [UInt8](repeating: 1, count: 256)
        first.withUnsafeBytes { ring.write(at: 0, from: $0) }
        // Out-of-order data of the next lap lands in segment 0 (offsets 256..<260) before 0..<64 is discarded.
        let next = [UInt8](repeating: 2, count: 4)
        next.withUnsafeBytes { ring.write(at: 256, from: $0) }
        ring.discard(below: 64)
        var got = [UInt8](repeating: 0, count: 4)
        got.withUnsafeMutableBytes { ring.read(at: 256, into: $0) }
        #expect(got == next)
        #expect(ring.allocatedBytes == 256)
    }

    @Test("random writes and discards read back what was written", arguments: [1, 2, 3] as [UInt64])
    func randomized(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let capacity = 4096
        var ring = ByteRing(capacity: capacity, segmentSize: 256)
        var base: UInt64 = 0
        var mismatches = 0
        for _ in 0..<2000 {
            // Write somewhere inside the live window [base, base + capacity), like out-of-order packets.
            let length = Int.random(in: 1...300, using: &rng)
            let start = base + UInt64.random(in: 0...UInt64(capacity - length), using: &rng)
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: (start + UInt64($0)) &* 131) }
            bytes.withUnsafeBytes { ring.write(at: start, from: $0) }
            var back = [UInt8](repeating: 0, count: length)
            back.withUnsafeMutableBytes { ring.read(at: start, into: $0) }
            if back != bytes { mismatches += 1 }
            base += UInt64.random(in: 0...200, using: &rng)
            ring.discard(below: base)
            #expect(ring.allocatedBytes <= capacity)
        }
        #expect(mismatches == 0)
    }
}
