import FileTransfer
import Foundation
import ICE
import Jingle
import TestServers
import Testing
import XMLStream
import XMPPCore
import XMPPLink
import Synchronization
@testable import JingleEngine

/// IBB (XEP-0261 over XEP-0047) as the fallback when ICE cannot connect, as a transport offered directly,
/// and hostile in-band streams, through a real Prosody.
@Suite("file transfer fallbacks", .serialized)
struct FileTransferFallbackTests {
    typealias T = FileTransferTests

    /// Like `FileTransferTests.prosodyPair`, with resources of its own: suites that run in parallel must not
    /// bind the same full JIDs (the server would route one suite's stanzas to the other).
    static func prosodyPair() async throws -> T.Pair {
        let server = try ProsodyServer.get()
        let tag = String(UInt32.random(in: 0..<UInt32.max), radix: 36)
        let alice = try await server.connect("alice", resource: "fb-\(tag)")
        let bob = try await server.connect("bob", resource: "fb-\(tag)")
        let aliceJID = try #require(await alice.boundJID), bobJID = try #require(await bob.boundJID)
        return await T.start(alice, aliceJID, bob, bobJID) { await alice.close(); await bob.close() }
    }

    static func options(connect: Duration = .seconds(15)) -> FileTransferOptions {
        FileTransferOptions(ice: ICEConfiguration(localAddresses: ["127.0.0.1"]), connectTimeout: connect, answerTimeout: .seconds(15))
    }

    static func ibbOptions() -> FileTransferOptions {
        var o = options()
        o.transport = .ibb
        return o
    }

    /// Sends `size` bytes with the given options and checks both ends agree on a verified, byte-identical file.
    static func roundTrip(_ pair: T.Pair, size: Int, sender: FileTransferOptions, receiver: FileTransferOptions = options(),
                          resumeFrom already: Int? = nil) async throws -> (sent: FileTransferResult, received: FileTransferResult) {
        let src = try T.tempDirectory("src"), dst = try T.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: src); try? FileManager.default.removeItem(atPath: dst) }
        let path = try T.makeFile(src, "f-\(size).bin", size: size, seed: UInt64(size))
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        if let already { try whole.prefix(already).write(to: URL(fileURLWithPath: dst + "/f-\(size).bin.part")) }
        let outcome = await T.transfer(pair, paths: [path], policy: .init(directory: dst, acceptAll: true, resume: already != nil),
                                       senderOptions: sender, receiverOptions: receiver)
        if case .failure(let e) = outcome.received { Issue.record("receiver: \(e)") }
        let sent = try #require(try outcome.sent.get().first), received = try #require(try outcome.received.get().first)
        #expect(received.sha256 == (try T.sha256(path)))
        #expect(sent.verified && received.verified)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dst + "/f-\(size).bin")) == whole)
        #expect(T.listing(dst) == ["f-\(size).bin"], "no .part left")
        return (sent, received)
    }

    // MARK: fallback and direct offers

    @Test("ICE cannot connect: the sender replaces the transport with IBB, 1 MiB + 1 arrives verified", .timeLimit(.minutes(1)))
    func fallbackWhenICEFails() async throws {
        let pair = try await Self.prosodyPair()
        var sender = Self.options(connect: .seconds(4))
        sender.unreachableICEForTesting = true
        let r = try await Self.roundTrip(pair, size: (1 << 20) + 1, sender: sender, receiver: Self.options(connect: .seconds(4)))
        await pair.close()
        #expect(r.sent.transport == .ibb && r.received.transport == .ibb)
        #expect(r.sent.transferred == UInt64((1 << 20) + 1))
    }

    /// A receiver like Conversations, Dino or Gajim, which takes files over SOCKS5 or IBB only: it ends the
    /// ICE-UDP offer with unsupported-transports; the sender offers again in band and the file arrives.
    @Test("a receiver without ICE-UDP for files says unsupported-transports: the sender offers again over IBB", .timeLimit(.minutes(1)))
    func unsupportedTransportsRetriesInBand() async throws {
        let pair = try await Self.prosodyPair()
        let src = try T.tempDirectory("src"), dst = try T.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: src); try? FileManager.default.removeItem(atPath: dst) }
        let path = try T.makeFile(src, "r.bin", size: 300_001, seed: 5)
        let receiver = pair.receiver
        let refused = Mutex<[String]>([])
        let receiving = Task { () -> Result<[FileTransferResult], FileTransferSessionError> in
            for await session in receiver.incomingSessions {
                let kinds = session.initiate.contents.compactMap { $0.transport.map { type(of: $0).namespace } }
                if kinds.contains(NS.jingleICEUDP) {
                    refused.withLock { $0.append(session.id.sid) }
                    try? await receiver.terminate(session.id, reason: JingleReason(.unsupportedTransports, text: "files over s5b or ibb only"))
                    continue
                }
                do throws(FileTransferSessionError) {
                    return .success(try await JingleFileTransfer.receive(engine: receiver, incoming: session,
                                                                         policy: .init(directory: dst, acceptAll: true), options: Self.options()))
                } catch { return .failure(error) }
            }
            return .failure(.protocolError("no session"))
        }
        let sent = try await JingleFileTransfer.send(engine: pair.sender, to: pair.receiverJID, paths: [path], options: Self.options())
        let received = try await receiving.value.get()
        await pair.close()
        #expect(refused.withLock { $0.count } == 1, "one ICE offer refused, then a new session")
        #expect(sent.first?.transport == .ibb && received.first?.transport == .ibb)
        #expect(sent.first?.verified == true && received.first?.verified == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dst + "/r.bin")) == (try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    @Test("without the fallback, the same ICE failure ends the session", .timeLimit(.minutes(1)))
    func noFallback() async throws {
        let pair = try await Self.prosodyPair()
        let src = try T.tempDirectory("src"), dst = try T.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: src); try? FileManager.default.removeItem(atPath: dst) }
        let path = try T.makeFile(src, "x.bin", size: 1000)
        var sender = Self.options(connect: .seconds(3))
        sender.unreachableICEForTesting = true
        sender.ibbFallback = false
        let outcome = await T.transfer(pair, paths: [path], policy: .init(directory: dst, acceptAll: true), senderOptions: sender,
                                       receiverOptions: Self.options(connect: .seconds(3)))
        await pair.close()
        guard case .failure(let error) = outcome.sent else { Issue.record("the sender succeeded without a transport"); return }
        #expect(error.description.contains("ICE"), "\(error)")
        #expect(throws: FileTransferSessionError.self) { try outcome.received.get() }
        #expect(!T.listing(dst).contains("x.bin"))
    }

    @Test("an IBB-only offer (no ICE) is accepted: byte-identical, hash verified", .timeLimit(.minutes(1)), arguments: [0, 1, (1 << 20) + 1])
    func ibbOffered(size: Int) async throws {
        let pair = try await Self.prosodyPair()
        let r = try await Self.roundTrip(pair, size: size, sender: Self.ibbOptions())
        await pair.close()
        #expect(r.sent.transport == .ibb && r.received.transport == .ibb)
        #expect(r.sent.transferred == UInt64(size))
    }

    @Test("resume over IBB: only the missing range is sent, the whole file is verified", .timeLimit(.minutes(1)))
    func ibbResume() async throws {
        let pair = try await Self.prosodyPair()
        let size = 300_000, already = 123_457
        let r = try await Self.roundTrip(pair, size: size, sender: Self.ibbOptions(), resumeFrom: already)
        await pair.close()
        #expect(r.sent.offset == UInt64(already) && r.received.offset == UInt64(already))
        #expect(r.sent.transferred == UInt64(size - already))
    }

    @Test("more than 65536 blocks: the XEP-0047 seq wraps to 0 and the stream goes on", .timeLimit(.minutes(1)))
    func seqWraps() async throws {
        let inbound = IBBInbound(sid: "wrap", peer: FileTransferTests.senderJID, blockSize: 4)
        let events = SessionEventBuffer(AsyncStream { $0.finish() })
        var expected: [UInt8] = []
        for i in 0..<65_539 {
            let block = [UInt8(truncatingIfNeeded: i), UInt8(truncatingIfNeeded: i >> 8)]
            expected += block
            let seq = UInt16(truncatingIfNeeded: i)
            try inbound.receiveData(XMLElement("data", namespace: NS.ibb, ["seq": String(seq), "sid": "wrap"], text: Data(block).base64EncodedString()))
        }
        let got = try await inbound.read(idleTimeout: .seconds(1), events: events)
        #expect(got == expected)
        // After 65535 came 0 again; 65536 itself is not a valid seq.
        #expect(throws: StanzaError.self) { try inbound.receiveData(XMLElement("data", namespace: NS.ibb, ["seq": "65536", "sid": "wrap"], text: "AA==")) }
        #expect(inbound.isFinished)
    }

    // MARK: transport-replace the receiver cannot do

    @Test("a transport-replace to a transport we cannot use gets transport-reject", .timeLimit(.minutes(1)))
    func replaceRejected() async throws {
        let pair = try await Self.prosodyPair()
        let dst = try T.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: dst) }
        let receiver = pair.receiver
        let receiving = Task { () -> FileTransferSessionError? in
            var incoming = receiver.incomingSessions.makeAsyncIterator()
            guard let session = await incoming.next() else { return nil }
            do throws(FileTransferSessionError) {
                _ = try await JingleFileTransfer.receive(engine: receiver, incoming: session, policy: .init(directory: dst, acceptAll: true),
                                                         options: Self.options(connect: .seconds(10)))
            } catch { return error }
            return nil
        }
        // A scripted sender: a real ICE offer it never connects, then transport-replace to raw UDP (XEP-0177).
        let ice = try await ICEContentTransport.make(ICEConfiguration(localAddresses: ["127.0.0.1"]), role: .controlling, timeout: .seconds(10))
        let offer = try await ice.jingleTransport(setup: .actpass, idPrefix: "c")
        let content = JingleContent(creator: .initiator, name: "f", senders: .initiator,
                                    description: FileTransferDescription(file: FileTransferFile(name: "r.bin", size: 10)), transport: offer)
        let handle = try await pair.sender.initiate(to: pair.receiverJID, contents: [content])
        let events = SessionEventBuffer(handle.events)
        _ = try await events.take(timeout: .seconds(10), "session-accept") { e -> Bool? in
            if case .received(let p) = e, p.action == .sessionAccept { return true }
            return nil
        }
        let raw = JingleContent(creator: .initiator, name: "f", senders: .initiator,
                                transport: RawUDPTransport(candidates: [RawUDPCandidate(component: 1, id: "x", ip: "127.0.0.1", port: 9)]))
        try await pair.sender.perform(on: handle.id) { (s: inout JingleSession) throws(JingleSessionError) in try s.sendTransportReplace([raw]) }
        let rejected = try await events.take(timeout: .seconds(10), "transport-reject") { e -> JinglePayload? in
            if case .received(let p) = e, p.action == .transportReject { return p }
            if case .received(let p) = e, p.action == .transportAccept { Issue.record("raw UDP was accepted"); return p }
            return nil
        }
        #expect(rejected.contents.map(\.name) == ["f"])
        try await pair.sender.terminate(handle.id, reason: JingleReason(.cancel))
        let error = await receiving.value
        await ice.close()
        await pair.close()
        guard let error, case .peerTerminated = error else { Issue.record("receiver: \(String(describing: error))"); return }
        #expect(T.listing(dst).isEmpty || T.listing(dst) == ["r.bin.part"])
    }

    // MARK: hostile in-band streams

    enum Hostile: String, CaseIterable, Sendable {
        case wrongSeq, unknownSID, badBase64, oversizedBlock
    }

    @Test("a hostile IBB stream aborts cleanly with a clear error; the engine serves the next session", .timeLimit(.minutes(1)),
          arguments: Hostile.allCases)
    func hostileStream(_ hostile: Hostile) async throws {
        let pair = try await Self.prosodyPair()
        let dst = try T.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: dst) }
        let receiver = pair.receiver
        let receiving = Task { () -> FileTransferSessionError? in
            var incoming = receiver.incomingSessions.makeAsyncIterator()
            guard let session = await incoming.next() else { return nil }
            do throws(FileTransferSessionError) {
                _ = try await JingleFileTransfer.receive(engine: receiver, incoming: session, policy: .init(directory: dst, acceptAll: true),
                                                         options: Self.options(connect: .seconds(5)))
            } catch { return error }
            return nil
        }
        let sid = "hostile-\(hostile.rawValue)"
        let content = JingleContent(creator: .initiator, name: "f", senders: .initiator,
                                    description: FileTransferDescription(file: FileTransferFile(name: "h.bin", size: 10_000)),
                                    transport: IBBTransport(blockSize: 4096, sid: sid))
        let handle = try await pair.sender.initiate(to: pair.receiverJID, contents: [content])
        let events = SessionEventBuffer(handle.events)
        let accept = try await events.take(timeout: .seconds(10), "session-accept") { e -> JinglePayload? in
            if case .received(let p) = e, p.action == .sessionAccept { return p }
            return nil
        }
        let answered = try #require(accept.contents.first?.transport as? IBBTransport)
        #expect(answered.sid == sid && answered.blockSize <= 4096)
        let link = pair.sender.link
        let out = IBBOutbound(link: link, peer: pair.receiverJID, sid: sid, blockSize: 4096)
        try await out.open()
        func data(seq: String, sid: String, text: String) -> IQ {
            IQ(type: .set, id: "h-\(UUID().uuidString)", to: pair.receiverJID,
               payload: XMLElement("data", namespace: NS.ibb, ["seq": seq, "sid": sid], text: text))
        }
        let good = Data([UInt8](repeating: 0x41, count: 100)).base64EncodedString()
        let (iq, condition, clue): (IQ, StanzaError.Condition, String) = switch hostile {
        case .wrongSeq: (data(seq: "7", sid: sid, text: good), .unexpectedRequest, "out of order")
        case .unknownSID: (data(seq: "0", sid: "no-such-stream", text: good), .itemNotFound, "ended after 0 of 10000 bytes")
        case .badBase64: (data(seq: "0", sid: sid, text: "!!not*base64!!"), .badRequest, "base64")
        case .oversizedBlock: (data(seq: "0", sid: sid, text: Data(count: 5000).base64EncodedString()), .badRequest, "above the agreed")
        }
        do {
            _ = try await link.sendIQ(iq, timeout: .seconds(10))
            Issue.record("the hostile data IQ was acknowledged")
        } catch XMPPLinkError.stanzaError(let e) {
            #expect(e.condition == condition)
        }
        if hostile == .unknownSID {
            // The real stream is then closed with nothing in it: the receiver notices the missing bytes.
            let close = XMLElement("close", namespace: NS.ibb, ["sid": sid])
            _ = try await link.sendIQ(IQ(type: .set, id: "c-\(UUID().uuidString)", to: pair.receiverJID, payload: close), timeout: .seconds(10))
        }
        let error = await receiving.value
        #expect(error?.description.contains(clue) == true, "\(String(describing: error))")
        let ended = try await events.take(timeout: .seconds(10), "session-terminate") { e -> JingleReason?? in
            if case .ended(let reason, _) = e { return .some(reason) }
            return nil
        }
        #expect(ended?.condition == .failedApplication)
        #expect(!T.listing(dst).contains("h.bin"))

        // The same engines carry the next session normally.
        let r = try await Self.roundTrip(pair, size: 50_000, sender: Self.ibbOptions())
        await pair.close()
        #expect(r.received.transport == .ibb)
    }

    // MARK: wire examples

    /// XEP-0047 Example 6 (also XEP-0261 Example 7): base64 wrapped over lines decodes; the sequence starts at 0.
    @Test("the XEP-0047 data example decodes; a repeat of its seq is out of order")
    func xep0047Example() async throws {
        let text = """
        <iq from='romeo@montague.net/orchard' id='kr91n475' to='juliet@capulet.com/balcony' type='set'>
          <data xmlns='http://jabber.org/protocol/ibb' seq='0' sid='i781hf64'>
            qANQR1DBwU4DX7jmYZnncmUQB/9KuKBddzQH+tZ1ZywKK0yHKnq57kWq+RFtQdCJ
            WpdWpR0uQsuJe7+vh3NWn59/gTc5MDlX8dS9p0ovStmNcyLhxVgmqS8ZKhsblVeu
            IpQ0JgavABqibJolc3BKrVtVV1igKiX/N7Pi8RtY1K18toaMDhdEfhBRzO/XB0+P
            AQhYlRjNacGcslkhXqNjK5Va4tuOAPy2n1Q8UUrHbUd0g+xJ9Bm0G0LZXyvCWyKH
            kuNEHFQiLuCY6Iv0myq6iX6tjuHehZlFSh80b5BVV9tNLwNR5Eqz1klxMhoghJOA
          </data>
        </iq>
        """
        let iq = try IQ(element: try XMLElement(parsing: text))
        let router = IBBRouter()
        let inbound = router.expect(sid: "i781hf64", from: try JID("romeo@montague.net/orchard"), blockSize: 4096)
        #expect(try router.handle(iq) == nil)
        #expect(!inbound.isFinished)
        let events = SessionEventBuffer(AsyncStream { $0.finish() })
        let bytes = try await inbound.read(idleTimeout: .seconds(1), events: events)
        #expect(bytes?.count == 5 * 48)
        #expect(bytes?.prefix(3) == [0xA8, 0x03, 0x50])
        // The same seq again is a repeat: unexpected-request, and the stream is gone.
        #expect(throws: StanzaError.self) { try router.handle(iq) }
        #expect(inbound.isFinished)
        do { _ = try router.handle(iq) } catch let e as StanzaError { #expect(e.condition == .itemNotFound) }
    }

    // MARK: S5B (XEP-0260); proxies (XEP-0065) are in S5BProxyTests

    @Test("dstaddr is SHA-1 of sid + requester + target, as in XEP-0260 Examples 1 and 3")
    func s5bDstaddr() throws {
        let romeo = try JID("romeo@montague.lit/orchard"), juliet = try JID("juliet@capulet.lit/balcony")
        #expect(S5B.dstaddr(sid: "vj3hs98y", requester: romeo, target: juliet) == "972b7bf47291ca609517f67f86b5081086052dad")
        #expect(S5B.dstaddr(sid: "vj3hs98y", requester: juliet, target: romeo) == "1a12fb7bc625e55f3ed5b29a53dbe0e4aa7d80ba")
        #expect(S5B.priority(for: .direct, local: 100) == 8_257_636)
    }

    @Test("SOCKS5 CONNECT with a domain name (XEP-0065 §5.3.2) round-trips; hostile bytes are typed errors")
    func socks5Codec() throws {
        let dst = "972b7bf47291ca609517f67f86b5081086052dad"
        #expect(try S5B.methodSelection(for: S5B.greeting) == [5, 0])
        #expect(throws: S5B.SOCKS5Error.noAcceptableMethod) { try S5B.methodSelection(for: [5, 1, 2]) }
        #expect(throws: S5B.SOCKS5Error.notSOCKS5(4)) { try S5B.methodSelection(for: [4, 1, 0]) }
        let request = S5B.connectRequest(dstaddr: dst)
        #expect(request.count == 5 + 40 + 2)
        #expect(try S5B.parseConnectRequest(request, expecting: dst) == request.count)
        #expect(throws: S5B.SOCKS5Error.wrongDestination("x")) { try S5B.parseConnectRequest(S5B.connectRequest(dstaddr: "x"), expecting: dst) }
        #expect(throws: S5B.SOCKS5Error.truncated) { try S5B.parseConnectRequest(Array(request.prefix(20)), expecting: dst) }
        #expect(throws: S5B.SOCKS5Error.unsupportedAddressType(1)) { try S5B.parseConnectRequest([5, 1, 0, 1, 127, 0, 0, 1, 0, 0], expecting: dst) }
        let reply = S5B.connectReply(dstaddr: dst)
        #expect(try S5B.parseConnectReply(reply) == reply.count)
        #expect(try S5B.parseConnectReply([5, 0, 0, 1, 127, 0, 0, 1, 4, 56]) == 10)
        #expect(throws: S5B.SOCKS5Error.refused(5)) { try S5B.parseConnectReply([5, 5, 0, 1, 0, 0, 0, 0, 0, 0]) }
    }

    @Test("our SOCKS5 listener refuses a CONNECT to another dstaddr and takes the right one", .timeLimit(.minutes(1)))
    func socks5ListenerChecksDstaddr() async throws {
        let (listener, port) = try S5BSocket.listen(host: "127.0.0.1")
        let right = S5B.dstaddr(sid: "s", requester: try JID("a@localhost/x"), target: try JID("b@localhost/y"))
        let serving = Task { () -> [String] in
            var outcomes: [String] = []
            for _ in 0..<2 {
                guard let socket = await listener.accept(until: .now + .seconds(10)) else { break }
                do throws(FileTransferSessionError) {
                    try await socket.socks5Accept(dstaddr: right, timeout: .seconds(5))
                    outcomes.append("accepted")
                    try await socket.write([1, 2, 3][...])
                    socket.shutdownWrite()
                } catch { outcomes.append(error.description) }
            }
            return outcomes
        }
        let wrong = try await S5BSocket.connect(host: "127.0.0.1", port: port, timeout: .seconds(5))
        await #expect(throws: FileTransferSessionError.self) { try await wrong.socks5Connect(dstaddr: String(repeating: "0", count: 40), timeout: .seconds(5)) }
        let good = try await S5BSocket.connect(host: "127.0.0.1", port: port, timeout: .seconds(5))
        try await good.socks5Connect(dstaddr: right, timeout: .seconds(5))
        #expect(try await good.read(exactly: 3, timeout: .seconds(5)) == [1, 2, 3])
        #expect(try await good.read(idleTimeout: .seconds(5)) == nil)
        let outcomes = await serving.value
        #expect(outcomes.count == 2 && outcomes[0].contains("does not match") && outcomes[1] == "accepted")
        listener.close()
    }

    @Test("XEP-0260 §2.4 nomination: higher priority wins, the initiator's choice on a tie", arguments: [
        (UInt32(10), UInt32(20), "r"), (UInt32(20), UInt32(10), "i"), (UInt32(15), UInt32(15), "i"),
    ])
    func s5bNomination(initiator: UInt32, responder: UInt32, winner: String) {
        let i = S5B.Used(cid: "i", priority: initiator), r = S5B.Used(cid: "r", priority: responder)
        let expected: S5B.Nomination = winner == "i" ? .initiatorsConnection(cid: "i") : .respondersConnection(cid: "r")
        #expect(S5B.nominate(initiatorUsed: i, responderUsed: r) == expected)
        #expect(S5B.nominate(initiatorUsed: nil, responderUsed: r) == .respondersConnection(cid: "r"))
        #expect(S5B.nominate(initiatorUsed: i, responderUsed: nil) == .initiatorsConnection(cid: "i"))
        #expect(S5B.nominate(initiatorUsed: nil, responderUsed: nil) == .none)
    }

    @Test("S5B: our sender to our receiver through Prosody, direct candidates, 1 MiB + 1 verified", .timeLimit(.minutes(1)))
    func s5bTransfer() async throws {
        let pair = try await Self.prosodyPair()
        var sender = Self.options()
        sender.transport = .s5b
        let r = try await Self.roundTrip(pair, size: (1 << 20) + 1, sender: sender)
        await pair.close()
        #expect(r.sent.transport == .s5b && r.received.transport == .s5b)
        #expect(r.sent.transferred == UInt64((1 << 20) + 1))
    }

    /// XEP-0260 Example 1's transport with only its proxy candidate, whose streamhost (127.0.0.1:9) does not
    /// answer: the receiver says candidate-error and accepts the sender's transport-replace to IBB (XEP-0260 §2.6).
    @Test("an S5B offer with only a proxy candidate: candidate-error, then the IBB replacement is accepted", .timeLimit(.minutes(1)))
    func s5bProxyOnly() async throws {
        let pair = try await Self.prosodyPair()
        let dst = try T.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: dst) }
        let transport = try S5BTransport(element: XMLElement(parsing: """
            <transport xmlns='urn:xmpp:jingle:transports:s5b:1' dstaddr='972b7bf47291ca609517f67f86b5081086052dad' mode='tcp' sid='vj3hs98y'>
              <candidate cid='xmdh4b7i' host='127.0.0.1' jid='streamer.shakespeare.lit' port='9' priority='7878787' type='proxy'/>
            </transport>
            """))
        let content = JingleContent(creator: .initiator, name: "f", senders: .initiator,
                                    description: FileTransferDescription(file: FileTransferFile(name: "s.bin", size: 10)), transport: transport)
        let receiver = pair.receiver
        let receiving = Task { () -> FileTransferSessionError? in
            var incoming = receiver.incomingSessions.makeAsyncIterator()
            guard let session = await incoming.next() else { return nil }
            do throws(FileTransferSessionError) {
                _ = try await JingleFileTransfer.receive(engine: receiver, incoming: session, policy: .init(directory: dst, acceptAll: true), options: Self.options())
            } catch { return error }
            return nil
        }
        let handle = try await pair.sender.initiate(to: pair.receiverJID, contents: [content])
        let events = SessionEventBuffer(handle.events)
        let accept = try await events.take(timeout: .seconds(10), "session-accept") { e -> JinglePayload? in
            if case .received(let p) = e, p.action == .sessionAccept { return p }
            return nil
        }
        let answered = try #require(accept.contents.first?.transport as? S5BTransport)
        #expect(answered.sid == "vj3hs98y" && answered.candidates.first?.type == .direct)
        // XEP-0260 §2.2: the responder's candidates use SHA-1(sid + responder + initiator).
        #expect(answered.dstaddr == S5B.dstaddr(sid: "vj3hs98y", requester: pair.receiverJID, target: pair.sender.localJID))
        let report = try await events.take(timeout: .seconds(15), "candidate-error") { e -> S5BTransport? in
            if case .received(let p) = e, p.action == .transportInfo { return p.contents.first?.transport as? S5BTransport }
            return nil
        }
        #expect(report.candidateError && report.candidateUsed == nil)
        let ours = JingleContent(creator: .initiator, name: "f", transport: S5BTransport(sid: "vj3hs98y", candidateError: true))
        try await pair.sender.sendTransportInfo(handle.id, contents: [ours])
        let ibb = JingleContent(creator: .initiator, name: "f", senders: .initiator, transport: IBBTransport(blockSize: 4096, sid: "fallback1"))
        try await pair.sender.perform(on: handle.id) { (s: inout JingleSession) throws(JingleSessionError) in try s.sendTransportReplace([ibb]) }
        let accepted = try await events.take(timeout: .seconds(10), "transport-accept") { e -> JinglePayload? in
            if case .received(let p) = e, p.action == .transportAccept { return p }
            if case .received(let p) = e, p.action == .transportReject { Issue.record("IBB was rejected"); return p }
            return nil
        }
        #expect((accepted.contents.first?.transport as? IBBTransport)?.sid == "fallback1")
        try await pair.sender.terminate(handle.id, reason: JingleReason(.cancel))
        let error = await receiving.value
        await pair.close()
        guard let error, case .peerTerminated = error else { Issue.record("receiver: \(String(describing: error))"); return }
    }
}
