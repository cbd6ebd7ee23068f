@testable import DTLS
import SecureTransport
import Testing

/// AES-128-GCM packet protection keyed by exported material (what `SecureStream` uses by default).
@Suite("packet protection with exported keys")
struct PacketProtectionTests {
    /// 56 distinct bytes standing in for `exportKeyingMaterial`'s output.
    static let exported = (0..<UInt8(PacketProtection.exportLength)).map { $0 &* 37 &+ 11 }

    static func seal(_ protection: PacketProtection, header: [UInt8], body: [UInt8], packetNumber: UInt64) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: header.count + body.count + PacketProtection.tagLength)
        let count = try header.withUnsafeBytes { h in
            try body.withUnsafeBytes { b in
                try out.withUnsafeMutableBytes { try protection.seal(header: h, body: b, packetNumber: packetNumber, into: $0) }
            }
        }
        #expect(count == out.count)
        return out
    }

    static func open(_ protection: PacketProtection, _ packet: [UInt8], headerLength: Int, packetNumber: UInt64) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: packet.count)
        let count = packet.withUnsafeBytes { p in
            out.withUnsafeMutableBytes { protection.open(packet: p, headerLength: headerLength, packetNumber: packetNumber, into: $0) }
        }
        return count.map { Array(out[0..<$0]) }
    }

    @Test("client seals, server opens, and the other way; the header stays in the clear", arguments: [0, 1, 1400])
    func roundTrip(bodyLength: Int) throws {
        let client = try PacketProtection(exported: Self.exported, role: .client)
        let server = try PacketProtection(exported: Self.exported, role: .server)
        let header: [UInt8] = [0x51, 0x01, 0x80, 0x01, 0x02, 0x03]
        let body = (0..<bodyLength).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let packet = try Self.seal(client, header: header, body: body, packetNumber: 0x010203)
        #expect(Array(packet.prefix(header.count)) == header)
        if bodyLength > 16 { #expect(Array(packet[header.count..<(header.count + 16)]) != Array(body.prefix(16))) }
        #expect(Self.open(server, packet, headerLength: header.count, packetNumber: 0x010203) == header + body)
        // Each direction has its own key: a packet does not open with the sender's own opener.
        #expect(Self.open(client, packet, headerLength: header.count, packetNumber: 0x010203) == nil)
        let back = try Self.seal(server, header: header, body: body, packetNumber: 0x010203)
        #expect(back != packet)
        #expect(Self.open(client, back, headerLength: header.count, packetNumber: 0x010203) == header + body)
    }

    @Test("the key changes every 2^22 packet numbers (RFC 9001 §6.6 limit); packets across a change open in any order")
    func keyUpdate() throws {
        let client = try PacketProtection(exported: Self.exported, role: .client)
        let server = try PacketProtection(exported: Self.exported, role: .server)
        let interval = client.keyUpdateInterval
        #expect(interval == 1 << 22 && interval == PacketProtection.defaultKeyUpdateInterval)
        let base = Array(Self.exported.prefix(PacketProtection.keyLength))
        #expect(PacketProtection.key(base: base, generation: 0) == base)
        let first = PacketProtection.key(base: base, generation: 1), second = PacketProtection.key(base: base, generation: 2)
        #expect(first.count == 16 && first != base && second != first && second != base)
        #expect(PacketProtection.key(base: base, generation: 1) == first, "derivation is deterministic")
        let header: [UInt8] = [0x51, 0x01, 0x80]
        let numbers: [UInt64] = [interval - 1, interval, interval + 1, 2 * interval + 5, 3]
        var packets: [UInt64: [UInt8]] = [:]
        for n in numbers { packets[n] = try Self.seal(client, header: header, body: Array("packet \(n)".utf8), packetNumber: n) }
        for n in [interval, interval - 1, 2 * interval + 5, 3, interval + 1, interval - 1] {
            #expect(Self.open(server, try #require(packets[n]), headerLength: header.count, packetNumber: n) == header + Array("packet \(n)".utf8))
        }
        // Claimed to be a packet of the next generation, it does not open.
        let moved = Self.open(server, try #require(packets[3]), headerLength: header.count, packetNumber: 3 + interval)
        #expect(moved == nil)
    }

    @Test("a changed bit anywhere, another packet number, a cut tag, or other keys fail authentication")
    func tamperingFails() throws {
        let client = try PacketProtection(exported: Self.exported, role: .client)
        let server = try PacketProtection(exported: Self.exported, role: .server)
        let header: [UInt8] = [0x51, 0x01, 0x07]
        let packet = try Self.seal(client, header: header, body: Array(repeating: 0xAB, count: 100), packetNumber: 7)
        for index in [0, 2, 3, 50, packet.count - 1] {
            var bad = packet
            bad[index] ^= 0x01
            #expect(Self.open(server, bad, headerLength: header.count, packetNumber: 7) == nil, "bit flipped at \(index)")
        }
        #expect(Self.open(server, packet, headerLength: header.count, packetNumber: 8) == nil)
        #expect(Self.open(server, Array(packet.dropLast()), headerLength: header.count, packetNumber: 7) == nil)
        #expect(Self.open(server, Array(packet.prefix(10)), headerLength: header.count, packetNumber: 7) == nil)
        var otherKeys = Self.exported
        otherKeys[0] ^= 1
        otherKeys[16] ^= 1
        let stranger = try PacketProtection(exported: otherKeys, role: .server)
        #expect(Self.open(stranger, packet, headerLength: header.count, packetNumber: 7) == nil)
        #expect(Self.open(server, packet, headerLength: header.count, packetNumber: 7) != nil)
    }

    @Test("the same plaintext under two packet numbers gives two ciphertexts (the nonce moves)")
    func nonceMovesWithThePacketNumber() throws {
        let client = try PacketProtection(exported: Self.exported, role: .client)
        let body = [UInt8](repeating: 0, count: 64)
        let first = try Self.seal(client, header: [0x51], body: body, packetNumber: 1)
        let second = try Self.seal(client, header: [0x51], body: body, packetNumber: 2)
        #expect(first != second)
        #expect(first.count == second.count)
    }

    @Test("exported material of the wrong length is refused")
    func wrongLength() {
        #expect(throws: DTLSError.self) { _ = try PacketProtection(exported: [1, 2, 3], role: .client) }
    }

    @Test("a key update interval that is not a power of two of at least 256 is refused", arguments: [0, 1, 255, 300, 1000] as [UInt64])
    func badInterval(interval: UInt64) {
        #expect(throws: DTLSError.self) { _ = try PacketProtection(exported: Self.exported, role: .client, keyUpdateInterval: interval) }
    }
}
