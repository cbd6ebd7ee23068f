import Foundation
import RTP
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The probe: a UDP socket on 127.0.0.1 that sends G.711 RTP frames (silence with tone bursts) to the caller's
/// audio input and receives what the caller's media session relays back out after the echo.
final class ProbeSocket: Sendable {
    /// One tone burst sent, and when (if ever) its echo was heard.
    struct Burst: Sendable {
        var frequency: Double
        var sentAt: ContinuousClock.Instant
        var roundTrip: Duration?
    }

    /// Burst frequencies, in turn: 200 Hz apart, so one 160-sample frame (50 Hz Goertzel resolution at 8 kHz)
    /// tells them apart, and a burst's echo cannot be taken for the previous one of the same frequency unless
    /// it is a second late.
    static let frequencies: [Double] = [600, 800, 1000, 1200, 1400]
    static let samplesPerFrame = 160          // 20 ms at 8 kHz (RFC 3551 §4.5: G.711 frames of 20 ms)
    static let framesPerBurst = 10            // one burst frame every 200 ms

    let descriptor: Int32
    let port: UInt16
    private let arrivals = Mutex<[(frequency: Double, at: ContinuousClock.Instant)]>([])
    private let stopped = Mutex(false)

    init() throws {
        (descriptor, port) = try Self.bound()
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)   // so the receiver notices `stop` within 100 ms
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// A UDP port on 127.0.0.1 that is free right now (bound to port 0, read back, released).
    static func freePort() throws -> UInt16 {
        let (fd, port) = try bound()
        Glibc.close(fd)
        return port
    }

    private static func bound() throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw SampleError(description: "socket(): \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else {
            Glibc.close(fd)
            throw SampleError(description: "cannot bind a UDP socket on 127.0.0.1: \(String(cString: strerror(errno)))")
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    /// Sends `seconds` of 20 ms frames to 127.0.0.1:`port`, then waits half a second for the last echoes and
    /// matches each burst with the first echo of its frequency heard after it was sent.
    func run(to port: UInt16, seconds: Int) async throws -> [Burst] {
        let receiver = Thread { [self] in receive() }
        receiver.start()
        defer { stopped.withLock { $0 = true } }

        var destination = sockaddr_in()
        destination.sin_family = sa_family_t(AF_INET)
        destination.sin_port = port.bigEndian
        destination.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ssrc = UInt32.random(in: 1...UInt32.max)
        var sequence = UInt16.random(in: 0...0x7FFF)
        var timestamp = UInt32.random(in: 0...UInt32.max)
        let silence = [UInt8](repeating: G711Law.muLaw.silence, count: Self.samplesPerFrame)
        var bursts: [Burst] = []
        let start = ContinuousClock.now
        for frame in 0..<(seconds * 50) {
            // Paced by the clock, not by the sleeps, so the frames keep a 20 ms rhythm.
            try await Task.sleep(until: start + .milliseconds(20 * frame), clock: .continuous)
            var payload = silence
            var frequency: Double?
            if frame % Self.framesPerBurst == 0 {
                let f = Self.frequencies[(frame / Self.framesPerBurst) % Self.frequencies.count]
                var tone = ToneGenerator(frequency: f, amplitude: 8000)
                payload = G711Law.muLaw.encode(tone.nextFrame(count: Self.samplesPerFrame))
                frequency = f
            }
            let packet = try RTPPacket(header: RTPHeader(marker: frame == 0, payloadType: G711Law.muLaw.payloadType,
                                                         sequenceNumber: sequence, timestamp: timestamp, ssrc: ssrc),
                                       payload: payload).serialized()
            let sentAt = ContinuousClock.now
            let sent = packet.withUnsafeBytes { bytes in
                withUnsafePointer(to: &destination) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(descriptor, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            guard sent == packet.count else { throw SampleError(description: "sendto: \(String(cString: strerror(errno)))") }
            if let frequency { bursts.append(Burst(frequency: frequency, sentAt: sentAt)) }
            sequence &+= 1
            timestamp &+= UInt32(Self.samplesPerFrame)
        }
        try await Task.sleep(for: .milliseconds(500))
        stopped.withLock { $0 = true }

        var heard = arrivals.withLock { $0 }
        let cycle = Duration.milliseconds(20 * Self.framesPerBurst * Self.frequencies.count)
        for i in bursts.indices {
            let burst = bursts[i]
            if let j = heard.firstIndex(where: { $0.frequency == burst.frequency && $0.at >= burst.sentAt && $0.at - burst.sentAt < cycle }) {
                bursts[i].roundTrip = heard[j].at - burst.sentAt
                heard.remove(at: j)
            }
        }
        return bursts
    }

    /// Receives echoed RTP until stopped; notes each frame that carries a burst, by its frequency.
    private func receive() {
        var buffer = [UInt8](repeating: 0, count: 2048)
        while !stopped.withLock({ $0 }) {
            let n = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { continue }   // timeout (EAGAIN): look at `stopped` again
            let at = ContinuousClock.now
            guard let packet = try? RTPPacket(parsing: Array(buffer[0..<n])) else { continue }
            let samples = G711Law.muLaw.decode(packet.payload)
            guard let frequency = Goertzel.dominantFrequency(in: samples, sampleRate: 8000, candidates: Self.frequencies),
                  Goertzel.normalizedPower(of: samples, frequency: frequency, sampleRate: 8000) > 1e6 else { continue }
            arrivals.withLock { $0.append((frequency, at)) }
        }
    }

    func close() {
        stopped.withLock { $0 = true }
        Glibc.close(descriptor)
    }
}
