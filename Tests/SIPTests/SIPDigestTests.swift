import Testing
@testable import SIP

@Suite("SIP digest authentication")
struct SIPDigestTests {
    /// A server that challenges every call with a fresh nonce must not make a long-running user agent keep one
    /// nonce count per call for ever; a nonce still in use keeps counting up (RFC 7616 §3.4).
    @Test func nonceCountsStayBounded() {
        var ua = SIPUserAgent(configuration: SIPUserAgentConfiguration(localHost: "127.0.0.1", localPort: 5070, transport: .udp, userName: "alice"))
        #expect(ua.nextNonceCount("reused") == 1 && ua.nextNonceCount("reused") == 2)
        for i in 0..<1000 { _ = ua.nextNonceCount("n\(i)") }
        #expect(ua.nonceCounts.count <= SIPUserAgent.nonceMemory)
        #expect(ua.nonceCounts.count == ua.nonceOrder.count && Set(ua.nonceOrder) == Set(ua.nonceCounts.keys))
        #expect(ua.nextNonceCount("n999") == 2, "a recent nonce is remembered")
        #expect(ua.nextNonceCount("n0") == 1, "the oldest are forgotten")
        #expect(ua.nextNonceCount("reused") == 1)
    }

    @Test(arguments: [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"),
    ])
    func md5MatchesRFC1321TestSuite(input: String, expected: String) {
        #expect(MD5.hash(Array(input.utf8)).hexString == expected)
    }

    /// RFC 2617 §3.5: the "Mufasa" example.
    @Test func rfc2617Example() throws {
        let challenge = try SIPDigestChallenge(#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
                                               isProxy: false)
        #expect(challenge.qop == ["auth", "auth-int"])
        #expect(challenge.algorithm == "MD5")
        let credentials = try SIPDigest.credentials(for: challenge, method: SIPMethod(rawValue: "GET"), uri: "/dir/index.html", username: "Mufasa",
                                                    password: "Circle Of Life", cnonce: "0a4f113b", nonceCount: 1)
        #expect(credentials.response == "6629fae49393a05397450978507c4ef1")
        #expect(credentials.nonceCount == "00000001")
        #expect(credentials.qop == "auth")
        #expect(credentials.opaque == "5ccc069c403ebaf9f0171e9517f40e41")
        // The header value parses back to the same credentials.
        #expect(try SIPDigestCredentials(credentials.headerValue, isProxy: false) == credentials)
    }

    /// RFC 7616 §3.9.1: the same request answered with MD5 and with SHA-256.
    @Test(arguments: [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ])
    func rfc7616Examples(algorithm: String, expected: String) throws {
        let challenge = SIPDigestChallenge(realm: "http-auth@example.org", nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                                           opaque: "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", algorithm: algorithm, qop: ["auth", "auth-int"])
        let credentials = try SIPDigest.credentials(for: challenge, method: SIPMethod(rawValue: "GET"), uri: "/dir/index.html", username: "Mufasa",
                                                    password: "Circle of Life", cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
        #expect(credentials.response == expected)
    }

    @Test func challengeWithoutQOPUsesRFC2069Form() throws {
        let challenge = SIPDigestChallenge(realm: "r", nonce: "n", qop: [])
        let credentials = try SIPDigest.credentials(for: challenge, method: .register, uri: "sip:example.com", username: "u", password: "p", cnonce: "c")
        let ha1 = MD5.hash(Array("u:r:p".utf8)).hexString
        let ha2 = MD5.hash(Array("REGISTER:sip:example.com".utf8)).hexString
        #expect(credentials.response == MD5.hash(Array("\(ha1):n:\(ha2)".utf8)).hexString)
        #expect(credentials.qop == nil)
        #expect(credentials.cnonce == nil)
    }

    @Test func unsupportedChoicesAreTypedErrors() {
        #expect(throws: SIPDigestError.unsupportedAlgorithm("SHA-512-256")) {
            try SIPDigest.credentials(for: SIPDigestChallenge(realm: "r", nonce: "n", algorithm: "SHA-512-256"), method: .invite, uri: "sip:x",
                                      username: "u", password: "p", cnonce: "c")
        }
        #expect(throws: SIPDigestError.unsupportedQOP(["auth-int"])) {
            try SIPDigest.credentials(for: SIPDigestChallenge(realm: "r", nonce: "n", qop: ["auth-int"]), method: .invite, uri: "sip:x",
                                      username: "u", password: "p", cnonce: "c")
        }
        #expect(throws: SIPParseError.self) { try SIPDigestChallenge("Basic realm=\"x\"", isProxy: false) }
        #expect(throws: SIPParseError.self) { try SIPDigestChallenge("Digest nonce=\"x\"", isProxy: false) }
    }
}
