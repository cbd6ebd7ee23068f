/// Identifies one stream (one media line / Jingle content) of an `ICEAgent`. libnice numbers them from 1.
public struct ICEStreamID: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public var description: String { "stream \(rawValue)" }
}

/// State of one component, as libnice tracks it (RFC 8445 §6.1.3 check-list states seen per component).
public enum ICEState: Sendable, Hashable {
    case disconnected
    case gathering
    case connecting
    /// At least one working pair; data may flow.
    case connected
    /// Nomination concluded; the selected pair is final.
    case ready
    /// Checks ended without a working pair (with trickle, only after `endOfRemoteCandidates`), or consent
    /// was lost (RFC 7675).
    case failed
}

/// What an `ICEAgent` reports, in the order libnice reported it.
public enum ICEEvent: Sendable, Hashable {
    /// A local candidate was gathered (trickle it to the peer, RFC 8838 §8).
    case localCandidate(ICECandidate, stream: ICEStreamID)
    /// Local gathering for the stream has finished (send end-of-candidates, RFC 8838 §8.2).
    case gatheringDone(stream: ICEStreamID)
    case stateChanged(stream: ICEStreamID, component: Int, state: ICEState)
    /// The pair media now flows on for this component.
    case selectedPair(stream: ICEStreamID, component: Int, local: ICECandidate, remote: ICECandidate)
    /// The component failed (also reported as `stateChanged(…, .failed)`).
    case failed(stream: ICEStreamID, component: Int)
    /// Reliable mode only: the pseudo-TCP send buffer has room again after `ICEError.wouldBlock`.
    case writable(stream: ICEStreamID, component: Int)
}
