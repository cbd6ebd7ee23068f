/// Client transaction (RFC 3261 §17.1), INVITE and non-INVITE, with RFC 6026's Accepted state.
///
/// INVITE (§17.1.1, Figure 5):
/// ```
///   start --send INVITE, A (unreliable), B--> Calling
///   Calling   --1xx--> Proceeding                       (pass to TU)
///   Calling/Proceeding --2xx--> Accepted (Timer M)      (pass to TU; RFC 6026)
///   Calling/Proceeding --300-699--> Completed (Timer D) (send ACK, pass to TU)
///   Calling   --Timer A--> resend, A doubles
///   Calling   --Timer B--> Terminated (timeout)
///   Completed --300-699--> resend ACK;  --Timer D--> Terminated
///   Accepted  --2xx--> pass to TU;      --Timer M--> Terminated
/// ```
/// non-INVITE (§17.1.2, Figure 6):
/// ```
///   start --send, E (unreliable), F--> Trying
///   Trying/Proceeding --1xx--> Proceeding; --200-699--> Completed (Timer K)
///   Trying --Timer E--> resend, E = min(2E, T2); Proceeding --Timer E--> resend, E = T2
///   Trying/Proceeding --Timer F--> Terminated (timeout);  Completed --Timer K--> Terminated
/// ```
public struct SIPClientTransaction: Sendable {
    public enum State: Sendable, Equatable {
        case calling, trying, proceeding, completed, accepted, terminated
    }

    public let request: SIPMessage
    public let key: SIPTransactionKey
    public let isInvite: Bool
    public let reliable: Bool
    public let timers: SIPTimerSettings
    public private(set) var state: State
    private var retransmitInterval: Duration
    private var ack: SIPMessage?

    /// Creates the transaction; the returned actions send the request and start its timers.
    public static func start(request: SIPMessage, reliable: Bool, timers: SIPTimerSettings = SIPTimerSettings(),
                             now: Duration) throws(SIPParseError) -> (SIPClientTransaction, [SIPTransactionAction]) {
        let transaction = SIPClientTransaction(request: request, key: try .client(request: request), reliable: reliable, timers: timers)
        var actions: [SIPTransactionAction] = [.send(request)]
        if transaction.isInvite {
            if !reliable { actions.append(.startTimer(.a, at: now + timers.t1)) }
            actions.append(.startTimer(.b, at: now + timers.transactionTimeout))
        } else {
            if !reliable { actions.append(.startTimer(.e, at: now + timers.t1)) }
            actions.append(.startTimer(.f, at: now + timers.transactionTimeout))
        }
        return (transaction, actions)
    }

    private init(request: SIPMessage, key: SIPTransactionKey, reliable: Bool, timers: SIPTimerSettings) {
        self.request = request
        self.key = key
        self.isInvite = request.method == .invite
        self.reliable = reliable
        self.timers = timers
        self.state = isInvite ? .calling : .trying
        self.retransmitInterval = timers.t1
    }

    /// A response matched to this transaction (§17.1.3).
    public mutating func receiveResponse(_ response: SIPMessage, now: Duration) -> [SIPTransactionAction] {
        guard let code = response.statusCode else { return [] }
        if isInvite { return receiveInviteResponse(response, code: code, now: now) }
        switch state {
        case .trying, .proceeding:
            if code < 200 {
                state = .proceeding
                return [.passToTU(response)]
            }
            state = .completed
            var actions: [SIPTransactionAction] = [.passToTU(response), .cancelTimer(.e), .cancelTimer(.f)]
            if reliable {
                state = .terminated
                actions.append(.terminated)
            } else {
                actions.append(.startTimer(.k, at: now + timers.t4))
            }
            return actions
        case .completed, .terminated, .calling, .accepted:
            return []
        }
    }

    private mutating func receiveInviteResponse(_ response: SIPMessage, code: Int, now: Duration) -> [SIPTransactionAction] {
        switch state {
        case .calling, .proceeding:
            if code < 200 {
                let wasCalling = state == .calling
                state = .proceeding
                return (wasCalling ? [.cancelTimer(.a), .cancelTimer(.b)] : []) + [.passToTU(response)]
            }
            if code < 300 {
                // RFC 6026 §7.2: stay to pass retransmitted 2xx to the TU, which ACKs each.
                state = .accepted
                return [.cancelTimer(.a), .cancelTimer(.b), .passToTU(response), .startTimer(.m, at: now + timers.transactionTimeout)]
            }
            // §17.1.1.3: the transaction ACKs a non-2xx final response itself.
            let ack = makeACK(for: response)
            self.ack = ack
            state = .completed
            var actions: [SIPTransactionAction] = [.cancelTimer(.a), .cancelTimer(.b), .send(ack), .passToTU(response)]
            if reliable {
                state = .terminated
                actions.append(.terminated)
            } else {
                actions.append(.startTimer(.d, at: now + max(timers.t1 * 64, .seconds(32))))
            }
            return actions
        case .completed:
            if code >= 300, let ack { return [.send(ack)] }
            return []
        case .accepted:
            if (200..<300).contains(code) { return [.passToTU(response)] }
            return []
        case .trying, .terminated:
            return []
        }
    }

    public mutating func timerFired(_ timer: SIPTransactionTimer, now: Duration) -> [SIPTransactionAction] {
        switch (timer, state) {
        case (.a, .calling):
            // §17.1.1.2: A doubles each time (no T2 cap for INVITE).
            retransmitInterval = retransmitInterval * 2
            return [.send(request), .startTimer(.a, at: now + retransmitInterval)]
        case (.b, .calling), (.f, .trying), (.f, .proceeding):
            state = .terminated
            return [.cancelTimer(.a), .cancelTimer(.e), .timeout, .terminated]
        case (.e, .trying):
            retransmitInterval = min(retransmitInterval * 2, timers.t2)
            return [.send(request), .startTimer(.e, at: now + retransmitInterval)]
        case (.e, .proceeding):
            // §17.1.2.2: in Proceeding, retransmit every T2.
            return [.send(request), .startTimer(.e, at: now + timers.t2)]
        case (.d, .completed), (.k, .completed), (.m, .accepted):
            state = .terminated
            return [.terminated]
        default:
            return []
        }
    }

    /// §17.1.4: a transport failure ends the transaction; the TU treats it as a 503.
    public mutating func transportError() -> [SIPTransactionAction] {
        guard state != .terminated else { return [] }
        state = .terminated
        return [.timeout, .terminated]
    }

    /// §17.1.1.3 ACK for a non-2xx final response.
    func makeACK(for response: SIPMessage) -> SIPMessage {
        var headers = SIPHeaders()
        if let via = request.headers.values("Via").first { headers.add("Via", via) }
        for route in request.headers.fieldValues("Route") { headers.add("Route", route) }
        headers.add("Max-Forwards", "70")
        if let from = request.headers["From"] { headers.add("From", from) }
        if let to = response.headers["To"] { headers.add("To", to) }
        if let callID = request.headers["Call-ID"] { headers.add("Call-ID", callID) }
        let number = (try? request.cseq.number) ?? 1
        headers.add("CSeq", SIPCSeq(number, .ack).description)
        return .request(.ack, uri: request.requestURI ?? SIPURI(host: "invalid"), headers: headers)
    }
}
