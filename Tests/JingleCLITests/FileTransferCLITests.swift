import Foundation
import TestServers
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `jingle send` / `jingle receive` end to end over the serverless peer link on loopback: two processes.
@Suite("jingle send/receive", .serialized)
struct FileTransferCLITests {
    /// A running `jingle` (or other) process with its output in files (so a killed process leaves what it wrote).
    final class Running: @unchecked Sendable {
        let process = Process()
        let outPath: String, errPath: String

        init(_ arguments: [String], environment: [String: String] = [:], in dir: String, tag: String, executable: URL = CLI.executable) throws {
            outPath = dir + "/\(tag).out"; errPath = dir + "/\(tag).err"
            _ = FileManager.default.createFile(atPath: outPath, contents: nil)
            _ = FileManager.default.createFile(atPath: errPath, contents: nil)
            process.executableURL = executable
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        /// Waits (polling: waitUntilExit can hang when called from a concurrency thread) up to `timeout`.
        func wait(timeout: Double = 45) -> Int32 {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL); usleep(100_000) }
            while process.isRunning { usleep(10_000) }
            return process.terminationStatus
        }

        var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
    }


    /// The port a `--listen 127.0.0.1:0` process announced ("listening on 127.0.0.1:PORT as JID"), once it
    /// did. Letting the process take a free port itself avoids the race of picking one first and binding it
    /// later, when another process may have taken it meanwhile.
    static func listeningPort(_ running: Running) -> Int {
        waitForListener(running)
        guard let range = running.stderr.range(of: "listening on 127.0.0.1:") else { return 0 }
        return Int(running.stderr[range.upperBound...].prefix(while: \.isNumber)) ?? 0
    }

    /// Waits until the receiver says it listens (a probe connection would be taken for the peer).
    static func waitForListener(_ receiver: Running) {
        for _ in 0..<1000 where !receiver.stderr.contains("listening on") { usleep(10_000) }
    }

    static func workDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "ft-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path + "/in", withIntermediateDirectories: true)
        return path
    }


    static func listing(_ dir: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() }

    /// Receiver in the background, sender in front; returns both.
    static func pair(_ dir: String, receive: [String], send: [String], sendEnvironment: [String: String] = [:]) throws -> (receive: Running, rs: Int32, send: Running, ss: Int32) {
        let receiver = try Running(["receive", "--listen", "127.0.0.1:0", "--dir", dir + "/in", "--bind", "127.0.0.1", "--json"] + receive,
                                   in: dir, tag: "receive")
        let port = listeningPort(receiver)
        let sender = try Running(["send"] + send + ["--peer", "127.0.0.1:\(port)", "--bind", "127.0.0.1", "--json"],
                                 environment: sendEnvironment, in: dir, tag: "send")
        let ss = sender.wait()
        let rs = receiver.wait()
        return (receiver, rs, sender, ss)
    }

    @Test("a file and two more in one session arrive verified; both exit 0", .timeLimit(.minutes(1)))
    func sendReceive() throws {
        let dir = try Self.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeRandomFile(dir + "/one.bin", size: (1 << 20) + 1)
        try writeRandomFile(dir + "/two.bin", size: 1)
        try writeRandomFile(dir + "/three.bin", size: 0)
        let r = try Self.pair(dir, receive: ["--yes"], send: [dir + "/one.bin", dir + "/two.bin", dir + "/three.bin"])
        #expect(r.ss == 0, "send: \(r.send.stderr)")
        #expect(r.rs == 0, "receive: \(r.receive.stderr)")
        #expect(Self.listing(dir + "/in") == ["one.bin", "three.bin", "two.bin"])
        for name in ["one.bin", "two.bin", "three.bin"] {
            #expect(FileManager.default.contentsEqual(atPath: dir + "/" + name, andPath: dir + "/in/" + name))
        }
        let done = r.send.stdout.split(separator: "\n").filter { $0.contains("\"event\":\"done\"") }
        #expect(done.count == 3 && done.allSatisfy { $0.contains("\"verified\":true") && $0.contains("\"sha256\":\"") })
        #expect(done.allSatisfy { $0.contains("\"transport\":\"ice\"") && $0.contains("\"encrypted\":true") }, "\(done)")
    }

    @Test("without --yes the offer is declined: both exit 1, nothing written", .timeLimit(.minutes(1)))
    func declinedWithoutConsent() throws {
        let dir = try Self.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeRandomFile(dir + "/x.bin", size: 1000)
        let r = try Self.pair(dir, receive: [], send: [dir + "/x.bin"])
        #expect(r.ss == 1 && r.rs == 1)
        #expect(r.send.stderr.contains("decline"), "\(r.send.stderr)")
        #expect(r.receive.stderr.contains("--yes"))
        #expect(Self.listing(dir + "/in").isEmpty)
    }

    @Test("a corrupted checksum: nothing kept, media-error, both exit 1", .timeLimit(.minutes(1)))
    func hashMismatch() throws {
        let dir = try Self.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeRandomFile(dir + "/x.bin", size: 100_000)
        let r = try Self.pair(dir, receive: ["--yes"], send: [dir + "/x.bin"], sendEnvironment: ["JINGLE_TEST_CORRUPT_CHECKSUM": "1"])
        #expect(r.ss == 1 && r.rs == 1)
        #expect(r.receive.stderr.contains("mismatch"), "\(r.receive.stderr)")
        #expect(r.send.stderr.contains("media-error"), "\(r.send.stderr)")
        #expect(Self.listing(dir + "/in").isEmpty)
    }

    @Test("--max-size declines a larger offer before any byte", .timeLimit(.minutes(1)))
    func maxSize() throws {
        let dir = try Self.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeRandomFile(dir + "/big.bin", size: 5000)
        let r = try Self.pair(dir, receive: ["--yes", "--max-size", "4K"], send: [dir + "/big.bin"])
        #expect(r.ss == 1 && r.rs == 1)
        #expect(r.receive.stderr.contains("--max-size"))
        #expect(Self.listing(dir + "/in").isEmpty)
    }

    @Test("--no-ice sends over in-band bytestreams (XEP-0261): verified, both exit 0", .timeLimit(.minutes(1)))
    func noICE() throws {
        let dir = try Self.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeRandomFile(dir + "/ibb.bin", size: 300_001)
        let r = try Self.pair(dir, receive: ["--yes"], send: [dir + "/ibb.bin", "--no-ice"])
        #expect(r.ss == 0, "send: \(r.send.stderr)")
        #expect(r.rs == 0, "receive: \(r.receive.stderr)")
        #expect(Self.listing(dir + "/in") == ["ibb.bin"])
        #expect(FileManager.default.contentsEqual(atPath: dir + "/ibb.bin", andPath: dir + "/in/ibb.bin"))
        #expect(r.send.stdout.contains("\"verified\":true"), "\(r.send.stdout)")
        // The summary says the bytes were not encrypted end to end.
        #expect(r.send.stdout.contains("\"transport\":\"ibb\"") && r.send.stdout.contains("\"encrypted\":false"), "\(r.send.stdout)")
        #expect(r.receive.stdout.contains("\"transport\":\"ibb\"") && r.receive.stdout.contains("\"encrypted\":false"), "\(r.receive.stdout)")
    }

    @Test("--transport s5b sends over a SOCKS5 direct connection (XEP-0260): verified, both exit 0", .timeLimit(.minutes(1)))
    func s5b() throws {
        let dir = try Self.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeRandomFile(dir + "/s5b.bin", size: (1 << 20) + 1)
        let r = try Self.pair(dir, receive: ["--yes"], send: [dir + "/s5b.bin", "--transport", "s5b"])
        #expect(r.ss == 0, "send: \(r.send.stderr)")
        #expect(r.rs == 0, "receive: \(r.receive.stderr)")
        #expect(FileManager.default.contentsEqual(atPath: dir + "/s5b.bin", andPath: dir + "/in/s5b.bin"))
        #expect(r.send.stdout.contains("\"transport\":\"s5b\"") && r.send.stdout.contains("\"encrypted\":false")
                && r.send.stdout.contains("\"s5bCandidate\":\"direct\""), "\(r.send.stdout)")
    }

    @Test("--transport with an unknown kind is a usage error")
    func badTransport() throws {
        let result = try CLI.run(["send", "/dev/null", "--peer", "127.0.0.1:9", "--transport", "carrier-pigeon"], timeout: 20)
        #expect(result.status == 64)
        #expect(result.stderr.contains("ice, ibb or s5b"))
    }

    @Test("send --help says IBB is not end-to-end encrypted")
    func noICEHelp() throws {
        let result = try CLI.run(["send", "--help"], timeout: 20)
        #expect(result.status == 0)
        #expect(result.stdout.contains("--no-ice") && result.stdout.contains("not DTLS end to end"))
    }

    @Test("receiver killed halfway, restarted with --resume: completes verified, the received prefix is not sent again",
          .timeLimit(.minutes(1)))
    func killAndResume() throws {
        let dir = try Self.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let size = 96 << 20
        try writeRandomFile(dir + "/big.bin", size: size)
        let first = try Running(["receive", "--listen", "127.0.0.1:0", "--dir", dir + "/in", "--yes", "--bind", "127.0.0.1", "--json"],
                                in: dir, tag: "receive1")
        var port = Self.listeningPort(first)
        let sender1 = try Running(["send", dir + "/big.bin", "--peer", "127.0.0.1:\(port)", "--bind", "127.0.0.1", "--json", "--timeout", "5s"],
                                  in: dir, tag: "send1")
        let part = dir + "/in/big.bin.part"
        var partSize = 0
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            partSize = ((try? FileManager.default.attributesOfItem(atPath: part))?[.size] as? Int) ?? 0
            if partSize >= size / 2 { break }
            usleep(5_000)
        }
        kill(first.process.processIdentifier, SIGKILL)
        _ = first.wait(timeout: 5)
        #expect(partSize >= size / 2 && partSize < size, "killed at \(partSize) of \(size)")
        #expect(sender1.wait(timeout: 40) == 1, "the first sender fails once its peer is gone")
        let kept = ((try? FileManager.default.attributesOfItem(atPath: part))?[.size] as? Int) ?? 0
        #expect(kept > 0 && kept < size)

        let second = try Running(["receive", "--listen", "127.0.0.1:0", "--dir", dir + "/in", "--yes", "--resume", "--bind", "127.0.0.1", "--json"],
                                 in: dir, tag: "receive2")
        port = Self.listeningPort(second)
        let sender2 = try Running(["send", dir + "/big.bin", "--peer", "127.0.0.1:\(port)", "--bind", "127.0.0.1", "--json"], in: dir, tag: "send2")
        #expect(sender2.wait() == 0, "send: \(sender2.stderr)")
        #expect(second.wait() == 0, "receive: \(second.stderr)")
        #expect(FileManager.default.contentsEqual(atPath: dir + "/big.bin", andPath: dir + "/in/big.bin"))
        #expect(Self.listing(dir + "/in") == ["big.bin"])
        let done = try #require(sender2.stdout.split(separator: "\n").first { $0.contains("\"event\":\"done\"") })
        #expect(done.contains("\"offset\":\(kept)"), "\(done)")
        #expect(done.contains("\"transferred\":\(size - kept)"), "\(done)")
    }
}
