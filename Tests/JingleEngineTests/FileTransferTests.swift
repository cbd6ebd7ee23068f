import FileTransfer
import Foundation
import Hashes
import ICE
import Jingle
import TestServers
import Testing
import XMLStream
import XMPPCore
import XMPPLink
@testable import JingleEngine
#if canImport(Glibc)
import Glibc
#endif

/// XEP-0234 transfers between two engines on loopback: over the serverless peer link and through a real
/// Prosody, with real ICE (libnice) and DTLS.
@Suite("file transfer", .serialized)
struct FileTransferTests {
    static let senderJID = try! JID("sender@localhost/ft"), receiverJID = try! JID("receiver@localhost/ft")

    struct Pair {
        let sender: JingleEngine
        let receiver: JingleEngine
        let receiverJID: JID
        let close: @Sendable () async -> Void
    }

    static func peerPair() async throws -> Pair {
        let listener = try await XMPPPeerLink.listen(local: receiverJID, host: "127.0.0.1", port: 0)
        async let accepted = listener.accept()
        let senderLink = try await XMPPPeerLink.connect(local: senderJID, remote: receiverJID, host: "127.0.0.1", port: listener.port)
        let receiverLink = try await accepted
        return await start(senderLink, senderJID, receiverLink, receiverJID) { await senderLink.close(); await receiverLink.close() }
    }

    static func prosodyPair() async throws -> Pair {
        let server = try ProsodyServer.get()
        let alice = try await server.connect("alice", resource: "ft")
        let bob = try await server.connect("bob", resource: "ft")
        let aliceJID = try #require(await alice.boundJID), bobJID = try #require(await bob.boundJID)
        return await start(alice, aliceJID, bob, bobJID) { await alice.close(); await bob.close() }
    }

    static func start(_ a: any XMPPSession, _ aJID: JID, _ b: any XMPPSession, _ bJID: JID, close: @escaping @Sendable () async -> Void) async -> Pair {
        let sender = JingleEngine(link: a, localJID: aJID), receiver = JingleEngine(link: b, localJID: bJID)
        await sender.start(); await receiver.start()
        await sender.advertise(FileTransferOptions.features); await receiver.advertise(FileTransferOptions.features)
        return Pair(sender: sender, receiver: receiver, receiverJID: bJID, close: close)
    }

    static func options(_ ice: ICEConfiguration = ICEConfiguration(localAddresses: ["127.0.0.1"])) -> FileTransferOptions {
        FileTransferOptions(ice: ice, connectTimeout: .seconds(15), answerTimeout: .seconds(30))
    }

    static func tempDirectory(_ tag: String) throws -> String {
        let path = NSTemporaryDirectory() + "ft-\(tag)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A file of `size` pseudo-random bytes (a fixed-seed generator, so a failure can be reproduced).
    static func makeFile(_ directory: String, _ name: String, size: Int, seed: UInt64 = 7) throws -> String {
        let path = directory + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var remaining = size
        while remaining > 0 {
            let n = min(remaining, 1 << 20)
            var chunk = [UInt8](repeating: 0, count: n)
            chunk.withUnsafeMutableBytes { raw in
                var i = 0
                while i < n {
                    state ^= state << 13; state ^= state >> 7; state ^= state << 17
                    withUnsafeBytes(of: state) { word in for b in word where i < n { raw[i] = b; i += 1 } }
                }
            }
            try handle.write(contentsOf: chunk)
            remaining -= n
        }
        try handle.close()
        return path
    }

    struct Outcome {
        let sent: Result<[FileTransferResult], FileTransferSessionError>
        let received: Result<[FileTransferResult], FileTransferSessionError>
    }

    /// Runs one session: the receiver handles the first incoming offer with `policy`.
    static func transfer(_ pair: Pair, paths: [String], offeredNames: [String]? = nil, policy: JingleFileTransfer.ReceivePolicy,
                         senderOptions: FileTransferOptions = options(), receiverOptions: FileTransferOptions = options()) async -> Outcome {
        let receiver = pair.receiver
        let receiving = Task { () -> Result<[FileTransferResult], FileTransferSessionError> in
            var incoming = receiver.incomingSessions.makeAsyncIterator()
            guard let session = await incoming.next() else { return .failure(.protocolError("no session")) }
            do throws(FileTransferSessionError) { return .success(try await JingleFileTransfer.receive(engine: receiver, incoming: session, policy: policy, options: receiverOptions)) } catch {
                return .failure(error)
            }
        }
        let sent: Result<[FileTransferResult], FileTransferSessionError>
        do throws(FileTransferSessionError) {
            sent = .success(try await JingleFileTransfer.send(engine: pair.sender, to: pair.receiverJID, paths: paths, offeredNames: offeredNames,
                                                              options: senderOptions))
        } catch {
            sent = .failure(error)
        }
        return Outcome(sent: sent, received: await receiving.value)
    }

    static func sha256(_ path: String) throws -> [UInt8] { try FileSource.hash(path: path) }

    static func listing(_ dir: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() }

    // MARK: sizes

    @Test("byte-identical over the peer link", .timeLimit(.minutes(1)), arguments: [0, 1, (1 << 20) + 1])
    func sizesOverPeerLink(size: Int) async throws {
        try await sizeCase(size: size, pair: try await Self.peerPair())
    }

    @Test("byte-identical through Prosody", .timeLimit(.minutes(1)), arguments: [0, 1, (1 << 20) + 1])
    func sizesThroughProsody(size: Int) async throws {
        try await sizeCase(size: size, pair: try await Self.prosodyPair())
    }

    /// 200 MiB in the debug build: measured at about 25 MB/s on this machine, so under 15 s.
    @Test("200 MiB through Prosody", .timeLimit(.minutes(1)))
    func large() async throws {
        try await sizeCase(size: 200 << 20, pair: try await Self.prosodyPair())
    }

    func sizeCase(size: Int, pair: Pair) async throws {
        let src = try Self.tempDirectory("src"), dst = try Self.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: src); try? FileManager.default.removeItem(atPath: dst) }
        let path = try Self.makeFile(src, "data-\(size).bin", size: size)
        let outcome = await Self.transfer(pair, paths: [path], policy: .init(directory: dst, acceptAll: true))
        await pair.close()
        let sent = try outcome.sent.get(), received = try outcome.received.get()
        #expect(sent.count == 1 && received.count == 1)
        let expected = try Self.sha256(path)
        #expect(received.first?.sha256 == expected)
        #expect(sent.first?.verified == true && sent.first?.transferred == UInt64(size))
        let out = dst + "/data-\(size).bin"
        #expect(try Self.sha256(out) == expected)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(Self.listing(dst) == ["data-\(size).bin"], "no .part left")
    }

    @Test("several files in one session, each verified", .timeLimit(.minutes(1)))
    func severalFiles() async throws {
        let pair = try await Self.prosodyPair()
        let src = try Self.tempDirectory("src"), dst = try Self.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: src); try? FileManager.default.removeItem(atPath: dst) }
        let paths = try [("a.bin", 1000), ("b.bin", 300_000), ("c.txt", 0)].map { try Self.makeFile(src, $0.0, size: $0.1, seed: UInt64($0.1)) }
        let outcome = await Self.transfer(pair, paths: paths, policy: .init(directory: dst, acceptAll: true))
        await pair.close()
        #expect(try outcome.sent.get().count == 3)
        #expect(try outcome.received.get().map(\.name) == ["a.bin", "b.bin", "c.txt"])
        for p in paths {
            let name = (p as NSString).lastPathComponent
            #expect(try Self.sha256(dst + "/" + name) == Self.sha256(p))
        }
        #expect(Self.listing(dst) == ["a.bin", "b.bin", "c.txt"])
    }

    @Test("TURN relay only through a real coturn", .timeLimit(.minutes(1)))
    func relayOnly() async throws {
        let coturn = try CoturnServer.start(authentication: .staticUser)
        defer { coturn.stop() }
        var ice = ICEConfiguration(localAddresses: ["127.0.0.1"])
        ice.turnServers = [.init(address: "127.0.0.1", port: UInt16(coturn.port), username: "alice", password: "alicepw")]
        ice.relayOnly = true
        let pair = try await Self.peerPair()
        let src = try Self.tempDirectory("src"), dst = try Self.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: src); try? FileManager.default.removeItem(atPath: dst) }
        let path = try Self.makeFile(src, "relayed.bin", size: 300_000)
        let outcome = await Self.transfer(pair, paths: [path], policy: .init(directory: dst, acceptAll: true),
                                          senderOptions: Self.options(ice), receiverOptions: Self.options(ice))
        await pair.close()
        #expect(try outcome.sent.get().first?.verified == true)
        #expect(try Self.sha256(dst + "/relayed.bin") == Self.sha256(path))
    }

    // MARK: safety

    @Test("hostile names land inside the directory, sanitised", .timeLimit(.minutes(1)),
          arguments: 0..<3)
    func hostileNames(index: Int) async throws {
        // By index: a NUL in a test argument would cut the test runner's report short. XML 1.0 cannot carry
        // NUL: our serializer puts U+FFFD in its place, so the receiver sees (and keeps) "a\u{FFFD}b".
        let (offered, kept) = [("../../x", "x"), ("/etc/x", "x"), ("a\u{0}b", "a\u{FFFD}b")][index]
        let pair = try await Self.peerPair()
        let root = try Self.tempDirectory("root")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dst = root + "/in/deeper"
        try FileManager.default.createDirectory(atPath: dst, withIntermediateDirectories: true)
        let path = try Self.makeFile(root, "payload", size: 100)
        let outcome = await Self.transfer(pair, paths: [path], offeredNames: [offered], policy: .init(directory: dst, acceptAll: true))
        await pair.close()
        let report = "\(outcome.received) / \(outcome.sent)".replacingOccurrences(of: "\u{0}", with: "\\0")
        #expect((try? outcome.received.get())?.first?.path == dst + "/" + kept, "\(report)")
        #expect(Self.listing(dst) == [kept])
        #expect(Self.listing(root + "/in") == ["deeper"], "nothing written above --dir")
        #expect(Self.listing(root) == ["in", "payload"])
        #expect(!FileManager.default.fileExists(atPath: "/etc/x"))
    }

    @Test("an offer without consent is declined, nothing written", .timeLimit(.minutes(1)))
    func noConsent() async throws {
        let pair = try await Self.peerPair()
        let src = try Self.tempDirectory("src"), dst = try Self.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: src); try? FileManager.default.removeItem(atPath: dst) }
        let path = try Self.makeFile(src, "unsolicited.bin", size: 1000)
        let outcome = await Self.transfer(pair, paths: [path], policy: .init(directory: dst, acceptAll: false,
                                                                              acceptFrom: [try JID("someone-else@localhost")]))
        await pair.close()
        guard case .failure(.declined) = outcome.received else { Issue.record("receiver: \(outcome.received)"); return }
        guard case .failure(.peerTerminated(let reason)) = outcome.sent else { Issue.record("sender: \(outcome.sent)"); return }
        #expect(reason?.condition == .decline)
        #expect(Self.listing(dst).isEmpty)
    }

    @Test("--accept-from a bare JID accepts that peer", .timeLimit(.minutes(1)))
    func acceptFrom() async throws {
        let pair = try await Self.peerPair()
        let src = try Self.tempDirectory("src"), dst = try Self.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: src); try? FileManager.default.removeItem(atPath: dst) }
        let path = try Self.makeFile(src, "friend.bin", size: 1000)
        let outcome = await Self.transfer(pair, paths: [path], policy: .init(directory: dst, acceptFrom: [Self.senderJID.bare]))
        await pair.close()
        #expect(try outcome.received.get().count == 1)
        #expect(Self.listing(dst) == ["friend.bin"])
    }

    /// Offers the hand-made `content` to the pair's receiver, which handles the session with `answer` (receive or
    /// serve, returning its error); closes the pair. Returns the reason the session ended with and that error.
    static func handMadeOffer(_ pair: Pair, _ content: JingleContent,
                              answer: @escaping @Sendable (JingleEngine, IncomingJingleSession) async -> FileTransferSessionError?)
        async throws -> (ended: JingleReason?, error: FileTransferSessionError?) {
        let receiver = pair.receiver
        let answering = Task { () -> FileTransferSessionError? in
            var incoming = receiver.incomingSessions.makeAsyncIterator()
            guard let session = await incoming.next() else { return nil }
            return await answer(receiver, session)
        }
        let handle = try await pair.sender.initiate(to: pair.receiverJID, contents: [content])
        var ended: JingleReason?
        for await event in handle.events { if case .ended(let reason, _) = event { ended = reason; break } }
        let error = await answering.value
        await pair.close()
        return (ended, error)
    }

    /// `answer` for `handMadeOffer`: `jingle receive` into `policy`.
    static func receiving(_ policy: JingleFileTransfer.ReceivePolicy) -> @Sendable (JingleEngine, IncomingJingleSession) async -> FileTransferSessionError? {
        { engine, session in
            do throws(FileTransferSessionError) {
                _ = try await JingleFileTransfer.receive(engine: engine, incoming: session, policy: policy, options: options())
            } catch {
                return error
            }
            return nil
        }
    }

    @Test("a 1 TB offer over --max-size is declined before any byte", .timeLimit(.minutes(1)))
    func tooLarge() async throws {
        let pair = try await Self.peerPair()
        let dst = try Self.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: dst) }
        // A hand-made offer: no sender could produce a real 1 TB file here.
        let file = FileTransferFile(name: "huge.iso", size: 1 << 40)
        let content = JingleContent(creator: .initiator, name: "f", senders: .initiator, description: FileTransferDescription(file: file),
                                    transport: ICEUDPTransport(ufrag: "abcd", pwd: "0123456789abcdefghijkl"))
        let (ended, error) = try await Self.handMadeOffer(pair, content, answer: Self.receiving(.init(directory: dst, acceptAll: true, maxSize: 1 << 30)))
        #expect(ended?.condition == .decline)
        #expect(ended?.text?.contains("--max-size") == true)
        guard let error, case .declined = error else { Issue.record("receiver: \(String(describing: error))"); return }
        #expect(Self.listing(dst).isEmpty, "no .part created")
    }

    @Test("a wrong checksum keeps nothing and ends with media-error", .timeLimit(.minutes(1)))
    func hashMismatch() async throws {
        let pair = try await Self.peerPair()
        let src = try Self.tempDirectory("src"), dst = try Self.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: src); try? FileManager.default.removeItem(atPath: dst) }
        let path = try Self.makeFile(src, "tampered.bin", size: 50_000)
        var corrupt = Self.options()
        corrupt.corruptChecksum = true
        let outcome = await Self.transfer(pair, paths: [path], policy: .init(directory: dst, acceptAll: true), senderOptions: corrupt)
        await pair.close()
        guard case .failure(.verification(let message)) = outcome.received else { Issue.record("receiver: \(outcome.received)"); return }
        #expect(message.contains("mismatch"))
        guard case .failure(.peerTerminated(let reason)) = outcome.sent else { Issue.record("sender: \(outcome.sent)"); return }
        #expect(reason?.condition == .mediaError)
        #expect(Self.listing(dst).isEmpty, "neither the file nor its .part kept")
    }

    @Test("an existing file is never overwritten", .timeLimit(.minutes(1)))
    func noOverwrite() async throws {
        let pair = try await Self.peerPair()
        let src = try Self.tempDirectory("src"), dst = try Self.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: src); try? FileManager.default.removeItem(atPath: dst) }
        let path = try Self.makeFile(src, "same.bin", size: 2000)
        try Data("precious".utf8).write(to: URL(fileURLWithPath: dst + "/same.bin"))
        let outcome = await Self.transfer(pair, paths: [path], policy: .init(directory: dst, acceptAll: true))
        await pair.close()
        let kept = try #require(try outcome.received.get().first?.path)
        #expect(kept != dst + "/same.bin")
        #expect(try String(contentsOfFile: dst + "/same.bin", encoding: .utf8) == "precious")
        #expect(try Self.sha256(kept) == Self.sha256(path))
    }

    @Test("resume: the receiver asks for a range, only the rest is sent, the whole file is verified", .timeLimit(.minutes(1)))
    func resume() async throws {
        let pair = try await Self.peerPair()
        let src = try Self.tempDirectory("src"), dst = try Self.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: src); try? FileManager.default.removeItem(atPath: dst) }
        let size = 3 << 20, already = 1_234_567
        let path = try Self.makeFile(src, "resumed.bin", size: size)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try whole.prefix(already).write(to: URL(fileURLWithPath: dst + "/resumed.bin.part"))
        let outcome = await Self.transfer(pair, paths: [path], policy: .init(directory: dst, acceptAll: true, resume: true))
        await pair.close()
        let sent = try #require(try outcome.sent.get().first)
        #expect(sent.offset == UInt64(already))
        #expect(sent.transferred == UInt64(size - already))
        let received = try #require(try outcome.received.get().first)
        #expect(received.offset == UInt64(already))
        #expect(try Data(contentsOf: URL(fileURLWithPath: dst + "/resumed.bin")) == whole)
        #expect(Self.listing(dst) == ["resumed.bin"])
    }

    @Test("a raw-UDP offer is refused with unsupported-transports", .timeLimit(.minutes(1)))
    func rawUDPOfferRefused() async throws {
        let pair = try await Self.peerPair()
        let dst = try Self.tempDirectory("dst")
        defer { try? FileManager.default.removeItem(atPath: dst) }
        let content = JingleContent(creator: .initiator, name: "f", senders: .initiator,
                                    description: FileTransferDescription(file: FileTransferFile(name: "x.bin", size: 10)),
                                    transport: RawUDPTransport(candidates: [RawUDPCandidate(component: 1, id: "x", ip: "127.0.0.1", port: 9)]))
        let (ended, error) = try await Self.handMadeOffer(pair, content, answer: Self.receiving(.init(directory: dst, acceptAll: true)))
        #expect(ended?.condition == .unsupportedTransports)
        guard let error, case .unsupported = error else { Issue.record("receiver: \(String(describing: error))"); return }
        #expect(Self.listing(dst).isEmpty)
    }
}

extension FileTransferTests {
    /// XEP-0391 JET, as Conversations sends it to peers that announce it: the content asks for end-to-end
    /// encryption the receiver cannot do. It is refused at once with security-error naming the method, and
    /// nothing is written (taken as plain, the file would be ciphertext and fail its hash at the end).
    @Test("an offer asking for JET encryption is refused with security-error", .timeLimit(.minutes(1)), arguments: ["receive", "serve"])
    func encryptedOfferRefused(side: String) async throws {
        let pair = try await Self.peerPair()
        let dst = try Self.tempDirectory("dst"), src = try Self.tempDirectory("src")
        defer { try? FileManager.default.removeItem(atPath: dst); try? FileManager.default.removeItem(atPath: src) }
        let served = try Self.makeFile(src, "x.bin", size: 10)
        let jet = UnknownJinglePayload(element: XMLStream.XMLElement("security", namespace: "urn:xmpp:jingle:jet:0",
                                                          ["name": "f", "cipher": "urn:xmpp:ciphers:aes-128-gcm-nopadding:0",
                                                           "type": "urn:xmpp:jingle:jet-omemo:0"]))
        let content = JingleContent(creator: .initiator, name: "f", senders: side == "receive" ? .initiator : .responder,
                                    description: FileTransferDescription(file: FileTransferFile(name: "x.bin", size: 10)),
                                    transport: ICEUDPTransport(ufrag: "abcd", pwd: "0123456789abcdefghijkl"), security: jet)
        let serving: @Sendable (JingleEngine, IncomingJingleSession) async -> FileTransferSessionError? = { engine, session in
            do throws(FileTransferSessionError) {
                _ = try await JingleFileTransfer.serve(engine: engine, incoming: session, policy: ServePolicy(files: [served], acceptAll: true),
                                                       options: Self.options())
            } catch {
                return error
            }
            return nil
        }
        let (ended, error) = try await Self.handMadeOffer(pair, content,
                                                          answer: side == "receive" ? Self.receiving(.init(directory: dst, acceptAll: true)) : serving)
        #expect(ended?.condition == .securityError)
        #expect(ended?.text?.contains("urn:xmpp:jingle:jet:0") == true, "\(String(describing: ended))")
        #expect(error != nil, "the receiving side reports the refusal")
        #expect(Self.listing(dst).isEmpty)
    }
}

/// Which of the sender's hashes the receiver checks (XEP-0300 §4).
struct PreferredHashTests {
    @Test func sha256FirstThenTheStrongestOtherWeRun() {
        let sha1 = FileHash(algo: "sha-1", digest: Array(repeating: 1, count: 20))
        let sha256 = FileHash(algo: "SHA-256", digest: Array(repeating: 2, count: 32))
        let sha512 = FileHash(algo: "sha-512", digest: Array(repeating: 3, count: 64))
        let blake = FileHash(algo: "blake2b-256", digest: Array(repeating: 4, count: 32))
        #expect(JingleFileTransfer.preferredHash([sha1, sha512, sha256])?.algorithm == .sha256)
        #expect(JingleFileTransfer.preferredHash([sha1, blake, sha512])?.algorithm == .sha512)
        #expect(JingleFileTransfer.preferredHash([blake, sha1])?.digest == sha1.digest)
        // Nothing we run, or a digest of the wrong length (bad base64): wait for a checksum instead.
        #expect(JingleFileTransfer.preferredHash([blake]) == nil)
        #expect(JingleFileTransfer.preferredHash([FileHash(algo: "sha-256", value: "not base64!")]) == nil)
        #expect(JingleFileTransfer.preferredHash([FileHash(algo: "sha-256", digest: [1, 2, 3])]) == nil)
    }
}
