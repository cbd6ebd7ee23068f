import XMLStream
import XMPPCore

/// `<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag pwd/>` (XEP-0176 §5), with candidates,
/// an optional `<remote-candidate/>` (§5.3, the in-use pair after ICE completes) and XEP-0320 fingerprints.
public struct ICEUDPTransport: JingleTransportMethod, Hashable {
    public static let namespace = NS.jingleICEUDP
    public static let section = "XEP-0176 §5"

    public var ufrag: String?
    public var pwd: String?
    public var candidates: [ICECandidate]
    public var remoteCandidate: ICERemoteCandidate?
    /// XEP-0320 §3: DTLS-SRTP fingerprints carried in the transport.
    public var fingerprints: [DTLSFingerprint]
    public var extraAttributes: [XMLAttribute]
    public var extensions: [XMLElement]
    var layout = SourceLayout()

    public init(ufrag: String? = nil, pwd: String? = nil, candidates: [ICECandidate] = [], remoteCandidate: ICERemoteCandidate? = nil,
                fingerprints: [DTLSFingerprint] = [], extraAttributes: [XMLAttribute] = [], extensions: [XMLElement] = []) {
        self.ufrag = ufrag
        self.pwd = pwd
        self.candidates = candidates
        self.remoteCandidate = remoteCandidate
        self.fingerprints = fingerprints
        self.extraAttributes = extraAttributes
        self.extensions = extensions
    }

    public init(element: XMLElement) throws(JingleParseError) {
        var r = try ElementReader(element, name: "transport", namespace: NS.jingleICEUDP, section: Self.section)
        ufrag = r.optional("ufrag")
        pwd = r.optional("pwd")
        // RFC 8445 §5.3: ufrag at least 4 characters, pwd at least 22 (XEP-0176 §5 refers to them).
        if let ufrag, ASCIIText.characterCount(of: ufrag, isLessThan: 4) { throw r.error(.invalidAttribute("ufrag", value: ufrag)) }
        if let pwd, ASCIIText.characterCount(of: pwd, isLessThan: 22) { throw r.error(.invalidAttribute("pwd", value: pwd)) }
        var c: [ICECandidate] = [], f: [DTLSFingerprint] = []
        var remote: ICERemoteCandidate?, seenRemote = false
        // One pass; the ranks keep the error of the former reading order (candidates, remote, fingerprints).
        var errors = ChildErrors()
        r.forEachChild { e in
            if e.is("candidate", NS.jingleICEUDP) {
                errors.append(rank: 0, to: &c) { () throws(JingleParseError) in try ICECandidate(element: e) }
            } else if e.is("remote-candidate", NS.jingleICEUDP) && !seenRemote {
                seenRemote = true
                remote = errors.read(rank: 1) { () throws(JingleParseError) in try ICERemoteCandidate(element: e) }
            } else if e.is("fingerprint", NS.jingleDTLS) {
                errors.append(rank: 2, to: &f) { () throws(JingleParseError) in try DTLSFingerprint(element: e) }
            } else {
                return false
            }
            return true
        }
        try errors.check()
        candidates = c
        remoteCandidate = remote
        fingerprints = f
        extraAttributes = r.remainingAttributes
        extensions = r.remainingChildren
        layout = r.layout
    }

    public func element() -> XMLElement {
        var e = XMLElement("transport", namespace: NS.jingleICEUDP, attributeCapacity: 2 + extraAttributes.count,
                           childCapacity: fingerprints.count + candidates.count + 1 + extensions.count)
        e.set("pwd", pwd)
        e.set("ufrag", ufrag)
        e.add(fingerprints) { $0.element() }
        e.add(candidates) { $0.element() }
        if let child = remoteCandidate?.element() { e.add(child) }
        e.finish(extraAttributes: extraAttributes, extensions: extensions, layout: layout)
        return e
    }
}

/// ICE candidate types (RFC 8445 §5.1.1, XEP-0176 §5).
public enum ICECandidateType: String, Sendable, Hashable, CaseIterable {
    case host, prflx, relay, srflx
}

/// `<candidate/>` of XEP-0176 §5 (the fields of an SDP `a=candidate` line, RFC 8839 §5.1).
public struct ICECandidate: Sendable, Hashable {
    /// 1 = RTP, 2 = RTCP (1–256).
    public var component: UInt16
    public var foundation: String
    public var generation: UInt32
    public var id: String
    public var ip: String
    public var network: UInt32?
    public var port: UInt16
    public var priority: UInt32
    /// `udp` for this transport (XEP-0176 §5).
    public var `protocol`: String
    public var type: ICECandidateType
    public var relAddr: String?
    public var relPort: UInt16?
    public var extraAttributes: [XMLAttribute]
    var layout = SourceLayout()

    public init(component: UInt16, foundation: String, generation: UInt32 = 0, id: String, ip: String, network: UInt32? = nil,
                port: UInt16, priority: UInt32, protocol: String = "udp", type: ICECandidateType,
                relAddr: String? = nil, relPort: UInt16? = nil, extraAttributes: [XMLAttribute] = []) {
        self.component = component
        self.foundation = foundation
        self.generation = generation
        self.id = id
        self.ip = ip
        self.network = network
        self.port = port
        self.priority = priority
        self.protocol = `protocol`
        self.type = type
        self.relAddr = relAddr
        self.relPort = relPort
        self.extraAttributes = extraAttributes
    }

    init(element: XMLElement) throws(JingleParseError) {
        var r = ElementReader(element, section: ICEUDPTransport.section)
        component = try r.required("component", as: UInt16.self)
        if component == 0 || component > 256 { throw r.error(.invalidAttribute("component", value: ASCIIText.decimal(component))) }
        foundation = try r.required("foundation")
        // XEP-0176 §5 makes generation and id REQUIRED, but peers that build Jingle from SDP (where generation is
        // optional, RFC 8839 §5.1) leave them out: accepted, generation 0 and an id made of what identifies the
        // candidate, so one bad attribute does not fail a call. `jingle inspect` (JingleValidator) reports both.
        generation = try r.optional("generation", as: UInt32.self) ?? 0
        let explicitID = r.optional("id")
        ip = try r.required("ip")
        network = try r.optional("network", as: UInt32.self)
        port = try r.required("port", as: UInt16.self)
        priority = try r.required("priority", as: UInt32.self)
        `protocol` = try r.required("protocol")
        type = try r.required("type", as: ICECandidateType.self)
        relAddr = r.optional("rel-addr")
        relPort = try r.optional("rel-port", as: UInt16.self)
        id = explicitID ?? "\(foundation).\(component).\(ip).\(port)"
        extraAttributes = r.remainingAttributes
        layout = r.layout
    }

    func element() -> XMLElement {
        var e = XMLElement("candidate", namespace: NS.jingleICEUDP, attributeCapacity: 12 + extraAttributes.count)
        e.set("component", component)
        e.set("foundation", foundation)
        e.set("generation", generation)
        e.set("id", id)
        e.set("ip", ip)
        e.set("network", network)
        e.set("port", port)
        e.set("priority", priority)
        e.set("protocol", `protocol`)
        e.set("rel-addr", relAddr)
        e.set("rel-port", relPort)
        e.set("type", type)
        e.finish(extraAttributes: extraAttributes, extensions: [], layout: layout)
        return e
    }
}

/// `<remote-candidate component ip port/>` (XEP-0176 §5.3: the peer's candidate of the nominated pair).
public struct ICERemoteCandidate: Sendable, Hashable {
    public var component: UInt16
    public var ip: String
    public var port: UInt16
    /// Attributes no codec here understands, written back unchanged.
    public var extraAttributes: [XMLAttribute] = []
    var layout = SourceLayout()

    public init(component: UInt16, ip: String, port: UInt16) {
        self.component = component
        self.ip = ip
        self.port = port
    }

    init(element: XMLElement) throws(JingleParseError) {
        var r = ElementReader(element, section: "XEP-0176 §5.3")
        component = try r.required("component", as: UInt16.self)
        ip = try r.required("ip")
        port = try r.required("port", as: UInt16.self)
        extraAttributes = r.remainingAttributes
        layout = r.layout
    }

    func element() -> XMLElement {
        var e = XMLElement("remote-candidate", namespace: NS.jingleICEUDP, attributeCapacity: 3 + extraAttributes.count)
        e.set("component", component)
        e.set("ip", ip)
        e.set("port", port)
        e.finish(extraAttributes: extraAttributes, extensions: [], layout: layout)
        return e
    }
}
