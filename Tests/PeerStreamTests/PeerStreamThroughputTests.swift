import PeerStream
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Protocol processing alone: two connections wired back to back (no simulator, no crypto, no sockets),
/// one reused datagram buffer, a virtual microsecond per round. Checks every byte and prints MB/s — run it
/// in a release build to see how far the protocol is from being the bottleneck:
/// `swift test -c release --scratch-path .build-release -Xswiftc -enable-testing --filter backToBack`
@Test func backToBackThroughputIsByteExact() throws {
    let total: UInt64 = 256 << 20
    let config = PeerStreamConfiguration(connectionID: 9)
    var a = PeerStreamConnection(configuration: config, now: .zero)
    var b = PeerStreamConnection(configuration: config, now: .zero)
    let pattern = StreamPattern(seed: 9)
    var writer = PatternWriter(pattern: pattern, total: total)
    var reader = PatternReader(pattern: pattern)
    var datagram = [UInt8](repeating: 0, count: config.maxDatagramSize)
    var now: Int64 = 0
    var rounds = 0
    let start = monotonicSeconds()
    while !b.isAtEndOfStream, rounds < 10_000_000 {
        rounds += 1
        now += 1_000
        let t = PeerStreamInstant(nanoseconds: now)
        try writer.step(&a)
        var moved = false
        while true {
            let n = datagram.withUnsafeMutableBytes { a.nextDatagram(now: t, into: $0) }
            if n == 0 { break }
            moved = true
            _ = try datagram.withUnsafeBytes { try b.receive(UnsafeRawBufferPointer(rebasing: $0[0..<n]), now: t) }
        }
        reader.step(&b)
        while true {
            let n = datagram.withUnsafeMutableBytes { b.nextDatagram(now: t, into: $0) }
            if n == 0 { break }
            moved = true
            _ = try datagram.withUnsafeBytes { try a.receive(UnsafeRawBufferPointer(rebasing: $0[0..<n]), now: t) }
        }
        if !moved, let next = [a.nextDeadline, b.nextDeadline].compactMap({ $0 }).min() {
            now = max(now, next.nanoseconds)
            let due = PeerStreamInstant(nanoseconds: now)
            _ = a.handleTimeout(now: due)
            _ = b.handleTimeout(now: due)
        }
    }
    let seconds = monotonicSeconds() - start
    #expect(b.isAtEndOfStream)
    #expect(reader.received == total)
    #expect(reader.mismatches == 0)
    #expect(a.statistics.packetsLost == 0)
    print("back-to-back: \(total >> 20) MiB in \(seconds) s = \(Int(Double(total) / seconds / 1e6)) MB/s of protocol processing (both ends, one core), \(a.statistics.packetsSent) DATA packets")
}
