import Foundation
import Jingle
import Testing
import XMPPCore
import XMPPLink
@testable import JingleEngine
#if canImport(Glibc)
import Glibc
#endif

/// Idle sessions must stay cheap: a gateway or answering service holds thousands (the small, CI-sized form
/// of Benchmarks/sessions-memory). Both engines run in this process, so the growth is split over 2 × count
/// session states (the initiator's and the responder's).
@Suite("idle session memory", .serialized)
struct SessionMemoryTests {
    static let count = 200
    /// Per session per engine. The release benchmark measures about 10 KB; the debug build and malloc's
    /// arenas add to that, and 50 MB for 1000 sessions is the target (51 KB each).
    static let budgetBytes = 50_000

    static func residentKB() -> Int {
        trimMalloc()
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? -1
        }
        return -1
    }

    /// A file offer as `jingle send` makes it: description, ICE-UDP credentials, two host candidates and a
    /// DTLS fingerprint (no ICE agent: the engine keeps only signalling state).
    static func offer(_ index: Int, setup: Jingle.DTLSSetup) -> JingleContent {
        var file = FileTransferFile(date: "2026-11-21T12:00:00Z", name: "file-\(index).bin", size: 4 << 20)
        file.mediaType = "application/octet-stream"
        let fingerprint = Jingle.DTLSFingerprint(hash: "sha-256", setup: setup, value: (0..<32).map { _ in "5A" }.joined(separator: ":"))
        let candidates = (0..<2).map { n in
            Jingle.ICECandidate(component: 1, foundation: "\(n + 1)", id: "c\(index)-\(n)", ip: "127.0.0.1", network: 0,
                                port: UInt16(40000 + index * 2 + n), priority: 2_130_706_431 - UInt32(n), type: .host)
        }
        // RFC 8445 §5.3: ufrag 4-256 characters, pwd 22-256.
        let transport = ICEUDPTransport(ufrag: String(format: "u%07d", index), pwd: String(format: "p%023d", index), candidates: candidates, fingerprints: [fingerprint])
        return JingleContent(creator: .initiator, name: "file0", senders: .initiator,
                             description: FileTransferDescription(file: file), transport: transport)
    }

    /// Initiates `range.count` sessions and waits until the responder accepted each.
    static func open(_ range: Range<Int>, from alice: JingleEngine, to bobJID: JID) async throws -> [JingleSessionID] {
        try await withThrowingTaskGroup(of: JingleSessionID.self) { group in
            for i in range {
                group.addTask {
                    let handle = try await alice.initiate(to: bobJID, contents: [offer(i, setup: .actpass)])
                    for await event in handle.events {
                        if case .received(let p) = event, p.action == .sessionAccept {
                            let rest = handle.events
                            Task { for await _ in rest {} }
                            return handle.id
                        }
                    }
                    throw JingleEngineError.noSuchSession(handle.id)
                }
            }
            var ids: [JingleSessionID] = []
            for try await id in group { ids.append(id) }
            return ids
        }
    }

    @Test("200 accepted idle sessions stay under the per-session budget and are freed at terminate", .timeLimit(.minutes(1)))
    func idleSessions() async throws {
        let (alice, bob) = try await JingleEngineTests.connectedPair()
        let bobJID = try JID("bob@localhost/sj")
        let answering = Task {
            var n = 0
            for await incoming in bob.incomingSessions {
                Task { for await _ in incoming.handle.events {} }
                n += 1
                try? await bob.accept(incoming.id, contents: [Self.offer(n, setup: .active)])
            }
        }
        // Warm-up, so first-use allocations are in the baseline.
        for id in try await Self.open(0..<20, from: alice, to: bobJID) { try await alice.terminate(id, reason: JingleReason(.success)) }
        try await Task.sleep(for: .milliseconds(200))
        let before = Self.residentKB()

        let ids = try await Self.open(1000..<(1000 + Self.count), from: alice, to: bobJID)
        try await Task.sleep(for: .milliseconds(200))
        let after = Self.residentKB()
        var live = 0
        for id in ids where await alice.session(id) != nil { live += 1 }
        #expect(live == Self.count)

        let perSession = (after - before) * 1024 / (2 * Self.count)
        #expect(perSession < Self.budgetBytes, "\(perSession) B per idle session per engine (RSS \(before / 1024) → \(after / 1024) MB)")
        print("idle sessions: \(Self.count) × 2 engines, RSS \(before) → \(after) kB, \(perSession) B per session per engine")

        for id in ids { try await alice.terminate(id, reason: JingleReason(.success)) }
        try await Task.sleep(for: .milliseconds(300))
        var remaining = 0
        for id in ids where await alice.session(id) != nil { remaining += 1 }
        #expect(remaining == 0, "terminated sessions are forgotten")
        answering.cancel()
        await alice.stop(); await bob.stop()
    }
}

/// glibc's malloc_trim(3) (not in the Swift Glibc module): returns free heap pages to the kernel, so RSS
/// shows what is in use rather than what an arena keeps.
private func trimMalloc() {
    typealias Trim = @convention(c) (Int) -> Int32
    guard let symbol = dlsym(nil, "malloc_trim") else { return }
    _ = unsafeBitCast(symbol, to: Trim.self)(0)
}
