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
