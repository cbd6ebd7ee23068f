import XMLStream

/// A payload with an XML codec: parsed from an element, written back to one.
public protocol JingleXMLCodable: Sendable {
    init(element: XMLElement) throws(JingleParseError)
    func element() -> XMLElement
    /// The namespace of the element as it appears on the wire (the codec's, or the element's for unknown ones).
    var wireNamespace: String { get }
}

/// An application format carried in `<content><description/>` (XEP-0166 §5: RTP, file transfer, …).
public protocol JingleApplicationDescription: JingleXMLCodable {
    static var namespace: String { get }
}

/// A transport method carried in `<content><transport/>` (XEP-0166 §5: ICE-UDP, raw UDP, S5B, IBB, …).
public protocol JingleTransportMethod: JingleXMLCodable {
    static var namespace: String { get }
}

/// A security precondition carried in `<content><security/>` (XEP-0166 §7.2.7).
public protocol JingleSecurityMethod: JingleXMLCodable {
    static var namespace: String { get }
}

/// An informational payload of `session-info` (XEP-0166 §7.2.9), e.g. XEP-0167 `<ringing/>`.
public protocol JingleInfoPayload: JingleXMLCodable {
    static var namespace: String { get }
}

/// An element of a namespace no registered codec understands, kept verbatim so nothing a peer sent is lost.
public struct UnknownJinglePayload: JingleApplicationDescription, JingleTransportMethod, JingleSecurityMethod, JingleInfoPayload, Hashable {
    public static let namespace = ""
    public var xml: XMLElement
    public init(element: XMLElement) { self.xml = element }
    public func element() -> XMLElement { xml }
    public var wireNamespace: String { xml.namespace }
}

/// The codecs the engine knows, keyed by namespace (XEP-0166 §5: application, transport and security are
/// independent and pluggable). A payload whose namespace is not registered parses as `UnknownJinglePayload`;
/// the session machine uses `supports…` to refuse it where XEP-0166 says so.
public struct JingleRegistry: Sendable {
    public private(set) var descriptions: [String: any JingleApplicationDescription.Type] = [:]
    public private(set) var transports: [String: any JingleTransportMethod.Type] = [:]
    public private(set) var securityMethods: [String: any JingleSecurityMethod.Type] = [:]
    public private(set) var infoPayloads: [String: any JingleInfoPayload.Type] = [:]

    /// No codecs at all.
    public init() {}

    /// Every format this module implements: RTP (XEP-0167), file transfer (XEP-0234), ICE-UDP (XEP-0176),
    /// raw UDP (XEP-0177), SOCKS5 bytestreams (XEP-0260), in-band bytestreams (XEP-0261).
    public static let standard: JingleRegistry = {
        var r = JingleRegistry()
        r.register(description: RTPDescription.self)
        r.register(description: FileTransferDescription.self)
        r.register(transport: ICEUDPTransport.self)
        r.register(transport: RawUDPTransport.self)
        r.register(transport: S5BTransport.self)
        r.register(transport: IBBTransport.self)
        r.register(info: RTPSessionInfo.self)
        r.register(info: FileTransferInfo.self)
        return r
    }()

    public mutating func register(description type: any JingleApplicationDescription.Type) { descriptions[type.namespace] = type }
    public mutating func register(transport type: any JingleTransportMethod.Type) { transports[type.namespace] = type }
    public mutating func register(security type: any JingleSecurityMethod.Type) { securityMethods[type.namespace] = type }
    public mutating func register(info type: any JingleInfoPayload.Type) { infoPayloads[type.namespace] = type }

    public func supportsDescription(_ namespace: String) -> Bool { descriptions[namespace] != nil }
    public func supportsTransport(_ namespace: String) -> Bool { transports[namespace] != nil }
    public func supportsInfo(_ namespace: String) -> Bool { infoPayloads[namespace] != nil }

    func parseDescription(_ e: XMLElement) throws(JingleParseError) -> any JingleApplicationDescription {
        guard let type = descriptions[e.namespace] else { return UnknownJinglePayload(element: e) }
        return try type.init(element: e)
    }

    func parseTransport(_ e: XMLElement) throws(JingleParseError) -> any JingleTransportMethod {
        guard let type = transports[e.namespace] else { return UnknownJinglePayload(element: e) }
        return try type.init(element: e)
    }

    func parseSecurity(_ e: XMLElement) throws(JingleParseError) -> any JingleSecurityMethod {
        guard let type = securityMethods[e.namespace] else { return UnknownJinglePayload(element: e) }
        return try type.init(element: e)
    }

    /// An element the namespace's codec does not define (e.g. a future XEP-0167 message) is kept as unknown, so
    /// the session answers unsupported-info (XEP-0166 §7.2.9) rather than bad-request.
    func parseInfo(_ e: XMLElement) throws(JingleParseError) -> any JingleInfoPayload {
        guard let type = infoPayloads[e.namespace] else { return UnknownJinglePayload(element: e) }
        do {
            return try type.init(element: e)
        } catch where error.kind == .unexpectedElement(name: e.name, namespace: e.namespace) && error.element == e.name {
            return UnknownJinglePayload(element: e)
        }
    }
}

extension JingleApplicationDescription { public var wireNamespace: String { Self.namespace } }
extension JingleTransportMethod { public var wireNamespace: String { Self.namespace } }
extension JingleSecurityMethod { public var wireNamespace: String { Self.namespace } }
extension JingleInfoPayload { public var wireNamespace: String { Self.namespace } }
