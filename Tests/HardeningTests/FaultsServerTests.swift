import Foundation
import Testing
import TestServers

/// The XMPP server dies in the middle of a call: a private Prosody (not the shared one) is killed with
/// SIGKILL and started again on the same ports. Media is peer to peer (ICE) and must not notice; the
/// clients' links come back (XEP-0198 resumption, or a fresh bind of the same resource once the restarted
/// server has forgotten the session), so the session-terminate at the end still reaches the peer.
@Suite("Faults: server restart", .serialized)
struct FaultsServerTests {
    @Test("Prosody killed and restarted during a call: media keeps flowing, session-terminate still reaches the peer",
          .timeLimit(.minutes(1)))
    func prosodyKilledMidCall() throws {
        var server = try ProsodyServer.startPrivate(tag: "faults")
        defer { server.kill(); try? FileManager.default.removeItem(atPath: server.directory) }
        let dir = try Faults.workDirectory("restart")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("alicepw\n".utf8).write(to: URL(fileURLWithPath: dir + "/alice.pw"))
        try Data("bobpw\n".utf8).write(to: URL(fileURLWithPath: dir + "/bob.pw"))
        let account = ["--server", "127.0.0.1:\(server.c2sPort)", "--ca-file", server.caFile, "--bind", "127.0.0.1", "--wait", "15s", "--json"]
        let callee = try RunningJingle(["answer", "--auto", "--jid", "bob@localhost/answerer", "--password-file", dir + "/bob.pw",
                                        "--audio", "tone:880", "--duration", "30s"] + account, in: dir, tag: "callee")
        #expect(callee.waitFor("waiting for a call", timeout: 10), "callee: \(callee.stderr)")
        let caller = try RunningJingle(["call", "bob@localhost/answerer", "--jid", "alice@localhost/caller", "--password-file", dir + "/alice.pw",
                                        "--audio", "tone:440", "--duration", "8s"] + account, in: dir, tag: "caller")
        #expect(caller.waitFor("media flowing", timeout: 15), "caller: \(caller.stderr)")

        // The crash: one second into the media, for about a second.
        Thread.sleep(forTimeInterval: 1)
        let killedAt = Date()
        server.kill()
        let beforeOutage = Faults.stats(callee.stdout).last?.received ?? 0
        Thread.sleep(forTimeInterval: 1)
        server = try server.restarted()
        let restartedAt = Date()
        Thread.sleep(forTimeInterval: 1)
        let afterOutage = Faults.stats(callee.stdout).last?.received ?? 0
        print("faults: Prosody down for \(String(format: "%.2f", restartedAt.timeIntervalSince(killedAt))) s; callee received \(afterOutage - beforeOutage) packets across the outage")
        #expect(afterOutage - beforeOutage >= 75, "media went on while the server was down (≈ 100 packets in 2 s)")

        let callerStatus = caller.wait(timeout: 20)
        let calleeStatus = callee.wait(timeout: 10)
        #expect(callerStatus == 0, "caller: \(caller.stderr)")
        // The callee ends because the caller's session-terminate (sent through the restarted server) arrived.
        #expect(calleeStatus == 0, "callee: \(callee.stderr)")
        #expect(callee.stderr.contains("call ended by the peer: success"), "callee: \(callee.stderr)")
        // Both clients bound their resources again on the restarted server (it had forgotten their XEP-0198
        // sessions, so resumption failed and they bound afresh, as §5 allows).
        let log = (try? String(contentsOfFile: server.directory + "/prosody.log", encoding: .utf8)) ?? ""
        for jid in ["alice@localhost/caller", "bob@localhost/answerer"] {
            #expect(log.components(separatedBy: "Resource bound: \(jid)").count - 1 == 2, "\(jid) bound once per server run")
        }
        let sent = Faults.summary(caller.stdout)?["packetsSent"] as? Int ?? 0
        let received = Faults.summary(callee.stdout)?["packetsReceived"] as? Int ?? 0
        print("faults: across the server restart the callee kept \(received)/\(sent) packets")
        #expect(sent >= 300 && Double(received) >= Double(sent) * 0.95)
    }

    @Test("jingle receive outlives a server outage longer than stream resumption and still gets the next file",
          .timeLimit(.minutes(1)))
    func receiverOutlivesALongOutage() throws {
        var server = try ProsodyServer.startPrivate(tag: "outage")
        defer { server.kill(); try? FileManager.default.removeItem(atPath: server.directory) }
        let dir = try Faults.workDirectory("outage")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("alicepw\n".utf8).write(to: URL(fileURLWithPath: dir + "/alice.pw"))
        try Data("bobpw\n".utf8).write(to: URL(fileURLWithPath: dir + "/bob.pw"))
        try writeRandomFile(dir + "/after.bin", size: 200_000)
        let account = ["--server", "127.0.0.1:\(server.c2sPort)", "--ca-file", server.caFile, "--bind", "127.0.0.1"]
        let receiver = try RunningJingle(["receive", "--jid", "bob@localhost/inbox", "--password-file", dir + "/bob.pw", "--dir", dir + "/in",
                                          "--yes"] + account, in: dir, tag: "receiver")
        #expect(receiver.waitFor("waiting for offers", timeout: 10), "receiver: \(receiver.stderr)")

        // Down for 11 s: past the 10 s in which XEP-0198 resumption is tried; the receiver must reconnect.
        server.kill()
        Thread.sleep(forTimeInterval: 11)
        #expect(receiver.process.isRunning, "the receiver waits through the outage: \(receiver.stderr)")
        server = try server.restarted()
        // The log spans both server runs: the second binding is the receiver's new login.
        func bindings() -> Int {
            ((try? String(contentsOfFile: server.directory + "/prosody.log", encoding: .utf8)) ?? "")
                .components(separatedBy: "Resource bound: bob@localhost/inbox").count - 1
        }
        let deadline = Date().addingTimeInterval(25)
        while Date() < deadline, bindings() < 2 { Thread.sleep(forTimeInterval: 0.2) }
        #expect(bindings() == 2, "the receiver logged in again: \(receiver.stderr)")

        let sender = try RunningJingle(["send", dir + "/after.bin", "--to", "bob@localhost/inbox", "--jid", "alice@localhost/out",
                                        "--password-file", dir + "/alice.pw"] + account, in: dir, tag: "sender")
        #expect(sender.wait(timeout: 30) == 0, "sender: \(sender.stderr)\nreceiver: \(receiver.stderr)")
        #expect(FileManager.default.contentsEqual(atPath: dir + "/after.bin", andPath: dir + "/in/after.bin"), "receiver: \(receiver.stderr)")
        kill(receiver.process.processIdentifier, SIGINT)
        _ = receiver.wait(timeout: 10)
    }
}
