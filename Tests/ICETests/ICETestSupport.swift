import Foundation
import ICE
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

struct TestTimeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Records every event of an agent so tests can wait for one without racing the single consumer.
final class EventLog: Sendable {
    private let storage = Mutex<[ICEEvent]>([])

    static func recording(_ agent: ICEAgent) -> EventLog {
        let log = EventLog()
        let events = agent.events
        Task {
            for await event in events { log.storage.withLock { $0.append(event) } }
        }
        return log
    }

    var count: Int { storage.withLock { $0.count } }
    var all: [ICEEvent] { storage.withLock { $0 } }

    /// The first event at or after `index` for which `match` returns a value (polling; tests only).
    @discardableResult
    func wait<T>(
        after index: Int = 0, timeout: Duration = .seconds(10), for what: String,
        _ match: (ICEEvent) -> T?
    ) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while true {
            let snapshot = storage.withLock { Array($0.dropFirst(index)) }
            for event in snapshot { if let value = match(event) { return value } }
            guard ContinuousClock.now < deadline else { throw TestTimeout(what: what) }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    func waitForState(_ state: ICEState, stream: ICEStreamID, component: Int = 1, after index: Int = 0,
                      timeout: Duration = .seconds(10)) async throws {
        try await wait(after: index, timeout: timeout, for: "\(state) on \(stream)/\(component)") { event -> Bool? in
            if case .stateChanged(stream, component, state) = event { return true }
            return nil
        }
    }

    func waitForGatheringDone(_ stream: ICEStreamID) async throws {
        try await wait(for: "gathering done") { event -> Bool? in
            if case .gatheringDone(stream) = event { return true }
            return nil
        }
    }

    func localCandidates(_ stream: ICEStreamID) -> [ICECandidate] {
        all.compactMap { event in
            if case .localCandidate(let c, stream) = event { return c }
            return nil
        }
    }

    func selectedPairs(_ stream: ICEStreamID, component: Int = 1) -> [(ICECandidate, ICECandidate)] {
        all.compactMap { event in
            if case .selectedPair(stream, component, let l, let r) = event { return (l, r) }
            return nil
        }
    }
}

/// One agent of a test with its stream and recorded events.
struct Peer {
    let agent: ICEAgent
    let log: EventLog
    let stream: ICEStreamID

    static func make(_ configuration: ICEConfiguration, components: Int = 1) async throws -> Peer {
        let agent = try ICEAgent(configuration: configuration)
        let log = EventLog.recording(agent)
        let stream = try await agent.addStream(components: components)
        return Peer(agent: agent, log: log, stream: stream)
    }
}

func loopbackConfiguration(_ role: ICEConfiguration.Role, addresses: [String] = ["127.0.0.1"]) -> ICEConfiguration {
    ICEConfiguration(role: role, localAddresses: addresses)
}

/// Full (non-trickled) exchange: both gather, then each gets the other's credentials and candidates.
func connect(_ a: Peer, _ b: Peer, components: Int = 1) async throws {
    try await a.agent.gatherCandidates(stream: a.stream)
    try await b.agent.gatherCandidates(stream: b.stream)
    try await a.log.waitForGatheringDone(a.stream)
    try await b.log.waitForGatheringDone(b.stream)
    try await b.agent.setRemoteCredentials(try await a.agent.localCredentials(stream: a.stream), stream: b.stream)
    try await a.agent.setRemoteCredentials(try await b.agent.localCredentials(stream: b.stream), stream: a.stream)
    for component in 1...components {
        try await b.agent.addRemoteCandidates(try await a.agent.localCandidates(stream: a.stream, component: component), stream: b.stream)
        try await a.agent.addRemoteCandidates(try await b.agent.localCandidates(stream: b.stream, component: component), stream: a.stream)
    }
    try await a.agent.endOfRemoteCandidates(stream: a.stream)
    try await b.agent.endOfRemoteCandidates(stream: b.stream)
    for component in 1...components {
        try await a.log.waitForState(.ready, stream: a.stream, component: component)
        try await b.log.waitForState(.ready, stream: b.stream, component: component)
    }
}

/// Collects `count` datagrams from `stream`, failing after `timeout`.
func receive(_ count: Int, from stream: AsyncStream<[UInt8]>, timeout: Duration = .seconds(5)) async throws -> [[UInt8]] {
    try await withThrowingTaskGroup(of: [[UInt8]]?.self) { group in
        group.addTask {
            var got: [[UInt8]] = []
            for await datagram in stream {
                got.append(datagram)
                if got.count == count { break }
            }
            guard got.count == count else { throw TestTimeout(what: "\(count) datagrams (stream finished after \(got.count))") }
            return got
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let got = first else {
            throw TestTimeout(what: "\(count) datagrams")
        }
        return got
    }
}

/// Sends `payloads` from `from` to `to` and checks they arrive byte for byte.
func expectDatagrams(from: Peer, to: Peer, component: Int = 1, payloads: [[UInt8]]) async throws {
    let incoming = to.agent.datagrams(stream: to.stream, component: component)
    for p in payloads { #expect(try from.agent.send(p, stream: from.stream, component: component) == p.count) }
    let got = try await receive(payloads.count, from: incoming)
    #expect(got == payloads)
}

func randomPayload(_ size: Int) -> [UInt8] { (0..<size).map { _ in UInt8.random(in: 0...255) } }

/// A UDP socket bound on 127.0.0.1 that nobody reads: packets to it vanish without an ICMP error.
final class SilentUDPSocket: Sendable {
    let fd: Int32
    let port: UInt16

    init() {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.port = UInt16(bigEndian: addr.sin_port)
    }

    func close() { _ = Glibc.close(fd) }
}

/// Keeps an agent alive until `release()`, which may run on any thread.
final class AgentHolder: Sendable {
    private let agent = Mutex<ICEAgent?>(nil)
    func hold(_ a: ICEAgent) { agent.withLock { $0 = a } }
    func release() {
        // Take it out of the lock first so the agent's deinit does not run while the lock is held.
        let dropped = agent.withLock { a -> ICEAgent? in
            let taken = a
            a = nil
            return taken
        }
        _ = dropped
    }
}

/// Counts from any thread.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func increment() { value.add(1, ordering: .relaxed) }
    var current: Int { value.load(ordering: .relaxed) }
}

/// Answers STUN Binding requests on 127.0.0.1 with a fixed mapped address, from a thread of its own.
/// libnice 0.1.21 gathers with classic RFC 3489 requests (no magic cookie), so the answer is RFC 3489's
/// MAPPED-ADDRESS with the 16-byte transaction id echoed; requests with the RFC 8489 cookie are ignored.
final class FakeSTUNServer: Sendable {
    let port: UInt16
    private let fd: Int32
    private let running = Atomic<Bool>(true)
    private let answered = Atomic<Int>(0)
    private let finished = Atomic<Bool>(false)

    var requestsAnswered: Int { answered.load(ordering: .relaxed) }

    init(mappedAddress: (UInt8, UInt8, UInt8, UInt8), mappedPort: UInt16) throws {
        let socket = SilentUDPSocket()
        fd = socket.fd
        port = socket.port
        var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let mapped = [mappedAddress.0, mappedAddress.1, mappedAddress.2, mappedAddress.3]
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 1500)
            while running.load(ordering: .relaxed) {
                var from = sockaddr_in()
                var fromLength = socklen_t(MemoryLayout<sockaddr_in>.size)
                let n = withUnsafeMutablePointer(to: &from) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &fromLength) }
                }
                // A Binding request (type 0x0001) without the RFC 8489 magic cookie 0x2112A442.
                guard n >= 20, buffer[0] == 0x00, buffer[1] == 0x01,
                      buffer[4..<8] != [0x21, 0x12, 0xA4, 0x42] else { continue }
                let response = Self.bindingSuccess(header: Array(buffer[4..<20]), address: mapped, port: mappedPort)
                _ = withUnsafePointer(to: &from) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, response, response.count, 0, $0, fromLength) }
                }
                answered.add(1, ordering: .relaxed)
            }
            finished.store(true, ordering: .releasing)
        }
    }

    func stop() {
        running.store(false, ordering: .relaxed)
        while !finished.load(ordering: .acquiring) { usleep(5_000) }
        _ = Glibc.close(fd)
    }

    /// RFC 3489 §11.1/§11.2.1: Binding Response (0x0101), the request's transaction id, MAPPED-ADDRESS.
    static func bindingSuccess(header: [UInt8], address: [UInt8], port: UInt16) -> [UInt8] {
        let attribute: [UInt8] = [0x00, 0x01, 0x00, 0x08, 0x00, 0x01, UInt8(port >> 8), UInt8(port & 0xFF)] + address
        return [0x01, 0x01, 0x00, UInt8(attribute.count)] + header + attribute
    }
}
