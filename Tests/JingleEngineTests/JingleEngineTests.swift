import Jingle
import Testing
import XMPPCore
import XMPPLink
@testable import JingleEngine

/// Two engines over a real serverless peer link (TCP on loopback) exchange a whole session.
struct JingleEngineTests {
    static func connectedPair() async throws -> (alice: JingleEngine, bob: JingleEngine) {
        let aliceJID = try JID("alice@localhost/sj"), bobJID = try JID("bob@localhost/sj")
        let listener = try await XMPPPeerLink.listen(local: bobJID, host: "127.0.0.1", port: 0)
        async let accepted = listener.accept()
        let aliceLink = try await XMPPPeerLink.connect(local: aliceJID, remote: bobJID, host: "127.0.0.1", port: listener.port)
        let bobLink = try await accepted
        let alice = JingleEngine(link: aliceLink, localJID: aliceJID)
        let bob = JingleEngine(link: bobLink, localJID: bobJID)
        await alice.start()
        await bob.start()
        return (alice, bob)
    }

    static func fileContent(_ name: String) -> JingleContent {
        JingleContent(creator: .initiator, name: name, senders: .initiator,
                      description: FileTransferDescription(file: FileTransferFile(name: "\(name).bin", size: 42)),
                      transport: ICEUDPTransport(ufrag: "abcd", pwd: "0123456789abcdefghijkl"))
    }

    static func next(_ events: inout AsyncStream<JingleEvent>.Iterator) async -> JingleEvent? { await events.next() }

    @Test(.timeLimit(.minutes(1)))
    func initiateAcceptTerminate() async throws {
        let (alice, bob) = try await Self.connectedPair()
        let handle = try await alice.initiate(to: try JID("bob@localhost/sj"), contents: [Self.fileContent("a")])
        var incomingIterator = bob.incomingSessions.makeAsyncIterator()
        let incoming = try #require(await incomingIterator.next())
        #expect(incoming.initiate.action == .sessionInitiate)
        #expect(incoming.initiate.sid == handle.id.sid)
        #expect((incoming.initiate.contents.first?.description as? FileTransferDescription)?.file.name == "a.bin")

        var aliceEvents = handle.events.makeAsyncIterator()
        // The session-initiate is acknowledged (XEP-0166 §6.3).
        guard case .acknowledged(.sessionInitiate, let ackID)? = await aliceEvents.next() else { Issue.record("no ack"); return }
        #expect(!ackID.isEmpty)

        try await bob.accept(incoming.id, contents: [Self.fileContent("a")])
        guard case .received(let accept)? = await aliceEvents.next() else { Issue.record("no session-accept"); return }
        #expect(accept.action == .sessionAccept)

        try await bob.terminate(incoming.id, reason: JingleReason(.success))
        var bobEvents = incoming.handle.events.makeAsyncIterator()
        var sawEnd = false
        while let event = await aliceEvents.next() {
            if case .ended(let reason, let byPeer) = event { #expect(reason?.condition == .success && byPeer); sawEnd = true; break }
        }
        #expect(sawEnd)
        var bobEnded = false
        while let event = await bobEvents.next() {
            if case .ended(_, let byPeer) = event { #expect(!byPeer); bobEnded = true; break }
        }
        #expect(bobEnded)
        #expect(await alice.session(handle.id) == nil)
        await alice.stop(); await bob.stop()
    }

    @Test(.timeLimit(.minutes(1)))
    func unknownSessionIsAnsweredOnTheWire() async throws {
        let (alice, bob) = try await Self.connectedPair()
        var payload = JinglePayload(action: .transportInfo, sid: "nonexistent", contents: [Self.fileContent("a")])
        payload.initiator = try JID("alice@localhost/sj")
        let iq = IQ(type: .set, id: "x1", to: try JID("bob@localhost/sj"), payload: payload.element())
        await #expect(throws: XMPPLinkError.self) { _ = try await alice.link.sendIQ(iq, timeout: .seconds(5)) }
        do {
            _ = try await alice.link.sendIQ(iq, timeout: .seconds(5))
        } catch XMPPLinkError.stanzaError(let error) {
            #expect(error.condition == .itemNotFound)
            #expect(error.applicationCondition?.name == "unknown-session")
        }
        await alice.stop(); await bob.stop()
    }
}
