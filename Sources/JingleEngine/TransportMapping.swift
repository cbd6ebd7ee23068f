import DTLS
import ICE
import Jingle
import JingleSDP

/// Mapping between the ICE layer's candidates and XEP-0176's `<candidate/>`, and between the DTLS layer's
/// fingerprints and XEP-0320's `<fingerprint/>`. The lower layers know nothing of Jingle (ARCHITECTURE:
/// ICE exposes only Swift types); this is the one place that translates.
public enum TransportMapping {
    /// XEP-0176 §5: an ICE candidate as a `<candidate/>`. `id` must be unique within the session.
    public static func jingleCandidate(_ c: ICE.ICECandidate, id: String) -> Jingle.ICECandidate {
        Jingle.ICECandidate(component: UInt16(clamping: c.component), foundation: c.foundation, generation: UInt32(clamping: c.generation),
                            id: id, ip: c.address, network: c.network.map { UInt32(clamping: $0) }, port: c.port,
                            priority: c.priority, protocol: c.transport.rawValue, type: jingleType(c.type),
                            relAddr: c.relatedAddress, relPort: c.relatedPort)
    }

    /// A `<candidate/>` for the ICE agent. TCP candidates (XEP-0176 defines UDP only) and unknown protocols
    /// give nil.
    public static func iceCandidate(_ c: Jingle.ICECandidate) -> ICE.ICECandidate? {
        guard c.protocol.lowercased() == "udp" else { return nil }
        var candidate = ICE.ICECandidate(foundation: c.foundation, component: Int(c.component), transport: .udp, priority: c.priority,
                                         address: c.ip, port: c.port, type: iceType(c.type))
        candidate.relatedAddress = c.relAddr
        candidate.relatedPort = c.relPort
        candidate.generation = Int(c.generation)
        candidate.network = c.network.map(Int.init)
        return candidate
    }

    static func jingleType(_ t: ICE.ICECandidate.CandidateType) -> ICECandidateType {
        switch t {
        case .host: .host
        case .srflx: .srflx
        case .prflx: .prflx
        case .relay: .relay
        }
    }

    static func iceType(_ t: ICECandidateType) -> ICE.ICECandidate.CandidateType {
        switch t {
        case .host: .host
        case .srflx: .srflx
        case .prflx: .prflx
        case .relay: .relay
        }
    }

    /// XEP-0320: our certificate's fingerprint with the setup role we offer or answer.
    /// The usable candidates (component 1, UDP) and whether `<end-of-candidates/>` (our SDP-mapping
    /// extension) came, in a transport-info's ICE-UDP transports (XEP-0176 §6, RFC 8838). Transports whose
    /// ufrag differs from `remoteUfrag` belong to another ICE generation (a restart) and are skipped.
    public static func trickled(in contents: [JingleContent], remoteUfrag: String? = nil) -> (candidates: [ICE.ICECandidate], end: Bool) {
        var candidates: [ICE.ICECandidate] = []
        var end = false
        for content in contents {
            guard let transport = content.transport as? ICEUDPTransport else { continue }
            if let ufrag = transport.ufrag, let remoteUfrag, ufrag != remoteUfrag { continue }
            candidates += transport.candidates.compactMap(iceCandidate).filter { $0.component == 1 && $0.transport == .udp }
            end = end || transport.extensions.contains { $0.name == "end-of-candidates" && $0.namespace == SDPMappingExtension.namespace }
        }
        return (candidates, end)
    }

    public static func jingleFingerprint(_ f: DTLS.DTLSFingerprint, setup: DTLSSetup) -> Jingle.DTLSFingerprint {
        Jingle.DTLSFingerprint(hash: f.algorithm, setup: setup, value: f.value)
    }

    /// The peer's fingerprint for the DTLS layer; nil when the hash is not one we can check.
    public static func dtlsFingerprint(_ f: Jingle.DTLSFingerprint) -> DTLS.DTLSFingerprint? {
        try? DTLS.DTLSFingerprint(algorithm: f.hash, value: f.value)
    }

    /// RFC 5763 §5 / XEP-0320 §3: which DTLS role we take, given our setup attribute and the peer's.
    /// The offerer says `actpass`; the answerer picks `active` (DTLS client) or `passive` (server).
    public static func dtlsRole(local: DTLSSetup, remote: DTLSSetup) -> DTLSRole? {
        switch (local, remote) {
        case (.active, .passive), (.active, .actpass): .client
        case (.passive, .active), (.actpass, .active): .server
        case (.actpass, .passive): .client
        case (.passive, .actpass): .server
        default: nil
        }
    }
}
