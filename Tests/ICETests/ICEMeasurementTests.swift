import Foundation
import ICE
import Synchronization
import Testing

#if DEBUG
let buildKind = "debug build"
#else
let buildKind = "release build"
#endif

/// Figures for the benchmark baselines. They are printed, never asserted: the machine is shared.
@Suite("ICE measurements (printed)", .serialized)
struct ICEMeasurementTests {
    @Test("rate of 1200-byte datagrams between two in-process agents")
    func datagramRate() async throws {
        let a = try await Peer.make(loopbackConfiguration(.controlling))
        let b = try await Peer.make(loopbackConfiguration(.controlled))
        try await connect(a, b)
        let received = Counter()
        b.agent.setReceiveHandler { _, _, bytes in
            if bytes.count == 1200 { received.increment() }
        }
        let payload = [UInt8](repeating: 0xA5, count: 1200)
        let total = 100_000
        // At most this many in flight (64 x 1200 B stays well inside the default 208 KiB receive buffer);
        // a datagram lost anyway is written off after 20 ms without progress.
        let window = 64
        var sent = 0
        var writtenOff = 0
        let started = ContinuousClock.now
        let deadline = started + .seconds(8)
        try payload.withUnsafeBytes { buffer in
            var lastSeen = 0
            var lastProgress = ContinuousClock.now
            while sent < total && ContinuousClock.now < deadline {
                let got = received.current
                if got != lastSeen {
                    lastSeen = got
                    lastProgress = ContinuousClock.now
                }
                if sent - got - writtenOff >= window {
                    if ContinuousClock.now - lastProgress > .milliseconds(20) {
                        writtenOff = sent - got
                        lastProgress = ContinuousClock.now
                    }
                    sched_yield()
                    continue
                }
                try a.agent.send(buffer, stream: a.stream)
                sent += 1
            }
        }
        let drainDeadline = ContinuousClock.now + .milliseconds(500)
        while received.current < sent && ContinuousClock.now < drainDeadline {
            try await Task.sleep(for: .milliseconds(1))
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let count = received.current
        print("ICE datagram rate (\(buildKind), windowed \(window)): \(count) of \(sent) x 1200 B in \(elapsed) = \(Int(Double(count) / seconds)) datagrams/s, \(String(format: "%.1f", Double(count) * 1200 / seconds / 1e6)) MB/s")
        #expect(count > 0)
        #expect(count <= sent)
        await a.agent.close()
        await b.agent.close()
    }

    @Test("reliable (pseudo-TCP) agents carry a byte stream intact")
    func reliableStream() async throws {
        var configuration = loopbackConfiguration(.controlling)
        configuration.reliable = true
        let a = try await Peer.make(configuration)
        configuration.role = .controlled
        let b = try await Peer.make(configuration)
        try await connect(a, b)
        let collected = Mutex<[UInt8]>([])
        b.agent.setReceiveHandler { _, _, bytes in collected.withLock { $0.append(contentsOf: bytes) } }
        var message = [UInt8](repeating: 0, count: 8 << 20)
        message.withUnsafeMutableBytes { raw in
            // Random 64-bit words: cheap to make in a debug build, and no repeating pattern to hide a
            // misordered or duplicated segment.
            var generator = SystemRandomNumberGenerator()
            for i in 0..<(raw.count / 8) { raw.storeBytes(of: generator.next() as UInt64, toByteOffset: i * 8, as: UInt64.self) }
        }
        #expect(message.count == 8 << 20)
        let started = ContinuousClock.now
        let deadline = started + .seconds(10)
        var offset = 0
        while offset < message.count && ContinuousClock.now < deadline {
            let end = min(offset + 16_384, message.count)
            do {
                offset += try message[offset..<end].withUnsafeBytes { try a.agent.send($0, stream: a.stream) }
            } catch ICEError.wouldBlock {
                // Pseudo-TCP window full: libnice signals `.writable` when there is room; yielding and
                // retrying is enough here (and cheaper than waking up on the event).
                sched_yield()
            }
        }
        while collected.withLock({ $0.count }) < message.count && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(2))
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("ICE pseudo-TCP (\(buildKind)): 8 MiB in \(elapsed) = \(String(format: "%.1f", Double(message.count) / seconds / 1e6)) MB/s")
        let got = collected.withLock { $0 }
        #expect(got.count == message.count)
        #expect(got == message, "pseudo-TCP delivered different bytes")
        #expect(a.log.all.contains { if case .writable = $0 { true } else { false } })
        await a.agent.close()
        await b.agent.close()
    }
}
