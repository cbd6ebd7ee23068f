import Testing
import Hashes

/// OpenSSL is linked and usable: known-answer hashes (FIPS 180-4 / RFC 4231 / RFC 6070 vectors).
@Test func sha256OfABC() {
    #expect(Digest.hash(.sha256, Array("abc".utf8)).hexString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
}

@Test func sha1OfABC() {
    #expect(Digest.hash(.sha1, Array("abc".utf8)).hexString == "a9993e364706816aba3e25717850c26c9cd0d89d")
}

@Test func incrementalEqualsOneShot() {
    let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    var digest = Digest(.sha256)
    for chunk in stride(from: 0, to: data.count, by: 777) {
        digest.update(data[chunk..<min(chunk + 777, data.count)])
    }
    #expect(digest.finalize() == Digest.hash(.sha256, data))
}

@Test func hmacSHA256RFC4231Case2() {
    let mac = KeyedHash.hmac(.sha256, key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8))
    #expect(mac.hexString == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
}

@Test func pbkdf2SHA1RFC6070() {
    let key = KeyedHash.pbkdf2(.sha1, password: Array("password".utf8), salt: Array("salt".utf8), iterations: 2, length: 20)
    #expect(key.hexString == "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957")
}

@Test func randomBytesDiffer() {
    let a = SecureRandom.bytes(32), b = SecureRandom.bytes(32)
    #expect(a.count == 32 && a != b)
}

@Test func textualNames() {
    #expect(HashAlgorithm(textualName: "SHA-256") == .sha256)
    #expect(HashAlgorithm(textualName: "md5") == nil)
}
