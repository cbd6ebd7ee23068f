/// The parsers under fuzz. Each has a property that must hold for every input (`FuzzChecker.check`), a seed
/// corpus, a dictionary of tokens for the mutator, and a largest input size.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// XMLStreamParser: same events for any chunking; every element re-parses equal after serializing.
    case xml
    /// JID: parsing the canonical form gives the same JID (idempotent canonicalisation).
    case jid
    /// SDP: parse -> serialize -> parse gives an equal model, and serializing is then stable.
    case sdp
    /// Jingle: IQ -> JinglePayload -> XML -> bytes -> XML -> JinglePayload is equal; the session manager
    /// answers every IQ-set exactly once.
    case jingle
    /// RTP and RTCP: parse -> serialize -> parse gives an equal packet.
    case rtp
    /// RFC 7983 demultiplexing, DTLSConnection.receive and SRTP unprotect on arbitrary datagrams: typed errors only.
    case datagram
    /// FileName.sanitize (XEP-0234 §13): one safe, visible, bounded path component, and idempotent.
    case filename
    /// SIP (RFC 3261): parse -> serialize -> parse gives an equal message; stream framing does not depend on
    /// chunking; the user agent core never traps on what parses.
    case sip
    /// PeerStream wire v2 and its AES-GCM packet protection (file transfer): parse -> serialize -> parse is
    /// equal, a connection's receive never traps, seal/open gives the datagram back.
    case peerstream

    public var maxInputLength: Int {
        switch self {
        case .xml, .sdp, .jingle, .sip: 16 * 1024
        case .jid: 3 * 1024
        case .rtp, .datagram, .peerstream: 2 * 1024
        case .filename: 1024
        }
    }
}

/// An input broke the target's property (a crash never gets here: it stops the process).
public struct FuzzFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var target: FuzzTarget
    public var message: String

    public init(_ target: FuzzTarget, _ message: String) {
        self.target = target
        self.message = message
    }

    public var description: String { "\(target.rawValue): \(message)" }
}
