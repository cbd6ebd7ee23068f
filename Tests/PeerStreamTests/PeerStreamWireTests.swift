import PeerStream
import Testing

private let cid: UInt32 = 0x0102_0304

private func fresh() -> PeerStreamConnection {
    PeerStreamConnection(configuration: PeerStreamConfiguration(connectionID: cid), now: .zero)
}

private func bytes(_ packet: PeerStreamPacket) -> [UInt8] {
    packet.serialized(connectionID: cid)
}

private func patched(_ packet: PeerStreamPacket, at index: Int, _ values: [UInt8]) -> [UInt8] {
    var b = bytes(packet)
    b.replaceSubrange(index..<(index + values.count), with: values)
    return b
}


private let roundTripPackets: [PeerStreamPacket] = [
    PeerStreamPacket.data(packetNumber: 0, offset: 0, payload: []),
    .data(packetNumber: 7, offset: 123_456_789, payload: Array(0..<200)),
    .data(packetNumber: (1 << 62) - 1, offset: (1 << 62) - 1, payload: []),
    .ack(packetNumber: 9, PeerStreamAck(largestAcknowledged: 100, ackDelayMicroseconds: 250, maxData: 1 << 40,
                                        ranges: [90...100, 50...88, 0...10])),
    .ack(packetNumber: 10, PeerStreamAck(largestAcknowledged: 1 << 40, ackDelayMicroseconds: .max, maxData: (1 << 62) - 1,
                                         ranges: [(1 << 40)...(1 << 40), 2...((1 << 40) - 2), 0...0])),
    .fin(packetNumber: 3, finalOffset: 1 << 33),
    .reset(packetNumber: 4, code: 0x0002, reason: "disk full — écrit 0 octets"),
    .reset(packetNumber: 4, code: 0xFFFF, reason: ""),
    .ping(packetNumber: (1 << 62) - 1),
    .probe(packetNumber: 12, padding: 1000),
]

@Test(arguments: roundTripPackets)
func packetsRoundTrip(_ packet: PeerStreamPacket) throws {
    let wire = bytes(packet)
    #expect(wire[0] >> 4 == PeerStreamPacket.version)
    #expect(try PeerStreamPacket.parse(wire, connectionID: cid, maxDatagramSize: 1500) == packet)
}

/// RFC 9000 §16's own examples (Appendix A.1), through the DATA offset field.
private let rfc9000Varints: [([UInt8], UInt64)] = [
    ([0x25], 37),
    ([0x7B, 0xBD], 15_293),
    ([0x9D, 0x7F, 0x3E, 0x7D], 494_878_333),
    ([0xC2, 0x19, 0x7C, 0x5E, 0xFF, 0x14, 0xE8, 0x8C], 151_288_809_941_952_652),
    ([0x40, 0x25], 37),  // not the shortest form, still valid
]

@Test(arguments: rfc9000Varints)
func varintsDecodeAsRFC9000Says(_ encoded: [UInt8], _ value: UInt64) throws {
    // DATA, connection id 1, packet number 0, offset = the varint under test, no payload.
    let datagram: [UInt8] = [0x21, 0x01, 0x00] + encoded
    #expect(try PeerStreamPacket.parse(datagram, connectionID: 1) == .data(packetNumber: 0, offset: value, payload: []))
    if encoded.count == PeerStreamPacket.varintLength(value) {
        #expect(PeerStreamPacket.data(packetNumber: 0, offset: value, payload: []).serialized(connectionID: 1) == datagram)
    }
}

@Test func dataHeaderIsTenBytesForTheUsualTransferAndTheBudgetHolds() throws {
    let config = PeerStreamConfiguration(connectionID: 1)
    // Packet 100 000 at offset 100 MiB: type(1) + cid(1) + pn(4) + offset(4).
    let payload = [UInt8](repeating: 1, count: 100)
    let packet = PeerStreamPacket.data(packetNumber: 100_000, offset: 100 << 20, payload: payload)
    #expect(packet.serialized(connectionID: 1).count == 10 + payload.count)
    // The worst case (8-byte varints everywhere) still fits `maxPayload` in `maxDatagramSize`.
    let full = PeerStreamPacket.data(packetNumber: 1 << 61, offset: 1 << 61, payload: [UInt8](repeating: 1, count: config.maxPayload))
    let wire = full.serialized(connectionID: UInt32.max)
    #expect(wire.count == config.maxDatagramSize)
    #expect(config.maxDatagramSize == 1200 - 37)
    #expect(try PeerStreamPacket.parse(wire, connectionID: UInt32.max) == full)
    // A connection's own full packets use the room the short header leaves.
    var sender = PeerStreamConnection(configuration: config, now: .zero)
    #expect(try sender.write([UInt8](repeating: 2, count: 5000)) == 5000)
    let datagrams = sender.poll(now: .zero)
    #expect(datagrams.first?.count == config.maxDatagramSize)
    guard case .data(_, _, let first) = try PeerStreamPacket.parse(datagrams[0], connectionID: 1) else {
        Issue.record("expected DATA"); return
    }
    #expect(first.count == config.maxDatagramSize - 4)  // type, cid, pn 0, offset 0: one byte each
}

@Test func ackRangesUseGapsAndLengths() {
    let packet = PeerStreamPacket.ack(packetNumber: 1, PeerStreamAck(
        largestAcknowledged: 100, ackDelayMicroseconds: 5, maxData: 60, ranges: [90...100, 50...88]))
    // 0x22 | cid 1 | pn 1 | largest 100 (2 bytes) | delay 5 | max data 60 | count 2 | first length 10 |
    // gap 90 − 88 − 2 = 0 | length 38
    #expect(packet.serialized(connectionID: 1) == [0x22, 0x01, 0x01, 0x40, 100, 5, 60, 2, 10, 0, 38])
}

struct BadDatagram: CustomTestStringConvertible, Sendable {
    let name: String
    let bytes: [UInt8]
    let error: PeerStreamError
    var testDescription: String { name }
}

private let ping = PeerStreamPacket.ping(packetNumber: 5)
private let data = PeerStreamPacket.data(packetNumber: 5, offset: 0, payload: [UInt8](repeating: 7, count: 50))
private func ack(_ ranges: [ClosedRange<UInt64>], largest: UInt64? = nil) -> PeerStreamPacket {
    .ack(packetNumber: 5, PeerStreamAck(largestAcknowledged: largest ?? ranges.first?.upperBound ?? 0,
                                        ackDelayMicroseconds: 0, maxData: 65_536, ranges: ranges))
}
/// The connection id 0x01020304 takes a 4-byte varint: the header is type(1) cid(4) pn(1) = 6 bytes.
private let header = 6

private let badDatagrams: [BadDatagram] = [
    BadDatagram(name: "empty", bytes: [], error: .truncated(needed: 1, available: 0)),
    BadDatagram(name: "version 1", bytes: patched(ping, at: 0, [0x15]), error: .unsupportedVersion(1)),
    BadDatagram(name: "version 3", bytes: patched(ping, at: 0, [0x35]), error: .unsupportedVersion(3)),
    BadDatagram(name: "unknown type", bytes: patched(ping, at: 0, [0x29]), error: .unknownPacketType(0x29)),
    BadDatagram(name: "other connection", bytes: ping.serialized(connectionID: 99),
                error: .connectionIDMismatch(expected: cid, received: 99)),
    BadDatagram(name: "connection id beyond 32 bits",
                bytes: [0x25, 0xC0, 0, 0, 1, 0x01, 0x02, 0x03, 0x04, 0x05],
                error: .connectionIDMismatch(expected: cid, received: 0x0102_0304)),
    BadDatagram(name: "header cut in the connection id", bytes: Array(bytes(ping).prefix(3)),
                error: .truncated(needed: 5, available: 3)),
    BadDatagram(name: "header without packet number", bytes: Array(bytes(ping).prefix(5)),
                error: .truncated(needed: 6, available: 5)),
    BadDatagram(name: "packet number varint cut", bytes: [0x25, 0x81, 0x02, 0x03, 0x04, 0xC0, 0, 0],
                error: .truncated(needed: 13, available: 8)),
    BadDatagram(name: "DATA offset overflow", bytes: bytes(.data(packetNumber: 5, offset: (1 << 62) - 10, payload: [UInt8](repeating: 1, count: 50))),
                error: .offsetOutOfRange((1 << 62) - 10)),
    BadDatagram(name: "DATA payload over budget",
                bytes: bytes(.data(packetNumber: 1, offset: 0, payload: [UInt8](repeating: 0, count: 1500))),
                error: .payloadTooLarge(1500)),
    BadDatagram(name: "DATA offset cut", bytes: Array(bytes(.data(packetNumber: 5, offset: 1 << 40, payload: [])).prefix(header + 3)),
                error: .truncated(needed: header + 8, available: header + 3)),
    BadDatagram(name: "ACK without ranges", bytes: bytes(ack([], largest: 3)), error: .invalidAckRangeCount(0)),
    BadDatagram(name: "ACK with 65 ranges",
                bytes: bytes(ack((0..<65).map { UInt64(1000 - 3 * $0)...UInt64(1000 - 3 * $0) })),
                error: .invalidAckRangeCount(65)),
    BadDatagram(name: "ACK count of 2^62 - 1", bytes: Array(bytes(ack([3...9])).prefix(header + 6)) + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
                error: .invalidAckRangeCount(Int((1 << 62) - 1))),
    BadDatagram(name: "ACK first range below zero", bytes: bytes(ack([5...9], largest: 2)), error: .invalidAckRanges),
    BadDatagram(name: "ACK ranges ascending", bytes: bytes(ack([1...2, 5...9], largest: 2)), error: .invalidAckRanges),
    BadDatagram(name: "ACK ranges adjacent", bytes: bytes(ack([6...9, 1...5])), error: .invalidAckRanges),
    BadDatagram(name: "ACK range below zero", bytes: Array(bytes(ack([6...9, 0...3])).dropLast()) + [5], error: .invalidAckRanges),
    BadDatagram(name: "ACK range count beyond datagram", bytes: patched(ack([6...9, 1...4]), at: header + 6, [3]),
                error: .truncated(needed: header + 12, available: header + 10)),
    BadDatagram(name: "ACK cut in the max data", bytes: Array(bytes(ack([3...9])).prefix(header + 4)),
                error: .truncated(needed: header + 6, available: header + 4)),
    BadDatagram(name: "ACK trailing bytes", bytes: bytes(ack([3...9])) + [0], error: .trailingBytes(1)),
    BadDatagram(name: "FIN cut", bytes: Array(bytes(.fin(packetNumber: 1, finalOffset: 1 << 40)).prefix(header + 2)),
                error: .truncated(needed: header + 8, available: header + 2)),
    BadDatagram(name: "FIN trailing bytes", bytes: bytes(.fin(packetNumber: 1, finalOffset: 9)) + [1], error: .trailingBytes(1)),
    BadDatagram(name: "RESET reason not UTF-8",
                bytes: patched(.reset(packetNumber: 1, code: 1, reason: "abcd"), at: header + 2, [0xFF, 0xFE]),
                error: .invalidReasonText),
    BadDatagram(name: "RESET code cut", bytes: Array(bytes(.reset(packetNumber: 1, code: 1, reason: "")).prefix(header + 1)),
                error: .truncated(needed: header + 2, available: header + 1)),
    BadDatagram(name: "PING trailing byte", bytes: bytes(ping) + [0], error: .trailingBytes(1)),
    BadDatagram(name: "PROBE over the datagram size", bytes: bytes(.probe(packetNumber: 1, padding: 1500)),
                error: .payloadTooLarge(1500)),
]

@Test(arguments: badDatagrams)
func malformedDatagramsAreRejectedWithTypedErrors(_ bad: BadDatagram) {
    #expect(throws: bad.error) { try PeerStreamPacket.parse(bad.bytes, connectionID: cid) == ping }
    // The connection rejects the same way and is left untouched.
    var connection = fresh()
    #expect(throws: bad.error) { try connection.receive(bad.bytes, now: .zero) }
    #expect(connection.statistics.packetsRejected == 1)
    #expect(connection.statistics.packetsReceived == 0)
    #expect(connection.state == .open)
    #expect(connection.readableBytes == 0)
    #expect(connection.poll(now: .zero).isEmpty)
}

@Test func dataBeyondTheAdvertisedWindowIsAFlowControlViolation() throws {
    var connection = fresh()
    let limit = PeerStreamConnection.initialFlowControlLimit
    let over = bytes(.data(packetNumber: 0, offset: limit - 5, payload: [UInt8](repeating: 1, count: 10)))
    #expect(throws: PeerStreamError.flowControlViolation(limit: limit, end: limit + 5)) {
        try connection.receive(over, now: .zero)
    }
    #expect(connection.receiveBufferOccupancy == 0)
    // Up to the limit exactly is fine.
    let fits = bytes(.data(packetNumber: 1, offset: limit - 10, payload: [UInt8](repeating: 1, count: 10)))
    #expect(try connection.receive(fits, now: .zero).isEmpty)
    #expect(connection.receiveBufferOccupancy == Int(limit))  // the span from the first unread byte
    #expect(connection.readableBytes == 0)
}

@Test func finalOffsetRulesAreEnforced() throws {
    var connection = fresh()
    _ = try connection.receive(bytes(.data(packetNumber: 0, offset: 0, payload: [1, 2, 3])), now: .zero)
    #expect(throws: PeerStreamError.finalOffsetViolation(finalOffset: 2, offending: 3)) {
        try connection.receive(bytes(.fin(packetNumber: 1, finalOffset: 2)), now: .zero)
    }
    let events = try connection.receive(bytes(.fin(packetNumber: 2, finalOffset: 5)), now: .zero)
    #expect(events.isEmpty)  // bytes 3 and 4 are still missing
    #expect(throws: PeerStreamError.finalOffsetViolation(finalOffset: 5, offending: 6)) {
        try connection.receive(bytes(.fin(packetNumber: 3, finalOffset: 6)), now: .zero)
    }
    #expect(throws: PeerStreamError.finalOffsetViolation(finalOffset: 5, offending: 7)) {
        try connection.receive(bytes(.data(packetNumber: 4, offset: 4, payload: [9, 9, 9])), now: .zero)
    }
    let last = try connection.receive(bytes(.data(packetNumber: 5, offset: 3, payload: [4, 5])), now: .zero)
    #expect(last == [.readable, .finished])
    #expect(connection.read(maxBytes: 100) == [1, 2, 3, 4, 5])
    #expect(connection.isAtEndOfStream)
    #expect(connection.statistics.packetsRejected == 3)
}

@Test func ackOfAPacketNeverSentIsRejected() {
    var connection = fresh()
    #expect(throws: PeerStreamError.ackOfUnsentPacket(0)) {
        try connection.receive(bytes(ack([0...0])), now: .zero)
    }
}

@Test func outOfOrderDataIsHeldAndDeliveredInOrder() throws {
    var connection = fresh()
    #expect(try connection.receive(bytes(.data(packetNumber: 1, offset: 3, payload: [4, 5, 6])), now: .zero).isEmpty)
    #expect(connection.readableBytes == 0)
    #expect(connection.receiveBufferOccupancy == 6)
    // Out of order: the ACK goes out at once and reports the gap.
    let datagrams = connection.poll(now: .zero)
    #expect(datagrams.count == 1)
    guard case .ack(_, let ack) = try PeerStreamPacket.parse(datagrams[0], connectionID: cid) else {
        Issue.record("expected an ACK"); return
    }
    #expect(ack.ranges == [1...1])
    #expect(ack.maxData == UInt64(PeerStreamConfiguration(connectionID: cid).receiveWindow))
    #expect(try connection.receive(bytes(.data(packetNumber: 0, offset: 0, payload: [1, 2, 3])), now: .zero) == [.readable])
    // A duplicate changes nothing.
    #expect(try connection.receive(bytes(.data(packetNumber: 0, offset: 0, payload: [1, 2, 3])), now: .zero).isEmpty)
    #expect(connection.statistics.duplicatePacketsReceived == 1)
    #expect(connection.read(maxBytes: 4) == [1, 2, 3, 4])
    #expect(connection.read(maxBytes: 4) == [5, 6])
    #expect(connection.read(maxBytes: 4) == [])
}

@Test func acksAreDelayedForOnePacketAndImmediateForTwo() throws {
    var connection = fresh()
    let start = PeerStreamInstant(nanoseconds: 1_000_000_000)
    #expect(try connection.receive(bytes(.data(packetNumber: 0, offset: 0, payload: [1])), now: start) == [.readable])
    #expect(connection.poll(now: start).isEmpty)
    let delay = PeerStreamConfiguration(connectionID: cid).maxAckDelay
    #expect(connection.nextDeadline == start + delay)
    let due = start + delay
    #expect(connection.handleTimeout(now: due).isEmpty)
    let delayed = connection.poll(now: due)
    #expect(delayed.count == 1)
    guard case .ack(_, let first) = try PeerStreamPacket.parse(delayed[0], connectionID: cid) else {
        Issue.record("expected an ACK"); return
    }
    #expect(first.ranges == [0...0])
    #expect(first.ackDelayMicroseconds == UInt32(delay / .microseconds(1)))
    // Two ack-eliciting packets: the ACK goes out at once.
    _ = try connection.receive(bytes(.data(packetNumber: 1, offset: 1, payload: [2])), now: due)
    #expect(connection.poll(now: due).isEmpty)
    _ = try connection.receive(bytes(.data(packetNumber: 2, offset: 2, payload: [3])), now: due)
    let immediate = connection.poll(now: due)
    #expect(immediate.count == 1)
    guard case .ack(_, let second) = try PeerStreamPacket.parse(immediate[0], connectionID: cid) else {
        Issue.record("expected an ACK"); return
    }
    #expect(second.ranges == [0...2])
    #expect(second.largestAcknowledged == 2)
}

@Test func readingOpensTheWindowAndSendsAnUpdate() throws {
    let window = 128 << 10
    var connection = PeerStreamConnection(
        configuration: PeerStreamConfiguration(connectionID: cid, receiveWindow: window), now: .zero)
    let chunk = [UInt8](repeating: 3, count: 1000)
    for pn in 0..<65 {
        _ = try connection.receive(bytes(.data(packetNumber: UInt64(pn), offset: UInt64(pn * 1000), payload: chunk)), now: .zero)
    }
    _ = connection.poll(now: .zero)
    #expect(connection.advertisedLimit == UInt64(window))
    // Reading less than a quarter window sends nothing; crossing it sends the update.
    #expect(connection.read(maxBytes: window / 4 - 1).count == window / 4 - 1)
    #expect(connection.poll(now: .zero).isEmpty)
    #expect(connection.read(maxBytes: 1).count == 1)
    let update = connection.poll(now: .zero)
    #expect(update.count == 1)
    guard case .ack(_, let ack) = try PeerStreamPacket.parse(update[0], connectionID: cid) else {
        Issue.record("expected an ACK"); return
    }
    #expect(ack.maxData == UInt64(window + window / 4))
    #expect(connection.advertisedLimit == ack.maxData)
}

@Test func aPeerCannotFragmentTheReceiveBufferWithoutBound() throws {
    var connection = PeerStreamConnection(
        configuration: PeerStreamConfiguration(connectionID: cid, receiveWindow: 65_536), now: .zero)
    let limit = 65_536 / 512 + 64
    for index in 0..<limit {
        _ = try connection.receive(bytes(.data(packetNumber: UInt64(index), offset: UInt64(2 + 2 * index), payload: [1])), now: .zero)
    }
    #expect(throws: PeerStreamError.tooManyGaps(limit: limit)) {
        try connection.receive(bytes(.data(packetNumber: 9_999, offset: UInt64(2 + 2 * limit), payload: [1])), now: .zero)
    }
    // Data that extends an existing piece or starts the in-order prefix is still taken.
    _ = try connection.receive(bytes(.data(packetNumber: 10_000, offset: 3, payload: [1])), now: .zero)
    #expect(try connection.receive(bytes(.data(packetNumber: 10_001, offset: 0, payload: [1, 1])), now: .zero) == [.readable])
    #expect(connection.readableBytes == 5)
}
