import DTLS
import Foundation
import ICE
import Jingle
@testable import JingleEngine
import JingleSDP
import Media
import RTP
import SDP
import SIP
import SIPGateway
import Synchronization
import TestServers
import Testing
import XMPPCore
import XMPPLink

/// An XMPP client that answers the next Jingle call with `JingleCall` (ICE + DTLS-SRTP), as `jingle answer`
/// does, and keeps the call's events.
final class CallAnswerer: Sendable {
    let client: XMPPClient
    let engine: JingleEngine
    let events = Mutex<[CallEvent]>([])
    /// Calls that could not be answered (e.g. the caller ended the session first).
    let failures = Mutex<[CallError]>([])
    private let answered = Mutex<JingleCall?>(nil)
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(server: ProsodyServer, user: String = "bob", resource: String, options: CallOptions) async throws {
        client = XMPPClient(try server.configuration(user, resource: resource))
        let jid = try await client.connect()
        engine = JingleEngine(link: client, localJID: jid)
        await engine.start()
        await engine.advertise(JingleCall.features)
        let sessions = engine.incomingSessions
        let engine = engine
        let t = Task { [self] in
            for await incoming in sessions {
                let call: JingleCall
                do {
                    call = try await JingleCall.answer(engine: engine, incoming: incoming, options: options)
                } catch let error as CallError {
                    failures.withLock { $0.append(error) }
                    continue
                } catch {
                    continue
                }
                answered.withLock { $0 = call }
                for await event in call.events { events.withLock { $0.append(event) } }
                return
            }
        }
        task.withLock { $0 = t }
    }

    var call: JingleCall? { answered.withLock { $0 } }

    func close() async {
        if let call { _ = await call.hangUp() }
        task.withLock { $0?.cancel() }
        await engine.stop()
        await client.close()
    }
}

func temporaryWAV(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("gw-\(name)-\(UUID().uuidString).wav")
}

func readWAV(_ url: URL) throws -> WAVAudio {
    try WAVAudio(parsing: Array(try Data(contentsOf: url)))
}

/// `--media anchored`: baresip and SIPp on plain RTP, Jingle calls with ICE + DTLS-SRTP, the gateway relaying.
extension GatewayIntegrationTests {
    /// baresip (440 Hz, PCMU, plain RTP) dials the anchored gateway; bob answers with a Jingle call recording
    /// what it hears (440 Hz) and sending 880 Hz, which baresip must hear.
    @Test(.enabled(if: baresipAvailable, "baresip is installed on the build machine"))
    func baresipCallsJingleThroughAnchoredGateway() async throws {
        let server = try ProsodyServer.get()
        let heard = temporaryWAV("bob-heard")
        defer { try? FileManager.default.removeItem(at: heard) }
        let bob = try await CallAnswerer(server: server, resource: "anchored", options: CallOptions(
            audioSource: .tone(880), recordURL: heard, bindAddresses: ["127.0.0.1"]))
        try await withGateway(server, media: .anchored) { gateway in
            let baresip = try BaresipPeer()
            try baresip.run(seconds: 12, dial: "sip:bob-anchored@127.0.0.1:\(gateway.sip.port)")
            let flowing = await eventually(.seconds(10)) { await bob.call?.statistics.packetsReceived ?? 0 > 100 }
            #expect(flowing, "no media reached the Jingle side; baresip: \(baresip.log)")
            try await Task.sleep(for: .seconds(1))
            let statistics = await bob.call?.hangUp() ?? MediaStatistics()
            // The BYE reaches baresip, which closes its recordings; then it may go.
            try await Task.sleep(for: .milliseconds(500))
            baresip.process.terminate()
            _ = await baresip.wait(timeout: 3)
            #expect(statistics.packetsReceived > 100 && statistics.authFailures == 0, "\(statistics)")
            #expect(dominantFrequency(try readWAV(heard)) == 440, "bob should hear baresip's 440 Hz")
            let decoded = try #require(try baresip.decodedAudio(), "baresip wrote no recording: \(baresip.log)")
            #expect(dominantFrequency(decoded) == 880, "baresip should hear bob's 880 Hz")
            #expect(await eventually { await gateway.counterSnapshot().active == 0 })
            let counters = await gateway.counterSnapshot()
            #expect(counters.relayedRTP > 200 && counters.completed == 1, "\(counters)")
            print("anchored baresip->jingle: \(counters); bob \(statistics.packetsReceived) packets in")
        }
        await bob.close()
    }

    /// alice calls peer@jingle.localhost with `JingleCall` (880 Hz); the anchored gateway INVITEs baresip with
    /// plain RTP; baresip auto-answers and records 880 Hz, alice records baresip's 440 Hz.
    @Test(.enabled(if: baresipAvailable, "baresip is installed on the build machine"))
    func jingleCallsBaresipThroughAnchoredGateway() async throws {
        let server = try ProsodyServer.get()
        let heard = temporaryWAV("alice-heard")
        defer { try? FileManager.default.removeItem(at: heard) }
        let baresip = try BaresipPeer()
        try baresip.run(seconds: 14)
        try await Task.sleep(for: .milliseconds(400))
        try await withGateway(server, sipPeerPort: baresip.sipPort, media: .anchored) { gateway in
            let party = try await JingleParty(try server.configuration("alice", resource: "anchored-caller"))
            let engine = party.engine
            let call = try await JingleCall.place(engine: engine, to: try JID("peer@jingle.localhost"), options: CallOptions(
                audioSource: .tone(880), recordURL: heard, bindAddresses: ["127.0.0.1"]))
            let flowing = await eventually(.seconds(10)) { await call.statistics.packetsReceived > 100 }
            #expect(flowing, "no media from baresip; baresip: \(baresip.log)")
            try await Task.sleep(for: .seconds(1))
            let statistics = await call.hangUp()
            try await Task.sleep(for: .milliseconds(500))
            baresip.process.terminate()
            _ = await baresip.wait(timeout: 3)
            #expect(statistics.packetsSent > 100 && statistics.packetsReceived > 100, "\(statistics)")
            #expect(dominantFrequency(try readWAV(heard)) == 440, "alice should hear baresip's 440 Hz")
            let decoded = try #require(try baresip.decodedAudio(), "baresip wrote no recording: \(baresip.log)")
            #expect(dominantFrequency(decoded) == 880, "baresip should hear alice's 880 Hz")
            #expect(await eventually { await gateway.counterSnapshot().active == 0 })
            let counters = await gateway.counterSnapshot()
            #expect(counters.relayedRTP > 200 && counters.completed == 1, "\(counters)")
            print("anchored jingle->baresip: \(counters); alice sent \(statistics.packetsSent) received \(statistics.packetsReceived)")
            await party.close()
        }
    }

    /// SIPp calls through the anchored gateway and echoes the RTP it gets, so bob hears his own 440 Hz back
    /// through both directions of the relay:
    /// - `uac_anchored`: SIPp offers plain RTP/AVP; the 200 must answer with the gateway's own address and port
    ///   and no ICE/DTLS lines (checked by the scenario).
    /// - `uac_delayed_offer`: a delayed offer (INVITE without SDP, as PBX trunks send). The gateway offers its
    ///   own media to bob, then offers SIPp the codecs bob accepted in its 200; SIPp answers in the ACK. Before,
    ///   such INVITEs got 488.
    @Test(arguments: [("uac_anchored", "sipp-anchored"), ("uac_delayed_offer", "sipp-delayed")])
    func sippEchoThroughAnchoredGateway(scenario: String, resource: String) async throws {
        let server = try ProsodyServer.get()
        let heard = temporaryWAV("bob-\(resource)")
        defer { try? FileManager.default.removeItem(at: heard) }
        let bob = try await CallAnswerer(server: server, resource: resource, options: CallOptions(
            audioSource: .tone(440), recordURL: heard, bindAddresses: ["127.0.0.1"]))
        try await withGateway(server, media: .anchored) { gateway in
            let (status, log) = try await runUAC(scenario, service: "bob-\(resource)", gateway: gateway, extra: ["-rtp_echo"])
            #expect(status == 0, "sipp: \(log)")
            #expect(await eventually { await gateway.counterSnapshot().active == 0 })
            let counters = await gateway.counterSnapshot()
            #expect(counters.completed == 1 && counters.relayedRTP > 100, "\(counters)")
            let events = bob.events.withLock { $0 }
            let statistics = events.compactMap { if case .stats(let s) = $0 { s } else { nil } }.last
            #expect((statistics?.packetsReceived ?? 0) > 40, "the echo should come back through the relay: \(String(describing: statistics))")
            print("anchored sipp echo (\(scenario)): \(counters)")
        }
        await bob.close()
        #expect(dominantFrequency(try readWAV(heard)) == 440)
    }

    /// A delayed-offer caller whose ACK brings no answer: the anchored gateway hangs up both sides with a
    /// reason (BYE to SIP, session-terminate to Jingle) instead of relaying to nowhere.
    @Test func delayedOfferWithoutAnswerInTheACKIsHungUp() async throws {
        let server = try ProsodyServer.get()
        let bob = try await CallAnswerer(server: server, resource: "delayed-noanswer", options: CallOptions(
            audioSource: .tone(440), bindAddresses: ["127.0.0.1"]))
        try await withGateway(server, media: .anchored) { gateway in
            let (status, log) = try await runUAC("uac_delayed_offer_no_answer", service: "bob-delayed-noanswer", gateway: gateway)
            #expect(status == 0, "sipp: \(log)")
            #expect(await eventually {
                let ended = bob.events.withLock { $0 }.contains { if case .ended(let reason, true) = $0 { reason?.condition == .incompatibleParameters } else { false } }
                let failed = bob.failures.withLock { $0 }.contains { if case .ended(let reason) = $0 { reason?.condition == .incompatibleParameters } else { false } }
                return ended || failed
            }, "bob's call must end with the gateway's reason: \(bob.failures.withLock { $0 })")
            #expect(await eventually { await gateway.counterSnapshot().failed["bad-sdp"] == 1 })
        }
        await bob.close()
    }

    /// The Jingle party answers without candidates and trickles them a second later (after the gateway's 200
    /// went to SIPp), without end-of-candidates, as most Jingle clients do: the anchored gateway's own ICE
    /// agent must take them, and the echo comes back through the relay.
    @Test func anchoredGatewayTakesCandidatesTrickledAfterItsAnswer() async throws {
        let server = try ProsodyServer.get()
        var options = CallOptions(audioSource: .tone(440), bindAddresses: ["127.0.0.1"])
        options.trickleLate = .init(end: false, delay: .seconds(1))
        let bob = try await CallAnswerer(server: server, resource: "sipp-trickle", options: options)
        try await withGateway(server, media: .anchored) { gateway in
            let (status, log) = try await runUAC("uac_anchored", service: "bob-sipp-trickle", gateway: gateway, extra: ["-rtp_echo"])
            #expect(status == 0, "sipp: \(log)")
            #expect(await eventually { await gateway.counterSnapshot().active == 0 })
            let counters = await gateway.counterSnapshot()
            #expect(counters.completed == 1 && counters.relayedRTP > 100, "\(counters)")
            let events = bob.events.withLock { $0 }
            #expect(events.contains { if case .iceConnected = $0 { true } else { false } }, "\(events)")
            let statistics = events.compactMap { if case .stats(let s) = $0 { s } else { nil } }.last
            #expect((statistics?.packetsReceived ?? 0) > 40, "the echo should come back through the relay: \(String(describing: statistics))")
        }
        await bob.close()
    }

    /// SIPp holds with a=sendonly and resumes with a=sendrecv, by re-INVITE or by UPDATE (RFC 3311); the Jingle
    /// side gets <hold/> and <unhold/> (XEP-0167 §7), in both media modes.
    @Test(arguments: [GatewayLauncher.MediaMode.passthrough, .anchored], ["uac_hold", "uac_update_hold"])
    func sipHoldBecomesJingleHold(media: GatewayLauncher.MediaMode, scenario: String) async throws {
        let server = try ProsodyServer.get()
        let resource = "hold-\(media.rawValue)-\(scenario)"
        let infos: @Sendable () -> [RTPSessionInfo]
        let closing: @Sendable () async -> Void
        switch media {
        case .passthrough:
            let callee = try await JingleCallee(server: server, user: "bob", resource: resource, behaviour: .answer)
            infos = { callee.infos.withLock { $0 } }
            closing = { await callee.close() }
        case .anchored:
            let answerer = try await CallAnswerer(server: server, resource: resource, options: CallOptions(
                audioSource: .tone(440), bindAddresses: ["127.0.0.1"]))
            infos = {
                answerer.events.withLock { $0 }.compactMap { if case .peerInfo(let info) = $0 { info } else { nil } }
            }
            closing = { await answerer.close() }
        }
        try await withGateway(server, media: media) { gateway in
            let (status, log) = try await runUAC(scenario, service: "bob-\(resource)", gateway: gateway)
            #expect(status == 0, "sipp: \(log)")
            #expect(await eventually { infos() == [.hold, .unhold] }, "\(infos())")
            #expect(await eventually { await gateway.counterSnapshot().active == 0 })
            let counters = await gateway.counterSnapshot()
            #expect(counters.holds == 1 && counters.resumes == 1, "\(counters)")
        }
        await closing()
    }

    /// alice offers carol@jingle.localhost a call with audio and video (CallSDP's BUNDLE offer, with a
    /// candidate nobody listens on: only the signalling matters) and ends it as soon as it is accepted.
    /// Returns the party (to close), the offer and the session-accept, if one came within the watchdog's time.
    static func videoCall(_ server: ProsodyServer, resource: String) async throws -> (party: JingleParty, offer: JinglePayload, accept: JinglePayload?) {
        let party = try await JingleParty(try server.configuration("alice", resource: resource))
        let candidate = try ICE.ICECandidate(sdp: "candidate:1 1 udp 2130706431 127.0.0.1 9 typ host")
        let local = CallSDPLocal(credentials: ICECredentials(ufrag: "vidU", pwd: "0123456789abcdefghijkl"), candidates: [candidate],
                                 fingerprint: try DTLSCertificate.generate().fingerprint(), video: true)
        let (handle, offer) = try await party.initiate(to: try JID("carol@jingle.localhost"), sdp: CallSDP.offer(local).serialized())
        var accepted: JinglePayload?
        let timeout = party.watchdog(handle)
        for await event in handle.events {
            if case .received(let p) = event, p.action == .sessionAccept {
                accepted = p
                try await party.engine.terminate(handle.id, reason: JingleReason(.success))
            }
            if case .ended = event { break }
        }
        timeout.cancel()
        return (party, offer, accepted)
    }

    /// A Jingle video call (audio + video, BUNDLE) through the anchored gateway to an audio-only SIP party
    /// (SIPp's built-in UAS): the session-accept keeps both contents, video with senders='none' in the
    /// gateway's ICE transport, so a WebRTC caller gets every m-line answered.
    @Test func jingleVideoCallGetsItsVideoAcceptedInactive() async throws {
        let server = try ProsodyServer.get()
        let (sipp, uasPort) = try SIPpProcess.uas(["-sn", "uas"])
        try await withGateway(server, sipPeerPort: uasPort, media: .anchored) { gateway in
            let (party, offer, accepted) = try await Self.videoCall(server, resource: "anchored-video")
            #expect(offer.contents.count == 2 && offer.groups.first?.contents.count == 2)
            let accept = try #require(accepted)
            #expect(accept.contents.map(\.name) == offer.contents.map(\.name))
            let video = try #require(accept.contents.first { ($0.description as? RTPDescription)?.media == "video" })
            #expect(video.senders == JingleSenders.none)
            #expect(video.transport is Jingle.ICEUDPTransport)
            #expect(accept.groups.first?.contents == offer.groups.first?.contents)
            let status = await sipp.wait(timeout: 10)
            #expect(status == 0, "sipp: \(sipp.log)")
            #expect(await eventually { await gateway.counterSnapshot().active == 0 })
            await party.close()
        }
    }

    /// The SIP callee hangs up (or is busy): the Jingle caller gets session-terminate `success` (`busy`) from the
    /// address it dialled.
    /// Before, the gateway forgot that address when its call handler returned, before the engine sent the
    /// terminate, which then went out from the component's own JID and matched no session at the caller.
    @Test(arguments: [("uas_bye", JingleReason.Condition.success), ("uas_486", .busy)])
    func sipCalleeEndReachesTheJingleCaller(scenario: String, condition: JingleReason.Condition) async throws {
        let server = try ProsodyServer.get()
        let (sipp, uasPort) = try SIPpProcess.uas(["-sf", try fixture(scenario)])
        try await withGateway(server, sipPeerPort: uasPort) { gateway in
            let party = try await JingleParty(try server.configuration("alice", resource: scenario))
            let (handle, _) = try await party.initiate(to: try JID("carol@jingle.localhost"))
            let watchdog = party.watchdog(handle)
            var ending: (reason: JingleReason?, byPeer: Bool)?
            for await event in handle.events {
                if case .ended(let reason, let byPeer) = event {
                    ending = (reason, byPeer)
                    break
                }
            }
            watchdog.cancel()
            let status = await sipp.wait(timeout: 10)
            #expect(status == 0, "sipp: \(sipp.log)")
            #expect(ending?.byPeer == true && ending?.reason?.condition == condition, "\(String(describing: ending))")
            #expect(await eventually { await gateway.counterSnapshot().active == 0 })
            await party.close()
        }
    }

    /// RFC 4028 towards a SIP callee: it makes the gateway the refresher, and the gateway refreshes by UPDATE
    /// (the callee allows it) at half the interval; when the callee takes the refreshing over and then stays
    /// silent, the gateway hangs up before the session expires and the Jingle caller gets `timeout`.
    @Test func sipCalleeSessionTimerIsRefreshedThenExpires() async throws {
        let server = try ProsodyServer.get()
        let (sipp, uasPort) = try SIPpProcess.uas(["-sf", try fixture("uas_session_timer")])
        try await withGateway(server, sipPeerPort: uasPort) { gateway in
            let party = try await JingleParty(try server.configuration("alice", resource: "session-timer"))
            let (handle, _) = try await party.initiate(to: try JID("carol@jingle.localhost"))
            let watchdog = party.watchdog(handle, seconds: 20)
            let start = ContinuousClock.now
            var accepted = false
            var ending: JingleReason?
            var endedByGateway = false
            for await event in handle.events {
                if case .received(let payload) = event, payload.action == .sessionAccept { accepted = true }
                if case .ended(let reason, let byPeer) = event {
                    (ending, endedByGateway) = (reason, byPeer)
                    break
                }
            }
            watchdog.cancel()
            let status = await sipp.wait(timeout: 10)
            #expect(status == 0, "sipp: \(sipp.log)")
            #expect(accepted)
            #expect(endedByGateway && ending?.condition == .timeout, "\(String(describing: ending)), by the gateway: \(endedByGateway)")
            // 2 s to the refresh, then 6 - 2 s to the BYE.
            #expect(ContinuousClock.now - start > .seconds(5))
            #expect(await eventually { await gateway.counterSnapshot().active == 0 })
            await party.close()
        }
    }

    /// The same call in passthrough to a WebRTC-capable SIP party that refuses the video (m=video 0): the
    /// session-accept still carries the video, inactive in the party's bundled ICE transport.
    @Test func sipRefusedVideoReachesJingleAsInactive() async throws {
        let server = try ProsodyServer.get()
        let (sipp, uasPort) = try SIPpProcess.uas(["-sf", try fixture("uas_refuse_video")])
        try await withGateway(server, sipPeerPort: uasPort) { gateway in
            let (party, offer, accepted) = try await Self.videoCall(server, resource: "refused-video")
            if accepted == nil { _ = await sipp.wait(timeout: 5); Issue.record("sipp: \(sipp.log)") }
            let accept = try #require(accepted, "no session-accept: the refused video made the answer unmappable")
            #expect(accept.contents.map(\.name) == offer.contents.map(\.name))
            let video = try #require(accept.contents.first { ($0.description as? RTPDescription)?.media == "video" })
            #expect(video.senders == JingleSenders.none)
            #expect((video.transport as? Jingle.ICEUDPTransport)?.ufrag == "pbxU")
            let status = await sipp.wait(timeout: 10)
            #expect(status == 0, "sipp: \(sipp.log)")
            #expect(await eventually { await gateway.counterSnapshot().active == 0 })
            await party.close()
        }
    }

    /// The Jingle caller holds (<hold/>) and resumes (<unhold/>); SIPp's UAS must get re-INVITEs with
    /// a=sendonly and then a=sendrecv, in both media modes.
    @Test(arguments: [GatewayLauncher.MediaMode.passthrough, .anchored])
    func jingleHoldBecomesReinvite(media: GatewayLauncher.MediaMode) async throws {
        let server = try ProsodyServer.get()
        let (sipp, uasPort) = try SIPpProcess.uas(["-sf", try fixture("uas_hold")])
        try await withGateway(server, sipPeerPort: uasPort, media: media) { gateway in
            let party = try await JingleParty(try server.configuration("alice", resource: "hold-\(media.rawValue)"))
            let engine = party.engine
            let carol = try JID("carol@jingle.localhost")
            switch media {
            case .anchored:
                let call = try await JingleCall.place(engine: engine, to: carol, options: CallOptions(audioSource: .tone(440), bindAddresses: ["127.0.0.1"]))
                #expect(await eventually(.seconds(8)) { await call.statistics.packetsSent > 10 })
                try await call.hold()
                try await Task.sleep(for: .milliseconds(400))
                try await call.unhold()
                try await Task.sleep(for: .milliseconds(400))
                _ = await call.hangUp()
            case .passthrough:
                let (handle, _) = try await party.initiate(to: carol)
                let timeout = party.watchdog(handle)
                for await event in handle.events {
                    if case .received(let p) = event, p.action == .sessionAccept {
                        try await engine.sendInfo(handle.id, [JingleInfo(RTPSessionInfo.hold)])
                        try await Task.sleep(for: .milliseconds(400))
                        try await engine.sendInfo(handle.id, [JingleInfo(RTPSessionInfo.unhold)])
                        try await Task.sleep(for: .milliseconds(400))
                        try await engine.terminate(handle.id, reason: JingleReason(.success))
                    }
                    if case .ended = event { break }
                }
                timeout.cancel()
            }
            let status = await sipp.wait(timeout: 10)
            #expect(status == 0, "sipp: \(sipp.log)")
            #expect(await eventually { await gateway.counterSnapshot().active == 0 })
            let counters = await gateway.counterSnapshot()
            #expect(counters.holds == 1 && counters.resumes == 1 && counters.completed == 1, "\(counters)")
            await party.close()
        }
    }
}

/// Trickle ICE over SIP INFO (RFC 8840) in signalling-only mode.
extension GatewayIntegrationTests {
    /// SIPp trickles a server-reflexive candidate in an INFO after the call is up; the Jingle callee gets it
    /// in a transport-info (XEP-0176 §3).
    @Test func sipInfoTrickleBecomesTransportInfo() async throws {
        let server = try ProsodyServer.get()
        let callee = try await JingleCallee(server: server, user: "bob", resource: "trickle", behaviour: .answer)
        try await withGateway(server) { gateway in
            let (status, log) = try await runUAC("uac_trickle", service: "bob-trickle", gateway: gateway)
            #expect(status == 0, "sipp: \(log)")
            #expect(await eventually { !callee.transportInfos.withLock { $0 }.isEmpty })
            let info = try #require(callee.transportInfos.withLock { $0.first })
            let transport = try #require(info.contents.first?.transport as? ICEUDPTransport)
            #expect(info.contents.first?.name == "0")
            #expect(transport.candidates.contains { $0.ip == "127.0.0.1" && $0.port == 40123 && $0.type == .srflx },
                    "\(transport.candidates)")
            #expect(await eventually { await gateway.counterSnapshot().trickledCandidates == 1 })
        }
        await callee.close()
    }
}

/// SDES on the SIP leg of the anchored gateway.
extension GatewayIntegrationTests {
    /// SIPp offers RTP/SAVP with an a=crypto key; the gateway answers RTP/SAVP with a fresh key of the same
    /// tag and suite (checked by the scenario) and the Jingle side still gets ICE + DTLS-SRTP.
    @Test func sippSDESOfferGetsSDESAnswerFromAnchoredGateway() async throws {
        let server = try ProsodyServer.get()
        let bob = try await CallAnswerer(server: server, resource: "sipp-sdes", options: CallOptions(audioSource: .tone(440), bindAddresses: ["127.0.0.1"]))
        try await withGateway(server, media: .anchored) { gateway in
            let (status, log) = try await runUAC("uac_anchored_sdes", service: "bob-sipp-sdes", gateway: gateway)
            #expect(status == 0, "sipp: \(log)")
            #expect(await eventually { await gateway.counterSnapshot().active == 0 })
            let counters = await gateway.counterSnapshot()
            // Bob's SRTP reached the gateway and went on to SIPp's port, re-protected with the gateway's SDES key.
            #expect(counters.completed == 1 && counters.relayedRTP > 10, "\(counters)")
            #expect(bob.events.withLock { $0 }.contains(.connected), "DTLS-SRTP on the Jingle leg")
        }
        await bob.close()
    }
}

extension GatewayIntegrationTests {
    /// alice trickles a candidate in a transport-info after the INVITE went out; SIPp's UAS must get it in an
    /// INFO (RFC 8840) with the content's mid.
    @Test func lateTransportInfoBecomesSIPInfo() async throws {
        let server = try ProsodyServer.get()
        let (sipp, uasPort) = try SIPpProcess.uas(["-sf", try fixture("uas_trickle")])
        try await withGateway(server, sipPeerPort: uasPort) { gateway in
            let party = try await JingleParty(try server.configuration("alice", resource: "trickle"))
            let engine = party.engine, alice = party.jid
            let mapper = JingleSDPMapper()
            let dave = try JID("dave@jingle.localhost")
            let (handle, _) = try await party.initiate(to: dave, sdp: JingleParty.plainRTPOffer(session: ["a=ice-ufrag:AliceUf1", "a=ice-pwd:AliceIcePasswordAbcdefgh"], media: ["a=mid:0", "a=candidate:1 1 UDP 2130706431 127.0.0.1 42000 typ host"]))
            let fragment = try SessionDescription(parsing: """
            v=0\r
            o=- 5 6 IN IP4 127.0.0.1\r
            s=-\r
            t=0 0\r
            a=ice-ufrag:AliceUf1\r
            a=ice-pwd:AliceIcePasswordAbcdefgh\r
            m=audio 9 RTP/AVP 0\r
            a=mid:0\r
            a=candidate:2 1 UDP 1694498815 127.0.0.1 40555 typ srflx raddr 127.0.0.1 rport 42000\r

            """)
            let trickle = try mapper.jingle(from: fragment, context: .init(author: .initiator, action: .transportInfo, sid: handle.id.sid,
                                                                          initiator: alice, responder: dave))
            let timeout = party.watchdog(handle)
            for await event in handle.events {
                if case .received(let p) = event, p.action == .sessionAccept {
                    try await engine.sendTransportInfo(handle.id, contents: trickle.contents)
                    try await Task.sleep(for: .milliseconds(500))
                    try await engine.terminate(handle.id, reason: JingleReason(.success))
                }
                if case .ended = event { break }
            }
            timeout.cancel()
            let status = await sipp.wait(timeout: 10)
            #expect(status == 0, "sipp: \(sipp.log)")
            #expect(await eventually { await gateway.counterSnapshot().trickledCandidates == 1 })
            await party.close()
        }
    }
}

extension GatewayIntegrationTests {
    /// The Jingle caller changes `senders` with content-modify (XEP-0166 §7.2.4): senders=initiator (alice only
    /// sends, she no longer receives) -> re-INVITE a=sendonly; senders=both -> a=sendrecv.
    @Test func jingleSendersChangeBecomesReinvite() async throws {
        let server = try ProsodyServer.get()
        let (sipp, uasPort) = try SIPpProcess.uas(["-sf", try fixture("uas_hold")])
        try await withGateway(server, sipPeerPort: uasPort) { gateway in
            let party = try await JingleParty(try server.configuration("alice", resource: "senders"))
            let engine = party.engine
            let (handle, offer) = try await party.initiate(to: try JID("erin@jingle.localhost"), sdp: JingleParty.plainRTPOffer(media: ["a=mid:0"]))
            let timeout = party.watchdog(handle)
            for await event in handle.events {
                if case .received(let p) = event, p.action == .sessionAccept {
                    for senders in [JingleSenders.initiator, .both] {
                        let modified = offer.contents.map { content -> JingleContent in
                            var reference = JingleContent(creator: content.creator, name: content.name)
                            reference.senders = senders
                            return reference
                        }
                        try await engine.perform(on: handle.id) { (s: inout JingleSession) throws(JingleSessionError) in
                            try s.sendContentModify(modified)
                        }
                        try await Task.sleep(for: .milliseconds(400))
                    }
                    try await engine.terminate(handle.id, reason: JingleReason(.success))
                }
                if case .ended = event { break }
            }
            timeout.cancel()
            let status = await sipp.wait(timeout: 10)
            #expect(status == 0, "sipp: \(sipp.log)")
            #expect(await eventually { await gateway.counterSnapshot().active == 0 })
            let counters = await gateway.counterSnapshot()
            #expect(counters.holds == 1 && counters.resumes == 1 && counters.completed == 1, "\(counters)")
            await party.close()
        }
    }
}
