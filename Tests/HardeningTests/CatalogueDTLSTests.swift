import DTLS
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A DTLS server under a flood in the middle of a genuine handshake: thousands of ClientHellos from other
/// clients, records of every content type with random bodies, truncated and oversized records, bare garbage.
/// Every datagram is either absorbed or refused with a typed `DTLSError`; time and memory stay bounded; the
/// genuine handshake completes and application data flows (RFC 6347 §4.1.2.7: invalid records are discarded).
@Suite("Catalogue: DTLS flood mid-handshake", .serialized)
struct CatalogueDTLSTests {
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The hostile datagrams: `hellos` real ClientHellos of other clients, then `count` forged ones of six kinds.
    static func flood(hellos: [[UInt8]], garbage count: Int) -> [[UInt8]] {
        var generator = SystemRandomNumberGenerator()
        func random(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        func record(_ type: UInt8, epoch: UInt16, _ body: [UInt8]) -> [UInt8] {
            [type, 0xFE, 0xFD, UInt8(epoch >> 8), UInt8(epoch & 0xFF)] + random(6) + [UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
        }
        var datagrams = hellos
        for i in 0..<count {
            switch i % 6 {
            case 0:  // alert/handshake/application data of an epoch this handshake never reaches, random body
                datagrams.append(record([21, 22, 23][i % 3], epoch: UInt16.random(in: 2...UInt16.max, using: &generator),
                                        random(Int.random(in: 1...600, using: &generator))))
            case 1:  // plaintext application data (epoch 0) in the middle of the handshake
                datagrams.append(record(23, epoch: 0, random(Int.random(in: 1...600, using: &generator))))
            case 2:  // a plaintext alert that is not two bytes long
                datagrams.append(record(21, epoch: 0, random(Int.random(in: 3...64, using: &generator))))
            case 3:  // a record header claiming more than the datagram holds
                datagrams.append([22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 1, 0x40, 0x00] + random(20))
            case 4:  // a record cut short inside its header
                datagrams.append([22, 0xFE, 0xFD] + random(Int.random(in: 0...9, using: &generator)))
            default:  // bytes in the DTLS range of RFC 7983 that are no record at all
                datagrams.append([UInt8.random(in: 20...63, using: &generator), 0x00] + random(Int.random(in: 0...40, using: &generator)))
            }
        }
        datagrams.shuffle(using: &generator)
        return datagrams
    }

    @Test("5 000 hostile datagrams (2 000 ClientHellos, 3 000 forged records) in the middle of a handshake: typed errors only, bounded time and memory, the handshake completes")
    func floodMidHandshake() throws {
        let certificate = try DTLSCertificate.generate()
        var hellos: [[UInt8]] = []
        for _ in 0..<200 { hellos += try DTLSConnection(role: .client, certificate: certificate).start(now: .now) }
        hellos = Array((0..<10).map { _ in hellos }.joined())
        let datagrams = Self.flood(hellos: hellos, garbage: 3_000)
        #expect(datagrams.count >= 5_000)

        let server = try DTLSConnection(role: .server, certificate: certificate)
        let genuine = try DTLSConnection(role: .client, certificate: certificate)
        var toServer = try genuine.start(now: .now)
        var toClient = try toServer.flatMap { try server.receive($0, now: .now).datagrams }
        #expect(!toClient.isEmpty)

        let before = Self.residentBytes()
        let started = ContinuousClock.now
        var refused: [String: Int] = [:]
        var emittedBytes = 0
        for datagram in datagrams {
            do {
                let output = try server.receive(datagram, now: .now)
                #expect(output.applicationData.isEmpty, "a forged datagram produced application data")
                emittedBytes += output.datagrams.reduce(0) { $0 + $1.count }
            } catch let error as DTLSError {
                let kind: String
                switch error {
                case .malformedDatagram: kind = "malformedDatagram"
                case .handshakeFailed: kind = "handshakeFailed"
                case .protocolError: kind = "protocolError"
                default: kind = "\(error)"
                }
                refused[kind, default: 0] += 1
            }
            // Anything else than DTLSError escapes and fails the test.
        }
        let elapsed = ContinuousClock.now - started
        let growth = Self.residentBytes() - before
        print("catalogue: DTLS flood of \(datagrams.count) datagrams in \(elapsed): refused \(refused), \(emittedBytes) bytes emitted, RSS +\(growth / 1024) KiB, server state \(server.state)")
        #expect(elapsed < .seconds(10))
        #expect(growth < 32 << 20, "resident memory grew by \(growth) bytes")
        // The flood may make the server repeat its flight, never more than a flight (≈ 4 KiB) per datagram.
        #expect(emittedBytes <= datagrams.count * 4_096)
        #expect(refused == ["malformedDatagram": 3_000], "every forged record refused as malformedDatagram, no ClientHello: \(refused)")
        #expect(server.state == .handshaking, "the flood did not end or hijack the pending handshake")

        // The genuine client finishes its handshake through the same server, with the retransmission timers
        // running as a transport runs them (RFC 6347 §4.2.4) in case the pause above outlasted them.
        let deadline = ContinuousClock.now + .seconds(10)
        while !(server.state == .awaitingRemoteFingerprint && genuine.state == .awaitingRemoteFingerprint), ContinuousClock.now < deadline {
            if !toClient.isEmpty {
                let flight = toClient
                toClient = []
                toServer += try flight.flatMap { try genuine.receive($0, now: .now).datagrams }
            } else if !toServer.isEmpty {
                let flight = toServer
                toServer = []
                toClient += try flight.flatMap { try server.receive($0, now: .now).datagrams }
            } else {
                Thread.sleep(forTimeInterval: 0.05)
                if let due = server.nextTimeout, due <= .now { toClient += try server.handleTimeout(now: .now) }
                if let due = genuine.nextTimeout, due <= .now { toServer += try genuine.handleTimeout(now: .now) }
            }
        }
        #expect(server.state == .awaitingRemoteFingerprint && genuine.state == .awaitingRemoteFingerprint)
        let serverFingerprint = try #require(server.peerCertificateFingerprint())
        let clientFingerprint = try #require(genuine.peerCertificateFingerprint())
        _ = try server.setRemoteFingerprint(serverFingerprint)
        _ = try genuine.setRemoteFingerprint(clientFingerprint)
        #expect(server.state == .connected && genuine.state == .connected)
        let records = try genuine.send(Array("after the flood".utf8))
        let delivered = try records.flatMap { try server.receive($0, now: .now).applicationData }
        #expect(delivered == [Array("after the flood".utf8)])
        #expect(try genuine.exportSRTPKeyingMaterial().localKey == (try server.exportSRTPKeyingMaterial().remoteKey))
    }
}
