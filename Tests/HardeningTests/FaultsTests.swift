import Foundation
import Hashes
import RTP
import TestServers
import Testing

/// The `jingle` CLI over a bad path: two processes in a private network namespace whose loopback drops
/// 5 % of UDP at random and is capped at 100 Mbit/s (scripts/netns-run.sh). The serverless XMPP link is
/// TCP and unaffected; ICE checks, DTLS and the media/data plane see the loss.
@Suite("Faults: lossy path", .serialized)
struct FaultsLossTests {
    static func sha256(_ path: String) throws -> [UInt8] {
        Digest.hash(.sha256, [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    @Test("8 MiB jingle send/receive at 5 % random UDP loss arrives with a verified hash", .timeLimit(.minutes(1)))
    func transferAtFivePercentLoss() throws {
        let dir = try Faults.workDirectory("transfer")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeRandomFile(dir + "/big.bin", size: 8 << 20)
        let run = try Faults.pairInNamespace(
            directory: dir, loss: 5,
            background: ["receive", "--listen", "127.0.0.1:5299", "--dir", dir + "/in", "--yes", "--bind", "127.0.0.1", "--json"],
            ready: "listening on",
            foreground: ["send", dir + "/big.bin", "--peer", "127.0.0.1:5299", "--bind", "127.0.0.1", "--json"],
            timeout: 40)
        #expect(run.b == 0, "send: \(run.text("b.err"))\n\(run.log)")
        #expect(run.a == 0, "receive: \(run.text("a.err"))")
        #expect(try Self.sha256(dir + "/in/big.bin") == (try Self.sha256(dir + "/big.bin")))
        let done = Faults.jsonLines(run.text("b.out")).filter { $0["event"] as? String == "done" }
        #expect(done.count == 1 && done.first?["verified"] as? Bool == true, "\(run.text("b.out"))")
        if let started = run.bStarted, let ended = run.ended {
            print("faults: 8 MiB at 5 % UDP loss, 100 Mbit/s: \(String(format: "%.2f", ended - started)) s from `jingle send` start to both exited")
        }
    }

    @Test("a call at 5 % loss keeps ≥ 90 % of packets both ways and recovers once the loss rule is removed mid-call",
          .timeLimit(.minutes(1)))
    func callAtFivePercentLossThenClean() throws {
        let dir = try Faults.workDirectory("call")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let common = ["--bind", "127.0.0.1", "--wait", "15s", "--json"]
        // The loss rule goes 5 s after the namespace starts: about 3 s into the media of an 8 s call.
        let run = try Faults.pairInNamespace(
            directory: dir, loss: 5, clearAfter: 5,
            background: ["answer", "--auto", "--listen", "127.0.0.1:5298", "--jid", "bob@localhost/sj", "--audio", "tone:880",
                         "--record", dir + "/callee.wav", "--duration", "20s"] + common,
            ready: "listening on",
            foreground: ["call", "bob@localhost/sj", "--peer", "127.0.0.1:5298", "--audio", "tone:440", "--record", dir + "/caller.wav",
                         "--duration", "8s"] + common,
            timeout: 40)
        #expect(run.b == 0, "caller: \(run.text("b.err"))\n\(run.log)")
        #expect(run.a == 0, "callee: \(run.text("a.err"))")
        let caller = try #require(Faults.summary(run.text("b.out")), "caller summary: \(run.text("b.out"))")
        let callee = try #require(Faults.summary(run.text("a.out")), "callee summary: \(run.text("a.out"))")
        // A packet nftables drops on output never reaches the peer, and sendmsg reports EPERM to the sender, which
        // then does not count it as sent: so the share kept is judged at the receiver, from the RTP sequence
        // numbers (RFC 3550 §6.4.1 cumulative loss): received / (received + lost).
        func kept(_ summary: [String: Any]) throws -> (received: Int, expected: Int) {
            let received = try #require(summary["packetsReceived"] as? Int), lost = try #require(summary["packetsLost"] as? Int)
            return (received, received + lost)
        }
        let atCallee = try kept(callee), atCaller = try kept(caller)
        let keptAtCallee = Double(atCallee.received) / Double(max(atCallee.expected, 1))
        let keptAtCaller = Double(atCaller.received) / Double(max(atCaller.expected, 1))
        print("faults: call at 5 % loss (cleared mid-call): callee kept \(atCallee.received)/\(atCallee.expected) = \(String(format: "%.1f", keptAtCallee * 100)) %, caller kept \(atCaller.received)/\(atCaller.expected) = \(String(format: "%.1f", keptAtCaller * 100)) %")
        #expect(atCallee.expected >= 300, "about 8 s of 20 ms packets")
        // Loss shows either as packets still missing or as packets asked for again (RTCP NACK, RFC 4585) and resent.
        let repaired = (caller["nacksSent"] as? Int ?? 0) + (callee["nacksSent"] as? Int ?? 0)
        #expect(atCallee.expected > atCallee.received || atCaller.expected > atCaller.received || repaired > 0,
                "the loss rule dropped some media")
        #expect(keptAtCallee >= 0.90)
        #expect(keptAtCaller >= 0.90)

        // Windows of the caller's per-second statistics, on the wall clock of the namespace.
        let cleared = try #require(run.cleared, "the loss rule was not removed: \(run.log)")
        let started = try #require(run.bStarted)
        let removalInCallerTime = cleared - started
        let stats = Faults.stats(run.text("b.out"))
        let lossy = stats.filter { $0.time < removalInCallerTime }
        let clean = stats.filter { $0.time > removalInCallerTime + 0.5 }
        #expect(lossy.count >= 2 && clean.count >= 2, "stats before/after removal at \(removalInCallerTime) s: \(stats)")
        if let firstLossy = lossy.first, let lastLossy = lossy.last, let firstClean = clean.first, let lastClean = clean.last {
            let lossyRate = Double(lastLossy.received - firstLossy.received) / max(lastLossy.time - firstLossy.time, 0.001)
            let cleanRate = Double(lastClean.received - firstClean.received) / max(lastClean.time - firstClean.time, 0.001)
            let lostWhileClean = lastClean.lost - firstClean.lost
            let lostWhileLossy = lastLossy.lost - firstLossy.lost
            print("faults: caller received \(String(format: "%.1f", lossyRate)) pkt/s under loss, \(String(format: "%.1f", cleanRate)) pkt/s after removal (\(lostWhileLossy) lost in \(String(format: "%.1f", lastLossy.time - firstLossy.time)) s before, \(lostWhileClean) lost in \(String(format: "%.1f", lastClean.time - firstClean.time)) s)")
            // 20 ms packets: 50 per second when nothing is lost.
            #expect(cleanRate >= 47, "recovered to the full rate")
            #expect(lostWhileClean <= 1, "no loss once the rule is gone")
        }
        let audio = try WAVAudio(parsing: [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/callee.wav"))))
        #expect(Goertzel.dominantFrequency(in: audio.channel(0), sampleRate: Double(audio.format.sampleRate), candidates: [440, 880]) == 440)
    }
}
