import Hashes

/// A Digest challenge from WWW-Authenticate / Proxy-Authenticate (RFC 3261 §22.4, RFC 2617 §3.2.1,
/// RFC 7616 §3.3).
public struct SIPDigestChallenge: Sendable, Hashable {
    public var isProxy: Bool
    public var realm: String
    public var nonce: String
    public var opaque: String?
    public var algorithm: String
    /// Offered qop values (`auth`, `auth-int`); empty for an RFC 2069-style challenge.
    public var qop: [String]
    public var stale: Bool

    public init(isProxy: Bool = false, realm: String, nonce: String, opaque: String? = nil, algorithm: String = "MD5", qop: [String] = ["auth"], stale: Bool = false) {
        self.isProxy = isProxy
        self.realm = realm
        self.nonce = nonce
        self.opaque = opaque
        self.algorithm = algorithm
        self.qop = qop
        self.stale = stale
    }

    public init(_ text: String, isProxy: Bool) throws(SIPParseError) {
        let header = isProxy ? "Proxy-Authenticate" : "WWW-Authenticate"
        let (scheme, params) = try parseAuthParams(text, header: header)
        guard scheme.lowercased() == "digest" else {
            throw SIPParseError(.unsupported("authentication scheme \(scheme)"), reason: "Unsupported authentication scheme")
        }
        guard let realm = params["realm"], let nonce = params["nonce"] else {
            throw SIPParseError(.invalidHeaderValue(header), reason: "Digest challenge without realm or nonce")
        }
        self.isProxy = isProxy
        self.realm = realm
        self.nonce = nonce
        self.opaque = params["opaque"]
        self.algorithm = params["algorithm"] ?? "MD5"
        self.qop = params["qop"].map { $0.split(separator: ",").map { String($0.trimmingLWS()).lowercased() } } ?? []
        self.stale = params["stale"]?.lowercased() == "true"
    }

    public var headerValue: String {
        var parts = ["realm=\(quoted(realm))", "nonce=\(quoted(nonce))", "algorithm=\(algorithm)"]
        if !qop.isEmpty { parts.append("qop=\(quoted(qop.joined(separator: ",")))") }
        if let opaque { parts.append("opaque=\(quoted(opaque))") }
        if stale { parts.append("stale=TRUE") }
        return "Digest " + parts.joined(separator: ", ")
    }
}

/// Digest credentials for Authorization / Proxy-Authorization (RFC 2617 §3.2.2).
public struct SIPDigestCredentials: Sendable, Hashable {
    public var isProxy: Bool
    public var username: String
    public var realm: String
    public var nonce: String
    public var uri: String
    public var response: String
    public var algorithm: String?
    public var cnonce: String?
    public var opaque: String?
    public var qop: String?
    public var nonceCount: String?

    public init(isProxy: Bool, username: String, realm: String, nonce: String, uri: String, response: String,
                algorithm: String?, cnonce: String?, opaque: String?, qop: String?, nonceCount: String?) {
        self.isProxy = isProxy
        self.username = username
        self.realm = realm
        self.nonce = nonce
        self.uri = uri
        self.response = response
        self.algorithm = algorithm
        self.cnonce = cnonce
        self.opaque = opaque
        self.qop = qop
        self.nonceCount = nonceCount
    }

    public init(_ text: String, isProxy: Bool) throws(SIPParseError) {
        let header = isProxy ? "Proxy-Authorization" : "Authorization"
        let (scheme, params) = try parseAuthParams(text, header: header)
        guard scheme.lowercased() == "digest" else {
            throw SIPParseError(.unsupported("authentication scheme \(scheme)"), reason: "Unsupported authentication scheme")
        }
        guard let username = params["username"], let realm = params["realm"], let nonce = params["nonce"],
              let uri = params["uri"], let response = params["response"] else {
            throw SIPParseError(.invalidHeaderValue(header), reason: "Incomplete digest credentials")
        }
        self.init(isProxy: isProxy, username: username, realm: realm, nonce: nonce, uri: uri, response: response,
                  algorithm: params["algorithm"], cnonce: params["cnonce"], opaque: params["opaque"], qop: params["qop"], nonceCount: params["nc"])
    }

    /// The header value (§22.4 ordering is free; quoting follows RFC 2617 §3.2.2: nc, qop and
    /// algorithm are tokens, the rest quoted strings).
    public var headerValue: String {
        var parts = ["username=\(quoted(username))", "realm=\(quoted(realm))", "nonce=\(quoted(nonce))", "uri=\(quoted(uri))",
                     "response=\(quoted(response))"]
        if let algorithm { parts.append("algorithm=\(algorithm)") }
        if let cnonce { parts.append("cnonce=\(quoted(cnonce))") }
        if let opaque { parts.append("opaque=\(quoted(opaque))") }
        if let qop { parts.append("qop=\(qop)") }
        if let nonceCount { parts.append("nc=\(nonceCount)") }
        return "Digest " + parts.joined(separator: ", ")
    }
}

/// Errors of the digest client.
public enum SIPDigestError: Error, Sendable, Equatable {
    /// Algorithm other than MD5, MD5-sess, SHA-256, SHA-256-sess (e.g. SHA-512-256).
    case unsupportedAlgorithm(String)
    /// Only `qop=auth` (or none) is implemented; `auth-int` alone is not.
    case unsupportedQOP([String])
}

/// RFC 2617 §3.2.2 / RFC 7616 §3.4 response computation, client side.
public enum SIPDigest {
    /// Computes credentials answering `challenge` for a request `method` to `uri`.
    /// `cnonce` and `nonceCount` are passed in so the computation stays deterministic.
    public static func credentials(for challenge: SIPDigestChallenge, method: SIPMethod, uri: String, username: String, password: String,
                                   cnonce: String, nonceCount: UInt32 = 1) throws(SIPDigestError) -> SIPDigestCredentials {
        let algorithmName = challenge.algorithm.uppercased()
        let qop: String?
        if challenge.qop.isEmpty {
            qop = nil
        } else if challenge.qop.contains("auth") {
            qop = "auth"
        } else {
            throw .unsupportedQOP(challenge.qop)
        }
        let nc = String(nonceCount, radix: 16).leftPadded(to: 8)
        let response = try self.response(algorithm: algorithmName, username: username, realm: challenge.realm, password: password,
                                         method: method.rawValue, uri: uri, nonce: challenge.nonce, nonceCount: nc, cnonce: cnonce, qop: qop)
        return SIPDigestCredentials(isProxy: challenge.isProxy, username: username, realm: challenge.realm, nonce: challenge.nonce, uri: uri,
                                    response: response, algorithm: challenge.algorithm, cnonce: qop == nil ? nil : cnonce,
                                    opaque: challenge.opaque, qop: qop, nonceCount: qop == nil ? nil : nc)
    }

    /// The `response` value: KD(H(A1), nonce:nc:cnonce:qop:H(A2)), or KD(H(A1), nonce:H(A2)) without qop.
    public static func response(algorithm: String, username: String, realm: String, password: String, method: String, uri: String,
                                nonce: String, nonceCount: String, cnonce: String, qop: String?) throws(SIPDigestError) -> String {
        let hash: ([UInt8]) -> [UInt8]
        let upper = algorithm.uppercased()
        switch upper {
        case "MD5", "MD5-SESS": hash = { MD5.hash($0) }
        case "SHA-256", "SHA-256-SESS": hash = { Digest.hash(.sha256, $0) }
        default: throw .unsupportedAlgorithm(algorithm)
        }
        func h(_ text: String) -> String { hash(Array(text.utf8)).hexString }
        var ha1 = h("\(username):\(realm):\(password)")
        if upper.hasSuffix("-SESS") { ha1 = h("\(ha1):\(nonce):\(cnonce)") }
        let ha2 = h("\(method):\(uri)")
        if let qop { return h("\(ha1):\(nonce):\(nonceCount):\(cnonce):\(qop):\(ha2)") }
        return h("\(ha1):\(nonce):\(ha2)")
    }
}

/// `Scheme k=v, k="v", …` → scheme and lower-cased names mapped to unquoted values.
private func parseAuthParams(_ text: String, header: String) throws(SIPParseError) -> (String, [String: String]) {
    let trimmed = text.trimmingLWS()
    guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }) else {
        throw SIPParseError(.invalidHeaderValue(header), reason: "Bad \(header)")
    }
    let scheme = String(trimmed[..<space])
    var params: [String: String] = [:]
    for piece in trimmed[space...].splitOutsideQuotes(separator: ",") {
        let item = piece.trimmingLWS()
        if item.isEmpty { continue }
        guard let eq = item.firstIndex(of: "=") else { throw SIPParseError(.invalidHeaderValue(header), reason: "Bad \(header)") }
        params[item[..<eq].trimmingLWS().lowercased()] = unquoted(item[item.index(after: eq)...])
    }
    return (scheme, params)
}
