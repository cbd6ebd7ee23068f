/// Reads RFC 8866 session descriptions.
///
/// Accepts CRLF or bare LF line ends, a missing final line end, and blank lines (skipped; RFC 8866 §5 has none,
/// but hand-written SIP bodies carry them). Session-level lines may come in any order after `v=`; they are
/// written back in RFC order. An unknown type letter rejects the description, as RFC 8866 §5 requires. Runs in
/// time linear in the input and never traps: every problem is an ``SDPError`` with its line number.
public struct SDPParser: Sendable {
    /// What to do with a known attribute whose value breaks its grammar (`a=rtpmap:abc`).
    public enum MalformedAttributePolicy: Hashable, Sendable {
        /// Throw ``SDPError/Kind/malformedAttribute`` (the default: problems surface early).
        case reject
        /// Keep the line verbatim as ``SDPAttribute/other(name:value:)``, as RFC 8866 §5.13 allows for
        /// attributes a receiver does not understand; useful for a gateway that must pass odd peers through.
        case keepAsOther
    }

    public struct Options: Hashable, Sendable {
        public var malformedAttributes: MalformedAttributePolicy

        public init(malformedAttributes: MalformedAttributePolicy = .reject) {
            self.malformedAttributes = malformedAttributes
        }
    }

    public var options: Options

    public init(options: Options = Options()) {
        self.options = options
    }

    /// Parses a whole session description.
    public func parse(_ text: String) throws(SDPError) -> SessionDescription {
        var state = ParseState(options: options)
        var lineNumber = 0
        // Lines are found on the contiguous UTF-8 bytes, with no array of lines in between; a line's text is
        // then cut out of the string by index arithmetic, which is O(1) on native UTF-8 strings.
        var text = text
        let newlines: [Int] = text.withUTF8 { bytes in
            var offsets: [Int] = []
            offsets.reserveCapacity(64)
            for (offset, byte) in bytes.enumerated() where byte == 0x0A { offsets.append(offset) }
            return offsets
        }
        let utf8 = text.utf8
        let end = utf8.endIndex
        var lineStart = utf8.startIndex
        var nextNewline = 0
        while true {
            let lineEnd = nextNewline < newlines.count ? utf8.index(utf8.startIndex, offsetBy: newlines[nextNewline]) : end
            nextNewline += 1
            lineNumber += 1
            var contentEnd = lineEnd
            if contentEnd > lineStart, utf8[utf8.index(before: contentEnd)] == 0x0D { contentEnd = utf8.index(before: contentEnd) }
            if contentEnd > lineStart { try state.consume(Substring(utf8[lineStart..<contentEnd]), line: lineNumber) }
            if lineEnd == end { break }
            lineStart = utf8.index(after: lineEnd)
        }
        return try state.finish()
    }

    /// Parses a session description given as bytes (a SIP body); invalid UTF-8 is replaced, not trusted.
    public func parse(bytes: some Sequence<UInt8>) throws(SDPError) -> SessionDescription {
        try parse(String(decoding: Array(bytes), as: UTF8.self))
    }
}

extension SessionDescription {
    /// Parses `text` with ``SDPParser``.
    public init(parsing text: String, options: SDPParser.Options = SDPParser.Options()) throws(SDPError) {
        self = try SDPParser(options: options).parse(text)
    }
}

/// A short quotation of offending text for error messages.
func quoted(_ text: Substring) -> String {
    let limit = 60
    let scalars = text.unicodeScalars
    if scalars.count <= limit { return "'\(text)'" }
    return "'\(String(String.UnicodeScalarView(scalars.prefix(limit))))…'"
}

private struct ParseState {
    let options: SDPParser.Options
    var version: UInt8?
    var origin: SDPOrigin?
    var sessionName: String?
    var information: String?
    var uri: String?
    var emails: [String] = []
    var phones: [String] = []
    var connection: SDPConnection?
    var bandwidths: [SDPBandwidth] = []
    var timing: [SDPTiming] = []
    var timeZones: [SDPTimeZoneAdjustment]?
    var encryptionKey: String?
    var attributes: [SDPAttribute] = []
    var media: [SDPMediaDescription] = []
    var currentMedia: SDPMediaDescription?
    var sawAnything = false

    init(options: SDPParser.Options) {
        self.options = options
    }

    mutating func consume(_ line: Substring, line number: Int) throws(SDPError) {
        sawAnything = true
        let bytes = line.utf8
        guard bytes.count >= 2, let type = bytes.first, bytes[bytes.index(after: bytes.startIndex)] == UInt8(ascii: "=") else {
            throw SDPError(.malformedLine, line: number, "expected '<type>=<value>', got \(quoted(line))")
        }
        guard (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(type) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(type) else {
            throw SDPError(.malformedLine, line: number, "a line type must be one letter, got \(quoted(line))")
        }
        let value = Substring(bytes.dropFirst(2))
        guard version != nil || type == UInt8(ascii: "v") else {
            throw SDPError(.unexpectedLine, line: number, "the first line must be 'v=', got '\(Character(Unicode.Scalar(type)))=' (RFC 8866 §5)")
        }
        if currentMedia != nil {
            try consumeMediaLine(type, value, line: number)
        } else {
            try consumeSessionLine(type, value, line: number)
        }
    }

    private mutating func consumeSessionLine(_ type: UInt8, _ value: Substring, line: Int) throws(SDPError) {
        // Switching on the byte: comparing `Character`s means grapheme breaking on every line.
        var letter: Character { Character(Unicode.Scalar(type)) }
        switch type {
        case UInt8(ascii: "v"):
            guard version == nil else { throw duplicate("v", line) }
            guard value == "0" else {
                throw SDPError(.unsupportedVersion, line: line, "protocol version must be 0 (RFC 8866 §5.1), got \(quoted(value))")
            }
            version = 0
        case UInt8(ascii: "o"):
            guard origin == nil else { throw duplicate("o", line) }
            origin = try LineParser.origin(value, line: line)
        case UInt8(ascii: "s"):
            guard sessionName == nil else { throw duplicate("s", line) }
            sessionName = String(value)
        case UInt8(ascii: "i"):
            guard information == nil else { throw duplicate("i", line) }
            information = String(value)
        case UInt8(ascii: "u"):
            guard uri == nil else { throw duplicate("u", line) }
            uri = String(value)
        case UInt8(ascii: "e"):
            emails.append(String(value))
        case UInt8(ascii: "p"):
            phones.append(String(value))
        case UInt8(ascii: "c"):
            guard connection == nil else { throw duplicate("c", line) }
            connection = try LineParser.connection(value, line: line)
        case UInt8(ascii: "b"):
            bandwidths.append(try LineParser.bandwidth(value, line: line))
        case UInt8(ascii: "t"):
            timing.append(try LineParser.timing(value, line: line))
        case UInt8(ascii: "r"):
            guard !timing.isEmpty else {
                throw SDPError(.unexpectedLine, line: line, "'r=' must follow a 't=' line (RFC 8866 §5.10)")
            }
            timing[timing.count - 1].repeats.append(try LineParser.repeatTimes(value, line: line))
        case UInt8(ascii: "z"):
            guard timeZones == nil else { throw duplicate("z", line) }
            timeZones = try LineParser.timeZones(value, line: line)
        case UInt8(ascii: "k"):
            guard encryptionKey == nil else { throw duplicate("k", line) }
            encryptionKey = String(value)
        case UInt8(ascii: "a"):
            attributes.append(try AttributeParser.attribute(value, line: line, policy: options.malformedAttributes))
        case UInt8(ascii: "m"):
            currentMedia = try LineParser.media(value, line: line)
        default:
            throw SDPError(.unknownLineType, line: line, "unknown line type '\(letter)=' (RFC 8866 §5 requires rejecting it)")
        }
    }

    private mutating func consumeMediaLine(_ type: UInt8, _ value: Substring, line: Int) throws(SDPError) {
        // Switching on the byte: comparing `Character`s means grapheme breaking on every line.
        var letter: Character { Character(Unicode.Scalar(type)) }
        // Take the section out so that appending does not copy its attribute array (10 000 candidates
        // would otherwise cost quadratic time).
        guard var section = currentMedia.take() else { return }
        switch type {
        case UInt8(ascii: "m"):
            media.append(section)
            currentMedia = try LineParser.media(value, line: line)
            return
        case UInt8(ascii: "i"):
            guard section.information == nil else { throw duplicate("i", line) }
            section.information = String(value)
        case UInt8(ascii: "c"):
            section.connections.append(try LineParser.connection(value, line: line))
        case UInt8(ascii: "b"):
            section.bandwidths.append(try LineParser.bandwidth(value, line: line))
        case UInt8(ascii: "k"):
            guard section.encryptionKey == nil else { throw duplicate("k", line) }
            section.encryptionKey = String(value)
        case UInt8(ascii: "a"):
            section.attributes.append(try AttributeParser.attribute(value, line: line, policy: options.malformedAttributes))
        case UInt8(ascii: "v"), UInt8(ascii: "o"), UInt8(ascii: "s"), UInt8(ascii: "u"), UInt8(ascii: "e"), UInt8(ascii: "p"), UInt8(ascii: "t"), UInt8(ascii: "r"), UInt8(ascii: "z"):
            throw SDPError(.unexpectedLine, line: line, "'\(letter)=' is a session-level line and cannot follow 'm=' (RFC 8866 §5)")
        default:
            throw SDPError(.unknownLineType, line: line, "unknown line type '\(letter)=' (RFC 8866 §5 requires rejecting it)")
        }
        currentMedia = section
    }

    private func duplicate(_ letter: String, _ line: Int) -> SDPError {
        SDPError(.duplicateLine, line: line, "'\(letter)=' may appear only once here (RFC 8866 §5)")
    }

    mutating func finish() throws(SDPError) -> SessionDescription {
        guard sawAnything else { throw SDPError(.emptyInput, line: 0, "no SDP lines in the input") }
        if let section = currentMedia { media.append(section) }
        guard let version else { throw SDPError(.missingLine, line: 0, "missing 'v=' line (RFC 8866 §5.1)") }
        guard let origin else { throw SDPError(.missingLine, line: 0, "missing 'o=' line (RFC 8866 §5.2)") }
        guard let sessionName else { throw SDPError(.missingLine, line: 0, "missing 's=' line (RFC 8866 §5.3)") }
        guard !timing.isEmpty else { throw SDPError(.missingLine, line: 0, "missing 't=' line (RFC 8866 §5.9)") }
        return SessionDescription(
            version: version, origin: origin, sessionName: sessionName, information: information, uri: uri,
            emails: emails, phones: phones, connection: connection, bandwidths: bandwidths, timing: timing,
            timeZones: timeZones ?? [], encryptionKey: encryptionKey, attributes: attributes, media: media)
    }
}

/// Grammars of the non-attribute lines (RFC 8866 §5, §9).
enum LineParser {
    static func origin(_ value: Substring, line: Int) throws(SDPError) -> SDPOrigin {
        let parts = spaceSeparated(value)
        guard parts.count == 6 else {
            throw SDPError(.malformedValue, line: line,
                           "'o=' needs <username> <sess-id> <sess-version> <nettype> <addrtype> <address> (RFC 8866 §5.2), got \(quoted(value))")
        }
        let version = try unsigned(parts[2], UInt64.self, field: "o= session version", line: line)
        return SDPOrigin(username: String(parts[0]), sessionID: String(parts[1]), sessionVersion: version,
                         networkType: String(parts[3]), addressType: String(parts[4]), address: String(parts[5]))
    }

    static func connection(_ value: Substring, line: Int) throws(SDPError) -> SDPConnection {
        let parts = spaceSeparated(value)
        guard parts.count == 3 else {
            throw SDPError(.malformedValue, line: line,
                           "'c=' needs <nettype> <addrtype> <connection-address> (RFC 8866 §5.7), got \(quoted(value))")
        }
        return SDPConnection(networkType: String(parts[0]), addressType: String(parts[1]), address: String(parts[2]))
    }

    static func bandwidth(_ value: Substring, line: Int) throws(SDPError) -> SDPBandwidth {
        guard let (type, amount) = splitOnce(value, at: ":"), isToken(type) else {
            throw SDPError(.malformedValue, line: line, "'b=' needs <bwtype>:<bandwidth> (RFC 8866 §5.8), got \(quoted(value))")
        }
        return SDPBandwidth(type: String(type), value: try unsigned(amount, UInt64.self, field: "b= bandwidth", line: line))
    }

    static func timing(_ value: Substring, line: Int) throws(SDPError) -> SDPTiming {
        let parts = spaceSeparated(value)
        guard parts.count == 2 else {
            throw SDPError(.malformedValue, line: line, "'t=' needs <start-time> <stop-time> (RFC 8866 §5.9), got \(quoted(value))")
        }
        return SDPTiming(start: try unsigned(parts[0], UInt64.self, field: "t= start time", line: line),
                         stop: try unsigned(parts[1], UInt64.self, field: "t= stop time", line: line))
    }

    /// `typed-time = 1*DIGIT [fixed-len-time-unit]` (RFC 8866 §9).
    static func isTypedTime(_ text: Substring) -> Bool {
        var digits = text
        if let last = text.utf8.last, [UInt8(ascii: "d"), UInt8(ascii: "h"), UInt8(ascii: "m"), UInt8(ascii: "s")].contains(last) {
            digits = Substring(text.utf8.dropLast())
        }
        return isDigits(digits)
    }

    static func repeatTimes(_ value: Substring, line: Int) throws(SDPError) -> SDPRepeatTimes {
        let parts = spaceSeparated(value)
        guard parts.count >= 3, parts.allSatisfy(isTypedTime) else {
            throw SDPError(.malformedValue, line: line,
                           "'r=' needs <repeat interval> <active duration> <offsets> as typed times (RFC 8866 §5.10), got \(quoted(value))")
        }
        return SDPRepeatTimes(interval: String(parts[0]), activeDuration: String(parts[1]), offsets: parts[2...].map(String.init))
    }

    static func timeZones(_ value: Substring, line: Int) throws(SDPError) -> [SDPTimeZoneAdjustment] {
        let parts = spaceSeparated(value)
        guard !parts.isEmpty, parts.count % 2 == 0 else {
            throw SDPError(.malformedValue, line: line, "'z=' needs pairs of <adjustment time> <offset> (RFC 8866 §5.11), got \(quoted(value))")
        }
        var result: [SDPTimeZoneAdjustment] = []
        var index = 0
        while index < parts.count {
            let time = try unsigned(parts[index], UInt64.self, field: "z= adjustment time", line: line)
            let offset = parts[index + 1]
            let unsignedOffset = offset.hasPrefix("-") ? Substring(offset.utf8.dropFirst()) : offset
            guard isTypedTime(unsignedOffset) else {
                throw SDPError(.malformedValue, line: line, "'z=' offset must be ['-'] typed time (RFC 8866 §5.11), got \(quoted(offset))")
            }
            result.append(SDPTimeZoneAdjustment(adjustmentTime: time, offset: String(offset)))
            index += 2
        }
        return result
    }

    static func media(_ value: Substring, line: Int) throws(SDPError) -> SDPMediaDescription {
        let parts = spaceSeparated(value)
        guard parts.count >= 3 else {
            throw SDPError(.malformedValue, line: line, "'m=' needs <media> <port> <proto> <fmt> … (RFC 8866 §5.14), got \(quoted(value))")
        }
        guard isToken(parts[0]) else {
            throw SDPError(.malformedValue, line: line, "'m=' media type must be a token, got \(quoted(parts[0]))")
        }
        var portText = parts[1]
        var numberOfPorts: UInt16?
        if let (port, count) = splitOnce(parts[1], at: "/") {
            portText = port
            numberOfPorts = try unsigned(count, UInt16.self, field: "m= number of ports", line: line)
        }
        let port = try unsigned(portText, UInt16.self, field: "m= port", line: line)
        return SDPMediaDescription(media: String(parts[0]), port: port, numberOfPorts: numberOfPorts,
                                   proto: String(parts[2]), formats: parts[3...].map(String.init))
    }

    /// Parses digits into `T`, telling apart "not a number", "negative" and "too large".
    static func unsigned<T: FixedWidthInteger & UnsignedInteger>(_ text: Substring, _ type: T.Type, field: String,
                                                                 line: Int, kind: SDPError.Kind = .malformedValue) throws(SDPError) -> T {
        if let value: T = parseUnsigned(text) { return value }
        if text.hasPrefix("-"), isDigits(Substring(text.utf8.dropFirst())) {
            throw SDPError(.valueOutOfRange, line: line, "\(field) cannot be negative, got \(quoted(text))")
        }
        if isDigits(text) {
            throw SDPError(.valueOutOfRange, line: line, "\(field) must be at most \(T.max), got \(quoted(text))")
        }
        throw SDPError(kind, line: line, "\(field) must be a decimal number, got \(quoted(text))")
    }
}
