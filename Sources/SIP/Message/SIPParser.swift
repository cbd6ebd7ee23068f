/// Limits that keep a peer from making us buffer without bound.
public struct SIPParserLimits: Sendable, Equatable {
    public var maxHeaderBytes: Int
    public var maxHeaders: Int
    public var maxBodyBytes: Int

    public init(maxHeaderBytes: Int = 64 * 1024, maxHeaders: Int = 256, maxBodyBytes: Int = 1024 * 1024) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaders = maxHeaders
        self.maxBodyBytes = maxBodyBytes
    }
}

/// RFC 3261 §7 message parser. `parse(datagram:)` for UDP (one message per datagram, §18.3),
/// `SIPStreamFramer` for TCP.
public enum SIPParser {
    /// Parses one message from a datagram. A missing Content-Length means the body is the rest of the
    /// datagram; a Content-Length larger than what follows is an error; bytes past it are dropped (§18.3).
    public static func parse(datagram: [UInt8], limits: SIPParserLimits = SIPParserLimits()) throws(SIPParseError) -> SIPMessage {
        var start = 0
        // §7.5: CRLFs before the start line are ignored.
        while start < datagram.count, datagram[start] == 13 || datagram[start] == 10 { start += 1 }
        guard start < datagram.count else { throw SIPParseError(.malformedStartLine, reason: "Empty message") }
        guard let (headEnd, bodyStart) = findHeaderEnd(datagram, from: start, limit: limits.maxHeaderBytes) else {
            if datagram.count - start > limits.maxHeaderBytes {
                throw SIPParseError(.headerSectionTooLarge, reason: "Header section too large")
            }
            // No blank line: accept a datagram that ends right after the last header line.
            let (startLine, headers) = try parseHead(datagram[start...], limits: limits)
            try validate(startLine, headers)
            return SIPMessage(startLine: startLine, headers: headers, body: [])
        }
        let (startLine, headers) = try parseHead(datagram[start..<headEnd], limits: limits)
        let available = datagram.count - bodyStart
        var bodyLength = available
        if let declared = try contentLength(headers, startLine: startLine) {
            guard declared <= available else {
                throw SIPParseError(.contentLengthMismatch(declared: declared, available: available),
                                    reason: "Content-Length larger than body", startLine: startLine, headers: headers)
            }
            bodyLength = declared
        }
        guard bodyLength <= limits.maxBodyBytes else {
            throw SIPParseError(.bodyTooLarge, reason: "Message Too Large", startLine: startLine, headers: headers)
        }
        try validate(startLine, headers)
        return SIPMessage(startLine: startLine, headers: headers, body: Array(datagram[bodyStart..<(bodyStart + bodyLength)]))
    }

    /// Index of the end of the header section (before the blank line) and of the body start.
    /// Accepts CRLF CRLF and, leniently, LF LF.
    static func findHeaderEnd(_ bytes: [UInt8], from start: Int, limit: Int) -> (Int, Int)? {
        var index = start
        let end = min(bytes.count, start + limit + 4)
        while index < end {
            if bytes[index] == 10 {
                if index + 1 < bytes.count, bytes[index + 1] == 10 { return (index, index + 2) }
                if index + 2 < bytes.count, bytes[index + 1] == 13, bytes[index + 2] == 10 { return (index, index + 3) }
            }
            index += 1
        }
        return nil
    }

    static func contentLength(_ headers: SIPHeaders, startLine: SIPMessage.StartLine) throws(SIPParseError) -> Int? {
        let values = headers.fieldValues("Content-Length")
        guard let first = values.first else { return nil }
        let trimmed = first.trimmingLWS()
        guard values.count == 1, !trimmed.isEmpty, trimmed.count <= 10, trimmed.allSatisfy(\.isASCIIDigit), let value = Int(trimmed) else {
            throw SIPParseError(.invalidContentLength, reason: "Bad Content-Length", startLine: startLine, headers: headers)
        }
        return value
    }

    /// Parses the start line and header fields (everything before the blank line).
    static func parseHead(_ bytes: ArraySlice<UInt8>, limits: SIPParserLimits) throws(SIPParseError) -> (SIPMessage.StartLine, SIPHeaders) {
        guard bytes.count <= limits.maxHeaderBytes else {
            throw SIPParseError(.headerSectionTooLarge, reason: "Header section too large")
        }
        var lines: [Substring] = []
        for raw in bytes.split(separator: 10, omittingEmptySubsequences: false) {
            var line = raw
            if line.last == 13 { line = line.dropLast() }
            lines.append(Substring(String(decoding: line, as: UTF8.self)))
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let first = lines.first else { throw SIPParseError(.malformedStartLine, reason: "Empty message") }
        let startLine = try parseStartLine(first)

        var headers = SIPHeaders()
        var current: (name: String, value: String)?
        var count = 0
        func flush() throws(SIPParseError) {
            guard let field = current else { return }
            count += 1
            guard count <= limits.maxHeaders else {
                throw SIPParseError(.tooManyHeaders, reason: "Too many headers", startLine: startLine, headers: headers)
            }
            headers.add(field.name, String(field.value.trimmingLWS()))
            current = nil
        }
        for line in lines.dropFirst() {
            if line.first == " " || line.first == "\t" {
                // §7.3.1: a line starting with whitespace continues the previous header (folding);
                // the fold is replaced by a single SP.
                guard current != nil else {
                    throw SIPParseError(.malformedHeader, reason: "Continuation line without header", startLine: startLine, headers: headers)
                }
                current?.value += " " + line.trimmingLWS()
                continue
            }
            try flush()
            guard let colon = line.firstIndex(of: ":") else {
                throw SIPParseError(.malformedHeader, reason: "Malformed header line", startLine: startLine, headers: headers)
            }
            // HCOLON = *( SP / HTAB ) ":" SWS (§25.1)
            let name = line[..<colon].trimmingLWS()
            guard !name.isEmpty, name.allSatisfy(\.isSIPTokenCharacter) else {
                throw SIPParseError(.malformedHeader, reason: "Malformed header name", startLine: startLine, headers: headers)
            }
            current = (String(name), String(line[line.index(after: colon)...]))
        }
        try flush()
        return (startLine, headers)
    }

    static func parseStartLine(_ line: Substring) throws(SIPParseError) -> SIPMessage.StartLine {
        if line.count >= 8, line.prefix(4).uppercased() == "SIP/" {
            // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (§7.2)
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2 else { throw SIPParseError(.malformedStartLine, reason: "Malformed status line") }
            guard parts[0].uppercased() == "SIP/2.0" else {
                throw SIPParseError(.unsupportedVersion, reason: "Version Not Supported")
            }
            guard parts[1].count == 3, parts[1].allSatisfy(\.isASCIIDigit), let code = Int(parts[1]), (100...699).contains(code) else {
                throw SIPParseError(.malformedStartLine, reason: "Bad status code")
            }
            return .response(statusCode: code, reasonPhrase: parts.count > 2 ? String(parts[2]) : "")
        }
        // Request-Line = Method SP Request-URI SP SIP-Version (§7.1): exactly single spaces.
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(\.isSIPTokenCharacter), !parts[1].isEmpty else {
            throw SIPParseError(.malformedStartLine, reason: "Malformed request line")
        }
        guard parts[2].uppercased().hasPrefix("SIP/") else {
            throw SIPParseError(.malformedStartLine, reason: "Malformed request line")
        }
        guard parts[2].uppercased() == "SIP/2.0" else {
            throw SIPParseError(.unsupportedVersion, reason: "Version Not Supported")
        }
        let uri: SIPURI
        do {
            uri = try SIPURI(parts[1])
        } catch {
            // Keep the start line out of the error: the method is known but the URI is not,
            // and a 416/400 can still be built from the headers.
            throw SIPParseError(error.kind, reason: error.reason, startLine: .request(method: SIPMethod(rawValue: String(parts[0])), uri: SIPURI(host: "invalid")))
        }
        return .request(method: SIPMethod(rawValue: String(parts[0])), uri: uri)
    }

    /// §8.1.1 / §8.2: the headers every request and response must carry, and their syntax.
    static func validate(_ startLine: SIPMessage.StartLine, _ headers: SIPHeaders) throws(SIPParseError) {
        func fail(_ kind: SIPParseError.Kind, _ reason: String) -> SIPParseError {
            SIPParseError(kind, reason: reason, startLine: startLine, headers: headers)
        }
        for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
            let values = headers.fieldValues(name)
            if values.isEmpty { throw fail(.missingHeader(name), "Missing \(name)") }
            if name != "Via", values.count > 1 { throw fail(.duplicateHeader(name), "Multiple \(name)") }
        }
        let message = SIPMessage(startLine: startLine, headers: headers)
        let cseq: SIPCSeq
        do {
            _ = try message.via
            _ = try message.from
            _ = try message.to
            cseq = try message.cseq
            _ = try message.maxForwards
            _ = try message.contacts
        } catch {
            throw fail(error.kind, error.reason)
        }
        guard let callID = headers["Call-ID"], !callID.isEmpty, !callID.contains(" ") else {
            throw fail(.invalidHeaderValue("Call-ID"), "Bad Call-ID")
        }
        if case .request(let method, _) = startLine, cseq.method != method {
            throw fail(.cseqMethodMismatch, "CSeq method does not match request method")
        }
    }
}

/// Frames SIP messages on a byte stream (TCP, RFC 3261 §18.3): several messages in one read, one
/// message across many reads. Content-Length is mandatory here. A framing error leaves the stream
/// unusable: the connection should be closed.
public struct SIPStreamFramer: Sendable {
    public let limits: SIPParserLimits
    private var buffer: [UInt8] = []
    private var consumed = 0
    /// Where the search for the blank line resumes, so that a header section arriving in many small
    /// reads is scanned once, not once per read.
    private var scanned = 0
    /// The last bytes skipped between messages (up to four), to spot a CRLF CRLF keep-alive ping that arrives
    /// split over several reads.
    private var skipped: UInt32 = 0
    /// Keep-alive pings (RFC 5626 §4.4.1, CRLF CRLF between messages) seen and not yet taken.
    private var pings = 0

    public init(limits: SIPParserLimits = SIPParserLimits()) { self.limits = limits }

    /// How many CRLF CRLF keep-alive pings arrived since the last call. RFC 5626 §4.4.1: the receiver of a ping
    /// answers each one at once with a single CRLF pong on the same connection. A pong (one CRLF) is not a ping.
    public mutating func takePings() -> Int {
        defer { pings = 0 }
        return pings
    }

    public var bufferedByteCount: Int { buffer.count - consumed }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if consumed > 0, consumed > buffer.count / 2 {
            buffer.removeFirst(consumed)
            scanned = max(0, scanned - consumed)
            consumed = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message, or `nil` if more bytes are needed.
    public mutating func next() throws(SIPParseError) -> SIPMessage? {
        // Keep-alive CRLFs between messages (RFC 5626 §3.5.1) are skipped; each CRLF CRLF among them is a ping.
        while consumed < buffer.count, buffer[consumed] == 13 || buffer[consumed] == 10 {
            skipped = skipped << 8 | UInt32(buffer[consumed])
            if skipped == 0x0D0A_0D0A {
                pings += 1
                skipped = 0
            }
            consumed += 1
        }
        guard consumed < buffer.count else { return nil }
        skipped = 0
        // Back up 3 bytes: the blank line may straddle the previous end of the buffer.
        let from = max(consumed, scanned - 3)
        guard let (headEnd, bodyStart) = SIPParser.findHeaderEnd(buffer, from: from, limit: limits.maxHeaderBytes - (from - consumed)) else {
            if buffer.count - consumed > limits.maxHeaderBytes {
                throw SIPParseError(.headerSectionTooLarge, reason: "Header section too large")
            }
            scanned = buffer.count
            return nil
        }
        let (startLine, headers) = try SIPParser.parseHead(buffer[consumed..<headEnd], limits: limits)
        guard let length = try SIPParser.contentLength(headers, startLine: startLine) else {
            throw SIPParseError(.missingContentLength, reason: "Missing Content-Length", startLine: startLine, headers: headers)
        }
        guard length <= limits.maxBodyBytes else {
            throw SIPParseError(.bodyTooLarge, reason: "Message Too Large", startLine: startLine, headers: headers)
        }
        guard buffer.count - bodyStart >= length else { return nil }
        let body = Array(buffer[bodyStart..<(bodyStart + length)])
        consumed = bodyStart + length
        scanned = consumed
        try SIPParser.validate(startLine, headers)
        return SIPMessage(startLine: startLine, headers: headers, body: body)
    }
}

extension Character {
    var isASCIIDigit: Bool { asciiValue.map { (0x30...0x39).contains($0) } ?? false }
}
