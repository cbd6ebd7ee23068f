/// ITU-T G.711 companding between 16-bit linear PCM and 8-bit µ-law or A-law codes.
///
/// The encoders take the full 16-bit range (the classic 14-bit µ-law and 13-bit A-law inputs, scaled), so
/// µ-law encodes 0 as 0xFF and full scale as 0x80/0x00, and A-law encodes 0 as 0xD5 and full scale as
/// 0xAA/0x2A, with the even-bit inversion of G.711 Table 1/2 applied.
public enum G711Law: Sendable, Hashable, CaseIterable {
    case muLaw
    case aLaw

    /// The static RTP payload type (RFC 3551 §6: 0 PCMU, 8 PCMA).
    public var payloadType: UInt8 {
        switch self {
        case .muLaw: 0
        case .aLaw: 8
        }
    }

    /// The code for a zero sample, used to fill silence.
    public var silence: UInt8 { encode(0) }

    public func encode(_ sample: Int16) -> UInt8 {
        switch self {
        case .muLaw: G711.muLawEncode(sample)
        case .aLaw: G711.aLawEncode(sample)
        }
    }

    public func decode(_ code: UInt8) -> Int16 {
        switch self {
        case .muLaw: G711.muLawDecodeTable[Int(code)]
        case .aLaw: G711.aLawDecodeTable[Int(code)]
        }
    }

    public func encode(_ samples: [Int16]) -> [UInt8] { samples.map { encode($0) } }

    public func decode(_ codes: [UInt8]) -> [Int16] { codes.map { decode($0) } }
}

public enum G711 {
    /// Bias added before finding the µ-law segment, so segment boundaries fall on powers of two.
    static let muLawBias: Int32 = 0x84
    /// Largest magnitude µ-law can represent once the bias is added.
    static let muLawClip: Int32 = 32635

    /// Linear to µ-law (G.711 §3, Table 2): sign, 3-bit segment, 4-bit step, all bits inverted.
    public static func muLawEncode(_ sample: Int16) -> UInt8 {
        var magnitude = Int32(sample)
        var mask: UInt8 = 0xFF
        if magnitude < 0 {
            magnitude = -magnitude
            mask = 0x7F
        }
        magnitude = min(magnitude, muLawClip) + muLawBias
        // magnitude is now in 0x84...0x7FFF, so its top set bit is bit 7...14 and the segment 0...7.
        let segment = Int32(31 - magnitude.leadingZeroBitCount) - 7
        let step = (magnitude >> (segment + 3)) & 0x0F
        return UInt8(truncatingIfNeeded: segment << 4 | step) ^ mask
    }

    /// µ-law to linear: the midpoint of the code's interval.
    public static func muLawDecode(_ code: UInt8) -> Int16 {
        let inverted = ~code
        let segment = Int32((inverted >> 4) & 0x07)
        let step = Int32(inverted & 0x0F)
        let magnitude = ((step << 3) + muLawBias) << segment - muLawBias
        return Int16(inverted & 0x80 != 0 ? -magnitude : magnitude)
    }

    /// Linear to A-law (G.711 §2, Table 1) on the top 13 bits: sign, 3-bit segment, 4-bit step, even bits inverted.
    public static func aLawEncode(_ sample: Int16) -> UInt8 {
        var value = Int32(sample) >> 3
        let mask: UInt8
        if value >= 0 {
            mask = 0xD5
        } else {
            mask = 0x55
            value = -value - 1
        }
        // value is in 0...0xFFF; segment 0 covers 0...0x1F, segment n covers 2^(n+4)...2^(n+5)-1.
        let segment = value < 0x20 ? 0 : Int32(31 - value.leadingZeroBitCount) - 4
        let step = segment < 2 ? (value >> 1) & 0x0F : (value >> segment) & 0x0F
        return UInt8(truncatingIfNeeded: segment << 4 | step) ^ mask
    }

    /// A-law to linear: the midpoint of the code's interval.
    public static func aLawDecode(_ code: UInt8) -> Int16 {
        let value = code ^ 0x55
        let segment = Int32((value & 0x70) >> 4)
        var magnitude = Int32(value & 0x0F) << 4
        switch segment {
        case 0: magnitude += 8
        case 1: magnitude += 0x108
        default: magnitude = (magnitude + 0x108) << (segment - 1)
        }
        return Int16(value & 0x80 != 0 ? magnitude : -magnitude)
    }

    static let muLawDecodeTable: [Int16] = (0...255).map { muLawDecode(UInt8($0)) }
    static let aLawDecodeTable: [Int16] = (0...255).map { aLawDecode(UInt8($0)) }
}
