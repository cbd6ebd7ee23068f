import DTLS
import PeerStream

extension FuzzChecker {
    /// The file-transfer stream's wire on arbitrary datagrams (PeerStream wire v2 under exported-key AES-GCM):
    /// - a datagram that parses serializes to one that parses to the same packet, and that is stable;
    /// - a fresh connection's `receive` gives a typed error or events, never a trap;
    /// - under fixed keys, sealing the datagram (its header clear, the rest encrypted) and opening it gives
    ///   it back, and the datagram itself as a sealed packet does not authenticate (no forgery by luck).
    func checkPeerStream(_ input: [UInt8]) throws(FuzzFailure) -> String {
        var labels: [String] = []
        do {
            let packet = try PeerStreamPacket.parse(input, connectionID: 1, maxDatagramSize: Self.peerStreamMaxDatagram)
            let bytes = packet.serialized(connectionID: 1)
            let again = try PeerStreamPacket.parse(bytes, connectionID: 1, maxDatagramSize: Self.peerStreamMaxDatagram)
            guard again == packet else { throw fail("packet changed after serialize/parse: \(bytes.prefix(64))") }
            guard again.serialized(connectionID: 1) == bytes else { throw fail("serializing is not stable: \(bytes.prefix(64))") }
            labels.append("parse:" + caseName(packet))
        } catch let failure as FuzzFailure {
            throw failure
        } catch {
            labels.append("parse:" + caseName(error))
        }

        var connection = PeerStreamConnection(configuration: PeerStreamConfiguration(connectionID: 1), now: .zero)
        do {
            let events = try connection.receive(input, now: .zero)
            labels.append("receive:\(events.count)")
        } catch {
            labels.append("receive:" + caseName(error))
        }

        if let (sealer, opener) = protection {
            let header = input.withUnsafeBytes { PeerStreamPacket.header(of: $0) }
            let headerLength = header?.length ?? 0, packetNumber = header?.packetNumber ?? 0
            var sealed = [UInt8](repeating: 0, count: input.count + PacketProtection.tagLength)
            var opened = [UInt8](repeating: 0, count: sealed.count)
            let length = try? input.withUnsafeBytes { raw in
                try sealed.withUnsafeMutableBytes { out in
                    try sealer.seal(header: UnsafeRawBufferPointer(rebasing: raw[..<headerLength]),
                                    body: UnsafeRawBufferPointer(rebasing: raw[headerLength...]), packetNumber: packetNumber, into: out)
                }
            }
            guard length == sealed.count else { throw fail("seal wrote \(String(describing: length)) of \(sealed.count) bytes") }
            let back = sealed.withUnsafeBytes { packet in
                opened.withUnsafeMutableBytes { opener.open(packet: packet, headerLength: headerLength, packetNumber: packetNumber, into: $0) }
            }
            guard back == input.count, Array(opened[..<input.count]) == input else { throw fail("seal/open did not give the datagram back") }
            let forged = input.withUnsafeBytes { packet in
                opened.withUnsafeMutableBytes { opener.open(packet: packet, headerLength: headerLength, packetNumber: packetNumber, into: $0) }
            }
            guard forged == nil else { throw fail("an unsealed datagram authenticated") }
            labels.append("aead:ok")
        }
        return labels.joined(separator: "/")
    }

    /// The largest datagram the checks accept: a 1472-byte UDP payload less the 16-byte tag.
    static let peerStreamMaxDatagram = 1456

    static func peerStreamSeeds() -> [[UInt8]] {
        let packets: [PeerStreamPacket] = [
            .data(packetNumber: 0, offset: 0, payload: Array("hello".utf8)),
            .data(packetNumber: 70_000, offset: 1 << 31, payload: Array(repeating: 0xA5, count: 300)),
            .ack(packetNumber: 3, PeerStreamAck(largestAcknowledged: 90, ackDelayMicroseconds: 250, maxData: 4 << 20,
                                                ranges: [80...90, 60...70, 1...50])),
            .fin(packetNumber: 9, finalOffset: 123_456),
            .reset(packetNumber: 10, code: 2, reason: "disk full"),
            .ping(packetNumber: 11),
            .probe(packetNumber: 12, padding: 64),
        ]
        return packets.map { $0.serialized(connectionID: 1) }
    }
}
