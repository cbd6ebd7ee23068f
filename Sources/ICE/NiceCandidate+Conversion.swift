internal import CNice

/// Conversions between libnice's `NiceCandidate`/`NiceAddress` and the Swift value types. Only ever
/// called on the agent's context thread (libnice hands out candidates it owns).
enum NiceConversion {
    static func string(_ address: UnsafePointer<NiceAddress>) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(INET6_ADDRSTRLEN) + 1) { buf in
            buf.initialize(repeating: 0)
            nice_address_to_string(address, buf.baseAddress)
            return String(cString: buf.baseAddress!)
        }
    }

    /// Parses an IPv4/IPv6 literal. For candidates, a name (FQDN or mDNS `.local`, RFC 8839 §5.1
    /// allows them) is `unsupported`: nothing here resolves names.
    static func address(_ literal: String, port: UInt16, candidate: Bool = false) throws(ICEError) -> NiceAddress {
        var addr = NiceAddress()
        nice_address_init(&addr)
        guard nice_address_set_from_string(&addr, literal) != 0 else {
            if candidate && literal.contains(where: { $0.isLetter && !$0.isHexDigit }) {
                throw .unsupported("FQDN candidate address \(literal)")
            }
            throw .invalidAddress(literal)
        }
        nice_address_set_port(&addr, UInt32(port))
        return addr
    }

    static func candidate(_ c: UnsafePointer<NiceCandidate>) -> ICECandidate {
        let type: ICECandidate.CandidateType
        switch c.pointee.type {
        case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE: type = .srflx
        case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE: type = .prflx
        case NICE_CANDIDATE_TYPE_RELAYED: type = .relay
        default: type = .host
        }
        var transport = ICECandidate.Transport.udp
        var tcpType: ICECandidate.TCPType?
        switch c.pointee.transport {
        case NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE: transport = .tcp; tcpType = .active
        case NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE: transport = .tcp; tcpType = .passive
        case NICE_CANDIDATE_TRANSPORT_TCP_SO: transport = .tcp; tcpType = .so
        default: break
        }
        let address = withUnsafePointer(to: c.pointee.addr) { string($0) }
        let port = withUnsafePointer(to: c.pointee.addr) { UInt16(truncatingIfNeeded: nice_address_get_port($0)) }
        var relatedAddress: String?
        var relatedPort: UInt16?
        // The base of a server-reflexive/relayed candidate is what RFC 8839 §5.1 calls rel-addr/rel-port.
        let hasBase = withUnsafePointer(to: c.pointee.base_addr) { base in
            withUnsafePointer(to: c.pointee.addr) { addr in
                nice_address_is_valid(base) != 0 && nice_address_equal(base, addr) == 0
            }
        }
        if type != .host && hasBase {
            relatedAddress = withUnsafePointer(to: c.pointee.base_addr) { string($0) }
            relatedPort = withUnsafePointer(to: c.pointee.base_addr) { UInt16(truncatingIfNeeded: nice_address_get_port($0)) }
        }
        return ICECandidate(
            foundation: String(cString: sj_nice_candidate_foundation(c)),
            component: Int(c.pointee.component_id), transport: transport, priority: c.pointee.priority,
            address: address, port: port, type: type, relatedAddress: relatedAddress, relatedPort: relatedPort,
            tcpType: tcpType)
    }

    /// A new `NiceCandidate` (free with `nice_candidate_free`) for a remote candidate.
    static func niceCandidate(_ c: ICECandidate, stream: UInt32) throws(ICEError) -> UnsafeMutablePointer<NiceCandidate> {
        let type: NiceCandidateType
        switch c.type {
        case .host: type = NICE_CANDIDATE_TYPE_HOST
        case .srflx: type = NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE
        case .prflx: type = NICE_CANDIDATE_TYPE_PEER_REFLEXIVE
        case .relay: type = NICE_CANDIDATE_TYPE_RELAYED
        }
        let transport: NiceCandidateTransport
        switch (c.transport, c.tcpType) {
        case (.udp, _): transport = NICE_CANDIDATE_TRANSPORT_UDP
        case (.tcp, .active?): transport = NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE
        case (.tcp, .passive?): transport = NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE
        case (.tcp, .so?): transport = NICE_CANDIDATE_TRANSPORT_TCP_SO
        case (.tcp, nil): throw .invalidCandidate("TCP candidate without tcptype (RFC 6544 §4.5)")
        }
        guard (1...32).contains(c.foundation.utf8.count), c.foundation.utf8.allSatisfy(ICEGrammar.isICEChar) else {
            throw .invalidCandidate("foundation must be 1 to 32 ice-chars")
        }
        let addr = try address(c.address, port: c.port, candidate: true)
        var base = NiceAddress()
        nice_address_init(&base)
        if let related = c.relatedAddress, let parsed = try? address(related, port: c.relatedPort ?? 0) {
            base = parsed
        }
        guard let n = nice_candidate_new(type) else { preconditionFailure("nice_candidate_new returned NULL") }
        n.pointee.transport = transport
        n.pointee.addr = addr
        n.pointee.base_addr = base
        n.pointee.priority = c.priority
        n.pointee.stream_id = stream
        n.pointee.component_id = UInt32(c.component)
        sj_nice_candidate_set_foundation(n, c.foundation)
        return n
    }

    static func state(_ raw: UInt32) -> ICEState {
        switch NiceComponentState(rawValue: raw) {
        case NICE_COMPONENT_STATE_GATHERING: return .gathering
        case NICE_COMPONENT_STATE_CONNECTING: return .connecting
        case NICE_COMPONENT_STATE_CONNECTED: return .connected
        case NICE_COMPONENT_STATE_READY: return .ready
        case NICE_COMPONENT_STATE_FAILED: return .failed
        default: return .disconnected
        }
    }
}
