import Foundation
import TestServers
import Testing
import XMLStream
import XMPPCore
@testable import XMPPLink

@Suite(.timeLimit(.minutes(1))) struct FailureTests {
    @Test func wrongPassword() async throws {
        let server = try ProsodyServer.get()
        var configuration = try server.configuration("alice")
        configuration.password = "not-the-password"
        do {
            try await XMPPClient(configuration).connect()
            Issue.record("logged in with a wrong password")
        } catch let error as XMPPLinkError {
            guard case .saslFailed(let condition, _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(condition == "not-authorized")
        }
    }

    @Test func serverNotListeningFailsFast() async throws {
        let port = try #require(freePort())
        let configuration = XMPPClientConfiguration(jid: try JID("alice@localhost"), password: "x", host: "127.0.0.1", port: port)
        let start = ContinuousClock.now
        do {
            try await XMPPClient(configuration).connect()
            Issue.record("connected to a closed port")
        } catch let error as XMPPLinkError {
            guard case .connectionFailed(let host, let failedPort, _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(host == "127.0.0.1" && failedPort == port)
        }
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test func untrustedCertificate() async throws {
        let server = try ProsodyServer.get()
        var configuration = try server.configuration("alice")
        configuration.trust = .system   // the self-signed test certificate is in no system store
        do {
            try await XMPPClient(configuration).connect()
            Issue.record("accepted an untrusted certificate")
        } catch let error as XMPPLinkError {
            guard case .tlsFailed = error else { Issue.record("unexpected \(error)"); return }
        }
    }

    @Test func insecureTrustAcceptsTestServer() async throws {
        let server = try ProsodyServer.get()
        var configuration = try server.configuration("bob")
        configuration.trust = .insecure
        let client = XMPPClient(configuration)
        #expect(try await client.connect().bare == (try JID("bob@localhost")))
        await client.close()
    }

    @Test func serverSideStreamError() async throws {
        let server = try ProsodyServer.get()
        // A domain the server does not host: RFC 6120 §4.9.3.6 host-unknown.
        var configuration = XMPPClientConfiguration(jid: try JID("alice@nowhere.example"), password: "x",
                                                    host: "127.0.0.1", port: server.c2sPort)
        configuration.trust = .caFile(server.caFile)
        do {
            try await XMPPClient(configuration).connect()
            Issue.record("connected to an unknown host")
        } catch let error as XMPPLinkError {
            guard case .streamError(let condition, _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(condition == "host-unknown")
        }
    }

    @Test func oversizedStanzaFromServer() async throws {
        let server = try ProsodyServer.get()
        var small = try server.configuration("alice", resource: "small")
        small.limits = XMLStreamLimits(maxStanzaBytes: 4096)
        let alice = XMPPClient(small)
        let aliceJID = try await alice.connect()
        let bob = try await server.connect("bob")
        try await bob.send(Message(type: .chat, to: aliceJID, body: String(repeating: "x", count: 20_000)))
        // The stanza stream ends when the link fails; the failure says why.
        for await _ in alice.stanzas {}
        #expect(await alice.failure == .xml(.stanzaTooLarge(limit: 4096)))
        await #expect(throws: XMPPLinkError.notConnected) { try await alice.ping() }
        await bob.close()
    }

    @Test func componentWrongSecret() async throws {
        let server = try ProsodyServer.get()
        let component = XMPPComponent(.init(domain: try JID("jingle.localhost"), secret: "wrong",
                                            host: "127.0.0.1", port: server.componentPort))
        await #expect(throws: XMPPLinkError.handshakeRefused) { try await component.connect() }
    }
}

extension FailureTests {
    /// A server that accepts TCP and then says nothing must not hang the client.
    @Test func silentServerTimesOut() async throws {
        let silent = try await XMPPTransportListener.bind(host: "127.0.0.1", port: 0)
        var configuration = XMPPClientConfiguration(jid: try JID("alice@localhost"), password: "x", host: "127.0.0.1", port: silent.port)
        configuration.negotiationTimeout = .milliseconds(300)
        let start = ContinuousClock.now
        await #expect(throws: XMPPLinkError.timeout) { try await XMPPClient(configuration).connect() }
        #expect(ContinuousClock.now - start < .seconds(2))
        silent.close()
    }
}
