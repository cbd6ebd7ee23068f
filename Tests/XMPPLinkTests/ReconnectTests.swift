import Foundation
import Synchronization
import Testing
import TestServers
import XMLStream
import XMPPCore
@testable import XMPPLink
#if canImport(Glibc)
import Glibc
#endif

/// `reconnect`: a long-running client (the gateway) comes back with a new session after the server was gone
/// for longer than XEP-0198 resumption allows, and does not fight over a resource another client took.
@Suite("XMPPClient: reconnect after the link is lost for good", .serialized)
struct ReconnectTests {
    /// The server is down for longer than the resume window (killed, as a crash; or stopped with SIGTERM, when
    /// Prosody says `system-shutdown`). Meanwhile sends fail at once; once the server is back the client binds a
    /// new session by itself and carries IQs again.
    @Test(.timeLimit(.minutes(1)), arguments: [SIGKILL, SIGTERM])
    func serverGoneLongerThanTheResumeWindow(signal: Int32) async throws {
        var server = try ProsodyServer.startPrivate(tag: "reconnect")
        defer { server.kill(); try? FileManager.default.removeItem(atPath: server.directory) }
        var configuration = try server.configuration("alice", resource: "gateway")
        configuration.reconnect = true
        configuration.resumeWindow = .milliseconds(500)
        // Prosody 0.12 drops XEP-0198 sessions silently when it stops; without them it says system-shutdown.
        configuration.streamManagement = signal == SIGKILL
        let received = Mutex<String>("")
        configuration.trace = { direction, text in if direction == .received { received.withLock { $0 += text } } }
        let alice = XMPPClient(configuration)
        try await alice.connect()

        _ = Glibc.kill(server.pid, signal)
        let exited = await eventually(.seconds(15)) { Glibc.kill(server.pid, 0) != 0 }
        let log = (try? String(contentsOfFile: server.directory + "/prosody.log", encoding: .utf8)) ?? ""
        try #require(exited, "Prosody did not exit: \(log.suffix(3000))")
        // Past the resume window: the link is offline; a stanza fails at once rather than waiting.
        try await Task.sleep(for: .seconds(1))
        let ping = IQ(type: .get, id: "offline", to: try JID("localhost"), payload: XMLElement("ping", namespace: NS.ping))
        await #expect(throws: XMPPLinkError.notConnected) { _ = try await alice.sendIQ(ping, timeout: .seconds(5)) }
        #expect(await alice.reconnectionCount == 0)
        if signal == SIGTERM {
            #expect(received.withLock { $0.contains("system-shutdown") }, "a stopping Prosody says system-shutdown (RFC 6120 §4.9.3.20): \(received.withLock { String($0.suffix(600)) })")
        }

        server = try server.restarted()
        let back = await eventually(.seconds(20)) { await alice.reconnectionCount == 1 }
        let failure = await alice.failure
        #expect(back, "reconnected: \(String(describing: failure))")
        #expect(failure == nil)
        #expect(await alice.boundJID == (try JID("alice@localhost/gateway")))
        let bob = try await server.connect("bob", resource: "desk")
        let info = try await bob.discoInfo(of: JID("alice@localhost/gateway"))
        #expect(info.features.contains(NS.ping), "bob reaches alice's new session")
        #expect(try await alice.ping() < .seconds(2))
        await bob.close()
        await alice.close()
    }

    /// The server freezes (SIGSTOP): the TCP connection stays open, nothing answers, and TCP alone would notice
    /// after many minutes. An unanswered keep-alive ping drops the connection; once the server thaws the link is
    /// back (resumed or new). Without the drop the old connection would simply carry on and nothing would count.
    @Test(.timeLimit(.minutes(1)), arguments: ["client", "component"])
    func silentlyDeadConnectionIsNoticed(kind: String) async throws {
        let server = try ProsodyServer.startPrivate(tag: "frozen")
        defer { _ = Glibc.kill(server.pid, SIGCONT); server.kill(); try? FileManager.default.removeItem(atPath: server.directory) }
        let link: XMPPLinkSession
        if kind == "client" {
            var configuration = try server.configuration("alice", resource: "frozen")
            configuration.reconnect = true
            configuration.keepAliveInterval = .seconds(1)
            configuration.resumeWindow = .seconds(2)
            configuration.negotiationTimeout = .seconds(1)
            let client = XMPPClient(configuration)
            try await client.connect()
            link = client
        } else {
            var configuration = XMPPComponent.Configuration(domain: try JID("jingle.localhost"), secret: "compsecret", host: "127.0.0.1",
                                                            port: server.componentPort)
            configuration.reconnect = true
            configuration.keepAliveInterval = .seconds(1)
            let component = XMPPComponent(configuration)
            try await component.connect()
            link = component
        }
        _ = Glibc.kill(server.pid, SIGSTOP)
        try await Task.sleep(for: .seconds(4))
        _ = Glibc.kill(server.pid, SIGCONT)
        let back = await eventually(.seconds(25)) {
            let resumed = await (link as? XMPPClient)?.resumptionCount ?? 0
            return await link.reconnectionCount + resumed >= 1
        }
        let failure = await link.failure
        #expect(back, "the frozen connection was dropped and the link came back: \(String(describing: failure))")
        let ping = IQ(type: .get, id: "after", to: try JID("localhost"), payload: XMLElement("ping", namespace: NS.ping))
        let answer = try await link.sendIQ(ping, timeout: .seconds(5))
        #expect(answer.type == .result || answer.type == .error, "the server answers on the new connection")
        await link.close()
    }

    /// Another client takes the resource: the server ends our stream with `conflict`. Coming back would push
    /// that client out in turn, so the link stays over.
    @Test(.timeLimit(.minutes(1)))
    func conflictIsNotFoughtOver() async throws {
        let server = try ProsodyServer.get()
        var configuration = try server.configuration("alice", resource: "taken")
        configuration.reconnect = true
        let first = XMPPClient(configuration)
        try await first.connect()
        let second = try await server.connect("alice", resource: "taken")
        #expect(await eventually(.seconds(10)) { await first.failure != nil })
        let failure = await first.failure
        guard case .streamError(let condition, _)? = failure else {
            Issue.record("first link: \(String(describing: failure))")
            return
        }
        #expect(condition == "conflict")
        try await Task.sleep(for: .seconds(3))
        #expect(await first.reconnectionCount == 0)
        #expect(try await second.ping() < .seconds(2), "the client that took the resource keeps it")
        await second.close()
        await first.close()
    }
}
