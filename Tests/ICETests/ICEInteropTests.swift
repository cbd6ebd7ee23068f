import Foundation
import ICE
import Synchronization
import Testing

/// A second ICE implementation (aioice) in a separate process, driven over line-based pipes
/// (scripts/ice-echo-peer.py). Python comes from the project's virtual environment made by
/// scripts/bootstrap (SWIFTJINGLE_VENV, default ~/.cache/swiftjingle-venv).
final class PythonICEPeer: Sendable {
    private let process: Process
    private let input: FileHandle
    let lines: AsyncStream<String>

    init(role: String) throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let environment = ProcessInfo.processInfo.environment
        let venv = environment["SWIFTJINGLE_VENV"] ?? (NSHomeDirectory() + "/.cache/swiftjingle-venv")
        process = Process()
        process.executableURL = URL(fileURLWithPath: venv + "/bin/python")
        process.arguments = [repo.appendingPathComponent("scripts/ice-echo-peer.py").path, role]
        let stdinPipe = Pipe()
        let stdoutPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        input = stdinPipe.fileHandleForWriting
        let (lines, continuation) = AsyncStream<String>.makeStream()
        self.lines = lines
        try process.run()
        // Blocking reads on a thread of their own; lines go to the stream.
        let output = stdoutPipe.fileHandleForReading
        Thread.detachNewThread {
            var pending = Data()
            while true {
                let chunk = output.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    continuation.yield(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex...newline)
                }
            }
            continuation.finish()
        }
    }

    func send(_ line: String) throws {
        try input.write(contentsOf: Data((line + "\n").utf8))
    }

    func stop() {
        try? send("BYE")
        try? input.close()
        let deadline = Date().addingTimeInterval(2)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate() }
    }
}

/// Reads lines from `iterator` until `until` matches, failing after `timeout`.
func readLines(
    _ lines: AsyncStream<String>, timeout: Duration = .seconds(10), until: @escaping @Sendable (String) -> Bool
) async throws -> [String] {
    try await withThrowingTaskGroup(of: [String]?.self) { group in
        group.addTask {
            var got: [String] = []
            for await line in lines {
                got.append(line)
                if until(line) { return got }
            }
            return got
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let got = first, let last = got.last, until(last) else {
            throw TestTimeout(what: "a line from the peer process")
        }
        return got
    }
}

@Suite("ICE interop with aioice in a second process", .serialized)
struct ICEInteropTests {
    @Test("ICEAgent connects to an aioice agent in another process; datagrams echo back",
          arguments: [ICEConfiguration.Role.controlling, .controlled])
    func aioicePeer(ourRole: ICEConfiguration.Role) async throws {
        let peer = try PythonICEPeer(role: ourRole == .controlling ? "controlled" : "controlling")
        defer { peer.stop() }
        // One iterator for the whole conversation: AsyncStream supports a single consumer.
        let (relay, relayContinuation) = AsyncStream<String>.makeStream()
        let pump = Task {
            for await line in peer.lines { relayContinuation.yield(line) }
            relayContinuation.finish()
        }
        defer { pump.cancel() }
        let offer = try await readLines(relay) { $0 == "DONE" }

        let agent = try ICEAgent(configuration: loopbackConfiguration(ourRole))
        let log = EventLog.recording(agent)
        let stream = try await agent.addStream()
        try await agent.gatherCandidates(stream: stream)
        try await log.waitForGatheringDone(stream)

        // Their side: credentials and candidates in aioice's own SDP rendering, parsed by ICECandidate.
        let credentialLine = try #require(offer.first { $0.hasPrefix("CRED ") })
        let parts = credentialLine.split(separator: " ")
        try #require(parts.count == 3)
        let theirs = offer.filter { $0.hasPrefix("CAND ") }.map { String($0.dropFirst(5)) }
        let remoteCandidates = try theirs.map { try ICECandidate(sdp: $0) }
        #expect(!remoteCandidates.isEmpty)
        #expect(remoteCandidates.allSatisfy { $0.address == "127.0.0.1" && $0.type == .host })

        // Our side, rendered by sdpAttributeValue (without the attribute name, as aioice expects).
        let mine = try await agent.localCredentials(stream: stream)
        try peer.send("CRED \(mine.ufrag) \(mine.pwd)")
        for c in try await agent.localCandidates(stream: stream) {
            try peer.send("CAND " + c.sdpAttributeValue.dropFirst("candidate:".count))
        }
        try peer.send("DONE")

        try await agent.setRemoteCredentials(ICECredentials(ufrag: String(parts[1]), pwd: String(parts[2])), stream: stream)
        try await agent.addRemoteCandidates(remoteCandidates, stream: stream)
        try await agent.endOfRemoteCandidates(stream: stream)
        try await log.waitForState(.ready, stream: stream)
        _ = try await readLines(relay) { $0 == "CONNECTED" }

        let echoes = agent.datagrams(stream: stream)
        let payloads = [randomPayload(16), randomPayload(1200), randomPayload(300)]
        for p in payloads { try agent.send(p, stream: stream) }
        let got = try await receive(payloads.count, from: echoes)
        #expect(got == payloads.map { Array($0.reversed()) })
        await agent.close()
    }
}
