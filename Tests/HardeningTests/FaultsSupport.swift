import Foundation
import TestServers
#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `jingle` CLI under injected network faults: inside a private network namespace made
/// lossy by scripts/netns-run.sh, or plainly (for faults of the server, not the path).
enum Faults {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `jingle` executable next to the test bundle in the build directory.
    static var jingle: String { builtProduct("jingle").path }

    static func workDirectory(_ tag: String) throws -> String {
        let path = NSTemporaryDirectory() + "faults-\(tag)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path + "/in", withIntermediateDirectories: true)
        return path
    }

    static func quoted(_ argument: String) -> String { "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// What one run of two `jingle` processes left behind in its directory.
    struct PairRun {
        let directory: String
        /// Exit status of the background process (`a`) and the foreground one (`b`); nil if not recorded.
        let a: Int32?
        let b: Int32?
        /// Wall-clock seconds (since 1970) at which `b` started and ended, and the loss rule was removed.
        let bStarted: Double?
        let ended: Double?
        let cleared: Double?
        let log: String

        func text(_ name: String) -> String { (try? String(contentsOfFile: directory + "/" + name, encoding: .utf8)) ?? "" }
        func number(_ name: String) -> Double? { Double(text(name).trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Inside one fresh namespace with `loss` % random UDP loss (scripts/netns-run.sh): starts `jingle A…`
    /// in the background, waits until its standard error mentions `ready`, then runs `jingle B…` and waits
    /// for both. Output goes to a.out/a.err/b.out/b.err in `directory`.
    static func pairInNamespace(directory: String, loss: Int, clearAfter: Double? = nil, background: [String], ready: String,
                                foreground: [String], timeout: Double) throws -> PairRun {
        let driver = """
            cd \(quoted(directory))
            \(quoted(jingle)) \(background.map(quoted).joined(separator: " ")) >a.out 2>a.err & apid=$!
            for _ in $(seq 1 500); do grep -q \(quoted(ready)) a.err && break; sleep 0.02; done
            date +%s.%N >b.started
            set +e
            \(quoted(jingle)) \(foreground.map(quoted).joined(separator: " ")) >b.out 2>b.err; echo $? >b.rc
            wait $apid; echo $? >a.rc
            date +%s.%N >ended
            """
        var arguments = [repository.appendingPathComponent("scripts/netns-run.sh").path, "--loss", "\(loss)"]
        if let clearAfter { arguments += ["--clear-after", String(clearAfter)] }
        arguments += ["--", "/bin/bash", "-euo", "pipefail", "-c", driver]
        let log = try run(arguments, environment: ["NETNS_CLEARED_FILE": directory + "/cleared"], timeout: timeout)
        let files = PairRun(directory: directory, a: nil, b: nil, bStarted: nil, ended: nil, cleared: nil, log: log)
        return PairRun(directory: directory, a: files.number("a.rc").map { Int32($0) }, b: files.number("b.rc").map { Int32($0) },
                       bStarted: files.number("b.started"), ended: files.number("ended"), cleared: files.number("cleared"), log: log)
    }

    /// Runs a program to completion (SIGKILL after `timeout` seconds); returns its standard error and output.
    @discardableResult
    static func run(_ arguments: [String], environment: [String: String] = [:], timeout: Double) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let logPath = NSTemporaryDirectory() + "faults-run-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Polling: waitUntilExit can hang when called from a concurrency thread.
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        while process.isRunning { usleep(10_000) }
        try? handle.close()
        return (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }


    /// The JSON lines of a `--json` run, decoded.
    static func jsonLines(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }

    /// Per-second statistics lines of `jingle call`/`answer --json`: (time since start, packets received,
    /// packets sent, packets lost).
    static func stats(_ text: String) -> [(time: Double, received: Int, sent: Int, lost: Int)] {
        jsonLines(text).compactMap { line in
            guard line["event"] as? String == "stats", let time = line["time"] as? Double, let stats = line["stats"] as? [String: Any],
                  let received = stats["packetsReceived"] as? Int, let sent = stats["packetsSent"] as? Int,
                  let lost = stats["packetsLost"] as? Int else { return nil }
            return (time, received, sent, lost)
        }
    }

    /// The `stats` object of the summary line.
    static func summary(_ text: String) -> [String: Any]? {
        jsonLines(text).last { $0["event"] as? String == "summary" }?["stats"] as? [String: Any]
    }
}

/// A `jingle` process in the background with its output in files (so a killed process leaves what it wrote).
final class RunningJingle: @unchecked Sendable {
    let process = Process()
    let outPath: String, errPath: String

    init(_ arguments: [String], in dir: String, tag: String) throws {
        outPath = dir + "/\(tag).out"; errPath = dir + "/\(tag).err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: Faults.jingle)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Waits (polling: waitUntilExit can hang when called from a concurrency thread) up to `timeout` seconds.
    func wait(timeout: Double) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        while process.isRunning { usleep(10_000) }
        return process.terminationStatus
    }

    /// Waits up to `timeout` seconds until standard error contains `text`; returns whether it did.
    func waitFor(_ text: String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stderr.contains(text) { return true }
            if !process.isRunning { return stderr.contains(text) }
            usleep(20_000)
        }
        return false
    }

    var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
}
