#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hashes

/// The client side of SCRAM (RFC 5802), for SCRAM-SHA-1, SCRAM-SHA-256 (RFC 7677) and SCRAM-SHA-512
/// (draft-melnikov-scram-sha-512, offered by ejabberd), without channel binding (gs2 header `n,,`). Pure:
/// the nonce is passed in.
///
/// ```
/// client-first  ->            n,,n=user,r=cnonce
///               <- server-first r=cnonce+snonce,s=salt,i=iterations
/// client-final  ->            c=biws,r=cnonce+snonce,p=proof
///               <- server-final v=server-signature
/// ```
public struct SCRAMClient: Sendable {
    public let algorithm: HashAlgorithm
    private let username: String
    private let password: String
    private let clientNonce: String
    private var authMessage: String?
    private var serverSignature: [UInt8]?

    /// The SASL mechanism name (RFC 5802 §4, RFC 7677 §2): `SCRAM-` and the hash's IANA name in capitals.
    public var mechanism: String { "SCRAM-" + algorithm.textualName.uppercased() }

    /// The SCRAM mechanisms this client runs, strongest first.
    public static let mechanisms: [(name: String, algorithm: HashAlgorithm)] = [
        ("SCRAM-SHA-512", .sha512), ("SCRAM-SHA-256", .sha256), ("SCRAM-SHA-1", .sha1),
    ]

    public init(algorithm: HashAlgorithm, username: String, password: String, clientNonce: String) {
        self.algorithm = algorithm
        self.username = username
        self.password = password
        self.clientNonce = clientNonce
    }

    /// RFC 5802 §5.1: `=` and `,` in the username are escaped as `=3D` and `=2C`.
    private var saslName: String {
        // By scalar: "=" or "," followed by a combining mark is one Character and must be escaped too.
        var scalars = String.UnicodeScalarView()
        for scalar in username.unicodeScalars {
            switch scalar {
            case "=": scalars.append(contentsOf: "=3D".unicodeScalars)
            case ",": scalars.append(contentsOf: "=2C".unicodeScalars)
            default: scalars.append(scalar)
            }
        }
        return String(scalars)
    }

    private var clientFirstBare: String { "n=\(saslName),r=\(clientNonce)" }

    /// The client-first-message (RFC 5802 §7).
    public var clientFirstMessage: String { "n,," + clientFirstBare }

    /// Answers the server-first-message with the client-final-message (RFC 5802 §3).
    public mutating func clientFinalMessage(serverFirst: String) throws(XMPPLinkError) -> String {
        var nonce: String?
        var salt: [UInt8]?
        var iterations: Int?
        for part in serverFirst.split(separator: ",") {
            guard part.count >= 2, part.dropFirst().first == "=" else { continue }
            let value = String(part.dropFirst(2))
            switch part.first {
            case "r": nonce = value
            case "s": salt = Data(base64Encoded: value).map(Array.init)
            case "i": iterations = Int(value)
            case "m": throw .scramProtocol("mandatory extension not supported")   // RFC 5802 §5.1 `m`
            default: break
            }
        }
        guard let nonce, nonce.hasPrefix(clientNonce), nonce.count > clientNonce.count else {
            throw .scramProtocol("server nonce does not extend the client nonce")
        }
        guard let salt, !salt.isEmpty else { throw .scramProtocol("missing or invalid salt") }
        // RFC 7677 §4: at least 4096 iterations SHOULD be used; we accept fewer but bound the work a server
        // can make us do.
        guard let iterations, iterations > 0, iterations <= 10_000_000 else {
            throw .scramProtocol("invalid iteration count")
        }
        let withoutProof = "c=biws,r=\(nonce)"   // biws = base64("n,,")
        let authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof
        let salted = KeyedHash.pbkdf2(algorithm, password: Array(password.utf8), salt: salt, iterations: iterations)
        let clientKey = KeyedHash.hmac(algorithm, key: salted, data: Array("Client Key".utf8))
        let storedKey = Digest.hash(algorithm, clientKey)
        let clientSignature = KeyedHash.hmac(algorithm, key: storedKey, data: Array(authMessage.utf8))
        let proof = zip(clientKey, clientSignature).map { $0 ^ $1 }
        let serverKey = KeyedHash.hmac(algorithm, key: salted, data: Array("Server Key".utf8))
        self.serverSignature = KeyedHash.hmac(algorithm, key: serverKey, data: Array(authMessage.utf8))
        self.authMessage = authMessage
        return withoutProof + ",p=" + Data(proof).base64EncodedString()
    }

    /// Verifies the server-final-message (RFC 5802 §5.1 `v=`; `e=` is a server-reported error).
    public func verify(serverFinal: String) throws(XMPPLinkError) {
        guard let expected = serverSignature else { throw .scramProtocol("server-final before server-first") }
        for part in serverFinal.split(separator: ",") {
            if part.hasPrefix("e=") { throw .saslFailed(condition: "not-authorized", text: String(part.dropFirst(2))) }
            if part.hasPrefix("v=") {
                guard let got = Data(base64Encoded: String(part.dropFirst(2))), Array(got) == expected else {
                    throw .serverSignatureMismatch
                }
                return
            }
        }
        throw .serverSignatureMismatch
    }
}
