import Foundation
import RTP
import TestServers
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `jingle call` / `jingle answer` end to end: two processes through a private Prosody, and over the
/// serverless link.
@Suite("jingle call / answer", .serialized)
struct CallCLITests {
    func workDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("call-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `answer` and, once it had time to log in (or, given `listenPort`, once it listens there), `call`;
    /// returns both results.
    func callAndAnswer(call: [String], answer: [String], listenPort: Int? = nil) async throws -> (call: CLI.Result, answer: CLI.Result) {
        async let answerer = Task.detached { try CLI.run(["answer"] + answer, timeout: 50) }.value
        if let listenPort {
            // A fixed head start was sometimes too short on a loaded machine: the call found nobody listening.
            // Probing with a connection would be taken for the caller, so look the socket up in the kernel's table.
            let deadline = Date().addingTimeInterval(20)
            while !Self.isListening(port: listenPort) && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        } else {
            try await Task.sleep(for: .seconds(2))
        }
        async let caller = Task.detached { try CLI.run(["call"] + call, timeout: 45) }.value
        return try await (caller, answerer)
    }

    /// Whether some socket listens on TCP `port` (Linux: /proc/net/tcp, state 0A = LISTEN).
    static func isListening(port: Int) -> Bool {
        let hexPort = String(format: ":%04X", port)
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                if fields.count > 3, fields[1].hasSuffix(hexPort), fields[3] == "0A" { return true }
            }
        }
        return false
    }

    @Test("jingle call and jingle answer --auto through Prosody: both record the other's tone and exit 0", .timeLimit(.minutes(1)))
    func throughProsody() async throws {
        let server = try ProsodyServer.get()
        let dir = try workDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let alicePW = dir.appendingPathComponent("alice.pw"), bobPW = dir.appendingPathComponent("bob.pw")
        try Data("alicepw\n".utf8).write(to: alicePW)
        try Data("bobpw\n".utf8).write(to: bobPW)
        let heardByCaller = dir.appendingPathComponent("caller.wav"), heardByCallee = dir.appendingPathComponent("callee.wav")
        let account = ["--server", "127.0.0.1:\(server.c2sPort)", "--ca-file", server.caFile, "--bind", "127.0.0.1", "--duration", "3s", "--wait", "20s"]
        let (c, a) = try await callAndAnswer(
            call: ["bob@localhost/answerer", "--jid", "alice@localhost/caller", "--password-file", alicePW.path, "--audio", "tone:440",
                   "--record", heardByCaller.path, "--json"] + account,
            answer: ["--auto", "--jid", "bob@localhost/answerer", "--password-file", bobPW.path, "--audio", "tone:880",
                     "--record", heardByCallee.path] + account)
        #expect(c.status == 0, "caller: \(c.stderr)")
        #expect(a.status == 0, "callee: \(a.stderr)")
        let lines = c.stdout.split(separator: "\n")
        #expect(lines.allSatisfy { $0.hasPrefix("{") && $0.hasSuffix("}") })
        #expect(lines.contains { $0.contains("\"state\":\"ringing\"") }, "the caller heard <ringing/>")
        #expect(lines.contains { $0.contains("\"state\":\"media-flowing\"") })
        #expect(lines.contains { $0.contains("\"event\":\"stats\"") })
        #expect(a.stderr.contains("summary:") && a.stderr.contains("media flowing"))
        let (toneAtCaller, countC) = try dominantTone(inWAV: heardByCaller)
        let (toneAtCallee, countA) = try dominantTone(inWAV: heardByCallee)
        #expect(toneAtCaller == 880)
        #expect(toneAtCallee == 440)
        #expect(countC >= 8000 && countA >= 8000, "at least a second of audio each way")
    }

    @Test("jingle call to a bare JID through Prosody proposes (XEP-0353); jingle answer --from proceeds", .timeLimit(.minutes(1)))
    func bareJIDThroughProsody() async throws {
        let server = try ProsodyServer.get()
        let dir = try workDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let alicePW = dir.appendingPathComponent("alice.pw"), bobPW = dir.appendingPathComponent("bob.pw")
        try Data("alicepw\n".utf8).write(to: alicePW)
        try Data("bobpw\n".utf8).write(to: bobPW)
        let heardByCallee = dir.appendingPathComponent("callee.wav")
        let account = ["--server", "127.0.0.1:\(server.c2sPort)", "--ca-file", server.caFile, "--bind", "127.0.0.1", "--duration", "2s", "--wait", "20s"]
        let (c, a) = try await callAndAnswer(
            call: ["bob@localhost", "--jid", "alice@localhost/caller", "--password-file", alicePW.path, "--audio", "tone:440"] + account,
            answer: ["--from", "alice@localhost", "--jid", "bob@localhost/jmi", "--password-file", bobPW.path, "--audio", "tone:880",
                     "--record", heardByCallee.path] + account)
        #expect(c.status == 0, "caller: \(c.stderr)")
        #expect(a.status == 0, "callee: \(a.stderr)")
        #expect(c.stderr.contains("proposing") && c.stderr.contains("bob@localhost/jmi proceeded"))
        #expect(c.stderr.contains("bob@localhost/jmi is ringing"), "XEP-0353 <ringing/> from the answering device")
        #expect(a.stderr.contains("proposal from alice@localhost/caller"))
        #expect(try dominantTone(inWAV: heardByCallee).0 == 440)
    }

    @Test("jingle call --peer and jingle answer --listen over the serverless link", .timeLimit(.minutes(1)))
    func serverless() async throws {
        let dir = try workDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try #require(freePort())
        let heardByCallee = dir.appendingPathComponent("callee.wav")
        let common = ["--bind", "127.0.0.1", "--duration", "2s", "--wait", "20s"]
        let (c, a) = try await callAndAnswer(
            call: ["bob@localhost/sj", "--peer", "127.0.0.1:\(port)", "--audio", "tone:440"] + common,
            answer: ["--auto", "--listen", "127.0.0.1:\(port)", "--jid", "bob@localhost/sj", "--audio", "tone:880",
                     "--record", heardByCallee.path] + common, listenPort: port)
        #expect(c.status == 0, "caller: \(c.stderr)")
        #expect(a.status == 0, "callee: \(a.stderr)")
        #expect(c.stderr.contains("ringing") && c.stderr.contains("summary:"))
        #expect(try dominantTone(inWAV: heardByCallee).0 == 440)
    }

    @Test("usage errors exit 64 with a reason", arguments: [
        (["call", "bob@localhost", "--peer", "127.0.0.1:1"], "full JID"),
        (["call", "bob@localhost/x"], "--password-file"),
        (["answer", "--listen", "127.0.0.1:1"], "--auto"),
    ])
    func usage(arguments: [String], mention: String) throws {
        let result = try CLI.run(arguments, timeout: 10)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains(mention), "\(result.stderr)")
    }
}
