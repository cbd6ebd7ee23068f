import Testing
import RTP

struct CodeVector: Sendable {
    let sample: Int16
    let code: UInt8
}

/// Encoder vectors: zero, ±1, full scale, and the G.711 segment edges.
@Test(arguments: [
    CodeVector(sample: 0, code: 0xFF),
    CodeVector(sample: -1, code: 0x7F),
    CodeVector(sample: 32767, code: 0x80),
    CodeVector(sample: -32768, code: 0x00),
    CodeVector(sample: 32124, code: 0x80),
    CodeVector(sample: 8, code: 0xFE),
    CodeVector(sample: -8, code: 0x7E),
    CodeVector(sample: 1000, code: 0xCE),
    CodeVector(sample: -1000, code: 0x4E),
])
func muLawEncodes(_ vector: CodeVector) {
    #expect(G711.muLawEncode(vector.sample) == vector.code)
}

/// Decoder vectors from the classic µ-law table (code -> 16-bit linear).
@Test(arguments: [
    CodeVector(sample: -32124, code: 0x00),
    CodeVector(sample: -31100, code: 0x01),
    CodeVector(sample: -15996, code: 0x10),
    CodeVector(sample: -8, code: 0x7E),
    CodeVector(sample: 0, code: 0x7F),
    CodeVector(sample: 32124, code: 0x80),
    CodeVector(sample: 8, code: 0xFE),
    CodeVector(sample: 0, code: 0xFF),
])
func muLawDecodes(_ vector: CodeVector) {
    #expect(G711.muLawDecode(vector.code) == vector.sample)
    #expect(G711Law.muLaw.decode(vector.code) == vector.sample)
}

@Test(arguments: [
    CodeVector(sample: 0, code: 0xD5),
    CodeVector(sample: -1, code: 0x55),
    CodeVector(sample: 32767, code: 0xAA),
    CodeVector(sample: -32768, code: 0x2A),
    CodeVector(sample: 5504, code: 0x80),
    CodeVector(sample: -5504, code: 0x00),
])
func aLawEncodes(_ vector: CodeVector) {
    #expect(G711.aLawEncode(vector.sample) == vector.code)
}

/// Decoder vectors from the classic A-law table.
@Test(arguments: [
    CodeVector(sample: -5504, code: 0x00),
    CodeVector(sample: -5248, code: 0x01),
    CodeVector(sample: -7552, code: 0x08),
    CodeVector(sample: 8, code: 0xD5),
    CodeVector(sample: -8, code: 0x55),
    CodeVector(sample: 32256, code: 0xAA),
    CodeVector(sample: -32256, code: 0x2A),
    CodeVector(sample: 5504, code: 0x80),
])
func aLawDecodes(_ vector: CodeVector) {
    #expect(G711.aLawDecode(vector.code) == vector.sample)
    #expect(G711Law.aLaw.decode(vector.code) == vector.sample)
}

/// Over every 16-bit input: the error stays within half a quantization step (at most |x|/32 above the
/// smallest segment, as G.711's segments double in size), reconstruction is monotonic, and decoding then
/// re-encoding every code gives the code back.
@Test(arguments: G711Law.allCases)
func roundTripErrorIsBoundedOverAllInputs(_ law: G711Law) {
    var previous = Int.min
    var worstRelative = 0.0
    for value in Int(Int16.min)...Int(Int16.max) {
        let decoded = Int(law.decode(law.encode(Int16(value))))
        let error = abs(decoded - value)
        let magnitude = abs(value)
        switch law {
        case .muLaw:
            // Beyond the clip level 32635 everything maps to the largest code (±32124).
            if magnitude > 32635 {
                #expect(abs(decoded) == 32124)
            } else if error > (magnitude + 132) / 32 {
                Issue.record("µ-law \(value) -> \(decoded), error \(error)")
            }
        case .aLaw:
            if error > max(8, magnitude / 32) { Issue.record("A-law \(value) -> \(decoded), error \(error)") }
        }
        if decoded < previous { Issue.record("\(law) not monotonic at \(value)") }
        previous = decoded
        if magnitude > 1024 { worstRelative = max(worstRelative, Double(error) / Double(magnitude)) }
    }
    // About 3 % at worst: the log-PCM property that makes G.711 work.
    #expect(worstRelative < 0.035)
    for code in UInt8.min...UInt8.max {
        let expected: UInt8 = (law == .muLaw && code == 0x7F) ? 0xFF : code  // µ-law's "negative zero"
        #expect(law.encode(law.decode(code)) == expected)
    }
}

@Test func silenceCodes() {
    #expect(G711Law.muLaw.silence == 0xFF)
    #expect(G711Law.aLaw.silence == 0xD5)
    #expect(G711Law.muLaw.payloadType == 0)
    #expect(G711Law.aLaw.payloadType == 8)
}
