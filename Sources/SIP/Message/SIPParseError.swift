/// Why a SIP message could not be parsed. `reason` is short enough for the reason phrase of the
/// `400 Bad Request` a UAS sends back (RFC 3261 §8.2.2, §21.4.1).
public struct SIPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case malformedStartLine
        case unsupportedVersion
        case malformedHeader
        case missingHeader(String)
        case duplicateHeader(String)
        case invalidHeaderValue(String)
        case invalidParameter
        case invalidURI
        case unsupportedURIScheme
        case cseqMethodMismatch
        case invalidContentLength
        /// Content-Length larger than the bytes that follow (UDP), RFC 3261 §18.3.
        case contentLengthMismatch(declared: Int, available: Int)
        /// A stream transport needs Content-Length to find the end of the message (§18.3).
        case missingContentLength
        case headerSectionTooLarge
        case tooManyHeaders
        case bodyTooLarge
        /// A feature we do not implement (e.g. RFC 2543 transactions without the magic cookie).
        case unsupported(String)
    }

    public var kind: Kind
    public var reason: String
    /// The start line and the headers read before the error, when the header section was readable;
    /// with them a 400 can still be built (see `SIPMessage.badRequest(for:)`).
    public var startLine: SIPMessage.StartLine?
    public var headers: SIPHeaders?

    public init(_ kind: Kind, reason: String, startLine: SIPMessage.StartLine? = nil, headers: SIPHeaders? = nil) {
        self.kind = kind
        self.reason = reason
        self.startLine = startLine
        self.headers = headers
    }

    public var description: String { "SIP parse error (\(kind)): \(reason)" }

    /// The status a UAS answers with: 505 for the version, 416 for the URI scheme, else 400.
    public var responseStatus: Int {
        switch kind {
        case .unsupportedVersion: 505
        case .unsupportedURIScheme: 416
        case .bodyTooLarge: 513
        default: 400
        }
    }
}

extension SIPMessage {
    /// The response to a request that failed to parse, if enough of it was read to address one
    /// (Via, From, To, Call-ID and CSeq, RFC 3261 §8.2.6.2); `nil` means drop the message.
    public static func badRequest(for error: SIPParseError) -> SIPMessage? {
        guard case .request = error.startLine, let request = error.headers else { return nil }
        for name in ["Via", "From", "To", "Call-ID", "CSeq"] where request[name] == nil { return nil }
        var headers = SIPHeaders()
        for value in request.fieldValues("Via") { headers.add("Via", value) }
        headers.add("From", request["From"] ?? "")
        headers.add("To", request["To"] ?? "")
        headers.add("Call-ID", request["Call-ID"] ?? "")
        headers.add("CSeq", request["CSeq"] ?? "")
        let reason = String(error.reason.filter { $0 != "\r" && $0 != "\n" }.prefix(100))
        return .response(error.responseStatus, reason, headers: headers)
    }
}
