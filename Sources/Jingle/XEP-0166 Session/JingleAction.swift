import XMLStream
import XMPPCore

/// What a session machine asks its owner to do. The machine performs no I/O: the owner (an actor in
/// JingleEngine) sends the stanzas, runs the timers and hands the events to the application.
public enum JingleAction: Sendable, Hashable {
    /// Send a new request (an IQ-set) to the peer.
    case send(IQ)
    /// Answer a request from the peer (IQ result or error; XEP-0166 §7: every set is acknowledged).
    case reply(IQ)
    /// Arm a timer; call `timerFired` when it expires.
    case scheduleTimer(JingleTimer, deadline: ContinuousClock.Instant)
    /// Disarm a timer armed earlier.
    case cancelTimer(JingleTimer)
    /// Tell the application what happened in which session.
    case event(session: JingleSessionID, JingleEvent)
}

/// A session is identified by its sid together with the peer (XEP-0166 §7.1).
public struct JingleSessionID: Sendable, Hashable, CustomStringConvertible {
    public var peer: JID
    public var sid: String

    public init(peer: JID, sid: String) {
        self.peer = peer
        self.sid = sid
    }

    public var description: String { "\(peer)#\(sid)" }
}

/// A timer a session asks for, identified by session and purpose.
public struct JingleTimer: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// The peer has not acknowledged our session-initiate (XEP-0166 §6.3: it MUST ack or error).
        case sessionInitiateAck
        /// The responder has not sent session-accept or session-terminate.
        case sessionAccept
    }

    public var kind: Kind
    public var sid: String
    public var peer: JID

    public init(_ kind: Kind, sid: String, peer: JID) {
        self.kind = kind
        self.sid = sid
        self.peer = peer
    }
}

/// What happened, for the application.
public enum JingleEvent: Sendable, Hashable {
    /// The peer sent an action we accepted and acknowledged (session-initiate, session-accept, transport-info, …).
    case received(JinglePayload)
    /// The peer acknowledged a request we sent.
    case acknowledged(JingleWireAction, id: String)
    /// The peer answered a request we sent with an error.
    case requestFailed(JingleWireAction, id: String, StanzaError)
    /// The session is over; `byPeer` tells who ended it.
    case ended(JingleReason?, byPeer: Bool)
    /// Our pending content-add or transport-replace lost a tie-break and was dropped.
    case tieBreakLost(JingleWireAction, contents: [String])
}

/// Produces IQ ids and session ids; injected so the machine has no randomness of its own.
public protocol JingleIDGenerator: Sendable {
    mutating func next() -> String
}

/// `prefix-1`, `prefix-2`, …: deterministic ids (tests, or a prefix that is itself random per process).
public struct SequentialIDGenerator: JingleIDGenerator {
    public var prefix: String
    private var counter: UInt64 = 0

    public init(prefix: String) { self.prefix = prefix }

    public mutating func next() -> String {
        counter += 1
        return "\(prefix)-\(counter)"
    }
}

/// A mistake by the local application (calling a send method the protocol does not allow now). Peer
/// mistakes never throw; they are answered on the wire.
public struct JingleSessionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var action: JingleWireAction
    public var phase: JingleSession.Phase
    public var detail: String

    public var description: String { "\(action.rawValue) not allowed in \(phase): \(detail)" }
}
