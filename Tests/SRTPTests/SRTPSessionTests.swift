import SRTP
import Testing

/// Known-answer vectors published with libsrtp (srtp_validate / srtp_validate_gcm): SSRC 0xcafebabe,
/// sequence 0x1234, ROC 0, first SRTCP index 1.
struct KnownVector: Sendable, CustomStringConvertible {
    let profile: SRTPProfile
    let key: [UInt8]
    let salt: [UInt8]
    let rtpPlain: [UInt8]
    let rtpProtected: [UInt8]
    let rtcpPlain: [UInt8]
    let rtcpProtected: [UInt8]
    var description: String { profile.rawValue }
}

let knownVectors: [KnownVector] = [
    KnownVector(
        profile: .aesCM128HmacSHA1_80,
        key: hex("e1f97a0d3e018be0d64fa32c06de4139"),
        salt: hex("0ec675ad498afeebb6960b3aabe6"),
        rtpPlain: hex("800f1234decafbadcafebabe") + Array(repeating: 0xAB, count: 16),
        rtpProtected: hex("800f1234decafbadcafebabe 4e55dc4ce79978d88ca4d215949d2402 b78d6acc99ea179b8dbb"),
        rtcpPlain: hex("81c8000bcafebabe") + Array(repeating: 0xAB, count: 16),
        rtcpProtected: hex("81c8000bcafebabe 7128035be487b9bdbef89041f977a5a8 80000001 993e08cd54d6c1230798")),
    KnownVector(
        profile: .aeadAES128GCM,
        key: hex("000102030405060708090a0b0c0d0e0f"),
        salt: hex("a0a1a2a3a4a5a6a7a8a9aaab"),
        rtpPlain: hex("800f1234decafbadcafebabe") + Array(repeating: 0xAB, count: 16),
        rtpProtected: hex("800f1234decafbadcafebabe c5002ede04cfdd2eb91159e0880aa06e d2976826f796b201df3131a127e8a392"),
        rtcpPlain: hex("81c8000bcafebabe") + Array(repeating: 0xAB, count: 16),
        rtcpProtected: hex("81c8000bcafebabe c98b8b5df0392a55852b6c21ac8e7025 c52c6fbea2b3b446ea31123ba88ce61e 80000001")),
]

@Suite("SRTP over libsrtp2")
struct SRTPSessionTests {
    @Test("RTP protects to the known ciphertext and unprotects back", arguments: knownVectors)
    func knownRTP(vector: KnownVector) throws {
        let sender = try SRTPSession(profile: vector.profile, key: vector.key, salt: vector.salt, direction: .outbound)
        let receiver = try SRTPSession(profile: vector.profile, key: vector.key, salt: vector.salt, direction: .inbound)
        let protected = try sender.protectRTP(vector.rtpPlain)
        #expect(protected == vector.rtpProtected)
        #expect(protected.count == vector.rtpPlain.count + vector.profile.rtpOverhead)
        #expect(try receiver.unprotectRTP(protected) == vector.rtpPlain)
        #expect(sender.statistics.protected == 1)
        #expect(receiver.statistics.unprotected == 1)
    }

    @Test("RTCP protects to the known ciphertext and unprotects back", arguments: knownVectors)
    func knownRTCP(vector: KnownVector) throws {
        let sender = try SRTPSession(profile: vector.profile, key: vector.key, salt: vector.salt, direction: .outbound)
        let receiver = try SRTPSession(profile: vector.profile, key: vector.key, salt: vector.salt, direction: .inbound)
        let protected = try sender.protectRTCP(vector.rtcpPlain)
        #expect(protected == vector.rtcpProtected)
        #expect(protected.count == vector.rtcpPlain.count + vector.profile.rtcpOverhead)
        #expect(try receiver.unprotectRTCP(protected) == vector.rtcpPlain)
    }

    @Test("a stream of packets round-trips in place with no spare allocation", arguments: SRTPProfile.allCases)
    func inPlaceStream(profile: SRTPProfile) throws {
        let key = (0..<16).map { UInt8($0 * 7 & 0xFF) }
        let salt = (0..<profile.saltLength).map { UInt8($0 * 13 & 0xFF) }
        let outbound = try SRTPSession(profile: profile, key: key, salt: salt, direction: .outbound)
        let inbound = try SRTPSession(profile: profile, key: key, salt: salt, direction: .inbound)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1500, alignment: 16)
        defer { buffer.deallocate() }
        // Crosses the 16-bit sequence number wrap, so the rollover counter is exercised (RFC 3711 §3.3.1).
        for sequence in (65_530...65_535).map(UInt16.init) + (0...5).map(UInt16.init) {
            let plain = rtpPacket(sequence: sequence, payload: (0..<160).map { UInt8(truncatingIfNeeded: Int($0) + Int(sequence)) })
            buffer.copyBytes(from: plain)
            let protectedLength = try outbound.protectRTP(buffer, length: plain.count)
            #expect(protectedLength == plain.count + profile.rtpOverhead)
            #expect(Array(buffer[12..<plain.count]) != Array(plain[12...]))
            let plainLength = try inbound.unprotectRTP(buffer, length: protectedLength)
            #expect(plainLength == plain.count)
            #expect(Array(buffer[0..<plainLength]) == plain)
        }
        #expect(outbound.statistics.protected == 12)
        #expect(inbound.statistics.unprotected == 12)
    }

    @Test("a tampered packet fails authentication, is counted and not passed on", arguments: SRTPProfile.allCases, [12, 40, -1])
    func tampered(profile: SRTPProfile, position: Int) throws {
        let key = [UInt8](repeating: 0x11, count: 16)
        let salt = [UInt8](repeating: 0x22, count: profile.saltLength)
        let sender = try SRTPSession(profile: profile, key: key, salt: salt, direction: .outbound)
        let receiver = try SRTPSession(profile: profile, key: key, salt: salt, direction: .inbound)
        var packet = try sender.protectRTP(rtpPacket(sequence: 1))
        let index = position >= 0 ? position : packet.count - 1  // payload, or the tag itself
        packet[index] ^= 0x01
        #expect(throws: SRTPError.authenticationFailed) { _ = try receiver.unprotectRTP(packet) }
        #expect(receiver.statistics.authFailures == 1)
        #expect(receiver.statistics.unprotected == 0)
        // The genuine packet still gets through afterwards.
        packet[index] ^= 0x01
        #expect(try receiver.unprotectRTP(packet) == rtpPacket(sequence: 1))
        #expect(receiver.statistics.unprotected == 1)
    }

    @Test("a replayed packet is dropped and counted", arguments: SRTPProfile.allCases)
    func replay(profile: SRTPProfile) throws {
        let key = [UInt8](repeating: 0x33, count: 16)
        let salt = [UInt8](repeating: 0x44, count: profile.saltLength)
        let sender = try SRTPSession(profile: profile, key: key, salt: salt, direction: .outbound)
        let receiver = try SRTPSession(profile: profile, key: key, salt: salt, direction: .inbound)
        let first = try sender.protectRTP(rtpPacket(sequence: 100))
        let second = try sender.protectRTP(rtpPacket(sequence: 101))
        _ = try receiver.unprotectRTP(first)
        _ = try receiver.unprotectRTP(second)
        #expect(throws: SRTPError.replay) { _ = try receiver.unprotectRTP(first) }
        #expect(throws: SRTPError.replay) { _ = try receiver.unprotectRTP(second) }
        #expect(receiver.statistics.replays == 2)
        #expect(receiver.statistics.unprotected == 2)

        let rtcp = try sender.protectRTCP(hex("81c8000bcafebabe") + Array(repeating: 0x01, count: 16))
        _ = try receiver.unprotectRTCP(rtcp)
        #expect(throws: SRTPError.replay) { _ = try receiver.unprotectRTCP(rtcp) }
        #expect(receiver.statistics.replays == 3)
    }

    @Test("a different key cannot unprotect", arguments: SRTPProfile.allCases)
    func wrongKey(profile: SRTPProfile) throws {
        let salt = [UInt8](repeating: 0x55, count: profile.saltLength)
        let sender = try SRTPSession(profile: profile, key: [UInt8](repeating: 1, count: 16), salt: salt, direction: .outbound)
        let receiver = try SRTPSession(profile: profile, key: [UInt8](repeating: 2, count: 16), salt: salt, direction: .inbound)
        #expect(throws: SRTPError.authenticationFailed) { _ = try receiver.unprotectRTP(try sender.protectRTP(rtpPacket(sequence: 9))) }
        #expect(receiver.statistics.authFailures == 1)
    }

    static let malformedPackets: [[UInt8]] = [
        [],
        [0x80, 0x00, 0x00],
        [0x40] + Array(repeating: 0, count: 40),  // version 1
        [0x8F] + Array(repeating: 0, count: 20),  // 15 CSRCs announced, none present
        [0x90] + Array(repeating: 0, count: 11) + [0, 0, 0xFF, 0xFF],  // extension longer than the packet
    ]

    @Test("malformed packets throw malformedPacket and are counted", arguments: malformedPackets)
    func malformed(packet: [UInt8]) throws {
        let profile = SRTPProfile.aesCM128HmacSHA1_80
        let sender = try SRTPSession(profile: profile, key: [UInt8](repeating: 1, count: 16), salt: [UInt8](repeating: 2, count: 14), direction: .outbound)
        let receiver = try SRTPSession(profile: profile, key: [UInt8](repeating: 1, count: 16), salt: [UInt8](repeating: 2, count: 14), direction: .inbound)
        for attempt in [{ _ = try sender.protectRTP(packet) }, { _ = try receiver.unprotectRTP(packet) }] {
            do {
                try attempt()
                Issue.record("accepted a malformed packet")
            } catch let error as SRTPError {
                guard case .malformedPacket = error else { Issue.record("got \(error)"); continue }
            }
        }
        #expect(sender.statistics.malformed == 1)
        #expect(receiver.statistics.malformed == 1)
    }

    @Test("sessions refuse the wrong direction, bad key sizes and short buffers")
    func misuse() throws {
        let profile = SRTPProfile.aesCM128HmacSHA1_80
        let key = [UInt8](repeating: 1, count: 16)
        let salt = [UInt8](repeating: 2, count: 14)
        let outbound = try SRTPSession(profile: profile, key: key, salt: salt, direction: .outbound)
        #expect(throws: SRTPError.wrongDirection) { _ = try outbound.unprotectRTP(rtpPacket(sequence: 1)) }
        #expect(throws: SRTPError.invalidKeyLength(expected: 16, actual: 15)) {
            _ = try SRTPSession(profile: profile, key: Array(key.dropLast()), salt: salt, direction: .inbound)
        }
        #expect(throws: SRTPError.invalidSaltLength(expected: 12, actual: 14)) {
            _ = try SRTPSession(profile: .aeadAES128GCM, key: key, salt: salt, direction: .inbound)
        }
        let packet = rtpPacket(sequence: 1)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: packet.count + 4, alignment: 8)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: packet)
        #expect(throws: SRTPError.bufferTooSmall(needed: packet.count + SRTPSession.trailerCapacity, capacity: packet.count + 4)) {
            _ = try outbound.protectRTP(buffer, length: packet.count)
        }
    }

    /// Keys as DTLS-SRTP exports them (RFC 5764 §4.2): the client protects with the client key and salt, the
    /// server unprotects with the same as its remote pair, and the other way round. The bytes stand for an
    /// exporter output; this target never imports DTLS.
    @Test("keys laid out as a DTLS exporter gives them drive both directions", arguments: SRTPProfile.allCases)
    func dtlsExportedLayout(profile: SRTPProfile) throws {
        let exported = (0..<2 * (profile.keyLength + profile.saltLength)).map { UInt8($0 * 37 & 0xFF) }
        let k = profile.keyLength, s = profile.saltLength
        let clientKey = Array(exported[0..<k]), serverKey = Array(exported[k..<2 * k])
        let clientSalt = Array(exported[2 * k..<2 * k + s]), serverSalt = Array(exported[(2 * k + s)...])
        let client = try SRTPSession.pair(profile: profile, localKey: clientKey, localSalt: clientSalt, remoteKey: serverKey, remoteSalt: serverSalt)
        let server = try SRTPSession.pair(profile: profile, localKey: serverKey, localSalt: serverSalt, remoteKey: clientKey, remoteSalt: clientSalt)

        let fromClient = rtpPacket(sequence: 7, ssrc: 0x1111_1111)
        #expect(try server.inbound.unprotectRTP(try client.outbound.protectRTP(fromClient)) == fromClient)
        let fromServer = rtpPacket(sequence: 9, ssrc: 0x2222_2222)
        #expect(try client.inbound.unprotectRTP(try server.outbound.protectRTP(fromServer)) == fromServer)
        // A packet protected with the client's key is not accepted as the server's.
        #expect(throws: SRTPError.authenticationFailed) {
            _ = try client.inbound.unprotectRTP(try client.outbound.protectRTP(rtpPacket(sequence: 8, ssrc: 0x1111_1111)))
        }
    }
}

@Suite("SRTP replay window")
struct SRTPReplayWindowTests {
    @Test("packets arriving out of order inside the window are accepted once each", arguments: SRTPProfile.allCases)
    func reordered(profile: SRTPProfile) throws {
        let key = [UInt8](repeating: 0x66, count: 16)
        let salt = [UInt8](repeating: 0x77, count: profile.saltLength)
        let sender = try SRTPSession(profile: profile, key: key, salt: salt, direction: .outbound)
        let receiver = try SRTPSession(profile: profile, key: key, salt: salt, direction: .inbound)
        let protected = try (1...20).map { try sender.protectRTP(rtpPacket(sequence: UInt16($0))) }
        let order = [5, 0, 19, 3, 1, 2, 18, 4, 7, 6, 10, 9, 8, 12, 11, 14, 13, 16, 15, 17]
        for index in order {
            #expect(try receiver.unprotectRTP(protected[index]) == rtpPacket(sequence: UInt16(index + 1)))
        }
        for index in order.prefix(5) {
            #expect(throws: SRTPError.replay) { _ = try receiver.unprotectRTP(protected[index]) }
        }
        #expect(receiver.statistics.unprotected == 20)
        #expect(receiver.statistics.replays == 5)
        #expect(receiver.statistics.authFailures == 0)
    }
}
