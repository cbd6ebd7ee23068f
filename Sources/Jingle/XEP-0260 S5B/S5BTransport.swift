import XMLStream
import XMPPCore

/// `<transport xmlns='urn:xmpp:jingle:transports:s5b:1' sid dstaddr mode/>` (XEP-0260 §2): SOCKS5 bytestream
/// candidates and the negotiation messages sent in transport-info (§2.3–2.5).
public struct S5BTransport: JingleTransportMethod, Hashable {
    public static let namespace = NS.jingleS5B
    public static let section = "XEP-0260 §2"

    public enum Mode: String, Sendable, Hashable, CaseIterable { case tcp, udp }

    public var sid: String
    /// SHA-1 of sid + initiator + responder (XEP-0260 §2.2, XEP-0065 §5.3.2).
    public var dstaddr: String?
    /// Absent means `tcp` (XEP-0260 §2.2).
    public var mode: Mode?
    public var candidates: [S5BCandidate]
    /// `<candidate-used cid/>`: the candidate this party connected to (§2.3).
    public var candidateUsed: String?
    /// `<activated cid/>`: the proxy was activated (§2.4).
    public var activated: String?
    /// `<candidate-error/>`: no candidate worked (§2.3).
    public var candidateError: Bool
    /// `<proxy-error/>`: activating the proxy failed (§2.4).
    public var proxyError: Bool
    public var extraAttributes: [XMLAttribute]
    public var extensions: [XMLElement]
    var layout = SourceLayout()

    public init(sid: String, dstaddr: String? = nil, mode: Mode? = nil, candidates: [S5BCandidate] = [], candidateUsed: String? = nil,
                activated: String? = nil, candidateError: Bool = false, proxyError: Bool = false,
                extraAttributes: [XMLAttribute] = [], extensions: [XMLElement] = []) {
        self.sid = sid
        self.dstaddr = dstaddr
        self.mode = mode
        self.candidates = candidates
        self.candidateUsed = candidateUsed
        self.activated = activated
        self.candidateError = candidateError
        self.proxyError = proxyError
        self.extraAttributes = extraAttributes
        self.extensions = extensions
    }

    public init(element: XMLElement) throws(JingleParseError) {
        var r = try ElementReader(element, name: "transport", namespace: NS.jingleS5B, section: Self.section)
        sid = try r.required("sid")
        dstaddr = r.optional("dstaddr")
        mode = try r.optional("mode", as: Mode.self)
        var c: [S5BCandidate] = []
        for e in r.children("candidate", namespace: NS.jingleS5B) { c.append(try S5BCandidate(element: e)) }
        candidates = c
        if let e = r.child("candidate-used", namespace: NS.jingleS5B) {
            var cr = ElementReader(e, section: "XEP-0260 §2.3")
            candidateUsed = try cr.required("cid")
        } else { candidateUsed = nil }
        if let e = r.child("activated", namespace: NS.jingleS5B) {
            var cr = ElementReader(e, section: "XEP-0260 §2.4")
            activated = try cr.required("cid")
        } else { activated = nil }
        candidateError = r.child("candidate-error", namespace: NS.jingleS5B) != nil
        proxyError = r.child("proxy-error", namespace: NS.jingleS5B) != nil
        extraAttributes = r.remainingAttributes
        extensions = r.remainingChildren
        layout = r.layout
    }

    public func element() -> XMLElement {
        var e = XMLElement(name: "transport", namespace: NS.jingleS5B)
        e.set("dstaddr", dstaddr)
        e.set("mode", mode)
        e.set("sid", sid)
        for c in candidates { e.append(c.element()) }
        if let candidateUsed { e.append(XMLElement("candidate-used", namespace: NS.jingleS5B, ["cid": candidateUsed])) }
        if let activated { e.append(XMLElement("activated", namespace: NS.jingleS5B, ["cid": activated])) }
        if candidateError { e.append(XMLElement(name: "candidate-error", namespace: NS.jingleS5B)) }
        if proxyError { e.append(XMLElement(name: "proxy-error", namespace: NS.jingleS5B)) }
        e.finish(extraAttributes: extraAttributes, extensions: extensions, layout: layout)
        return e
    }
}

/// `<candidate cid host jid port priority type/>` (XEP-0260 §2.2).
public struct S5BCandidate: Sendable, Hashable {
    public enum CandidateType: String, Sendable, Hashable, CaseIterable { case assisted, direct, proxy, tunnel }

    public var cid: String
    public var host: String
    public var jid: JID
    /// Absent means 1080 (XEP-0260 §2.2).
    public var port: UInt16?
    public var priority: UInt32
    public var type: CandidateType
    /// Attributes no codec here understands, written back unchanged.
    public var extraAttributes: [XMLAttribute] = []
    var layout = SourceLayout()

    public init(cid: String, host: String, jid: JID, port: UInt16? = nil, priority: UInt32, type: CandidateType) {
        self.cid = cid
        self.host = host
        self.jid = jid
        self.port = port
        self.priority = priority
        self.type = type
    }

    init(element: XMLElement) throws(JingleParseError) {
        var r = ElementReader(element, section: S5BTransport.section)
        cid = try r.required("cid")
        host = try r.required("host")
        guard let jid = try r.optionalJID("jid") else { throw r.error(.missingAttribute("jid")) }
        self.jid = jid
        port = try r.optional("port", as: UInt16.self)
        priority = try r.required("priority", as: UInt32.self)
        type = try r.required("type", as: CandidateType.self)
        extraAttributes = r.remainingAttributes
        layout = r.layout
    }

    func element() -> XMLElement {
        var e = XMLElement(name: "candidate", namespace: NS.jingleS5B)
        e.set("cid", cid)
        e.set("host", host)
        e.set("jid", jid)
        e.set("port", port)
        e.set("priority", priority)
        e.set("type", type)
        e.finish(extraAttributes: extraAttributes, extensions: [], layout: layout)
        return e
    }
}
