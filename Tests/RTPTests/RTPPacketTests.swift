import Testing
import RTP
import TestServers

struct RTPVector: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let packet: RTPPacket
    var testDescription: String { name }
}

/// Packets written out by hand from the RFC 3550 §5.1 and RFC 8285 §4 layouts.
let rtpVectors: [RTPVector] = [
    RTPVector(
        name: "minimal PCMU",
        bytes: hex("80 00 00 01  00 00 00 A0  DE AD BE EF  01 02 03"),
        packet: RTPPacket(
            header: RTPHeader(payloadType: 0, sequenceNumber: 1, timestamp: 160, ssrc: 0xDEAD_BEEF), payload: [1, 2, 3]
        )
    ),
    RTPVector(
        name: "marker, PCMA, max sequence, empty payload",
        bytes: hex("80 88 FF FF  FF FF FF FF  00 00 00 01"),
        packet: RTPPacket(
            header: RTPHeader(marker: true, payloadType: 8, sequenceNumber: 0xFFFF, timestamp: 0xFFFF_FFFF, ssrc: 1),
            payload: []
        )
    ),
    RTPVector(
        name: "two CSRCs",
        bytes: hex("82 60 12 34  00 01 00 00  00 00 00 2A  11 11 11 11  22 22 22 22  AB"),
        packet: RTPPacket(
            header: RTPHeader(payloadType: 96, sequenceNumber: 0x1234, timestamp: 0x10000, ssrc: 42, csrcs: [0x1111_1111, 0x2222_2222]),
            payload: [0xAB]
        )
    ),
    RTPVector(
        name: "padding of 4",
        bytes: hex("A0 00 00 05  00 00 03 20  00 00 00 07  55 55  00 00 00 04"),
        packet: RTPPacket(
            header: RTPHeader(payloadType: 0, sequenceNumber: 5, timestamp: 800, ssrc: 7), payload: [0x55, 0x55],
            paddingLength: 4
        )
    ),
    RTPVector(
        name: "one-byte extension: id 1 (1 byte), id 2 (2 bytes), padded to a word",
        bytes: hex("90 6F 00 0A  00 00 00 00  00 00 00 09  BE DE 00 02  10 AA 21 BB CC 00 00 00  FF"),
        packet: RTPPacket(
            header: RTPHeader(
                payloadType: 111, sequenceNumber: 10, timestamp: 0, ssrc: 9,
                headerExtension: .oneByte([
                    RTPHeaderExtensionElement(id: 1, value: [0xAA]), RTPHeaderExtensionElement(id: 2, value: [0xBB, 0xCC]),
                ])
            ),
            payload: [0xFF]
        )
    ),
    RTPVector(
        name: "two-byte extension with app bits 3 and an empty element",
        bytes: hex("90 60 00 01  00 00 00 01  00 00 00 02  10 03 00 02  01 01 AA  05 00  00 00 00  CA FE"),
        packet: RTPPacket(
            header: RTPHeader(
                payloadType: 96, sequenceNumber: 1, timestamp: 1, ssrc: 2,
                headerExtension: .twoByte(appBits: 3, [
                    RTPHeaderExtensionElement(id: 1, value: [0xAA]), RTPHeaderExtensionElement(id: 5, value: []),
                ])
            ),
            payload: [0xCA, 0xFE]
        )
    ),
    RTPVector(
        name: "generic extension, CSRC and padding together",
        bytes: hex("B1 E1 00 02  00 00 00 03  00 00 00 04  00 00 00 05  AB CD 00 01  01 02 03 04  77  00 02"),
        packet: RTPPacket(
            header: RTPHeader(
                marker: true, payloadType: 97, sequenceNumber: 2, timestamp: 3, ssrc: 4, csrcs: [5],
                headerExtension: .generic(profile: 0xABCD, data: [1, 2, 3, 4])
            ),
            payload: [0x77], paddingLength: 2
        )
    ),
]

@Test(arguments: rtpVectors)
func rtpVectorParses(_ vector: RTPVector) throws {
    let parsed = try RTPPacket(parsing: vector.bytes)
    #expect(parsed == vector.packet)
}

@Test(arguments: rtpVectors)
func rtpVectorSerializesToTheSameBytes(_ vector: RTPVector) throws {
    #expect(try vector.packet.serialized() == vector.bytes)
}

@Test(arguments: rtpVectors)
func rtpViewPointsAtThePayloadWithoutCopying(_ vector: RTPVector) throws {
    let view = try RTPPacketView.parse(vector.bytes)
    #expect(Array(vector.bytes[view.payloadRange]) == vector.packet.payload)
    #expect(view.header == vector.packet.header)
    #expect(view.paddingLength == vector.packet.paddingLength)
    #expect(view.payloadRange.upperBound + view.paddingLength == vector.bytes.count)
}

@Test func rtpDynamicMemberAccessReachesTheHeader() {
    var packet = RTPPacket(header: RTPHeader(payloadType: 0, sequenceNumber: 9, timestamp: 1, ssrc: 3), payload: [])
    packet.sequenceNumber &+= 1
    #expect(packet.header.sequenceNumber == 10)
    #expect(packet.ssrc == 3)
}

@Test func oneByteExtensionStopsAtReservedID15() throws {
    // RFC 8285 §4.2: id 15 ends processing of the block; what follows it is ignored.
    let bytes = hex("90 00 00 01  00 00 00 01  00 00 00 01  BE DE 00 02  00 10 AA F3 11 22 33 44")
    let packet = try RTPPacket(parsing: bytes)
    #expect(packet.headerExtension == .oneByte([RTPHeaderExtensionElement(id: 1, value: [0xAA])]))
    #expect(packet.headerExtension?.value(forID: 1) == [0xAA])
    #expect(packet.headerExtension?.value(forID: 15) == nil)
    #expect(packet.payload.isEmpty)
}

@Test func randomPacketsRoundTrip() throws {
    var random = SplitMix64(seed: 0x5EED)
    for _ in 0..<500 {
        let csrcs = (0..<Int.random(in: 0...15, using: &random)).map { _ in UInt32.random(in: .min ... .max, using: &random) }
        let extensionChoice = Int.random(in: 0...3, using: &random)
        let headerExtension: RTPHeaderExtension? =
            switch extensionChoice {
            case 0: nil
            case 1:
                .oneByte((0..<Int.random(in: 0...5, using: &random)).map { index in
                    RTPHeaderExtensionElement(
                        id: UInt8(index + 1), value: (0..<Int.random(in: 1...16, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                    )
                })
            case 2:
                .twoByte(appBits: UInt8.random(in: 0...15, using: &random), (0..<Int.random(in: 0...5, using: &random)).map { index in
                    RTPHeaderExtensionElement(
                        id: UInt8(index * 40 + 1), value: (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                    )
                })
            default:
                .generic(profile: 0x0042, data: (0..<4 * Int.random(in: 0...4, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
            }
        let packet = RTPPacket(
            header: RTPHeader(
                marker: Bool.random(using: &random), payloadType: UInt8.random(in: 0...127, using: &random),
                sequenceNumber: UInt16.random(in: .min ... .max, using: &random), timestamp: UInt32.random(in: .min ... .max, using: &random),
                ssrc: UInt32.random(in: .min ... .max, using: &random), csrcs: csrcs, headerExtension: headerExtension
            ),
            payload: (0..<Int.random(in: 0...200, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) },
            paddingLength: Bool.random(using: &random) ? 0 : Int.random(in: 1...255, using: &random)
        )
        let bytes = try packet.serialized()
        #expect(bytes.count % 4 == (RTPHeader.fixedLength + packet.payload.count + packet.paddingLength) % 4)
        #expect(try RTPPacket(parsing: bytes) == packet)
    }
}

struct MalformedRTP: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let expected: RTPError?
    let expectedKind: String
    var testDescription: String { name }
}

let malformedRTP: [MalformedRTP] = [
    MalformedRTP(name: "empty", bytes: [], expected: .truncated(needed: 1, available: 0), expectedKind: "truncated"),
    MalformedRTP(name: "11 bytes", bytes: hex("80 00 00 01 00 00 00 A0 DE AD BE"), expected: .truncated(needed: 12, available: 11), expectedKind: "truncated"),
    MalformedRTP(name: "version 0", bytes: hex("00 00 00 01 00 00 00 A0 DE AD BE EF"), expected: .unsupportedVersion(0), expectedKind: "unsupportedVersion"),
    MalformedRTP(name: "version 1", bytes: hex("40 00 00 01 00 00 00 A0 DE AD BE EF"), expected: .unsupportedVersion(1), expectedKind: "unsupportedVersion"),
    MalformedRTP(name: "version 3", bytes: hex("C0 00 00 01 00 00 00 A0 DE AD BE EF"), expected: .unsupportedVersion(3), expectedKind: "unsupportedVersion"),
    MalformedRTP(
        name: "CSRC count 2 with one CSRC present", bytes: hex("82 00 00 01 00 00 00 A0 DE AD BE EF 00 00 00 01"),
        expected: .truncated(needed: 20, available: 16), expectedKind: "truncated"
    ),
    MalformedRTP(
        name: "padding count 0", bytes: hex("A0 00 00 01 00 00 00 A0 DE AD BE EF 11 22 00"),
        expected: .invalidPadding(count: 0, available: 3), expectedKind: "invalidPadding"
    ),
    MalformedRTP(
        name: "padding longer than the payload", bytes: hex("A0 00 00 01 00 00 00 A0 DE AD BE EF 11 22 04"),
        expected: .invalidPadding(count: 4, available: 3), expectedKind: "invalidPadding"
    ),
    MalformedRTP(
        name: "padding bit with nothing after the header", bytes: hex("A0 00 00 01 00 00 00 A0 DE AD BE 01"),
        expected: .invalidPadding(count: 1, available: 0), expectedKind: "invalidPadding"
    ),
    MalformedRTP(
        name: "extension header cut short", bytes: hex("90 00 00 01 00 00 00 A0 DE AD BE EF BE DE"),
        expected: .truncated(needed: 16, available: 14), expectedKind: "truncated"
    ),
    MalformedRTP(
        name: "extension length overruns the packet", bytes: hex("90 00 00 01 00 00 00 A0 DE AD BE EF BE DE 00 05 10 AA 00 00"),
        expected: .extensionOverrun(declaredBytes: 20, available: 4), expectedKind: "extensionOverrun"
    ),
    MalformedRTP(
        name: "extension overruns because of CSRCs", bytes: hex("91 00 00 01 00 00 00 A0 DE AD BE EF 00 00 00 01 BE DE 00 01"),
        expected: .extensionOverrun(declaredBytes: 4, available: 0), expectedKind: "extensionOverrun"
    ),
    MalformedRTP(
        name: "one-byte element longer than its block", bytes: hex("90 00 00 01 00 00 00 A0 DE AD BE EF BE DE 00 01 3F 00 00 00"),
        expected: nil, expectedKind: "invalidHeaderExtension"
    ),
    MalformedRTP(
        name: "two-byte element longer than its block", bytes: hex("90 00 00 01 00 00 00 A0 DE AD BE EF 10 00 00 01 01 09 AA BB"),
        expected: nil, expectedKind: "invalidHeaderExtension"
    ),
    MalformedRTP(
        name: "two-byte element missing its length", bytes: hex("90 00 00 01 00 00 00 A0 DE AD BE EF 10 00 00 01 00 00 00 07"),
        expected: nil, expectedKind: "invalidHeaderExtension"
    ),
]

@Test(arguments: malformedRTP)
func malformedRTPIsRejectedWithATypedError(_ vector: MalformedRTP) {
    do {
        let packet = try RTPPacket(parsing: vector.bytes)
        Issue.record("parsed \(packet) from malformed input")
    } catch {
        #expect(kind(error) == vector.expectedKind)
        if let expected = vector.expected { #expect(error == expected) }
    }
}

@Test func everyTruncationOfAValidPacketFailsCleanly() throws {
    // Cutting a packet anywhere must give an error or a shorter valid packet, never a crash.
    for vector in rtpVectors {
        for length in 0..<vector.bytes.count {
            _ = try? RTPPacket(parsing: Array(vector.bytes.prefix(length)))
        }
        for length in 0..<RTPHeader.fixedLength {
            #expect(throws: RTPError.self) { try RTPPacket(parsing: Array(vector.bytes.prefix(length))) }
        }
    }
}

struct UnserializableRTP: Sendable, CustomTestStringConvertible {
    let name: String
    let packet: RTPPacket
    let expectedKind: String
    var testDescription: String { name }
}

let unserializableRTP: [UnserializableRTP] = [
    UnserializableRTP(name: "payload type 128", packet: RTPPacket(header: RTPHeader(payloadType: 128, sequenceNumber: 0, timestamp: 0, ssrc: 0), payload: []), expectedKind: "fieldOutOfRange"),
    UnserializableRTP(name: "16 CSRCs", packet: RTPPacket(header: RTPHeader(payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, csrcs: Array(repeating: 1, count: 16)), payload: []), expectedKind: "fieldOutOfRange"),
    UnserializableRTP(name: "padding 256", packet: RTPPacket(header: RTPHeader(payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0), payload: [], paddingLength: 256), expectedKind: "fieldOutOfRange"),
    UnserializableRTP(
        name: "one-byte id 15",
        packet: RTPPacket(header: RTPHeader(payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, headerExtension: .oneByte([RTPHeaderExtensionElement(id: 15, value: [1])])), payload: []),
        expectedKind: "invalidHeaderExtension"
    ),
    UnserializableRTP(
        name: "one-byte value of 17 bytes",
        packet: RTPPacket(header: RTPHeader(payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, headerExtension: .oneByte([RTPHeaderExtensionElement(id: 1, value: Array(repeating: 0, count: 17))])), payload: []),
        expectedKind: "invalidHeaderExtension"
    ),
    UnserializableRTP(
        name: "one-byte empty value",
        packet: RTPPacket(header: RTPHeader(payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, headerExtension: .oneByte([RTPHeaderExtensionElement(id: 1, value: [])])), payload: []),
        expectedKind: "invalidHeaderExtension"
    ),
    UnserializableRTP(
        name: "generic data not whole words",
        packet: RTPPacket(header: RTPHeader(payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, headerExtension: .generic(profile: 1, data: [1, 2, 3])), payload: []),
        expectedKind: "invalidHeaderExtension"
    ),
]

@Test(arguments: unserializableRTP)
func valuesThatDoNotFitTheWireAreRefused(_ vector: UnserializableRTP) {
    do {
        let bytes = try vector.packet.serialized()
        Issue.record("serialized \(bytes)")
    } catch {
        #expect(kind(error) == vector.expectedKind)
    }
}

struct DemuxCase: Sendable {
    let bytes: [UInt8]
    let expected: RTPPacketClass?
}

@Test(arguments: [
    DemuxCase(bytes: [0x80, 0x00], expected: .rtp),  // PCMU
    DemuxCase(bytes: [0x80, 0x88], expected: .rtp),  // PCMA with marker
    DemuxCase(bytes: [0x80, 0x7F], expected: .rtp),  // PT 127
    DemuxCase(bytes: [0x80, 0xBF], expected: .rtp),  // PT 63 with marker
    DemuxCase(bytes: [0x80, 0xC0], expected: .rtcp),  // 192, lowest of RFC 5761's range
    DemuxCase(bytes: [0x80, 0xC8], expected: .rtcp),  // SR
    DemuxCase(bytes: [0x81, 0xC9], expected: .rtcp),  // RR
    DemuxCase(bytes: [0x81, 0xCE], expected: .rtcp),  // PSFB
    DemuxCase(bytes: [0x80, 0xDF], expected: .rtcp),  // 223, highest
    DemuxCase(bytes: [0x80, 0xE0], expected: .rtp),  // PT 96 with marker
    DemuxCase(bytes: [0x80, 0x40], expected: .rtcp),  // PT 64 without marker lies in the reserved range too
    DemuxCase(bytes: [0x80], expected: nil),
])
func rtcpMuxClassification(_ demux: DemuxCase) {
    #expect(RTPPacketClass.classify(demux.bytes) == demux.expected)
}
