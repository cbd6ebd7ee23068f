/// An ICE candidate as written in `a=candidate` (RFC 8839 §5.1):
///
/// ```
/// <foundation> <component> <transport> <priority> <address> <port> typ <type>
///     [raddr <related address>] [rport <related port>] *(<extension name> <extension value>)
/// ```
///
/// Text fields are kept as written (`UDP` and `udp` both occur; the address may be an mDNS `<uuid>.local`
/// name, RFC 8839 §5.1 and draft-ietf-mmusic-mdns-ice-candidates). Extensions such as `generation`,
/// `network-id`, `network-cost`, `ufrag` and `tcptype` (RFC 6544 §4.5) stay in ``extensions`` in their order,
/// unknown ones included; typed accessors read and write them in place.
public struct SDPCandidate: Hashable, Sendable {
    /// 1–32 `ice-char`s; kept as a string even when numeric (some SIP peers want digits, Jingle wants text).
    public var foundation: String
    /// 1 for RTP, 2 for RTCP.
    public var component: UInt16
    /// `UDP` or a transport extension such as `TCP` (RFC 6544).
    public var transport: String
    /// 32-bit priority (RFC 8445 §5.1.2).
    public var priority: UInt32
    /// IPv4, IPv6 or FQDN (mDNS) address.
    public var address: String
    public var port: UInt16
    public var type: SDPCandidateType
    public var relatedAddress: String?
    public var relatedPort: UInt16?
    /// `cand-extension` pairs in order (RFC 8839 §5.1).
    public var extensions: [SDPCandidateExtension]

    public init(foundation: String, component: UInt16, transport: String = "udp", priority: UInt32,
                address: String, port: UInt16, type: SDPCandidateType, relatedAddress: String? = nil,
                relatedPort: UInt16? = nil, extensions: [SDPCandidateExtension] = []) {
        self.foundation = foundation
        self.component = component
        self.transport = transport
        self.priority = priority
        self.address = address
        self.port = port
        self.type = type
        self.relatedAddress = relatedAddress
        self.relatedPort = relatedPort
        self.extensions = extensions
    }

    /// Parses the value of `a=candidate` (also accepts a leading `candidate:`, as trickle messages carry it,
    /// RFC 8840 §9). Throws ``SDPError`` (line 0) naming the bad field.
    public init(parsing text: String) throws(SDPError) {
        var value = Substring(text)
        if value.hasPrefix("a=") { value = value.dropFirst(2) }
        if value.hasPrefix("candidate:") { value = value.dropFirst("candidate:".count) }
        self = try withUTF8(of: String(value)) { bytes, reader throws(SDPError) in try reader.candidate(bytes, line: 0) }
    }

    /// The first value of the named extension.
    public subscript(extension name: String) -> String? {
        get { extensions.first { $0.name == name }?.value }
        set {
            if let index = extensions.firstIndex(where: { $0.name == name }) {
                if let newValue { extensions[index].value = newValue } else { extensions.remove(at: index) }
            } else if let newValue {
                extensions.append(SDPCandidateExtension(name: name, value: newValue))
            }
        }
    }

    /// `generation` (a libwebrtc extension carried by XEP-0176); nil when absent, which Jingle reads as 0.
    public var generation: UInt32? {
        get { self[extension: "generation"].flatMap { parseUnsigned(Substring($0)) } }
        set { self[extension: "generation"] = newValue.map(String.init) }
    }

    /// `network-id` (libwebrtc), the `network` attribute of XEP-0176.
    public var networkID: String? {
        get { self[extension: "network-id"] }
        set { self[extension: "network-id"] = newValue }
    }

    /// `network-cost` (libwebrtc).
    public var networkCost: String? {
        get { self[extension: "network-cost"] }
        set { self[extension: "network-cost"] = newValue }
    }

    /// `ufrag` (libwebrtc): the username fragment the candidate belongs to.
    public var ufrag: String? {
        get { self[extension: "ufrag"] }
        set { self[extension: "ufrag"] = newValue }
    }

    /// `tcptype` (RFC 6544 §4.5): `active`, `passive` or `so`.
    public var tcpType: String? {
        get { self[extension: "tcptype"] }
        set { self[extension: "tcptype"] = newValue }
    }
}

/// `typ <cand-type>` (RFC 8839 §5.1).
public enum SDPCandidateType: Hashable, Sendable {
    case host, srflx, prflx, relay
    /// A `token` beyond the four RFC 8445 types.
    case other(String)

    public init(rawValue: String) {
        switch rawValue {
        case "host": self = .host
        case "srflx": self = .srflx
        case "prflx": self = .prflx
        case "relay": self = .relay
        default: self = .other(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .host: "host"
        case .srflx: "srflx"
        case .prflx: "prflx"
        case .relay: "relay"
        case .other(let value): value
        }
    }
}

/// One `<extension-att-name> <extension-att-value>` pair of a candidate (RFC 8839 §5.1).
public struct SDPCandidateExtension: Hashable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
