// Benchmarks/sessions-memory: what 1000 idle Jingle sessions cost one JingleEngine in resident memory.
//
// Two processes, so nothing needs attributing: this one runs the initiating engine only; a child (this binary
// with --peer) runs the responding engine, connected over the serverless peer link on 127.0.0.1. Each session
// is a XEP-0234 file offer as `jingle send` makes it (file description with name, size, date and media type;
// ICE-UDP transport with ufrag, pwd, a DTLS fingerprint and two host candidates), acknowledged and accepted
// (the answer carries the same kind of transport), then left idle. No ICE agent, socket or DTLS context
// exists: JingleEngine keeps only signalling state per session (the session machine with its contents, an
// event stream, timers while a request is unanswered); agents belong to the application (JingleFileTransfer
// makes one per content when it runs a transfer), so an idle session does not inherently allocate one.
//
// Baseline: the same process with 0 live sessions, measured right before the 1000 are made, after the link
// is up and after 20 warm-up sessions were set up and terminated (so the Swift runtime, the link's buffers
// and the engine's code paths are already resident, and only what the sessions hold is in the delta).
// Process RSS is VmRSS of /proc/self/status. The run fails (exit 1) when the process with the sessions is
// at or over --limit-mb (default 50: "1000 idle sessions in one engine under 50 MB RSS"), on either side,
// or when any session is not live on both sides; with --max-growth-mb also when either engine grew by more
// than that from 0 sessions (the CI test's per-session budget).
//
// Usage: scripts/bench sessions-memory [--count N] [--limit-mb MB] [--max-growth-mb MB]
// Last line: sessions-memory: ours=<RSS with N sessions>MB baseline=<RSS with 0 sessions>MB ratio=<x>
// The engine libraries need only FoundationEssentials, not Foundation (whose ICU data alone is ~5 MB of
// resident pages), and this program imports neither, so the figures are what an embedding application that
// does the same pays.
import Jingle
import JingleEngine
import XMPPCore
import XMPPLink
#if canImport(Glibc)
import Glibc
#endif

func say(_ line: String) {
    print(line)
    fflush(nil)
}

func warn(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = write(2, bytes, bytes.count)
}

func fail(_ message: String) -> Never {
    warn("sessions-memory failed: \(message)")
    exit(1)
}

func option(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}

/// A field of /proc/self/status in kB.
func procStatus(_ field: String) -> Int {
    guard let file = fopen("/proc/self/status", "r") else { return -1 }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 512)
    while fgets(&buffer, Int32(buffer.count), file) != nil {
        let line = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if line.hasPrefix(field + ":") {
            return Int(line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first ?? "") ?? -1
        }
    }
    return -1
}

/// `value` with `digits` decimals (String(format:) is Foundation's).
func fixed(_ value: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int((value * scale).rounded())
    let whole = String(scaled / Int(scale)), fraction = String(abs(scaled) % Int(scale))
    return digits == 0 ? whole : whole + "." + String(repeating: "0", count: digits - fraction.count) + fraction
}

/// Resident set after giving freed memory back where glibc can (malloc_trim), so the figure is what is in
/// use rather than what an arena happens to keep.
func residentKB() -> Int {
    trimMalloc()
    return procStatus("VmRSS")
}

let initiatorJID = try JID("initiator@localhost/mem"), responderJID = try JID("responder@localhost/mem")

/// One content of a file offer (or its answer), the size `jingle send` produces for one file.
func fileContent(index: Int, setup: Jingle.DTLSSetup, prefix: String) -> JingleContent {
    var file = FileTransferFile(date: "2026-11-21T12:00:00Z", name: "file-\(index).bin", size: 4 << 20)
    file.mediaType = "application/octet-stream"
    let fingerprint = Jingle.DTLSFingerprint(hash: "sha-256", setup: setup, value: (0..<32).map { _ in "A5" }.joined(separator: ":"))
    let candidates = (0..<2).map { n in
        Jingle.ICECandidate(component: 1, foundation: "\(n + 1)", id: "\(prefix)\(n)", ip: "127.0.0.1", network: 0,
                            port: UInt16(40000 + (index * 2 + n) % 20000), priority: 2_130_706_431 - UInt32(n), type: .host)
    }
    let digits = String(index)
    let transport = ICEUDPTransport(ufrag: "u" + String(repeating: "0", count: max(0, 7 - digits.count)) + digits, pwd: "p\(String(repeating: "0", count: 21))\(index)",
                                    candidates: candidates, fingerprints: [fingerprint])
    return JingleContent(creator: .initiator, name: "file0", senders: .initiator,
                         description: FileTransferDescription(file: file), transport: transport)
}

// MARK: - responder (child process)

/// `--peer`: listens, prints `port N`, accepts every session with an answer of the same shape, and on each
/// `report` line from stdin prints `rss <kB> live <n>`. Exits at end of input.
func runPeer() async throws {
    let listener = try await XMPPPeerLink.listen(local: responderJID, host: "127.0.0.1", port: 0)
    say("port \(listener.port)")
    let link = try await listener.accept()
    let engine = JingleEngine(link: link, localJID: responderJID)
    await engine.start()
    let accepted = Accepted()
    Task {
        for await incoming in engine.incomingSessions {
            let index = await accepted.add(incoming.id)
            // Keep reading the session's events as an application would, so nothing piles up in its stream.
            Task { for await _ in incoming.handle.events {} }
            do { try await engine.accept(incoming.id, contents: [fileContent(index: index, setup: .active, prefix: "r")]) } catch {
                warn("accept failed: \(error)")
            }
        }
    }
    while let line = readLine() {
        if line == "report" {
            var live = 0
            for id in await accepted.ids where await engine.session(id) != nil { live += 1 }
            say("rss \(residentKB()) live \(live)")
        }
    }
    await engine.stop()
    await link.close()
}

actor Accepted {
    var ids: [JingleSessionID] = []
    func add(_ id: JingleSessionID) -> Int {
        ids.append(id)
        return ids.count
    }
}

// MARK: - initiator (this process)

/// Initiates one session and waits for its session-accept; the handle's events are then drained in the
/// background, as an application keeps listening to an idle session.
func makeSession(_ engine: JingleEngine, index: Int) async throws -> JingleSessionID {
    let handle = try await engine.initiate(to: responderJID, contents: [fileContent(index: index, setup: .actpass, prefix: "i")])
    var events = handle.events.makeAsyncIterator()
    while let event = await events.next() {
        if case .received(let payload) = event, payload.action == .sessionAccept {
            let rest = handle.events
            Task { for await _ in rest {} }
            return handle.id
        }
        if case .ended = event { break }
    }
    throw BenchError("session \(index) was not accepted")
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Sets up `count` sessions, at most `parallel` at a time (like a gateway taking a burst of calls).
func makeSessions(_ engine: JingleEngine, range: Range<Int>, parallel: Int = 50) async throws -> [JingleSessionID] {
    var ids: [JingleSessionID] = []
    var next = range.lowerBound
    try await withThrowingTaskGroup(of: JingleSessionID.self) { group in
        while next < range.upperBound && next - range.lowerBound < parallel {
            let i = next
            group.addTask { try await makeSession(engine, index: i) }
            next += 1
        }
        while let id = try await group.next() {
            ids.append(id)
            if next < range.upperBound {
                let i = next
                group.addTask { try await makeSession(engine, index: i) }
                next += 1
            }
        }
    }
    return ids
}

/// The responding engine: this binary with `--peer`, spawned with pipes on its stdin and stdout.
final class Peer: @unchecked Sendable {
    let pid: pid_t
    let toPeer: Int32, fromPeer: Int32
    private var buffered: [UInt8] = []

    init() throws {
        var input: [Int32] = [0, 0], output: [Int32] = [0, 0]
        guard pipe(&input) == 0, pipe(&output) == 0 else { throw BenchError("pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        for fd in input + output { posix_spawn_file_actions_addclose(&actions, fd) }
        let path = CommandLine.arguments[0]
        var argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), strdup("--peer"), nil]
        defer { for p in argv { free(p) } }
        var child = pid_t()
        let result = posix_spawn(&child, path, &actions, nil, &argv, environ)
        guard result == 0 else { throw BenchError("cannot start the peer process: \(String(cString: strerror(result)))") }
        close(input[0])
        close(output[1])
        pid = child
        toPeer = input[1]
        fromPeer = output[0]
    }

    func line() -> String? {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let nl = buffered.firstIndex(of: 10) {
                let text = String(decoding: buffered[..<nl], as: UTF8.self)
                buffered.removeSubrange(...nl)
                return text
            }
            let n = read(fromPeer, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            buffered += chunk[..<n]
        }
    }

    func report() -> (rssKB: Int, live: Int)? {
        let request = Array("report\n".utf8)
        guard write(toPeer, request, request.count) == request.count, let text = line() else { return nil }
        let parts = text.split(separator: " ")
        guard parts.count == 4, let rss = Int(parts[1]), let live = Int(parts[3]) else { return nil }
        return (rss, live)
    }

    func finish() {
        close(toPeer)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        close(fromPeer)
    }
}

func mb(_ kb: Int) -> String { fixed(Double(kb) / 1024, 1) }

func runMeasurement(count: Int, limitMB: Int, maxGrowthMB: Int?) async throws -> Bool {
    let peer = try Peer()
    guard let portLine = peer.line(), portLine.hasPrefix("port "), let port = Int(portLine.dropFirst(5)) else {
        throw BenchError("the peer process did not report its port")
    }
    let link = try await XMPPPeerLink.connect(local: initiatorJID, remote: responderJID, host: "127.0.0.1", port: port)
    let engine = JingleEngine(link: link, localJID: initiatorJID)
    await engine.start()
    let startRSS = residentKB()

    // Warm-up: sessions made and ended, so code paths and the link's buffers are resident before the baseline.
    for id in try await makeSessions(engine, range: 0..<20) { try await engine.terminate(id, reason: JingleReason(.success)) }
    try await Task.sleep(for: .milliseconds(300))
    let peerBaseline = peer.report()
    let baseline = residentKB()

    let started = ContinuousClock.now
    let ids = try await makeSessions(engine, range: 1000..<(1000 + count))
    let setupTime = ContinuousClock.now - started
    try await Task.sleep(for: .milliseconds(300))
    let loaded = residentKB()
    var live = 0
    for id in ids where await engine.session(id) != nil { live += 1 }
    let peerLoaded = peer.report()

    for id in ids { try? await engine.terminate(id, reason: JingleReason(.success)) }
    try await Task.sleep(for: .milliseconds(500))
    let afterTerminate = residentKB()
    var remaining = 0
    for id in ids where await engine.session(id) != nil { remaining += 1 }
    let peerAfter = peer.report()
    await engine.stop()
    await link.close()
    peer.finish()

    let delta = loaded - baseline
    let perSession = Double(delta) * 1024 / Double(count)
    say("sessions-memory: \(count) idle Jingle sessions (XEP-0234 offer + ICE-UDP/DTLS transport, accepted), release build, \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores (shared machine)")
    say("  initiating engine (this process): RSS at start \(mb(startRSS)) MB, 0 sessions after warm-up \(mb(baseline)) MB, \(count) live \(mb(loaded)) MB"
        + " → +\(mb(delta)) MB, \(Int(perSession)) B/session; after terminating all \(mb(afterTerminate)) MB")
    if let a = peerBaseline, let b = peerLoaded {
        say("  responding engine (child process): 0 sessions \(mb(a.rssKB)) MB, \(b.live) live \(mb(b.rssKB)) MB → +\(mb(b.rssKB - a.rssKB)) MB, "
            + "\(Int(Double(b.rssKB - a.rssKB) * 1024 / Double(count))) B/session; after terminating \(peerAfter.map { "\(mb($0.rssKB)) MB, \($0.live) live" } ?? "?")")
    }
    say("  set-up of \(count) sessions (50 at a time) took \(setupTime); \(live) live here, \(remaining) left after terminate")

    var passed = true
    if live != count || (peerLoaded?.live ?? -1) != count { say("  FAIL: not every session is live on both sides"); passed = false }
    if remaining != 0 { say("  FAIL: \(remaining) sessions survived session-terminate"); passed = false }
    if loaded >= limitMB * 1024 { say("  FAIL: \(mb(loaded)) MB RSS with \(count) sessions is not under \(limitMB) MB"); passed = false }
    if let b = peerLoaded, b.rssKB >= limitMB * 1024 { say("  FAIL: responder \(mb(b.rssKB)) MB RSS is not under \(limitMB) MB"); passed = false }
    if let maxGrowthMB {
        if delta > maxGrowthMB * 1024 { say("  FAIL: +\(mb(delta)) MB for \(count) sessions exceeds \(maxGrowthMB) MB"); passed = false }
        if let b = peerLoaded, let a = peerBaseline, b.rssKB - a.rssKB > maxGrowthMB * 1024 {
            say("  FAIL: responder +\(mb(b.rssKB - a.rssKB)) MB exceeds \(maxGrowthMB) MB"); passed = false
        }
    }
    say("sessions-memory: ours=\(mb(loaded))MB baseline=\(mb(baseline))MB ratio=\(fixed(Double(loaded) / Double(baseline), 2))")
    return passed
}

if CommandLine.arguments.contains("--peer") {
    do { try await runPeer() } catch { fail("peer: \(error)") }
    exit(0)
}
let maxGrowth = option("--max-growth-mb")
guard let count = Int(option("--count") ?? "1000"), count > 0, let limitMB = Int(option("--limit-mb") ?? "50"),
      maxGrowth == nil || Int(maxGrowth!) != nil else {
    warn("usage: bench-sessions-memory [--count N] [--limit-mb MB] [--max-growth-mb MB]")
    exit(64)
}
do {
    exit(try await runMeasurement(count: count, limitMB: limitMB, maxGrowthMB: maxGrowth.flatMap { Int($0) }) ? 0 : 1)
} catch {
    fail("\(error)")
}

/// glibc's malloc_trim(3) (not in the Swift Glibc module): returns free heap pages to the kernel, so RSS
/// shows what is in use rather than what an arena keeps.
func trimMalloc() {
    typealias Trim = @convention(c) (Int) -> Int32
    guard let symbol = dlsym(nil, "malloc_trim") else { return }
    _ = unsafeBitCast(symbol, to: Trim.self)(0)
}
