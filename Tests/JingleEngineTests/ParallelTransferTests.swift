import FileTransfer
import Hashes
import Foundation
import ICE
import Jingle
import TestServers
import Testing
import XMPPCore
import XMPPLink
@testable import JingleEngine
#if canImport(Glibc)
import Glibc
#endif

/// Many XEP-0234 sessions at once between two engines over one peer link, each with its own ICE agents, DTLS
/// handshake and SecureStream (the small, CI-sized form of Benchmarks/parallel-transfers). Before the stream
/// rings were allocated on demand, every SecureStream zero-filled 4 MiB of send ring and 4 MiB of receive ring
/// up front, so 20 transfers with both ends in this process grew resident memory by 320 MB.
@Suite("parallel file transfers", .serialized)
struct ParallelTransferTests {
    static let transfers = 20
    static let fileSize = (1 << 20) + 4321

    /// VmRSS of this process in kB.
    static func residentKB() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? -1
        }
        return -1
    }

    /// Samples VmRSS every 20 ms from its own thread until stopped, keeping the maximum.
    final class PeakSampler: @unchecked Sendable {
        private let lock = NSLock()
        private var peak = 0
        private var running = true

        init() {
            Thread.detachNewThread { [self] in
                while true {
                    let now = ParallelTransferTests.residentKB()
                    lock.lock()
                    peak = max(peak, now)
                    let go = running
                    lock.unlock()
                    if !go { return }
                    usleep(20_000)
                }
            }
        }

        func stop() -> Int {
            lock.lock(); defer { lock.unlock() }
            running = false
            return peak
        }
    }

    @Test("20 concurrent transfers over one peer link: every file verified, memory bounded", .timeLimit(.minutes(1)))
    func twentyAtOnce() async throws {
        let src = try FileTransferTests.tempDirectory("par-src"), dst = try FileTransferTests.tempDirectory("par-dst")
        defer { try? FileManager.default.removeItem(atPath: src); try? FileManager.default.removeItem(atPath: dst) }
        var paths: [String] = []
        for i in 0..<Self.transfers {
            paths.append(try FileTransferTests.makeFile(src, "p\(i).bin", size: Self.fileSize, seed: UInt64(100 + i)))
        }
        let expected = try paths.map { try FileTransferTests.sha256($0) }
        #expect(Set(expected.map(\.hexString)).count == Self.transfers, "the files differ from each other")

        let pair = try await FileTransferTests.peerPair()
        let options = FileTransferOptions(ice: ICEConfiguration(localAddresses: ["127.0.0.1"]), connectTimeout: .seconds(40),
                                          answerTimeout: .seconds(40))
        let policy = JingleFileTransfer.ReceivePolicy(directory: dst, acceptAll: true)
        let receiver = pair.receiver
        let before = Self.residentKB()
        let sampler = PeakSampler()
        let started = ContinuousClock.now

        let receiving = Task { () -> [Result<[FileTransferResult], FileTransferSessionError>] in
            await withTaskGroup(of: Result<[FileTransferResult], FileTransferSessionError>.self) { group in
                var taken = 0
                for await incoming in receiver.incomingSessions {
                    group.addTask {
                        do throws(FileTransferSessionError) {
                            return .success(try await JingleFileTransfer.receive(engine: receiver, incoming: incoming, policy: policy, options: options))
                        } catch {
                            return .failure(error)
                        }
                    }
                    taken += 1
                    if taken == Self.transfers { break }
                }
                var all: [Result<[FileTransferResult], FileTransferSessionError>] = []
                for await r in group { all.append(r) }
                return all
            }
        }
        let sent = await withTaskGroup(of: Result<[FileTransferResult], FileTransferSessionError>.self) { group in
            for path in paths {
                group.addTask {
                    do throws(FileTransferSessionError) {
                        return .success(try await JingleFileTransfer.send(engine: pair.sender, to: pair.receiverJID, paths: [path], options: options))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var all: [Result<[FileTransferResult], FileTransferSessionError>] = []
            for await r in group { all.append(r) }
            return all
        }
        let received = await receiving.value
        let elapsed = ContinuousClock.now - started
        let peak = sampler.stop()
        await pair.sender.stop(); await pair.receiver.stop()
        await pair.close()

        for case .failure(let error) in sent { Issue.record("send failed: \(error)") }
        for case .failure(let error) in received { Issue.record("receive failed: \(error)") }
        let sentResults = sent.compactMap { try? $0.get() }.flatMap { $0 }
        let receivedResults = received.compactMap { try? $0.get() }.flatMap { $0 }
        #expect(sentResults.count == Self.transfers && sentResults.allSatisfy(\.verified))
        #expect(receivedResults.count == Self.transfers)
        #expect(Set(receivedResults.map { $0.sha256.hexString }) == Set(expected.map(\.hexString)))
        for (i, hash) in expected.enumerated() {
            #expect(try FileTransferTests.sha256(dst + "/p\(i).bin") == hash, "p\(i).bin arrived intact")
        }
        #expect(FileTransferTests.listing(dst).count == Self.transfers, "no .part left")
        // 40 SecureStreams (both ends here) with preallocated rings would need 320 MB; what they buffer at a
        // time is a few segments each. The bound leaves room for 80 ICE/timer threads and the debug build.
        let growthMB = (peak - before) / 1024
        #expect(growthMB < 120, "resident memory grew by \(growthMB) MB during \(Self.transfers) transfers")
        print("parallel transfers: \(Self.transfers) × \(Self.fileSize) B in \(elapsed), RSS \(before / 1024) → peak \(peak / 1024) MB")
    }
}
