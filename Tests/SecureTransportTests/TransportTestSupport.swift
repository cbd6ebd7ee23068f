import TestServers
import DTLS
import Foundation
import ICE
import PeerStream
import SecureTransport
import Synchronization
import Testing

struct TestTimeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Records an agent's events so a test can wait for one without racing the single consumer.
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

    func wait(timeout: Duration = .seconds(10), for what: String, _ match: (ICEEvent) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            if storage.withLock({ $0.contains(where: match) }) { return }
            guard ContinuousClock.now < deadline else { throw TestTimeout(what: what) }
            try await Task.sleep(for: .milliseconds(2))
        }
    }
}

/// One ICE agent of a test, its stream and a certificate.
struct Side {
    let agent: ICEAgent
    let stream: ICEStreamID
    let log: EventLog
    let certificate: DTLSCertificate

    static func make(_ role: ICEConfiguration.Role) async throws -> Side {
        let agent = try ICEAgent(configuration: ICEConfiguration(role: role, localAddresses: ["127.0.0.1"]))
        let log = EventLog.recording(agent)
        let stream = try await agent.addStream(components: 1)
        return Side(agent: agent, stream: stream, log: log, certificate: try DTLSCertificate.generate())
    }
}

/// Two agents on 127.0.0.1 with ICE ready on both.
func connectedSides() async throws -> (controlling: Side, controlled: Side) {
    let a = try await Side.make(.controlling)
    let b = try await Side.make(.controlled)
    for side in [a, b] { try await side.agent.gatherCandidates(stream: side.stream) }
    for side in [a, b] {
        try await side.log.wait(for: "gathering done") { if case .gatheringDone = $0 { true } else { false } }
    }
    try await b.agent.setRemoteCredentials(try await a.agent.localCredentials(stream: a.stream), stream: b.stream)
    try await a.agent.setRemoteCredentials(try await b.agent.localCredentials(stream: b.stream), stream: a.stream)
    try await b.agent.addRemoteCandidates(try await a.agent.localCandidates(stream: a.stream), stream: b.stream)
    try await a.agent.addRemoteCandidates(try await b.agent.localCandidates(stream: b.stream), stream: a.stream)
    try await a.agent.endOfRemoteCandidates(stream: a.stream)
    try await b.agent.endOfRemoteCandidates(stream: b.stream)
    for side in [a, b] {
        try await side.log.wait(for: "ICE ready") { if case .stateChanged(_, 1, .ready) = $0 { true } else { false } }
    }
    return (a, b)
}

/// Runs both handshakes at once. `client` takes the DTLS client role (`a=setup:active`).
func secureStreams(
    client: Side, server: Side, configuration: SecureStreamConfiguration = testConfiguration(),
    clientExpects: DTLSFingerprint? = nil, serverExpects: DTLSFingerprint? = nil
) async -> (client: Result<SecureStream, SecureTransportError>, server: Result<SecureStream, SecureTransportError>) {
    async let c = connectResult(client, role: .client, expecting: clientExpects ?? server.certificate.fingerprint(), configuration)
    async let s = connectResult(server, role: .server, expecting: serverExpects ?? client.certificate.fingerprint(), configuration)
    return await (c, s)
}

private func connectResult(_ side: Side, role: DTLSRole, expecting: DTLSFingerprint, _ configuration: SecureStreamConfiguration) async
    -> Result<SecureStream, SecureTransportError>
{
    do {
        return .success(try await SecureStream.connect(
            agent: side.agent, stream: side.stream, role: role, certificate: side.certificate,
            remoteFingerprint: expecting, configuration: configuration))
    } catch {
        return .failure(error)
    }
}

/// Short DTLS retransmission timer: both handshakes start together, but a ClientHello sent before the
/// server's handler is installed would otherwise wait the RFC's full second.
func testConfiguration(loss: Double = 0, seed: UInt64 = 1) -> SecureStreamConfiguration {
    var configuration = SecureStreamConfiguration()
    configuration.transport.initialRetransmissionTimeout = .milliseconds(100)
    configuration.transport.handshakeTimeout = .seconds(8)
    configuration.transport.lossInjection = loss
    configuration.transport.lossInjectionSeed = seed
    return configuration
}

/// Reads until the end of the stream, checking every byte against the pattern; returns the byte count and
/// the offset of the first mismatch, if any.
func readAndVerify(_ stream: SecureStream, seed: UInt64, pauseAfter: Int? = nil) async throws -> (count: Int, firstMismatch: Int?) {
    var offset = 0
    var mismatch: Int?
    while let chunk = try await stream.read(max: 256 * 1024) {
        if mismatch == nil {
            let start = offset - offset % 8
            let expected = Pattern.bytes(offset: start, count: offset - start + chunk.count, seed: seed)
            if !expected[(offset - start)...].elementsEqual(chunk) {
                mismatch = offset + (zip(expected[(offset - start)...], chunk).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? 0)
            }
        }
        offset += chunk.count
    }
    return (offset, mismatch)
}

/// Writes `total` pattern bytes in `chunk`-sized writes, then finishes.
func writePattern(_ stream: SecureStream, total: Int, seed: UInt64, chunk: Int = 256 * 1024, progress: Progress? = nil) async throws {
    var offset = 0
    while offset < total {
        let count = min(chunk, total - offset)
        try await stream.write(Pattern.bytes(offset: offset, count: count, seed: seed))
        offset += count
        progress?.value.store(offset, ordering: .relaxed)
    }
    try await stream.finish()
}

/// Fails with `TestTimeout` when `body` does not finish in `limit`.
func within<T: Sendable>(_ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw TestTimeout(what: what) }
        return value
    }
}

/// A counter shared between a writer task and the test.
final class Progress: Sendable {
    let value = Atomic<Int>(0)
}
