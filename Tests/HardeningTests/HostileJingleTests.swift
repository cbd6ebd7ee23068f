import Jingle
import Testing
import XMLStream
import XMPPCore

/// Hostile Jingle requests (XEP-0166): each is refused with the exact stanza error, and the same manager then
/// still serves the next, well-formed request.
@Suite struct HostileJingleTests {
    static let romeo = try! JID("romeo@montague.lit/orchard")
    static let juliet = try! JID("juliet@capulet.lit/balcony")
    static let iago = try! JID("iago@venice.lit/dagger")
    static let now = ContinuousClock.now

    static let voiceContent = """
        <content xmlns='urn:xmpp:jingle:1' creator='initiator' name='voice'>\
        <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='0' name='PCMU'/></description>\
        <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd='asd88fgpdd777uzjYhagZg' ufrag='8hhy'/></content>
        """

    static func iq(from: JID, to: JID, id: String, jingle: String) throws -> IQ {
        let text = "<iq xmlns='jabber:client' from='\(from)' to='\(to)' id='\(id)' type='set'>\(jingle)</iq>"
        return try IQ(element: XMLElement(parsing: text))
    }

    static func initiate(sid: String, contents: String = voiceContent, extra: String = "") -> String {
        "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='\(sid)' initiator='\(romeo)'\(extra)>\(contents)</jingle>"
    }

    static func responder() -> JingleSessionManager {
        JingleSessionManager(local: juliet, ids: SequentialIDGenerator(prefix: "j"), sessionIDs: SequentialIDGenerator(prefix: "js"))
    }

    /// The single reply among the actions (XEP-0166 answers every request exactly once).
    static func reply(_ actions: [JingleAction]) -> IQ? {
        let replies = actions.compactMap { if case .reply(let iq) = $0 { iq } else { nil } }
        #expect(replies.count == 1)
        return replies.first
    }

    /// A later, valid session-initiate on the same manager is acknowledged and creates its session.
    static func expectStillServes(_ manager: inout JingleSessionManager, sid: String = "fresh1") throws {
        let actions = manager.receive(try iq(from: romeo, to: juliet, id: "ok-\(sid)", jingle: initiate(sid: sid)), now: now)
        #expect(reply(actions)?.type == .result)
        #expect(manager.session(peer: romeo, sid: sid)?.phase == .pending)
    }

    @Test func unknownAction() throws {
        let jingle = "<jingle xmlns='urn:xmpp:jingle:1' action='session-dance' sid='s1'/>"
        #expect(throws: JingleParseError(.invalidAttribute("action", value: "session-dance"), element: "jingle", section: "XEP-0166 §7.1")) {
            try JinglePayload(element: XMLElement(parsing: jingle))
        }
        var manager = Self.responder()
        let answer = Self.reply(manager.receive(try Self.iq(from: Self.romeo, to: Self.juliet, id: "x1", jingle: jingle), now: Self.now))
        #expect(answer?.type == .error)
        #expect(answer?.error?.condition == .badRequest)
        #expect(answer?.error?.text == "unknown action 'session-dance'")
        try Self.expectStillServes(&manager)
    }

    @Test func missingSid() throws {
        let jingle = "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate'>\(Self.voiceContent)</jingle>"
        #expect(throws: JingleParseError(.missingAttribute("sid"), element: "jingle", section: "XEP-0166 §7.1")) {
            try JinglePayload(element: XMLElement(parsing: jingle))
        }
        var manager = Self.responder()
        let answer = Self.reply(manager.receive(try Self.iq(from: Self.romeo, to: Self.juliet, id: "x2", jingle: jingle), now: Self.now))
        #expect(answer?.error?.condition == .badRequest)
        #expect(answer?.error?.text == "jingle without sid (XEP-0166 §7.1)")
        #expect(manager.allSessions.isEmpty)
        try Self.expectStillServes(&manager)
    }

    @Test func duplicateContentNames() throws {
        // XEP-0166 §7.1: creator and name together identify a content, so two with the same pair are ambiguous.
        let jingle = Self.initiate(sid: "dup1", contents: Self.voiceContent + Self.voiceContent)
        var manager = Self.responder()
        let answer = Self.reply(manager.receive(try Self.iq(from: Self.romeo, to: Self.juliet, id: "x3", jingle: jingle), now: Self.now))
        #expect(answer?.type == .error)
        #expect(answer?.error?.condition == .badRequest)
        #expect(answer?.error?.text == "session-initiate names the same content twice (XEP-0166 §7.1)")
        #expect(manager.session(peer: Self.romeo, sid: "dup1") == nil)
        try Self.expectStillServes(&manager)
    }

    @Test func unknownTransportNamespace() throws {
        let contents = """
            <content xmlns='urn:xmpp:jingle:1' creator='initiator' name='voice'>\
            <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='0' name='PCMU'/></description>\
            <transport xmlns='urn:example:carrier-pigeon:1'/></content>
            """
        var manager = Self.responder()
        let actions = manager.receive(try Self.iq(from: Self.romeo, to: Self.juliet, id: "x4", jingle: Self.initiate(sid: "pigeon", contents: contents)), now: Self.now)
        // XEP-0166 §6.3.2: acknowledge, then terminate with <unsupported-transports/>.
        #expect(Self.reply(actions)?.type == .result)
        let terminate = actions.compactMap { action -> JinglePayload? in
            guard case .send(let iq) = action else { return nil }
            return try? iq.jingle()
        }.first
        #expect(terminate?.action == .sessionTerminate)
        #expect(terminate?.reason?.condition == .unsupportedTransports)
        #expect(manager.session(peer: Self.romeo, sid: "pigeon")?.phase == .ended)
        try Self.expectStillServes(&manager)
    }

    /// Romeo starts a session with Juliet; returns his manager and the sid.
    static func initiator() throws -> (JingleSessionManager, String) {
        var manager = JingleSessionManager(local: romeo, ids: SequentialIDGenerator(prefix: "r"), sessionIDs: SequentialIDGenerator(prefix: "rs"))
        let content = try JingleContent(element: XMLElement(parsing: voiceContent))
        let (sid, actions) = try manager.sendSessionInitiate(to: juliet, contents: [content], now: now)
        #expect(actions.contains { if case .send = $0 { true } else { false } })
        return (manager, sid)
    }

    static func accept(sid: String) -> String {
        "<jingle xmlns='urn:xmpp:jingle:1' action='session-accept' sid='\(sid)' responder='\(juliet)'>\(voiceContent)</jingle>"
    }

    @Test func sessionAcceptFromAThirdParty() throws {
        var (manager, sid) = try Self.initiator()
        let forged = Self.reply(manager.receive(try Self.iq(from: Self.iago, to: Self.romeo, id: "evil1", jingle: Self.accept(sid: sid)), now: Self.now))
        // XEP-0166 §7.2 / §8: a request for a session the sender is not part of is for an unknown session.
        #expect(forged?.type == .error)
        #expect(forged?.error?.condition == .itemNotFound)
        #expect(forged?.error?.applicationCondition?.name == "unknown-session")
        #expect(forged?.error?.applicationCondition?.namespace == NS.jingleErrors)
        #expect(manager.session(peer: Self.juliet, sid: sid)?.phase == .pending)
        // The real responder's accept still goes through.
        let real = Self.reply(manager.receive(try Self.iq(from: Self.juliet, to: Self.romeo, id: "acc1", jingle: Self.accept(sid: sid)), now: Self.now))
        #expect(real?.type == .result)
        #expect(manager.session(peer: Self.juliet, sid: sid)?.phase == .active)
    }

    @Test func transportInfoForAnUnknownContent() throws {
        var (manager, sid) = try Self.initiator()
        _ = manager.receive(try Self.iq(from: Self.juliet, to: Self.romeo, id: "acc2", jingle: Self.accept(sid: sid)), now: Self.now)
        func transportInfo(_ name: String) -> String {
            """
            <jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='\(sid)'><content creator='initiator' name='\(name)'>\
            <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd='asd88fgpdd777uzjYhagZg' ufrag='8hhy'>\
            <candidate component='1' foundation='1' generation='0' id='c1' ip='192.0.2.1' network='0' port='3478' \
            priority='2130706431' protocol='udp' type='host'/></transport></content></jingle>
            """
        }
        let refused = Self.reply(manager.receive(try Self.iq(from: Self.juliet, to: Self.romeo, id: "ti1", jingle: transportInfo("ghost")), now: Self.now))
        #expect(refused?.error?.condition == .badRequest)
        #expect(refused?.error?.text == "transport-info names a content that does not exist")
        let accepted = Self.reply(manager.receive(try Self.iq(from: Self.juliet, to: Self.romeo, id: "ti2", jingle: transportInfo("voice")), now: Self.now))
        #expect(accepted?.type == .result)
        #expect(manager.session(peer: Self.juliet, sid: sid)?.phase == .active)
    }
}
