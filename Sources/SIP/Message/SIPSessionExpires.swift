/// `Session-Expires: 1800;refresher=uac` (RFC 4028 §4): how long the session lives without a refresh,
/// and which side sends the refreshes.
public struct SIPSessionExpires: Sendable, Equatable, CustomStringConvertible {
    /// Who refreshes, named from the point of view of the transaction that carries the header.
    public enum Refresher: String, Sendable, Equatable {
        case uac, uas
    }

    /// delta-seconds.
    public var seconds: Int
    public var refresher: Refresher?
    /// Other parameters, kept for logging.
    public var parameters: SIPParameters

    public init(seconds: Int, refresher: Refresher? = nil) {
        self.seconds = seconds
        self.refresher = refresher
        self.parameters = []
    }

    /// Parses `delta-seconds *(SEMI se-params)`. A refresher other than uac/uas is an error; other
    /// parameters are kept.
    public init(_ text: some StringProtocol) throws(SIPParseError) {
        let value = Substring(text).trimmingLWS()
        let end = value.firstIndex(of: ";") ?? value.endIndex
        self.seconds = try Self.deltaSeconds(value[..<end], header: "Session-Expires")
        var parameters = try SIPParameters.parse(value[end...])
        if let name = parameters["refresher"] {
            guard let refresher = Refresher(rawValue: name.lowercased()) else {
                throw SIPParseError(.invalidHeaderValue("Session-Expires"), reason: "Bad Session-Expires refresher '\(name)'")
            }
            self.refresher = refresher
        } else if parameters.contains("refresher") {
            throw SIPParseError(.invalidHeaderValue("Session-Expires"), reason: "Session-Expires refresher without a value")
        }
        parameters.remove("refresher")
        self.parameters = parameters
    }

    public var description: String {
        var text = String(seconds)
        if let refresher { text += ";refresher=" + refresher.rawValue }
        return text + parameters.serialized
    }

    /// RFC 3261 §25.1 delta-seconds: 1*DIGIT. Values beyond 2^32-1 are read as that (§20.19's advice for Expires).
    static func deltaSeconds(_ text: Substring, header: String) throws(SIPParseError) -> Int {
        let digits = text.trimmingLWS()
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) else {
            throw SIPParseError(.invalidHeaderValue(header), reason: "Bad \(header)")
        }
        let significant = digits.drop { $0 == "0" }
        if significant.count > 10 { return Int(UInt32.max) }
        return min(Int(significant) ?? 0, Int(UInt32.max))
    }
}

extension SIPMessage {
    /// The Session-Expires header (RFC 4028 §4), or nil when absent.
    public var sessionExpires: SIPSessionExpires? {
        get throws(SIPParseError) { try headers["Session-Expires"].map { (value) throws(SIPParseError) in try SIPSessionExpires(value) } }
    }

    /// The Min-SE header (RFC 4028 §5), in seconds, or nil when absent.
    public var minSE: Int? {
        get throws(SIPParseError) {
            guard let value = headers["Min-SE"] else { return nil }
            // Min-SE = delta-seconds *(SEMI generic-param)
            let end = value.firstIndex(of: ";") ?? value.endIndex
            return try SIPSessionExpires.deltaSeconds(value[..<end], header: "Min-SE")
        }
    }

    /// Whether an option tag is in Supported or Require (RFC 3261 §20.37, §20.32; tags compared
    /// without regard to case).
    public func mentionsOptionTag(_ tag: String) -> Bool {
        (headers.values("Supported") + headers.values("Require")).contains { $0.caseInsensitiveEquals(tag) }
    }

    /// Whether the sender's Allow lists the method (absent Allow: unknown, so false).
    public func allows(_ method: SIPMethod) -> Bool {
        headers.values("Allow").contains { $0.caseInsensitiveEquals(method.rawValue) }
    }
}
