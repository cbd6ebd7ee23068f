/// What one call into a `DTLSConnection` produced.
public struct DTLSOutput: Sendable, Hashable {
    /// Datagrams to send to the peer, in order, each no larger than the connection's MTU.
    public var datagrams: [[UInt8]]
    /// Application data received, one element per DTLS record (DTLS keeps record boundaries).
    public var applicationData: [[UInt8]]
    /// Things that happened, in order.
    public var events: [DTLSEvent]

    public init(datagrams: [[UInt8]] = [], applicationData: [[UInt8]] = [], events: [DTLSEvent] = []) {
        self.datagrams = datagrams
        self.applicationData = applicationData
        self.events = events
    }

    /// True when this call completed the handshake and the peer's fingerprint matched.
    public var handshakeCompleted: Bool { events.contains(.handshakeCompleted) }
}

public enum DTLSEvent: Sendable, Hashable {
    /// The handshake finished and the peer's certificate matched the signalled fingerprint: application data
    /// may flow and SRTP keys may be exported.
    case handshakeCompleted
    /// The peer sent close_notify (RFC 5246 §7.2.1); our close_notify answer is in the datagrams.
    case closedByPeer
}
