import Testing
import RTP

@Test(arguments: [
    (0, "PCMU/8000"), (3, "GSM/8000"), (8, "PCMA/8000"), (9, "G722/8000"), (10, "L16/44100/2"), (13, "CN/8000"),
    (18, "G729/8000"), (26, "JPEG/90000"), (34, "H263/90000"),
] as [(Int, String)])
func staticPayloadTypes(_ payloadType: Int, _ rtpmap: String) {
    #expect(RTPPayloadTypeMap().format(for: UInt8(payloadType))?.rtpmap == rtpmap)
}

@Test func unassignedStaticNumbersHaveNoFormat() {
    let map = RTPPayloadTypeMap()
    #expect(map.format(for: 1) == nil)
    #expect(map.format(for: 19) == nil)
    #expect(map.format(for: 96) == nil)
}

@Test(arguments: [
    ("opus/48000/2", RTPPayloadFormat.opus),
    ("telephone-event/8000", .telephoneEvent),
    ("VP8/90000", .vp8),
    ("H264/90000", .h264),
    ("PCMU/8000", .pcmu),
])
func rtpmapParsesAndPrints(_ text: String, _ format: RTPPayloadFormat) {
    #expect(RTPPayloadFormat(rtpmap: text) == format)
    #expect(format.rtpmap == text)
}

@Test(arguments: ["", "opus", "opus/", "opus/abc", "/8000", "opus/48000/0", "opus/48000/2/1", "opus/-1"])
func badRtpmapsAreRefused(_ text: String) {
    #expect(RTPPayloadFormat(rtpmap: text) == nil)
}

@Test func dynamicLookupByNameAndFormat() throws {
    let map = try RTPPayloadTypeMap(dynamic: [
        111: .opus, 101: .telephoneEvent, 110: .telephoneEvent48000, 96: .vp8, 102: .h264, 103: .h264,
    ])
    #expect(map.format(for: 111) == .opus)
    #expect(map.payloadType(for: RTPPayloadFormat(encodingName: "OPUS", clockRate: 48000, channels: 2)) == 111)
    #expect(map.payloadType(named: "telephone-event", clockRate: 8000) == 101)
    #expect(map.payloadType(named: "telephone-event", clockRate: 48000) == 110)
    #expect(map.payloadType(named: "vp8") == 96)
    #expect(map.payloadType(named: "H264") == 102)
    #expect(map.payloadType(named: "PCMA") == 8)
    #expect(map.payloadType(for: .g722) == 9)
    #expect(map.payloadType(named: "opus", clockRate: 48000, channels: 1) == nil)
    #expect(map.payloadType(named: "VP9") == nil)
    // Channels omitted mean one channel.
    #expect(RTPPayloadFormat.pcmu.matches(RTPPayloadFormat(encodingName: "pcmu", clockRate: 8000, channels: 1)))
}

@Test(arguments: [0, 8, 34, 64, 72, 95, 128, 255] as [Int])
func nonDynamicPayloadTypesCannotBeBound(_ payloadType: Int) {
    var map = RTPPayloadTypeMap()
    #expect(throws: RTPError.self) { try map.register(UInt8(payloadType), .opus) }
}

@Test(arguments: [35, 63, 96, 127] as [Int])
func dynamicRangesCanBeBound(_ payloadType: Int) throws {
    var map = RTPPayloadTypeMap()
    try map.register(UInt8(payloadType), .vp8)
    #expect(map.format(for: UInt8(payloadType)) == .vp8)
}
