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
        // One pass over the contiguous UTF-8 bytes: lines are found with a byte scan and every field is cut
        // out as a byte range, so the only Strings made are the ones the model keeps.
        try withUTF8(of: text) { bytes, reader throws(SDPError) in try parse(utf8: bytes, reader: reader) }
    }

    /// Parses a session description given as bytes (a SIP body); invalid UTF-8 is replaced, not trusted.
    public func parse(bytes: some Sequence<UInt8>) throws(SDPError) -> SessionDescription {
        try parse(String(decoding: Array(bytes), as: UTF8.self))
    }

    /// Parses valid UTF-8 (the caller guarantees it: the bytes come from a String).
    ///
    /// A first pass finds the lines and counts the `a=` lines of each section, so that every attribute array is
    /// allocated once at its final size instead of growing (and being copied) five or six times; the second
    /// pass reads the lines in order.
    private func parse(utf8 bytes: Bytes, reader: ValueReader) throws(SDPError) -> SessionDescription {
        var lines: [Line] = []
        lines.reserveCapacity(bytes.count / 32 + 8)
        var sessionAttributeLines = 0
        var mediaLines = 0
        var currentMedia: Int?
        var lineNumber = 0
        var lineStart = 0
        let end = bytes.count
        while true {
            let (lineEnd, firstControl) = Self.lineEnd(in: bytes, from: lineStart)
            lineNumber += 1
            var contentEnd = lineEnd
            if contentEnd > lineStart, bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            if contentEnd > lineStart {
                lines.append(Line(start: lineStart, end: contentEnd, number: lineNumber, hasControl: firstControl < contentEnd))
                if contentEnd - lineStart >= 2, bytes[lineStart + 1] == UInt8(ascii: "=") {
                    switch bytes[lineStart] {
                    case UInt8(ascii: "a"):
                        if let currentMedia { lines[currentMedia].attributeLines += 1 } else { sessionAttributeLines += 1 }
                    case UInt8(ascii: "m"):
                        currentMedia = lines.count - 1
                        mediaLines += 1
                    default: break
                    }
                }
            }
            if lineEnd == end { break }
            lineStart = lineEnd + 1
        }
        var state = ParseState(options: options, reader: reader, attributeLines: sessionAttributeLines, mediaLines: mediaLines)
        for line in lines {
            try state.consume(bytes.cut(line.start, line.end), line: line.number, hasControl: line.hasControl,
                              attributeLines: line.attributeLines)
        }
        return try state.finish()
    }

    /// One non-empty line of the input, without its line end.
    private struct Line {
        var start: Int
        var end: Int
        /// 1-based, blank lines counted.
        var number: Int
        /// True when the line holds a NUL or a CR.
        var hasControl: Bool
        /// For an `m=` line: the number of `a=` lines up to the next `m=`.
        var attributeLines = 0
    }

    /// The index of the LF that ends the line starting at `start` (the end of the input when there is none), and
    /// the index of the first NUL or CR on the way (`Int.max` when there is none), so that a line whose only CR
    /// is its last byte needs no further check for control characters.
    ///
    /// Eight bytes are tested at once: `(word - 0x0E0E…) & ~word & 0x8080…` is non-zero exactly when some byte
    /// of the word is below 0x0E (LF, CR, NUL and a few other controls); only such words are looked at byte
    /// by byte, which for ordinary text is the word with the line's CRLF.
    private static func lineEnd(in bytes: Bytes, from start: Int) -> (lineEnd: Int, firstControl: Int) {
        var firstControl = Int.max
        var index = start
        let end = bytes.count
        /// Looks at one byte; true when it is the LF.
        func isLineFeed(_ index: Int) -> Bool {
            let byte = bytes[index]
            if byte > 0x0D { return false }
            if byte == 0x0A { return true }
            if (byte == 0x0D || byte == 0x00) && firstControl == .max { firstControl = index }
            return false
        }
        if let base = bytes.baseAddress {
            while end - index >= 8 {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                if (word &- 0x0E0E_0E0E_0E0E_0E0E) & ~word & 0x8080_8080_8080_8080 != 0 {
                    for offset in index..<index + 8 where isLineFeed(offset) { return (offset, firstControl) }
                }
                index += 8
            }
        }
        while index < end {
            if isLineFeed(index) { return (index, firstControl) }
            index += 1
        }
        return (end, firstControl)
    }
}

extension SessionDescription {
    /// Parses `text` with ``SDPParser``.
    public init(parsing text: String, options: SDPParser.Options = SDPParser.Options()) throws(SDPError) {
        self = try SDPParser(options: options).parse(text)
    }
}

private struct ParseState {
    let options: SDPParser.Options
    var reader: ValueReader
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
    /// The media sections so far; lines after the first `m=` go to the last one, changed in place (a section
    /// taken out and put back would be copied, attribute array and all, for every line).
    var media: [SDPMediaDescription] = []
    var sawAnything = false

    /// The counts size the session's attribute array and the media array once (they are upper bounds: a
    /// line that turns out malformed ends the parse).
    init(options: SDPParser.Options, reader: ValueReader, attributeLines: Int, mediaLines: Int) {
        self.options = options
        self.reader = reader
        attributes.reserveCapacity(attributeLines)
        media.reserveCapacity(mediaLines)
    }

    /// Reads one line without its line end; `hasControl` tells whether it holds a NUL or a CR, and
    /// `attributeLines` is, for an `m=` line, the number of `a=` lines of its section.
    mutating func consume(_ line: Bytes, line number: Int, hasControl: Bool, attributeLines: Int) throws(SDPError) {
        sawAnything = true
        guard line.count >= 2, line[1] == UInt8(ascii: "=") else {
            throw SDPError(.malformedLine, line: number, "expected '<type>=<value>', got \(quoted(line))")
        }
        let type = line[0]
        guard (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(type) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(type) else {
            throw SDPError(.malformedLine, line: number, "a line type must be one letter, got \(quoted(line))")
        }
        let value = line.dropping(2)
        guard version != nil || type == UInt8(ascii: "v") else {
            throw SDPError(.unexpectedLine, line: number, "the first line must be 'v=', got '\(Character(Unicode.Scalar(type)))=' (RFC 8866 §5)")
        }
        if !media.isEmpty {
            try consumeMediaLine(type, value, line: number, hasControl: hasControl)
        } else {
            try consumeSessionLine(type, value, line: number, hasControl: hasControl)
        }
        if type == UInt8(ascii: "m") { media[media.count - 1].attributes.reserveCapacity(attributeLines) }
    }

    private mutating func consumeSessionLine(_ type: UInt8, _ value: Bytes, line: Int, hasControl: Bool) throws(SDPError) {
        var letter: Character { Character(Unicode.Scalar(type)) }
        switch type {
        case UInt8(ascii: "v"):
            guard version == nil else { throw duplicate("v", line) }
            guard value.equals("0") else {
                throw SDPError(.unsupportedVersion, line: line, "protocol version must be 0 (RFC 8866 §5.1), got \(quoted(value))")
            }
            version = 0
        case UInt8(ascii: "o"):
            guard origin == nil else { throw duplicate("o", line) }
            origin = try reader.origin(value, line: line)
        case UInt8(ascii: "s"):
            guard sessionName == nil else { throw duplicate("s", line) }
            sessionName = value.string
        case UInt8(ascii: "i"):
            guard information == nil else { throw duplicate("i", line) }
            information = value.string
        case UInt8(ascii: "u"):
            guard uri == nil else { throw duplicate("u", line) }
            uri = value.string
        case UInt8(ascii: "e"):
            emails.append(value.string)
        case UInt8(ascii: "p"):
            phones.append(value.string)
        case UInt8(ascii: "c"):
            guard connection == nil else { throw duplicate("c", line) }
            connection = try reader.connection(value, line: line)
        case UInt8(ascii: "b"):
            bandwidths.append(try ValueReader.bandwidth(value, line: line))
        case UInt8(ascii: "t"):
            timing.append(try reader.timing(value, line: line))
        case UInt8(ascii: "r"):
            guard !timing.isEmpty else {
                throw SDPError(.unexpectedLine, line: line, "'r=' must follow a 't=' line (RFC 8866 §5.10)")
            }
            timing[timing.count - 1].repeats.append(try reader.repeatTimes(value, line: line))
        case UInt8(ascii: "z"):
            guard timeZones == nil else { throw duplicate("z", line) }
            timeZones = try reader.timeZones(value, line: line)
        case UInt8(ascii: "k"):
            guard encryptionKey == nil else { throw duplicate("k", line) }
            encryptionKey = value.string
        case UInt8(ascii: "a"):
            try reader.attribute(value, line: line, hasControl: hasControl, policy: options.malformedAttributes, into: &attributes)
        case UInt8(ascii: "m"):
            media.append(try reader.media(value, line: line))
        default:
            throw SDPError(.unknownLineType, line: line, "unknown line type '\(letter)=' (RFC 8866 §5 requires rejecting it)")
        }
    }

    private mutating func consumeMediaLine(_ type: UInt8, _ value: Bytes, line: Int, hasControl: Bool) throws(SDPError) {
        var letter: Character { Character(Unicode.Scalar(type)) }
        let last = media.count - 1
        switch type {
        case UInt8(ascii: "m"):
            media.append(try reader.media(value, line: line))
        case UInt8(ascii: "i"):
            guard media[last].information == nil else { throw duplicate("i", line) }
            media[last].information = value.string
        case UInt8(ascii: "c"):
            media[last].connections.append(try reader.connection(value, line: line))
        case UInt8(ascii: "b"):
            media[last].bandwidths.append(try ValueReader.bandwidth(value, line: line))
        case UInt8(ascii: "k"):
            guard media[last].encryptionKey == nil else { throw duplicate("k", line) }
            media[last].encryptionKey = value.string
        case UInt8(ascii: "a"):
            try reader.attribute(value, line: line, hasControl: hasControl, policy: options.malformedAttributes,
                                 into: &media[last].attributes)
        case UInt8(ascii: "v"), UInt8(ascii: "o"), UInt8(ascii: "s"), UInt8(ascii: "u"), UInt8(ascii: "e"), UInt8(ascii: "p"), UInt8(ascii: "t"), UInt8(ascii: "r"), UInt8(ascii: "z"):
            throw SDPError(.unexpectedLine, line: line, "'\(letter)=' is a session-level line and cannot follow 'm=' (RFC 8866 §5)")
        default:
            throw SDPError(.unknownLineType, line: line, "unknown line type '\(letter)=' (RFC 8866 §5 requires rejecting it)")
        }
    }

    private func duplicate(_ letter: String, _ line: Int) -> SDPError {
        SDPError(.duplicateLine, line: line, "'\(letter)=' may appear only once here (RFC 8866 §5)")
    }

    mutating func finish() throws(SDPError) -> SessionDescription {
        guard sawAnything else { throw SDPError(.emptyInput, line: 0, "no SDP lines in the input") }
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

/// Reads the values of lines and attributes from byte ranges of the input. `fields` is the one scratch list
/// the space splitter refills for every value, so a description costs one such array, not one per line.
struct ValueReader {
    var fields: Fields
}

/// Grammars of the non-attribute lines (RFC 8866 §5, §9).
extension ValueReader {
    mutating func origin(_ value: Bytes, line: Int) throws(SDPError) -> SDPOrigin {
        guard fields.split(value) == 6 else {
            throw SDPError(.malformedValue, line: line,
                           "'o=' needs <username> <sess-id> <sess-version> <nettype> <addrtype> <address> (RFC 8866 §5.2), got \(quoted(value))")
        }
        let version = try unsigned(fields[2], UInt64.self, field: "o= session version", line: line)
        return SDPOrigin(username: fields[0].string, sessionID: fields[1].string, sessionVersion: version,
                         networkType: fields[3].string, addressType: fields[4].string, address: fields[5].string)
    }

    mutating func connection(_ value: Bytes, line: Int) throws(SDPError) -> SDPConnection {
        guard fields.split(value) == 3 else {
            throw SDPError(.malformedValue, line: line,
                           "'c=' needs <nettype> <addrtype> <connection-address> (RFC 8866 §5.7), got \(quoted(value))")
        }
        return SDPConnection(networkType: fields[0].string, addressType: fields[1].string, address: fields[2].string)
    }

    static func bandwidth(_ value: Bytes, line: Int) throws(SDPError) -> SDPBandwidth {
        guard let (type, amount) = value.splitOnce(at: UInt8(ascii: ":")), type.isToken else {
            throw SDPError(.malformedValue, line: line, "'b=' needs <bwtype>:<bandwidth> (RFC 8866 §5.8), got \(quoted(value))")
        }
        return SDPBandwidth(type: type.string, value: try unsigned(amount, UInt64.self, field: "b= bandwidth", line: line))
    }

    mutating func timing(_ value: Bytes, line: Int) throws(SDPError) -> SDPTiming {
        guard fields.split(value) == 2 else {
            throw SDPError(.malformedValue, line: line, "'t=' needs <start-time> <stop-time> (RFC 8866 §5.9), got \(quoted(value))")
        }
        return SDPTiming(start: try unsigned(fields[0], UInt64.self, field: "t= start time", line: line),
                         stop: try unsigned(fields[1], UInt64.self, field: "t= stop time", line: line))
    }

    /// `typed-time = 1*DIGIT [fixed-len-time-unit]` (RFC 8866 §9).
    static func isTypedTime(_ text: Bytes) -> Bool {
        switch text.last {
        case UInt8(ascii: "d"), UInt8(ascii: "h"), UInt8(ascii: "m"), UInt8(ascii: "s"): text.cut(0, text.count - 1).isDigits
        default: text.isDigits
        }
    }

    mutating func repeatTimes(_ value: Bytes, line: Int) throws(SDPError) -> SDPRepeatTimes {
        let count = fields.split(value)
        guard count >= 3, (0..<count).allSatisfy({ Self.isTypedTime(fields[$0]) }) else {
            throw SDPError(.malformedValue, line: line,
                           "'r=' needs <repeat interval> <active duration> <offsets> as typed times (RFC 8866 §5.10), got \(quoted(value))")
        }
        return SDPRepeatTimes(interval: fields[0].string, activeDuration: fields[1].string, offsets: fields.strings(from: 2))
    }

    mutating func timeZones(_ value: Bytes, line: Int) throws(SDPError) -> [SDPTimeZoneAdjustment] {
        let count = fields.split(value)
        guard count > 0, count % 2 == 0 else {
            throw SDPError(.malformedValue, line: line, "'z=' needs pairs of <adjustment time> <offset> (RFC 8866 §5.11), got \(quoted(value))")
        }
        var result: [SDPTimeZoneAdjustment] = []
        var index = 0
        while index < count {
            let time = try unsigned(fields[index], UInt64.self, field: "z= adjustment time", line: line)
            let offset = fields[index + 1]
            let unsignedOffset = offset.first == UInt8(ascii: "-") ? offset.dropping(1) : offset
            guard Self.isTypedTime(unsignedOffset) else {
                throw SDPError(.malformedValue, line: line, "'z=' offset must be ['-'] typed time (RFC 8866 §5.11), got \(quoted(offset))")
            }
            result.append(SDPTimeZoneAdjustment(adjustmentTime: time, offset: offset.string))
            index += 2
        }
        return result
    }

    mutating func media(_ value: Bytes, line: Int) throws(SDPError) -> SDPMediaDescription {
        let count = fields.split(value)
        guard count >= 3 else {
            throw SDPError(.malformedValue, line: line, "'m=' needs <media> <port> <proto> <fmt> … (RFC 8866 §5.14), got \(quoted(value))")
        }
        guard fields[0].isToken else {
            throw SDPError(.malformedValue, line: line, "'m=' media type must be a token, got \(quoted(fields[0]))")
        }
        var portText = fields[1]
        var numberOfPorts: UInt16?
        if let (port, count) = fields[1].splitOnce(at: UInt8(ascii: "/")) {
            portText = port
            numberOfPorts = try unsigned(count, UInt16.self, field: "m= number of ports", line: line)
        }
        let port = try unsigned(portText, UInt16.self, field: "m= port", line: line)
        return SDPMediaDescription(media: fields[0].string, port: port, numberOfPorts: numberOfPorts,
                                   proto: fields[2].string, formats: fields.strings(from: 3))
    }
}
