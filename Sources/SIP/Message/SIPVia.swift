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
