import Foundation
import RTP
import TestServers
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `jingle gateway --media anchored` as a process (on a client account) between baresip (plain RTP) and
/// `jingle call` / `jingle answer` (ICE + DTLS-SRTP) through a private Prosody.
@Suite("jingle gateway", .serialized)
struct GatewayCLITests {

    func workDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("--help describes the anchored mode")
    func help() throws {
        let result = try CLI.run(["gateway", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("--media anchored") && result.stdout.contains("--media-address"), "\(result.stdout)")
    }

    @Test("bad --media and --media-address values are refused", arguments: [
        (["--media", "transcoding"], Int32(64), "passthrough or anchored"),
        (["--media", "anchored", "--media-address", "not-an-ip"], Int32(1), "bad --media-address"),
        (["--media", "anchored", "--sip", "udp:0.0.0.0:0"], Int32(1), "needs --media-address"),
    ])
    func badMediaOptions(extra: [String], status: Int32, mention: String) throws {
        let dir = try workDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let secret = dir.appendingPathComponent("secret")
        try Data("x\n".utf8).write(to: secret)
        let result = try CLI.run(["gateway", "--component", "jingle.localhost", "--secret-file", secret.path, "--server", "127.0.0.1:1",
                                  "--map", "sip:(.+)@127.0.0.1 -> \\1@localhost"] + extra, timeout: 20)
        #expect(result.status == status, "\(result.stderr)")
        #expect(result.stderr.contains(mention), "\(result.stderr)")
    }

    /// `--direct-tls` with `--jid`: the gateway's XMPP account logs in over TLS from the first byte (XEP-0368).
    @Test func directTLSAccount() async throws {
        let server = try ProsodyServer.get()
        let dir = try workDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (gateway, _) = try await startAccountGateway(directory: dir, resource: "gw-direct-tls", arguments: [
            "--direct-tls", "--server", "127.0.0.1:\(server.directTLSPort)", "--ca-file", server.caFile,
            "--map", "sip:(.+)@127.0.0.1 -> bob@localhost/\\1"])
        #expect(gateway.output.contains("XMPP as alice@localhost/gw-direct-tls"), "\(gateway.output)")
        _ = await gateway.stop()
        let secret = dir.appendingPathComponent("secret")
        try Data("x\n".utf8).write(to: secret)
        let refused = try CLI.run(["gateway", "--component", "jingle.localhost", "--secret-file", secret.path, "--server", "127.0.0.1:1",
                                   "--direct-tls", "--map", "sip:(.+)@127.0.0.1 -> \\1@localhost"], timeout: 20)
        #expect(refused.status == 64 && refused.stderr.contains("--direct-tls is for --jid"), "\(refused.stderr)")
    }

    @Test("bad registration and proxy options are usage errors", arguments: [
        (["--register", "1001@pbx.example"], "--register '1001@pbx.example'"),
        (["--register", "sip:pbx.example"], "with a user"),
        (["--registrar", "sip:10.0.0.5"], "--registrar needs --register"),
        (["--register", "sip:1001@pbx.example", "--registrar", "not a uri"], "--registrar 'not a uri'"),
        (["--register", "sip:1001@pbx.example", "--register-expires", "0"], "--register-expires must be positive"),
        (["--sip-auth-user", "1001"], "--sip-auth-user needs --sip-password-file"),
        (["--outbound-proxy", "sbc.example.com"], "--outbound-proxy 'sbc.example.com'"),
        (["--outbound-proxy", "sip:sbc.example.com;transport=sctp"], "expected a sip: URI of a host"),
        (["--outbound-proxy", "sip:1001@sbc.example.com"], "expected a sip: URI of a host"),
    ])
    func badRegistrationOptions(extra: [String], mention: String) throws {
        let dir = try workDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let secret = dir.appendingPathComponent("secret")
        try Data("x\n".utf8).write(to: secret)
        let result = try CLI.run(["gateway", "--component", "jingle.localhost", "--secret-file", secret.path, "--server", "127.0.0.1:1",
                                  "--map", "sip:(.+)@127.0.0.1 -> \\1@localhost"] + extra, timeout: 20)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains(mention), "\(result.stderr)")
    }

    /// A running `jingle gateway` process; its stderr/stdout go to files.
    final class GatewayProcess: @unchecked Sendable {
        let process = Process()
        let log: URL

        init(arguments: [String], directory: URL) throws {
            log = directory.appendingPathComponent("gateway-\(UUID().uuidString).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.executableURL = CLI.executable
            process.arguments = ["gateway"] + arguments
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

        /// Waits for the start-up line; false when the process exited first (e.g. the component domain was
        /// still taken by another test's gateway) or time ran out.
        func waitStarted(seconds: Double = 15) async -> Bool {
            let deadline = ContinuousClock.now + .seconds(seconds)
            while ContinuousClock.now < deadline {
                if output.contains("gateway: SIP on") { return true }
                if !process.isRunning { return false }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return false
        }

        /// SIGTERM: the gateway prints its counters and exits.
        func stop() async -> String {
            if process.isRunning { process.terminate() }
            let deadline = ContinuousClock.now + .seconds(5)
            while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            return output
        }
    }

    /// Starts `jingle gateway --media anchored` on the client account alice@localhost/`resource` (not the
    /// component, which the library tests use meanwhile): SIP `NAME@127.0.0.1` reaches bob@localhost/NAME,
    /// a Jingle call to alice@localhost/`resource` reaches sip:peer@127.0.0.1:`baresipPort`.
    func startAnchoredGateway(_ server: ProsodyServer, directory: URL, resource: String, baresipPort: Int) async throws -> (GatewayProcess, Int) {
        let (gateway, gatewayPort) = try await startAccountGateway(directory: directory, resource: resource, arguments: [
            "--media", "anchored", "--media-address", "127.0.0.1",
            "--server", "127.0.0.1:\(server.c2sPort)", "--ca-file", server.caFile,
            "--map", "sip:(.+)@127.0.0.1 -> bob@localhost/\\1",
            "--reverse-map", "alice@localhost -> sip:peer@127.0.0.1:\(baresipPort)"])
        #expect(gateway.output.contains("media anchored"), "\(gateway.output)")
        return (gateway, gatewayPort)
    }

    /// Starts `jingle gateway` on the client account alice@localhost/`resource` (its password written into
    /// `directory`), SIP on a free loopback UDP port, `arguments` for the rest; waits for its start-up line.
    /// Returns the process and its SIP port.
    func startAccountGateway(directory: URL, resource: String, arguments: [String]) async throws -> (GatewayProcess, Int) {
        let password = directory.appendingPathComponent("gateway.pw")
        try Data("alicepw\n".utf8).write(to: password)
        let gatewayPort = try #require(freePort())
        let gateway = try GatewayProcess(arguments: ["--sip", "udp:127.0.0.1:\(gatewayPort)", "--jid", "alice@localhost/\(resource)",
                                                     "--password-file", password.path] + arguments, directory: directory)
        #expect(await gateway.waitStarted(), "\(gateway.output)")
        return (gateway, gatewayPort)
    }

    func account(_ server: ProsodyServer) -> [String] {
        ["--server", "127.0.0.1:\(server.c2sPort)", "--ca-file", server.caFile, "--bind", "127.0.0.1", "--duration", "2s", "--wait", "15s"]
    }

    /// The counters line the gateway prints at exit: one completed call with RTP relayed both ways.
    func checkCounters(_ output: String) throws {
        let counters = try #require(output.split(separator: "\n").last { $0.hasPrefix("gateway: calls=") }, "\(output)")
        #expect(counters.contains("calls=1") && counters.contains("completed=1"), "\(counters)")
        let relayed = counters.split(separator: " ").first { $0.hasPrefix("relayed-rtp=") }.flatMap { Int($0.dropFirst("relayed-rtp=".count)) }
        #expect((relayed ?? 0) > 150, "\(counters)")
        print("jingle gateway --media anchored: \(counters)")
    }

    @Test("baresip (440 Hz) -> jingle gateway --media anchored -> jingle answer --record; baresip hears 880 Hz back",
          .enabled(if: baresipAvailable, "baresip is installed on the build machine"), .timeLimit(.minutes(1)))
    func baresipToJingleAnswer() async throws {
        let server = try ProsodyServer.get()
        let dir = try workDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bobPW = dir.appendingPathComponent("bob.pw")
        try Data("bobpw\n".utf8).write(to: bobPW)
        let baresipPort = try #require(freePort())
        let (gateway, gatewayPort) = try await startAnchoredGateway(server, directory: dir, resource: "gw-in", baresipPort: baresipPort)
        let heardByBob = dir.appendingPathComponent("bob.wav")
        let account = account(server)
        async let answered = Task.detached {
            try CLI.run(["answer", "--auto", "--jid", "bob@localhost/gwcli", "--password-file", bobPW.path, "--audio", "tone:880",
                         "--record", heardByBob.path] + account, timeout: 30)
        }.value
        try await Task.sleep(for: .seconds(1.5))
        let dialler = try BaresipPeer(sipPort: baresipPort)
        try dialler.run(seconds: 8, dial: "sip:gwcli@127.0.0.1:\(gatewayPort)")
        let answer = try await answered
        try await Task.sleep(for: .milliseconds(300))
        dialler.process.terminate()
        _ = await dialler.wait(timeout: 3)
        let output = await gateway.stop()
        #expect(answer.status == 0, "answer: \(answer.stderr)\ngateway: \(output)")
        #expect(dominantFrequency(try WAVAudio(parsing: [UInt8](Data(contentsOf: heardByBob)))) == 440, "jingle answer should record baresip's 440 Hz")
        let decoded = try #require(try dialler.decodedAudio(), "baresip wrote no recording: \(dialler.log)")
        #expect(dominantFrequency(decoded) == 880, "baresip should hear jingle answer's 880 Hz")
        try checkCounters(output)
    }

    @Test("jingle call --audio tone:880 -> jingle gateway --media anchored -> auto-answering baresip records 880 Hz",
          .enabled(if: baresipAvailable, "baresip is installed on the build machine"), .timeLimit(.minutes(1)))
    func jingleCallToBaresip() async throws {
        let server = try ProsodyServer.get()
        let dir = try workDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bobPW = dir.appendingPathComponent("bob.pw")
        try Data("bobpw\n".utf8).write(to: bobPW)
        let baresipPort = try #require(freePort())
        let (gateway, _) = try await startAnchoredGateway(server, directory: dir, resource: "gw-out", baresipPort: baresipPort)
        let answerer = try BaresipPeer(sipPort: baresipPort)
        try answerer.run(seconds: 12)
        try await Task.sleep(for: .milliseconds(500))
        let heardByBob = dir.appendingPathComponent("bob.wav")
        let account = account(server)
        let call = try await Task.detached {
            try CLI.run(["call", "alice@localhost/gw-out", "--jid", "bob@localhost/gwcli-caller", "--password-file", bobPW.path,
                         "--audio", "tone:880", "--record", heardByBob.path] + account, timeout: 30)
        }.value
        try await Task.sleep(for: .milliseconds(300))
        answerer.process.terminate()
        _ = await answerer.wait(timeout: 3)
        let output = await gateway.stop()
        #expect(call.status == 0, "call: \(call.stderr)\ngateway: \(output)")
        #expect(dominantFrequency(try WAVAudio(parsing: [UInt8](Data(contentsOf: heardByBob)))) == 440, "jingle call should record baresip's 440 Hz")
        let decoded = try #require(try answerer.decodedAudio(), "baresip wrote no recording: \(answerer.log)")
        #expect(dominantFrequency(decoded) == 880, "baresip should hear jingle call's 880 Hz")
        try checkCounters(output)
    }
}
