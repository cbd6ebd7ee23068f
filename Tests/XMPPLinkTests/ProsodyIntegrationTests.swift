import DNS
import Foundation
import Synchronization
import TestServers
import Testing
import XMLStream
import XMPPCore
@testable import XMPPLink

let echoNamespace = "urn:example:echo"

@Suite(.serialized, .timeLimit(.minutes(1))) struct ProsodyIntegrationTests {
    @Test func scramLoginOverStartTLS() async throws {
        let server = try ProsodyServer.get()
        let client = try await server.connect("alice", resource: "desk")
        let jid = try #require(await client.boundJID)
        #expect(jid == (try JID("alice@localhost/desk")))
        #expect(await client.streamManagementResumable)
        #expect(try await client.ping() < .seconds(2))
        await client.close()
        #expect(await client.failure == nil)
    }

    /// XEP-0368 direct TLS: TLS from the first byte on Prosody's direct-TLS port, no STARTTLS; the server's
    /// certificate is still checked, and the stream works both ways (IQ to a STARTTLS client and back).
    @Test func directTLSLogin() async throws {
        let server = try ProsodyServer.get()
        var configuration = try server.configuration("alice", resource: "direct")
        configuration.port = server.directTLSPort
        configuration.tls = .direct
        let traced = Mutex<[String]>([])
        configuration.trace = { direction, text in if direction == .sent { traced.withLock { $0.append(text) } } }
        let alice = XMPPClient(configuration)
        let jid = try await alice.connect()
        #expect(jid == (try JID("alice@localhost/direct")))
        let trace = traced.withLock { $0 }
        #expect(!trace.contains { $0.contains("starttls") }, "no STARTTLS on a direct-TLS stream")
        #expect(trace.first?.contains("from='alice@localhost'") == true, "the header is sent encrypted, so it names us (RFC 6120 §4.7.1)")
        let bob = try await server.connect("bob", resource: "direct-peer")
        await bob.register(iqHandler: echoNamespace) { _ in XMLElement("echo", namespace: echoNamespace, text: "over direct TLS") }
        let bobJID = try #require(await bob.boundJID)
        let result = try await alice.sendIQ(IQ(type: .get, id: "d1", to: bobJID, payload: XMLElement("echo", namespace: echoNamespace)),
                                            timeout: .seconds(5))
        #expect(result.payload?.text == "over direct TLS")
        await alice.close()
        await bob.close()

        // The certificate is checked: without the test CA the handshake fails with a TLS error, not a hang.
        var untrusted = configuration
        untrusted.trust = .system
        untrusted.trace = nil
        await #expect { _ = try await XMPPClient(untrusted).connect() } throws: { error in
            if case XMPPLinkError.tlsFailed = error { true } else { false }
        }
        // Direct TLS to the STARTTLS port: a clear failure too.
        var wrongPort = configuration
        wrongPort.port = server.c2sPort
        wrongPort.trace = nil
        wrongPort.connectTimeout = .seconds(3)
        wrongPort.negotiationTimeout = .seconds(5)
        await #expect(throws: XMPPLinkError.self) { _ = try await XMPPClient(wrongPort).connect() }
    }

    /// RFC 6120 §3.2.1 with XEP-0368: the SRV records of both kinds are tried in priority order until one
    /// connects — here a dead address first, then Prosody's direct-TLS port (an `_xmpps-client` record), with a
    /// STARTTLS record behind it that is not needed.
    @Test func srvRecordsAreTriedInOrderUntilOneConnects() async throws {
        let server = try ProsodyServer.get()
        let dead = try #require(freePort())
        var configuration = try server.configuration("alice", resource: "srv")
        configuration.host = nil
        configuration.port = nil
        let asked = Mutex<[String]>([])
        configuration.srvLookup = { name in
            asked.withLock { $0.append(name) }
            if name.hasPrefix("_xmpps-client.") {
                return [DNSSRV.Record(priority: 5, weight: 0, port: server.directTLSPort, target: "127.0.0.1.")]
            }
            return [DNSSRV.Record(priority: 0, weight: 0, port: dead, target: "127.0.0.1."),
                    DNSSRV.Record(priority: 10, weight: 0, port: server.c2sPort, target: "127.0.0.1.")]
        }
        let traced = Mutex<[String]>([])
        configuration.trace = { direction, text in if direction == .sent { traced.withLock { $0.append(text) } } }
        let client = XMPPClient(configuration)
        #expect(try await client.connect() == (try JID("alice@localhost/srv")))
        #expect(Set(asked.withLock { $0 }) == ["_xmpp-client._tcp.localhost", "_xmpps-client._tcp.localhost"])
        #expect(!traced.withLock { $0 }.contains { $0.contains("starttls") }, "the direct-TLS record won")
        await client.close()
    }

    @Test func srvOrderMergesBothKinds() {
        let starttls = [DNSSRV.Record(priority: 10, weight: 5, port: 5222, target: "b.example."),
                        DNSSRV.Record(priority: 10, weight: 50, port: 5222, target: "a.example."),
                        DNSSRV.Record(priority: 20, weight: 0, port: 5222, target: ".")]
        let direct = [DNSSRV.Record(priority: 10, weight: 0, port: 5223, target: "tls.example."),
                      DNSSRV.Record(priority: 30, weight: 0, port: 443, target: "alpn.example.")]
        let order = XMPPClientConfiguration.endpoints(starttls: starttls, direct: direct)
        #expect(order == [
            .init(host: "tls.example", port: 5223, directTLS: true),     // equal priority: direct TLS first (XEP-0368)
            .init(host: "a.example", port: 5222, directTLS: false),      // then the higher weight
            .init(host: "b.example", port: 5222, directTLS: false),
            .init(host: "alpn.example", port: 443, directTLS: true),     // "." (service not offered) is left out
        ])
    }

    @Test func iqRoundTripBetweenTwoClients() async throws {
        let server = try ProsodyServer.get()
        let alice = try await server.connect("alice")
        let bob = try await server.connect("bob")
        await bob.register(iqHandler: echoNamespace) { iq in
            XMLElement("echo", namespace: echoNamespace, children: [], text: "\(iq.payload?.text ?? "") back")
        }
        let bobJID = try #require(await bob.boundJID)
        let result = try await alice.sendIQ(IQ(type: .get, id: "e1", to: bobJID, payload: XMLElement("echo", namespace: echoNamespace, text: "hello")),
                                            timeout: .seconds(5))
        #expect(result.type == .result)
        #expect(result.payload?.text == "hello back")

        // RFC 6120 §8.4: a namespace nobody registered is answered service-unavailable.
        await #expect(throws: XMPPLinkError.stanzaError(StanzaError(.serviceUnavailable))) {
            try await alice.sendIQ(IQ(type: .get, id: "e2", to: bobJID, payload: XMLElement("query", namespace: "urn:example:nothing")),
                                   timeout: .seconds(5))
        }
        // A handler's StanzaError reaches the requester.
        await bob.register(iqHandler: "urn:example:refuse") { _ in throw StanzaError(.notAcceptable, text: "no") }
        await #expect(throws: XMPPLinkError.stanzaError(StanzaError(.notAcceptable, text: "no"))) {
            try await alice.sendIQ(IQ(type: .set, id: "e3", to: bobJID, payload: XMLElement("x", namespace: "urn:example:refuse")),
                                   timeout: .seconds(5))
        }
        await alice.close()
        await bob.close()
    }

    @Test func keepAlivePingsTheServer() async throws {
        let server = try ProsodyServer.get()
        var configuration = try server.configuration("alice", resource: "ka")
        configuration.keepAliveInterval = .milliseconds(100)
        let alice = XMPPClient(configuration)
        try await alice.connect()
        // Poll rather than sleep a fixed time: the machine may be busy with other builds.
        let deadline = ContinuousClock.now + .seconds(5)
        while await alice.core.keepAlivePings < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(await alice.core.keepAlivePings >= 3)
        #expect(await alice.failure == nil)
        #expect(try await alice.ping() < .seconds(2))
        await alice.close()
    }

    @Test func iqTimeout() async throws {
        let server = try ProsodyServer.get()
        let alice = try await server.connect("alice")
        let bob = try await server.connect("bob")
        await bob.register(iqHandler: echoNamespace) { _ in
            try await Task.sleep(for: .seconds(3))
            return nil
        }
        let bobJID = try #require(await bob.boundJID)
        let start = ContinuousClock.now
        await #expect(throws: XMPPLinkError.timeout) {
            try await alice.sendIQ(IQ(type: .get, id: "slow", to: bobJID, payload: XMLElement("echo", namespace: echoNamespace)),
                                   timeout: .milliseconds(300))
        }
        #expect(ContinuousClock.now - start < .seconds(2))
        await alice.close()
        await bob.close()
    }

    @Test func discoOfPeerAdvertisesRegisteredFeatures() async throws {
        let server = try ProsodyServer.get()
        let alice = try await server.connect("alice")
        let bob = try await server.connect("bob")
        await bob.addFeatures([NS.jingle, NS.jingleRTPAudio, NS.jingleICEUDP])
        let info = try await alice.discoInfo(of: try #require(await bob.boundJID))
        #expect(info.features == [NS.discoInfo, NS.ping, NS.caps, NS.jingle, NS.jingleRTPAudio, NS.jingleICEUDP])
        #expect(info.identities.first?.category == "client")
        #expect(info.capsVerificationString == (await bob.discoInfo).capsVerificationString)
        // The server's own disco shows the modules we rely on.
        let serverInfo = try await alice.discoInfo(of: try JID("localhost"))
        #expect(serverInfo.features.contains(NS.ping))
        #expect(serverInfo.features.contains(NS.externalServices))
        await alice.close()
        await bob.close()
    }

    @Test func externalServicesWithCredentials() async throws {
        let server = try ProsodyServer.get()
        let alice = try await server.connect("alice")
        let services = try await alice.externalServices()
        let stun = try #require(services.first { $0.type == "stun" })
        #expect(stun.host == "127.0.0.1" && stun.port == server.turnPort)
        let turn = try #require(services.first { $0.type == "turn" })
        #expect(turn.port == server.turnPort)
        // TURN REST credentials (draft-uberti-behave-turn-rest): username is "expiry:..." and a password.
        #expect(turn.username?.isEmpty == false && turn.password?.isEmpty == false)
        await alice.close()
    }

    /// XEP-0198 §5: an IQ sent just before the TCP connection dies is answered after resumption.
    @Test func resumptionAfterForcedDrop() async throws {
        let server = try ProsodyServer.get()
        let alice = try await server.connect("alice")
        let bob = try await server.connect("bob")
        await bob.register(iqHandler: echoNamespace) { iq in
            try await Task.sleep(for: .milliseconds(400))
            return XMLElement("echo", namespace: echoNamespace, text: "late " + (iq.payload?.text ?? ""))
        }
        let bobJID = try #require(await bob.boundJID)
        let aliceJID = try #require(await alice.boundJID)
        async let answer = alice.sendIQ(IQ(type: .get, id: "before-drop", to: bobJID,
                                           payload: XMLElement("echo", namespace: echoNamespace, text: "ping")), timeout: .seconds(10))
        try await Task.sleep(for: .milliseconds(50))
        await alice.simulateConnectionLoss()
        let result = try await answer
        #expect(result.payload?.text == "late ping")
        #expect(await alice.resumptionCount == 1)
        #expect(await alice.boundJID == aliceJID)
        // The resumed stream still carries new traffic.
        #expect(try await alice.ping() < .seconds(2))
        await alice.close()
        await bob.close()
    }

    @Test func componentHandshakeAndRoutedIQ() async throws {
        let server = try ProsodyServer.get()
        let component = XMPPComponent(.init(domain: try JID("jingle.localhost"), secret: "compsecret",
                                            host: "127.0.0.1", port: server.componentPort))
        try await component.connect()
        await component.register(iqHandler: echoNamespace) { iq in
            XMLElement("echo", namespace: echoNamespace, text: "component saw \(iq.from?.bare.description ?? "?")")
        }
        await component.addFeatures([NS.jingle])
        let alice = try await server.connect("alice")
        let result = try await alice.sendIQ(IQ(type: .get, id: "c1", to: try JID("jingle.localhost"),
                                               payload: XMLElement("echo", namespace: echoNamespace)), timeout: .seconds(5))
        #expect(result.payload?.text == "component saw alice@localhost")
        let info = try await alice.discoInfo(of: try JID("jingle.localhost"))
        #expect(info.features.contains(NS.jingle))
        // And the other way: the component asks alice.
        let ping = try await component.sendIQ(IQ(type: .get, id: "c2", to: await alice.boundJID,
                                                 payload: XMLElement("ping", namespace: NS.ping)), timeout: .seconds(5))
        #expect(ping.type == .result)
        await alice.close()
        await component.close()
    }

    @Test func messagesArriveOnTheStanzaStream() async throws {
        let server = try ProsodyServer.get()
        let alice = try await server.connect("alice")
        let bob = try await server.connect("bob")
        let bobJID = try #require(await bob.boundJID)
        try await alice.send(Message(type: .chat, id: "m1", to: bobJID, body: "hello bob"))
        var received: Message?
        for await element in bob.stanzas where element.name == "message" {
            received = try Message(element: element)
            break
        }
        #expect(received?.body == "hello bob")
        await alice.close()
        await bob.close()
    }
}

@Suite(.timeLimit(.minutes(1))) struct PeerLinkTests {
    /// alice@laptop connected to bob@desktop over the serverless peer link on loopback.
    struct Pair {
        let alice: JID
        let listener: XMPPPeerListener
        let initiator: XMPPPeerLink, responder: XMPPPeerLink

        func close() async {
            await initiator.close()
            await responder.close()
            listener.close()
        }
    }

    static func connectedPair() async throws -> Pair {
        let alice = try JID("alice@laptop"), bob = try JID("bob@desktop")
        let listener = try await XMPPPeerLink.listen(local: bob)
        async let accepted = listener.accept()
        let initiator = try await XMPPPeerLink.connect(local: alice, remote: bob, host: "127.0.0.1", port: listener.port)
        return Pair(alice: alice, listener: listener, initiator: initiator, responder: try await accepted)
    }

    @Test func serverlessLinkBetweenTwoEngines() async throws {
        let link = try await Self.connectedPair()
        let (alice, initiator, responder) = (link.alice, link.initiator, link.responder)
        #expect(await responder.remoteJID == alice)
        await responder.register(iqHandler: echoNamespace) { iq in
            XMLElement("echo", namespace: echoNamespace, text: "from \(iq.from?.description ?? "?")")
        }
        let result = try await initiator.sendIQ(IQ(type: .get, id: "p1", payload: XMLElement("echo", namespace: echoNamespace)),
                                                timeout: .seconds(5))
        #expect(result.payload?.text == "from alice@laptop")
        await initiator.addFeatures([NS.jingle])
        let info = try await responder.discoInfo(of: alice)
        #expect(info.features.contains(NS.jingle))
        await link.close()
    }
}

extension PeerLinkTests {
    /// A serverless peer may send its first request (a session-initiate) right after the stream header, before
    /// the accepting application registered its handler: the request waits for the handler instead of being
    /// refused; one for a namespace nobody registers is still refused with service-unavailable after the grace.
    @Test func requestBeforeTheHandlerIsRegisteredWaitsForIt() async throws {
        let link = try await Self.connectedPair()
        let (initiator, responder) = (link.initiator, link.responder)
        async let early = initiator.sendIQ(IQ(type: .set, id: "early", payload: XMLElement("echo", namespace: echoNamespace, text: "1")),
                                           timeout: .seconds(5))
        try await Task.sleep(for: .milliseconds(300))
        await responder.register(iqHandler: echoNamespace) { iq in
            XMLElement("echo", namespace: echoNamespace, text: "got \(iq.payload?.text ?? "")")
        }
        let answer = try await early
        #expect(answer.type == .result && answer.payload?.text == "got 1")
        let started = ContinuousClock.now
        await #expect(throws: XMPPLinkError.stanzaError(StanzaError(.serviceUnavailable))) {
            try await initiator.sendIQ(IQ(type: .get, id: "nobody", payload: XMLElement("query", namespace: "urn:example:nothing")),
                                       timeout: .seconds(5))
        }
        #expect(ContinuousClock.now - started < .seconds(3), "refused once the grace is over")
        await link.close()
    }
}

actor Recorder {
    var values: [String] = []
    func record(_ value: String) { values.append(value) }
}

extension PeerLinkTests {
    /// Requests reach handlers in arrival order even when an earlier one is slower (XEP-0166 relies on it).
    @Test func incomingRequestsAreHandledInOrder() async throws {
        let link = try await Self.connectedPair()
        let (initiator, responder) = (link.initiator, link.responder)
        let recorder = Recorder()
        await responder.register(iqHandler: echoNamespace) { iq in
            let n = Int(iq.payload?.text ?? "") ?? 0
            try await Task.sleep(for: .milliseconds(20 * (5 - n)))
            await recorder.record(String(n))
            return nil
        }
        for n in 0..<5 {
            try await initiator.send(IQ(type: .set, id: "o\(n)", payload: XMLElement("echo", namespace: echoNamespace, text: "\(n)")).element)
        }
        // The last answer proves all five were handled.
        _ = try await initiator.sendIQ(IQ(type: .set, id: "o5", payload: XMLElement("echo", namespace: echoNamespace, text: "5")),
                                       timeout: .seconds(5))
        #expect(await recorder.values == ["0", "1", "2", "3", "4", "5"])
        await link.close()
    }
}

extension ProsodyIntegrationTests {
    /// A result from someone other than the addressee, carrying the right id, does not complete the request.
    @Test func spoofedResponseIsIgnored() async throws {
        let server = try ProsodyServer.get()
        let alice = try await server.connect("alice")
        let bob = try await server.connect("bob")
        let carol = try await server.connect("bob", resource: "carol")
        let aliceJID = try #require(await alice.boundJID)
        await bob.register(iqHandler: echoNamespace) { iq in
            // Before bob answers, another resource forges a result with the same id.
            try await carol.send(IQ(type: .result, id: iq.id ?? "", to: aliceJID, payload: XMLElement("echo", namespace: echoNamespace, text: "forged")))
            try await Task.sleep(for: .milliseconds(150))
            return XMLElement("echo", namespace: echoNamespace, text: "genuine")
        }
        let result = try await alice.sendIQ(IQ(type: .get, id: "spoof-1", to: await bob.boundJID,
                                               payload: XMLElement("echo", namespace: echoNamespace)), timeout: .seconds(5))
        #expect(result.payload?.text == "genuine")
        await alice.close()
        await bob.close()
        await carol.close()
    }
}

extension PeerLinkTests {
    @Test func listenerAcceptsSeveralPeers() async throws {
        let bob = try JID("bob@desktop")
        let listener = try await XMPPPeerLink.listen(local: bob)
        for name in ["alice", "carol"] {
            async let accepted = listener.accept()
            let initiator = try await XMPPPeerLink.connect(local: try JID("\(name)@laptop"), remote: bob, host: "127.0.0.1", port: listener.port)
            let responder = try await accepted
            #expect(await responder.remoteJID == (try JID("\(name)@laptop")))
            await initiator.close()
            await responder.close()
        }
        listener.close()
    }
}
