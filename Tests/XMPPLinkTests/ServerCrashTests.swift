import Foundation
import Testing
import TestServers
import XMPPCore
import XMPPLink

/// The server process dies (SIGKILL: the TCP connections close without a TLS close_notify) and comes back
/// on the same port without its in-memory XEP-0198 sessions.
@Suite("XMPPClient: server killed and restarted", .serialized)
struct ServerCrashTests {
    @Test("the client reconnects, resumption fails, it binds the same resource again and carries IQs", .timeLimit(.minutes(1)))
    func killedAndRestarted() async throws {
        var server = try ProsodyServer.startPrivate(tag: "crash")
        defer { server.kill(); try? FileManager.default.removeItem(atPath: server.directory) }
        let alice = try await server.connect("alice", resource: "phone")
        let bob = try await server.connect("bob", resource: "desk")
        #expect(await alice.streamManagementResumable)
        #expect(try await alice.discoInfo(of: JID("bob@localhost/desk")).identities.contains { $0.category == "client" })

        server.kill()
        try await Task.sleep(for: .milliseconds(300))
        server = try server.restarted()
        // Both come back within the resumption window (10 s by default).
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if await alice.resumptionCount >= 1, await bob.resumptionCount >= 1 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(await alice.resumptionCount == 1)
        #expect(await bob.resumptionCount == 1)
        #expect(await alice.boundJID == (try JID("alice@localhost/phone")))
        // An IQ round trip between the two full JIDs goes through the restarted server.
        let info = try await alice.discoInfo(of: JID("bob@localhost/desk"))
        #expect(info.identities.contains { $0.category == "client" })
        await alice.close()
        await bob.close()
    }
}
