import SRTP
import Testing

@Suite("SDES key parameters (RFC 4568)")
struct SDESTests {
    @Test("RFC 4568 §9.1 example parses and formats back")
    func rfcExample() throws {
        let text = "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4"
        let params = try SDESKeyParams(parsing: text, profile: .aesCM128HmacSHA1_80)
        #expect(params.key.count == 16)
        #expect(params.salt.count == 14)
        #expect(params.key.prefix(4) == [0x3D, 0x2D, 0x6E, 0x40])  // "=-n@"
        #expect(params.salt.suffix(2) == [0x50, 0x51])  // "PQ"
        #expect(params.lifetime == .powerOfTwo(20))
        #expect(params.lifetime?.packetCount == 1 << 20)
        #expect(params.mki == SDESKeyParams.MKI(value: 1, length: 4))
        #expect(params.formatted == text)
    }

    @Test("a key-salt of readable text decodes to exactly those bytes, MKI without lifetime")
    func readableKey() throws {
        let params = try SDESKeyParams(parsing: "inline:YUJDZGVmZ2hpSktMbW9QUXJzVHVWd3l6MTIzNDU2|1066:4", profile: .aesCM128HmacSHA1_80)
        #expect(params.key == Array("aBCdefghiJKLmoPQ".utf8))
        #expect(params.salt == Array("rsTuVwyz123456".utf8))
        #expect(params.lifetime == nil)
        #expect(params.mki == SDESKeyParams.MKI(value: 1066, length: 4))
    }

    @Test("whole a=crypto value round-trips, keys feed a session")
    func cryptoAttribute() throws {
        let text = "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32 KDR=1"
        let attribute = try SDESCryptoAttribute(parsing: text)
        #expect(attribute.tag == 1)
        #expect(attribute.profile == .aesCM128HmacSHA1_80)
        #expect(attribute.keyParams.count == 1)
        #expect(attribute.keyParams[0].mki?.length == 32)
        #expect(attribute.sessionParameters == ["KDR=1"])
        #expect(attribute.formatted == text)
        let key = attribute.keyParams[0]
        let session = try SRTPSession(profile: attribute.profile, key: key.key, salt: key.salt, direction: .outbound)
        #expect(try session.protectRTP(rtpPacket(sequence: 1)).count == 172 + 10)
    }

    @Test("GCM key-salt is 28 bytes and formats with padding", arguments: [0, 1, 255])
    func gcmRoundTrip(fill: Int) throws {
        let params = SDESKeyParams(
            key: (0..<16).map { UInt8(($0 + fill) & 0xFF) }, salt: (0..<12).map { UInt8(($0 * 3 + fill) & 0xFF) },
            lifetime: .packets(1_000_000))
        let text = params.formatted
        #expect(text.hasSuffix("|1000000"))
        #expect(text.contains("="))  // 28 bytes is not a multiple of 3
        #expect(try SDESKeyParams(parsing: text, profile: .aeadAES128GCM) == params)
        let attribute = SDESCryptoAttribute(tag: 2, profile: .aeadAES128GCM, keyParams: [params])
        #expect(try SDESCryptoAttribute(parsing: attribute.formatted) == attribute)
        #expect(attribute.formatted.hasPrefix("2 AEAD_AES_128_GCM inline:"))
    }

    static let invalid: [String] = [
        "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",  // no inline:
        "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaV",  // too short
        "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVB!",  // not base64
        "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^x",
        "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:0",  // MKI length 0
        "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:129",  // MKI length beyond 128
        "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|300:1",  // MKI value too large for 1 byte
        "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:4|2^20",  // lifetime after MKI
        "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4|5",
    ]

    @Test("malformed key parameters are refused", arguments: invalid)
    func invalidParams(text: String) {
        #expect(throws: SRTPError.self) { _ = try SDESKeyParams(parsing: text, profile: .aesCM128HmacSHA1_80) }
    }

    @Test("unknown crypto-suite is reported as unsupported")
    func unknownSuite() {
        #expect(throws: SRTPError.unsupported("crypto-suite F8_128_HMAC_SHA1_80")) {
            _ = try SDESCryptoAttribute(parsing: "1 F8_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR")
        }
    }
}
