/// Everything the ICE layer can report as a failure. Peer data that does not parse, calls made in the
/// wrong order and refusals by libnice each have their own case, so callers can map them to signalling
/// errors (for example a Jingle `<bad-request/>` for an unparsable candidate).
public enum ICEError: Error, Sendable, Hashable {
    /// A candidate line or candidate value that breaks the grammar of RFC 8839 §5.1.
    case invalidCandidate(String)
    /// ufrag/pwd outside RFC 8839 §5.4 (ufrag 4–256, pwd 22–256 ice-chars).
    case invalidCredentials(String)
    /// An address that is not an IPv4/IPv6 literal where libnice needs one (STUN/TURN servers, local addresses).
    case invalidAddress(String)
    /// A configuration value libnice cannot use (component count, port range, …).
    case invalidConfiguration(String)
    /// The stream id does not name a stream of this agent.
    case unknownStream(Int)
    /// The component id is outside 1…components of the stream.
    case unknownComponent(stream: Int, component: Int)
    /// libnice refused an operation; the text names the call.
    case operationFailed(String)
    /// Candidate gathering could not start (no host candidate could be allocated on the requested addresses/ports).
    case gatheringFailed(stream: Int)
    /// Sending before the component has a selected pair (ICE not connected yet).
    case notConnected(stream: Int, component: Int)
    /// Reliable (pseudo-TCP) mode only: the send buffer is full; wait for `ICEEvent.writable`.
    case wouldBlock
    /// The datagram could not be sent (socket error, TURN-TCP connection lost, …).
    case sendFailed(stream: Int, component: Int)
    /// The agent has been closed; no further calls are possible.
    case closed
    /// A feature this layer does not implement (e.g. FQDN/mDNS candidates, non-RFC 5245 dialects).
    case unsupported(String)
}
