import Foundation
import Testing
import XMLStream
import XMPPCore
@testable import Jingle

/// Whole sessions between two machines with no I/O: every `.send`/`.reply` of one side goes into the other's
/// `receive`.
@Suite struct PairedSessionTests {
    func start(_ net: inout PairedPeers, from who: JID = alice, to peer: JID = bob, contents: [JingleContent], groups: [JingleGroup] = []) throws -> String {
        var sid = ""
        try net.act(who) { m in
            let r = try m.sendSessionInitiate(to: peer, contents: contents, groups: groups, now: t0)
            sid = r.sid
            return r.actions
        }
        return sid
    }

    func on(_ net: inout PairedPeers, _ who: JID, sid: String, _ body: (inout JingleSession) throws(JingleSessionError) -> [JingleAction]) throws {
        let peer = who == alice ? bob : alice
        try net.act(who) { m in try m.withSession(peer: peer, sid: sid, body) }
    }

    func contentKey(_ name: String, _ creator: JingleRole = .initiator) -> JingleSession.ContentKey {
        JingleSession.ContentKey(creator: creator, name: name)
    }

    func receivedPayloads(_ net: PairedPeers, _ who: JID, _ action: JingleWireAction) -> [JinglePayload] {
        net.events(who).compactMap { if case .received(let p) = $0, p.action == action { p } else { nil } }
    }

    @Test func audioCall() throws {
        var net = PairedPeers()
        let sid = try start(&net, contents: [audioContent()])
        net.deliverAll()
        #expect(net.receivedActions(bob) == [.sessionInitiate])
        #expect(net.events(alice).contains { if case .acknowledged(.sessionInitiate, _) = $0 { true } else { false } })
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendSessionInfo([JingleInfo(RTPSessionInfo.ringing)]) }
        net.deliverAll()
        #expect(receivedPayloads(net, alice, .sessionInfo).first?.info.first?.payload as? RTPSessionInfo == .ringing)
        let answer = JingleContent(creator: .initiator, name: "voice",
                                   description: RTPDescription(media: "audio", payloadTypes: [RTPPayloadType(id: 0, name: "PCMU", clockrate: 8000)], rtcpMux: true),
                                   transport: iceTransport(candidates: [hostCandidate(50000)]))
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendSessionAccept(contents: [answer]) }
        net.deliverAll()
        #expect(net.session(alice, sid: sid)?.phase == .active)
        #expect(net.session(bob, sid: sid)?.phase == .active)
        #expect((net.session(alice, sid: sid)?.contents.first?.content.description as? RTPDescription)?.payloadTypes.map(\.id) == [0])
        #expect(net.sides[alice]?.armedTimers.isEmpty == true)
        try on(&net, alice, sid: sid) { s throws(JingleSessionError) in
            try s.sendTransportInfo([JingleContent(creator: .initiator, name: "voice", transport: iceTransport(candidates: [hostCandidate(40002)]))])
        }
        net.deliverAll()
        let trickled = receivedPayloads(net, bob, .transportInfo).first?.contents.first?.transport as? ICEUDPTransport
        #expect(trickled?.candidates.first?.port == 40002)
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendSessionTerminate(reason: JingleReason(.success)) }
        net.deliverAll()
        #expect(net.session(alice, sid: sid)?.phase == .ended)
        #expect(net.events(alice).contains(.ended(JingleReason(.success), byPeer: true)))
        #expect(net.events(bob).contains(.ended(JingleReason(.success), byPeer: false)))
        #expect(net.errors(alice).isEmpty && net.errors(bob).isEmpty)
        // session-info and session-accept were acknowledged; the result for session-terminate arrives after the
        // session ended (XEP-0166 §6.7) and is not reported.
        #expect(net.events(bob).filter { if case .acknowledged = $0 { true } else { false } }.count == 2)
    }

    @Test func audioAndVideoWithBundle() throws {
        var net = PairedPeers()
        let bundle = JingleGroup(semantics: "BUNDLE", contents: ["voice", "webcam"])
        let sid = try start(&net, contents: [audioContent(), videoContent()], groups: [bundle])
        net.deliverAll()
        #expect(receivedPayloads(net, bob, .sessionInitiate).first?.groups == [bundle])
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendSessionAccept(contents: [audioContent(), videoContent()], groups: [bundle]) }
        net.deliverAll()
        #expect(receivedPayloads(net, alice, .sessionAccept).first?.groups == [bundle])
        for who in [alice, bob] {
            let session = try #require(net.session(who, sid: sid))
            #expect(session.phase == .active)
            #expect(session.contents.map(\.content.name) == ["voice", "webcam"])
            #expect(session.contents.allSatisfy { $0.accepted })
        }
        #expect(net.errors(alice).isEmpty && net.errors(bob).isEmpty)
    }

    @Test func fileOffer() throws {
        var net = PairedPeers()
        let digest = FileHash(algo: "sha-256", digest: Array(repeating: 0xAB, count: 32))
        let offer = fileContent(senders: .initiator, file: FileTransferFile(mediaType: "text/plain", name: "test.txt", size: 6144),
                                transport: S5BTransport(sid: "s5b-1", mode: .tcp, candidates: [S5BCandidate(cid: "c1", host: "127.0.0.1", jid: alice, port: 6539, priority: 8257636, type: .direct)]))
        let sid = try start(&net, contents: [offer])
        net.deliverAll()
        let offered = try #require(receivedPayloads(net, bob, .sessionInitiate).first?.contents.first?.description as? FileTransferDescription)
        #expect(offered.file.name == "test.txt" && offered.file.size == 6144)
        let key = contentKey("a-file")
        #expect(net.session(bob, sid: sid)?.sends(.initiator, on: key) == true)
        #expect(net.session(bob, sid: sid)?.sends(.responder, on: key) == false)
        let accept = fileContent(senders: .initiator, file: FileTransferFile(name: "test.txt", size: 6144),
                                 transport: S5BTransport(sid: "s5b-1", candidates: [S5BCandidate(cid: "c2", host: "127.0.0.1", jid: bob, port: 6540, priority: 8257636, type: .direct)]))
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendSessionAccept(contents: [accept]) }
        net.deliverAll()
        try on(&net, alice, sid: sid) { s throws(JingleSessionError) in
            try s.sendTransportInfo([JingleContent(creator: .initiator, name: "a-file", transport: S5BTransport(sid: "s5b-1", candidateUsed: "c2"))])
        }
        try on(&net, alice, sid: sid) { s throws(JingleSessionError) in
            try s.sendSessionInfo([JingleInfo(FileTransferInfo.checksum(creator: .initiator, name: "a-file", file: FileTransferFile(hashes: [digest])))])
        }
        net.deliverAll()
        #expect((receivedPayloads(net, bob, .transportInfo).first?.contents.first?.transport as? S5BTransport)?.candidateUsed == "c2")
        let checksum = receivedPayloads(net, bob, .sessionInfo).first?.info.first?.payload as? FileTransferInfo
        #expect(checksum == .checksum(creator: .initiator, name: "a-file", file: FileTransferFile(hashes: [digest])))
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendSessionInfo([JingleInfo(FileTransferInfo.received(creator: .initiator, name: "a-file"))]) }
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendSessionTerminate(reason: JingleReason(.success)) }
        net.deliverAll()
        #expect(receivedPayloads(net, alice, .sessionInfo).first?.info.first?.payload as? FileTransferInfo == .received(creator: .initiator, name: "a-file"))
        #expect(net.session(alice, sid: sid)?.phase == .ended && net.session(bob, sid: sid)?.phase == .ended)
        #expect(net.errors(alice).isEmpty && net.errors(bob).isEmpty)
    }

    /// XEP-0234 §5: a request is a session-initiate whose content has senders='responder'.
    @Test func fileRequestPull() throws {
        var net = PairedPeers()
        let wanted = FileHash(algo: "sha-1", value: "w0mcJylzCn+AfvuGdqkty2+KP48=")
        let request = fileContent(name: "a-file-request", senders: .responder, file: FileTransferFile(hashes: [wanted]),
                                  transport: IBBTransport(blockSize: 4096, sid: "ibb-pull"))
        let sid = try start(&net, contents: [request])
        net.deliverAll()
        let key = contentKey("a-file-request")
        let bobSession = try #require(net.session(bob, sid: sid))
        #expect(bobSession.role == .responder)
        #expect(bobSession.sends(bobSession.role, on: key))
        #expect(net.session(alice, sid: sid)?.sends(.initiator, on: key) == false)
        let answer = fileContent(name: "a-file-request", senders: .responder,
                                 file: FileTransferFile(name: "found.txt", size: 6144, hashes: [wanted]), transport: IBBTransport(blockSize: 4096, sid: "ibb-pull"))
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendSessionAccept(contents: [answer]) }
        net.deliverAll()
        let accepted = receivedPayloads(net, alice, .sessionAccept).first?.contents.first?.description as? FileTransferDescription
        #expect(accepted?.file.name == "found.txt")
        #expect(net.session(alice, sid: sid)?.phase == .active)
        #expect(net.errors(alice).isEmpty && net.errors(bob).isEmpty)
    }

    @Test func transportReplaceToIBB() throws {
        var net = PairedPeers()
        let s5b = S5BTransport(sid: "s5b-1", candidates: [S5BCandidate(cid: "c1", host: "127.0.0.1", jid: alice, port: 6539, priority: 1, type: .direct)])
        let offer = fileContent(senders: .initiator, file: FileTransferFile(name: "x.bin", size: 10), transport: s5b)
        let sid = try start(&net, contents: [offer])
        net.deliverAll()
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendSessionAccept(contents: [offer]) }
        net.deliverAll()
        // XEP-0260 §2.3: nothing connected; XEP-0260 §2.6 / XEP-0166 §7.2.15: fall back to IBB.
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in
            try s.sendTransportInfo([JingleContent(creator: .initiator, name: "a-file", transport: S5BTransport(sid: "s5b-1", candidateError: true))])
        }
        net.deliverAll()
        let ibbTransport = IBBTransport(blockSize: 4096, sid: "ibb-2")
        try on(&net, alice, sid: sid) { s throws(JingleSessionError) in try s.sendTransportReplace([JingleContent(creator: .initiator, name: "a-file", transport: ibbTransport)]) }
        net.deliverAll()
        #expect(net.session(bob, sid: sid)?.contents.first?.pendingReplacement?.by == .initiator)
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendTransportAccept([JingleContent(creator: .initiator, name: "a-file", transport: ibbTransport)]) }
        net.deliverAll()
        for who in [alice, bob] {
            let content = try #require(net.session(who, sid: sid)?.contents.first)
            #expect(content.content.transport as? IBBTransport == ibbTransport)
            #expect(content.pendingReplacement == nil)
        }
        #expect(net.errors(alice).isEmpty && net.errors(bob).isEmpty)
    }

    @Test func contentAddThenContentReject() throws {
        var net = PairedPeers()
        let sid = try start(&net, contents: [audioContent()])
        net.deliverAll()
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendSessionAccept(contents: [audioContent()]) }
        net.deliverAll()
        try on(&net, alice, sid: sid) { s throws(JingleSessionError) in try s.sendContentAdd([videoContent()]) }
        net.deliverAll()
        #expect(net.session(bob, sid: sid)?.contents.map(\.accepted) == [true, false])
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendContentReject([videoContent()], reason: JingleReason(.decline)) }
        net.deliverAll()
        #expect(receivedPayloads(net, alice, .contentReject).first?.reason?.condition == .decline)
        for who in [alice, bob] {
            #expect(net.session(who, sid: sid)?.contents.map(\.content.name) == ["voice"])
            #expect(net.session(who, sid: sid)?.phase == .active)
        }
        // Adding again works and can be accepted.
        try on(&net, alice, sid: sid) { s throws(JingleSessionError) in try s.sendContentAdd([videoContent()]) }
        net.deliverAll()
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendContentAccept([videoContent()]) }
        net.deliverAll()
        #expect(net.session(alice, sid: sid)?.contents.map(\.accepted) == [true, true])
        #expect(net.errors(alice).isEmpty && net.errors(bob).isEmpty)
    }

    /// Both call each other at once: the lower sid survives at both ends; the other gets conflict + tie-break.
    @Test func tieBreakOnSimultaneousSessionInitiate() throws {
        var net = PairedPeers()
        let aliceSid = try start(&net, from: alice, to: bob, contents: [audioContent()])
        let bobSid = try start(&net, from: bob, to: alice, contents: [audioContent()])
        #expect(aliceSid < bobSid)
        net.deliverAll()
        let refusal = try #require(net.errors(alice).first)
        #expect(refusal.error.flatMap(JingleErrorCondition.init) == .tieBreak)
        #expect(refusal.error?.condition == .conflict)
        #expect(net.errors(alice).count == 1 && net.errors(bob).isEmpty)
        #expect(net.session(bob, sid: bobSid)?.phase == .ended)
        #expect(net.events(bob).contains { if case .requestFailed(.sessionInitiate, _, let e) = $0 { JingleErrorCondition(e) == .tieBreak } else { false } })
        #expect(net.session(alice, sid: bobSid) == nil)
        #expect(net.session(alice, sid: aliceSid)?.phase == .pending)
        #expect(net.session(bob, sid: aliceSid)?.role == .responder)
        try on(&net, bob, sid: aliceSid) { s throws(JingleSessionError) in try s.sendSessionAccept(contents: [audioContent()]) }
        net.deliverAll()
        #expect(net.session(alice, sid: aliceSid)?.phase == .active)
    }

    /// XEP-0166 §7.2.2: simultaneous content-add of the same name — the initiator's wins.
    @Test func tieBreakOnSimultaneousContentAdd() throws {
        var net = PairedPeers()
        let sid = try start(&net, contents: [audioContent()])
        net.deliverAll()
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendSessionAccept(contents: [audioContent()]) }
        net.deliverAll()
        try on(&net, alice, sid: sid) { s throws(JingleSessionError) in try s.sendContentAdd([videoContent("screen", creator: .initiator)]) }
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendContentAdd([videoContent("screen", creator: .responder)]) }
        net.deliverAll()
        #expect(net.errors(alice).first?.error.flatMap(JingleErrorCondition.init) == .tieBreak)
        #expect(net.events(bob).contains(.tieBreakLost(.contentAdd, contents: ["screen"])))
        for who in [alice, bob] {
            let keys = net.session(who, sid: sid)?.contents.map { JingleSession.ContentKey($0.content) }
            #expect(keys == [contentKey("voice"), contentKey("screen")])
        }
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendContentAccept([videoContent("screen", creator: .initiator)]) }
        net.deliverAll()
        #expect(net.session(alice, sid: sid)?.contents.allSatisfy { $0.accepted } == true)
    }

    /// XEP-0166 §7.2.15: simultaneous transport-replace of one content — the initiator's wins.
    @Test func tieBreakOnSimultaneousTransportReplace() throws {
        var net = PairedPeers()
        let sid = try start(&net, contents: [audioContent()])
        net.deliverAll()
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendSessionAccept(contents: [audioContent()]) }
        net.deliverAll()
        let fromAlice = JingleContent(creator: .initiator, name: "voice", transport: RawUDPTransport(candidates: [RawUDPCandidate(component: 1, id: "a", ip: "127.0.0.1", port: 4000)]))
        let fromBob = JingleContent(creator: .initiator, name: "voice", transport: RawUDPTransport(candidates: [RawUDPCandidate(component: 1, id: "b", ip: "127.0.0.1", port: 5000)]))
        try on(&net, alice, sid: sid) { s throws(JingleSessionError) in try s.sendTransportReplace([fromAlice]) }
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendTransportReplace([fromBob]) }
        net.deliverAll()
        #expect(net.errors(alice).first?.error.flatMap(JingleErrorCondition.init) == .tieBreak)
        #expect(net.errors(bob).isEmpty)
        #expect(net.session(bob, sid: sid)?.contents.first?.pendingReplacement?.by == .initiator)
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendTransportAccept([fromAlice]) }
        net.deliverAll()
        #expect((net.session(alice, sid: sid)?.contents.first?.content.transport as? RawUDPTransport)?.candidates.first?.port == 4000)
        #expect((net.session(bob, sid: sid)?.contents.first?.content.transport as? RawUDPTransport)?.candidates.first?.port == 4000)
    }

    /// Trickled transport-info overtakes the session-accept sent before it: both are legal while pending,
    /// both are acknowledged, and the session ends up active.
    @Test func reorderedTransportInfoBeforeSessionAccept() throws {
        var net = PairedPeers()
        let sid = try start(&net, contents: [audioContent()])
        net.deliverAll()
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendSessionAccept(contents: [audioContent()]) }
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in
            try s.sendTransportInfo([JingleContent(creator: .initiator, name: "voice", transport: iceTransport(candidates: [hostCandidate(50001)]))])
        }
        #expect(net.inFlight.count == 2)
        net.deliver(at: 1)   // transport-info first
        #expect(net.session(alice, sid: sid)?.phase == .pending)
        net.deliverAll()
        #expect(net.receivedActions(alice) == [.transportInfo, .sessionAccept])
        #expect(net.session(alice, sid: sid)?.phase == .active)
        #expect(net.errors(alice).isEmpty && net.errors(bob).isEmpty)
        #expect(net.events(bob).filter { if case .acknowledged = $0 { true } else { false } }.count == 2)
    }

    /// The other reordering: a trickled candidate overtakes the session-initiate itself. XEP-0166 §6.2 notes the
    /// responder then knows no such session and answers unknown-session; the initiate still succeeds after.
    @Test func transportInfoBeforeSessionInitiateIsUnknownSession() throws {
        var net = PairedPeers()
        let sid = try start(&net, contents: [audioContent()])
        try on(&net, alice, sid: sid) { s throws(JingleSessionError) in
            try s.sendTransportInfo([JingleContent(creator: .initiator, name: "voice", transport: iceTransport(candidates: [hostCandidate(40001)]))])
        }
        net.deliver(at: 1)
        #expect(net.errors(bob).first?.error.flatMap(JingleErrorCondition.init) == .unknownSession)
        net.deliverAll()
        #expect(net.session(bob, sid: sid)?.phase == .pending)
        #expect(net.events(alice).contains { if case .requestFailed(.transportInfo, _, _) = $0 { true } else { false } })
        #expect(net.session(alice, sid: sid)?.phase == .pending)
    }

    /// XEP-0166 §6.3.2: a responder that supports none of the offered applications acknowledges and terminates
    /// with unsupported-applications.
    @Test func unsupportedApplicationIsTerminated() throws {
        var net = PairedPeers()
        let unknown = JingleContent(creator: .initiator, name: "ex", description: UnknownJinglePayload(element: XMLElement(name: "description", namespace: "urn:xmpp:example")),
                                    transport: IBBTransport(blockSize: 4096, sid: "i"))
        let sid = try start(&net, contents: [unknown])
        net.deliverAll()
        #expect(net.events(alice).contains(.ended(JingleReason(.unsupportedApplications), byPeer: true)))
        #expect(net.session(alice, sid: sid)?.phase == .ended && net.session(bob, sid: sid)?.phase == .ended)
        #expect(net.errors(alice).isEmpty && net.errors(bob).isEmpty)
    }

    /// XEP-0166 §7.2.3 and §7.3: content-modify changes who sends; both machines agree afterwards.
    @Test func contentModifyChangesSenders() throws {
        var net = PairedPeers()
        let sid = try start(&net, contents: [audioContent()])
        net.deliverAll()
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendSessionAccept(contents: [audioContent()]) }
        net.deliverAll()
        let voice = contentKey("voice")
        #expect(net.session(alice, sid: sid)?.sends(.responder, on: voice) == true)
        try on(&net, bob, sid: sid) { s throws(JingleSessionError) in try s.sendContentModify([JingleContent(creator: .initiator, name: "voice", senders: .initiator)]) }
        net.deliverAll()
        for who in [alice, bob] {
            let session = try #require(net.session(who, sid: sid))
            #expect(session.sends(.initiator, on: voice))
            #expect(!session.sends(.responder, on: voice))
        }
        try on(&net, alice, sid: sid) { s throws(JingleSessionError) in try s.sendContentModify([JingleContent(creator: .initiator, name: "voice", senders: JingleSenders.none)]) }
        net.deliverAll()
        #expect(net.session(bob, sid: sid)?.sends(.initiator, on: voice) == false)
        #expect(net.errors(alice).isEmpty && net.errors(bob).isEmpty)
    }

    /// XEP-0353 §3.2: after Jingle Message Initiation the session-initiate carries the proposal id as sid.
    @Test func managerStartsASessionWithAGivenSid() throws {
        var manager = JingleSessionManager(local: alice, ids: SequentialIDGenerator(prefix: "a"), sessionIDs: SequentialIDGenerator(prefix: "s"))
        let (sid, actions) = try manager.sendSessionInitiate(to: bob, contents: [audioContent()], sid: "proposal-7", now: t0)
        #expect(sid == "proposal-7")
        let sent = actions.compactMap { if case .send(let iq) = $0 { iq } else { nil } }
        #expect(sent.count == 1 && sent.first?.payload?[attribute: "sid"] == "proposal-7")
        #expect(throws: JingleSessionError.self) { _ = try manager.sendSessionInitiate(to: bob, contents: [audioContent()], sid: "proposal-7", now: t0) }
        #expect(throws: JingleSessionError.self) { _ = try manager.sendSessionInitiate(to: bob, contents: [audioContent()], sid: "", now: t0) }
        #expect(try manager.sendSessionInitiate(to: bob, contents: [audioContent()], now: t0).sid != "proposal-7")
    }

    @Test func managerAnswersUnknownSessionAndRemovesEnded() throws {
        var manager = JingleSessionManager(local: bob, ids: SequentialIDGenerator(prefix: "b"), sessionIDs: SequentialIDGenerator(prefix: "s"))
        let stray = IQ(type: .set, id: "x1", from: alice, to: bob, payload: JinglePayload(action: .transportInfo, sid: "nope", contents: [audioContent()]).element())
        #expect(answer(to: stray, in: manager.receive(stray, now: t0)) == unk)
        let malformed = IQ(type: .set, id: "x2", from: alice, to: bob, payload: XMLElement("jingle", namespace: NS.jingle, ["action": "session-initiate"]))
        #expect(answer(to: malformed, in: manager.receive(malformed, now: t0)) == .error(.badRequest))
        let initiate = IQ(type: .set, id: "x3", from: alice, to: bob, payload: JinglePayload(action: .sessionInitiate, sid: "s9", initiator: alice, contents: [audioContent()]).element())
        #expect(answer(to: initiate, in: manager.receive(initiate, now: t0)) == .result)
        #expect(manager.session(peer: alice, sid: "s9")?.role == .responder)
        // Same sid from a third party is another session (XEP-0166 §7.1: sid plus parties).
        let hijack = IQ(type: .set, id: "x4", from: mallory, to: bob, payload: JinglePayload(action: .sessionAccept, sid: "s9", contents: [audioContent()]).element())
        #expect(answer(to: hijack, in: manager.receive(hijack, now: t0)) == unk)
        let terminate = IQ(type: .set, id: "x5", from: alice, to: bob, payload: JinglePayload(action: .sessionTerminate, sid: "s9", reason: JingleReason(.cancel)).element())
        #expect(answer(to: terminate, in: manager.receive(terminate, now: t0)) == .result)
        manager.removeEndedSessions()
        #expect(manager.allSessions.isEmpty)
        #expect(answer(to: terminate, in: manager.receive(terminate, now: t0)) == unk)
    }
}
