import Testing
import RTP

struct EventVector: Sendable {
    let bytes: [UInt8]
    let event: TelephoneEvent
}

/// RFC 4733 §2.3 layout: event (8) | E R volume(6) | duration (16).
@Test(arguments: [
    EventVector(bytes: hex("05 0A 00 A0"), event: TelephoneEvent(event: 5, volume: 10, duration: 160)),
    EventVector(bytes: hex("0B 8A 03 20"), event: TelephoneEvent(event: 11, isEnd: true, volume: 10, duration: 800)),
    EventVector(bytes: hex("10 BF FF FF"), event: TelephoneEvent(event: 16, isEnd: true, volume: 63, duration: 0xFFFF)),
    EventVector(bytes: hex("00 00 00 00"), event: TelephoneEvent(event: 0, volume: 0, duration: 0)),
])
func telephoneEventRoundTrips(_ vector: EventVector) throws {
    #expect(try TelephoneEvent(parsing: vector.bytes) == vector.event)
    #expect(try vector.event.serialized() == vector.bytes)
}

@Test func reservedBitIsIgnored() throws {
    #expect(try TelephoneEvent(parsing: hex("05 CA 00 A0")) == TelephoneEvent(event: 5, isEnd: true, volume: 10, duration: 160))
}

@Test func malformedTelephoneEvents() {
    #expect(throws: RTPError.truncated(needed: 4, available: 3)) { try TelephoneEvent(parsing: [1, 2, 3]) }
    #expect(throws: RTPError.self) { try TelephoneEvent(parsing: [1, 2, 3, 4, 5, 6, 7, 8]) }
    #expect(throws: RTPError.fieldOutOfRange(field: "volume", value: 64)) { try TelephoneEvent(event: 1, volume: 64, duration: 0).serialized() }
}

@Test(arguments: [
    ("0", 0), ("5", 5), ("9", 9), ("*", 10), ("#", 11), ("A", 12), ("B", 13), ("C", 14), ("D", 15), ("d", 15),
] as [(String, Int)])
func dtmfKeysMapToEventCodes(_ key: String, _ code: Int) {
    #expect(TelephoneEvent.dtmfEvent(for: Character(key)) == UInt8(code))
}

@Test func unknownKeysAreRefused() {
    #expect(TelephoneEvent.dtmfEvent(for: "x") == nil)
    #expect(throws: RTPError.unsupported("DTMF key E")) { try TelephoneEvent.dtmfPackets(key: "E", duration: 800) }
    #expect(throws: RTPError.self) { try TelephoneEvent.dtmfPackets(key: "1", duration: 70000) }
}

struct DTMFPlanCase: Sendable, CustomTestStringConvertible {
    let duration: UInt32
    let interval: UInt32
    let updates: [UInt16]
    var testDescription: String { "\(duration)/\(interval)" }
}

@Test(arguments: [
    DTMFPlanCase(duration: 800, interval: 160, updates: [160, 320, 480, 640]),
    DTMFPlanCase(duration: 850, interval: 160, updates: [160, 320, 480, 640, 800]),
    DTMFPlanCase(duration: 160, interval: 160, updates: []),
    DTMFPlanCase(duration: 100, interval: 160, updates: []),
    DTMFPlanCase(duration: 1600, interval: 400, updates: [400, 800, 1200]),
])
func dtmfPlanStartsWithMarkerAndEndsWithThreeEndPackets(_ plan: DTMFPlanCase) throws {
    let packets = try TelephoneEvent.dtmfPackets(key: "7", duration: plan.duration, interval: plan.interval)
    #expect(packets.count == plan.updates.count + 3)
    #expect(packets.map(\.marker) == [true] + Array(repeating: false, count: packets.count - 1))
    #expect(packets.allSatisfy { $0.event.event == 7 && $0.event.volume == 10 })
    #expect(packets.dropLast(3).map(\.event.duration) == plan.updates)
    #expect(packets.dropLast(3).allSatisfy { !$0.event.isEnd })
    let ends = packets.suffix(3)
    #expect(ends.allSatisfy { $0.event.isEnd && $0.event.duration == UInt16(plan.duration) && $0.sendOffset == plan.duration })
    // Durations never decrease and sending times move forward.
    #expect(zip(packets, packets.dropFirst()).allSatisfy { $0.event.duration <= $1.event.duration && $0.sendOffset <= $1.sendOffset })
}

@Test func dtmfRTPPacketsShareTheEventTimestampAndTakeConsecutiveSequenceNumbers() throws {
    var sender = RTPSenderState(ssrc: 5, initialSequenceNumber: 65533, initialTimestamp: 1000)
    let packets = try sender.makeDTMFPackets(key: "#", payloadType: 101, eventStart: 4800, duration: 480)
    #expect(packets.count == 5)
    #expect(packets.map(\.sequenceNumber) == [65533, 65534, 65535, 0, 1])
    #expect(packets.allSatisfy { $0.timestamp == 5800 && $0.payloadType == 101 && $0.ssrc == 5 })
    #expect(packets.map(\.marker) == [true, false, false, false, false])
    let events = try packets.map { try TelephoneEvent(parsing: $0.payload) }
    #expect(events.map(\.event) == Array(repeating: 11, count: 5))
    #expect(events.map(\.isEnd) == [false, false, true, true, true])
    #expect(events.map(\.duration) == [160, 320, 480, 480, 480])
    // And they survive the wire.
    for packet in packets { #expect(try RTPPacket(parsing: packet.serialized()) == packet) }
}
