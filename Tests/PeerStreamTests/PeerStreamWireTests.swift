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

private func be64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }

@Test(arguments: [
    PeerStreamPacket.data(packetNumber: 0, offset: 0, payload: []),
    .data(packetNumber: 7, offset: 123_456_789, payload: Array(0..<200)),
    .ack(packetNumber: 9, PeerStreamAck(largestAcknowledged: 100, ackDelayMicroseconds: 250, maxData: 1 << 40,
                                        ranges: [90...100, 50...88, 0...10])),
    .fin(packetNumber: 3, finalOffset: 1 << 33),
    .reset(packetNumber: 4, code: 0x0002, reason: "disk full — écrit 0 octets"),
    .ping(packetNumber: (1 << 62) - 1),
])
func packetsRoundTrip(_ packet: PeerStreamPacket) throws {
    let wire = bytes(packet)
    #expect(wire[0] == PeerStreamPacket.version)
    #expect(try PeerStreamPacket.parse(wire, connectionID: cid) == packet)
}

@Test func dataHeaderIsTwentyFourBytesAndFitsTheBudget() {
    let config = PeerStreamConfiguration(connectionID: cid)
    let full = bytes(.data(packetNumber: 1, offset: 0, payload: [UInt8](repeating: 1, count: config.maxPayload)))
    #expect(full.count == config.maxDatagramSize)
    #expect(config.maxDatagramSize == 1200 - 37)
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

private let badDatagrams: [BadDatagram] = [
    BadDatagram(name: "empty", bytes: [], error: .truncated(needed: 1, available: 0)),
    BadDatagram(name: "version 2", bytes: patched(ping, at: 0, [2]), error: .unsupportedVersion(2)),
    BadDatagram(name: "unknown type", bytes: patched(ping, at: 1, [0x09]), error: .unknownPacketType(0x09)),
    BadDatagram(name: "other connection", bytes: ping.serialized(connectionID: 99),
                error: .connectionIDMismatch(expected: cid, received: 99)),
    BadDatagram(name: "header cut", bytes: Array(bytes(ping).prefix(10)), error: .truncated(needed: 14, available: 10)),
    BadDatagram(name: "packet number 2^62", bytes: patched(ping, at: 6, be64(1 << 62)), error: .packetNumberOutOfRange(1 << 62)),
    BadDatagram(name: "DATA length beyond datagram", bytes: patched(data, at: 22, [0, 100]),
                error: .truncated(needed: 124, available: 74)),
    BadDatagram(name: "DATA trailing bytes", bytes: bytes(data) + [0, 0, 0], error: .trailingBytes(3)),
    BadDatagram(name: "DATA offset overflow", bytes: patched(data, at: 14, be64((1 << 62) - 10)),
                error: .offsetOutOfRange((1 << 62) - 10)),
    BadDatagram(name: "DATA payload over budget",
                bytes: bytes(.data(packetNumber: 1, offset: 0, payload: [UInt8](repeating: 0, count: 1500))),
                error: .payloadTooLarge(1500)),
    BadDatagram(name: "DATA header cut", bytes: Array(bytes(data).prefix(20)), error: .truncated(needed: 22, available: 20)),
    BadDatagram(name: "ACK without ranges", bytes: bytes(ack([], largest: 3)), error: .invalidAckRangeCount(0)),
    BadDatagram(name: "ACK with 65 ranges",
                bytes: bytes(ack((0..<65).map { UInt64(1000 - 3 * $0)...UInt64(1000 - 3 * $0) })),
                error: .invalidAckRangeCount(65)),
    BadDatagram(name: "ACK first range not at largest", bytes: bytes(ack([1...5], largest: 9)), error: .invalidAckRanges),
    BadDatagram(name: "ACK ranges ascending", bytes: bytes(ack([1...2, 5...9], largest: 2)), error: .invalidAckRanges),
    BadDatagram(name: "ACK ranges adjacent", bytes: bytes(ack([6...9, 1...5])), error: .invalidAckRanges),
    BadDatagram(name: "ACK smallest above largest", bytes: patched(ack([3...9]), at: 43, be64(10)), error: .invalidAckRanges),
    BadDatagram(name: "ACK range count beyond datagram", bytes: patched(ack([6...9, 1...4]), at: 34, [3]),
                error: .truncated(needed: 83, available: 67)),
    BadDatagram(name: "ACK largest 2^62", bytes: patched(ack([3...9]), at: 14, be64(1 << 62)),
                error: .packetNumberOutOfRange(1 << 62)),
    BadDatagram(name: "FIN offset above 2^62", bytes: bytes(.fin(packetNumber: 1, finalOffset: (1 << 62) + 1)),
                error: .offsetOutOfRange((1 << 62) + 1)),
    BadDatagram(name: "FIN cut", bytes: Array(bytes(.fin(packetNumber: 1, finalOffset: 9)).prefix(18)),
                error: .truncated(needed: 22, available: 18)),
    BadDatagram(name: "RESET reason not UTF-8",
                bytes: patched(.reset(packetNumber: 1, code: 1, reason: "abcd"), at: 18, [0xFF, 0xFE]),
                error: .invalidReasonText),
    BadDatagram(name: "RESET reason beyond datagram",
                bytes: patched(.reset(packetNumber: 1, code: 1, reason: "abcd"), at: 16, [0, 40]),
                error: .truncated(needed: 58, available: 22)),
    BadDatagram(name: "PING trailing byte", bytes: bytes(ping) + [0], error: .trailingBytes(1)),
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
