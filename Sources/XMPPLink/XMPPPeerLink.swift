#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import XMLStream
import XMPPCore

/// A serverless XMPP stream between two entities (the XEP-0174 stream model, with the address given by
/// hand instead of DNS-SD): one side listens, the other connects, and both exchange stanzas with full
/// `from`/`to` addresses. Optional TLS with self-signed certificates pinned by SHA-256 (`XMPPPeerTLS`).
public final class XMPPPeerLink: XMPPLinkSession, XMPPSession, @unchecked Sendable {
    /// Our JID on this link.
    public let local: JID

    init(local: JID, remote: JID?, tls: XMPPPeerTLS?, initiator: Bool, logger: Logger) {
        self.local = local
        super.init(core: XMPPLinkCore(kind: .peer(local: local, remote: remote, tls: tls, initiator: initiator),
                                      identity: DiscoInfo.Identity(category: "client", type: "pc", name: "SwiftJingle"), logger: logger))
    }

    /// Connects to a listening peer and opens the stream (XEP-0174 §3.3 initiator).
    public static func connect(local: JID, remote: JID, host: String, port: Int, tls: XMPPPeerTLS? = nil,
                               timeout: Duration = .seconds(5), limits: XMLStreamLimits = .default,
                               logger: Logger = Logger(label: "xmpp.peer")) async throws -> XMPPPeerLink {
        let transport = try await XMPPTransport.connect(host: host, port: port, timeout: timeout)
        let link = XMPPPeerLink(local: local, remote: remote, tls: tls, initiator: true, logger: logger)
        _ = try await link.core.establish(role: .peer(local: local, remote: remote, initiator: true, tls: tls != nil),
                                          transport: transport, limits: limits)
        return link
    }

    /// Listens for peers on `host:port` (port 0 picks a free one).
    public static func listen(local: JID, host: String = "127.0.0.1", port: Int = 0, tls: XMPPPeerTLS? = nil) async throws -> XMPPPeerListener {
        let listener = try await XMPPTransportListener.bind(host: host, port: port)
        return XMPPPeerListener(local: local, listener: listener, tls: tls)
    }

    /// The peer's JID from its stream header.
    public var remoteJID: JID? { get async { await core.established?.remote } }
    public func discoInfo(of jid: JID, node: String? = nil) async throws -> DiscoInfo {
        try await XMPPLinkCore.discoInfo(session: self, of: jid, node: node)
    }
}

/// The listening side of a peer link.
public final class XMPPPeerListener: Sendable {
    public let local: JID
    let listener: XMPPTransportListener
    let tls: XMPPPeerTLS?

    init(local: JID, listener: XMPPTransportListener, tls: XMPPPeerTLS?) {
        self.local = local
        self.listener = listener
        self.tls = tls
    }

    /// The bound TCP port.
    public var port: Int { listener.port }

    /// Waits for the next peer and answers its stream (XEP-0174 §3.3 responder).
    public func accept(limits: XMLStreamLimits = .default, logger: Logger = Logger(label: "xmpp.peer")) async throws -> XMPPPeerLink {
        var iterator = listener.accepted.makeAsyncIterator()
        guard let transport = await iterator.next() else { throw XMPPLinkError.notConnected }
        let link = XMPPPeerLink(local: local, remote: nil, tls: tls, initiator: false, logger: logger)
        _ = try await link.core.establish(role: .peer(local: local, remote: nil, initiator: false, tls: tls != nil),
                                          transport: transport, limits: limits)
        return link
    }

    public func close() { listener.close() }
}
