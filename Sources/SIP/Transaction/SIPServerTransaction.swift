/// Server transaction (RFC 3261 §17.2), INVITE and non-INVITE, with RFC 6026's Accepted state.
///
/// INVITE (§17.2.1, Figure 7):
/// ```
///   INVITE --pass to TU, send 100--> Proceeding
///   Proceeding --TU 1xx--> send;  --TU 2xx--> Accepted (Timer L);  --TU 300-699--> Completed (G, H)
///   Proceeding --INVITE again--> resend last provisional
///   Completed --INVITE again / Timer G--> resend final (G = min(2G, T2));  --ACK--> Confirmed (Timer I)
///   Completed --Timer H--> Terminated (timeout);  Confirmed --Timer I--> Terminated
///   Accepted --INVITE again--> absorbed;  --TU 2xx--> send;  --Timer L--> Terminated
/// ```
/// non-INVITE (§17.2.2, Figure 8):
/// ```
///   request --pass to TU--> Trying --TU 1xx--> Proceeding --TU final--> Completed (Timer J) --J--> Terminated
///   Proceeding/Completed --request again--> resend last response
/// ```
public struct SIPServerTransaction: Sendable {
    public enum State: Sendable, Equatable {
        case trying, proceeding, completed, confirmed, accepted, terminated
    }

    public let request: SIPMessage
    public let key: SIPTransactionKey
    public let isInvite: Bool
    public let reliable: Bool
    public let timers: SIPTimerSettings
    public private(set) var state: State
    public private(set) var lastResponse: SIPMessage?
    private var retransmitInterval: Duration

    /// Creates the transaction for a new request. INVITE gets an immediate 100 Trying (§17.2.1: the
    /// TU is not known to answer within 200 ms).
    public static func start(request: SIPMessage, reliable: Bool, timers: SIPTimerSettings = SIPTimerSettings(),
                             now: Duration) throws(SIPParseError) -> (SIPServerTransaction, [SIPTransactionAction]) {
        var transaction = SIPServerTransaction(request: request, key: try .server(request: request), reliable: reliable, timers: timers)
        var actions: [SIPTransactionAction] = []
        if transaction.isInvite {
            // The 100 goes first: a TU that answers at once (415, 420, 481 …) must not be followed by it.
            let trying = SIPMakeResponse(to: request, status: 100)
            transaction.lastResponse = trying
            actions.append(.send(trying))
        }
        actions.append(.passToTU(request))
        return (transaction, actions)
    }

    private init(request: SIPMessage, key: SIPTransactionKey, reliable: Bool, timers: SIPTimerSettings) {
        self.request = request
        self.key = key
        self.isInvite = request.method == .invite
        self.reliable = reliable
        self.timers = timers
        self.state = isInvite ? .proceeding : .trying
        self.retransmitInterval = timers.t1
    }

    /// A request matched to this transaction: a retransmission, or the ACK of a non-2xx final.
    public mutating func receiveRequest(_ message: SIPMessage, now: Duration) -> [SIPTransactionAction] {
        if message.method == .ack {
            guard isInvite, state == .completed else { return [] }
            state = .confirmed
            var actions: [SIPTransactionAction] = [.cancelTimer(.g), .cancelTimer(.h)]
            if reliable {
                state = .terminated
                actions.append(.terminated)
            } else {
                actions.append(.startTimer(.i, at: now + timers.t4))
            }
            return actions
        }
        switch state {
        case .proceeding, .completed:
            return lastResponse.map { [.send($0)] } ?? []
        case .trying, .confirmed, .accepted, .terminated:
            return []
        }
    }

    /// The TU responds.
    public mutating func sendResponse(_ response: SIPMessage, now: Duration) -> [SIPTransactionAction] {
        guard let code = response.statusCode else { return [] }
        switch state {
        case .trying, .proceeding:
            lastResponse = response
            if code < 200 {
                state = .proceeding
                return [.send(response)]
            }
            if isInvite && code < 300 {
                state = .accepted
                return [.send(response), .startTimer(.l, at: now + timers.transactionTimeout)]
            }
            state = .completed
            var actions: [SIPTransactionAction] = [.send(response)]
            if isInvite {
                if !reliable { actions.append(.startTimer(.g, at: now + timers.t1)) }
                actions.append(.startTimer(.h, at: now + timers.transactionTimeout))
            } else if reliable {
                state = .terminated
                actions.append(.terminated)
            } else {
                actions.append(.startTimer(.j, at: now + timers.transactionTimeout))
            }
            return actions
        case .accepted:
            // RFC 6026 §7.1: the TU's 2xx retransmissions go out through the transaction.
            return (200..<300).contains(code) ? [.send(response)] : []
        case .completed, .confirmed, .terminated:
            return []
        }
    }

    public mutating func timerFired(_ timer: SIPTransactionTimer, now: Duration) -> [SIPTransactionAction] {
        switch (timer, state) {
        case (.g, .completed):
            retransmitInterval = min(retransmitInterval * 2, timers.t2)
            return (lastResponse.map { [.send($0)] } ?? []) + [.startTimer(.g, at: now + retransmitInterval)]
        case (.h, .completed):
            state = .terminated
            return [.cancelTimer(.g), .timeout, .terminated]
        case (.i, .confirmed), (.j, .completed), (.l, .accepted):
            state = .terminated
            return [.terminated]
        default:
            return []
        }
    }

    /// §17.2.4: a failure sending a response ends the transaction.
    public mutating func transportError() -> [SIPTransactionAction] {
        guard state != .terminated else { return [] }
        state = .terminated
        return [.timeout, .terminated]
    }
}
