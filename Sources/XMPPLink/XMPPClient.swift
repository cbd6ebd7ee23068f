#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
import DNS
import Logging
import XMLStream
import XMPPCore

/// What the Jingle engine needs from any XMPP link: a client, a component or a serverless peer link.
public protocol XMPPSession: AnyObject, Sendable {
    /// Our address on the link (full JID for a client, the domain for a component), once connected.
    var localJID: JID? { get async }
    /// Messages and presences (and any non-IQ element) from the peer, in order.
    var stanzas: AsyncStream<XMLElement> { get }
    /// Sends a stanza built in the `jabber:client` namespace.
    func send(_ stanza: XMLElement) async throws
    /// Sends an IQ get/set and waits for its result; a `type='error'` answer throws
    /// `XMPPLinkError.stanzaError`, no answer in time `XMPPLinkError.timeout`.
    func sendIQ(_ iq: IQ, timeout: Duration) async throws -> IQ
    /// `sendIQ(_:timeout:)` that calls `whenWritten` once the IQ is queued on the link (or failed to be), exactly
    /// once: a caller that waits for it before its next send keeps its IQs in order while their answers are
    /// awaited concurrently (XEP-0166 §7: a Jingle session's actions must arrive in the order they were sent).
    func sendIQ(_ iq: IQ, timeout: Duration, whenWritten: @escaping @Sendable () -> Void) async throws -> IQ
    /// Handles IQ get/set whose payload is in `namespace`; unhandled ones are answered `service-unavailable`.
    func register(iqHandler namespace: String, _ handler: @escaping IQHandler) async
    func unregisterIQHandler(namespace: String) async
    /// Adds features to the disco#info (XEP-0030) answer and the XEP-0115 caps.
    func addFeatures(_ features: [String]) async
    func removeFeatures(_ features: [String]) async
    /// What our disco#info responder answers.
    var discoInfo: DiscoInfo { get async }
    /// Asks a peer for its disco#info (XEP-0030 §3.1).
    func discoInfo(of jid: JID, node: String?) async throws -> DiscoInfo
    func close() async
}

extension XMPPSession {
    /// For links without their own ordering: reports the IQ written before sending it.
    public func sendIQ(_ iq: IQ, timeout: Duration, whenWritten: @escaping @Sendable () -> Void) async throws -> IQ {
        whenWritten()
        return try await sendIQ(iq, timeout: timeout)
    }

    /// Sends a typed stanza (`IQ`, `Message`, `Presence`).
    public func send(_ stanza: some Stanza) async throws { try await send(stanza.element) }

    /// Asks a peer for its disco#info, without a node.
    public func discoInfo(of jid: JID) async throws -> DiscoInfo { try await discoInfo(of: jid, node: nil) }
}

/// Configuration of a client-to-server connection.
public struct XMPPClientConfiguration: Sendable {
    public var jid: JID
    public var password: String
    /// Resource to request; the server picks one when nil (RFC 6120 §7.6).
    public var resource: String?
    /// Server address; when nil, `_xmpp-client._tcp` SRV is looked up, falling back to the domain.
    public var host: String?
    /// Server port; 5222 (or the SRV port) when nil.
    public var port: Int?
    public var tls: XMPPStreamMachine.TLSPolicy = .required
    public var trust: XMPPTLSTrust = .system
    public var allowPlainWithoutTLS = false
    public var streamManagement = true
    /// Reconnect and resume (XEP-0198 §5) when the TCP connection drops.
    public var resumeAfterConnectionLoss = true
    /// How long to keep trying to resume.
    public var resumeWindow: Duration = .seconds(10)
    /// Come back with a new session when the link is lost for good — a server restart (`system-shutdown`),
    /// an outage longer than the resume window, no XEP-0198: tried after a second, then at doubling
    /// intervals up to a minute, until `close()`. Stanzas sent meanwhile fail with `notConnected`. A refused
    /// login or a `conflict` (another client took the resource) still ends the link: retrying those would
    /// lock the account or push the other client out. For long-running services such as the gateway.
    public var reconnect = false
    public var connectTimeout: Duration = .seconds(5)
    /// Longest time from TCP connect to a bound (or resumed) stream.
    public var negotiationTimeout: Duration = .seconds(20)
    public var limits: XMLStreamLimits = .default
    public var sendInitialPresence = true
    /// XEP-0199 client-to-server pings at this interval.
    public var keepAliveInterval: Duration?
    public var identity = DiscoInfo.Identity(category: "client", type: "pc", name: "SwiftJingle")
    /// Called with every chunk of stream text sent and received.
    public var trace: XMPPTrace?
    /// SCRAM client nonce; random when nil (set only to replay recorded sessions).
    public var scramNonce: String?
    /// XEP-0115 node: a URI identifying this software.
    public var capsNode = "https://swiftjingle.org"
    /// SRV lookup (RFC 2782), replaceable so tests can play DNS.
    var srvLookup: @Sendable (String) -> [DNSSRV.Record] = { DNSSRV.lookup($0) }

    public init(jid: JID, password: String, resource: String? = nil, host: String? = nil, port: Int? = nil) {
        self.jid = jid
        self.password = password
        self.resource = resource ?? jid.resourcepart
        self.host = host
        self.port = port
    }

    /// The stream machine's options; `directTLS` for an endpoint reached with TLS from the first byte.
    func streamOptions(directTLS: Bool = false) -> XMPPStreamMachine.ClientOptions {
        var options = XMPPStreamMachine.ClientOptions(jid: jid, password: password, resource: resource, tls: directTLS ? .direct : tls,
                                                      allowPlainWithoutTLS: allowPlainWithoutTLS, streamManagement: streamManagement)
        if let scramNonce { options.clientNonce = scramNonce }
        return options
    }

    /// One place to try: a host and port, reached with STARTTLS or with TLS from the first byte.
    struct Endpoint: Sendable, Hashable {
        var host: String
        var port: Int
        var directTLS: Bool
    }

    /// RFC 6120 §3.2: explicit host/port, else the SRV records in order (each tried until one connects,
    /// §3.2.1), else the domain on 5222. XEP-0368: `_xmpps-client` records (direct TLS) are merged with
    /// `_xmpp-client` ones by priority, direct TLS first at equal priority; with `tls == .direct` only they
    /// count (and port 5223), with TLS disabled only `_xmpp-client`.
    func resolveEndpoints() async -> [Endpoint] {
        let direct = tls == .direct
        let defaultPort = direct ? 5223 : 5222
        if let host { return [Endpoint(host: host, port: port ?? defaultPort, directTLS: direct)] }
        if let port { return [Endpoint(host: jid.domainpart, port: port, directTLS: direct)] }
        return await resolveEndpoints(domain: jid.domainpart)
    }

    /// §3.2 for `domain`: its SRV records (both kinds, as above), else the domain itself on the default port.
    func resolveEndpoints(domain: String) async -> [Endpoint] {
        let direct = tls == .direct
        let defaultPort = direct ? 5223 : 5222
        let lookup = srvLookup
        // Each lookup blocks (up to its timeout), so they run on Dispatch threads, side by side, not on the
        // cooperative pool.
        func records(_ name: String, if wanted: Bool) async -> [DNSSRV.Record] {
            guard wanted else { return [] }
            return await withCheckedContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(returning: lookup(name + domain)) }
            }
        }
        async let plainRecords = records("_xmpp-client._tcp.", if: !direct)
        async let secureRecords = records("_xmpps-client._tcp.", if: tls != .disabled)
        let (starttls, directRecords) = await (plainRecords, secureRecords)
        let endpoints = Self.endpoints(starttls: starttls, direct: directRecords)
        // RFC 6120 §3.2.2: no SRV answer, so the domain itself on the default port.
        return endpoints.isEmpty ? [Endpoint(host: domain, port: defaultPort, directTLS: direct)] : endpoints
    }

    /// The SRV records of both kinds as one ordered list (RFC 2782: lowest priority first, then highest
    /// weight; a target of "." means the service is not offered there).
    static func endpoints(starttls: [DNSSRV.Record], direct: [DNSSRV.Record]) -> [Endpoint] {
        let tagged = direct.map { ($0, true) } + starttls.map { ($0, false) }
        return tagged.enumerated()
            .filter { $0.element.0.target != "." && !$0.element.0.target.isEmpty }
            .sorted { a, b in
                let (ra, da) = a.element, (rb, db) = b.element
                if ra.priority != rb.priority { return ra.priority < rb.priority }
                if da != db { return da }
                if ra.weight != rb.weight { return ra.weight > rb.weight }
                return a.offset < b.offset
            }
            .map { Endpoint(host: $0.element.0.target.hasSuffix(".") ? String($0.element.0.target.dropLast()) : $0.element.0.target,
                            port: $0.element.0.port, directTLS: $0.element.1) }
    }

    /// What the transport needs for direct TLS to `endpoint`.
    func directTLS(for endpoint: Endpoint) -> XMPPTransport.DirectTLS? {
        endpoint.directTLS ? XMPPTransport.DirectTLS(trust: trust, serverHostname: jid.domainpart) : nil
    }

    /// How many `<see-other-host/>` redirects one connection attempt follows before giving up: a small number,
    /// so that two servers pointing at each other cannot keep the client busy (RFC 6120 §4.9.3.19).
    static let maximumRedirects = 3

    /// Where a `<see-other-host/>` points (RFC 6120 §4.9.3.19): "domainpart" or "domainpart:port", an IPv6
    /// address in brackets. nil for anything else.
    static func redirectTarget(_ text: String) -> (host: String, port: Int?)? {
        var host = Substring(text), port: Int?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            guard host.contains(":") else { return nil }
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let number = Int(rest.dropFirst()) else { return nil }
                port = number
            }
        } else if let colon = host.lastIndex(of: ":") {
            guard let number = Int(host[host.index(after: colon)...]) else { return nil }
            port = number
            host = host[..<colon]
        }
        if let port, !(1...65535).contains(port) { return nil }
        guard !host.isEmpty, host.count <= 1023,
              host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" || $0 == "_" }) else { return nil }
        return (String(host), port)
    }

    /// The endpoints a redirect names: its host and port as given (TLS as on the connection that was
    /// redirected), or without a port the host's own SRV records (§3.2).
    func redirectEndpoints(_ target: (host: String, port: Int?), from previous: Endpoint) async -> [Endpoint] {
        if let port = target.port { return [Endpoint(host: target.host, port: port, directTLS: previous.directTLS)] }
        if DNSSRV.isIPLiteral(target.host) {
            return [Endpoint(host: target.host, port: previous.directTLS ? 5223 : 5222, directTLS: previous.directTLS)]
        }
        return await resolveEndpoints(domain: target.host)
    }

    /// Connects to the first endpoint that answers (RFC 6120 §3.2.1: on to the next record when one fails).
    func connectTransport() async throws(XMPPLinkError) -> (XMPPTransport, Endpoint) {
        try await connectTransport(to: await resolveEndpoints())
    }

    func connectTransport(to endpoints: [Endpoint]) async throws(XMPPLinkError) -> (XMPPTransport, Endpoint) {
        var failure = XMPPLinkError.connectionFailed(host: jid.domainpart, port: tls == .direct ? 5223 : 5222, reason: "no address to try")
        for endpoint in endpoints {
            do {
                let transport = try await XMPPTransport.connect(host: endpoint.host, port: endpoint.port, timeout: connectTimeout,
                                                                directTLS: directTLS(for: endpoint))
                return (transport, endpoint)
            } catch {
                failure = error
            }
        }
        throw failure
    }
}

/// An XMPP client (RFC 6120/6121): TCP, STARTTLS, SASL SCRAM, resource binding, XEP-0198, disco and caps.
///
/// ```swift
/// let client = XMPPClient(configuration)
/// let jid = try await client.connect()
/// let pong = try await client.sendIQ(IQ(type: .get, id: "p1", to: peer, payload: ping), timeout: .seconds(5))
/// ```
public final class XMPPClient: XMPPLinkSession, XMPPSession, @unchecked Sendable {
    public let configuration: XMPPClientConfiguration

    public init(_ configuration: XMPPClientConfiguration, logger: Logger = Logger(label: "xmpp.client")) {
        self.configuration = configuration
        super.init(core: XMPPLinkCore(kind: .client(configuration), identity: configuration.identity, logger: logger,
                                      trace: configuration.trace))
    }

    /// Connects, secures, authenticates and binds; returns the bound full JID. Sends initial presence
    /// with caps unless disabled. Errors are `XMPPLinkError`s.
    @discardableResult
    public func connect() async throws -> JID {
        let info = try await core.establishClient(configuration)
        if configuration.sendInitialPresence { await core.sendPresence() }
        if let interval = configuration.keepAliveInterval {
            await core.startKeepAlive(every: interval, to: try JID(configuration.jid.domainpart))
        }
        return info.jid
    }

    /// The bound full JID.
    public var boundJID: JID? { get async { await core.localJID } }
    /// The server's stream features after binding.
    public var serverFeatures: StreamFeatures? { get async { await core.established?.features } }
    /// Whether XEP-0198 is on and resumable.
    public var streamManagementResumable: Bool { get async { await core.established?.resumable ?? false } }
    /// How many lost connections were resumed.
    public var resumptionCount: Int { get async { await core.resumptions } }

    public func discoInfo(of jid: JID, node: String? = nil) async throws -> DiscoInfo {
        try await XMPPLinkCore.discoInfo(session: self, of: jid, node: node)
    }

    /// XEP-0215 §3: STUN/TURN services (with credentials) from the server, optionally of one type.
    public func externalServices(type: String? = nil, timeout: Duration = .seconds(10)) async throws -> [ExternalService] {
        let server = try JID(configuration.jid.domainpart)
        let query = XMLElement("services", namespace: NS.externalServices, ["type": type])
        let result = try await sendIQ(IQ(type: .get, id: "xs-" + UUID().uuidString, to: server, payload: query), timeout: timeout)
        guard let services = result.payload, services.name == "services" else { return [] }
        return ExternalService.parse(services: services)
    }

    /// XEP-0199 §4.1: pings `jid` (the server when nil); returns the round-trip time.
    public func ping(_ jid: JID? = nil, timeout: Duration = .seconds(10)) async throws -> Duration {
        let target = try jid ?? JID(configuration.jid.domainpart)
        let start = ContinuousClock.now
        _ = try await sendIQ(IQ(type: .get, id: "ping-" + UUID().uuidString, to: target,
                                payload: XMLElement("ping", namespace: NS.ping)), timeout: timeout)
        return ContinuousClock.now - start
    }

    /// Drops the TCP connection without closing the stream, as a network failure would (tests of XEP-0198).
    func simulateConnectionLoss() async { await core.dropConnection() }
}

/// What a quick login shows: for a command-line `connect` check.
public struct XMPPLoginReport: Sendable {
    public var boundJID: JID
    public var serverFeatures: [String]
    public var serverDisco: DiscoInfo?
    public var externalServices: [ExternalService]
    public var streamManagement: Bool
}

extension XMPPClient {
    /// Connects, gathers the bound JID, the server's stream features and disco#info and its XEP-0215
    /// services, then closes. Disco and external-service failures are reported as empty, not thrown.
    public static func probe(_ configuration: XMPPClientConfiguration) async throws -> XMPPLoginReport {
        let client = XMPPClient(configuration)
        let jid = try await client.connect()
        let features = await client.serverFeatures
        let server = try JID(configuration.jid.domainpart)
        let disco = try? await client.discoInfo(of: server)
        let services = (try? await client.externalServices()) ?? []
        let resumable = await client.streamManagementResumable
        await client.close()
        return XMPPLoginReport(boundJID: jid,
                               serverFeatures: features?.element.elements.map { "\($0.namespace) \($0.name)" } ?? [],
                               serverDisco: disco, externalServices: services, streamManagement: resumable)
    }
}

extension XMPPLinkCore {
    static func discoInfo(session: some XMPPSession, of jid: JID, node: String?) async throws -> DiscoInfo {
        let query = XMLElement("query", namespace: NS.discoInfo, ["node": node])
        let result = try await session.sendIQ(IQ(type: .get, id: "disco-" + UUID().uuidString, to: jid, payload: query),
                                              timeout: .seconds(10))
        guard let payload = result.payload, payload.name == "query", payload.namespace == NS.discoInfo else {
            throw XMPPLinkError.protocolViolation("disco#info result without <query/>")
        }
        return DiscoInfo(query: payload)
    }
}
