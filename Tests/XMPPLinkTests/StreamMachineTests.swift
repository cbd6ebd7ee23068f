import Foundation
import Hashes
import Testing
import XMLStream
import XMPPCore
@testable import XMPPLink

/// Server turns from a fixture: "=== name" separates them, '#' lines are comments.
func serverTurns(_ fixture: String) throws -> [(name: String, text: String)] {
    let url = try #require(Bundle.module.url(forResource: fixture, withExtension: "txt", subdirectory: "Fixtures"))
    var turns: [(String, String)] = []
    for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("#") { continue }
        if line.hasPrefix("=== ") { turns.append((String(line.dropFirst(4)), "")); continue }
        guard !turns.isEmpty else { continue }
        turns[turns.count - 1].1 += line
    }
    return turns
}

/// Feeds text one byte at a time and collects every action.
func dripFeed(_ driver: XMPPStreamDriver, _ text: String) -> [XMPPStreamMachine.Action] {
    var actions: [XMPPStreamMachine.Action] = []
    for byte in text.utf8 { actions += driver.receive([byte]) }
    return actions
}

func sent(_ actions: [XMPPStreamMachine.Action]) -> String {
    actions.compactMap { if case .send(let text) = $0 { text } else { nil } }.joined()
}

func base64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }

@Suite struct StreamMachineTests {
    func clientDriver(tls: XMPPStreamMachine.TLSPolicy = .ifAvailable, resumption: XMPPStreamMachine.SMResumption? = nil,
                      limits: XMLStreamLimits = .default) throws -> XMPPStreamDriver {
        let options = XMPPStreamMachine.ClientOptions(jid: try JID("user@example.com"), password: "pencil", resource: "balcony",
                                                      tls: tls, resumption: resumption, clientNonce: "rOprNGfwEbeRWgbNEkqO")
        return XMPPStreamDriver(role: .client(options), limits: limits)
    }

    /// The whole RFC 6120 §9 session with RFC 7677 SCRAM-SHA-256, every server byte fed alone.
    @Test func clientSessionByteByByte() throws {
        let turns = try serverTurns("c2s-scram-sha256")
        let driver = try clientDriver()
        let opening = sent(driver.start())
        #expect(opening.hasPrefix("<?xml version='1.0'?><stream:stream xmlns='jabber:client'"))
        #expect(opening.contains("to='example.com'") && opening.contains("version='1.0'"))

        for (name, text) in turns {
            let actions = dripFeed(driver, text)
            let out = sent(actions)
            switch name {
            case "header":
                #expect(out == "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>\(base64("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"))</auth>")
            case "challenge":
                #expect(out == "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\(base64("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))</response>")
            case "success":
                #expect(out.hasPrefix("<stream:stream xmlns='jabber:client'"))
            case "restart":
                let bind = try XMLElement(parsing: out.replacingOccurrences(of: "<iq ", with: "<iq xmlns='jabber:client' "))
                #expect(bind.name == "iq" && bind[attribute: "type"] == "set" && bind[attribute: "id"] == "bind_1")
                #expect(bind.child("bind", namespace: NS.bind)?.child("resource", namespace: NS.bind)?.text == "balcony")
            case "bound":
                #expect(out == "<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
            case "enabled":
                let established = actions.compactMap { if case .established(let e) = $0 { e } else { nil } }
                #expect(established.count == 1)
                #expect(established.first?.jid == (try JID("user@example.com/balcony")))
                #expect(established.first?.streamManagement == true && established.first?.resumable == true)
                #expect(driver.machine.isEstablished)
            case "stanzas":
                let delivered = actions.compactMap { if case .deliver(let e) = $0 { e } else { nil } }
                #expect(delivered.map(\.name) == ["message", "iq"])
                #expect(try Message(element: delivered[0]).body == "Art thou not Romeo?")
                // XEP-0198 §4: two stanzas handled when the server asks.
                #expect(out == "<a xmlns='urn:xmpp:sm:3' h='2'/>")
            case "close":
                #expect(out == "</stream:stream>")
                #expect(actions.last == .closed)
            default:
                Issue.record("unknown turn \(name)")
            }
        }
        #expect(driver.machine.isClosed)
    }

    @Test func startTLSIsNegotiatedWhenRequired() throws {
        let driver = try clientDriver(tls: .required)
        _ = driver.start()
        let header = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x' version='1.0'>"
        let features = "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>"
        #expect(sent(dripFeed(driver, header + features)) == "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        #expect(dripFeed(driver, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>") == [.startTLS])
        let restart = try driver.perform { $0.tlsEstablished() }
        #expect(sent(restart).contains("from='user@example.com'"))
        // Over TLS, PLAIN is acceptable.
        let auth = sent(dripFeed(driver, header + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>"))
        #expect(auth == "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>\(base64("\0user\0pencil"))</auth>")
    }

    @Test func tlsRequiredButNotOffered() throws {
        let driver = try clientDriver(tls: .required)
        _ = driver.start()
        let actions = dripFeed(driver, "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x' version='1.0'><stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>")
        #expect(actions.last == .fail(.tlsUnavailable))
    }

    @Test func plainWithoutTLSIsRefused() throws {
        let driver = try clientDriver(tls: .disabled)
        _ = driver.start()
        let actions = dripFeed(driver, "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x' version='1.0'><stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>")
        #expect(actions.last == .fail(.noAcceptableMechanism(offered: ["PLAIN"])))
    }

    /// The strongest SCRAM offered wins, whatever the order of the server's list.
    @Test(arguments: [
        (["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-512", "SCRAM-SHA-256"], "SCRAM-SHA-512"),
        (["SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"], "SCRAM-SHA-256"),
        (["PLAIN", "SCRAM-SHA-1"], "SCRAM-SHA-1"),
        (["SCRAM-SHA-512-PLUS", "SCRAM-SHA-512", "X-OAUTH2"], "SCRAM-SHA-512"),
    ])
    func strongestSCRAMIsChosen(offered: [String], expected: String) throws {
        let driver = try clientDriver(tls: .disabled)
        _ = driver.start()
        let mechanisms = offered.map { "<mechanism>\($0)</mechanism>" }.joined()
        let out = sent(dripFeed(driver, "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x' version='1.0'><stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\(mechanisms)</mechanisms></stream:features>"))
        #expect(out == "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='\(expected)'>\(base64("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"))</auth>")
    }

    @Test func saslFailureCarriesConditionAndText() throws {
        let driver = try clientDriver()
        _ = driver.start()
        _ = dripFeed(driver, "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x' version='1.0'><stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>")
        let actions = dripFeed(driver, "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/><text xml:lang='en'>Unable to authorize you</text></failure>")
        #expect(actions.last == .fail(.saslFailed(condition: "not-authorized", text: "Unable to authorize you")))
    }

    @Test func wrongServerSignatureFailsLogin() throws {
        let turns = try serverTurns("c2s-scram-sha256")
        let driver = try clientDriver()
        _ = driver.start()
        _ = dripFeed(driver, turns[0].text)
        _ = dripFeed(driver, turns[1].text)
        let forged = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\(base64("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjRMOoA="))</success>"
        let actions = dripFeed(driver, forged)
        #expect(actions.last == .fail(.serverSignatureMismatch))
        #expect(sent(actions).contains("<abort"))
    }

    @Test(arguments: [
        ("<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>", "host-unknown", nil),
        ("<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced by new connection</text></stream:error>", "conflict", "Replaced by new connection"),
    ] as [(String, String, String?)])
    func streamErrorIsTyped(_ error: String, _ condition: String, _ text: String?) throws {
        let driver = try clientDriver()
        _ = driver.start()
        let actions = dripFeed(driver, "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x' version='1.0'>" + error)
        #expect(actions.last == .fail(.streamError(condition: condition, text: text)))
        #expect(sent(actions) == "</stream:stream>")
    }

    @Test func oversizedStanzaIsAPolicyViolation() throws {
        let driver = try clientDriver(limits: XMLStreamLimits(maxStanzaBytes: 512))
        _ = driver.start()
        let big = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x' version='1.0'><stream:features>" + String(repeating: "<x/>", count: 400)
        let actions = driver.receive(Array(big.utf8))
        #expect(actions.last == .fail(.xml(.stanzaTooLarge(limit: 512))))
        #expect(sent(actions).contains("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"))
    }

    @Test func wrongContentNamespaceIsRejected() throws {
        let driver = try clientDriver()
        _ = driver.start()
        let actions = dripFeed(driver, "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' id='x' version='1.0'>")
        #expect(sent(actions).contains("invalid-namespace"))
    }

    /// XEP-0198 §5: after a drop, the new stream resumes; the server got one of two stanzas, the other is resent.
    @Test func resumptionResendsUnacknowledged() throws {
        let first = XMLElement("message", namespace: NS.client, ["to": "a@example.com", "id": "1"])
        let second = XMLElement("message", namespace: NS.client, ["to": "a@example.com", "id": "2"])
        let previous = XMPPStreamMachine.SMResumption(id: "sm1", inboundHandled: 7, outboundAcked: 3, unacked: [first, second],
                                                      boundJID: try JID("user@example.com/balcony"))
        let driver = try clientDriver(resumption: previous)
        let turns = try serverTurns("c2s-scram-sha256")
        _ = driver.start()
        for turn in turns.prefix(3) { _ = dripFeed(driver, turn.text) }
        let resume = sent(dripFeed(driver, turns[3].text))
        #expect(resume == "<resume xmlns='urn:xmpp:sm:3' previd='sm1' h='7'/>")
        let actions = dripFeed(driver, "<resumed xmlns='urn:xmpp:sm:3' previd='sm1' h='4'/>")
        #expect(sent(actions) == "<message to=\"a@example.com\" id=\"2\"/><r xmlns='urn:xmpp:sm:3'/>")
        let established = actions.compactMap { if case .established(let e) = $0 { e } else { nil } }.first
        #expect(established?.resumed == true && established?.resent == 1)
        #expect(driver.machine.unackedCount == 1)
        _ = dripFeed(driver, "<a xmlns='urn:xmpp:sm:3' h='5'/>")
        #expect(driver.machine.unackedCount == 0)
        // Acknowledging more than was sent is a violation.
        #expect(dripFeed(driver, "<a xmlns='urn:xmpp:sm:3' h='9'/>").last == .fail(.protocolViolation("server acknowledged 4 stanzas, 0 were sent")))
    }

    @Test func failedResumptionBindsAfresh() throws {
        let lost = XMLElement("message", namespace: NS.client, ["id": "lost"])
        let previous = XMPPStreamMachine.SMResumption(id: "sm1", inboundHandled: 0, outboundAcked: 0, unacked: [lost],
                                                      boundJID: try JID("user@example.com/balcony"))
        let driver = try clientDriver(resumption: previous)
        let turns = try serverTurns("c2s-scram-sha256")
        _ = driver.start()
        for turn in turns.prefix(4) { _ = dripFeed(driver, turn.text) }
        let actions = dripFeed(driver, "<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>")
        #expect(actions.first == .resumeFailed(unacked: [lost]))
        #expect(sent(actions).contains("bind_1"))
    }

    @Test func componentHandshake() throws {
        let driver = XMPPStreamDriver(role: .component(domain: try JID("jingle.example.com"), secret: "compsecret"))
        let opening = sent(driver.start())
        #expect(opening.contains("xmlns='jabber:component:accept'") && opening.contains("to='jingle.example.com'"))
        let handshake = sent(dripFeed(driver, "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' from='jingle.example.com' id='3BF96D32'>"))
        // XEP-0114 §3: hex SHA-1 of stream id + secret.
        let expected = Digest.hash(.sha1, Array("3BF96D32compsecret".utf8)).hexString
        #expect(handshake == "<handshake>\(expected)</handshake>")
        let actions = dripFeed(driver, "<handshake/>")
        #expect(actions.count == 1)
        #expect(driver.machine.isEstablished)
        // Stanzas travel in jabber:component:accept and are handed over in jabber:client.
        let delivered = dripFeed(driver, "<iq type='get' id='1' from='a@example.com/r' to='jingle.example.com'><ping xmlns='urn:xmpp:ping'/></iq>")
        guard case .deliver(let iq)? = delivered.first else { Issue.record("nothing delivered"); return }
        #expect(iq.namespace == NS.client)
        let reply = sent(try driver.perform { (m: inout XMPPStreamMachine) throws(XMPPLinkError) in try m.send(stanza: XMLElement("iq", namespace: NS.client, ["type": "result", "id": "1"])) })
        #expect(reply == "<iq type=\"result\" id=\"1\"/>")
    }

    @Test func componentHandshakeRefused() throws {
        let driver = XMPPStreamDriver(role: .component(domain: try JID("jingle.example.com"), secret: "bad"))
        _ = driver.start()
        _ = dripFeed(driver, "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' id='1'>")
        let actions = dripFeed(driver, "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>")
        #expect(actions.last == .fail(.handshakeRefused))
    }

    /// Two peer-link machines wired to each other (XEP-0174 §3.3).
    @Test func peerMachinesTalk() throws {
        let alice = try JID("alice@host-a"), bob = try JID("bob@host-b")
        let initiator = XMPPStreamDriver(role: .peer(local: alice, remote: bob, initiator: true))
        let responder = XMPPStreamDriver(role: .peer(local: bob, remote: nil, initiator: false))
        #expect(responder.start().isEmpty)
        let header = sent(initiator.start())
        let answer = dripFeed(responder, header)
        #expect(answer.contains { if case .established(let e) = $0 { e.remote == alice } else { false } })
        let back = dripFeed(initiator, sent(answer))
        #expect(back.contains { if case .established(let e) = $0 { e.jid == alice } else { false } })
        let message = XMLElement("message", namespace: NS.client, ["from": alice.description, "to": bob.description], children: [XMLElement("body", namespace: NS.client, text: "hi")])
        let wire = sent(try initiator.perform { (m: inout XMPPStreamMachine) throws(XMPPLinkError) in try m.send(stanza: message) })
        #expect(dripFeed(responder, wire) == [.deliver(message)])
    }

    @Test func peerResponderRejectsWrongAddressee() throws {
        let responder = XMPPStreamDriver(role: .peer(local: try JID("bob@host-b"), remote: nil, initiator: false))
        _ = responder.start()
        let actions = dripFeed(responder, "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='a@x' to='carol@host-c' version='1.0'>")
        #expect(sent(actions).contains("host-unknown"))
        #expect(actions.last == .fail(.protocolViolation("stream addressed to carol@host-c")))
    }

    @Test func sendingBeforeEstablishedThrows() throws {
        let driver = try clientDriver()
        _ = driver.start()
        #expect(throws: XMPPLinkError.notConnected) {
            try driver.perform { (m: inout XMPPStreamMachine) throws(XMPPLinkError) in try m.send(stanza: XMLElement("message", namespace: NS.client)) }
        }
    }
}
