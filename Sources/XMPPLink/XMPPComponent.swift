#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import XMLStream
import XMPPCore

/// An external component (XEP-0114): connects to a server's component port and authenticates with
/// `hex(SHA-1(stream id + secret))`. Stanzas to the component's domain (and its subdomains' users) arrive here.
public final class XMPPComponent: XMPPLinkSession, XMPPSession, @unchecked Sendable {
    public struct Configuration: Sendable {
        public var domain: JID
        public var secret: String
        public var host: String
        public var port: Int
        public var connectTimeout: Duration = .seconds(5)
        public var limits: XMLStreamLimits = .default
        public var identity = DiscoInfo.Identity(category: "component", type: "generic", name: "SwiftJingle")
        /// Connect and hand-shake again when the link is lost (a server restart), as
        /// ``XMPPClientConfiguration/reconnect`` does for clients; a refused handshake ends the link.
        public var reconnect = false
        /// XEP-0199 pings to the server at this interval; one left unanswered drops the connection (and, with
        /// `reconnect`, starts a new one), so a link that died silently does not go unnoticed for many minutes.
        public var keepAliveInterval: Duration?

        public init(domain: JID, secret: String, host: String, port: Int) {
            self.domain = domain
            self.secret = secret
            self.host = host
            self.port = port
        }
    }

    public let configuration: Configuration

    public init(_ configuration: Configuration, logger: Logger = Logger(label: "xmpp.component")) {
        self.configuration = configuration
        super.init(core: XMPPLinkCore(kind: .component(configuration), identity: configuration.identity, logger: logger))
    }

    /// Connects and performs the handshake; a wrong secret throws `XMPPLinkError.handshakeRefused`.
    public func connect() async throws {
        _ = try await core.establishComponent(configuration)
        if let interval = configuration.keepAliveInterval {
            await core.startKeepAlive(every: interval, to: try Self.serverDomain(of: configuration.domain))
        }
    }

    /// Where a component's keep-alive pings go: the domain it is a subdomain of (`jingle.example.org` pings
    /// `example.org`), as components usually are; any answer, even an error, shows the link is alive.
    static func serverDomain(of domain: JID) throws -> JID {
        let labels = domain.domainpart.split(separator: ".")
        return labels.count > 1 ? try JID(labels.dropFirst().joined(separator: ".")) : domain
    }

    public func discoInfo(of jid: JID, node: String? = nil) async throws -> DiscoInfo {
        try await XMPPLinkCore.discoInfo(session: self, of: jid, node: node)
    }
}
