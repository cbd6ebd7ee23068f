import Foundation
import RTP
import TestServers
import Testing

/// `jingle sdp-call` end to end on loopback: two of our processes, and aiortc in both roles.
@Suite("jingle sdp-call", .serialized)
struct SDPCallTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var python: URL {
        let venv = ProcessInfo.processInfo.environment["SWIFTJINGLE_VENV"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/swiftjingle-venv").path
        return URL(fileURLWithPath: venv).appendingPathComponent("bin/python")
    }

    func workDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sdp-call-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("two sdp-call processes exchange SDP through files, each records the other's tone, both exit 0")
    func twoProcesses() async throws {
        let dir = try workDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let offer = dir.appendingPathComponent("offer.sdp").path, answer = dir.appendingPathComponent("answer.sdp").path
        let heardByOfferer = dir.appendingPathComponent("offerer.wav"), heardByAnswerer = dir.appendingPathComponent("answerer.wav")
        async let offerer = Task.detached {
            try CLI.run(["sdp-call", "--offer-out", offer, "--answer-in", answer, "--audio", "tone:440", "--record", heardByOfferer.path,
                         "--duration", "3s", "--wait", "20s", "--bind", "127.0.0.1"], timeout: 40)
        }.value
        async let answerer = Task.detached {
            try CLI.run(["sdp-call", "--offer-in", offer, "--answer-out", answer, "--audio", "tone:880", "--record", heardByAnswerer.path,
                         "--duration", "3s", "--wait", "20s", "--bind", "127.0.0.1", "--json"], timeout: 40)
        }.value
        let (o, a) = try await (offerer, answerer)
        #expect(o.status == 0, "offerer: \(o.stderr)")
        #expect(a.status == 0, "answerer: \(a.stderr)")
        #expect(o.stderr.contains("media flowing") && o.stderr.contains("summary:"))
        // --json: one object per line, with state changes and stats.
        let lines = a.stdout.split(separator: "\n")
        #expect(lines.allSatisfy { $0.hasPrefix("{") && $0.hasSuffix("}") })
        #expect(lines.contains { $0.contains("\"state\":\"connected\"") })
        #expect(lines.contains { $0.contains("\"event\":\"stats\"") })
        let offerText = try String(contentsOfFile: offer, encoding: .utf8)
        #expect(offerText.contains("a=group:BUNDLE 0") && offerText.contains("UDP/TLS/RTP/SAVPF") && offerText.contains("a=end-of-candidates"))

        let (toneAtOfferer, countO) = try dominantTone(inWAV: heardByOfferer)
        let (toneAtAnswerer, countA) = try dominantTone(inWAV: heardByAnswerer)
        #expect(toneAtOfferer == 880)
        #expect(toneAtAnswerer == 440)
        #expect(countO >= 8000 && countA >= 8000, "at least a second of audio each way")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty, "temporary files renamed away")
    }

    enum AiortcRole: String, CaseIterable, CustomTestStringConvertible {
        /// aiortc answers our offer.
        case answersOurOffer
        /// We answer aiortc's offer.
        case offersToUs
        var testDescription: String { rawValue }
    }

    @Test("interop with aiortc: both sides record the other's tone", arguments: AiortcRole.allCases)
    func aiortc(role: AiortcRole) async throws {
        let dir = try workDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try #require(FileManager.default.isExecutableFile(atPath: Self.python.path),
                     "the project's Python venv with aiortc is missing: run scripts/bootstrap")
        let offer = dir.appendingPathComponent("offer.sdp").path, answer = dir.appendingPathComponent("answer.sdp").path
        let heardByUs = dir.appendingPathComponent("ours.wav"), heardByAiortc = dir.appendingPathComponent("aiortc.wav")
        let script = Self.repositoryRoot.appendingPathComponent("scripts/aiortc-peer.py").path
        let peerArguments = role == .answersOurOffer
            ? [script, "answer", "--sdp-in", offer, "--sdp-out", answer]
            : [script, "offer", "--sdp-out", offer, "--sdp-in", answer]
        let ourArguments = role == .answersOurOffer
            ? ["sdp-call", "--offer-out", offer, "--answer-in", answer]
            : ["sdp-call", "--offer-in", offer, "--answer-out", answer]

        let peer = Process()
        peer.executableURL = Self.python
        peer.arguments = peerArguments + ["--freq", "880", "--record", heardByAiortc.path, "--seconds", "4", "--wait", "20"]
        let peerLog = dir.appendingPathComponent("aiortc.log")
        try #require(FileManager.default.createFile(atPath: peerLog.path, contents: nil))
        peer.standardError = try FileHandle(forWritingTo: peerLog)
        peer.standardOutput = FileHandle.nullDevice
        try peer.run()
        let ours = try await Task.detached {
            try CLI.run(ourArguments + ["--audio", "tone:440", "--record", heardByUs.path, "--duration", "3s", "--wait", "20s",
                                        "--bind", "127.0.0.1"], timeout: 40)
        }.value
        let deadline = Date().addingTimeInterval(30)
        while peer.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if peer.isRunning { peer.terminate() }
        peer.waitUntilExit()
        let peerText = (try? String(contentsOf: peerLog, encoding: .utf8)) ?? ""

        #expect(ours.status == 0, "jingle: \(ours.stderr)\naiortc: \(peerText)")
        #expect(peer.terminationStatus == 0, "aiortc: \(peerText)")
        let (toneAtUs, countUs) = try dominantTone(inWAV: heardByUs)
        #expect(toneAtUs == 880)
        #expect(countUs >= 8000)
        let (toneAtAiortc, countAiortc) = try dominantTone(inWAV: heardByAiortc)
        #expect(toneAtAiortc == 440, "aiortc heard \(String(describing: toneAtAiortc)) in \(countAiortc) samples")
    }

    @Test("usage errors exit 64", arguments: [
        ["sdp-call"],
        ["sdp-call", "--offer-out", "o", "--offer-in", "i"],
        ["sdp-call", "--offer-out", "o", "--answer-in", "a", "--duration", "ten"],
        ["sdp-call", "--offer-out", "o", "--answer-in", "a", "--audio", "mp3:x"],
        ["sdp-call", "--offer-in", "o", "--answer-out", "a", "--turn", "127.0.0.1:3478"],
    ])
    func usageErrors(arguments: [String]) throws {
        let result = try CLI.run(arguments, timeout: 20)
        #expect(result.status == 64, "\(result.stderr)")
    }

    @Test("a missing input file fails after --wait with exit 1 and a one-line reason")
    func missingInput() throws {
        let dir = try workDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLI.run(["sdp-call", "--offer-in", dir.appendingPathComponent("none.sdp").path,
                                  "--answer-out", dir.appendingPathComponent("a.sdp").path, "--wait", "500ms", "--bind", "127.0.0.1"], timeout: 20)
        #expect(result.status == 1)
        #expect(result.stderr.contains("no offer in"))
    }

    @Test("--help shows examples")
    func help() throws {
        let result = try CLI.run(["sdp-call", "--help"], timeout: 20)
        #expect(result.status == 0)
        #expect(result.stdout.contains("Examples:") && result.stdout.contains("--offer-out"))
    }
}
