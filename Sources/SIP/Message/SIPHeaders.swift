/// The header fields of a SIP message, in wire order, with case-insensitive names (RFC 3261 §7.3.1).
///
/// Compact forms (§7.3.3 and later RFCs) are expanded to their full names when parsed, so `v:` and
/// `Via:` are the same header. Unknown headers are kept verbatim. Several fields of the same name keep
/// their relative order (that is what makes the first Via the top-most one, §8.1.1.7).
public struct SIPHeaders: Sendable, Equatable, Sequence {
    public struct Field: Sendable, Equatable {
        public let name: String
        public var value: String
        /// Lower-cased canonical name, for lookups.
        let key: String

        public init(name: String, value: String) {
            self.name = SIPHeaders.canonicalName(name)
            self.value = value
            self.key = self.name.lowercased()
        }
    }

    public private(set) var fields: [Field] = []

    public init() {}
    public init(_ pairs: [(String, String)]) {
        fields = pairs.map { Field(name: $0.0, value: $0.1) }
    }

    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }
    public var count: Int { fields.count }

    /// Compact form -> full name: RFC 3261 §7.3.3 (i m e l c f t v k s), RFC 6665 (o u), RFC 3515 (r),
    /// RFC 3892 (b), RFC 4028 (x), RFC 8224 (y), RFC 3841 (a j d).
    public static let compactForms: [String: String] = [
        "i": "Call-ID", "m": "Contact", "e": "Content-Encoding", "l": "Content-Length", "c": "Content-Type",
        "f": "From", "t": "To", "v": "Via", "k": "Supported", "s": "Subject", "o": "Event", "u": "Allow-Events",
        "r": "Refer-To", "b": "Referred-By", "x": "Session-Expires", "y": "Identity",
        "a": "Accept-Contact", "j": "Reject-Contact", "d": "Request-Disposition",
    ]

    private static let knownNames: [String: String] = {
        let names = [
            "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Authentication-Info", "Authorization",
            "Call-ID", "Call-Info", "Contact", "Content-Disposition", "Content-Encoding", "Content-Language",
            "Content-Length", "Content-Type", "CSeq", "Date", "Error-Info", "Expires", "From", "In-Reply-To",
            "Max-Forwards", "Min-Expires", "MIME-Version", "Organization", "Priority", "Proxy-Authenticate",
            "Proxy-Authorization", "Proxy-Require", "Record-Route", "Reply-To", "Require", "Retry-After", "Route",
            "Server", "Subject", "Supported", "Timestamp", "To", "Unsupported", "User-Agent", "Via", "Warning",
            "WWW-Authenticate", "Event", "Allow-Events", "Refer-To", "Referred-By", "Session-Expires", "Identity",
            "Accept-Contact", "Reject-Contact", "Request-Disposition", "Info-Package", "Recv-Info", "RSeq", "RAck",
            "Path", "Service-Route", "Min-SE", "Reason",
        ]
        return Dictionary(uniqueKeysWithValues: names.map { ($0.lowercased(), $0) })
    }()

    /// Full, conventionally-cased name for a header name in any case or compact form; unknown names unchanged.
    public static func canonicalName(_ name: String) -> String {
        let lower = name.lowercased()
        if let full = compactForms[lower] { return full }
        return knownNames[lower] ?? name
    }

    /// Headers whose value is a comma-separated list (RFC 3261 §7.3.1); `values(_:)` splits these.
    /// The authentication headers are not in it: commas separate their parameters, not values.
    static let listHeaders: Set<String> = [
        "via", "route", "record-route", "contact", "allow", "supported", "require", "proxy-require", "unsupported",
        "accept", "accept-encoding", "accept-language", "content-encoding", "content-language", "allow-events",
        "path", "service-route", "alert-info", "call-info", "error-info", "in-reply-to", "warning", "recv-info",
        "accept-contact", "reject-contact",
    ]

    /// Value of the first field with this name (as received, not split).
    public subscript(_ name: String) -> String? {
        let canonical = SIPHeaders.canonicalName(name).lowercased()
        return fields.first { $0.key == canonical }?.value
    }

    /// Every field value with this name, in order, not split at commas.
    public func fieldValues(_ name: String) -> [String] {
        let canonical = SIPHeaders.canonicalName(name).lowercased()
        return fields.filter { $0.key == canonical }.map(\.value)
    }

    /// Every value with this name in order, list headers split at top-level commas (so three Via
    /// headers and one Via with three comma-separated values give the same result).
    public func values(_ name: String) -> [String] {
        let canonical = SIPHeaders.canonicalName(name).lowercased()
        let raw = fieldValues(name)
        guard SIPHeaders.listHeaders.contains(canonical) else { return raw }
        return raw.flatMap { $0.splitOutsideQuotes(separator: ",").map { String($0.trimmingLWS()) }.filter { !$0.isEmpty } }
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// Appends a field.
    public mutating func add(_ name: String, _ value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// Inserts a field before every other field of the same name, or at the end (a new top Via).
    public mutating func prepend(_ name: String, _ value: String) {
        let canonical = SIPHeaders.canonicalName(name).lowercased()
        if let index = fields.firstIndex(where: { $0.key == canonical }) {
            fields.insert(Field(name: name, value: value), at: index)
        } else {
            fields.append(Field(name: name, value: value))
        }
    }

    /// Replaces all fields of this name with one, at the position of the first (or at the end).
    public mutating func set(_ name: String, _ value: String) {
        let canonical = SIPHeaders.canonicalName(name).lowercased()
        if let index = fields.firstIndex(where: { $0.key == canonical }) {
            fields[index] = Field(name: name, value: value)
            var seen = false
            fields.removeAll { field in
                guard field.key == canonical else { return false }
                if !seen { seen = true; return false }
                return true
            }
        } else {
            fields.append(Field(name: name, value: value))
        }
    }

    public mutating func remove(_ name: String) {
        let canonical = SIPHeaders.canonicalName(name).lowercased()
        fields.removeAll { $0.key == canonical }
    }

    /// Removes the first value of a (list) header, e.g. the top Via when a proxy forwards a response.
    public mutating func removeFirstValue(_ name: String) {
        let canonical = SIPHeaders.canonicalName(name).lowercased()
        guard let index = fields.firstIndex(where: { $0.key == canonical }) else { return }
        var parts = fields[index].value.splitOutsideQuotes(separator: ",")
        parts.removeFirst()
        if parts.isEmpty {
            fields.remove(at: index)
        } else {
            fields[index].value = parts.map { String($0.trimmingLWS()) }.joined(separator: ", ")
        }
    }

    /// Replaces the first value of a list header (e.g. to stamp `received` on the top Via).
    mutating func replaceFirstValue(_ name: String, with value: String) {
        let canonical = SIPHeaders.canonicalName(name).lowercased()
        guard let index = fields.firstIndex(where: { $0.key == canonical }) else { return }
        var parts = fields[index].value.splitOutsideQuotes(separator: ",").map { String($0.trimmingLWS()) }
        parts[0] = value
        fields[index].value = parts.joined(separator: ", ")
    }
}
