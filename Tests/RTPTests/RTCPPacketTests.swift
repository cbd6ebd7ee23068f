import Testing
import RTP

/// RFC 3550 §6.4.1 sender report with one report block.
let srBytes = hex("""
    81 C8 00 0C  11 22 33 44
    E1 23 45 67  89 AB CD EF  00 00 10 00  00 00 00 64  00 00 3E 80
    55 66 77 88  40 FF FF FE  00 01 00 05  00 00 00 2A  23 45 67 89  00 01 80 00
    """)
let srPacket = RTCPPacket.senderReport(RTCPSenderReport(
    ssrc: 0x1122_3344, ntpTimestamp: 0xE123_4567_89AB_CDEF, rtpTimestamp: 0x1000, packetCount: 100, octetCount: 16000,
    reportBlocks: [
        RTCPReportBlock(
            ssrc: 0x5566_7788, fractionLost: 64, cumulativeLost: -2, extendedHighestSequenceNumber: 0x0001_0005,
            jitter: 42, lastSenderReport: 0x2345_6789, delaySinceLastSenderReport: 0x0001_8000
        )
    ]
))

/// RFC 3550 §6.5 SDES with two chunks: CNAME + TOOL (null-padded to 16 bytes), and CNAME only.
let sdesBytes = hex("""
    82 CA 00 07
    11 22 33 44  01 03 61 62  63 06 01 78  00 00 00 00
    55 66 77 88  01 05 62 6F  62 40 68 00
    """)
let sdesPacket = RTCPPacket.sourceDescription(RTCPSourceDescription(chunks: [
    .init(ssrc: 0x1122_3344, items: [RTCPSDESItem(type: .cname, text: "abc"), RTCPSDESItem(type: .tool, text: "x")]),
    .init(ssrc: 0x5566_7788, items: [RTCPSDESItem(type: .cname, text: "bob@h")]),
]))

/// RFC 3550 §6.6 BYE with a reason.
let byeBytes = hex("81 CB 00 03  11 22 33 44  04 62 79 65  21 00 00 00")
let byePacket = RTCPPacket.goodbye(RTCPGoodbye(ssrcs: [0x1122_3344], reasonText: "bye!"))

/// RFC 3550 §6.4.2 receiver report without blocks.
let emptyRRBytes = hex("80 C9 00 01  11 22 33 44")
let emptyRRPacket = RTCPPacket.receiverReport(RTCPReceiverReport(ssrc: 0x1122_3344))

/// RFC 3550 §6.7 APP (subtype 3, name "test") and RFC 4585 §6.3.1 PLI: kept opaque.
let appBytes = hex("83 CC 00 03  11 22 33 44  74 65 73 74  DE AD BE EF")
let appPacket = RTCPPacket.other(RTCPRawPacket(packetType: 204, countOrFormat: 3, body: hex("11 22 33 44 74 65 73 74 DE AD BE EF")))
let pliBytes = hex("81 CE 00 02  11 22 33 44  55 66 77 88")
let pliPacket = RTCPPacket.other(RTCPRawPacket(packetType: 206, countOrFormat: 1, body: hex("11 22 33 44 55 66 77 88")))

struct RTCPVector: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let packets: [RTCPPacket]
    var testDescription: String { name }
}

let rtcpVectors: [RTCPVector] = [
    RTCPVector(name: "SR", bytes: srBytes, packets: [srPacket]),
    RTCPVector(name: "SDES", bytes: sdesBytes, packets: [sdesPacket]),
    RTCPVector(name: "BYE", bytes: byeBytes, packets: [byePacket]),
    RTCPVector(name: "BYE without reason", bytes: hex("82 CB 00 02  00 00 00 01  00 00 00 02"), packets: [.goodbye(RTCPGoodbye(ssrcs: [1, 2]))]),
    RTCPVector(name: "empty RR", bytes: emptyRRBytes, packets: [emptyRRPacket]),
    RTCPVector(name: "APP", bytes: appBytes, packets: [appPacket]),
    RTCPVector(name: "PLI", bytes: pliBytes, packets: [pliPacket]),
    RTCPVector(name: "compound SR + SDES + BYE", bytes: srBytes + sdesBytes + byeBytes, packets: [srPacket, sdesPacket, byePacket]),
    RTCPVector(
        name: "compound RR + SDES + PLI + APP", bytes: emptyRRBytes + sdesBytes + pliBytes + appBytes,
        packets: [emptyRRPacket, sdesPacket, pliPacket, appPacket]
    ),
    RTCPVector(
        name: "RR with two blocks and a profile extension",
        bytes: hex("""
            82 C9 00 0E  00 00 00 09
            00 00 00 01  00 7F FF FF  00 00 FF FF  00 00 00 00  00 00 00 00  00 00 00 00
            00 00 00 02  FF 80 00 00  FF FF FF FF  FF FF FF FF  FF FF FF FF  FF FF FF FF
            CA FE BA BE
            """),
        packets: [.receiverReport(RTCPReceiverReport(ssrc: 9, reportBlocks: [
            RTCPReportBlock(ssrc: 1, fractionLost: 0, cumulativeLost: 0x7F_FFFF, extendedHighestSequenceNumber: 0xFFFF, jitter: 0, lastSenderReport: 0, delaySinceLastSenderReport: 0),
            RTCPReportBlock(ssrc: 2, fractionLost: 255, cumulativeLost: -0x80_0000, extendedHighestSequenceNumber: .max, jitter: .max, lastSenderReport: .max, delaySinceLastSenderReport: .max),
        ], profileExtension: hex("CA FE BA BE")))]
    ),
]

@Test(arguments: rtcpVectors)
func rtcpVectorParses(_ vector: RTCPVector) throws {
    #expect(try RTCPPacket.parseCompound(vector.bytes) == vector.packets)
}

@Test(arguments: rtcpVectors)
func rtcpVectorSerializesToTheSameBytes(_ vector: RTCPVector) throws {
    #expect(try RTCPPacket.serializeCompound(vector.packets) == vector.bytes)
}

@Test func sdesAccessorsDecodeText() throws {
    guard case .sourceDescription(let sdes) = try RTCPPacket.parseCompound(sdesBytes)[0] else {
        Issue.record("not SDES"); return
    }
    #expect(sdes.chunks.map(\.cname) == ["abc", "bob@h"])
    #expect(sdes.chunks[0].items[1].type == .tool)
    guard case .goodbye(let bye) = try RTCPPacket.parseCompound(byeBytes)[0] else { Issue.record("not BYE"); return }
    #expect(bye.reasonText == "bye!")
    guard case .senderReport(let sr) = srPacket else { return }
    #expect(sr.compactNTPTimestamp == 0x4567_89AB)
}

@Test func paddingOnTheLastPacketIsRemoved() throws {
    // RFC 3550 §6.4.1: P set on the last packet, whose last octet counts the padding.
    let padded = sdesBytes + hex("A0 C9 00 02  11 22 33 44  00 00 00 04")
    #expect(try RTCPPacket.parseCompound(padded) == [sdesPacket, emptyRRPacket])
}

@Test func sdesItemTypesUnknownToUsAreKept() throws {
    let bytes = hex("81 CA 00 03  00 00 00 01  08 02 41 42  00 00 00 00")
    let packets = try RTCPPacket.parseCompound(bytes)
    #expect(packets == [.sourceDescription(RTCPSourceDescription(chunks: [.init(ssrc: 1, items: [RTCPSDESItem(type: .priv, value: [0x41, 0x42])])]))])
    #expect(try RTCPPacket.serializeCompound(packets) == bytes)
}

@Test func sdesChunkWithoutItemsTakesAWholeWordOfNulls() throws {
    let packet = RTCPPacket.sourceDescription(RTCPSourceDescription(chunks: [.init(ssrc: 7, items: [])]))
    let bytes = try packet.serialized()
    #expect(bytes == hex("81 CA 00 02  00 00 00 07  00 00 00 00"))
    #expect(try RTCPPacket.parseCompound(bytes) == [packet])
}

struct MalformedRTCP: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let expected: RTPError?
    let expectedKind: String
    var testDescription: String { name }
}

let malformedRTCP: [MalformedRTCP] = [
    MalformedRTCP(name: "empty", bytes: [], expected: .truncated(needed: 4, available: 0), expectedKind: "truncated"),
    MalformedRTCP(name: "3 bytes", bytes: hex("80 C9 00"), expected: .truncated(needed: 4, available: 3), expectedKind: "truncated"),
    MalformedRTCP(name: "version 1", bytes: hex("40 C9 00 01 11 22 33 44"), expected: .unsupportedVersion(1), expectedKind: "unsupportedVersion"),
    MalformedRTCP(name: "length past the end", bytes: hex("80 C9 00 02 11 22 33 44"), expected: .truncated(needed: 12, available: 8), expectedKind: "truncated"),
    MalformedRTCP(name: "trailing byte after a packet", bytes: emptyRRBytes + [0x80], expected: .truncated(needed: 10, available: 9), expectedKind: "truncated"),
    MalformedRTCP(name: "version 0 second packet", bytes: emptyRRBytes + hex("00 C9 00 01 11 22 33 44"), expected: .unsupportedVersion(0), expectedKind: "unsupportedVersion"),
    MalformedRTCP(
        name: "padding on the first of two packets", bytes: hex("A0 C9 00 02 11 22 33 44 00 00 00 04") + emptyRRBytes,
        expected: .paddingNotOnLastPacket, expectedKind: "paddingNotOnLastPacket"
    ),
    MalformedRTCP(name: "padding count 0", bytes: hex("A0 C9 00 02 11 22 33 44 00 00 00 00"), expected: .invalidPadding(count: 0, available: 8), expectedKind: "invalidPadding"),
    MalformedRTCP(name: "padding past the header", bytes: hex("A0 C9 00 02 11 22 33 44 00 00 00 0D"), expected: .invalidPadding(count: 13, available: 8), expectedKind: "invalidPadding"),
    MalformedRTCP(name: "SR too short for its sender info", bytes: hex("80 C8 00 01 11 22 33 44"), expected: nil, expectedKind: "invalidLength"),
    MalformedRTCP(name: "RR count 2 with room for one block", bytes: hex("82 C9 00 07 00 00 00 09") + Array(repeating: 0, count: 24), expected: nil, expectedKind: "invalidLength"),
    MalformedRTCP(name: "SDES chunk without terminating null", bytes: hex("81 CA 00 02 00 00 00 01 01 02 41 42"), expected: nil, expectedKind: "invalidLength"),
    MalformedRTCP(name: "SDES item longer than the packet", bytes: hex("81 CA 00 02 00 00 00 01 01 09 41 42"), expected: nil, expectedKind: "invalidLength"),
    MalformedRTCP(name: "SDES fewer chunks than counted", bytes: hex("82 CA 00 02 00 00 00 01 01 01 41 00"), expected: nil, expectedKind: "invalidLength"),
    MalformedRTCP(name: "SDES bytes after the counted chunks", bytes: hex("81 CA 00 03 00 00 00 01 01 01 41 00 00 00 00 00"), expected: nil, expectedKind: "invalidLength"),
    MalformedRTCP(name: "BYE count beyond the packet", bytes: hex("83 CB 00 02 00 00 00 01 00 00 00 02"), expected: nil, expectedKind: "invalidLength"),
    MalformedRTCP(name: "BYE reason longer than the packet", bytes: hex("81 CB 00 02 00 00 00 01 09 41 42 43"), expected: nil, expectedKind: "invalidLength"),
]

@Test(arguments: malformedRTCP)
func malformedRTCPIsRejectedWithATypedError(_ vector: MalformedRTCP) {
    do {
        let packets = try RTCPPacket.parseCompound(vector.bytes)
        Issue.record("parsed \(packets) from malformed input")
    } catch {
        #expect(kind(error) == vector.expectedKind)
        if let expected = vector.expected { #expect(error == expected) }
    }
}

@Test func rtcpTruncationsNeverCrash() {
    let compound = srBytes + sdesBytes + byeBytes + appBytes
    for length in 0..<compound.count {
        let prefix = Array(compound.prefix(length))
        // Only cuts at packet boundaries can parse; everything else must throw.
        let boundaries: Set<Int> = [srBytes.count, srBytes.count + sdesBytes.count, srBytes.count + sdesBytes.count + byeBytes.count]
        if boundaries.contains(length) {
            #expect(throws: Never.self) { try RTCPPacket.parseCompound(prefix) }
        } else {
            #expect(throws: RTPError.self) { try RTCPPacket.parseCompound(prefix) }
        }
    }
}

@Test func rtcpValuesThatDoNotFitAreRefused() {
    let block = RTCPReportBlock(ssrc: 1, fractionLost: 0, cumulativeLost: 0x80_0000, extendedHighestSequenceNumber: 0, jitter: 0, lastSenderReport: 0, delaySinceLastSenderReport: 0)
    #expect(throws: RTPError.fieldOutOfRange(field: "cumulativeLost", value: 0x80_0000)) {
        try RTCPPacket.receiverReport(RTCPReceiverReport(ssrc: 1, reportBlocks: [block])).serialized()
    }
    #expect(throws: RTPError.fieldOutOfRange(field: "RTCP count", value: 32)) {
        try RTCPPacket.goodbye(RTCPGoodbye(ssrcs: Array(0..<32))).serialized()
    }
    #expect(throws: RTPError.fieldOutOfRange(field: "body", value: 3)) {
        try RTCPPacket.other(RTCPRawPacket(packetType: 205, countOrFormat: 1, body: [1, 2, 3])).serialized()
    }
}
