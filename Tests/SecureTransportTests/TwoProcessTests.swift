import TestServers
import DTLS
import Foundation
import ICE
import SecureTransport
import Synchronization
import Testing

/// The far end in another process: `bench-transport-throughput --peer` (built next to the test bundle),
/// driven by one JSON object per line on its stdin/stdout.
final class PeerProcess: Sendable {
    private let process: Process
    private let input: FileHandle
    private let received = LineBuffer()

    static var executable: URL { builtProduct("bench-transport-throughput") }

    init() throws {
        process = Process()
        process.executableURL = Self.executable
        process.arguments = ["--peer"]
        let stdinPipe = Pipe()
        let stdoutPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        input = stdinPipe.fileHandleForWriting
        try process.run()
        let output = stdoutPipe.fileHandleForReading
        Thread.detachNewThread { [received] in
            var pending = Data()
            while true {
                let chunk = output.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    received.lines.withLock { $0.append(line) }
                    pending.removeSubrange(pending.startIndex...newline)
                }
            }
        }
    }

    /// The next line the peer printed, waiting at most `timeout`.
    func nextLine(timeout: Duration = .seconds(15)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let line = received.lines.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { return line }
            guard ContinuousClock.now < deadline else { throw TestTimeout(what: "a line from the peer process") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func send(_ line: String) throws {
        try input.write(contentsOf: Data((line + "\n").utf8))
    }

    func stop() {
        try? input.close()
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate() }
    }
}

final class LineBuffer: Sendable {
    let lines = Mutex<[String]>([])
}

/// The peer's side of the exchange (same fields as `PeerDescription` in the benchmark's PeerMode.swift).
struct PeerDescription: Codable {
    var ufrag: String
    var pwd: String
    var fingerprint: String
    var candidates: [String]
    var size: Int?
    var seed: UInt64?
}

struct PeerResult: Codable {
    var received: Int
    var mismatch: Int
}

@Suite("SecureStream to a second process", .serialized)
struct TwoProcessTests {
    @Test("8 MiB byte-exact to another process over loopback")
    func transferToSecondProcess() async throws {
        let peer = try PeerProcess()
        defer { peer.stop() }
        let me = try await Side.make(.controlling)
        try await me.agent.gatherCandidates(stream: me.stream)
        try await me.log.wait(for: "gathering done") { if case .gatheringDone = $0 { true } else { false } }
        let line = try await peer.nextLine()
        let theirs = try JSONDecoder().decode(PeerDescription.self, from: Data(line.utf8))
        let credentials = try await me.agent.localCredentials(stream: me.stream)
        let size = 8 << 20
        let seed: UInt64 = 0xF11E
        let mine = PeerDescription(
            ufrag: credentials.ufrag, pwd: credentials.pwd, fingerprint: me.certificate.fingerprint().attributeValue,
            candidates: try await me.agent.localCandidates(stream: me.stream).map(\.sdpAttributeValue), size: size, seed: seed)
        try peer.send(String(decoding: try JSONEncoder().encode(mine), as: UTF8.self))
        try await me.agent.setRemoteCredentials(ICECredentials(ufrag: theirs.ufrag, pwd: theirs.pwd), stream: me.stream)
        try await me.agent.addRemoteCandidates(try theirs.candidates.map { try ICECandidate(sdp: $0) }, stream: me.stream)
        try await me.agent.endOfRemoteCandidates(stream: me.stream)
        try await me.log.wait(for: "ICE ready") { if case .stateChanged(_, 1, .ready) = $0 { true } else { false } }
        let stream = try await SecureStream.connect(
            agent: me.agent, stream: me.stream, role: .client, certificate: me.certificate,
            remoteFingerprint: try DTLSFingerprint(attributeValue: theirs.fingerprint), configuration: testConfiguration())
        try await within(.seconds(30), "8 MiB to the peer") { try await writePattern(stream, total: size, seed: seed, chunk: 1 << 20) }
        let result = try JSONDecoder().decode(PeerResult.self, from: Data(try await peer.nextLine().utf8))
        #expect(result.received == size)
        #expect(result.mismatch == -1, "the peer saw a differing byte at \(result.mismatch)")
        // The peer closes its stream after reading ours: our side sees the clean end.
        #expect(try await within(.seconds(10), "the peer's end of stream") { try await stream.read() } == nil)
        stream.close()
        await me.agent.close()
    }
}
