/// One Via value (RFC 3261 §20.42): `SIP/2.0/UDP host:port;branch=z9hG4bK…;received=…;rport=…`.
public struct SIPVia: Sendable, Hashable, CustomStringConvertible {
    /// The RFC 3261 branch prefix (§8.1.1.7).
    public static let magicCookie = "z9hG4bK"

    public var transport: String
    public var host: String
    public var port: Int?
    public var parameters: SIPParameters

    public init(transport: String, host: String, port: Int? = nil, branch: String? = nil, rport: Bool = false) {
        self.transport = transport.uppercased()
        self.host = host
        self.port = port
        var parameters = SIPParameters()
        if let branch { parameters.set("branch", branch) }
        if rport { parameters.set("rport", nil) }
        self.parameters = parameters
    }

    public init(_ text: some StringProtocol) throws(SIPParseError) {
        let text = Substring(text).trimmingLWS()
        let bad = SIPParseError(.invalidHeaderValue("Via"), reason: "Bad Via")
        // sent-protocol = protocol-name SLASH protocol-version SLASH transport, SLASH = SWS "/" SWS
        let pieces = text.split(separator: "/", maxSplits: 2)
        guard pieces.count == 3, pieces[0].trimmingLWS().uppercased() == "SIP", pieces[1].trimmingLWS() == "2.0" else { throw bad }
        let rest = pieces[2].trimmingLWS()
        guard let space = rest.firstIndex(where: { $0 == " " || $0 == "\t" }) else { throw bad }
        transport = rest[..<space].uppercased()
        guard !transport.isEmpty, transport.allSatisfy(\.isSIPTokenCharacter) else { throw bad }
        let sentByAndParams = rest[space...].trimmingLWS()
        let semi = sentByAndParams.firstIndex(of: ";") ?? sentByAndParams.endIndex
        let sentBy = sentByAndParams[..<semi].trimmingLWS()
        // Reuse the URI host/port grammar for sent-by.
        guard let uri = try? SIPURI("sip:" + sentBy.filter { $0 != " " && $0 != "\t" }), uri.user == nil, uri.parameters.isEmpty else { throw bad }
        host = uri.host
        port = uri.port
        parameters = try SIPParameters.parse(sentByAndParams[semi...])
    }

    public var branch: String? { parameters["branch"] }
    public var received: String? { parameters["received"] }
    /// RFC 3581: `nil` if absent, `.some(nil)` if present without a value (request), else the port.
    public var rport: Int?? {
        guard parameters.contains("rport") else { return nil }
        return .some(parameters["rport"].flatMap { Int($0) })
    }

    /// `host[:port]` as in the header.
    public var sentBy: String { port.map { "\(hostForWire):\($0)" } ?? hostForWire }
    var hostForWire: String { host.contains(":") ? "[\(host)]" : host }

    /// Where a response to this Via goes (§18.2.2, RFC 3581 §4): `received` (else sent-by host) and
    /// `rport` (else sent-by port, else 5060).
    public var responseTarget: (host: String, port: Int) {
        let host = received ?? self.host
        if case .some(.some(let port)) = rport { return (host, port) }
        return (host, port ?? 5060)
    }

    public var description: String { "SIP/2.0/\(transport) \(sentBy)\(parameters.serialized)" }
}

/// name-addr / addr-spec with header parameters (From, To, Contact, Route, Record-Route; §20.10, §20.20).
public struct SIPNameAddress: Sendable, Hashable, CustomStringConvertible {
    public var displayName: String?
    public var uri: SIPURI
    public var parameters: SIPParameters

    public init(displayName: String? = nil, uri: SIPURI, parameters: SIPParameters = []) {
        self.displayName = displayName
        self.uri = uri
        self.parameters = parameters
    }

    public init(_ text: some StringProtocol, header: String = "address") throws(SIPParseError) {
        let text = Substring(text).trimmingLWS()
        let bad = SIPParseError(.invalidHeaderValue(header), reason: "Bad \(header)")
        if let open = Self.firstAngle(in: text) {
            let namePart = text[..<open].trimmingLWS()
            displayName = namePart.isEmpty ? nil : unquoted(namePart)
            guard let close = text[open...].firstIndex(of: ">") else { throw bad }
            do { uri = try SIPURI(text[text.index(after: open)..<close]) } catch {
                throw SIPParseError(error.kind == .unsupportedURIScheme ? .unsupportedURIScheme : .invalidHeaderValue(header), reason: "Bad URI in \(header)")
            }
            parameters = try SIPParameters.parse(text[text.index(after: close)...])
        } else {
            // addr-spec: parameters after the URI belong to the header (§20.10).
            displayName = nil
            let semi = text.firstIndex(of: ";") ?? text.endIndex
            do { uri = try SIPURI(text[..<semi]) } catch { throw bad }
            parameters = try SIPParameters.parse(text[semi...])
        }
    }

    private static func firstAngle(in text: Substring) -> Substring.Index? {
        var inQuotes = false
        var escaped = false
        for index in text.indices {
            let ch = text[index]
            if escaped { escaped = false; continue }
            if inQuotes { if ch == "\\" { escaped = true } else if ch == "\"" { inQuotes = false }; continue }
            if ch == "\"" { inQuotes = true } else if ch == "<" { return index }
        }
        return nil
    }

    public var tag: String? {
        get { parameters["tag"] }
        set { if let newValue { parameters.set("tag", newValue) } else { parameters.remove("tag") } }
    }

    public var description: String {
        var out = ""
        if let displayName { out += quoted(displayName) + " " }
        out += "<\(uri)>" + parameters.serialized
        return out
    }
}

/// CSeq (§20.16): sequence number (< 2^31) and method.
public struct SIPCSeq: Sendable, Hashable, CustomStringConvertible {
    public var number: UInt32
    public var method: SIPMethod

    public init(_ number: UInt32, _ method: SIPMethod) {
        self.number = number
        self.method = method
    }

    public init(_ text: some StringProtocol) throws(SIPParseError) {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 2, parts[0].count <= 10, parts[0].allSatisfy(\.isASCIIDigit), let number = UInt32(parts[0]), number < 1 << 31,
              parts[1].allSatisfy(\.isSIPTokenCharacter) else {
            throw SIPParseError(.invalidHeaderValue("CSeq"), reason: "Bad CSeq")
        }
        self.number = number
        self.method = SIPMethod(rawValue: String(parts[1]))
    }

    public var description: String { "\(number) \(method.rawValue)" }
}

extension SIPMessage {
    /// All Via values, top-most first (§8.1.1.7).
    public var via: [SIPVia] {
        get throws(SIPParseError) {
            var result: [SIPVia] = []
            for value in headers.values("Via") { result.append(try SIPVia(value)) }
            return result
        }
    }

    public var topVia: SIPVia? {
        get throws(SIPParseError) { try via.first }
    }

    public var from: SIPNameAddress {
        get throws(SIPParseError) { try SIPNameAddress(required("From"), header: "From") }
    }

    public var to: SIPNameAddress {
        get throws(SIPParseError) { try SIPNameAddress(required("To"), header: "To") }
    }

    public var callID: String {
        get throws(SIPParseError) { String(try required("Call-ID").trimmingLWS()) }
    }

    public var cseq: SIPCSeq {
        get throws(SIPParseError) { try SIPCSeq(required("CSeq")) }
    }

    /// Contact values; a `*` Contact (REGISTER only) is returned as an empty list.
    public var contacts: [SIPNameAddress] {
        get throws(SIPParseError) {
            var result: [SIPNameAddress] = []
            for value in headers.values("Contact") where value != "*" { result.append(try SIPNameAddress(value, header: "Contact")) }
            return result
        }
    }

    public var maxForwards: Int? {
        get throws(SIPParseError) {
            guard let value = headers["Max-Forwards"]?.trimmingLWS() else { return nil }
            // §20.22: 1*DIGIT (leading zeros allowed, RFC 4475 §3.1.1.1), at most 255 in practice.
            guard !value.isEmpty, value.count <= 10, value.allSatisfy(\.isASCIIDigit), let number = Int(value), number <= 255 else {
                throw SIPParseError(.invalidHeaderValue("Max-Forwards"), reason: "Bad Max-Forwards")
            }
            return number
        }
    }

    public var routes: [SIPNameAddress] {
        get throws(SIPParseError) { try headers.values("Route").map { (v) throws(SIPParseError) in try SIPNameAddress(v, header: "Route") } }
    }

    public var recordRoutes: [SIPNameAddress] {
        get throws(SIPParseError) { try headers.values("Record-Route").map { (v) throws(SIPParseError) in try SIPNameAddress(v, header: "Record-Route") } }
    }

    /// Media type of the body, lower-cased without parameters (e.g. `application/sdp`).
    public var contentType: String? {
        headers["Content-Type"].map { String($0.split(separator: ";").first?.trimmingLWS() ?? "").lowercased() }
    }

    /// Digest challenges in WWW-Authenticate (401) or Proxy-Authenticate (407), §22.
    public var authenticationChallenges: [SIPDigestChallenge] {
        get throws(SIPParseError) {
            var result: [SIPDigestChallenge] = []
            for name in ["WWW-Authenticate", "Proxy-Authenticate"] {
                for value in headers.fieldValues(name) {
                    result.append(try SIPDigestChallenge(value, isProxy: name == "Proxy-Authenticate"))
                }
            }
            return result
        }
    }

    /// Digest credentials in Authorization / Proxy-Authorization.
    public var authorizationCredentials: [SIPDigestCredentials] {
        get throws(SIPParseError) {
            var result: [SIPDigestCredentials] = []
            for name in ["Authorization", "Proxy-Authorization"] {
                for value in headers.fieldValues(name) { result.append(try SIPDigestCredentials(value, isProxy: name == "Proxy-Authorization")) }
            }
            return result
        }
    }

    private func required(_ name: String) throws(SIPParseError) -> String {
        guard let value = headers[name] else { throw SIPParseError(.missingHeader(name), reason: "Missing \(name)") }
        return value
    }
}
