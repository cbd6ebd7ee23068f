import DTLS
import Foundation
import ICE
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

func megabytesPerSecond(_ bytes: Int, _ elapsed: Duration) -> Double {
    Double(bytes) / seconds(elapsed) / 1e6
}

/// Records an agent's events so the benchmark can wait for one without racing the single consumer.
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

    var all: [ICEEvent] { storage.withLock { $0 } }

    func wait(timeout: Duration = .seconds(15), for what: String, _ match: (ICEEvent) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            if storage.withLock({ $0.contains(where: match) }) { return }
            guard ContinuousClock.now < deadline else { throw BenchError("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    func waitForGathering() async throws {
        try await wait(for: "gathering done") { if case .gatheringDone = $0 { true } else { false } }
    }

    func waitForReady() async throws {
        try await wait(for: "ICE ready") { if case .stateChanged(_, 1, .ready) = $0 { true } else { false } }
    }
}

struct Side {
    let agent: ICEAgent
    let stream: ICEStreamID
    let log: EventLog

    static func make(_ role: ICEConfiguration.Role, reliable: Bool = false) async throws -> Side {
        var configuration = ICEConfiguration(role: role, localAddresses: ["127.0.0.1"])
        configuration.reliable = reliable
        // Experiments without rebuilding: SJ_NO_DIRECT=1 sends every datagram through nice_agent_send;
        // SJ_SOCKBUF=<bytes> sets the selected socket's SO_SNDBUF/SO_RCVBUF.
        let environment = ProcessInfo.processInfo.environment
        configuration.directSend = environment["SJ_NO_DIRECT"] == nil
        if let text = environment["SJ_SOCKBUF"], let bytes = Int(text) { configuration.socketBufferBytes = bytes }
        let agent = try ICEAgent(configuration: configuration)
        let log = EventLog.recording(agent)
        let stream = try await agent.addStream(components: 1)
        return Side(agent: agent, stream: stream, log: log)
    }

    func close() async { await agent.close() }
}

/// Two in-process agents on 127.0.0.1, ICE ready on both.
func connectedSides(reliable: Bool = false) async throws -> (Side, Side) {
    let a = try await Side.make(.controlling, reliable: reliable)
    let b = try await Side.make(.controlled, reliable: reliable)
    for side in [a, b] { try await side.agent.gatherCandidates(stream: side.stream) }
    for side in [a, b] { try await side.log.waitForGathering() }
    try await b.agent.setRemoteCredentials(try await a.agent.localCredentials(stream: a.stream), stream: b.stream)
    try await a.agent.setRemoteCredentials(try await b.agent.localCredentials(stream: b.stream), stream: a.stream)
    try await b.agent.addRemoteCandidates(try await a.agent.localCandidates(stream: a.stream), stream: b.stream)
    try await a.agent.addRemoteCandidates(try await b.agent.localCandidates(stream: b.stream), stream: a.stream)
    try await a.agent.endOfRemoteCandidates(stream: a.stream)
    try await b.agent.endOfRemoteCandidates(stream: b.stream)
    for side in [a, b] { try await side.log.waitForReady() }
    return (a, b)
}

/// Counts from any thread.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func add(_ n: Int) { value.add(n, ordering: .relaxed) }
    var current: Int { value.load(ordering: .relaxed) }
}
