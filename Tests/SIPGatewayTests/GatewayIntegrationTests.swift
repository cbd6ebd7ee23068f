import Foundation
import Jingle
import JingleEngine
import JingleSDP
import Logging
import SDP
import SIP
import SIPGateway
import TestServers
import Testing
import XMPPCore
import XMPPLink

/// SIPp <-> gateway (XEP-0114 component on a private Prosody) <-> in-process Jingle engines.
@Suite("Gateway over Prosody and SIPp", .serialized, .enabled(if: sippAvailable, "sipp is installed on the build machine"))
struct GatewayIntegrationTests {
    /// Starts a gateway as component jingle.localhost. SIP `bob-RESOURCE` reaches bob@localhost/RESOURCE;
    /// XMPP `user@jingle.localhost` reaches sip:user@127.0.0.1:`sipPeerPort`.
    func startGateway(_ server: ProsodyServer, sipPeerPort: Int = 9, media: GatewayLauncher.MediaMode = .passthrough) async throws -> SIPGateway {
        let launcher = GatewayLauncher(
            sip: .init(host: "127.0.0.1", port: 0, userName: "gateway"),
            xmpp: .component(domain: "jingle.localhost", secret: "compsecret", host: "127.0.0.1", port: server.componentPort),
            rules: [try .init("sip:bob-(.+)@127.0.0.1 -> bob@localhost/\\1")],
            reverseRules: [try .init("(.+)@jingle.localhost -> sip:\\1@127.0.0.1:\(sipPeerPort)")],
            media: media, candidateWait: .milliseconds(100))
        var logger = Logger(label: "gateway-test")
        logger.logLevel = .info
        // The component domain may still be held for a moment by the previous test's gateway: retry a few times.
        for _ in 0..<4 {
            if let gateway = try? await launcher.start(logger: logger) { return gateway }
            try await Task.sleep(for: .seconds(2))
        }
        return try await launcher.start(logger: logger)
    }

    /// Runs `body` with a fresh gateway and always shuts it down (the component domain is free again after).
    func withGateway(_ server: ProsodyServer, sipPeerPort: Int = 9, media: GatewayLauncher.MediaMode = .passthrough,
                     _ body: (SIPGateway) async throws -> Void) async throws {
        let gateway = try await startGateway(server, sipPeerPort: sipPeerPort, media: media)
        do {
            try await body(gateway)
        } catch {
            await gateway.shutdown()
            throw error
        }
        await gateway.shutdown()
    }

    func runUAC(_ scenario: String, service: String, gateway: SIPGateway, extra: [String] = []) async throws -> (Int32?, String) {
        // SIPp exits 254 ("fatal error binding a socket") when a port it was given was taken in the meantime (the free
        // ports are probed, then released): that is the harness, not the gateway, so try once more with new ports.
        var result: (Int32?, String) = (nil, "")
        for _ in 0..<2 {
            let sipp = try SIPpProcess(arguments: ["-sf", try fixture(scenario), "-s", service, "127.0.0.1:\(gateway.sip.port)",
                                                   "-i", "127.0.0.1", "-p", "\(freeUDPPort())", "-mp", "\(freeUDPPort())",
                                                   "-m", "1", "-nostdin", "-timeout", "15", "-timeout_error"] + extra)
            result = (await sipp.wait(timeout: 18), sipp.log)
            // (Not "Successful call": that label is on SIPp's statistics screen whatever the count.)
            if result.0 != 254 { break }
        }
        return result
    }

    @Test func sipCallAnsweredByJingleThenBye() async throws {
        let server = try ProsodyServer.get()
        let callee = try await JingleCallee(server: server, user: "bob", resource: "answer", behaviour: .answer)
        try await withGateway(server) { gateway in
            let (status, log) = try await runUAC("uac_answer", service: "bob-answer", gateway: gateway)
            #expect(status == 0, "sipp: \(log)")
            // The Jingle side saw an RTP offer with PCMU over raw UDP, then a success termination (BYE).
            let offer = try #require(callee.offers.withLock { $0.first })
            let sdp = try JingleSDPMapper().sdp(from: offer, author: .initiator).serialized()
            #expect(sdp.contains("a=rtpmap:0 PCMU/8000"))
            #expect(sdp.contains("m=audio "))
            #expect(await eventually { callee.endings.withLock { $0 } == [.success] }, "\(callee.endings.withLock { $0 })")
            #expect(await eventually { await gateway.counterSnapshot().active == 0 })
            let counters = await gateway.counterSnapshot()
            #expect(counters.calls == 1 && counters.completed == 1 && counters.failedTotal == 0, "\(counters)")
        }
        await callee.close()
    }

    /// A video phone offers audio, BFCP and T.38: the audio crosses to Jingle, the 200 keeps the three m-lines
    /// with the other two refused (RFC 3264 §6) instead of failing the call; a T.38 switch re-INVITE gets 488 and
    /// the call goes on (RFC 3261 §14.2) to a normal BYE.
    @Test func streamsJingleCannotCarryAreRefusedNotFatal() async throws {
        let server = try ProsodyServer.get()
        let callee = try await JingleCallee(server: server, user: "bob", resource: "extra", behaviour: .answer)
        try await withGateway(server) { gateway in
            let (status, log) = try await runUAC("uac_extra_streams", service: "bob-extra", gateway: gateway)
            #expect(status == 0, "sipp: \(log)")
            // The Jingle side was offered the audio stream only.
            let offer = try #require(callee.offers.withLock { $0.first })
            #expect(offer.contents.count == 1)
            let sdp = try JingleSDPMapper().sdp(from: offer, author: .initiator).serialized()
            #expect(sdp.contains("m=audio ") && !sdp.contains("m=image") && !sdp.contains("m=application"), "\(sdp)")
            #expect(await eventually { callee.endings.withLock { $0 } == [.success] }, "\(callee.endings.withLock { $0 })")
            #expect(await eventually { await gateway.counterSnapshot().active == 0 })
            let counters = await gateway.counterSnapshot()
            #expect(counters.calls == 1 && counters.completed == 1 && counters.failedTotal == 0, "\(counters)")
        }
        await callee.close()
    }

    /// A carrier's SIP-I INVITE (multipart/mixed: SDP and an optional ISUP part, RFC 3204) is a call like any
    /// other: the SDP part reaches Jingle, the caller gets 180 and 200.
    @Test func sipIInviteWithISUPPartIsAnswered() async throws {
        let server = try ProsodyServer.get()
        let callee = try await JingleCallee(server: server, user: "bob", resource: "sipi", behaviour: .answer)
        try await withGateway(server) { gateway in
            let (status, log) = try await runUAC("uac_sipi", service: "bob-sipi", gateway: gateway)
            #expect(status == 0, "sipp: \(log)")
            let offer = try #require(callee.offers.withLock { $0.first })
            let sdp = try JingleSDPMapper().sdp(from: offer, author: .initiator).serialized()
            #expect(sdp.contains("a=rtpmap:0 PCMU/8000") && !sdp.contains("ISUP") && !sdp.contains("unique-boundary"), "\(sdp)")
            #expect(await eventually { callee.endings.withLock { $0 } == [.success] })
            #expect(await eventually { await gateway.counterSnapshot().completed == 1 })
        }
        await callee.close()
    }

    /// RFC 4028 as SIP servers use it: a too-short interval gets 422, the retry gets its timer in the 200
    /// (the caller refreshes), and the caller's UPDATE refresh gets 200 — before, Require: timer got 420 and
    /// UPDATE 405, and a caller that refreshes by UPDATE hung up the call.
    @Test func sessionTimerNegotiatedAndRefreshedByUpdate() async throws {
        let server = try ProsodyServer.get()
        let callee = try await JingleCallee(server: server, user: "bob", resource: "timer", behaviour: .answer)
        try await withGateway(server) { gateway in
            let (status, log) = try await runUAC("uac_session_timer", service: "bob-timer", gateway: gateway)
            #expect(status == 0, "sipp: \(log)")
            #expect(callee.offers.withLock { $0.count } == 1, "the 422 retry is one call, the UPDATE no new offer")
            #expect(await eventually { callee.endings.withLock { $0 } == [.success] })
            #expect(await eventually { await gateway.counterSnapshot().completed == 1 })
        }
        await callee.close()
    }

    /// RFC 3262 as carrier trunks use it: an INVITE that requires 100rel gets a reliable 180 (RSeq), whose
    /// PRACK is answered 200; the call then goes on as usual. Before, Require: 100rel got 420.
    @Test func reliableProvisionalResponsesForCallersThatRequireThem() async throws {
        let server = try ProsodyServer.get()
        let callee = try await JingleCallee(server: server, user: "bob", resource: "100rel", behaviour: .ringThenAnswer)
        try await withGateway(server) { gateway in
            let (status, log) = try await runUAC("uac_100rel", service: "bob-100rel", gateway: gateway)
            #expect(status == 0, "sipp: \(log)")
            #expect(await eventually { callee.endings.withLock { $0 } == [.success] })
            #expect(await eventually { await gateway.counterSnapshot().completed == 1 })
        }
        await callee.close()
    }

    /// RFC 3261 §10 against SIPp as a registrar with digest authentication: the gateway registers its
    /// contact for sip:1001@…, answers each 401 with valid credentials, refreshes at half the granted 4 s, and
    /// removes the binding (Expires: 0) when it shuts down.
    @Test func gatewayRegistersRefreshesAndUnregisters() async throws {
        let server = try ProsodyServer.get()
        let (sipp, registrarPort) = try SIPpProcess.uas(["-sf", try fixture("uas_registrar")], timeout: 30)
        var launcher = GatewayLauncher(
            sip: .init(host: "127.0.0.1", port: 0, userName: "gateway", credentials: [SIPCredential(username: "1001", password: "secret")]),
            xmpp: .component(domain: "jingle.localhost", secret: "compsecret", host: "127.0.0.1", port: server.componentPort),
            rules: [try .init("sip:1001@127.0.0.1 -> bob@localhost/registered")])
        launcher.registration = .init(aor: try SIPURI("sip:1001@127.0.0.1:\(registrarPort)"), expires: 30)
        var logger = Logger(label: "gateway-test")
        logger.logLevel = .info
        var started: SIPGateway?
        for _ in 0..<4 where started == nil {
            started = try? await launcher.start(logger: logger)
            if started == nil { try await Task.sleep(for: .seconds(2)) }
        }
        let gateway = try #require(started)
        var granted: [Int] = []
        for await event in gateway.sip.registrationEvents {
            if case .registered(let expires) = event { granted.append(expires) }
            if case .failed = event { Issue.record("registration failed: \(event)"); break }
            if granted.count == 2 { break }
        }
        #expect(granted == [4, 60], "the first binding, then its refresh")
        await gateway.shutdown()
        let status = await sipp.wait(timeout: 10)
        #expect(status == 0, "sipp: \(sipp.log)")
    }

    /// The XMPP server dies under a running gateway (SIGKILL, as a crash) and comes back: the gateway's component
    /// link returns by itself (`reconnect`), and the next SIP call reaches a Jingle callee through it. Before,
    /// the component link ended for good and every later call failed until the gateway was restarted.
    @Test func gatewaySurvivesAServerRestart() async throws {
        var server = try ProsodyServer.startPrivate(tag: "gateway-restart")
        defer { server.kill(); try? FileManager.default.removeItem(atPath: server.directory) }
        let gateway = try await startGateway(server)
        server.kill()
        try await Task.sleep(for: .milliseconds(500))
        server = try server.restarted()
        let callee = try await JingleCallee(server: server, user: "bob", resource: "answer", behaviour: .answer)
        // The component answers disco#info again once its link is back (the server answers for it otherwise
        // with an error: the component is not connected).
        let component = try JID("jingle.localhost")
        #expect(await eventually(.seconds(20)) { (try? await callee.client.discoInfo(of: component)) != nil }, "the gateway's component is back")
        let (status, log) = try await runUAC("uac_answer", service: "bob-answer", gateway: gateway)
        #expect(status == 0, "sipp: \(log)")
        #expect(await eventually { callee.endings.withLock { $0 } == [.success] }, "\(callee.endings.withLock { $0 })")
        await callee.close()
        await gateway.shutdown()
    }

    @Test func cancelBeforeAnswerTerminatesWithCancel() async throws {
        let server = try ProsodyServer.get()
        let callee = try await JingleCallee(server: server, user: "bob", resource: "ring", behaviour: .ring)
        try await withGateway(server) { gateway in
            let (status, log) = try await runUAC("uac_cancel", service: "bob-ring", gateway: gateway)
            #expect(status == 0, "sipp: \(log)")
            #expect(await eventually { callee.endings.withLock { $0 } == [.cancel] })
            #expect(await eventually { await gateway.counterSnapshot().failed["cancel"] == 1 })
        }
        await callee.close()
    }

    /// RFC 3261 §13.3.1: the caller's INVITE says `Expires: 2` and nobody answers: the gateway sends 487 once it
    /// expires, and the ringing Jingle callee gets session-terminate `timeout` instead of ringing on.
    @Test func expiredInviteGets487AndEndsTheRinging() async throws {
        let server = try ProsodyServer.get()
        let callee = try await JingleCallee(server: server, user: "bob", resource: "ring", behaviour: .ring)
        try await withGateway(server) { gateway in
            let started = ContinuousClock.now
            let (status, log) = try await runUAC("uac_expires", service: "bob-ring", gateway: gateway)
            #expect(status == 0, "sipp: \(log)")
            #expect(ContinuousClock.now - started >= .seconds(2), "not before the INVITE expires")
            #expect(await eventually { callee.endings.withLock { $0 } == [.timeout] })
            #expect(await eventually { await gateway.counterSnapshot().failed["expired"] == 1 })
        }
        await callee.close()
    }

    @Test(arguments: [(CalleeBehaviour.busy, "uac_486", "busy"), (.decline, "uac_603", "decline")])
    func calleeRefusalMapsToSIPStatus(behaviour: CalleeBehaviour, scenario: String, reason: String) async throws {
        let server = try ProsodyServer.get()
        let callee = try await JingleCallee(server: server, user: "bob", resource: behaviour.rawValue, behaviour: behaviour)
        try await withGateway(server) { gateway in
            let (status, log) = try await runUAC(scenario, service: "bob-\(behaviour.rawValue)", gateway: gateway)
            #expect(status == 0, "sipp: \(log)")
            #expect(callee.offers.withLock { $0.count } == 1)
            #expect(await eventually { await gateway.counterSnapshot().failed[reason] == 1 })
        }
        await callee.close()
    }

    /// Nobody is online as bob@localhost/offline: the server answers service-unavailable -> 480.
    @Test func offlineCalleeGets480() async throws {
        let server = try ProsodyServer.get()
        try await withGateway(server) { gateway in
            let (status, log) = try await runUAC("uac_480", service: "bob-offline", gateway: gateway)
            #expect(status == 0, "sipp: \(log)")
            #expect(await eventually { await gateway.counterSnapshot().failed["unavailable"] == 1 })
        }
    }

    /// alice (XMPP) calls carol@jingle.localhost; the gateway INVITEs SIPp's UAS: 180 -> ringing,
    /// 200 -> session-accept; alice's session-terminate -> BYE.
    @Test func xmppCallerReachesSIPpUAS() async throws {
        let server = try ProsodyServer.get()
        let (sipp, uasPort) = try SIPpProcess.uas(["-sn", "uas"])
        try await withGateway(server, sipPeerPort: uasPort) { gateway in
            let party = try await JingleParty(try server.configuration("alice", resource: "caller"))
            let engine = party.engine
            let (handle, _) = try await party.initiate(to: try JID("carol@jingle.localhost"))
            var rang = false
            var acceptSDP: String?
            let timeout = party.watchdog(handle)
        for await event in handle.events {
                if case .received(let p) = event {
                    if p.action == .sessionInfo, p.info.contains(where: { ($0.payload as? RTPSessionInfo) == .ringing }) { rang = true }
                    if p.action == .sessionAccept {
                        acceptSDP = try JingleSDPMapper().sdp(from: p, author: .responder).serialized()
                        try await engine.terminate(handle.id, reason: JingleReason(.success))
                    }
                }
                if case .ended = event { break }
            }
            timeout.cancel()
        #expect(rang)
            let answer = try #require(acceptSDP)
            #expect(answer.contains("m=audio ") && answer.contains("RTP/AVP"))
            let status = await sipp.wait(timeout: 10)
            #expect(status == 0, "sipp: \(sipp.log)")
            #expect(await eventually { await gateway.counterSnapshot().completed == 1 })
            await party.close()
        }
    }
}
