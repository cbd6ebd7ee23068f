import Foundation
import RTP
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

    func dominantTone(_ url: URL) throws -> (Double?, Int) {
        let audio = try WAVAudio(parsing: [UInt8](Data(contentsOf: url)))
        let samples = audio.channel(0)
        return (Goertzel.dominantFrequency(in: samples, sampleRate: Double(audio.format.sampleRate), candidates: [440, 880]), samples.count)
    }

    /// Runs `answer` and, once it had time to log in or listen, `call`; returns both results.
    func callAndAnswer(call: [String], answer: [String]) async throws -> (call: CLI.Result, answer: CLI.Result) {
        async let answerer = Task.detached { try CLI.run(["answer"] + answer, timeout: 50) }.value
        try await Task.sleep(for: .seconds(2))
        async let caller = Task.detached { try CLI.run(["call"] + call, timeout: 45) }.value
        return try await (caller, answerer)
    }

    @Test("jingle call and jingle answer --auto through Prosody: both record the other's tone and exit 0", .timeLimit(.minutes(1)))
    func throughProsody() async throws {
        let server = try CLIProsodyServer.get()
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
        let (toneAtCaller, countC) = try dominantTone(heardByCaller)
        let (toneAtCallee, countA) = try dominantTone(heardByCallee)
        #expect(toneAtCaller == 880)
        #expect(toneAtCallee == 440)
        #expect(countC >= 8000 && countA >= 8000, "at least a second of audio each way")
    }

    @Test("jingle call to a bare JID through Prosody proposes (XEP-0353); jingle answer --from proceeds", .timeLimit(.minutes(1)))
    func bareJIDThroughProsody() async throws {
        let server = try CLIProsodyServer.get()
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
        #expect(a.stderr.contains("proposal from alice@localhost/caller"))
        #expect(try dominantTone(heardByCallee).0 == 440)
    }

    @Test("jingle call --peer and jingle answer --listen over the serverless link", .timeLimit(.minutes(1)))
    func serverless() async throws {
        let dir = try workDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try #require(cliFreePort())
        let heardByCallee = dir.appendingPathComponent("callee.wav")
        let common = ["--bind", "127.0.0.1", "--duration", "2s", "--wait", "20s"]
        let (c, a) = try await callAndAnswer(
            call: ["bob@localhost/sj", "--peer", "127.0.0.1:\(port)", "--audio", "tone:440"] + common,
            answer: ["--auto", "--listen", "127.0.0.1:\(port)", "--jid", "bob@localhost/sj", "--audio", "tone:880",
                     "--record", heardByCallee.path] + common)
        #expect(c.status == 0, "caller: \(c.stderr)")
        #expect(a.status == 0, "callee: \(a.stderr)")
        #expect(c.stderr.contains("ringing") && c.stderr.contains("summary:"))
        #expect(try dominantTone(heardByCallee).0 == 440)
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

/// One private Prosody per test process (scripts/start-prosody.sh, self-signed TLS), on free loopback
/// ports, stopped when the process exits. A missing or broken Prosody fails the tests that need it with
/// the reason, never skips them.
struct CLIProsodyServer: Sendable {
    let directory: String
    let c2sPort: Int
    let componentPort: Int
    let turnPort: Int
    let pid: Int32
    var caFile: String { directory + "/certs/localhost.crt" }
    let domain = "localhost"

    struct StartError: Error, CustomStringConvertible {
        let description: String
    }

    static let shared: Result<CLIProsodyServer, StartError> = start()

    static func get() throws -> CLIProsodyServer { try shared.get() }

    private static func start() -> Result<CLIProsodyServer, StartError> {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = repo.appendingPathComponent("scripts/start-prosody.sh").path
        let directory = NSTemporaryDirectory() + "jinglecli-calls-prosody-\(getpid())"
        guard let c2s = cliFreePort(), let component = cliFreePort(), let turn = cliFreePort(), Set([c2s, component, turn]).count == 3 else {
            return .failure(StartError(description: "no free loopback port for Prosody"))
        }
        // posix_spawn + waitpid rather than Foundation's Process, whose waitUntilExit can hang when the
        // script leaves a daemon behind. Output goes to files: Prosody outlives the script.
        let outPath = directory + ".out", errPath = directory + ".err"
        let command = "PROSODY_WATCH_PID=\(getpid()) exec /bin/bash '\(script)' '\(directory)' \(c2s) \(component) \(turn) --tls </dev/null >'\(outPath)' 2>'\(errPath)'"
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command), nil]
        defer { for arg in argv { free(arg) } }
        guard posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0 else {
            return .failure(StartError(description: "cannot run \(script)"))
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        guard status == 0, let pid = Int32(out.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            return .failure(StartError(description: "Prosody did not start (is it installed? see scripts/bootstrap): \(err)\(out)"))
        }
        cliProsodyPID = pid
        // SIGKILL: a throwaway server; Prosody 0.12 may take seconds to act on SIGTERM.
        atexit { if cliProsodyPID > 0 { kill(cliProsodyPID, SIGKILL) } }
        return .success(CLIProsodyServer(directory: directory, c2sPort: c2s, componentPort: component, turnPort: turn, pid: pid))
    }
}

nonisolated(unsafe) private var cliProsodyPID: Int32 = 0

/// A TCP port nothing listens on right now (bind to port 0, read it back, close).
func cliFreePort() -> Int? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { return nil }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { return nil }
    return Int(UInt16(bigEndian: address.sin_port))
}
