/// RFC 3261 §10: registering our contact with a registrar, so that calls to an address of record (a PBX
/// extension, a SIP account) reach us. One registration per user agent.
///
/// ```
///   register → REGISTER (Expires: N) --401/407--> again with credentials (§22) --423--> again with Min-Expires
///            --2xx--> registered (the granted expiry) → REGISTER again at half of it (§10.2.4)
///            --other final or no answer--> failed → REGISTER again a minute later
///   unregister → REGISTER (Expires: 0) --final--> unregistered
/// ```
extension SIPUserAgent {
    struct Registration: Sendable {
        /// Request-URI of the REGISTERs (§10.2: the registrar's domain, no user part).
        var registrar: SIPURI
        /// The address of record: To and From.
        var aor: SIPURI
        var callID: String
        var fromTag: String
        /// CSeq of the last REGISTER (§10.2: one Call-ID, CSeq rising, for every refresh).
        var sequence: UInt32
        /// Expiry we ask for (raised by a 423's Min-Expires).
        var requested: Int
        var unregistering = false
        /// RFC 3263 §4.3: the registrar's SRV targets, the one in use first; empty for the URI's own host.
        var hops: [SIPTransportAddress] = []
        /// Hops given up on in a row (timeout, transport failure, 503) since the last answer.
        var hopFailures = 0
        /// The preloaded route (an outbound proxy, §8.1.2) every REGISTER carries.
        var route: [SIPURI] = []
        /// The digest challenges the registration last answered: later REGISTERs answer them at once (§22.1),
        /// saving a 401 round trip per refresh; a registrar that finds the nonce stale challenges again.
        var challenges: [SIPDigestChallenge] = []
    }

    /// How long to wait before trying again after a failed REGISTER.
    static let registrationRetry: Duration = .seconds(60)

    /// Registers our contact for `aor` at `registrar` for `expires` seconds, and keeps it registered; a new call
    /// replaces the old registration's address of record and expiry.
    /// `nextHops`: the registrar's SRV targets (RFC 3263), tried in order when one does not answer or answers 503;
    /// `route`: a preloaded route (an outbound proxy, §8.1.2), as for ``startCall(to:sdp:fromUser:displayName:headers:nextHops:route:now:)``.
    public mutating func register(at registrar: SIPURI, aor: SIPURI, expires: Int = 3600, nextHops: [SIPTransportAddress] = [],
                                  route: [SIPURI] = [], now: Duration) throws(SIPUserAgentError) -> [SIPUserAgentAction] {
        guard registrar.scheme == .sip, aor.scheme == .sip else { throw .unsupported("sips: (TLS transport)") }
        if let transport = Self.unsupportedTransport(registrar) { throw .unsupported("transport=\(transport)") }
        guard expires > 0 else { throw .invalidState("expires must be positive; unregister() removes the registration") }
        var toURI = aor
        toURI.parameters = []
        toURI.headers = []
        registration = Registration(registrar: registrar, aor: toURI, callID: registration?.callID ?? "\(configuration.makeToken())@\(configuration.localHost)",
                                    fromTag: registration?.fromTag ?? configuration.makeToken(), sequence: registration?.sequence ?? 0,
                                    requested: expires, hops: nextHops, route: route)
        return [.cancelTimer(.registrationRefresh)] + sendRegister(expires: expires, now: now)
    }

    /// Removes our registration (REGISTER with Expires: 0); `.unregistered` follows when the registrar answers.
    public mutating func unregister(now: Duration) -> [SIPUserAgentAction] {
        guard var current = registration else { return [] }
        current.unregistering = true
        registration = current
        return [.cancelTimer(.registrationRefresh)] + sendRegister(expires: 0, now: now)
    }

    /// The contact we register: our address with the address of record's user part, so that requests the
    /// registrar forwards name that user.
    func registrationContact(_ registration: Registration, transport: SIPTransportKind) -> SIPURI {
        contactURI(transport: transport, user: registration.aor.user)
    }

    mutating func sendRegister(expires: Int, now: Duration) -> [SIPUserAgentAction] {
        guard var current = registration else { return [] }
        current.sequence += 1
        registration = current
        let destination = current.hops.first ?? SIPTransportAddress(uri: current.registrar, defaultTransport: configuration.transport)
        var headers = SIPHeaders()
        headers.add("Via", makeVia(transport: destination.transport))
        for hop in current.route { headers.add("Route", "<\(hop)>") }
        headers.add("Max-Forwards", "70")
        headers.add("From", SIPNameAddress(displayName: configuration.displayName, uri: current.aor,
                                           parameters: [SIPParameter("tag", current.fromTag)]).description)
        headers.add("To", SIPNameAddress(uri: current.aor).description)
        headers.add("Call-ID", current.callID)
        headers.add("CSeq", SIPCSeq(current.sequence, .register).description)
        headers.add("Contact", "<\(registrationContact(current, transport: destination.transport))>")
        headers.add("Expires", String(expires))
        headers.add("Allow", Self.allowedMethods.map(\.rawValue).joined(separator: ", "))
        headers.add("User-Agent", configuration.userAgent)
        for challenge in current.challenges {
            if let value = authorization(answering: challenge, method: .register, uri: current.registrar) {
                headers.add(challenge.isProxy ? "Proxy-Authorization" : "Authorization", value)
            }
        }
        let request = SIPMessage.request(.register, uri: current.registrar, headers: headers)
        return startClient(request, destination: destination, purpose: .register, authRetried: false, now: now)
    }

    /// The final response to a REGISTER of ours (after any digest retry).
    mutating func registerResponse(_ response: SIPMessage, code: Int, entry: ClientEntry, now: Duration) -> [SIPUserAgentAction] {
        guard var current = registration else { return [] }
        if code == 503, let retry = registrarFailOver(now: now) { return retry }
        current.hopFailures = 0
        registration = current
        if (200..<300).contains(code) {
            if current.unregistering {
                registration = nil
                return [.event(.registration(.unregistered))]
            }
            let granted = Self.grantedExpiry(response, contact: registrationContact(current, transport: entry.destination.transport),
                                             requested: current.requested)
            // A 2xx that keeps no binding of ours (expires=0) is no registration: refreshing at once would loop.
            guard granted > 0 else { return registrationFailed(status: code, reason: "the registrar kept no binding", now: now) }
            // §10.2.4: refresh before the binding expires — at half of it.
            let refresh: Duration = .milliseconds(max(500, granted * 500))
            return [.startTimer(.registrationRefresh, at: now + refresh), .event(.registration(.registered(expires: granted)))]
        }
        if let retry = authRetry(entry, response: response, now: now) { return retry }
        if code == 423, !current.unregistering, let minimum = response.headers["Min-Expires"].flatMap({ Int($0.trimmingLWS()) }),
           minimum > current.requested, minimum <= 86_400 * 7 {
            // §10.2.8: the registrar wants a longer expiry.
            var raised = current
            raised.requested = minimum
            registration = raised
            return sendRegister(expires: minimum, now: now)
        }
        // §20.33: a registrar in maintenance or overloaded (503, 500, 480 …) may say when to come back.
        let retryAfter = response.headers["Retry-After"]
            .flatMap { $0.split(separator: ";", maxSplits: 1).first.map(String.init) }
            .flatMap { Self.deltaSeconds($0) }
        return registrationFailed(status: code, reason: response.reasonPhrase ?? "", retryAfter: retryAfter, now: now)
    }

    /// RFC 3263 §4.3: a REGISTER that no hop answered, or that got 503, goes at once to the registrar's next SRV
    /// target, which stays in use after; nil once every hop failed in a row.
    mutating func registrarFailOver(now: Duration) -> [SIPUserAgentAction]? {
        guard var current = registration, current.hops.count > 1, current.hopFailures < current.hops.count - 1 else { return nil }
        current.hops.append(current.hops.removeFirst())
        current.hopFailures += 1
        registration = current
        return sendRegister(expires: current.unregistering ? 0 : current.requested, now: now)
    }

    /// A REGISTER that failed (final non-2xx, or no answer): reported, and tried again later — unless we were
    /// removing the registration, which is then given up.
    /// `retryAfter`: the registrar's Retry-After in seconds, used instead of `registrationRetry` (at least 10 s,
    /// at most an hour, so a hostile value can neither hammer the registrar nor park the registration for days).
    mutating func registrationFailed(status: Int, reason: String, retryAfter: Int64? = nil, now: Duration) -> [SIPUserAgentAction] {
        guard var current = registration else { return [] }
        current.hopFailures = 0
        // Credentials that did not help (403, or any other refusal) are not sent again unasked.
        current.challenges = []
        registration = current
        if current.unregistering {
            registration = nil
            return [.event(.registration(.failed(status: status, reason: reason, retryIn: nil)))]
        }
        let wait = retryAfter.map { Duration.seconds(min(max($0, 10), 3600)) } ?? Self.registrationRetry
        return [.startTimer(.registrationRefresh, at: now + wait),
                .event(.registration(.failed(status: status, reason: reason, retryIn: wait)))]
    }

    /// §10.2.4: the expiry the registrar granted — the `expires` parameter of our Contact in the 2xx, else its
    /// Expires header, else what we asked for.
    static func grantedExpiry(_ response: SIPMessage, contact ours: SIPURI, requested: Int) -> Int {
        if let contacts = try? response.contacts {
            for binding in contacts where binding.uri.host == ours.host && binding.uri.port == ours.port && binding.uri.user == ours.user {
                if let value = binding.parameters["expires"].flatMap({ Int($0) }) { return value }
            }
        }
        if let value = response.headers["Expires"].flatMap({ Int($0.trimmingLWS()) }) { return value }
        return requested
    }
}
