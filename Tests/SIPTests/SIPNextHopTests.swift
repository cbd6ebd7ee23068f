import DNS
import Foundation
import Synchronization
import TestServers
import Testing
@testable import SIP

/// RFC 3263: a domain without a port is reached through its SRV records, and a hop that does not answer (or
/// answers 503) hands the request to the next one (§4.3).
@Suite("SIP next hops (RFC 3263 SRV)")
struct SIPNextHopTests {
    let offer = "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
    let answerSDP = "v=0\r\no=bob 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"
    static let dead = SIPTransportAddress(transport: .udp, host: "127.0.0.1", port: 5099)

    @Test(arguments: [
        ("sip:alice@example.com", "_sip._udp.example.com", SIPTransportKind.udp),
        ("sip:alice@Example.com.", "_sip._udp.Example.com", .udp),
        ("sip:alice@example.com;transport=tcp", "_sip._tcp.example.com", .tcp),
        ("sip:example.com;transport=TCP", "_sip._tcp.example.com", .tcp),
    ])
    func srvNameForADomain(uri: String, name: String, transport: SIPTransportKind) throws {
        let query = try #require(SIPTransportAddress.srvQuery(for: try SIPURI(uri), defaultTransport: .udp))
        #expect(query.name == name && query.transport == transport)
    }

    /// §4.2: a port, an IP literal or maddr names the hop itself: A/AAAA (or nothing) instead of SRV.
    @Test(arguments: ["sip:alice@example.com:5060", "sip:alice@192.0.2.7", "sip:alice@[2001:db8::1]", "sip:alice@example.com;maddr=192.0.2.1",
                      "sips:alice@example.com"])
    func noSRVForAnExplicitHop(uri: String) throws {
        #expect(SIPTransportAddress.srvQuery(for: try SIPURI(uri), defaultTransport: .udp) == nil)
    }

    @Test func hopsFromRecords() {
        let hops = SIPTransportAddress.hops(srvTargets: [("sip1.example.com.", 5060), (".", 5060), ("sip2.example.com", 5070), ("x.example.com", 0)],
                                            transport: .tcp)
        #expect(hops == [SIPTransportAddress(transport: .tcp, host: "sip1.example.com", port: 5060),
                         SIPTransportAddress(transport: .tcp, host: "sip2.example.com", port: 5070)])
        #expect(DNSSRV.isIPLiteral("10.0.0.1") && !DNSSRV.isIPLiteral("10.0.0.1.example") && !DNSSRV.isIPLiteral("999.0.0.1"))
    }

    /// The first hop never answers: after Timer B the same INVITE (same Request-URI, new branch) goes to the
    /// second hop, which answers; the call goes on there (ACK to it).
    @Test func inviteFailsOverWhenAHopDoesNotAnswer() throws {
        var net = Loopback()
        net.drop = { side, message in side == .alice && message.method == .invite && message.headers["CSeq"] == "1 INVITE" }
        let target = try SIPURI("sip:bob@example.test")
        let (call, actions) = try net.alice.startCall(to: target, sdp: offer, nextHops: [Self.dead, Loopback.bobAddress], now: .zero)
        #expect(actions.contains { if case .send(_, let to) = $0 { to == Self.dead } else { false } })
        net.apply(.alice, actions)
        net.advance(to: .seconds(31))
        #expect(net.incomingHandle() == nil)
        net.advance(to: .seconds(33))
        let incoming = try #require(net.incomingHandle(), "the INVITE reached the second hop")
        let invites = net.sent(by: .alice, method: .invite)
        #expect(invites.count >= 2 && invites.allSatisfy { $0.requestURI == target })
        #expect(Set(invites.compactMap { $0.headers.values("Via").first }).count >= 2, "a new transaction: a new branch")
        net.apply(.bob, try net.bob.answer(incoming, sdp: answerSDP, now: net.clock.now))
        net.deliver()
        #expect(net.events[.alice]?.contains(.answered(call, sdp: answerSDP)) == true)
        #expect(!(net.events[.alice] ?? []).contains { if case .failed = $0 { true } else { false } })
    }

    /// A transport failure (TCP refused) and a 503 each move on at once; after the last hop the call fails.
    @Test func inviteFailsOverOnTransportFailureAnd503() throws {
        var ua = SIPUserAgent(configuration: SIPUserAgentConfiguration(localHost: "127.0.0.1", localPort: 5070, transport: .udp, userName: "alice"))
        let second = SIPTransportAddress(transport: .udp, host: "127.0.0.1", port: 5098)
        let (call, first) = try ua.startCall(to: try SIPURI("sip:bob@example.test"), sdp: offer, nextHops: [Self.dead, second], now: .zero)
        #expect(firstSent(.invite, in: first)?.1 == Self.dead)
        let moved = ua.transportFailed(to: Self.dead, now: .milliseconds(5))
        let (invite, to) = try #require(firstSent(.invite, in: moved))
        #expect(to == second)
        #expect(!moved.contains { if case .event(.failed) = $0 { true } else { false } })
        let unavailable = SIPMakeResponse(to: invite, status: 503, toTag: "srv")
        let end = ua.receive(unavailable, from: second, now: .milliseconds(10))
        #expect(firstSent(.invite, in: end) == nil, "no hop left")
        #expect(end.contains(.event(.failed(call, status: 503, reason: "Service Unavailable"))))
    }

    /// A REGISTER that gets 503 goes to the registrar's next SRV target, which the refresh then keeps using.
    @Test func registerFailsOverAndStays() throws {
        var ua = SIPUserAgent(configuration: SIPUserAgentConfiguration(localHost: "127.0.0.1", localPort: 5070, transport: .udp, userName: "alice"))
        let second = SIPTransportAddress(transport: .udp, host: "127.0.0.1", port: 5098)
        let first = try #require(firstSent(.register, in: try ua.register(at: try SIPURI("sip:example.test"), aor: try SIPURI("sip:alice@example.test"),
                                                              expires: 600, nextHops: [Self.dead, second], now: .zero)))
        #expect(first.1 == Self.dead)
        let retried = try #require(firstSent(.register, in: ua.receive(SIPMakeResponse(to: first.0, status: 503, toTag: "r"), from: Self.dead, now: .milliseconds(5))))
        #expect(try retried.1 == second && retried.0.requestURI == SIPURI("sip:example.test"))
        var ok = SIPMakeResponse(to: retried.0, status: 200, toTag: "r")
        ok.headers.add("Expires", "600")
        let registered = ua.receive(ok, from: second, now: .milliseconds(10))
        #expect(registered.contains(.event(.registration(.registered(expires: 600)))))
        let refresh = try #require(firstSent(.register, in: ua.timerFired(.registrationRefresh, now: .seconds(300))))
        #expect(refresh.1 == second)
        // Both hops failing in a row is a failed registration, retried later.
        let failed = ua.receive(SIPMakeResponse(to: refresh.0, status: 503, toTag: "r"), from: second, now: .seconds(301))
        let again = try #require(firstSent(.register, in: failed))
        #expect(again.1 == Self.dead)
        let givenUp = ua.receive(SIPMakeResponse(to: again.0, status: 503, toTag: "r"), from: Self.dead, now: .seconds(302))
        #expect(firstSent(.register, in: givenUp) == nil)
        #expect(givenUp.contains { if case .event(.registration(.failed(status: 503, _, retryIn: .some))) = $0 { true } else { false } })
    }

    /// An outbound proxy (RFC 3261 §8.1.2): SIPp stands where the proxy is and checks that the INVITE keeps the
    /// real target as its request URI (a domain that resolves nowhere) and names the proxy in a loose Route.
    @Test(.enabled(if: sippAvailable, "sipp is installed"), .timeLimit(.minutes(1)))
    func outboundProxyGetsTheCallWithARoute() async throws {
        let port = freeUDPPort()
        var configuration = SIPEndpoint.Configuration()
        configuration.outboundProxy = try SIPURI("sip:127.0.0.1:\(port)")
        configuration.srvLookup = { name in
            Issue.record("no DNS for a call through the proxy: \(name)")
            return []
        }
        try await callAnsweredBySIPp(scenario: "uas_outbound_proxy", port: port, configuration: configuration,
                                     target: try SIPURI("sip:service@far.example.test"), offer: offer,
                                     checks: "SIPp's checks of the request URI and the Route")
    }

    /// REGISTERs through an outbound proxy carry its Route too, and go to it.
    @Test func registerCarriesTheProxyRoute() throws {
        var ua = SIPUserAgent(configuration: SIPUserAgentConfiguration(localHost: "127.0.0.1", localPort: 5070, transport: .udp, userName: "alice"))
        let proxy = try SIPURI("sip:192.0.2.1:5070;lr")
        let actions = try ua.register(at: try SIPURI("sip:example.test"), aor: try SIPURI("sip:alice@example.test"), expires: 600,
                                      nextHops: [Self.dead], route: [proxy], now: .zero)
        let sent = actions.compactMap { if case .send(let message, let to) = $0, message.method == .register { (message, to) } else { nil } }
        #expect(sent.count == 1 && sent.first?.1 == Self.dead)
        #expect(sent.first?.0.headers.values("Route") == ["<sip:192.0.2.1:5070;lr>"])
        #expect(try sent.first?.0.requestURI == SIPURI("sip:example.test"))
    }

    /// Against SIPp over TCP, with DNS played by the test: the domain's first SRV target refuses the connection,
    /// the second is SIPp, which answers the call.
    @Test(.enabled(if: sippAvailable, "sipp is installed"), .timeLimit(.minutes(1)))
    func srvTargetsAreTriedAgainstSIPp() async throws {
        let port = freeUDPPort(), refused = freeUDPPort()
        let asked = Mutex<[String]>([])
        var configuration = SIPEndpoint.Configuration(transport: .tcp)
        configuration.srvLookup = { name in
            asked.withLock { $0.append(name) }
            guard name == "_sip._tcp.pbx.example.test" else { return [] }
            return [DNSSRV.Record(priority: 0, weight: 0, port: refused, target: "127.0.0.1."),
                    DNSSRV.Record(priority: 10, weight: 0, port: port, target: "127.0.0.1.")]
        }
        try await callAnsweredBySIPp(scenario: nil, port: port, transport: .tcp, configuration: configuration,
                                     target: try SIPURI("sip:service@pbx.example.test"), offer: offer, checks: "SIPp saw a whole call")
        #expect(asked.withLock { $0 } == ["_sip._tcp.pbx.example.test"])
    }
}
