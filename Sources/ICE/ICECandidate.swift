/// One ICE candidate (RFC 8445 §5.1), independent of libnice and of any signalling format.
/// `sdpAttributeValue` and `init(sdp:)` speak the `a=candidate` grammar of RFC 8839 §5.1
/// (plus `tcptype` from RFC 6544 §4.5).
public struct ICECandidate: Sendable, Hashable {
    public enum Transport: String, Sendable, Hashable {
        case udp
        case tcp
    }

    /// `cand-type` (RFC 8839 §5.1).
    public enum CandidateType: String, Sendable, Hashable {
        case host
        case srflx
        case prflx
        case relay
    }

    /// RFC 6544 §4.5 `tcp-type`.
    public enum TCPType: String, Sendable, Hashable {
        case active
        case passive
        case so
    }

    public var foundation: String
    public var component: Int
    public var transport: Transport
    public var priority: UInt32
    public var address: String
    public var port: UInt16
    public var type: CandidateType
    public var relatedAddress: String?
    public var relatedPort: UInt16?
    public var tcpType: TCPType?
    public var generation: Int
    public var network: Int?

    public init(
        foundation: String, component: Int, transport: Transport = .udp, priority: UInt32,
        address: String, port: UInt16, type: CandidateType,
        relatedAddress: String? = nil, relatedPort: UInt16? = nil, tcpType: TCPType? = nil,
        generation: Int = 0, network: Int? = nil
    ) {
        self.foundation = foundation
        self.component = component
        self.transport = transport
        self.priority = priority
        self.address = address
        self.port = port
        self.type = type
        self.relatedAddress = relatedAddress
        self.relatedPort = relatedPort
        self.tcpType = tcpType
        self.generation = generation
        self.network = network
    }
}

extension ICECandidate {
    /// The value of an SDP `a=` line: `candidate:<foundation> <component> <transport> <priority> <address>
    /// <port> typ <type> [raddr <addr> rport <port>] [tcptype <t>] [generation <n>] [network-id <n>]`.
    public var sdpAttributeValue: String {
        var s = "candidate:\(foundation) \(component) \(transport == .udp ? "UDP" : "TCP") \(priority) "
        s += "\(address) \(port) typ \(type.rawValue)"
        if let relatedAddress {
            // RFC 8839 §5.1: rel-addr and rel-port come together.
            s += " raddr \(relatedAddress) rport \(relatedPort ?? 9)"
        } else if let relatedPort {
            s += " raddr \(address.contains(":") ? "::" : "0.0.0.0") rport \(relatedPort)"
        }
        if let tcpType { s += " tcptype \(tcpType.rawValue)" }
        if generation != 0 { s += " generation \(generation)" }
        if let network { s += " network-id \(network)" }
        return s
    }

    /// Parses `a=candidate:…`, `candidate:…` or the bare attribute value (RFC 8839 §5.1).
    /// Unknown extension attributes are skipped, as §5.1 requires; unknown candidate types and transports
    /// are reported as `unsupported`.
    public init(sdp text: String) throws(ICEError) {
        var line = Substring(text)
        while let last = line.last, last == "\r" || last == "\n" || last == " " { line = line.dropLast() }
        if line.hasPrefix("a=") { line = line.dropFirst(2) }
        if line.lowercased().hasPrefix("candidate:") { line = line.dropFirst("candidate:".count) }
        let fields = line.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count >= 8 else { throw .invalidCandidate("expected at least 8 fields, got \(fields.count)") }

        let foundation = String(fields[0])
        guard (1...32).contains(foundation.utf8.count), foundation.utf8.allSatisfy(ICEGrammar.isICEChar) else {
            throw .invalidCandidate("foundation must be 1 to 32 ice-chars")
        }
        guard fields[1].utf8.count <= 3, let component = Int(fields[1]), (1...256).contains(component) else {
            throw .invalidCandidate("component-id must be 1 to 256")
        }
        let transport: Transport
        switch fields[2].uppercased() {
        case "UDP": transport = .udp
        case "TCP": transport = .tcp
        case "": throw .invalidCandidate("empty transport")
        default: throw .unsupported("candidate transport \(fields[2])")
        }
        guard fields[3].utf8.count <= 10, fields[3].utf8.allSatisfy(Self.isDigit), let priority = UInt32(fields[3]) else {
            throw .invalidCandidate("priority must be 1 to 10 digits fitting 32 bits")
        }
        let address = String(fields[4])
        guard !address.isEmpty else { throw .invalidCandidate("empty connection-address") }
        let port = try Self.parsePort(fields[5])
        guard fields[6] == "typ" else { throw .invalidCandidate("expected \"typ\", got \"\(fields[6])\"") }
        guard let type = CandidateType(rawValue: String(fields[7])) else {
            if fields[7].isEmpty { throw .invalidCandidate("empty candidate type") }
            throw .unsupported("candidate type \(fields[7])")
        }

        var relatedAddress: String?
        var relatedPort: UInt16?
        var tcpType: TCPType?
        var generation = 0
        var network: Int?
        var index = 8
        while index < fields.count {
            let name = fields[index]
            guard index + 1 < fields.count, !name.isEmpty else {
                throw .invalidCandidate("extension \"\(name)\" without a value")
            }
            let value = fields[index + 1]
            switch name {
            case "raddr":
                guard !value.isEmpty else { throw .invalidCandidate("empty raddr") }
                relatedAddress = String(value)
            case "rport":
                relatedPort = try Self.parsePort(value)
            case "tcptype":
                guard let t = TCPType(rawValue: String(value)) else { throw .invalidCandidate("tcptype \(value)") }
                tcpType = t
            case "generation":
                guard let g = Int(value), g >= 0 else { throw .invalidCandidate("generation \(value)") }
                generation = g
            case "network-id", "network":
                guard let n = Int(value), n >= 0 else { throw .invalidCandidate("network-id \(value)") }
                network = n
            default:
                break  // RFC 8839 §5.1: unknown extensions are ignored.
            }
            index += 2
        }
        if transport == .tcp && tcpType == nil {
            throw .invalidCandidate("TCP candidate without tcptype (RFC 6544 §4.5)")
        }
        self.init(
            foundation: foundation, component: component, transport: transport, priority: priority,
            address: address, port: port, type: type, relatedAddress: relatedAddress, relatedPort: relatedPort,
            tcpType: tcpType, generation: generation, network: network)
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    private static func parsePort(_ s: Substring) throws(ICEError) -> UInt16 {
        guard !s.isEmpty, s.utf8.count <= 5, s.utf8.allSatisfy(isDigit), let port = UInt16(s) else {
            throw .invalidCandidate("port \"\(s)\" is not 0 to 65535")
        }
        return port
    }
}
