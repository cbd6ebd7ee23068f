
/// An XMPP address (RFC 7622): `[localpart@]domainpart[/resourcepart]`.
///
/// Parts are stored in their canonical (prepared and enforced) form, so two JIDs that are the same
/// address compare equal: the localpart is case-mapped (PRECIS UsernameCaseMapped, RFC 8265 §3.3)
/// and the domainpart lower-cased (RFC 7622 §3.2), both normalised to NFC; the resourcepart keeps
/// its case (PRECIS OpaqueString, RFC 8265 §4.2) and is normalised to NFC.
public struct JID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let localpart: String?
    public let domainpart: String
    public let resourcepart: String?

    /// Largest size of each part, in octets of UTF-8 (RFC 7622 §3.2, §3.3, §3.4).
    public static let maxPartOctets = 1023

    /// Parses and enforces a JID string. Throws `JIDError` naming the faulty part.
    public init(_ string: String) throws(JIDError) {
        // RFC 7622 §3.1: the first '/' starts the resourcepart; the first '@' before it ends the localpart.
        let slash = string.firstIndex(of: "/")
        let beforeResource = slash.map { string[..<$0] } ?? string[...]
        let resource = slash.map { string[string.index(after: $0)...] }
        let at = beforeResource.firstIndex(of: "@")
        let local = at.map { beforeResource[..<$0] }
        let domain = at.map { beforeResource[beforeResource.index(after: $0)...] } ?? beforeResource
        try self.init(localpart: local.map(String.init), domainpart: String(domain), resourcepart: resource.map(String.init))
    }

    /// Builds a JID from its parts, preparing and enforcing each.
    public init(localpart: String? = nil, domainpart: String, resourcepart: String? = nil) throws(JIDError) {
        self.localpart = try localpart.map(JID.enforceLocalpart)
        self.domainpart = try JID.enforceDomainpart(domainpart)
        self.resourcepart = try resourcepart.map(JID.enforceResourcepart)
    }

    /// The bare JID (no resourcepart).
    public var bare: JID { JID(unchecked: localpart, domainpart, nil) }

    /// Whether this is a bare JID.
    public var isBare: Bool { resourcepart == nil }

    /// A copy with the given resourcepart.
    public func with(resource: String) throws(JIDError) -> JID {
        JID(unchecked: localpart, domainpart, try JID.enforceResourcepart(resource))
    }

    public var description: String {
        var out = ""
        if let localpart { out += localpart + "@" }
        out += domainpart
        if let resourcepart { out += "/" + resourcepart }
        return out
    }

    private init(unchecked localpart: String?, _ domainpart: String, _ resourcepart: String?) {
        self.localpart = localpart
        self.domainpart = domainpart
        self.resourcepart = resourcepart
    }

    // MARK: Codable as a string

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(try container.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Why a string is not a valid JID. Each names the part and the rule broken (RFC 7622 §3).
public enum JIDError: Error, Sendable, Hashable, CustomStringConvertible {
    case emptyLocalpart
    case emptyDomainpart
    case emptyResourcepart
    case localpartTooLong(octets: Int)
    case domainpartTooLong(octets: Int)
    case resourcepartTooLong(octets: Int)
    /// A character the part may not hold (with the character's code point).
    case forbiddenCharacter(part: String, scalar: UInt32)
    case invalidDomainLabel(String)

    public var description: String {
        switch self {
        case .emptyLocalpart: "JID localpart is empty (nothing before '@')"
        case .emptyDomainpart: "JID domainpart is empty"
        case .emptyResourcepart: "JID resourcepart is empty (nothing after '/')"
        case .localpartTooLong(let n): "JID localpart is \(n) octets; at most 1023 allowed"
        case .domainpartTooLong(let n): "JID domainpart is \(n) octets; at most 1023 allowed"
        case .resourcepartTooLong(let n): "JID resourcepart is \(n) octets; at most 1023 allowed"
        case .forbiddenCharacter(let part, let scalar): "JID \(part) may not contain U+\(String(scalar, radix: 16, uppercase: true))"
        case .invalidDomainLabel(let label): "JID domainpart has an invalid label '\(label)'"
        }
    }
}

extension JID {
    /// RFC 7622 §3.3: PRECIS IdentifierClass (UsernameCaseMapped) plus the characters `"&'/:<>@`.
    static func enforceLocalpart(_ raw: String) throws(JIDError) -> String {
        // Width mapping and case mapping (RFC 8265 §3.3.2), then NFC.
        let prepared = PRECISWidth.map(raw)
        let value = prepared.lowercased().nfc
        if value.isEmpty { throw .emptyLocalpart }
        let octets = value.utf8.count
        if octets > maxPartOctets { throw .localpartTooLong(octets: octets) }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"", "&", "'", "/", ":", "<", ">", "@":
                throw .forbiddenCharacter(part: "localpart", scalar: scalar.value)
            default:
                // IdentifierClass (RFC 8264 §4.2) disallows spaces, controls, symbols outside letters/digits
                // and punctuation; we reject the classes that matter on the wire: controls, spaces, unassigned.
                let p = scalar.properties
                if p.isWhitespace || p.generalCategory == .control || p.generalCategory == .format
                    || p.generalCategory == .unassigned || p.generalCategory == .privateUse
                    || p.generalCategory == .surrogate || p.generalCategory == .spaceSeparator {
                    throw .forbiddenCharacter(part: "localpart", scalar: scalar.value)
                }
            }
        }
        return value
    }

    /// RFC 7622 §3.2: a domain name (IDNA2008 labels, lower case) or an IP literal.
    static func enforceDomainpart(_ raw: String) throws(JIDError) -> String {
        var value = raw.lowercased().nfc
        // §3.2: a trailing dot is stripped before comparison or storage.
        if value.hasSuffix(".") { value.removeLast() }
        if value.isEmpty { throw .emptyDomainpart }
        let octets = value.utf8.count
        if octets > maxPartOctets { throw .domainpartTooLong(octets: octets) }
        if value.hasPrefix("[") {
            // IPv6 literal: [hex and colons and dots]
            guard value.hasSuffix("]"), value.count > 2,
                  value.dropFirst().dropLast().allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw .invalidDomainLabel(value)
            }
            return value
        }
        for label in value.split(separator: ".", omittingEmptySubsequences: false) {
            if label.isEmpty || label.utf8.count > 63 { throw .invalidDomainLabel(String(label)) }
            for scalar in label.unicodeScalars {
                let p = scalar.properties
                let allowed = scalar == "-" || scalar == "_"
                    || (scalar.isASCII ? (p.isAlphabetic || ("0"..."9").contains(scalar)) : (p.isAlphabetic || p.numericType != nil || p.generalCategory == .nonspacingMark || p.generalCategory == .spacingMark))
                if !allowed { throw .forbiddenCharacter(part: "domainpart", scalar: scalar.value) }
            }
        }
        return value
    }

    /// RFC 7622 §3.4: PRECIS OpaqueString — non-ASCII spaces become U+0020, then NFC; controls are refused.
    static func enforceResourcepart(_ raw: String) throws(JIDError) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in raw.unicodeScalars {
            scalars.append(scalar.properties.generalCategory == .spaceSeparator ? " " : scalar)
        }
        let value = String(scalars).nfc
        if value.isEmpty { throw .emptyResourcepart }
        let octets = value.utf8.count
        if octets > maxPartOctets { throw .resourcepartTooLong(octets: octets) }
        for scalar in value.unicodeScalars {
            let category = scalar.properties.generalCategory
            if category == .control || category == .unassigned || category == .surrogate || category == .format && scalar.value != 0x200D {
                throw .forbiddenCharacter(part: "resourcepart", scalar: scalar.value)
            }
        }
        return value
    }
}
