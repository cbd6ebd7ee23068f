import DTLS
import Foundation
import RTP
import SRTP
import Testing

/// Hostile RTP, SRTP and DTLS datagrams: exact typed errors, and the same session or connection keeps working.
@Suite struct HostileMediaTests {
    static let header: [UInt8] = [0x80, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xA0, 0x12, 0x34, 0x56, 0x78]

    // MARK: RTP (RFC 3550 §5.1, §5.3.1)

    @Test func paddingCountLargerThanThePacket() {
        var packet = Self.header + [1, 2, 3, 200]
        packet[0] |= 0x20
        #expect(throws: RTPError.invalidPadding(count: 200, available: 4)) { try RTPPacket(parsing: packet) }
    }

    @Test func paddingCountZero() {
        var packet = Self.header + [1, 2, 3, 0]
        packet[0] |= 0x20
        #expect(throws: RTPError.invalidPadding(count: 0, available: 4)) { try RTPPacket(parsing: packet) }
    }

    @Test func paddingBitOnAHeaderOnlyPacket() {
        var packet = Self.header
        packet[0] |= 0x20
        #expect(throws: RTPError.invalidPadding(count: 0x78, available: 0)) { try RTPPacket(parsing: packet) }
    }

    @Test func headerExtensionLengthOverrun() {
        var packet = Self.header + [0xBE, 0xDE, 0x00, 0x64, 0x10, 0xAA, 0x00, 0x00]
        packet[0] |= 0x10
        #expect(throws: RTPError.extensionOverrun(declaredBytes: 400, available: 4)) { try RTPPacket(parsing: packet) }
    }

    @Test func maximalExtensionLengthOnAShortPacket() {
        var packet = Self.header + [0x12, 0x34, 0xFF, 0xFF]
        packet[0] |= 0x10
        #expect(throws: RTPError.extensionOverrun(declaredBytes: 0xFFFF * 4, available: 0)) { try RTPPacket(parsing: packet) }
    }

    @Test func oneByteExtensionElementRunsPastItsBlock() {
        // RFC 8285 §4.2: element ID 1 with length 16 in a 4-byte block.
        var packet = Self.header + [0xBE, 0xDE, 0x00, 0x01, 0x1F, 0xAA, 0xBB, 0xCC]
        packet[0] |= 0x10
        #expect {
            try RTPPacket(parsing: packet)
        } throws: { error in
            if case .invalidHeaderExtension? = error as? RTPError { true } else { false }
        }
    }

    @Test func csrcCountBeyondThePacket() {
        var packet = Self.header
        packet[0] |= 0x0F
        #expect(throws: RTPError.truncated(needed: 12 + 15 * 4, available: 12)) { try RTPPacket(parsing: packet) }
    }

    @Test func rtcpLengthBeyondTheDatagram() {
        let packet: [UInt8] = [0x80, 201, 0xFF, 0xFF, 0, 0, 0, 1]
        #expect(throws: RTPError.truncated(needed: 0x10000 * 4, available: 8)) { try RTCPPacket.parseCompound(packet) }
    }

    @Test func rtcpPaddingOnAPacketThatIsNotLast() {
        let rr: [UInt8] = [0xA0, 201, 0, 1, 0, 0, 0, 1]
        #expect(throws: RTPError.paddingNotOnLastPacket) { try RTCPPacket.parseCompound(rr + [0x80, 201, 0, 1, 0, 0, 0, 2]) }
    }

    // MARK: SRTP (RFC 3711 §3.3.2)

    static func sessions() throws -> (SRTPSession, SRTPSession) {
        let key = Array(UInt8(0)..<16), salt = Array(UInt8(16)..<30)
        return (try SRTPSession(profile: .aesCM128HmacSHA1_80, key: key, salt: salt, direction: .outbound),
                try SRTPSession(profile: .aesCM128HmacSHA1_80, key: key, salt: salt, direction: .inbound))
    }

    static func rtp(sequence: UInt16) throws -> [UInt8] {
        try RTPPacket(header: RTPHeader(payloadType: 0, sequenceNumber: sequence, timestamp: UInt32(sequence) * 160, ssrc: 0xCAFE),
                      payload: Array(repeating: 0xD5, count: 160)).serialized()
    }

    @Test func replayIsDroppedAndTheSessionCarriesOn() throws {
        let (outbound, inbound) = try Self.sessions()
        let first = try outbound.protectRTP(try Self.rtp(sequence: 100))
        #expect(try inbound.unprotectRTP(first) == (try Self.rtp(sequence: 100)))
        #expect(throws: SRTPError.replay) { try inbound.unprotectRTP(first) }
        #expect(throws: SRTPError.replay) { try inbound.unprotectRTP(first) }
        #expect(inbound.statistics.replays == 2)
        let next = try outbound.protectRTP(try Self.rtp(sequence: 101))
        #expect(try inbound.unprotectRTP(next) == (try Self.rtp(sequence: 101)))
        #expect(inbound.statistics.unprotected == 2)
    }

    @Test func packetOlderThanTheReplayWindowIsDropped() throws {
        let (outbound, inbound) = try Self.sessions()
        let old = try outbound.protectRTP(try Self.rtp(sequence: 1))
        var protected: [[UInt8]] = []
        for sequence in UInt16(2)...1_100 { protected.append(try outbound.protectRTP(try Self.rtp(sequence: sequence))) }
        for packet in protected { _ = try inbound.unprotectRTP(packet) }
        #expect(throws: SRTPError.replay) { try inbound.unprotectRTP(old) }
    }

    @Test func tamperedPacketFailsAuthentication() throws {
        let (outbound, inbound) = try Self.sessions()
        var packet = try outbound.protectRTP(try Self.rtp(sequence: 5))
        packet[20] ^= 0x01
        #expect(throws: SRTPError.authenticationFailed) { try inbound.unprotectRTP(packet) }
        #expect(inbound.statistics.authFailures == 1)
        #expect(try inbound.unprotectRTP(try outbound.protectRTP(try Self.rtp(sequence: 6))).count == 172)
    }

    // MARK: DTLS (RFC 6347 §4.2.1)

    static func residentMemoryBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    @Test func clientHelloFlood() throws {
        let certificate = try DTLSCertificate.generate()
        let server = try DTLSConnection(role: .server, certificate: certificate)
        // The first, genuine client.
        let genuine = try DTLSConnection(role: .client, certificate: certificate)
        let hello = try genuine.start(now: .now)
        var firstAnswer: [[UInt8]] = []
        for datagram in hello { firstAnswer += try server.receive(datagram, now: .now).datagrams }
        #expect(!firstAnswer.isEmpty)

        // 1 000 ClientHellos from other clients at the same connection.
        var hellos: [[UInt8]] = []
        for _ in 0..<100 {
            let client = try DTLSConnection(role: .client, certificate: certificate)
            hellos += try client.start(now: .now)
        }
        let before = Self.residentMemoryBytes()
        var emitted = 0
        var typedErrors = 0
        for round in 0..<10 {
            for datagram in hellos {
                do {
                    let output = try server.receive(datagram, now: .now)
                    emitted += output.datagrams.reduce(0) { $0 + $1.count }
                    #expect(output.applicationData.isEmpty)
                } catch is DTLSError {
                    typedErrors += 1
                }
            }
            _ = round
        }
        let growth = Self.residentMemoryBytes() - before
        // Bounded: no per-hello state. The flood may make the server re-send its flight, but never more than
        // one flight (about 4 KiB at this MTU) per hello.
        #expect(growth < 32 << 20, "resident memory grew by \(growth) bytes")
        #expect(emitted <= 1_000 * 4 * 1_200)
        #expect(server.state == .handshaking)

        // The flood did not take the connection from the client it first answered: that handshake completes.
        var toServer: [[UInt8]] = []
        for datagram in firstAnswer { toServer += try genuine.receive(datagram, now: .now).datagrams }
        var toClient: [[UInt8]] = []
        for datagram in toServer { toClient += try server.receive(datagram, now: .now).datagrams }
        for datagram in toClient { _ = try genuine.receive(datagram, now: .now) }
        #expect(server.state == .awaitingRemoteFingerprint)
        #expect(genuine.state == .awaitingRemoteFingerprint)

        // A fresh connection on the same certificate still completes a handshake: the endpoint serves the next peer.
        let nextServer = try DTLSConnection(role: .server, certificate: certificate)
        let nextClient = try DTLSConnection(role: .client, certificate: certificate)
        try handshake(nextClient, nextServer)
        #expect(nextClient.state == .awaitingRemoteFingerprint || nextClient.state == .connected)
        #expect(nextServer.state == .awaitingRemoteFingerprint || nextServer.state == .connected)
    }

    func handshake(_ client: DTLSConnection, _ server: DTLSConnection) throws {
        var toServer = try client.start(now: .now)
        var toClient: [[UInt8]] = []
        for _ in 0..<10 {
            toClient = try toServer.flatMap { try server.receive($0, now: .now).datagrams }
            toServer = try toClient.flatMap { try client.receive($0, now: .now).datagrams }
            if toServer.isEmpty && toClient.isEmpty { break }
        }
    }
}
