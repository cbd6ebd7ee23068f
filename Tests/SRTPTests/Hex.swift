/// Test vectors are written as hexadecimal strings.
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8.filter { $0 != UInt8(ascii: " ") })
    precondition(digits.count % 2 == 0, "odd hex string in a test vector")
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

/// An RTP packet: version 2, payload type 0, the given sequence number, timestamp and SSRC, and a payload.
func rtpPacket(sequence: UInt16, ssrc: UInt32 = 0xCAFE_BABE, payload: [UInt8] = Array(repeating: 0xAB, count: 160)) -> [UInt8] {
    let timestamp = UInt32(sequence) * 160
    return [0x80, 0x00, UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
        + [UInt8(timestamp >> 24), UInt8(timestamp >> 16 & 0xFF), UInt8(timestamp >> 8 & 0xFF), UInt8(timestamp & 0xFF)]
        + [UInt8(ssrc >> 24), UInt8(ssrc >> 16 & 0xFF), UInt8(ssrc >> 8 & 0xFF), UInt8(ssrc & 0xFF)]
        + payload
}
