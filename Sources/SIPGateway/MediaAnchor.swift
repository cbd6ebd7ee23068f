import DTLS
import ICE
import struct Jingle.JingleContent
import enum JingleEngine.TransportMapping
import Logging
import Media
import SDP
import SRTP

/// One anchored call's media (`--media anchored`): an ICE agent and a DTLS certificate for the Jingle leg,
/// a UDP RTP/RTCP port pair for the SIP leg, and the `SecureToPlainRelay` between them once both
/// descriptions are known. Each call has its own; nothing is shared between calls.
actor MediaAnchor {
    let link: ICEMediaLink
    let certificate: DTLSCertificate
    let port: PlainRTPPort
    let credentials: ICECredentials
    let candidates: [ICECandidate]
    private var relay: SecureToPlainRelay?
    private var stopped = false
    /// Candidates the Jingle party trickled (transport-info) after its description, before `run` applied it.
    private var trickled: [ICECandidate] = []
    private var trickledEnd = false
    private var remoteApplied = false
    /// The Jingle party's ufrag once `run` has it: trickled transports with another one are skipped.
    private var peerUfrag: String?

    private init(link: ICEMediaLink, certificate: DTLSCertificate, port: PlainRTPPort, credentials: ICECredentials, candidates: [ICECandidate]) {
        self.link = link
        self.certificate = certificate
        self.port = port
        self.credentials = credentials
        self.candidates = candidates
    }

    /// Creates the agent (controlling when the gateway initiates the Jingle session, RFC 8445 §6.1.1), gathers
    /// its candidates, generates the certificate and binds the SIP-leg port on `plainHost`.
    static func prepare(controlling: Bool, iceAddresses: [String], plainHost: String) async throws -> MediaAnchor {
        var configuration = ICEConfiguration(role: controlling ? .controlling : .controlled)
        configuration.localAddresses = iceAddresses
        let certificate = try DTLSCertificate.generate()
        let port = try PlainRTPPort(host: plainHost)
        let link: ICEMediaLink
        do {
            link = try await ICEMediaLink(configuration: configuration)
        } catch {
            port.close()
            throw error
        }
        do {
            let gathered = try await link.gatherAll()
            return MediaAnchor(link: link, certificate: certificate, port: port, credentials: gathered.credentials, candidates: gathered.candidates)
        } catch {
            port.close()
            await link.close()
            throw error
        }
    }

    nonisolated func secureLocal(setup: SDPSetupRole) -> AnchoredSDP.SecureLocal {
        AnchoredSDP.SecureLocal(credentials: credentials, candidates: candidates, fingerprint: certificate.fingerprint(), setup: setup)
    }

    nonisolated func plainLocal(rtcpMux: Bool, crypto: SDESCryptoAttribute?) -> AnchoredSDP.PlainLocal {
        AnchoredSDP.PlainLocal(host: port.host, port: port.rtpPort, rtcpMux: rtcpMux, crypto: crypto)
    }

    /// Sets the relay up with both peers' parameters, runs ICE to a working pair and starts DTLS-SRTP.
    /// Returns once ICE is connected; keys and packets follow on the relay's own queue.
    func run(secure peer: AnchoredSDP.SecurePeer, role: DTLSRole, plain: PlainLegPeer, keying: PlainLegKeying,
             timeout: Duration, logger: Logger) async throws {
        guard !stopped, relay == nil else { return }
        let relay = try SecureToPlainRelay(secure: link.transport, certificate: certificate, remoteFingerprint: peer.fingerprint, role: role,
                                           plain: port, peer: plain, plainKeying: keying, logger: logger)
        self.relay = relay
        // A Jingle party that trickles (no end-of-candidates yet) may still send the candidates that work,
        // so ICE must not give up on the first ones; `timeout` then bounds the attempt.
        peerUfrag = peer.credentials.ufrag
        let early = trickled
        trickled = []
        try await link.setRemote(credentials: peer.credentials, candidates: peer.candidates + early, complete: peer.endOfCandidates || trickledEnd)
        remoteApplied = true
        if !trickled.isEmpty || (trickledEnd && !peer.endOfCandidates) {
            let late = trickled
            trickled = []
            try await link.addRemoteCandidates(late, complete: trickledEnd)
        }
        try await link.waitUntilConnected(timeout: timeout)
        guard !stopped else { return }
        relay.start()
    }

    /// Candidates from a transport-info of the Jingle party (XEP-0176 §6, RFC 8838), with its end-of-candidates.
    func trickle(_ contents: [JingleContent]) async {
        guard !stopped else { return }
        let (candidates, end) = TransportMapping.trickled(in: contents, remoteUfrag: peerUfrag)
        guard !candidates.isEmpty || end else { return }
        if !remoteApplied {
            trickled += candidates
            trickledEnd = trickledEnd || end
            return
        }
        // A refusal leaves ICE to succeed with what it has or to time out; the call's own timeout reports it.
        try? await link.addRemoteCandidates(candidates, complete: end)
    }

    /// The relay's events (nil before `run`).
    var relayEvents: AsyncStream<RelayEvent>? { relay?.events }

    var statistics: RelayStatistics { relay?.statistics ?? RelayStatistics() }

    /// Stops the relay and the agent; returns the final counters.
    func stop() async -> RelayStatistics {
        guard !stopped else { return relay?.statistics ?? RelayStatistics() }
        stopped = true
        var statistics = RelayStatistics()
        if let relay { statistics = await relay.stop() } else { port.close() }
        await link.close()
        return statistics
    }
}
