import Hashes
import Testing
@testable import XMPPLink

struct SCRAMVector: Sendable, CustomStringConvertible {
    var algorithm: HashAlgorithm
    var clientNonce: String
    var clientFirst: String
    var serverFirst: String
    var clientFinal: String
    var serverFinal: String
    var description: String { algorithm.rawValue }
}

/// The worked examples of RFC 5802 §5 (SHA-1) and RFC 7677 §3 (SHA-256): user "user", password "pencil".
let scramVectors = [
    SCRAMVector(algorithm: .sha1, clientNonce: "fyko+d2lbbFgONRv9qkxdawL",
                clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
                serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
                clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
                serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="),
    SCRAMVector(algorithm: .sha256, clientNonce: "rOprNGfwEbeRWgbNEkqO",
                clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
                serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
                clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
]

@Suite struct SCRAMClientTests {
    @Test(arguments: scramVectors)
    func rfcExample(_ vector: SCRAMVector) throws {
        var scram = SCRAMClient(algorithm: vector.algorithm, username: "user", password: "pencil", clientNonce: vector.clientNonce)
        #expect(scram.clientFirstMessage == vector.clientFirst)
        #expect(try scram.clientFinalMessage(serverFirst: vector.serverFirst) == vector.clientFinal)
        try scram.verify(serverFinal: vector.serverFinal)
    }

    @Test(arguments: scramVectors)
    func forgedServerSignatureIsRejected(_ vector: SCRAMVector) throws {
        var scram = SCRAMClient(algorithm: vector.algorithm, username: "user", password: "wrong", clientNonce: vector.clientNonce)
        _ = try scram.clientFinalMessage(serverFirst: vector.serverFirst)
        #expect(throws: XMPPLinkError.serverSignatureMismatch) { try scram.verify(serverFinal: vector.serverFinal) }
    }

    @Test(arguments: [
        "r=othernonce,s=QSXCR+Q6sek8bf92,i=4096",          // does not extend our nonce
        "r=fyko+d2lbbFgONRv9qkxdawL,s=QSXCR+Q6sek8bf92,i=4096",  // no server part
        "r=fyko+d2lbbFgONRv9qkxdawLx,i=4096",              // no salt
        "r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=0",
        "m=ext,r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=4096",
    ])
    func malformedServerFirst(_ serverFirst: String) {
        var scram = SCRAMClient(algorithm: .sha1, username: "user", password: "pencil", clientNonce: "fyko+d2lbbFgONRv9qkxdawL")
        #expect(throws: XMPPLinkError.self) { try scram.clientFinalMessage(serverFirst: serverFirst) }
    }

    @Test func serverErrorAttribute() throws {
        let vector = scramVectors[0]
        var scram = SCRAMClient(algorithm: .sha1, username: "user", password: "pencil", clientNonce: vector.clientNonce)
        _ = try scram.clientFinalMessage(serverFirst: vector.serverFirst)
        #expect(throws: XMPPLinkError.saslFailed(condition: "not-authorized", text: "invalid-proof")) {
            try scram.verify(serverFinal: "e=invalid-proof")
        }
    }

    @Test func usernameIsEscaped() {
        let scram = SCRAMClient(algorithm: .sha256, username: "a=b,c", password: "p", clientNonce: "n")
        #expect(scram.clientFirstMessage == "n,,n=a=3Db=2Cc,r=n")
    }

    @Test func escapingIsPerScalarNotPerCharacter() {
        // "=" + U+0301 and "," + U+0301 are single Characters; the "=" and "," inside them need escaping too.
        let scram = SCRAMClient(algorithm: .sha256, username: "a=\u{301}b,\u{301}", password: "p", clientNonce: "n")
        #expect(scram.clientFirstMessage.unicodeScalars.elementsEqual("n,,n=a=3D\u{301}b=2C\u{301},r=n".unicodeScalars))
    }
}
