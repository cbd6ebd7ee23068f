extension SIPUserAgent {
    // MARK: - Identity

    mutating func allocateHandle() -> SIPCallHandle {
        defer { nextHandle += 1 }
        return SIPCallHandle(rawValue: nextHandle)
    }

    var fromURI: SIPURI {
        SIPURI(user: configuration.userName, host: configuration.domain ?? configuration.localHost)
    }

    /// §8.1.1.7 Via with a fresh z9hG4bK branch; `rport` asks for RFC 3581 symmetric responses.
    func makeVia(transport: SIPTransportKind) -> String {
        SIPVia(transport: transport.rawValue, host: configuration.localHost, port: configuration.localPort,
               branch: SIPVia.magicCookie + configuration.makeToken(), rport: true).description
    }

    func contact(transport: SIPTransportKind) -> String { "<\(contactURI(transport: transport))>" }

    /// Our address for Contact: `user` (the configured user name by default) at our host and port.
    func contactURI(transport: SIPTransportKind, user: String? = nil) -> SIPURI {
        var uri = SIPURI(user: user ?? configuration.userName, host: configuration.localHost, port: configuration.localPort)
        if transport == .tcp { uri.parameters.set("transport", "tcp") }
        return uri
    }

    static func clientKey(_ request: SIPMessage) -> SIPTransactionKey {
        do { return try .client(request: request) } catch {
            preconditionFailure("our own request lacks a Via branch: \(error)")
        }
    }

    /// RFC 3581 §4 / RFC 3261 §18.2.1: record the source address in the top Via.
    static func stampVia(_ headers: inout SIPHeaders, source: SIPTransportAddress) {
        guard let top = headers.values("Via").first, var via = try? SIPVia(top) else { return }
        if via.host != source.host || via.parameters.contains("rport") { via.parameters.set("received", source.host) }
        if via.parameters.contains("rport") { via.parameters.set("rport", String(source.port)) }
        headers.replaceFirstValue("Via", with: via.description)
    }

    /// §18.2.2: stream transports answer on the connection the request came on; datagrams go to
    /// `received`:`rport` (or the sent-by port).
    static func responseAddress(for headers: SIPHeaders, source: SIPTransportAddress) -> SIPTransportAddress {
        if source.transport.isReliable { return source }
        guard let top = headers.values("Via").first, let via = try? SIPVia(top) else { return source }
        let target = via.responseTarget
        return SIPTransportAddress(transport: source.transport, host: target.host, port: target.port)
    }

    mutating func forget(_ handle: SIPCallHandle) {
        if let id = calls[handle]?.dialog?.id { dialogIndex[id] = nil }
        calls[handle] = nil
    }

    // MARK: - Client side

    mutating func startClient(_ request: SIPMessage, destination: SIPTransportAddress, purpose: Purpose, authRetried: Bool,
                              originalKey: SIPTransactionKey? = nil, now: Duration) -> [SIPUserAgentAction] {
        let transaction: SIPClientTransaction
        let actions: [SIPTransactionAction]
        do {
            (transaction, actions) = try SIPClientTransaction.start(request: request, reliable: destination.transport.isReliable,
                                                                    timers: configuration.timers, now: now)
        } catch {
            preconditionFailure("our own request is malformed: \(error)")
        }
        clients[transaction.key] = ClientEntry(transaction: transaction, destination: destination, purpose: purpose, authRetried: authRetried,
                                               originalKey: originalKey)
        return translateClient(actions, key: transaction.key, now: now)
    }

    mutating func translateClient(_ actions: [SIPTransactionAction], key: SIPTransactionKey, now: Duration,
                                  timeoutStatus: Int = 408) -> [SIPUserAgentAction] {
        guard let destination = clients[key]?.destination else { return [] }
        var result: [SIPUserAgentAction] = []
        for action in actions {
            switch action {
            case .send(let message): result.append(.send(message, to: destination))
            case .startTimer(let timer, let at): result.append(.startTimer(.transaction(key, timer), at: at))
            case .cancelTimer(let timer): result.append(.cancelTimer(.transaction(key, timer)))
            case .passToTU(let response): result += clientResponse(response, key: key, now: now)
            case .timeout: result += clientTimeout(key, status: timeoutStatus, now: now)
            case .terminated: clients[key] = nil
            }
        }
        return result
    }

    mutating func clientResponse(_ response: SIPMessage, key: SIPTransactionKey, now: Duration) -> [SIPUserAgentAction] {
        guard let entry = clients[key], let code = response.statusCode else { return [] }
        switch entry.purpose {
        case .invite(let handle):
            return inviteResponse(response, code: code, handle: handle, key: key, now: now)
        case .cancel, .discard:
            return []
        case .register:
            guard code >= 200 else { return [] }
            return registerResponse(response, code: code, entry: entry, now: now)
        case .bye(let handle):
            guard code >= 200 else { return [] }
            if let retry = authRetry(entry, response: response, now: now) { return retry }
            let reason = calls[handle]?.endReason ?? .localHangUp
            forget(handle)
            return [.event(.ended(handle, reason))]
        case .info(let handle):
            guard code >= 200 else { return [] }
            if let retry = authRetry(entry, response: response, now: now) { return retry }
            return [.event(.requestCompleted(handle, request: entry.originalKey ?? key, status: code, sdp: nil))]
        case .reinvite(let handle):
            guard code >= 200 else { return [] }
            if var call = calls[handle] {
                call.reinviteInProgress = false
                calls[handle] = call
            }
            if code < 300 {
                if let ack = entry.ackSent { return [.send(ack.message, to: ack.destination)] }
                if var call = calls[handle] {
                    // The offer is accepted: it is the session's SDP now.
                    if let offer = entry.transaction.request.sdpText { call.localSDP = offer }
                    call.glareAttempts = 0
                    calls[handle] = call
                }
                // RFC 4028 §7.2: any 2xx to a re-INVITE says what the session timer is from now on.
                return acknowledgeReinvite(response, entry: entry, key: key, handle: handle)
                    + [.event(.requestCompleted(handle, request: entry.originalKey ?? key, status: code, sdp: response.sdpText))]
                    + (configuration.sessionTimer == nil ? [] : runSessionTimer(handle, Self.sessionTimer(fromResponse: response), now: now))
            }
            if code == 491, let retry = scheduleGlareRetry(entry, handle: handle, now: now) { return retry }
            if let retry = authRetry(entry, response: response, now: now) { return retry }
            if var call = calls[handle] {
                call.glareAttempts = 0
                calls[handle] = call
            }
            return [.event(.requestCompleted(handle, request: entry.originalKey ?? key, status: code, sdp: nil))]
        case .refresh(let handle):
            guard code >= 200 else { return [] }
            return refreshResponse(response, code: code, entry: entry, key: key, handle: handle, now: now)
        }
    }

    /// §14.1: a 491 to our re-INVITE (it crossed the peer's) is retried after a random wait — 2.1 to 4 s when
    /// we chose the Call-ID (we placed the call), up to 2 s otherwise — so the two sides do not cross again.
    /// The application hears only the final outcome; after three crossings it hears the 491.
    mutating func scheduleGlareRetry(_ entry: ClientEntry, handle: SIPCallHandle, now: Duration) -> [SIPUserAgentAction]? {
        guard var call = calls[handle], call.phase == .confirmed, call.glareAttempts < 3 else { return nil }
        call.glareAttempts += 1
        call.glareRetry = (entry, call.localSDP)
        calls[handle] = call
        let wait: Duration = call.direction == .outgoing ? .milliseconds(Int.random(in: 2100...4000)) : .milliseconds(Int.random(in: 0...2000))
        return [.startTimer(.reinviteRetry(handle), at: now + wait)]
    }

    /// The retry of a re-INVITE that got 491. If the peer's crossing offer changed the session in the meantime,
    /// ours was made for a session that is gone: the application gets the 491 and decides.
    mutating func retryReinvite(_ handle: SIPCallHandle, now: Duration) -> [SIPUserAgentAction] {
        guard var call = calls[handle], let (entry, baseline) = call.glareRetry else { return [] }
        let originalKey = entry.originalKey ?? entry.transaction.key
        guard call.phase == .confirmed else {
            call.glareRetry = nil
            calls[handle] = call
            return [.event(.requestCompleted(handle, request: originalKey, status: 491, sdp: nil))]
        }
        // The peer's re-INVITE is still being answered: ours goes after it.
        if call.pendingReinvite != nil || call.answer != nil { return [.startTimer(.reinviteRetry(handle), at: now + .milliseconds(500))] }
        call.glareRetry = nil
        guard call.localSDP == baseline else {
            call.glareAttempts = 0
            calls[handle] = call
            return [.event(.requestCompleted(handle, request: originalKey, status: 491, sdp: nil))]
        }
        call.reinviteInProgress = true
        calls[handle] = call
        return resend(entry, headers: entry.transaction.request.headers, authRetried: entry.authRetried, now: now)
    }

    /// ACK for the first 2xx to a re-INVITE of ours (§13.2.2.4), kept for its retransmissions.
    mutating func acknowledgeReinvite(_ response: SIPMessage, entry: ClientEntry, key: SIPTransactionKey, handle: SIPCallHandle) -> [SIPUserAgentAction] {
        guard var call = calls[handle], var dialog = call.dialog else { return [] }
        dialog.receiveResponse(response, to: .invite)
        call.dialog = dialog
        calls[handle] = call
        let number = (try? entry.transaction.request.cseq.number) ?? dialog.localSequence
        let (ack, destination) = makeACK(dialog: dialog, inviteSequence: number, transport: call.destination.transport)
        clients[key]?.ackSent = (ack, destination)
        return [.send(ack, to: destination)]
    }

    mutating func inviteResponse(_ response: SIPMessage, code: Int, handle: SIPCallHandle, key: SIPTransactionKey,
                                 now: Duration) -> [SIPUserAgentAction] {
        guard var call = calls[handle], let entry = clients[key] else {
            // 2xx for a call we already gave up on: ACK it (the transaction passed it on, RFC 6026).
            return []
        }
        switch code {
        case 100:
            call.provisionalReceived = true
            calls[handle] = call
            return call.cancelPending ? sendCancel(handle, now: now) : []
        case 101..<200:
            call.provisionalReceived = true
            if call.dialog == nil, (try? response.to.tag) != nil {
                call.dialog = try? SIPDialog(uacRequest: call.invite, response: response)
            }
            if call.phase == .inviting { call.phase = .early }
            calls[handle] = call
            if call.cancelPending { return sendCancel(handle, now: now) }
            return [.event(.ringing(handle, status: code, sdp: response.sdpText))]
        case 200..<300:
            let remoteTag = try? response.to.tag
            if let ack = entry.ackSent {
                if call.dialog?.id.remoteTag == remoteTag { return [.send(ack.message, to: ack.destination)] }
                return discardForkedDialog(response, call: call, now: now)
            }
            var dialog: SIPDialog
            do {
                if var existing = call.dialog, existing.id.remoteTag == (try? response.to.tag) {
                    existing.receiveResponse(response, to: .invite)
                    dialog = existing
                } else {
                    dialog = try SIPDialog(uacRequest: call.invite, response: response)
                }
            } catch {
                droppedMessages += 1
                return []
            }
            let number = (try? call.invite.cseq.number) ?? 1
            let (ack, destination) = makeACK(dialog: dialog, inviteSequence: number, transport: call.destination.transport)
            clients[key]?.ackSent = (ack, destination)
            call.dialog = dialog
            call.phase = .confirmed
            call.peerAllowsUpdate = response.allows(.update)
            dialogIndex[dialog.id] = handle
            let cancelled = call.cancelPending
            calls[handle] = call
            var actions: [SIPUserAgentAction] = [.send(ack, to: destination)]
            if cancelled {
                // §9.1: the 2xx crossed our (held) CANCEL; end the session with BYE instead.
                actions += sendBye(handle, reason: .localHangUp, now: now)
            } else {
                actions.append(.event(.answered(handle, sdp: response.sdpText)))
                if configuration.sessionTimer != nil { actions += runSessionTimer(handle, Self.sessionTimer(fromResponse: response), now: now) }
            }
            return actions
        default:
            if code == 422, let retry = sessionIntervalRetry(entry, response: response, now: now) { return retry }
            if code == 503, let retry = failOver(entry, handle: handle, now: now) { return retry }
            if (300..<400).contains(code), let retry = followRedirect(response, entry: entry, handle: handle, now: now) { return retry }
            if let retry = authRetry(entry, response: response, now: now) { return retry }
            forget(handle)
            return [.event(.failed(handle, status: code, reason: response.reasonPhrase ?? ""))]
        }
    }

    /// §13.2.2.4: a 2xx from a second fork after the call is set up gets an ACK and a BYE; the first
    /// dialog stays the call.
    mutating func discardForkedDialog(_ response: SIPMessage, call: Call, now: Duration) -> [SIPUserAgentAction] {
        guard var dialog = try? SIPDialog(uacRequest: call.invite, response: response) else {
            droppedMessages += 1
            return []
        }
        let number = (try? call.invite.cseq.number) ?? 1
        let (ack, ackDestination) = makeACK(dialog: dialog, inviteSequence: number, transport: call.destination.transport)
        var actions: [SIPUserAgentAction] = [.send(ack, to: ackDestination)]
        guard !call.discardedTags.contains(dialog.id.remoteTag) else { return actions }
        var updated = call
        updated.discardedTags.insert(dialog.id.remoteTag)
        calls[call.handle] = updated
        let bye = withVia(dialog.makeRequest(.bye), makeVia(transport: ackDestination.transport))
        actions += startClient(bye, destination: ackDestination, purpose: .discard, authRetried: true, now: now)
        return actions
    }

    func makeACK(dialog: SIPDialog, inviteSequence: UInt32, transport: SIPTransportKind) -> (SIPMessage, SIPTransportAddress) {
        var ack = dialog.makeACK(inviteSequence: inviteSequence)
        let destination = SIPTransportAddress(uri: dialog.nextHop, defaultTransport: transport)
        ack = withVia(ack, makeVia(transport: destination.transport))
        return (ack, destination)
    }

    func withVia(_ message: SIPMessage, _ via: String) -> SIPMessage {
        var headers = SIPHeaders()
        headers.add("Via", via)
        for field in message.headers where field.name != "Via" { headers.add(field.name, field.value) }
        var copy = message
        copy.headers = headers
        return copy
    }

    /// RFC 3261 §22.2 / §22.3: answer a 401/407 once by resending the request with credentials,
    /// a new branch and the next CSeq.
    mutating func authRetry(_ entry: ClientEntry, response: SIPMessage, now: Duration) -> [SIPUserAgentAction]? {
        guard let code = response.statusCode, code == 401 || code == 407, !entry.authRetried,
              let challenges = try? response.authenticationChallenges else { return nil }
        let request = entry.transaction.request
        guard let method = request.method, let uri = request.requestURI else { return nil }
        var headers = request.headers
        var answered: [SIPDigestChallenge] = []
        for challenge in challenges where challenge.isProxy == (code == 407) {
            guard let value = authorization(answering: challenge, method: method, uri: uri) else { continue }
            let name = challenge.isProxy ? "Proxy-Authorization" : "Authorization"
            if answered.isEmpty { headers.remove(name) }
            headers.add(name, value)
            answered.append(challenge)
        }
        guard !answered.isEmpty else { return nil }
        // §22.1: a registration's later REGISTERs (refreshes, the removal) answer the same challenge at once.
        if case .register = entry.purpose { registration?.challenges = answered }
        return resend(entry, headers: headers, authRetried: true, now: now)
    }

    /// The Authorization value answering `challenge` with our credentials for its realm (the next nonce count
    /// for its nonce), or nil when we have none or cannot meet its algorithm or qop.
    mutating func authorization(answering challenge: SIPDigestChallenge, method: SIPMethod, uri: SIPURI) -> String? {
        guard let credential = configuration.credentials.first(where: { $0.realm == nil || $0.realm == challenge.realm }) else { return nil }
        let count = nextNonceCount(challenge.nonce)
        return try? SIPDigest.credentials(for: challenge, method: method, uri: uri.description, username: credential.username,
                                         password: credential.password, cnonce: configuration.makeToken(), nonceCount: count).headerValue
    }

    /// The nonce count to send with `nonce` (1 for a new one), remembered for the next use; the oldest nonce
    /// is forgotten once `nonceMemory` are held.
    mutating func nextNonceCount(_ nonce: String) -> UInt32 {
        let count = (nonceCounts[nonce] ?? 0) &+ 1
        if nonceCounts.updateValue(count, forKey: nonce) == nil {
            nonceOrder.append(nonce)
            if nonceOrder.count > Self.nonceMemory {
                let dropped = nonceOrder.count - Self.nonceMemory / 2
                for old in nonceOrder.prefix(dropped) { nonceCounts[old] = nil }
                nonceOrder.removeFirst(dropped)
            }
        }
        return count
    }

    /// RFC 4028 §7.3: a 422 to our INVITE names the shortest interval the callee or a proxy takes; ask
    /// again with it (a few times at most: each 422 must raise it).
    mutating func sessionIntervalRetry(_ entry: ClientEntry, response: SIPMessage, now: Duration) -> [SIPUserAgentAction]? {
        guard configuration.sessionTimer != nil, case .invite(let handle) = entry.purpose, var call = calls[handle], call.intervalRetries < 3,
              let minimum = (try? response.minSE) ?? nil, minimum <= 86_400 else { return nil }
        let request = entry.transaction.request
        let asked = ((try? request.sessionExpires) ?? nil)?.seconds ?? 0
        guard minimum > asked || ((try? request.minSE) ?? nil).map({ minimum > $0 }) == true else { return nil }
        call.intervalRetries += 1
        calls[handle] = call
        var headers = request.headers
        headers.set("Session-Expires", SIPSessionExpires(seconds: max(minimum, asked)).description)
        headers.set("Min-SE", String(minimum))
        return resend(entry, headers: headers, authRetried: entry.authRetried, now: now)
    }

    /// RFC 3263 §4.3: an INVITE that no hop answered (timeout, transport failure) or that got 503 goes again,
    /// as a new transaction, to the next SRV target — unless an early dialog exists or a CANCEL waits for it.
    mutating func failOver(_ entry: ClientEntry, handle: SIPCallHandle, now: Duration) -> [SIPUserAgentAction]? {
        guard var call = calls[handle], call.phase == .inviting, !call.cancelPending, !call.alternateHops.isEmpty else { return nil }
        let next = call.alternateHops.removeFirst()
        call.destination = next
        calls[handle] = call
        return resend(entry, to: next, headers: entry.transaction.request.headers, authRetried: entry.authRetried, now: now)
    }

    /// How many 3xx redirects one call follows (§8.1.3.4 leaves the number to the UAC; a few stop loops).
    static let maximumRedirects = 5

    /// §8.1.3.4 (call forwarding by a PBX, a redirect server): a 3xx to our INVITE names where the callee is
    /// now. The INVITE goes to its Contact with the highest q (§20.10) not tried yet, as a new transaction with
    /// the same Call-ID, From and To (§8.1.3.4: a new Request-URI only). nil when there is none, the call is
    /// being cancelled, or `maximumRedirects` were followed; the application then hears the 3xx.
    mutating func followRedirect(_ response: SIPMessage, entry: ClientEntry, handle: SIPCallHandle, now: Duration) -> [SIPUserAgentAction]? {
        guard var call = calls[handle], !call.cancelPending, let contacts = try? response.contacts else { return nil }
        let tried = call.redirectedTo.isEmpty ? [call.invite.requestURI].compactMap { $0 } : call.redirectedTo
        guard tried.count <= Self.maximumRedirects else { return nil }
        // §20.10: q is 0 to 1; anything else (NaN included, which would upset the sort) counts as 1.
        func quality(_ contact: SIPNameAddress) -> Double {
            guard let q = contact.parameters["q"].flatMap({ Double($0) }), q.isFinite, (0...1).contains(q) else { return 1 }
            return q
        }
        let candidates = contacts.enumerated()
            .filter { $0.element.uri.scheme == .sip && !$0.element.uri.host.isEmpty }
            .sorted { quality($0.element) != quality($1.element) ? quality($0.element) > quality($1.element) : $0.offset < $1.offset }
            .map { contact -> SIPURI in
                var uri = contact.element.uri
                uri.headers = []
                return uri
            }
        guard let target = candidates.first(where: { candidate in !tried.contains(candidate) && Self.unsupportedTransport(candidate) == nil }) else {
            return nil
        }
        call.redirectedTo = tried + [target]
        call.alternateHops = []
        // A PBX that rang before it forwarded left an early dialog; the new target's answer makes its own.
        call.dialog = nil
        call.phase = .inviting
        // With a preloaded route (an outbound proxy) the new request goes through the same proxy.
        if entry.transaction.request.headers["Route"] == nil {
            call.destination = SIPTransportAddress(uri: target, defaultTransport: configuration.transport)
        }
        var request = entry.transaction.request
        request.startLine = .request(method: .invite, uri: target)
        // Credentials were for the old target's realm; the new target challenges again if it wants them.
        request.headers.remove("Authorization")
        request.headers.remove("Proxy-Authorization")
        call.invite = request
        calls[handle] = call
        return resend(entry, to: call.destination, request: request, headers: request.headers, authRetried: false, now: now)
    }

    /// The `transport` parameter of `uri` when it names something other than UDP or TCP, which this user agent
    /// cannot reach; nil when it can.
    static func unsupportedTransport(_ uri: SIPURI) -> String? {
        uri.transportParameter.flatMap { $0 == "udp" || $0 == "tcp" ? nil : $0 }
    }

    /// `entry`'s request (or `base`) again with `headers` as a new transaction: next CSeq (from the dialog when
    /// in one), new branch; to `destination` (a failover or a redirect), else where the entry went.
    mutating func resend(_ entry: ClientEntry, to destination: SIPTransportAddress? = nil, request base: SIPMessage? = nil,
                         headers: SIPHeaders, authRetried: Bool, now: Duration) -> [SIPUserAgentAction] {
        let request = base ?? entry.transaction.request
        let destination = destination ?? entry.destination
        guard let method = request.method else { return [] }
        var headers = headers
        var sequence = ((try? request.cseq.number) ?? 1) + 1
        switch entry.purpose {
        case .bye(let handle), .info(let handle), .reinvite(let handle), .refresh(let handle):
            if var call = calls[handle], var dialog = call.dialog {
                sequence = dialog.nextLocalSequence()
                call.dialog = dialog
                calls[handle] = call
            }
        case .register:
            // §10.2: every REGISTER of one registration shares the Call-ID, with a rising CSeq.
            if var current = registration {
                current.sequence += 1
                sequence = current.sequence
                registration = current
            }
        case .invite, .cancel, .discard:
            break
        }
        headers.set("CSeq", SIPCSeq(sequence, method).description)
        var retried = request
        retried.headers = headers
        retried = withVia(retried, makeVia(transport: destination.transport))
        if case .invite(let handle) = entry.purpose, var call = calls[handle] {
            call.invite = retried
            call.inviteKey = Self.clientKey(retried)
            call.provisionalReceived = false
            calls[handle] = call
        }
        return startClient(retried, destination: destination, purpose: entry.purpose, authRetried: authRetried,
                           originalKey: entry.originalKey ?? entry.transaction.key, now: now)
    }

    mutating func clientTimeout(_ key: SIPTransactionKey, status: Int, now: Duration) -> [SIPUserAgentAction] {
        guard let entry = clients[key] else { return [] }
        let reason = status == 408 ? "Request Timeout" : "Service Unavailable"
        switch entry.purpose {
        case .invite(let handle):
            guard calls[handle]?.inviteKey == key else { return [] }
            if let retry = failOver(entry, handle: handle, now: now) { return retry }
            forget(handle)
            return [.event(.failed(handle, status: status, reason: reason))]
        case .bye(let handle):
            // An expired session stays expired even when the BYE that ends it goes unanswered.
            let reason: SIPCallEndReason = calls[handle]?.endReason == .sessionExpired ? .sessionExpired : .timeout
            forget(handle)
            return [.event(.ended(handle, reason))]
        case .info(let handle):
            return [.event(.requestCompleted(handle, request: entry.originalKey ?? key, status: status, sdp: nil))]
        case .reinvite(let handle):
            // §14.1: a failed re-INVITE leaves the session as it was; 408/481 would end it, the
            // application decides.
            if var call = calls[handle] {
                call.reinviteInProgress = false
                calls[handle] = call
            }
            return [.event(.requestCompleted(handle, request: entry.originalKey ?? key, status: status, sdp: nil))]
        case .refresh(let handle):
            // RFC 4028 §10: no answer to our refresh.
            if var call = calls[handle], entry.transaction.request.method == .invite {
                call.reinviteInProgress = false
                calls[handle] = call
            }
            return sendBye(handle, reason: .sessionExpired, now: now)
        case .register:
            return registrarFailOver(now: now) ?? registrationFailed(status: status, reason: reason, now: now)
        case .cancel, .discard:
            return []
        }
    }

    /// §9.1: CANCEL copies Request-URI, Call-ID, To, From, the CSeq number and the top Via of the INVITE.
    mutating func sendCancel(_ handle: SIPCallHandle, now: Duration) -> [SIPUserAgentAction] {
        guard var call = calls[handle] else { return [] }
        call.cancelPending = false
        calls[handle] = call
        let invite = call.invite
        var headers = SIPHeaders()
        if let via = invite.headers.values("Via").first { headers.add("Via", via) }
        for route in invite.headers.fieldValues("Route") { headers.add("Route", route) }
        headers.add("Max-Forwards", "70")
        if let from = invite.headers["From"] { headers.add("From", from) }
        if let to = invite.headers["To"] { headers.add("To", to) }
        if let callID = invite.headers["Call-ID"] { headers.add("Call-ID", callID) }
        headers.add("CSeq", SIPCSeq((try? invite.cseq.number) ?? 1, .cancel).description)
        headers.add("User-Agent", configuration.userAgent)
        let cancel = SIPMessage.request(.cancel, uri: invite.requestURI ?? SIPURI(host: "invalid"), headers: headers)
        return startClient(cancel, destination: call.destination, purpose: .cancel(handle), authRetried: false, now: now)
    }

    mutating func sendBye(_ handle: SIPCallHandle, reason: SIPCallEndReason, now: Duration) -> [SIPUserAgentAction] {
        guard var call = calls[handle], var dialog = call.dialog else { return [] }
        var bye = dialog.makeRequest(.bye)
        bye.headers.add("User-Agent", configuration.userAgent)
        call.dialog = dialog
        call.phase = .terminating
        call.answer = nil
        call.endReason = reason
        calls[handle] = call
        let stopAnswer: [SIPUserAgentAction] = [.cancelTimer(.answerRetransmit(handle)), .cancelTimer(.answerTimeout(handle))]
        return stopAnswer + stopSessionTimer(handle) + inDialogSend(bye, call: call, purpose: .bye(handle), now: now).1
    }

    mutating func inDialogSend(_ request: SIPMessage, call: Call, purpose: Purpose, now: Duration) -> (SIPTransactionKey, [SIPUserAgentAction]) {
        let nextHop = call.dialog?.nextHop ?? call.invite.requestURI ?? SIPURI(host: call.destination.host, port: call.destination.port)
        let destination = SIPTransportAddress(uri: nextHop, defaultTransport: call.destination.transport)
        let request = withVia(request, makeVia(transport: destination.transport))
        return (Self.clientKey(request), startClient(request, destination: destination, purpose: purpose, authRetried: false, now: now))
    }

    // MARK: - Server side

    mutating func sendServerResponse(_ response: SIPMessage, key: SIPTransactionKey, now: Duration) -> [SIPUserAgentAction] {
        guard servers[key] != nil else { return [] }
        let actions = servers[key]!.transaction.sendResponse(response, now: now)
        return translateServer(actions, key: key, now: now)
    }

    mutating func translateServer(_ actions: [SIPTransactionAction], key: SIPTransactionKey, now: Duration) -> [SIPUserAgentAction] {
        guard let address = servers[key]?.responseAddress else { return [] }
        var result: [SIPUserAgentAction] = []
        for action in actions {
            switch action {
            case .send(let message): result.append(.send(message, to: address))
            case .startTimer(let timer, let at): result.append(.startTimer(.transaction(key, timer), at: at))
            case .cancelTimer(let timer): result.append(.cancelTimer(.transaction(key, timer)))
            case .passToTU(let request): result += serverRequest(request, key: key, source: address, now: now)
            case .timeout: break  // Timer H: the ACK for our non-2xx never came; nothing left to do.
            case .terminated: servers[key] = nil
            }
        }
        return result
    }

    /// A new request handed up by its server transaction (§8.2).
    mutating func serverRequest(_ request: SIPMessage, key: SIPTransactionKey, source: SIPTransportAddress, now: Duration) -> [SIPUserAgentAction] {
        guard let method = request.method else { return [] }
        let hasToTag = (try? request.to.tag) != nil
        func respond(_ status: Int, _ edit: (inout SIPMessage) -> Void = { _ in }) -> [SIPUserAgentAction] {
            var response = SIPMakeResponse(to: request, status: status, toTag: hasToTag ? nil : configuration.makeToken())
            edit(&response)
            return sendServerResponse(response, key: key, now: now)
        }
        // §8.2.2.3: a Require we do not know gets 420. We support RFC 4028's timer (when on) and, as the callee,
        // RFC 3262's 100rel (reliable provisional responses).
        let required = request.headers.values("Require").filter {
            !($0.caseInsensitiveEquals("timer") && configuration.sessionTimer != nil) && !($0.caseInsensitiveEquals("100rel") && method == .invite)
        }
        if !required.isEmpty, method != .ack, method != .cancel {
            return respond(420) { $0.headers.add("Unsupported", required.joined(separator: ", ")) }
        }
        switch method {
        case .invite where !hasToTag:
            return newIncomingCall(request, key: key, source: source, now: now)
        case .update where SIPDialogID(incomingRequest: request).map({ dialogIndex[$0] == nil }) == true:
            return earlyUpdate(request, key: key, now: now)
        case .invite, .bye, .info, .update:
            guard let id = SIPDialogID(incomingRequest: request), let handle = dialogIndex[id], var call = calls[handle], var dialog = call.dialog else {
                return respond(481)
            }
            do {
                try dialog.receiveRequest(request)
            } catch {
                return respond(error.responseStatus)
            }
            call.dialog = dialog
            calls[handle] = call
            switch method {
            case .bye:
                let reason = call.endReason ?? .remoteHangUp
                let stopTimer = stopSessionTimer(handle)
                forget(handle)
                return respond(200) + stopTimer + [.cancelTimer(.answerRetransmit(handle)), .cancelTimer(.answerTimeout(handle)),
                                                   .event(.ended(handle, reason))]
            case .update:
                return receiveUpdate(request, key: key, handle: handle, now: now)
            case .info:
                return respond(200) + [.event(.info(handle, contentType: request.contentType, body: request.body,
                                                    infoPackage: request.headers["Info-Package"].map { String($0.trimmingLWS()) }))]
            default:
                // §14.2: a re-INVITE while another offer/answer is open gets 491 Request Pending.
                if call.reinviteInProgress || call.pendingReinvite != nil || call.answer != nil {
                    return respond(491)
                }
                // RFC 4028 §9: a refresh asking for too short an interval.
                if case .tooSmall(let minimum) = sessionTimerDecision(for: request) {
                    return sendServerResponse(sessionIntervalTooSmall(request, minimum: minimum, toTag: nil), key: key, now: now)
                }
                if request.headers.contains("Allow") { call.peerAllowsUpdate = request.allows(.update) }
                call.destination = Self.responseAddress(for: request.headers, source: source)
                guard configuration.answerReinvitesAutomatically else {
                    call.pendingReinvite = (key, request)
                    calls[handle] = call
                    return [.event(.remoteReinvite(handle, sdp: request.sdpText))]
                }
                calls[handle] = call
                return acceptReinvite(request, key: key, handle: handle, now: now) + [.event(.remoteReinvite(handle, sdp: request.sdpText))]
            }
        case .options:
            // §11.2: capabilities.
            return respond(200) {
                $0.headers.add("Allow", Self.allowedMethods.map(\.rawValue).joined(separator: ", "))
                if configuration.sessionTimer != nil { $0.headers.add("Supported", "timer") }
                $0.headers.add("Accept", "application/sdp")
                $0.headers.add("Server", configuration.userAgent)
            }
        case .cancel:
            return cancelRequest(request, key: key, now: now)
        case .prack:
            return receivePRACK(request, key: key, now: now)
        case .register, .subscribe, .notify, .refer, .message, .publish:
            return respond(405) { $0.headers.add("Allow", Self.allowedMethods.map(\.rawValue).joined(separator: ", ")) }
        default:
            return respond(501)
        }
    }

    /// 200 to a re-INVITE with our current SDP, retransmitted until the ACK like any 2xx (§13.3.1.4).
    mutating func acceptReinvite(_ request: SIPMessage, key: SIPTransactionKey, handle: SIPCallHandle, now: Duration) -> [SIPUserAgentAction] {
        guard var call = calls[handle] else { return [] }
        var response = SIPMakeResponse(to: request, status: 200)
        response.headers.add("Contact", contact(transport: call.destination.transport))
        let granted = grantedSessionExpires(request)
        addSessionTimerHeaders(granted, toResponse: &response)
        if let sdp = call.localSDP {
            response.headers.add("Content-Type", "application/sdp")
            response.body = Array(sdp.utf8)
        }
        call.answer = response
        call.answerInterval = configuration.timers.t1
        calls[handle] = call
        var actions = sendServerResponse(response, key: key, now: now)
        if !call.destination.transport.isReliable { actions.append(.startTimer(.answerRetransmit(handle), at: now + configuration.timers.t1)) }
        actions.append(.startTimer(.answerTimeout(handle), at: now + configuration.timers.transactionTimeout))
        return actions + runSessionTimer(handle, Self.sessionTimer(granted: granted), now: now)
    }

    mutating func newIncomingCall(_ request: SIPMessage, key: SIPTransactionKey, source: SIPTransportAddress, now: Duration) -> [SIPUserAgentAction] {
        // §8.2.3: only SDP bodies are understood — alone, or as a part of multipart/mixed next to optional
        // parts (SIP-I's ISUP, RFC 3204).
        let body = request.sessionBody
        if case .unsupported = body {
            var response = SIPMakeResponse(to: request, status: 415, toTag: configuration.makeToken())
            response.headers.add("Accept", "application/sdp, multipart/mixed")
            return sendServerResponse(response, key: key, now: now)
        }
        guard let from = try? request.from, let to = try? request.to, let callID = try? request.callID, let uri = request.requestURI,
              (try? request.contacts.first) != nil else {
            var response = SIPMakeResponse(to: request, status: 400, reason: "Missing Contact", toTag: configuration.makeToken())
            response.headers.add("Server", configuration.userAgent)
            return sendServerResponse(response, key: key, now: now)
        }
        if case .tooSmall(let minimum) = sessionTimerDecision(for: request) {
            return sendServerResponse(sessionIntervalTooSmall(request, minimum: minimum, toTag: configuration.makeToken()), key: key, now: now)
        }
        let handle = allocateHandle()
        let address = servers[key]?.responseAddress ?? source
        var call = Call(handle: handle, direction: .incoming, phase: .offered, invite: request, inviteKey: key, destination: address,
                        localTag: configuration.makeToken())
        call.peerAllowsUpdate = request.allows(.update)
        call.reliableProvisionals = request.headers.values("Require").contains { $0.caseInsensitiveEquals("100rel") }
        call.nextRSeq = UInt32.random(in: 1...0x7FFF_FFFF)
        // §13.3.1, §20.19: an INVITE with `Expires: <delta-seconds>` is answered 487 if still unanswered then.
        // A value that is not delta-seconds is ignored; one beyond 2^32-1 means 2^32-1 (§25.1).
        let expiry = request.headers["Expires"].flatMap { Self.deltaSeconds($0) }
        call.inviteExpires = expiry != nil
        calls[handle] = call
        let sdp: String? = if case .sdp(let text) = body { text } else { nil }
        let info = SIPIncomingCallInfo(from: from, to: to, callID: callID, requestURI: uri, sdp: sdp, invite: request)
        return [.event(.incomingCall(handle, info))] + (expiry.map { [.startTimer(.inviteExpiry(handle), at: now + .seconds($0))] } ?? [])
    }

    /// A `delta-seconds` value (§25.1: one or more digits), capped at 2^32-1; nil for anything else.
    static func deltaSeconds(_ text: String) -> Int64? {
        let digits = text.trimmingLWS()
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        let significant = digits.drop { $0 == "0" }
        guard significant.utf8.count <= 10 else { return Int64(UInt32.max) }
        return min(Int64(significant) ?? 0, Int64(UInt32.max))
    }

    /// The timers that end with our final answer to an INVITE: resending a reliable provisional response
    /// (RFC 3262 §3) and the INVITE's own expiry (§13.3.1).
    func finalAnswerTimers(_ call: Call) -> [SIPUserAgentAction] {
        (call.unacknowledgedProvisional == nil ? [] : [.cancelTimer(.provisionalRetransmit(call.handle)), .cancelTimer(.provisionalTimeout(call.handle))])
            + (call.inviteExpires ? [.cancelTimer(.inviteExpiry(call.handle))] : [])
    }

    /// RFC 3262 §3: the caller's PRACK for our reliable provisional response, in the early dialog (or, late, the
    /// confirmed one). `RAck` must name its RSeq and the INVITE's CSeq; anything else gets 481.
    mutating func receivePRACK(_ request: SIPMessage, key: SIPTransactionKey, now: Duration) -> [SIPUserAgentAction] {
        func respond(_ status: Int) -> [SIPUserAgentAction] { sendServerResponse(SIPMakeResponse(to: request, status: status), key: key, now: now) }
        guard let id = SIPDialogID(incomingRequest: request),
              let handle = dialogIndex[id] ?? calls.values.first(where: { $0.direction == .incoming && $0.dialog?.id == id })?.handle,
              var call = calls[handle], var dialog = call.dialog else { return respond(481) }
        do {
            try dialog.receiveRequest(request)
        } catch {
            return respond(error.responseStatus)
        }
        call.dialog = dialog
        let rack = request.headers["RAck"]?.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) ?? []
        guard let pending = call.unacknowledgedProvisional, rack.count == 3, UInt32(rack[0]) == pending.rseq,
              UInt32(rack[1]) == (try? call.invite.cseq.number), rack[2].caseInsensitiveEquals("INVITE") else {
            calls[handle] = call
            return respond(481)
        }
        call.unacknowledgedProvisional = nil
        calls[handle] = call
        return respond(200) + [.cancelTimer(.provisionalRetransmit(handle)), .cancelTimer(.provisionalTimeout(handle))]
    }

    /// §9.2: CANCEL matches the INVITE server transaction by branch and sent-by; it gets a 200, and
    /// an INVITE not yet answered finally gets 487.
    mutating func cancelRequest(_ request: SIPMessage, key: SIPTransactionKey, now: Duration) -> [SIPUserAgentAction] {
        let inviteKey = SIPTransactionKey(branch: key.branch, sentBy: key.sentBy, method: .invite, isServer: true)
        guard let inviteEntry = servers[inviteKey] else {
            return sendServerResponse(SIPMakeResponse(to: request, status: 481, toTag: configuration.makeToken()), key: key, now: now)
        }
        let handle = calls.values.first { $0.direction == .incoming && $0.inviteKey == inviteKey }?.handle
        var actions = sendServerResponse(SIPMakeResponse(to: request, status: 200, toTag: handle.flatMap { calls[$0]?.localTag }), key: key, now: now)
        guard inviteEntry.transaction.state == .proceeding, let handle, let call = calls[handle] else { return actions }
        let terminated = SIPMakeResponse(to: call.invite, status: 487, toTag: call.localTag)
        actions += sendServerResponse(terminated, key: inviteKey, now: now) + finalAnswerTimers(call)
        actions.append(.event(.ended(handle, .remoteCancelled)))
        forget(handle)
        return actions
    }

    /// ACK that matched no server transaction: the ACK for our 2xx (§13.3.1.4, a transaction of its own).
    mutating func receiveACK(_ request: SIPMessage, now: Duration) -> [SIPUserAgentAction] {
        guard let id = SIPDialogID(incomingRequest: request), let handle = dialogIndex[id], var call = calls[handle] else {
            droppedMessages += 1
            return []
        }
        guard call.answer != nil else { return [] }
        call.answer = nil
        if call.phase == .answering { call.phase = .confirmed }
        calls[handle] = call
        var actions: [SIPUserAgentAction] = [.cancelTimer(.answerRetransmit(handle)), .cancelTimer(.answerTimeout(handle)),
                                             .event(.confirmed(handle, sdp: request.sdpText))]
        if call.byePending { actions += sendBye(handle, reason: .localHangUp, now: now) }
        return actions
    }
}
