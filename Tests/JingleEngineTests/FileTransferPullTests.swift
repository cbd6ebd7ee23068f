import FileTransfer
import Foundation
import ICE
import Jingle
import Synchronization
import Testing
import XMPPCore
@testable import JingleEngine
#if canImport(Glibc)
import Glibc
#endif

/// XEP-0234 §5 requests (pull) and trickled candidates (XEP-0176 §5.3) between two engines on loopback.
/// The pair's receiver serves; its sender pulls.
@Suite("file transfer: pull and trickle", .serialized)
struct FileTransferPullTests {
    typealias T = FileTransferTests

    struct PullOutcome {
        let pulled: Result<[FileTransferResult], FileTransferSessionError>
        let served: Result<[FileTransferResult], FileTransferSessionError>
    }

    static func pull(_ pair: T.Pair, _ requests: [FileRequest], serving files: [String], into dir: String, resume: Bool = false,
                     servePolicy: ServePolicy? = nil, pullerOptions: FileTransferOptions = T.options(),
                     serverOptions: FileTransferOptions = T.options()) async -> PullOutcome {
        let server = pair.receiver
        let serving = Task { () -> Result<[FileTransferResult], FileTransferSessionError> in
            var incoming = server.incomingSessions.makeAsyncIterator()
            guard let session = await incoming.next() else { return .failure(.protocolError("no session")) }
            do throws(FileTransferSessionError) {
                return .success(try await JingleFileTransfer.serve(engine: server, incoming: session,
                                                                   policy: servePolicy ?? ServePolicy(files: files, acceptAll: true),
                                                                   options: serverOptions))
            } catch {
                return .failure(error)
            }
        }
        let pulled: Result<[FileTransferResult], FileTransferSessionError>
        do throws(FileTransferSessionError) {
            pulled = .success(try await JingleFileTransfer.request(engine: pair.sender, from: pair.receiverJID, requests: requests,
                                                                   policy: .init(directory: dir, resume: resume), options: pullerOptions))
        } catch {
            pulled = .failure(error)
        }
        return PullOutcome(pulled: pulled, served: await serving.value)
    }

    enum Via: String, CaseIterable, CustomTestStringConvertible {
        case peerLink, prosody
        var testDescription: String { rawValue }
        func pair() async throws -> T.Pair { self == .peerLink ? try await T.peerPair() : try await T.prosodyPair() }
    }

    @Test("a file is pulled by name, by hash and by both", .timeLimit(.minutes(1)), arguments: Via.allCases, ["name", "hash", "both"])
    func pullByNameOrHash(via: Via, by: String) async throws {
        let src = try T.tempDirectory("src"), dst = try T.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: src); try? FileManager.default.removeItem(atPath: dst) }
        let wanted = try T.makeFile(src, "wanted.bin", size: 700_001, seed: 3)
        let other = try T.makeFile(src, "other.bin", size: 5000, seed: 4)
        let digest = try T.sha256(wanted)
        let request = FileRequest(name: by == "hash" ? nil : "wanted.bin", sha256: by == "name" ? nil : digest)
        let pair = try await via.pair()
        let outcome = await Self.pull(pair, [request], serving: [other, wanted], into: dst)
        await pair.close()
        let pulled = try #require(try outcome.pulled.get().first)
        #expect(pulled.verified && pulled.sha256 == digest)
        #expect(pulled.path == dst + "/wanted.bin")
        #expect(try T.sha256(dst + "/wanted.bin") == digest)
        #expect(T.listing(dst) == ["wanted.bin"], "no .part left, nothing else written")
        let served = try #require(try outcome.served.get().first)
        #expect(served.path == wanted && served.transferred == 700_001)
    }

    @Test("a request for a file not served is refused, naming only what was asked", .timeLimit(.minutes(1)),
          arguments: ["name", "hash", "path"])
    func notServed(kind: String) async throws {
        let src = try T.tempDirectory("src"), dst = try T.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: src); try? FileManager.default.removeItem(atPath: dst) }
        let secret = try T.makeFile(src, "secret-plan.txt", size: 100, seed: 9)
        _ = try T.makeFile(src, "unserved.bin", size: 100, seed: 10)
        let request = switch kind {
        case "name": FileRequest(name: "unserved.bin")
        case "hash": FileRequest(sha256: [UInt8](repeating: 0xAB, count: 32))
        default: FileRequest(name: "../\((src as NSString).lastPathComponent)/unserved.bin")
        }
        let pair = try await T.peerPair()
        let outcome = await Self.pull(pair, [request], serving: [secret], into: dst)
        await pair.close()
        guard case .failure(.peerTerminated(let reason)) = outcome.pulled else { Issue.record("puller: \(outcome.pulled)"); return }
        #expect(reason?.condition == .failedApplication)
        #expect(reason?.text?.contains("no served file matches") == true, "\(String(describing: reason))")
        #expect(reason?.text?.contains("secret") == false, "the served set is not revealed")
        guard case .failure = outcome.served else { Issue.record("server: \(outcome.served)"); return }
        #expect(T.listing(dst).isEmpty)
    }

    @Test("a request from a peer without consent is declined", .timeLimit(.minutes(1)))
    func serveWithoutConsent() async throws {
        let src = try T.tempDirectory("src"), dst = try T.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: src); try? FileManager.default.removeItem(atPath: dst) }
        let file = try T.makeFile(src, "f.bin", size: 100)
        let pair = try await T.peerPair()
        let outcome = await Self.pull(pair, [FileRequest(name: "f.bin")], serving: [file], into: dst,
                                      servePolicy: ServePolicy(files: [file], acceptFrom: [try JID("friend@localhost")]))
        await pair.close()
        guard case .failure(.peerTerminated(let reason)) = outcome.pulled else { Issue.record("puller: \(outcome.pulled)"); return }
        #expect(reason?.condition == .decline)
        #expect(T.listing(dst).isEmpty)
    }

    @Test("pull resumes a .part: only the rest is sent, the whole file verified", .timeLimit(.minutes(1)))
    func pullResume() async throws {
        let src = try T.tempDirectory("src"), dst = try T.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: src); try? FileManager.default.removeItem(atPath: dst) }
        let size = 2 << 20, already = 777_777
        let path = try T.makeFile(src, "big.bin", size: size)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try whole.prefix(already).write(to: URL(fileURLWithPath: dst + "/big.bin.part"))
        let pair = try await T.peerPair()
        let outcome = await Self.pull(pair, [FileRequest(name: "big.bin")], serving: [path], into: dst, resume: true)
        await pair.close()
        let served = try #require(try outcome.served.get().first)
        #expect(served.offset == UInt64(already) && served.transferred == UInt64(size - already))
        #expect(try Data(contentsOf: URL(fileURLWithPath: dst + "/big.bin")) == whole)
        #expect(T.listing(dst) == ["big.bin"])
    }

    // MARK: trickle

    final class Signals: Sendable {
        let list = Mutex<[FileTransferSignal]>([])
        func record(_ s: FileTransferSignal) { list.withLock { $0.append(s) } }
        var all: [FileTransferSignal] { list.withLock { $0 } }
    }

    static func observed(_ ice: ICEConfiguration, _ signals: Signals, trickleOnly: Bool = false) -> FileTransferOptions {
        var o = T.options(ice)
        o.observer = { signals.record($0) }
        o.trickleOnly = trickleOnly
        return o
    }

    /// A STUN server that never answers: gathering cannot finish before libnice gives up on it (seconds),
    /// so a transfer that completes sooner did not wait for gathering.
    final class SilentUDP: Sendable {
        let fd: Int32
        let port: UInt16
        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let ok = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
            }
            guard ok else { close(fd); throw POSIXError(.EADDRINUSE) }
            self.fd = fd
            port = UInt16(bigEndian: address.sin_port)
        }
        deinit { close(fd) }
    }

    @Test("push: session-initiate and session-accept go out before gathering finishes; the transfer does not wait for it",
          .timeLimit(.minutes(1)))
    func trickleBeforeGatheringDone() async throws {
        let stun = try SilentUDP()
        var ice = ICEConfiguration(localAddresses: ["127.0.0.1"])
        ice.stunServer = .init(address: "127.0.0.1", port: stun.port)
        let senderSignals = Signals(), receiverSignals = Signals()
        let src = try T.tempDirectory("src"), dst = try T.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: src); try? FileManager.default.removeItem(atPath: dst) }
        let path = try T.makeFile(src, "t.bin", size: 200_000)
        let pair = try await T.peerPair()
        let started = ContinuousClock.now
        let outcome = await T.transfer(pair, paths: [path], policy: .init(directory: dst, acceptAll: true),
                                       senderOptions: Self.observed(ice, senderSignals), receiverOptions: Self.observed(ice, receiverSignals))
        let elapsed = ContinuousClock.now - started
        await pair.close()
        #expect(try outcome.sent.get().first?.verified == true)
        #expect(try T.sha256(dst + "/t.bin") == T.sha256(path))
        // The host candidate travels in the stanza itself; gathering (the STUN server) was still running.
        guard case .sessionInitiate(let offered, false)? = senderSignals.all.first, offered >= 1 else {
            Issue.record("sender: \(senderSignals.all)"); return
        }
        guard case .sessionAccept(let answered, false)? = receiverSignals.all.first, answered >= 1 else {
            Issue.record("receiver: \(receiverSignals.all)"); return
        }
        #expect(elapsed < .seconds(5), "took \(elapsed): waited for the silent STUN server?")
    }

    @Test("candidates only in transport-info, both directions, push and pull", .timeLimit(.minutes(1)), arguments: ["push", "pull"])
    func trickleOnly(mode: String) async throws {
        let ice = ICEConfiguration(localAddresses: ["127.0.0.1"])
        let a = Signals(), b = Signals()
        let src = try T.tempDirectory("src"), dst = try T.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: src); try? FileManager.default.removeItem(atPath: dst) }
        let path = try T.makeFile(src, "late.bin", size: 300_000)
        let pair = try await T.peerPair()
        if mode == "push" {
            let outcome = await T.transfer(pair, paths: [path], policy: .init(directory: dst, acceptAll: true),
                                           senderOptions: Self.observed(ice, a, trickleOnly: true),
                                           receiverOptions: Self.observed(ice, b, trickleOnly: true))
            #expect(try outcome.received.get().first?.verified == true)
        } else {
            let outcome = await Self.pull(pair, [FileRequest(name: "late.bin")], serving: [path], into: dst,
                                          pullerOptions: Self.observed(ice, a, trickleOnly: true),
                                          serverOptions: Self.observed(ice, b, trickleOnly: true))
            #expect(try outcome.pulled.get().first?.verified == true)
        }
        await pair.close()
        #expect(try T.sha256(dst + "/late.bin") == T.sha256(path))
        for signals in [a, b] {
            let all = signals.all
            #expect(all.contains { if case .sessionInitiate(0, _) = $0 { true } else if case .sessionAccept(0, _) = $0 { true } else { false } },
                    "no candidate in the initial stanza: \(all)")
            let trickled = all.reduce(0) { if case .transportInfo(_, let n) = $1 { $0 + n } else { $0 } }
            #expect(trickled >= 1, "transport-info carried the candidates: \(all)")
        }
    }
}
