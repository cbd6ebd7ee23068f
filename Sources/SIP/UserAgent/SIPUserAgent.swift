/// The user agent core (RFC 3261 §8, §12–§15), I/O-free: it owns the transaction and dialog
/// machines and turns messages, timer expiries and application commands into `SIPUserAgentAction`s
/// (send a message, start/cancel a timer, tell the application something). `SIPEndpoint` executes
/// the actions over SwiftNIO.
///
/// Calls, per direction:
/// ```
///   outgoing: startCall → inviting --1xx--> early --2xx (ACK sent)--> confirmed --hangUp/BYE--> ended
///             inviting/early --cancel--> CANCEL (after the first 1xx, §9.1) --487--> failed
///   incoming: INVITE → offered --ring--> offered (180) --answer--> answering (2xx retransmitted)
///             --ACK--> confirmed --BYE either way--> ended;  offered --reject/CANCEL--> ended
/// ```
public struct SIPUserAgent: Sendable {
    public let configuration: SIPUserAgentConfiguration
    /// Requests and responses that matched nothing or could not be used.
    public internal(set) var droppedMessages = 0

    var nextHandle = 1
    var calls: [SIPCallHandle: Call] = [:]
    var dialogIndex: [SIPDialogID: SIPCallHandle] = [:]
    var clients: [SIPTransactionKey: ClientEntry] = [:]
    var servers: [SIPTransactionKey: ServerEntry] = [:]
    /// RFC 7616 §3.4: the nonce count we last sent with each server nonce, so a reused nonce gets a higher
    /// count. Bounded (`nonceMemory`, oldest forgotten first): servers hand out a fresh nonce per challenge,
    /// and a long-running gateway must not keep one entry per call it ever placed.
    var nonceCounts: [String: UInt32] = [:]
    var nonceOrder: [String] = []
    static let nonceMemory = 256
    var registration: Registration?

    public static let allowedMethods: [SIPMethod] = [.invite, .ack, .bye, .cancel, .options, .info, .update]

    public init(configuration: SIPUserAgentConfiguration) {
        self.configuration = configuration
    }

    enum Purpose: Sendable {
        case invite(SIPCallHandle)
        case reinvite(SIPCallHandle)
        case cancel(SIPCallHandle)
        case bye(SIPCallHandle)
        case info(SIPCallHandle)
        /// Our session refresh (RFC 4028 §10): UPDATE or re-INVITE.
        case refresh(SIPCallHandle)
        /// Our REGISTER (RFC 3261 §10).
        case register
        /// A request nobody waits for (BYE of a surplus forked dialog).
        case discard
    }

    struct ClientEntry: Sendable {
        var transaction: SIPClientTransaction
        var destination: SIPTransportAddress
        var purpose: Purpose
        var authRetried: Bool
        var ackSent: (message: SIPMessage, destination: SIPTransportAddress)?
        /// The key the application knows this request by (the first attempt's, across auth retries).
        var originalKey: SIPTransactionKey?
    }

    struct ServerEntry: Sendable {
        var transaction: SIPServerTransaction
        var responseAddress: SIPTransportAddress
    }

    struct Call: Sendable {
        enum Direction: Sendable { case outgoing, incoming }
        enum Phase: Sendable, Equatable { case inviting, early, offered, answering, confirmed, terminating }
        let handle: SIPCallHandle
        let direction: Direction
        var phase: Phase
        var invite: SIPMessage
        var inviteKey: SIPTransactionKey
        /// Next hop of an outgoing call; where responses go for an incoming one.
        var destination: SIPTransportAddress
        var dialog: SIPDialog?
        var localTag: String
        var localSDP: String?
        var provisionalReceived = false
        var cancelPending = false
        var answer: SIPMessage?
        var answerInterval: Duration = .zero
        var endReason: SIPCallEndReason?
        /// hangUp() before the ACK for our 2xx: BYE waits for the ACK (§15).
        var byePending = false
        /// RFC 3263 §4.3: the further next hops (SRV targets) the INVITE goes to, in order, if this one fails.
        var alternateHops: [SIPTransportAddress] = []
        /// §8.1.3.4: the targets the INVITE went to, the original first, once a 3xx redirected it (to stop at a
        /// loop or after a few).
        var redirectedTo: [SIPURI] = []
        /// Remote tags of extra dialogs from a forked INVITE that we ACKed and ended (§13.2.2.4).
        var discardedTags: Set<String> = []
        /// A peer's re-INVITE waiting for the application's answer (its server transaction).
        var pendingReinvite: (key: SIPTransactionKey, request: SIPMessage)?
        /// Our own re-INVITE in progress (§14.1: one at a time; §14.2: a crossing one gets 491).
        var reinviteInProgress = false
        /// RFC 4028: the running session timer and when the session expires without a refresh.
        var sessionTimer: SessionTimer?
        var sessionExpiresAt: Duration?
        /// The peer listed UPDATE in Allow (or sent one): our refreshes use it (RFC 4028 §10).
        var peerAllowsUpdate = false
        /// 422 answers to our INVITE already followed (RFC 4028 §7.3).
        var intervalRetries = 0
        /// Our re-INVITE that got 491, waiting to be sent again (RFC 3261 §14.1), with the session's SDP at that
        /// moment; and how many times it crossed.
        var glareRetry: (entry: ClientEntry, baseline: String?)?
        var glareAttempts = 0
        /// RFC 3262: the caller requires reliable provisional responses (`Require: 100rel`).
        var reliableProvisionals = false
        /// Our reliable provisional response waiting for its PRACK, with its RSeq; the resend interval.
        var unacknowledgedProvisional: (response: SIPMessage, rseq: UInt32)?
        var provisionalInterval: Duration = .zero
        /// The RSeq of our next reliable provisional response (§3: the first is random, then +1).
        var nextRSeq: UInt32 = 1
        /// §13.3.1: the caller's INVITE carried `Expires`, and an `inviteExpiry` timer runs until the final answer.
        var inviteExpires = false
    }

    // MARK: - Public queries

    /// The dialog of a call, once one exists.
    public func dialog(of handle: SIPCallHandle) -> SIPDialog? { calls[handle]?.dialog }
    public var activeCallCount: Int { calls.count }
    public var transactionCount: Int { clients.count + servers.count }

    // MARK: - Outgoing calls

    /// Sends an INVITE with `sdp` as offer (§13.2.1). `fromUser`/`displayName` override the
    /// configured identity for this call (a gateway maps each caller to its own From); `headers`
    /// are added as given (e.g. `Recv-Info: trickle-ice`, RFC 8840 §5.1).
    /// `nextHops`: where to send the INVITE instead of the Request-URI's host, tried in order when one does not
    /// answer or answers 503 (RFC 3263 §4.3: the SRV targets ``SIPTransportAddress/srvQuery(for:defaultTransport:)``
    /// names); empty for the URI's own host and port. `route`: a preloaded route set (§8.1.2, an outbound proxy),
    /// sent as Route headers in front of the unchanged Request-URI (loose routing, §16.12).
    public mutating func startCall(to target: SIPURI, sdp: String, fromUser: String? = nil, displayName: String? = nil,
                                   headers extraHeaders: [(String, String)] = [], nextHops: [SIPTransportAddress] = [],
                                   route: [SIPURI] = [], now: Duration) throws(SIPUserAgentError) -> (SIPCallHandle, [SIPUserAgentAction]) {
        // §26.2 sips: needs TLS on every hop; only UDP and TCP are implemented.
        guard target.scheme == .sip else { throw .unsupported("sips: (TLS transport)") }
        if let transport = Self.unsupportedTransport(target) { throw .unsupported("transport=\(transport)") }
        // An INVITE without offer would need our answer in the ACK, which this core does not build.
        guard !sdp.isEmpty else { throw .unsupported("INVITE without SDP offer") }
        let handle = allocateHandle()
        let destination = nextHops.first ?? SIPTransportAddress(uri: target, defaultTransport: configuration.transport)
        let localTag = configuration.makeToken()
        var toURI = target
        toURI.headers = []
        toURI.parameters = []
        var headers = SIPHeaders()
        headers.add("Via", makeVia(transport: destination.transport))
        for hop in route { headers.add("Route", "<\(hop)>") }
        headers.add("Max-Forwards", "70")
        var from = fromURI
        if let fromUser { from.user = fromUser }
        headers.add("From", SIPNameAddress(displayName: displayName ?? configuration.displayName, uri: from,
                                           parameters: [SIPParameter("tag", localTag)]).description)
        headers.add("To", SIPNameAddress(uri: toURI).description)
        headers.add("Call-ID", "\(configuration.makeToken())@\(configuration.localHost)")
        headers.add("CSeq", SIPCSeq(1, .invite).description)
        headers.add("Contact", contact(transport: destination.transport))
        headers.add("Allow", Self.allowedMethods.map(\.rawValue).joined(separator: ", "))
        headers.add("User-Agent", configuration.userAgent)
        for (name, value) in extraHeaders { headers.add(name, value) }
        let body = Array(sdp.utf8)
        headers.add("Content-Type", "application/sdp")
        var invite = SIPMessage.request(.invite, uri: target, headers: headers, body: body)
        // RFC 4028 §7.1: ask for a session timer; the callee picks who refreshes.
        addSessionTimerHeaders(configuration.sessionTimer.map { SIPSessionExpires(seconds: $0.interval) }, toRequest: &invite)
        let key = Self.clientKey(invite)
        var call = Call(handle: handle, direction: .outgoing, phase: .inviting, invite: invite, inviteKey: key,
                        destination: destination, localTag: localTag, localSDP: sdp)
        call.alternateHops = Array(nextHops.dropFirst())
        calls[handle] = call
        return (handle, startClient(invite, destination: destination, purpose: .invite(handle), authRetried: false, now: now))
    }

    /// Cancels an outgoing call that has not been answered (§9.1). Before the first provisional
    /// response the CANCEL is held back and sent when one arrives.
    public mutating func cancel(_ handle: SIPCallHandle, now: Duration) throws(SIPUserAgentError) -> [SIPUserAgentAction] {
        guard var call = calls[handle] else { throw .unknownCall(handle) }
        guard call.direction == .outgoing, call.phase == .inviting || call.phase == .early else {
            throw .invalidState("only an unanswered outgoing call can be cancelled")
        }
        if !call.provisionalReceived {
            call.cancelPending = true
            calls[handle] = call
            return []
        }
        return sendCancel(handle, now: now)
    }

    /// Ends a call in whatever way its state calls for: CANCEL, a 603 rejection, or BYE.
    public mutating func hangUp(_ handle: SIPCallHandle, now: Duration) throws(SIPUserAgentError) -> [SIPUserAgentAction] {
        guard let call = calls[handle] else { throw .unknownCall(handle) }
        switch (call.direction, call.phase) {
        case (.outgoing, .inviting), (.outgoing, .early):
            return try cancel(handle, now: now)
        case (.incoming, .offered):
            return try reject(handle, status: 603, now: now)
        case (.incoming, .answering):
            // §15: the callee must not send BYE before the ACK arrives (or the 2xx times out).
            var call = call
            call.byePending = true
            calls[handle] = call
            return []
        case (_, .answering), (_, .confirmed):
            return sendBye(handle, reason: .localHangUp, now: now)
        case (_, .terminating), (.incoming, .inviting), (.incoming, .early), (.outgoing, .offered):
            throw .invalidState("call is already ending")
        }
    }

    /// INFO in the dialog (RFC 6086), e.g. `application/sdpfrag` for trickle ICE (RFC 8840).
    public mutating func sendInfo(_ handle: SIPCallHandle, contentType: String, body: [UInt8], infoPackage: String? = nil,
                                  now: Duration) throws(SIPUserAgentError) -> (SIPTransactionKey, [SIPUserAgentAction]) {
        guard var call = calls[handle], var dialog = call.dialog, call.phase == .confirmed || call.phase == .answering else {
            throw .invalidState("INFO needs an established dialog")
        }
        var request = dialog.makeRequest(.info, body: body, contentType: contentType)
        if let infoPackage {
            // RFC 6086 §4.2.1: an INFO of a package names it and marks its body as the package's.
            request.headers.add("Info-Package", infoPackage)
            request.headers.add("Content-Disposition", "Info-Package")
        }
        request.headers.add("User-Agent", configuration.userAgent)
        call.dialog = dialog
        calls[handle] = call
        return inDialogSend(request, call: call, purpose: .info(handle), now: now)
    }

    /// Re-INVITE with a new offer (§14.1).
    public mutating func reinvite(_ handle: SIPCallHandle, sdp: String, now: Duration) throws(SIPUserAgentError) -> (SIPTransactionKey, [SIPUserAgentAction]) {
        guard var call = calls[handle], var dialog = call.dialog, call.phase == .confirmed else {
            throw .invalidState("re-INVITE needs a confirmed dialog")
        }
        guard !call.reinviteInProgress, call.pendingReinvite == nil, call.answer == nil, call.glareRetry == nil else {
            throw .invalidState("an offer/answer exchange is already in progress (RFC 3261 §14.1)")
        }
        call.reinviteInProgress = true
        // `localSDP` stays the session's SDP until the peer accepts this offer (2xx): a refused offer must not
        // become what refreshes and automatic answers send.
        var request = dialog.makeRequest(.invite, body: Array(sdp.utf8), contentType: "application/sdp")
        call.dialog = dialog
        calls[handle] = call
        request.headers.add("Contact", contact(transport: call.destination.transport))
        sessionTimerHeaders(forReinviteOf: call, to: &request)
        return inDialogSend(request, call: call, purpose: .reinvite(handle), now: now)
    }

    // MARK: - Incoming calls

    /// 180 Ringing (creates the early dialog, §12.1.1). When the caller requires it (`Require: 100rel`), the
    /// 180 is sent reliably (RFC 3262): with RSeq, resent until the caller's PRACK; while one waits for its
    /// PRACK, another ring adds nothing.
    public mutating func ring(_ handle: SIPCallHandle, now: Duration) throws(SIPUserAgentError) -> [SIPUserAgentAction] {
        guard var call = calls[handle], call.direction == .incoming, call.phase == .offered else { throw .invalidState("no offered call") }
        var response = SIPMakeResponse(to: call.invite, status: 180, toTag: call.localTag)
        response.headers.add("Contact", contact(transport: call.destination.transport))
        if call.dialog == nil { call.dialog = try? SIPDialog(uasRequest: call.invite, response: response) }
        var timers: [SIPUserAgentAction] = []
        if call.reliableProvisionals {
            guard call.unacknowledgedProvisional == nil else { return [] }
            let rseq = call.nextRSeq
            call.nextRSeq &+= 1
            response.headers.add("Require", "100rel")
            response.headers.add("RSeq", String(rseq))
            call.unacknowledgedProvisional = (response, rseq)
            call.provisionalInterval = configuration.timers.t1
            timers = [.startTimer(.provisionalRetransmit(handle), at: now + configuration.timers.t1),
                      .startTimer(.provisionalTimeout(handle), at: now + configuration.timers.transactionTimeout)]
        }
        calls[handle] = call
        return sendServerResponse(response, key: call.inviteKey, now: now) + timers
    }

    /// 200 OK with `sdp` (§13.3.1.4); retransmitted on unreliable transports until the ACK.
    public mutating func answer(_ handle: SIPCallHandle, sdp: String, now: Duration) throws(SIPUserAgentError) -> [SIPUserAgentAction] {
        guard var call = calls[handle], call.direction == .incoming, call.phase == .offered else { throw .invalidState("no offered call") }
        var response = SIPMakeResponse(to: call.invite, status: 200, toTag: call.localTag)
        response.headers.add("Contact", contact(transport: call.destination.transport))
        response.headers.add("Allow", Self.allowedMethods.map(\.rawValue).joined(separator: ", "))
        response.headers.add("Server", configuration.userAgent)
        let granted = grantedSessionExpires(call.invite)
        addSessionTimerHeaders(granted, toResponse: &response)
        response.headers.add("Content-Type", "application/sdp")
        response.body = Array(sdp.utf8)
        var dialog: SIPDialog
        do {
            dialog = try call.dialog ?? SIPDialog(uasRequest: call.invite, response: response)
        } catch {
            throw .invalidMessage("cannot form a dialog: \(error)")
        }
        dialog.confirm()
        call.dialog = dialog
        dialogIndex[dialog.id] = handle
        call.localSDP = sdp
        call.phase = .answering
        call.answer = response
        call.answerInterval = configuration.timers.t1
        let stopTimers = finalAnswerTimers(call)
        call.unacknowledgedProvisional = nil
        calls[handle] = call
        var actions = stopTimers + sendServerResponse(response, key: call.inviteKey, now: now)
        if !call.destination.transport.isReliable {
            actions.append(.startTimer(.answerRetransmit(handle), at: now + configuration.timers.t1))
        }
        actions.append(.startTimer(.answerTimeout(handle), at: now + configuration.timers.transactionTimeout))
        return actions + runSessionTimer(handle, Self.sessionTimer(granted: granted), now: now)
    }

    /// 200 with our answer to the peer's re-INVITE or UPDATE offer (only with `answerReinvitesAutomatically` false).
    public mutating func answerReinvite(_ handle: SIPCallHandle, sdp: String, now: Duration) throws(SIPUserAgentError) -> [SIPUserAgentAction] {
        guard var call = calls[handle], let pending = call.pendingReinvite else { throw .invalidState("no re-INVITE waiting for an answer") }
        call.pendingReinvite = nil
        call.localSDP = sdp
        calls[handle] = call
        if pending.request.method == .update { return acceptUpdate(pending.request, key: pending.key, handle: handle, sdp: sdp, now: now) }
        return acceptReinvite(pending.request, key: pending.key, handle: handle, now: now)
    }

    /// A non-2xx to the peer's re-INVITE (488 Not Acceptable Here, 491 …); the session stays as it was (§14.2).
    public mutating func rejectReinvite(_ handle: SIPCallHandle, status: Int, now: Duration) throws(SIPUserAgentError) -> [SIPUserAgentAction] {
        guard var call = calls[handle], let pending = call.pendingReinvite else { throw .invalidState("no re-INVITE waiting for an answer") }
        guard (300...699).contains(status) else { throw .invalidState("reject needs a 3xx-6xx status") }
        call.pendingReinvite = nil
        calls[handle] = call
        return sendServerResponse(SIPMakeResponse(to: pending.request, status: status), key: pending.key, now: now)
    }

    /// A final non-2xx answer (486 Busy Here, 603 Decline …).
    public mutating func reject(_ handle: SIPCallHandle, status: Int, now: Duration) throws(SIPUserAgentError) -> [SIPUserAgentAction] {
        guard let call = calls[handle], call.direction == .incoming, call.phase == .offered else { throw .invalidState("no offered call") }
        guard (300...699).contains(status) else { throw .invalidState("reject needs a 3xx-6xx status") }
        let response = SIPMakeResponse(to: call.invite, status: status, toTag: call.localTag)
        var actions = sendServerResponse(response, key: call.inviteKey, now: now) + finalAnswerTimers(call)
        actions.append(.event(.ended(handle, .rejected(status: status))))
        forget(handle)
        return actions
    }

    // MARK: - Input from the network and the clock

    /// A message from the transport. `source` is the address it came from (for `received`/`rport`,
    /// RFC 3581, and for responses on stream transports).
    public mutating func receive(_ message: SIPMessage, from source: SIPTransportAddress, now: Duration) -> [SIPUserAgentAction] {
        if message.isRequest {
            var request = message
            Self.stampVia(&request.headers, source: source)
            guard let key = try? SIPTransactionKey.server(request: request) else {
                droppedMessages += 1
                return []
            }
            if servers[key] != nil {
                let accepted = servers[key]!.transaction.state == .accepted
                let actions = servers[key]!.transaction.receiveRequest(request, now: now)
                var result = translateServer(actions, key: key, now: now)
                // Some UAs reuse the INVITE branch for the 2xx ACK; it is still the TU's ACK (§13.3.1.4).
                if request.method == .ack, accepted { result += receiveACK(request, now: now) }
                return result
            }
            if request.method == .ack { return receiveACK(request, now: now) }
            let responseAddress = Self.responseAddress(for: request.headers, source: source)
            guard let (transaction, actions) = try? SIPServerTransaction.start(request: request, reliable: source.transport.isReliable,
                                                                              timers: configuration.timers, now: now) else {
                droppedMessages += 1
                return []
            }
            servers[key] = ServerEntry(transaction: transaction, responseAddress: responseAddress)
            return translateServer(actions, key: key, now: now)
        }
        guard let key = try? SIPTransactionKey.client(response: message), clients[key] != nil else {
            droppedMessages += 1
            return []
        }
        let actions = clients[key]!.transaction.receiveResponse(message, now: now)
        return translateClient(actions, key: key, now: now)
    }

    /// A message that failed to parse: answer 400 (or 505/416/513) if it was a request with enough
    /// headers to address a response (§8.2.6.2), else drop and count it.
    public mutating func receiveMalformed(_ error: SIPParseError, from source: SIPTransportAddress) -> [SIPUserAgentAction] {
        guard var response = SIPMessage.badRequest(for: error) else {
            droppedMessages += 1
            return []
        }
        droppedMessages += 1
        Self.stampVia(&response.headers, source: source)
        return [.send(response, to: Self.responseAddress(for: response.headers, source: source))]
    }

    public mutating func timerFired(_ timer: SIPUserAgentTimer, now: Duration) -> [SIPUserAgentAction] {
        switch timer {
        case .transaction(let key, let name):
            if key.isServer {
                guard servers[key] != nil else { return [] }
                let actions = servers[key]!.transaction.timerFired(name, now: now)
                return translateServer(actions, key: key, now: now)
            }
            guard clients[key] != nil else { return [] }
            let actions = clients[key]!.transaction.timerFired(name, now: now)
            return translateClient(actions, key: key, now: now)
        case .answerRetransmit(let handle):
            guard var call = calls[handle], let answer = call.answer else { return [] }
            // §13.3.1.4: T1, doubling up to T2.
            call.answerInterval = min(call.answerInterval * 2, configuration.timers.t2)
            calls[handle] = call
            return [.send(answer, to: call.destination), .startTimer(.answerRetransmit(handle), at: now + call.answerInterval)]
        case .sessionRefresh, .sessionExpiry:
            return sessionTimerFired(timer, now: now)
        case .reinviteRetry(let handle):
            return retryReinvite(handle, now: now)
        case .registrationRefresh:
            guard let current = registration, !current.unregistering else { return [] }
            return sendRegister(expires: current.requested, now: now)
        case .provisionalRetransmit(let handle):
            guard var call = calls[handle], call.phase == .offered, let pending = call.unacknowledgedProvisional else { return [] }
            // RFC 3262 §3: T1, doubling (no T2 cap), until the PRACK or 64*T1.
            call.provisionalInterval = call.provisionalInterval * 2
            calls[handle] = call
            return [.send(pending.response, to: call.destination), .startTimer(.provisionalRetransmit(handle), at: now + call.provisionalInterval)]
        case .provisionalTimeout(let handle):
            guard let call = calls[handle], call.phase == .offered, call.unacknowledgedProvisional != nil else { return [] }
            // §3: the caller never acknowledged: refuse its INVITE with a 5xx.
            var response = SIPMakeResponse(to: call.invite, status: 500, reason: "Provisional Response Not Acknowledged", toTag: call.localTag)
            response.headers.add("Server", configuration.userAgent)
            var actions = sendServerResponse(response, key: call.inviteKey, now: now) + finalAnswerTimers(call)
            actions.append(.event(.ended(handle, .rejected(status: 500))))
            forget(handle)
            return actions
        case .inviteExpiry(let handle):
            guard let call = calls[handle], call.direction == .incoming, call.phase == .offered else { return [] }
            // §13.3.1: the INVITE expired unanswered: 487, as if the caller had cancelled it.
            var response = SIPMakeResponse(to: call.invite, status: 487, toTag: call.localTag)
            response.headers.add("Server", configuration.userAgent)
            var actions = sendServerResponse(response, key: call.inviteKey, now: now) + finalAnswerTimers(call)
            actions.append(.event(.ended(handle, .expired)))
            forget(handle)
            return actions
        case .answerTimeout(let handle):
            guard var call = calls[handle], call.answer != nil else { return [] }
            // §13.3.1.4: no ACK within 64*T1 — confirm and end the session with BYE.
            call.answer = nil
            calls[handle] = call
            return [.cancelTimer(.answerRetransmit(handle))] + sendBye(handle, reason: call.byePending ? .localHangUp : .timeout, now: now)
        }
    }

    /// The transport could not reach `address` (connect or send failed): every client transaction
    /// towards it fails (§17.1.4; the TU sees 503, §8.1.3.1).
    public mutating func transportFailed(to address: SIPTransportAddress, now: Duration) -> [SIPUserAgentAction] {
        var result: [SIPUserAgentAction] = []
        for key in clients.filter({ $0.value.destination == address }).map(\.key) where clients[key] != nil {
            let actions = clients[key]!.transaction.transportError()
            result += translateClient(actions, key: key, now: now, timeoutStatus: 503)
        }
        return result
    }
}
