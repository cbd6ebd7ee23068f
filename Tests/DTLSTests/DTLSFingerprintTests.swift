import DTLS
import Testing

@Suite("Fingerprints and certificates")
struct DTLSFingerprintTests {
    @Test("certificate fingerprint is SHA-256 upper-case hex pairs")
    func format() throws {
        let fingerprint = certificateA.fingerprint(.sha256)
        #expect(fingerprint.algorithm == "sha-256")
        #expect(fingerprint.bytes.count == 32)
        let value = fingerprint.value
        #expect(value.count == 32 * 3 - 1)
        #expect(value == value.uppercased())
        #expect(value.split(separator: ":").allSatisfy { $0.count == 2 })
        #expect(fingerprint.attributeValue == "sha-256 " + value)
        #expect(certificateA.fingerprint(.sha1).bytes.count == 20)
    }

    @Test("parsing is case-insensitive and round-trips")
    func parse() throws {
        let fingerprint = certificateB.fingerprint()
        let lower = try DTLSFingerprint(algorithm: "SHA-256", value: fingerprint.value.lowercased())
        #expect(lower == fingerprint)
        #expect(try DTLSFingerprint(attributeValue: fingerprint.attributeValue) == fingerprint)
    }

    @Test("a known SDP example parses to its bytes")
    func knownValue() throws {
        // RFC 8122 §5 style value; the digest bytes are checked one by one.
        let text = "sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB"
        let fingerprint = try DTLSFingerprint(attributeValue: text)
        #expect(fingerprint.algorithm == "sha-1")
        #expect(fingerprint.bytes.first == 0x4A)
        #expect(fingerprint.bytes.last == 0xAB)
        #expect(fingerprint.attributeValue == text)
    }

    static let invalid: [(String, String)] = [
        ("sha-256", "AB:CD"),  // wrong length for sha-256
        ("sha-1", "4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C"),  // 19 bytes
        ("sha-256", ""),
        ("sha-256", "GG:" + String(repeating: "00:", count: 30) + "00"),
        ("sha-1", "4AAD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB"),
        ("sha 1", "AB"),
        ("", "AB"),
    ]

    @Test("malformed fingerprints are refused", arguments: invalid)
    func invalidFingerprints(algorithm: String, value: String) {
        #expect(throws: DTLSError.self) { _ = try DTLSFingerprint(algorithm: algorithm, value: value) }
    }

    @Test("an unknown hash function parses but cannot be used to check a peer")
    func unknownAlgorithm() throws {
        let fingerprint = try DTLSFingerprint(algorithm: "md5", value: "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF")
        #expect(fingerprint.hashAlgorithm == nil)
        #expect(throws: DTLSError.unsupportedFingerprintAlgorithm("md5")) {
            _ = try DTLSConnection(role: .client, certificate: certificateA, remoteFingerprint: fingerprint)
        }
    }

    @Test("each generated certificate is distinct")
    func distinctCertificates() throws {
        let one = try DTLSCertificate.generate()
        let two = try DTLSCertificate.generate()
        #expect(one.fingerprint() != two.fingerprint())
        #expect(one.derBytes != two.derBytes)
        #expect(one.derBytes.first == 0x30)  // DER SEQUENCE
    }
}
