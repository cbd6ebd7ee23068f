/// A SIP or SIPS URI (RFC 3261 §19.1): `sip:user:password@host:port;uri-parameters?headers`.
///
/// `user` and `password` are stored unescaped (`%40` becomes `@`) and escaped again on output
/// (§19.1.2); the host is kept without IPv6 brackets.
public struct SIPURI: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable, Hashable {
        case sip
        case sips
    }

    public var scheme: Scheme
    public var user: String?
    public var password: String?
    public var host: String
    public var port: Int?
    public var parameters: SIPParameters
    public var headers: [SIPParameter]

    public init(scheme: Scheme = .sip, user: String? = nil, password: String? = nil, host: String, port: Int? = nil,
                parameters: SIPParameters = [], headers: [SIPParameter] = []) {
        self.scheme = scheme
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.parameters = parameters
        self.headers = headers
    }

    /// Parses a SIP/SIPS URI. Other schemes (`tel:`, `http:` …) throw `unsupportedURIScheme`, which a
    /// UAS answers with 416 (RFC 3261 §8.2.2.1).
    public init(_ text: some StringProtocol) throws(SIPParseError) {
        let text = Substring(text).trimmingLWS()
        guard let colon = text.firstIndex(of: ":") else {
            throw SIPParseError(.invalidURI, reason: "Bad URI '\(text)'")
        }
        let schemeText = text[..<colon].lowercased()
        guard let scheme = Scheme(rawValue: schemeText) else {
            guard !schemeText.isEmpty, schemeText.allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }) else {
                throw SIPParseError(.invalidURI, reason: "Bad URI '\(text)'")
            }
            throw SIPParseError(.unsupportedURIScheme, reason: "Unsupported URI Scheme")
        }
        self.scheme = scheme
        var rest = text[text.index(after: colon)...]
        guard !rest.isEmpty, !rest.contains(" "), !rest.contains("\t") else {
            throw SIPParseError(.invalidURI, reason: "Bad URI '\(text)'")
        }

        // userinfo: everything before the first '@' (user-unreserved allows ';' and '?', §25.1).
        if let at = rest.firstIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let passColon = userinfo.firstIndex(of: ":") {
                user = try SIPURI.unescape(userinfo[..<passColon])
                password = try SIPURI.unescape(userinfo[userinfo.index(after: passColon)...])
            } else {
                user = try SIPURI.unescape(userinfo)
                password = nil
            }
            guard let user, !user.isEmpty else { throw SIPParseError(.invalidURI, reason: "Empty user in URI") }
        } else {
            user = nil
            password = nil
        }

        // hostport
        var hostEnd = rest.endIndex
        if rest.first == "[" {
            guard let close = rest.firstIndex(of: "]") else { throw SIPParseError(.invalidURI, reason: "Bad IPv6 reference") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw SIPParseError(.invalidURI, reason: "Bad IPv6 reference")
            }
            hostEnd = rest.index(after: close)
        } else {
            hostEnd = rest.firstIndex(where: { $0 == ":" || $0 == ";" || $0 == "?" }) ?? rest.endIndex
            host = String(rest[..<hostEnd])
            guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }) else {
                throw SIPParseError(.invalidURI, reason: "Bad host in URI")
            }
        }
        rest = rest[hostEnd...]
        if rest.first == ":" {
            let portEnd = rest.firstIndex(where: { $0 == ";" || $0 == "?" }) ?? rest.endIndex
            let portText = rest[rest.index(after: rest.startIndex)..<portEnd]
            guard let port = Int(portText), (0...65535).contains(port), portText.allSatisfy(\.isNumber) else {
                throw SIPParseError(.invalidURI, reason: "Bad port in URI")
            }
            self.port = port
            rest = rest[portEnd...]
        } else {
            port = nil
        }
        let question = rest.firstIndex(of: "?")
        parameters = try SIPParameters.parse(rest[..<(question ?? rest.endIndex)])
        headers = []
        if let question {
            for pair in rest[rest.index(after: question)...].split(separator: "&") {
                let eq = pair.firstIndex(of: "=")
                let name = try SIPURI.unescape(pair[..<(eq ?? pair.endIndex)])
                let value = try eq.map { (e) throws(SIPParseError) in try SIPURI.unescape(pair[pair.index(after: e)...]) }
                headers.append(SIPParameter(name, value ?? ""))
            }
        }
    }

    /// The host as it appears in a URI or Via: IPv6 in brackets.
    public var hostForWire: String { host.contains(":") ? "[\(host)]" : host }

    public var description: String {
        var out = scheme.rawValue + ":"
        if let user {
            out += SIPURI.escape(user)
            if let password { out += ":" + SIPURI.escape(password) }
            out += "@"
        }
        out += hostForWire
        if let port { out += ":\(port)" }
        out += parameters.serialized
        if !headers.isEmpty {
            out += "?" + headers.map { SIPURI.escape($0.name) + "=" + SIPURI.escape($0.value ?? "") }.joined(separator: "&")
        }
        return out
    }

    /// `transport` URI parameter, lower-cased (§19.1.1).
    public var transportParameter: String? { parameters["transport"]?.lowercased() }

    /// §19.1.2: unreserved and user-unreserved characters stay as they are; the rest is %-escaped.
    static func escape(_ text: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()&=+$,;?/")
        var out = ""
        for byte in text.utf8 {
            let ch = Character(Unicode.Scalar(byte))
            if byte < 0x80, allowed.contains(ch) {
                out.append(ch)
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    static func unescape(_ text: some StringProtocol) throws(SIPParseError) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.popFirst(), let low = iterator.popFirst(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else {
                    throw SIPParseError(.invalidURI, reason: "Bad escape in URI")
                }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
