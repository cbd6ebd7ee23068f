/// RFC 4028 session timers and RFC 3311 UPDATE, the parts of the user agent core that keep an
/// established call alive or end it when the other side has gone without a BYE.
///
/// Roles, per refresh:
/// ```
///   peer's INVITE / re-INVITE / UPDATE --2xx with Session-Expires;refresher=X--> X refreshes
///   refresher:      refresh (UPDATE if the peer allows it, else re-INVITE with the same SDP) at half the interval
///   the other side: BYE at the interval minus min(32 s, a third of it) when no refresh came (§10)
///   a refresh answered 408 or 481, or not at all: BYE (§10)
/// ```
extension SIPUserAgent {
    /// A call's running session timer.
    struct SessionTimer: Sendable, Equatable {
        var interval: Int
        var weRefresh: Bool
    }

    /// What a session-refresh request from the peer gets (§9).
    enum SessionTimerDecision: Sendable, Equatable {
        /// 422 Session Interval Too Small, with our Min-SE.
        case tooSmall(minimum: Int)
        /// The Session-Expires of our 2xx; nil: no timer.
        case grant(SIPSessionExpires?)
    }

    /// §9: how we answer the session timer of an INVITE, re-INVITE or UPDATE from the peer.
    func sessionTimerDecision(for request: SIPMessage) -> SessionTimerDecision {
        guard let settings = configuration.sessionTimer else { return .grant(nil) }
        let supported = request.mentionsOptionTag("timer")
        // A Session-Expires or Min-SE we cannot read counts as absent: the call is worth more than the timer.
        let requestMinimum = (try? request.minSE) ?? nil
        let floor = max(settings.minimum, requestMinimum ?? 0)
        if let asked = (try? request.sessionExpires) ?? nil {
            // A peer that supports timers can ask again with more; one that does not would just fail, so its
            // interval is raised instead (RFC 4028 errata 1687).
            if asked.seconds < settings.minimum, supported { return .tooSmall(minimum: settings.minimum) }
            // The UAS may shorten the interval, never below the request's Min-SE or ours.
            let seconds = max(floor, min(asked.seconds, max(settings.interval, floor)))
            return .grant(SIPSessionExpires(seconds: seconds, refresher: supported ? asked.refresher ?? .uac : .uas))
        }
        // The peer supports timers but asks for none: we may still ask for one, and let it refresh.
        return .grant(supported ? SIPSessionExpires(seconds: max(settings.interval, floor), refresher: .uac) : nil)
    }

    /// The timer granted in our 2xx to `request` (its 422 case was answered when it arrived).
    func grantedSessionExpires(_ request: SIPMessage) -> SIPSessionExpires? {
        if case .grant(let granted) = sessionTimerDecision(for: request) { return granted }
        return nil
    }

    /// §9: Supported: timer in our 2xx, and the granted Session-Expires (with Require: timer when the
    /// peer is to refresh).
    func addSessionTimerHeaders(_ granted: SIPSessionExpires?, toResponse response: inout SIPMessage) {
        guard configuration.sessionTimer != nil else { return }
        response.headers.add("Supported", "timer")
        guard let granted else { return }
        response.headers.add("Session-Expires", granted.description)
        if granted.refresher == .uac { response.headers.add("Require", "timer") }
    }

    /// Session-Expires, Min-SE and Supported for a request of ours that starts or refreshes a session (§7.1, §7.4).
    /// Min-SE never exceeds the interval asked for (a callee may have granted less than our minimum).
    func addSessionTimerHeaders(_ expires: SIPSessionExpires?, toRequest request: inout SIPMessage) {
        guard let settings = configuration.sessionTimer else { return }
        request.headers.add("Supported", "timer")
        if let expires { request.headers.add("Session-Expires", expires.description) }
        request.headers.add("Min-SE", String(min(settings.minimum, expires?.seconds ?? settings.minimum)))
    }

    /// §7.4: a re-INVITE of ours (hold, resume …) is a session refresh too; it keeps the running timer and its
    /// refresher, or the peer's 2xx (without Session-Expires) would end the timer.
    func sessionTimerHeaders(forReinviteOf call: Call, to request: inout SIPMessage) {
        guard let timer = call.sessionTimer else { return }
        addSessionTimerHeaders(SIPSessionExpires(seconds: timer.interval, refresher: timer.weRefresh ? .uac : .uas), toRequest: &request)
    }

    /// 422 with our Min-SE (§9).
    func sessionIntervalTooSmall(_ request: SIPMessage, minimum: Int, toTag: String?) -> SIPMessage {
        var response = SIPMakeResponse(to: request, status: 422, toTag: toTag)
        response.headers.add("Min-SE", String(minimum))
        return response
    }

    /// (Re)starts a call's session timer after a refresh succeeded (a 2xx sent or received); nil stops it:
    /// a 2xx without Session-Expires ends the timer (§7.2).
    mutating func runSessionTimer(_ handle: SIPCallHandle, _ timer: SessionTimer?, now: Duration) -> [SIPUserAgentAction] {
        guard var call = calls[handle] else { return [] }
        let wasRunning = call.sessionTimer != nil
        call.sessionTimer = timer
        call.sessionExpiresAt = timer.map { now + .seconds($0.interval) }
        calls[handle] = call
        var actions: [SIPUserAgentAction] = wasRunning ? [.cancelTimer(.sessionRefresh(handle)), .cancelTimer(.sessionExpiry(handle))] : []
        guard let timer else { return actions }
        if timer.weRefresh {
            actions.append(.startTimer(.sessionRefresh(handle), at: now + .seconds(timer.interval) / 2))
        } else {
            // §10: BYE a third of the interval or 32 seconds (whichever is less) before the session expires.
            actions.append(.startTimer(.sessionExpiry(handle), at: now + .seconds(timer.interval - min(32, timer.interval / 3))))
        }
        return actions
    }

    /// The session timer of a 2xx to a request we sent: a missing refresher means we refresh (harmless
    /// if the peer does too; the other way round would end a live call).
    static func sessionTimer(fromResponse response: SIPMessage) -> SessionTimer? {
        guard let expires = (try? response.sessionExpires) ?? nil else { return nil }
        return SessionTimer(interval: expires.seconds, weRefresh: expires.refresher != .uas)
    }

    /// The session timer of our 2xx to a request from the peer.
    static func sessionTimer(granted: SIPSessionExpires?) -> SessionTimer? {
        granted.map { SessionTimer(interval: $0.seconds, weRefresh: $0.refresher == .uas) }
    }

    /// Stops a call's session timer when the call ends.
    mutating func stopSessionTimer(_ handle: SIPCallHandle) -> [SIPUserAgentAction] {
        guard var call = calls[handle], call.sessionTimer != nil else { return [] }
        call.sessionTimer = nil
        call.sessionExpiresAt = nil
        calls[handle] = call
        return [.cancelTimer(.sessionRefresh(handle)), .cancelTimer(.sessionExpiry(handle))]
    }

    mutating func sessionTimerFired(_ timer: SIPUserAgentTimer, now: Duration) -> [SIPUserAgentAction] {
        switch timer {
        case .sessionExpiry(let handle):
            guard let call = calls[handle], call.sessionTimer != nil, call.phase == .confirmed || call.phase == .answering else { return [] }
            return sendBye(handle, reason: .sessionExpired, now: now)
        case .sessionRefresh(let handle):
            return sendSessionRefresh(handle, now: now)
        default:
            return []
        }
    }

    /// §10: our refresh. UPDATE when the peer allows it (no offer/answer, RFC 3311), else a re-INVITE with
    /// the SDP we sent last, unchanged (RFC 3264 §8: same version, same session).
    mutating func sendSessionRefresh(_ handle: SIPCallHandle, now: Duration) -> [SIPUserAgentAction] {
        guard var call = calls[handle], let timer = call.sessionTimer, timer.weRefresh, call.phase == .confirmed, var dialog = call.dialog else {
            return []
        }
        let expires = SIPSessionExpires(seconds: timer.interval, refresher: .uac)
        var request: SIPMessage
        if call.peerAllowsUpdate {
            request = dialog.makeRequest(.update)
        } else {
            // A re-INVITE must not cross an offer/answer exchange in progress (RFC 3261 §14.1): later.
            guard !call.reinviteInProgress, call.pendingReinvite == nil, call.answer == nil, let sdp = call.localSDP else {
                return retrySessionRefresh(handle, now: now)
            }
            call.reinviteInProgress = true
            request = dialog.makeRequest(.invite, body: Array(sdp.utf8), contentType: "application/sdp")
        }
        request.headers.add("Contact", contact(transport: call.destination.transport))
        addSessionTimerHeaders(expires, toRequest: &request)
        request.headers.add("User-Agent", configuration.userAgent)
        call.dialog = dialog
        calls[handle] = call
        return inDialogSend(request, call: call, purpose: .refresh(handle), now: now).1
    }

    /// A refresh that could not go out, or failed without ending the dialog: try again halfway to the
    /// expiry, or hang up when too little time is left.
    mutating func retrySessionRefresh(_ handle: SIPCallHandle, now: Duration) -> [SIPUserAgentAction] {
        guard let call = calls[handle], let expiresAt = call.sessionExpiresAt else { return [] }
        let remaining = expiresAt - now
        guard remaining > .seconds(4) else { return sendBye(handle, reason: .sessionExpired, now: now) }
        return [.startTimer(.sessionRefresh(handle), at: now + remaining / 2)]
    }

    /// The final response to our refresh.
    mutating func refreshResponse(_ response: SIPMessage, code: Int, entry: ClientEntry, key: SIPTransactionKey, handle: SIPCallHandle,
                                  now: Duration) -> [SIPUserAgentAction] {
        let isInvite = entry.transaction.request.method == .invite
        if isInvite, var call = calls[handle] {
            call.reinviteInProgress = false
            calls[handle] = call
        }
        if code < 300 {
            if isInvite, let ack = entry.ackSent { return [.send(ack.message, to: ack.destination)] }
            var actions = isInvite ? acknowledgeReinvite(response, entry: entry, key: key, handle: handle) : []
            actions += runSessionTimer(handle, Self.sessionTimer(fromResponse: response), now: now)
            return actions
        }
        if let retry = authRetry(entry, response: response, now: now) { return retry }
        switch code {
        case 408, 481:
            // §10: the peer does not know the dialog (any more).
            return sendBye(handle, reason: .sessionExpired, now: now)
        case 422:
            // §7.4: the peer wants a longer interval; refresh again with its Min-SE.
            guard var call = calls[handle], var timer = call.sessionTimer, let minimum = (try? response.minSE) ?? nil,
                  minimum > timer.interval, minimum <= 86_400 else { return retrySessionRefresh(handle, now: now) }
            timer.interval = minimum
            call.sessionTimer = timer
            calls[handle] = call
            return sendSessionRefresh(handle, now: now)
        case 405 where !isInvite, 501 where !isInvite:
            // It listed UPDATE in Allow but will not take one: re-INVITE from now on.
            guard var call = calls[handle] else { return [] }
            call.peerAllowsUpdate = false
            calls[handle] = call
            return sendSessionRefresh(handle, now: now)
        default:
            return retrySessionRefresh(handle, now: now)
        }
    }

    /// An UPDATE from the peer (RFC 3311): without a body a session refresh, answered here; with SDP an
    /// offer, answered like a re-INVITE (by the application unless `answerReinvitesAutomatically`).
    mutating func receiveUpdate(_ request: SIPMessage, key: SIPTransactionKey, handle: SIPCallHandle, now: Duration) -> [SIPUserAgentAction] {
        guard var call = calls[handle] else { return [] }
        if case .tooSmall(let minimum) = sessionTimerDecision(for: request) {
            return sendServerResponse(sessionIntervalTooSmall(request, minimum: minimum, toTag: nil), key: key, now: now)
        }
        call.peerAllowsUpdate = true
        calls[handle] = call
        guard let offer = request.sdpText else { return acceptUpdate(request, key: key, handle: handle, sdp: nil, now: now) }
        // RFC 3311 §5.2: an offer while ours is open gets 491; while the peer's is unanswered, 500 with Retry-After.
        if call.reinviteInProgress || call.answer != nil {
            return sendServerResponse(SIPMakeResponse(to: request, status: 491), key: key, now: now)
        }
        if call.pendingReinvite != nil {
            return sendServerResponse(Self.offerPending(request), key: key, now: now)
        }
        guard configuration.answerReinvitesAutomatically else {
            call.pendingReinvite = (key, request)
            calls[handle] = call
            return [.event(.remoteReinvite(handle, sdp: offer))]
        }
        return acceptUpdate(request, key: key, handle: handle, sdp: call.localSDP, now: now) + [.event(.remoteReinvite(handle, sdp: offer))]
    }

    /// RFC 3311 §5.2: 500 with a Retry-After of 0 to 10 s, to an offer that came while the peer's last one is
    /// still unanswered.
    static func offerPending(_ request: SIPMessage) -> SIPMessage {
        var response = SIPMakeResponse(to: request, status: 500, reason: "Offer Pending")
        response.headers.add("Retry-After", String(Int.random(in: 0...10)))
        return response
    }

    /// RFC 3311 §5.2: an UPDATE in an early dialog (before the INVITE's 2xx). Without a body it only refreshes
    /// the dialog: 200. An offer cannot be taken while the INVITE's own offer/answer is open: the callee has an
    /// offer it has not answered (500 with Retry-After), the caller an offer without answer (491). Not 481:
    /// the dialog exists, and 481 would end the call at the peer (RFC 5057).
    mutating func earlyUpdate(_ request: SIPMessage, key: SIPTransactionKey, now: Duration) -> [SIPUserAgentAction] {
        guard let id = SIPDialogID(incomingRequest: request),
              let handle = calls.values.first(where: { $0.dialog?.id == id && ($0.phase == .offered || $0.phase == .early) })?.handle,
              var call = calls[handle], var dialog = call.dialog else {
            return sendServerResponse(SIPMakeResponse(to: request, status: 481), key: key, now: now)
        }
        do {
            try dialog.receiveRequest(request)
        } catch {
            return sendServerResponse(SIPMakeResponse(to: request, status: error.responseStatus), key: key, now: now)
        }
        call.dialog = dialog
        call.peerAllowsUpdate = true
        calls[handle] = call
        var response: SIPMessage
        if request.sdpText == nil {
            response = SIPMakeResponse(to: request, status: 200)
            response.headers.add("Contact", contact(transport: call.destination.transport))
        } else if call.direction == .incoming {
            response = Self.offerPending(request)
        } else {
            response = SIPMakeResponse(to: request, status: 491)
        }
        return sendServerResponse(response, key: key, now: now)
    }

    /// 200 to an UPDATE, with our SDP when it carried an offer; it refreshes the session timer.
    mutating func acceptUpdate(_ request: SIPMessage, key: SIPTransactionKey, handle: SIPCallHandle, sdp: String?,
                               now: Duration) -> [SIPUserAgentAction] {
        guard let call = calls[handle] else { return [] }
        var response = SIPMakeResponse(to: request, status: 200)
        response.headers.add("Contact", contact(transport: call.destination.transport))
        let granted = grantedSessionExpires(request)
        addSessionTimerHeaders(granted, toResponse: &response)
        if let sdp {
            response.headers.add("Content-Type", "application/sdp")
            response.body = Array(sdp.utf8)
        }
        return sendServerResponse(response, key: key, now: now) + runSessionTimer(handle, Self.sessionTimer(granted: granted), now: now)
    }
}
