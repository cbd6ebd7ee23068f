#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import SIP
import XMPPCore
import XMPPLink

/// Everything `jingle gateway` needs to bring a gateway up from command-line values: the SIP endpoint, the
/// XMPP side (an XEP-0114 component or a client account) and the gateway itself.
public struct GatewayLauncher: Sendable {
    public enum XMPPSide: Sendable {
        /// XEP-0114: `domain` (e.g. `jingle.localhost`), shared secret, server component port.
        case component(domain: String, secret: String, host: String, port: Int)
        /// A client account: full or bare JID, password, optional server host/port, optional CA file for TLS,
        /// and whether the server takes TLS from the first byte (XEP-0368) instead of STARTTLS.
        case client(jid: String, password: String, host: String?, port: Int?, caFile: String?, directTLS: Bool = false)
    }

    public enum MediaMode: String, Sendable, CaseIterable {
        /// Signalling only: media flows end to end between the parties.
        case passthrough
        /// The gateway terminates ICE + DTLS-SRTP on the Jingle leg and plain RTP on the SIP leg, and relays.
        case anchored
    }

    public var sip: SIPEndpoint.Configuration
    public var xmpp: XMPPSide
    public var rules: [GatewayAddressMap.Rule]
    public var reverseRules: [GatewayAddressMap.Rule]
    public var media: MediaMode
    public var candidateWait: Duration
    /// Anchored mode: the address for the Jingle leg's ICE candidates and the SIP leg's RTP port; nil means
    /// the SIP listener's host.
    public var mediaAddress: String?
    /// Register the gateway's SIP contact with a registrar (a PBX extension or SIP account), so that calls to
    /// that address of record reach it. Credentials go in `sip.credentials`.
    public var registration: Registration?
    /// How often the XMPP link pings the server (XEP-0199); an unanswered ping drops the connection and the link
    /// reconnects, so a connection that died silently costs at most about twice this.
    public var keepAliveInterval: Duration = .seconds(30)

    public struct Registration: Sendable {
        /// The address of record, e.g. `sip:1001@pbx.example.com`.
        public var aor: SIPURI
        /// Where REGISTERs go; the address of record's host (and port) when nil.
        public var registrar: SIPURI?
        public var expires: Int

        public init(aor: SIPURI, registrar: SIPURI? = nil, expires: Int = 3600) {
            self.aor = aor
            self.registrar = registrar
            self.expires = expires
        }

        /// §10.2: the registrar's URI has no user part.
        var registrarURI: SIPURI {
            if let registrar { return registrar }
            var uri = aor
            uri.user = nil
            uri.parameters = []
            uri.headers = []
            return uri
        }
    }

    public init(sip: SIPEndpoint.Configuration, xmpp: XMPPSide, rules: [GatewayAddressMap.Rule], reverseRules: [GatewayAddressMap.Rule] = [],
                media: MediaMode = .passthrough, candidateWait: Duration = .milliseconds(200), mediaAddress: String? = nil) {
        self.mediaAddress = mediaAddress
        self.sip = sip
        self.xmpp = xmpp
        self.rules = rules
        self.reverseRules = reverseRules
        self.media = media
        self.candidateWait = candidateWait
    }

    /// Connects both sides and starts the gateway. The SIP endpoint leaves re-INVITEs to the gateway (hold
    /// translation), whatever `sip.answerReinvitesAutomatically` says.
    public func start(logger: Logger = Logger(label: "swiftjingle.gateway")) async throws -> SIPGateway {
        var sip = sip
        sip.answerReinvitesAutomatically = false
        let mediaHost = mediaAddress ?? sip.host
        if media == .anchored, ["0.0.0.0", "::", ""].contains(mediaHost) {
            // c= and the ICE host candidates need an address the parties can reach, not a wildcard.
            throw GatewayError.invalidConfiguration("--media anchored with SIP on \(sip.host) needs --media-address IP")
        }
        let link: any XMPPSession
        let local: JID
        switch xmpp {
        case .component(let domain, let secret, let host, let port):
            let jid = try JID(domain)
            // A gateway runs for months: it must come back when the server restarts.
            var configuration = XMPPComponent.Configuration(domain: jid, secret: secret, host: host, port: port)
            configuration.reconnect = true
            configuration.keepAliveInterval = keepAliveInterval
            let component = XMPPComponent(configuration, logger: logger)
            try await component.connect()
            link = component
            local = jid
        case .client(let jidText, let password, let host, let port, let caFile, let directTLS):
            var configuration = XMPPClientConfiguration(jid: try JID(jidText), password: password, host: host, port: port)
            if let caFile { configuration.trust = .caFile(caFile) }
            if directTLS { configuration.tls = .direct }
            configuration.reconnect = true
            configuration.keepAliveInterval = keepAliveInterval
            let client = XMPPClient(configuration, logger: logger)
            local = try await client.connect()
            link = client
        }
        let endpoint = try await SIPEndpoint.start(sip, logger: logger)
        let gateway = SIPGateway(sip: endpoint, xmpp: link, localJID: local,
                                 configuration: .init(addressMap: GatewayAddressMap(rules: rules, reverseRules: reverseRules),
                                                      candidateWait: candidateWait, media: media,
                                                      iceAddresses: [mediaHost], rtpHost: mediaHost),
                                 logger: logger)
        await gateway.start()
        if let registration {
            do {
                try await endpoint.register(at: registration.registrarURI, aor: registration.aor, expires: registration.expires)
            } catch {
                await gateway.shutdown()
                throw GatewayError.invalidConfiguration("cannot register \(registration.aor): \(error)")
            }
        }
        return gateway
    }
}
