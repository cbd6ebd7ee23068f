import Foundation
import TestServers
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `jingle send --serve` / `jingle receive --request`, `jingle receive --keep-listening` and a full disk,
/// end to end with the built binary.
@Suite("jingle pull, keep-listening, disk full", .serialized)
struct FilePullCLITests {
    typealias F = FileTransferCLITests

    typealias Running = F.Running

    static func waitForListener(_ running: Running) { waitFor("listening on", in: running) }


    static func sha256Hex(_ path: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        p.arguments = [path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }

    /// Waits until `running` wrote `text` to standard error.
    static func waitFor(_ text: String, in running: Running, seconds: Double = 15) {
        let deadline = Date().addingTimeInterval(seconds)
        while !running.stderr.contains(text) && running.process.isRunning && Date() < deadline { usleep(10_000) }
    }

    /// A serving `jingle send --serve` on the peer link and a pulling `jingle receive --request` against it.
    static func pull(_ dir: String, serve: [String], request: [String], serveExtra: [String] = ["--yes"]) throws
        -> (server: Running, ss: Int32, puller: Running, ps: Int32) {
        let server = try Running(["send", "--serve"] + serve + ["--listen", "127.0.0.1:0", "--bind", "127.0.0.1", "--json"] + serveExtra,
                                 in: dir, tag: "serve")
        let port = F.listeningPort(server)
        let puller = try Running(["receive"] + request + ["--peer", "127.0.0.1:\(port)", "--dir", dir + "/in", "--bind", "127.0.0.1", "--json"],
                                 in: dir, tag: "pull")
        let ps = puller.wait()
        let ss = server.wait()
        return (server, ss, puller, ps)
    }

    @Test("send --serve / receive --request over the peer link: by name and by hash", .timeLimit(.minutes(1)), arguments: ["name", "hash"])
    func pullOverPeerLink(by: String) throws {
        let dir = try F.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeRandomFile(dir + "/doc.bin", size: 600_000)
        try writeRandomFile(dir + "/other.bin", size: 1000)
        let hash = try Self.sha256Hex(dir + "/doc.bin")
        #expect(hash.count == 64)
        let request = by == "name" ? ["--request", "doc.bin"] : ["--request-hash", "sha-256:" + hash]
        let r = try Self.pull(dir, serve: [dir + "/other.bin", dir + "/doc.bin"], request: request)
        #expect(r.ps == 0, "pull: \(r.puller.stderr)")
        #expect(r.ss == 0, "serve: \(r.server.stderr)")
        #expect(F.listing(dir + "/in") == ["doc.bin"])
        #expect(FileManager.default.contentsEqual(atPath: dir + "/doc.bin", andPath: dir + "/in/doc.bin"))
        #expect(r.puller.stdout.contains("\"sha256\":\"\(hash)\""), "\(r.puller.stdout)")
        #expect(r.server.stdout.contains("\"event\":\"done\""))
    }

    @Test("send --serve / receive --request through Prosody with accounts", .timeLimit(.minutes(1)))
    func pullThroughProsody() throws {
        let server = try ProsodyServer.get()
        let dir = try F.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeRandomFile(dir + "/shared.bin", size: 300_000)
        try Data("alicepw\n".utf8).write(to: URL(fileURLWithPath: dir + "/alice.pw"))
        try Data("bobpw\n".utf8).write(to: URL(fileURLWithPath: dir + "/bob.pw"))
        let account = ["--server", "127.0.0.1:\(server.c2sPort)", "--ca-file", server.caFile, "--bind", "127.0.0.1", "--json"]
        let serving = try Running(["send", "--serve", dir + "/shared.bin", "--jid", "alice@localhost/serve", "--password-file", dir + "/alice.pw",
                                   "--accept-from", "bob@localhost"] + account, in: dir, tag: "serve")
        Self.waitFor("waiting for sessions", in: serving)
        let puller = try Running(["receive", "--request", "shared.bin", "--from", "alice@localhost/serve", "--jid", "bob@localhost/pull",
                                  "--password-file", dir + "/bob.pw", "--dir", dir + "/in"] + account, in: dir, tag: "pull")
        #expect(puller.wait() == 0, "pull: \(puller.stderr)")
        #expect(serving.wait() == 0, "serve: \(serving.stderr)")
        #expect(FileManager.default.contentsEqual(atPath: dir + "/shared.bin", andPath: dir + "/in/shared.bin"))
        #expect(F.listing(dir + "/in") == ["shared.bin"])
    }

    @Test("a request for a file not served is refused: both exit 1, nothing written, nothing revealed", .timeLimit(.minutes(1)))
    func notServed() throws {
        let dir = try F.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeRandomFile(dir + "/private-notes.txt", size: 100)
        let r = try Self.pull(dir, serve: [dir + "/private-notes.txt"], request: ["--request", "passwd"])
        #expect(r.ps == 1 && r.ss == 1, "pull: \(r.puller.stderr)\nserve: \(r.server.stderr)")
        #expect(r.puller.stderr.contains("no served file matches \"passwd\""), "\(r.puller.stderr)\nserve: \(r.server.stderr)")
        #expect(!r.puller.stderr.contains("private-notes"))
        #expect(r.puller.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") || $0.hasPrefix("error:") }.count == 1)
        #expect(F.listing(dir + "/in").isEmpty)
    }

    @Test("usage: --request with --keep-listening, and send --request, are usage errors with a hint")
    func usage() throws {
        let a = try CLI.run(["receive", "--request", "x", "--peer", "127.0.0.1:9", "--dir", "/tmp", "--keep-listening"], timeout: 10)
        #expect(a.status == 64)
        let b = try CLI.run(["send", "--yes", "--peer", "127.0.0.1:9", "/dev/null"], timeout: 10)
        #expect(b.status == 64 && b.stderr.contains("--serve"))
        let c = try CLI.run(["receive", "--request-hash", "abc", "--peer", "127.0.0.1:9", "--dir", "/tmp"], timeout: 10)
        #expect(c.status == 64 && c.stderr.contains("64 hex digits"))
        let help = try CLI.run(["receive", "--help"], timeout: 10)
        #expect(help.stdout.contains("jingle receive --request report.pdf --peer"))
        let sendHelp = try CLI.run(["send", "--help"], timeout: 10)
        #expect(sendHelp.stdout.contains("jingle send --serve"))
    }

    @Test("receive --keep-listening on --listen takes two sends (in a row, at once), exits 0 on SIGTERM", .timeLimit(.minutes(1)),
          arguments: [false, true])
    func keepListening(atOnce: Bool) throws {
        let dir = try F.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeRandomFile(dir + "/first.bin", size: 400_000)
        try writeRandomFile(dir + "/second.bin", size: 3)
        let receiver = try Running(["receive", "--listen", "127.0.0.1:0", "--dir", dir + "/in", "--yes", "--keep-listening",
                                    "--bind", "127.0.0.1", "--json"], in: dir, tag: "receive")
        let port = F.listeningPort(receiver)
        var senders: [Running] = []
        for name in ["first.bin", "second.bin"] {
            let sender = try Running(["send", dir + "/" + name, "--peer", "127.0.0.1:\(port)", "--bind", "127.0.0.1", "--json"], in: dir, tag: "send-\(name)")
            if atOnce { senders.append(sender) } else { #expect(sender.wait() == 0, "send \(name): \(sender.stderr)") }
        }
        for sender in senders { #expect(sender.wait() == 0, "send: \(sender.stderr)") }
        #expect(receiver.process.isRunning, "still listening after two sessions")
        kill(receiver.process.processIdentifier, SIGTERM)
        #expect(receiver.wait(timeout: 10) == 0, "receive: \(receiver.stderr)")
        #expect(receiver.stderr.contains("2 sessions, 2 ok, 0 failed"), "\(receiver.stderr)")
        #expect(F.listing(dir + "/in") == ["first.bin", "second.bin"])
        for name in ["first.bin", "second.bin"] {
            #expect(FileManager.default.contentsEqual(atPath: dir + "/" + name, andPath: dir + "/in/" + name))
        }
    }

    @Test("receive --keep-listening: a failed session makes the exit status 1", .timeLimit(.minutes(1)))
    func keepListeningReportsLoss() throws {
        let dir = try F.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeRandomFile(dir + "/big.bin", size: 5000)
        let receiver = try Running(["receive", "--listen", "127.0.0.1:0", "--dir", dir + "/in", "--yes", "--keep-listening",
                                    "--max-size", "1K", "--bind", "127.0.0.1", "--json"], in: dir, tag: "receive")
        let port = F.listeningPort(receiver)
        let sender = try Running(["send", dir + "/big.bin", "--peer", "127.0.0.1:\(port)", "--bind", "127.0.0.1"], in: dir, tag: "send")
        #expect(sender.wait() == 1)
        kill(receiver.process.processIdentifier, SIGINT)
        #expect(receiver.wait(timeout: 10) == 1)
        #expect(receiver.stderr.contains("1 session, 0 ok, 1 failed"), "\(receiver.stderr)")
    }

    /// The receiver runs in its own mount namespace over a 512 KiB tmpfs (as root; util-linux unshare).
    @Test("disk full: the receiver aborts with 'no space left on device', the sender gets the reason; both exit 1",
          .timeLimit(.minutes(1)))
    func diskFull() throws {
        let dir = try F.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeRandomFile(dir + "/two-mib.bin", size: 2 << 20)
        let port = try #require(freePort())
        let jingle = CLI.executable.path
        // After the receiver exits, list the tmpfs (it vanishes with the namespace) into a file outside it.
        let script = """
        mount -t tmpfs -o size=512k none '\(dir)/in' || exit 99
        '\(jingle)' receive --listen 127.0.0.1:\(port) --dir '\(dir)/in' --yes --bind 127.0.0.1 --json
        status=$?
        ls -l '\(dir)/in' > '\(dir)/listing.txt'
        exit $status
        """
        let receiver = try Running(["-m", "sh", "-c", script], in: dir, tag: "receive", executable: URL(fileURLWithPath: "/usr/bin/unshare"))
        Self.waitForListener(receiver)
        try #require(receiver.process.isRunning, "unshare/mount failed: \(receiver.stderr)")
        let sender = try Running(["send", dir + "/two-mib.bin", "--peer", "127.0.0.1:\(port)", "--bind", "127.0.0.1", "--json"], in: dir, tag: "send")
        let ss = sender.wait(), rs = receiver.wait()
        #expect(rs == 1, "receive: \(receiver.stderr)")
        #expect(ss == 1, "send: \(sender.stderr)")
        let errors = receiver.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1 && errors[0].contains("no space left on device"), "\(receiver.stderr)")
        #expect(sender.stderr.contains("failed-application") && sender.stderr.contains("no space left on device"), "\(sender.stderr)")
        let listing = (try? String(contentsOfFile: dir + "/listing.txt", encoding: .utf8)) ?? ""
        #expect(!listing.split(separator: "\n").contains { $0.hasSuffix(" two-mib.bin") }, "no complete file claimed: \(listing)")
        #expect(!receiver.stdout.contains("\"event\":\"done\""))
    }
}
