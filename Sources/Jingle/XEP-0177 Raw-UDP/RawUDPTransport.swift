import XMLStream
import XMPPCore

/// `<transport xmlns='urn:xmpp:jingle:transports:raw-udp:1'/>` (XEP-0177 §4): plain UDP candidates, no ICE.
public struct RawUDPTransport: JingleTransportMethod, Hashable {
    public static let namespace = NS.jingleRawUDP
    public static let section = "XEP-0177 §4"

    public var candidates: [RawUDPCandidate]
    public var extraAttributes: [XMLAttribute]
    public var extensions: [XMLElement]
    var layout = SourceLayout()

    public init(candidates: [RawUDPCandidate] = [], extraAttributes: [XMLAttribute] = [], extensions: [XMLElement] = []) {
        self.candidates = candidates
        self.extraAttributes = extraAttributes
        self.extensions = extensions
    }

    public init(element: XMLElement) throws(JingleParseError) {
        var r = try ElementReader(element, name: "transport", namespace: NS.jingleRawUDP, section: Self.section)
        var c: [RawUDPCandidate] = []
        for e in r.children("candidate", namespace: NS.jingleRawUDP) { c.append(try RawUDPCandidate(element: e)) }
        candidates = c
        extraAttributes = r.remainingAttributes
        extensions = r.remainingChildren
        layout = r.layout
    }

    public func element() -> XMLElement {
        var e = XMLElement(name: "transport", namespace: NS.jingleRawUDP)
        for c in candidates { e.append(c.element()) }
        e.finish(extraAttributes: extraAttributes, extensions: extensions, layout: layout)
        return e
    }
}

/// `<candidate component generation id ip port type?/>` (XEP-0177 §4).
public struct RawUDPCandidate: Sendable, Hashable {
    public var component: UInt16
    public var generation: UInt32
    public var id: String
    public var ip: String
    public var port: UInt16
    /// XEP-0177 §4 allows only `host` here; optional.
    public var type: String?
    /// Attributes no codec here understands, written back unchanged.
    public var extraAttributes: [XMLAttribute] = []
    var layout = SourceLayout()

    public init(component: UInt16, generation: UInt32 = 0, id: String, ip: String, port: UInt16, type: String? = nil) {
        self.component = component
        self.generation = generation
        self.id = id
        self.ip = ip
        self.port = port
        self.type = type
    }

    init(element: XMLElement) throws(JingleParseError) {
        var r = ElementReader(element, section: RawUDPTransport.section)
        component = try r.required("component", as: UInt16.self)
        generation = try r.required("generation", as: UInt32.self)
        id = try r.required("id")
        ip = try r.required("ip")
        port = try r.required("port", as: UInt16.self)
        type = r.optional("type")
        extraAttributes = r.remainingAttributes
        layout = r.layout
    }

    func element() -> XMLElement {
        var e = XMLElement(name: "candidate", namespace: NS.jingleRawUDP)
        e.set("component", component)
        e.set("generation", generation)
        e.set("id", id)
        e.set("ip", ip)
        e.set("port", port)
        e.set("type", type)
        e.finish(extraAttributes: extraAttributes, extensions: [], layout: layout)
        return e
    }
}
