import Foundation
import Hashes
import ICE
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// STUN connectivity checks with a forged MESSAGE-INTEGRITY at a live `ICEAgent`'s host candidate, from a
/// socket of the test's own: the agent answers them 401 Unauthorized, never with a Binding success, and
/// changes neither its state nor its selected pair for them, while its real peer connects. The same request
/// with the right HMAC gets a Binding success response, so the test can tell the two apart.
@Suite("Catalogue: forged STUN checks at a live ICE agent", .serialized)
struct CatalogueSTUNTests {
    /// RFC 5389 §15: attribute types.
    enum Attribute: UInt16 {
        case username = 0x0006, messageIntegrity = 0x0008, errorCode = 0x0009, xorMappedAddress = 0x0020, priority = 0x0024
        case fingerprint = 0x8028, iceControlled = 0x8029, iceControlling = 0x802A
    }

    static let magicCookie: [UInt8] = [0x21, 0x12, 0xA4, 0x42]

    /// A Binding request (RFC 5389 §6, §15.4; RFC 8445 §7.1.2) carrying USERNAME, PRIORITY, ICE-CONTROLLED,
    /// MESSAGE-INTEGRITY keyed with `key` (short-term credentials: the receiver's password), FINGERPRINT.
    static func bindingRequest(transaction: [UInt8], username: String, key: [UInt8]) -> [UInt8] {
        var attributes: [UInt8] = []
        func append(_ type: Attribute, _ value: [UInt8]) {
            attributes += be16(type.rawValue) + be16(UInt16(value.count)) + value
            attributes += [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
        }
        append(.username, Array(username.utf8))
        append(.priority, be32(0x6E7F_1EFF))
        append(.iceControlled, [UInt8](repeating: 0x42, count: 8))
        func header(length: Int) -> [UInt8] { [0x00, 0x01] + be16(UInt16(length)) + magicCookie + transaction }
        // §15.4: the HMAC covers the message up to MESSAGE-INTEGRITY, with the length already counting it.
        let integrity = KeyedHash.hmac(.sha1, key: key, data: header(length: attributes.count + 24) + attributes)
        append(.messageIntegrity, integrity)
        // §15.5: CRC-32 of the message up to FINGERPRINT (length counting it), XOR 0x5354554E.
        let crc = crc32(header(length: attributes.count + 8) + attributes) ^ 0x5354_554E
        append(.fingerprint, be32(crc))
        return header(length: attributes.count) + attributes
    }

    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    /// CRC-32 (ISO 3309 / ITU-T V.42, the one RFC 5389 §15.5 names), bitwise.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        return ~crc
    }

    /// What came back for one transaction: message type and, for an error, the code (RFC 5389 §15.6).
    struct Answer: Equatable { let type: UInt16; let errorCode: Int? }

    /// A UDP socket of the attacker's on 127.0.0.1.
    final class Probe {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        init() {
            var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        deinit { close(fd) }

        func send(_ bytes: [UInt8], to port: UInt16) {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }

        /// Every STUN message that arrives within `seconds`, by transaction id.
        func answers(within seconds: Double) -> [[UInt8]: Answer] {
            var result: [[UInt8]: Answer] = [:]
            var buffer = [UInt8](repeating: 0, count: 2048)
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                let n = recv(fd, &buffer, buffer.count, 0)
                guard n >= 20, Array(buffer[4..<8]) == CatalogueSTUNTests.magicCookie else { continue }
                let type = UInt16(buffer[0]) << 8 | UInt16(buffer[1])
                var code: Int?
                var offset = 20
                while offset + 4 <= n {
                    let attribute = UInt16(buffer[offset]) << 8 | UInt16(buffer[offset + 1])
                    let length = Int(UInt16(buffer[offset + 2]) << 8 | UInt16(buffer[offset + 3]))
                    if attribute == Attribute.errorCode.rawValue, length >= 4, offset + 8 <= n {
                        code = Int(buffer[offset + 6] & 0x07) * 100 + Int(buffer[offset + 7])
                    }
                    offset += 4 + length + (4 - length % 4) % 4
                }
                result[Array(buffer[8..<20])] = Answer(type: type, errorCode: code)
            }
            return result
        }
    }

    @Test("checks with the right USERNAME but a wrong HMAC get 401, no Binding success, and change neither state nor selected pair; the real peer connects; the right HMAC is answered")
    func forgedMessageIntegrity() async throws {
        let a = try ICEAgent(configuration: ICEConfiguration(role: .controlling, localAddresses: ["127.0.0.1"]))
        let b = try ICEAgent(configuration: ICEConfiguration(role: .controlled, localAddresses: ["127.0.0.1"]))
        let aEvents = EventRecorder(a), bEvents = EventRecorder(b)
        let aStream = try await a.addStream(), bStream = try await b.addStream()
        try await a.gatherCandidates(stream: aStream)
        try await b.gatherCandidates(stream: bStream)
        try await aEvents.waitFor("A gathered") { if case .gatheringDone = $0 { true } else { false } }
        try await bEvents.waitFor("B gathered") { if case .gatheringDone = $0 { true } else { false } }
        let aCredentials = try await a.localCredentials(stream: aStream), bCredentials = try await b.localCredentials(stream: bStream)
        let target = try #require(try await a.localCandidates(stream: aStream).first).port
        let username = "\(aCredentials.ufrag):\(bCredentials.ufrag)"
        let wrongKey = Array(aCredentials.pwd.utf8).map { $0 ^ 0x01 }
        let probe = Probe()

        // A flood of forged checks while the real peers exchange credentials and connect.
        try await a.setRemoteCredentials(bCredentials, stream: aStream)
        try await b.setRemoteCredentials(aCredentials, stream: bStream)
        var forged: [[UInt8]] = []
        for _ in 0..<200 {
            let transaction = SecureRandom.bytes(12)
            forged.append(transaction)
            probe.send(Self.bindingRequest(transaction: transaction, username: username, key: wrongKey), to: target)
        }
        try await b.addRemoteCandidates(try await a.localCandidates(stream: aStream), stream: bStream)
        try await a.addRemoteCandidates(try await b.localCandidates(stream: bStream), stream: aStream)
        try await a.endOfRemoteCandidates(stream: aStream)
        try await b.endOfRemoteCandidates(stream: bStream)
        try await aEvents.waitFor("A ready") { if case .stateChanged(_, 1, .ready) = $0 { true } else { false } }
        try await bEvents.waitFor("B ready") { if case .stateChanged(_, 1, .ready) = $0 { true } else { false } }
        let pairBefore = try #require(try await a.selectedPair(stream: aStream))
        #expect(pairBefore.remote.port != Probe.port(probe), "the forged checks did not become the selected pair")

        // One more forged check after the pair is chosen, then the genuine one.
        let lastForged = SecureRandom.bytes(12)
        forged.append(lastForged)
        probe.send(Self.bindingRequest(transaction: lastForged, username: username, key: wrongKey), to: target)
        let forgedAnswers = probe.answers(within: 1).filter { forged.contains($0.key) }
        // RFC 5389 §10.1.2: a request whose MESSAGE-INTEGRITY does not verify is answered 401 Unauthorized
        // (Binding error response, 0x0111), which is what libnice does; a success (0x0101) would mean the
        // agent accepted a forged check. The 401 carries no MESSAGE-INTEGRITY and changes nothing.
        #expect(!forgedAnswers.isEmpty)
        #expect(forgedAnswers.values.allSatisfy { $0 == Answer(type: 0x0111, errorCode: 401) }, "answers to forged checks: \(forgedAnswers)")
        print("catalogue: \(forged.count) forged checks drew \(forgedAnswers.count) answers: \(Set(forgedAnswers.values.map { "\($0.type)/\($0.errorCode ?? 0)" }))")
        #expect(try await a.state(stream: aStream) == .ready)
        let pairAfter = try #require(try await a.selectedPair(stream: aStream))
        #expect(pairAfter.local == pairBefore.local && pairAfter.remote == pairBefore.remote)
        #expect(!aEvents.all.contains { if case .failed = $0 { true } else { false } })

        // The real peer's data still flows both ways.
        let atB = b.datagrams(stream: bStream), atA = a.datagrams(stream: aStream)
        #expect(try a.send([1, 2, 3], stream: aStream) == 3)
        #expect(try b.send([4, 5], stream: bStream) == 2)
        #expect(await Self.first(atB) == [1, 2, 3])
        #expect(await Self.first(atA) == [4, 5])

        // Control: the very same request with the right HMAC is answered with a Binding success (0x0101).
        let genuine = SecureRandom.bytes(12)
        probe.send(Self.bindingRequest(transaction: genuine, username: username, key: Array(aCredentials.pwd.utf8)), to: target)
        let genuineAnswer = probe.answers(within: 1)[genuine]
        #expect(genuineAnswer == Answer(type: 0x0101, errorCode: nil), "answer to the genuine check: \(String(describing: genuineAnswer))")
        await a.close()
        await b.close()
    }

    static func first(_ stream: AsyncStream<[UInt8]>) async -> [UInt8]? {
        await withTaskGroup(of: [UInt8]?.self) { group in
            group.addTask { for await datagram in stream { return datagram }; return nil }
            group.addTask { try? await Task.sleep(for: .seconds(5)); return nil }
            let result = await group.next() ?? nil
            group.cancelAll()
            return result
        }
    }
}

extension CatalogueSTUNTests.Probe {
    static func port(_ probe: CatalogueSTUNTests.Probe) -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(probe.fd, $0, &length) } }
        return UInt16(bigEndian: address.sin_port)
    }
}

/// Every event of an agent, recorded so the test can wait for one.
final class EventRecorder: Sendable {
    private let storage = Mutex<[ICEEvent]>([])

    init(_ agent: ICEAgent) {
        let events = agent.events
        Task { [self] in for await event in events { self.storage.withLock { $0.append(event) } } }
    }

    var all: [ICEEvent] { storage.withLock { $0 } }

    func waitFor(_ what: String, timeout: Duration = .seconds(10), _ match: (ICEEvent) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !all.contains(where: match) {
            guard ContinuousClock.now < deadline else { throw CatalogueTimeout(what: what) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

struct CatalogueTimeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}
