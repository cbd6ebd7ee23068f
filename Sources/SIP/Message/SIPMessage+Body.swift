/// The session description in a message body (RFC 3261 §13.2.1, RFC 5621): either the whole body
/// (`application/sdp`) or one part of a `multipart/mixed` or `multipart/alternative` body (RFC 2046 §5.1).
/// Carrier interconnects send SIP-I INVITEs whose body is SDP next to an ISUP part (RFC 3204), which a
/// UA that only understands SDP may skip when the part says `handling=optional`.
extension SIPMessage {
    /// What the body holds for the offer/answer exchange.
    public enum SessionBody: Equatable, Sendable {
        /// No body.
        case none
        /// The SDP, as text.
        case sdp(String)
        /// A body we cannot handle, with the reason (answered 415 to a request).
        case unsupported(String)
    }

    /// The body's session description, looked for in multipart bodies too. A multipart part other than SDP
    /// is skipped unless its Content-Disposition says `handling=required` (RFC 3204 §3: ISUP parts are
    /// sent with `handling=optional` so that SDP-only UAs can take the call).
    public var sessionBody: SessionBody {
        guard !body.isEmpty else { return .none }
        let type = contentType ?? "application/sdp"
        if type == "application/sdp" { return .sdp(String(decoding: body, as: UTF8.self)) }
        guard type == "multipart/mixed" || type == "multipart/alternative" else {
            return .unsupported("a body of type \(type) (only application/sdp, alone or in multipart/mixed, is understood)")
        }
        guard let boundary = headers["Content-Type"].flatMap(Self.boundary) else {
            return .unsupported("\(type) without a boundary parameter (RFC 2046 §5.1.1)")
        }
        var sdp: String?
        for part in Self.parts(body, boundary: boundary) {
            let partType = part.contentType ?? "text/plain"
            if partType == "application/sdp" {
                if sdp == nil { sdp = String(decoding: part.body, as: UTF8.self) }
            } else if part.handlingRequired {
                return .unsupported("a required \(partType) body part (Content-Disposition handling=required, RFC 3204 §3)")
            }
        }
        guard let sdp else { return .unsupported("\(type) without an application/sdp part") }
        return .sdp(sdp)
    }

    /// The SDP of the body, or nil (no body, or none that can be used).
    public var sdpText: String? {
        if case .sdp(let text) = sessionBody { return text }
        return nil
    }

    /// One part of a multipart body: its headers (lower-cased names) and content.
    struct BodyPart {
        var headers: [(name: String, value: String)]
        var body: ArraySlice<UInt8>

        func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
        var contentType: String? {
            header("content-type").map { ($0.split(separator: ";").first ?? "").trimmingLWS().lowercased() }
        }
        var handlingRequired: Bool {
            guard let disposition = header("content-disposition") else { return false }
            let parameters = disposition.split(separator: ";").dropFirst().map { $0.trimmingLWS().lowercased() }
            return parameters.contains("handling=required")
        }
    }

    /// The `boundary` parameter of a Content-Type value, unquoted.
    static func boundary(_ contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingLWS().lowercased() == "boundary" else { continue }
            var value = String(pair[1].trimmingLWS())
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            return value.isEmpty || value.utf8.count > 70 ? nil : value
        }
        return nil
    }

    /// The parts between `--boundary` delimiter lines (RFC 2046 §5.1.1): the CRLF before a delimiter belongs
    /// to it, the preamble and the epilogue are ignored, LF-only line ends are tolerated.
    static func parts(_ body: [UInt8], boundary: String) -> [BodyPart] {
        let delimiter = Array("--\(boundary)".utf8)
        // Starts of delimiter lines: at the start of the body or right after a line end.
        var starts: [Int] = []
        var i = 0
        while i + delimiter.count <= body.count {
            if (i == 0 || body[i - 1] == 0x0A), body[i..<(i + delimiter.count)].elementsEqual(delimiter) {
                starts.append(i)
                i += delimiter.count
            } else {
                i += 1
            }
        }
        var out: [BodyPart] = []
        for (n, start) in starts.enumerated() {
            var cursor = start + delimiter.count
            // The close delimiter `--boundary--` ends the parts.
            if cursor + 1 < body.count, body[cursor] == 0x2D, body[cursor + 1] == 0x2D { break }
            // Rest of the delimiter line (transport padding), then the part.
            while cursor < body.count, body[cursor] != 0x0A { cursor += 1 }
            cursor += 1
            guard n + 1 < starts.count, cursor <= starts[n + 1] else { break }
            var end = starts[n + 1] - 1                           // the LF before the next delimiter
            if end > cursor, body[end - 1] == 0x0D { end -= 1 }   // and its CR
            end = max(end, cursor)
            out.append(Self.part(body[cursor..<end]))
        }
        return out
    }

    /// Headers up to the first empty line, then the content.
    private static func part(_ bytes: ArraySlice<UInt8>) -> BodyPart {
        var headers: [(name: String, value: String)] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            var lineEnd = index
            while lineEnd < bytes.endIndex, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            var contentEnd = lineEnd
            if contentEnd > index, bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            let next = min(lineEnd + 1, bytes.endIndex)
            if contentEnd == index { return BodyPart(headers: headers, body: bytes[next..<bytes.endIndex]) }
            let line = String(decoding: bytes[index..<contentEnd], as: UTF8.self)
            if let colon = line.firstIndex(of: ":") {
                headers.append((line[..<colon].trimmingLWS().lowercased(), String(line[line.index(after: colon)...].trimmingLWS())))
            }
            index = next
        }
        // No empty line: a part without headers is all content (RFC 2046 §5.1.1 allows no headers).
        return BodyPart(headers: [], body: bytes)
    }
}
