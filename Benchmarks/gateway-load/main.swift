// Gateway load: SIPp UAC at rising call rates -> SIP<->XMPP gateway (its own process, XEP-0114 component on a
// private Prosody) -> one Jingle answering engine (this process, an XMPP client). Prints, per rate, whether
// every call succeeded; then the highest rate with 0 failed calls, the peak number of concurrent calls in
// the gateway and its peak memory. Baseline in the same run: SIPp UAC -> SIPp UAS directly, same ladder.
//
//   scripts/bench gateway-load [--rates 50,100,200,...] [--seconds S] [--concurrency-rate R] [--concurrency-hold-ms MS]
//                              [--settle SECONDS]
//
// After the ladder it waits --settle seconds (default 35: RFC 3261 transactions linger up to 32 s), trims
// the heap and reports the gateway's RSS and what its SIP endpoint and Jingle engine still hold; every count
// should then be 0.
//
// Last line: gateway-load: ours=<calls/s>cps baseline=<calls/s>cps ratio=<x>
import Foundation
import Jingle
@_spi(Diagnostics) import JingleEngine
import JingleSDP
import Logging
import SDP
@_spi(Diagnostics) import SIP
import SIPGateway
import TestServers
import XMPPCore
import XMPPLink
#if canImport(Glibc)
import Glibc
#endif

/// Unbuffered line output (a pipe would otherwise hold the child's answers back).
func emit(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

/// Blocking line reader over a pipe.
final class LineReader {
    let handle: FileHandle
    var buffer: [UInt8] = []
    init(_ handle: FileHandle) { self.handle = handle }
    func next() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            let data = handle.availableData
            if data.isEmpty { return nil }
            buffer += data
        }
    }
}
let arguments = CommandLine.arguments
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("gateway-load: \(message)\n".utf8))
    exit(1)
}

/// Peak and current memory of this process (kB), from /proc (VmHWM is the high-water mark of RSS).
func memoryKB() -> (rss: Int, peak: Int) {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    func field(_ name: String) -> Int {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first.map(String.init) ?? "") ?? 0
    }
    return (field("VmRSS"), field("VmHWM"))
}

// MARK: child: the gateway process

/// `--gateway SIP_PORT COMPONENT_PORT`: runs the gateway; answers `stats` lines on stdin with
/// `peak=<max active calls> active=… completed=… failed=… rss=<kB> hwm=<kB>`; exits on EOF.
if let index = arguments.firstIndex(of: "--gateway"), index + 2 < arguments.count,
   let sipPort = Int(arguments[index + 1]), let componentPort = Int(arguments[index + 2]) {
    var logger = Logger(label: "gateway")
    logger.logLevel = .warning    // one info line per call would measure the terminal, not the gateway
    let launcher = GatewayLauncher(
        sip: .init(host: "127.0.0.1", port: sipPort, userName: "gateway"),
        xmpp: .component(domain: "jingle.localhost", secret: "compsecret", host: "127.0.0.1", port: componentPort),
        rules: [try GatewayAddressMap.Rule("sip:load-(.+)@127.0.0.1 -> bob@localhost/answer")],
        candidateWait: .milliseconds(20))
    let gateway: SIPGateway
    do { gateway = try await launcher.start(logger: logger) } catch { fail("gateway did not start: \(error)") }
    let peak = Peak()
    let sampler = Task.detached {
        while !Task.isCancelled {
            peak.observe(await gateway.counterSnapshot().active)
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
    emit("ready")
    while let line = readLine() {
        guard line == "stats" || line == "stats-trimmed" else { continue }
        // "stats-trimmed": first give freed heap back to the kernel, so RSS shows what is still in use.
        if line == "stats-trimmed", let symbol = dlsym(nil, "malloc_trim") {
            typealias Trim = @convention(c) (Int) -> Int32
            _ = unsafeBitCast(symbol, to: Trim.self)(0)
        }
        let counters = await gateway.counterSnapshot()
        let memory = memoryKB()
        var held = ""
        if line == "stats-trimmed" {
            // What the engine and the SIP endpoint still hold, so a leak can be told from heap fragmentation.
            let counts = (await gateway.sip.diagnostics()).merging(await gateway.engine.diagnostics()) { a, _ in a }
            held = counts.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
            if let path = ProcessInfo.processInfo.environment["GATEWAY_LOAD_HELD_CALLS"] {
                try? (await gateway.sip.diagnosticCalls()).joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            }
        }
        emit("peak=\(peak.take()) active=\(counters.active) completed=\(counters.completed) failed=\(counters.failedTotal) rss=\(memory.rss) hwm=\(memory.peak)\(held)")
    }
    sampler.cancel()
    await gateway.shutdown()
    exit(0)
}

final class Peak: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func observe(_ v: Int) { lock.lock(); value = max(value, v); lock.unlock() }
    /// The peak since the last take.
    func take() -> Int { lock.lock(); defer { value = 0; lock.unlock() }; return value }
}

// MARK: parent

let sippPath = "/usr/bin/sipp"
guard FileManager.default.isExecutableFile(atPath: sippPath) else { fail("sipp is not installed (scripts/bootstrap installs sip-tester)") }
let scenario = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("uac.xml").path
let rates = (option("--rates") ?? "50,100,200,300,400,600,800").split(separator: ",").compactMap { Int($0) }
let seconds = Int(option("--seconds") ?? "") ?? 4
let concurrencyHold = Int(option("--concurrency-hold-ms") ?? "") ?? 6000

/// A child process with its output in a file (or piped stdin/stdout for the gateway).
func spawnSIPp(_ args: [String]) throws -> (Process, URL) {
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("gwload-sipp-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    let handle = try FileHandle(forWritingTo: log)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: sippPath)
    process.arguments = args
    process.currentDirectoryURL = FileManager.default.temporaryDirectory
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    return (process, log)
}

func wait(_ process: Process, seconds: Double) -> Int32? {
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning && Date() < deadline { usleep(20_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit(); return nil }
    return process.terminationStatus
}

/// One SIPp UAC run: `calls` calls at `rate`/s, each held `holdMS`. True when SIPp reports every call successful.
func runUAC(target: Int, rate: Int, calls: Int, holdMS: Int) throws -> (ok: Bool, detail: String) {
    let (process, log) = try spawnSIPp(["-sf", scenario, "-s", "load", "127.0.0.1:\(target)", "-i", "127.0.0.1",
                                        "-p", "\(freePort() ?? 0)", "-mp", "\(freePort() ?? 0)", "-r", "\(rate)", "-rp", "1000",
                                        "-m", "\(calls)", "-d", "\(holdMS)", "-l", "\(max(2000, rate * 20))", "-nostdin",
                                        "-timeout", "\(calls / max(rate, 1) + holdMS / 1000 + 30)", "-timeout_error"])
    let status = wait(process, seconds: Double(calls / max(rate, 1) + holdMS / 1000 + 40))
    let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
    try? FileManager.default.removeItem(at: log)
    let failed = text.split(separator: "\n").last(where: { $0.contains("Failed call") }).map { String($0).replacingOccurrences(of: " ", with: "") } ?? ""
    return (status == 0, "exit=\(status.map(String.init) ?? "killed") \(failed)")
}

/// The answering engine: bob@localhost/answer rings and accepts every call with a PCMU answer.
func startAnswerer(_ server: ProsodyServer) async throws -> (XMPPClient, JingleEngine, Task<Void, Never>) {
    let client = XMPPClient(try server.configuration("bob", resource: "answer"))
    let me = try await client.connect()
    let engine = JingleEngine(link: client, localJID: me)
    await engine.start()
    await engine.advertise([NS.jingleRTP, NS.jingleRTPAudio, NS.jingleRawUDP])
    let sessions = engine.incomingSessions
    let task = Task {
        await withDiscardingTaskGroup { group in
            for await session in sessions {
                group.addTask {
                    let offer = session.initiate
                    let name = offer.contents.first?.name ?? "audio"
                    do {
                        let sdp = try SessionDescription(parsing: "v=0\r\no=- 7 7 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                                                         + "m=audio 41000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=mid:\(name)\r\n")
                        let answer = try JingleSDPMapper().jingle(from: sdp, context: .init(author: .responder, action: .sessionAccept, sid: offer.sid,
                                                                                           initiator: offer.initiator, responder: me))
                        try await engine.sendInfo(session.id, [JingleInfo(RTPSessionInfo.ringing)])
                        try await engine.accept(session.id, contents: answer.contents, groups: answer.groups)
                    } catch {
                        try? await engine.terminate(session.id, reason: JingleReason(.failedApplication))
                    }
                    for await event in session.handle.events { if case .ended = event { break } }
                }
            }
        }
    }
    return (client, engine, task)
}

/// Walks up the rate ladder against `target` until a rate fails; returns the highest rate with 0 failures.
func ladder(_ label: String, target: Int) throws -> Int {
    var best = 0
    for rate in rates {
        let calls = rate * seconds
        let result = try runUAC(target: target, rate: rate, calls: calls, holdMS: 500)
        print("\(label): \(rate) calls/s × \(calls): \(result.ok ? "all succeeded" : "FAILED") (\(result.detail))")
        if !result.ok { break }
        best = rate
    }
    return best
}

let server: ProsodyServer
do { server = try ProsodyServer.get() } catch { fail("\(error)") }

// Baseline: SIPp to SIPp.
let uasPort = freePort() ?? 0
let (uas, uasLog) = try spawnSIPp(["-sn", "uas", "-i", "127.0.0.1", "-p", "\(uasPort)", "-mp", "\(freePort() ?? 0)", "-nostdin"])
usleep(300_000)
let baseline = try ladder("baseline sipp->sipp", target: uasPort)
kill(uas.processIdentifier, SIGTERM)
_ = wait(uas, seconds: 5)
try? FileManager.default.removeItem(at: uasLog)

// Ours: SIPp -> gateway -> Jingle engine.
let (answererClient, answerer, answererTask) = try await startAnswerer(server)
let gatewayPort = freePort() ?? 0
let child = Process()
child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
child.arguments = ["--gateway", "\(gatewayPort)", "\(server.componentPort)"]
let toChild = Pipe(), fromChild = Pipe()
child.standardInput = toChild
child.standardOutput = fromChild
try child.run()
let childLines = LineReader(fromChild.fileHandleForReading)
guard childLines.next() == "ready" else { fail("the gateway process did not come up") }
@MainActor func childStats(trimmed: Bool = false) -> [String: Int] {
    toChild.fileHandleForWriting.write(Data((trimmed ? "stats-trimmed\n" : "stats\n").utf8))
    guard let line = childLines.next() else { fail("the gateway process exited") }
    var fields: [String: Int] = [:]
    for pair in line.split(separator: " ") {
        let kv = pair.split(separator: "=")
        if kv.count == 2, let value = Int(kv[1]) { fields[String(kv[0])] = value }
    }
    return fields
}
// Concurrency first, on a fresh gateway: hold calls long enough that ≥ 1000 are up at once, at 250 calls/s
// (a rate past the target of 200 calls/s; the ladder below finds the limit, and a rate that fails leaves a
// backlog behind that would spoil any run after it).
let fresh = childStats(trimmed: true)
let concurrencyRate = Int(option("--concurrency-rate") ?? "") ?? 250
let heldCalls = concurrencyRate * (concurrencyHold / 1000 + 2)
let held = try runUAC(target: gatewayPort, rate: concurrencyRate, calls: heldCalls, holdMS: concurrencyHold)
let afterHold = childStats()
print("gateway: \(heldCalls) calls at \(concurrencyRate) calls/s held \(concurrencyHold) ms: \(held.ok ? "all succeeded" : "FAILED") (\(held.detail)); "
      + "peak concurrent calls \(afterHold["peak"] ?? 0), gateway failures \(afterHold["failed"] ?? 0), "
      + "peak RSS \((afterHold["hwm"] ?? 0) / 1024) MB")
// Let the held calls end before the ladder starts.
var drained = childStats()
for _ in 0..<100 where (drained["active"] ?? 0) > 0 {
    usleep(100_000)
    drained = childStats()
}

let ours = try ladder("gateway", target: gatewayPort)
let afterLadder = childStats()
print("gateway memory: peak RSS \((afterLadder["hwm"] ?? 0) / 1024) MB over the whole run, now \((afterLadder["rss"] ?? 0) / 1024) MB "
      + "with \(afterLadder["active"] ?? 0) calls up; gateway failures \(afterLadder["failed"] ?? 0) (all from the rate that failed, if one did)")
// RFC 3261 keeps a finished transaction for up to 64·T1 = 32 s (Timer J/K) to absorb retransmissions, so the
// figure right after the ladder still holds the last calls' transactions. After that long, with freed heap
// given back, RSS is what the gateway keeps for good: a leak would show here.
let settleSeconds = Int(option("--settle") ?? "") ?? 35
if settleSeconds > 0 {
    sleep(UInt32(settleSeconds))
    let settled = childStats(trimmed: true)
    let kept = (settled["rss"] ?? 0) - (fresh["rss"] ?? 0), completed = max(1, settled["completed"] ?? 0)
    print("gateway memory after \(settleSeconds) s idle (transaction timers expired, malloc_trim): RSS \((settled["rss"] ?? 0) / 1024) MB "
          + "(\((fresh["rss"] ?? 0) / 1024) MB before the first call); \(completed) calls completed in all, \(kept * 1024 / completed) B kept per call")
    let held = settled.filter { $0.key.hasPrefix("sip.") || $0.key.hasPrefix("jingle.") }.sorted { $0.key < $1.key }
    let stuck = settled["sip.ua.calls"] ?? 0
    print("  still held (all should be 0 once every call ended): " + held.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
    if stuck > 0 {
        print("  WARNING: \(stuck) calls are still up in the gateway although SIPp completed every call "
              + "(GATEWAY_LOAD_HELD_CALLS=FILE lists them with their phase and Call-ID)")
    }
}
try toChild.fileHandleForWriting.close()
_ = wait(child, seconds: 10)
answererTask.cancel()
await answerer.stop()
await answererClient.close()

let ratio = baseline > 0 ? Double(ours) / Double(baseline) : 0
print("gateway-load: ours=\(ours)cps baseline=\(baseline)cps ratio=\(String(format: "%.2f", ratio))")
