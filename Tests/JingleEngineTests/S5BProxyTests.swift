import FileTransfer
import Foundation
import Jingle
import Synchronization
import TestServers
import Testing
import XMLStream
import XMPPCore
import XMPPLink
@testable import JingleEngine

/// SOCKS5 bytestream proxies (XEP-0065) for Jingle S5B (XEP-0260): discovery, proxy candidates, activation,
/// against the proxy65 component of a real Prosody.
@Suite("S5B proxies", .serialized)
struct S5BProxyTests {
    typealias T = FileTransferTests
    typealias F = FileTransferFallbackTests

    /// Two accounts with resources of this suite (suites run in parallel and must not share full JIDs).
    static func pair() async throws -> (pair: T.Pair, senderJID: JID) {
        let server = try ProsodyServer.get()
        let tag = String(UInt32.random(in: 0..<UInt32.max), radix: 36)
        let alice = try await server.connect("alice", resource: "px-\(tag)")
        let bob = try await server.connect("bob", resource: "px-\(tag)")
        let aliceJID = try #require(await alice.boundJID), bobJID = try #require(await bob.boundJID)
        return (await T.start(alice, aliceJID, bob, bobJID) { await alice.close(); await bob.close() }, aliceJID)
    }

    final class Signals: Sendable {
        private let list = Mutex<[FileTransferSignal]>([])
        func record(_ s: FileTransferSignal) { list.withLock { $0.append(s) } }
        var all: [FileTransferSignal] { list.withLock { $0 } }
        var nominated: [S5BCandidate.CandidateType] {
            all.compactMap { if case .s5bNominated(_, _, let type) = $0 { type } else { nil } }
        }
        var reports: [String?] {
            all.compactMap { if case .s5bReport(_, let used) = $0 { .some(used) } else { nil } }
        }
        var activated: [JID] {
            all.compactMap { if case .s5bProxyActivated(_, _, let proxy) = $0 { proxy } else { nil } }
        }
        var proxyFailures: [String] {
            all.compactMap { if case .s5bProxyFailed(_, _, let reason) = $0 { reason } else { nil } }
        }
    }

    static func s5bOptions(_ signals: Signals, unreachableDirect: Bool, proxy: S5BProxyChoice = .discover) -> FileTransferOptions {
        var o = F.options(connect: .seconds(6))
        o.transport = .s5b
        o.unreachableS5BDirectForTesting = unreachableDirect
        o.s5bProxy = proxy
        o.observer = { signals.record($0) }
        return o
    }

    // MARK: pure parts

    @Test("streamhost results (XEP-0065 §4 Example 6) parse; entries without jid, host or a valid port are dropped")
    func streamhostParsing() throws {
        let query = try XMLElement(parsing: """
            <query xmlns='http://jabber.org/protocol/bytestreams'>
              <streamhost jid='proxy.example.net' host='24.24.24.1' port='7777'/>
              <streamhost jid='proxy2.example.net' host='2001:db8::1'/>
              <streamhost host='10.0.0.1' port='1'/>
              <streamhost jid='proxy3.example.net' port='1'/>
              <streamhost jid='proxy4.example.net' host='10.0.0.4' port='99999'/>
              <streamhost jid='proxy5.example.net' host='10.0.0.5' port='0'/>
            </query>
            """)
        let hosts = S5B.streamhosts(query: query)
        #expect(hosts == [S5BStreamhost(jid: try JID("proxy.example.net"), host: "24.24.24.1", port: 7777),
                          S5BStreamhost(jid: try JID("proxy2.example.net"), host: "2001:db8::1", port: 1080)])
    }

    @Test("the activation query is XEP-0065 §6.3.2's <query sid><activate>target</activate></query>")
    func activationQuery() throws {
        let q = S5B.activationQuery(sid: "vj3hs98y", target: try JID("juliet@capulet.lit/balcony"))
        #expect(q.name == "query" && q.namespace == NS.bytestreams && q[attribute: "sid"] == "vj3hs98y")
        let activate = try #require(q.child("activate", namespace: NS.bytestreams))
        #expect(activate.text == "juliet@capulet.lit/balcony")
        #expect(q.elements.count == 1)
    }

    @Test("disco#items (XEP-0030 §4.1): items keep node and name; an item without a valid jid is dropped")
    func discoItemsParsing() throws {
        let query = try XMLElement(parsing: """
            <query xmlns='http://jabber.org/protocol/disco#items'>
              <item jid='proxy.localhost' name='SOCKS5 Bytestreams Service'/>
              <item jid='pubsub.localhost' node='news'/>
              <item name='no jid'/>
              <item jid='@bad'/>
            </query>
            """)
        #expect(DiscoItem.items(query: query) == [DiscoItem(jid: try JID("proxy.localhost"), name: "SOCKS5 Bytestreams Service"),
                                                  DiscoItem(jid: try JID("pubsub.localhost"), node: "news")])
    }

    @Test("XEP-0260 §2.2: a proxy candidate's priority has type preference 10, below direct (126)")
    func proxyPriority() {
        #expect(S5B.priority(for: .proxy) == 10 << 16)
        #expect(S5B.priority(for: .proxy, local: 0xFFFF) < S5B.priority(for: .direct))
    }

    // MARK: against Prosody's mod_proxy65

    @Test("discovery finds proxy.localhost at 127.0.0.1 and the proxy65 port; cached per engine; none on a peer link",
          .timeLimit(.minutes(1)))
    func discovery() async throws {
        let server = try ProsodyServer.get()
        let (pair, _) = try await Self.pair()
        let expected = [S5BStreamhost(jid: try JID("proxy.localhost"), host: "127.0.0.1", port: UInt16(server.proxyPort))]
        #expect(try await S5BProxyDiscovery.discover(link: pair.sender.link, server: try JID("localhost")) == expected)
        #expect(await pair.sender.s5bProxies() == expected)
        let started = ContinuousClock.now
        #expect(await pair.sender.s5bProxies() == expected)
        #expect(ContinuousClock.now - started < .milliseconds(50), "the second lookup comes from the cache")
        // The transport we offer carries the proxy next to our direct candidate.
        let local = try await JingleFileTransfer.s5bListen(engine: pair.sender, peer: pair.receiverJID, sid: "s1", options: Self.s5bOptions(Signals(), unreachableDirect: false))
        local.listener.close()
        let proxy = try #require(local.transport.candidates.first { $0.type == .proxy })
        #expect(local.transport.candidates.first?.type == .direct)
        #expect(proxy.jid == expected[0].jid && proxy.host == "127.0.0.1" && proxy.port == UInt16(server.proxyPort))
        #expect(proxy.priority == S5B.priority(for: .proxy, local: 0xFFFF))
        var off = Self.s5bOptions(Signals(), unreachableDirect: false)
        off.s5bProxy = .none
        let bare = try await JingleFileTransfer.s5bListen(engine: pair.sender, peer: pair.receiverJID, sid: "s2", options: off)
        bare.listener.close()
        #expect(bare.transport.candidates.map(\.type) == [.direct])
        await pair.close()
        let peers = try await T.peerPair()
        #expect(await peers.sender.s5bProxies() == [])
        await peers.close()
    }

    @Test("no direct candidate connects: 256 KiB + 1 goes through Prosody's proxy, activated by its owner, verified",
          .timeLimit(.minutes(1)))
    func transferThroughProxy() async throws {
        let server = try ProsodyServer.get()
        let (pair, senderJID) = try await Self.pair()
        let sent = Signals(), received = Signals()
        let r = try await F.roundTrip(pair, size: (1 << 18) + 1, sender: Self.s5bOptions(sent, unreachableDirect: true),
                                      receiver: Self.s5bOptions(received, unreachableDirect: true))
        await pair.close()
        #expect(r.sent.transport == .s5b && r.received.transport == .s5b)
        #expect(r.sent.s5bCandidate == .proxy && r.received.s5bCandidate == .proxy)
        #expect(sent.nominated == [.proxy] && received.nominated == [.proxy])
        // Both connected to the other's proxy candidate; on equal priority the initiator's choice wins
        // (XEP-0260 §2.4), so the receiver, which offered that proxy, activated it.
        #expect(sent.reports.count == 1 && sent.reports[0] != nil && received.reports.count == 1 && received.reports[0] != nil)
        #expect(received.activated == [try JID("proxy.localhost")] && sent.activated.isEmpty)
        // Prosody paired the two connections by SHA-1(sid + activator + target) (XEP-0065 §6.3.2).
        let log = try String(contentsOfFile: server.directory + "/prosody.log", encoding: .utf8)
        #expect(log.contains("Transfer activated") && log.contains("initiator: \(pair.receiverJID), target: \(senderJID)"))
    }

    @Test("only the sender offers a proxy: the sender (initiator) activates it and the receiver waits for <activated/>",
          .timeLimit(.minutes(1)))
    func senderActivates() async throws {
        let server = try ProsodyServer.get()
        let (pair, senderJID) = try await Self.pair()
        let sent = Signals(), received = Signals()
        // The receiver offers no proxy of its own but tries the sender's (`.use([])`).
        let r = try await F.roundTrip(pair, size: 100_001, sender: Self.s5bOptions(sent, unreachableDirect: true),
                                      receiver: Self.s5bOptions(received, unreachableDirect: true, proxy: .use([])))
        await pair.close()
        #expect(sent.reports == [nil], "the receiver offered only an unreachable direct candidate")
        #expect(received.reports.count == 1 && received.reports[0] != nil)
        #expect(sent.activated == [try JID("proxy.localhost")] && received.activated.isEmpty)
        #expect(r.sent.s5bCandidate == .proxy && r.received.s5bCandidate == .proxy)
        let log = try String(contentsOfFile: server.directory + "/prosody.log", encoding: .utf8)
        #expect(log.contains("initiator: \(senderJID), target: \(pair.receiverJID)"))
    }

    @Test("the peer's proxy is unreachable: candidate-error for it, and the transfer goes direct", .timeLimit(.minutes(1)))
    func unreachablePeerProxy() async throws {
        let closed = UInt16(try #require(freePort()))
        let (pair, _) = try await Self.pair()
        let sent = Signals(), received = Signals()
        let dead = S5BStreamhost(jid: try JID("proxy.localhost"), host: "127.0.0.1", port: closed)
        let r = try await F.roundTrip(pair, size: 100_000, sender: Self.s5bOptions(sent, unreachableDirect: true, proxy: .use([dead])),
                                      receiver: Self.s5bOptions(received, unreachableDirect: false, proxy: .none))
        await pair.close()
        #expect(received.reports == [nil], "the receiver could reach neither the sender's direct candidate nor its proxy")
        #expect(sent.reports.count == 1 && sent.reports[0] != nil)
        #expect(r.sent.s5bCandidate == .direct && r.received.s5bCandidate == .direct)
        #expect(sent.activated.isEmpty && received.activated.isEmpty)
    }

    @Test("nothing connects, the offered proxy is dead too: both say candidate-error and IBB carries the file", .timeLimit(.minutes(1)))
    func unreachableEverything() async throws {
        let closed = UInt16(try #require(freePort()))
        let (pair, _) = try await Self.pair()
        let sent = Signals(), received = Signals()
        let dead = S5BStreamhost(jid: try JID("proxy.localhost"), host: "127.0.0.1", port: closed)
        let r = try await F.roundTrip(pair, size: 50_000, sender: Self.s5bOptions(sent, unreachableDirect: true, proxy: .use([dead])),
                                      receiver: Self.s5bOptions(received, unreachableDirect: true, proxy: .none))
        await pair.close()
        #expect(sent.reports == [nil] && received.reports == [nil])
        #expect(r.sent.transport == .ibb && r.received.transport == .ibb)
    }

    @Test("activation fails (the streamhost's JID is no proxy): proxy-error, and IBB carries the file", .timeLimit(.minutes(1)))
    func activationFails() async throws {
        let server = try ProsodyServer.get()
        let (pair, _) = try await Self.pair()
        let sent = Signals(), received = Signals()
        // A real proxy65 port, so the SOCKS5 connections succeed, but the activation IQ goes to a JID that
        // does not exist.
        let wrong = S5BStreamhost(jid: try JID("noproxy.localhost"), host: "127.0.0.1", port: UInt16(server.proxyPort))
        let r = try await F.roundTrip(pair, size: 50_000, sender: Self.s5bOptions(sent, unreachableDirect: true, proxy: .use([])),
                                      receiver: Self.s5bOptions(received, unreachableDirect: true, proxy: .use([wrong])))
        await pair.close()
        #expect(sent.reports.count == 1 && sent.reports[0] != nil, "the sender connected to the receiver's proxy candidate")
        #expect(received.activated.isEmpty && sent.nominated.isEmpty && received.nominated.isEmpty)
        // The receiver's activation IQ bounced; it said proxy-error, which the sender read.
        #expect(received.proxyFailures.count == 1 && sent.proxyFailures == ["the peer sent proxy-error"])
        #expect(r.sent.transport == .ibb && r.received.transport == .ibb)
    }
}
