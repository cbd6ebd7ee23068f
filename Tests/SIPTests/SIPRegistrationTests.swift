import Testing
@testable import SIP

/// RFC 3261 §10: registering our contact with a registrar, driven by hand-made registrar responses.
@Suite("SIP registration")
struct SIPRegistrationTests {
    static let registrar = SIPTransportAddress(transport: .udp, host: "127.0.0.1", port: 5090)

    func makeAgent() -> SIPUserAgent {
        let tokens = TokenCounter()
        return SIPUserAgent(configuration: SIPUserAgentConfiguration(
            localHost: "127.0.0.1", localPort: 5070, userName: "gateway",
            credentials: [SIPCredential(username: "1001", password: "secret")], makeToken: { "g" + tokens.next() }))
    }

    func sent(_ actions: [SIPUserAgentAction]) -> [SIPMessage] {
        actions.compactMap { if case .send(let message, _) = $0 { message } else { nil } }
    }

    func events(_ actions: [SIPUserAgentAction]) -> [SIPRegistrationEvent] {
        actions.compactMap { if case .event(.registration(let event)) = $0 { event } else { nil } }
    }

    func timer(_ actions: [SIPUserAgentAction]) -> Duration? {
        actions.compactMap { if case .startTimer(.registrationRefresh, let at) = $0 { at } else { nil } }.last
    }

    func answer(_ request: SIPMessage, _ status: Int, _ edit: (inout SIPMessage) -> Void = { _ in }) -> SIPMessage {
        var response = SIPMakeResponse(to: request, status: status, toTag: "reg1")
        edit(&response)
        return response
    }

    @Test func registersWithDigestRefreshesAndUnregisters() throws {
        var ua = makeAgent()
        let first = try #require(sent(try ua.register(at: SIPURI("sip:127.0.0.1:5090"), aor: SIPURI("sip:1001@pbx.example"), expires: 120,
                                                       now: .zero)).first)
        #expect(first.method == .register && first.requestURI?.description == "sip:127.0.0.1:5090")
        #expect(try first.to.uri.description == "sip:1001@pbx.example" && first.from.uri.description == "sip:1001@pbx.example")
        #expect(try first.from.tag != nil && first.to.tag == nil)
        #expect(first.headers["Contact"] == "<sip:1001@127.0.0.1:5070>", "the registered contact carries the address of record's user")
        #expect(try first.headers["Expires"] == "120" && (try first.cseq) == SIPCSeq(1, .register))

        let challenge = answer(first, 401) { $0.headers.add("WWW-Authenticate", "Digest realm=\"pbx\", nonce=\"n1\", algorithm=MD5, qop=\"auth\"") }
        let second = try #require(sent(ua.receive(challenge, from: Self.registrar, now: .milliseconds(10))).last)
        #expect(try second.method == .register && (try second.cseq) == SIPCSeq(2, .register))
        #expect(try second.headers["Call-ID"] == first.headers["Call-ID"] && (try second.from.tag) == (try first.from.tag))
        let credentials = try #require(try second.authorizationCredentials.first)
        #expect(credentials.username == "1001" && credentials.realm == "pbx" && credentials.uri == "sip:127.0.0.1:5090")

        let ok = answer(second, 200) { $0.headers.add("Contact", "<sip:1001@127.0.0.1:5070>;expires=60, <sip:1001@192.0.2.9:5060>;expires=3600") }
        let accepted = ua.receive(ok, from: Self.registrar, now: .milliseconds(20))
        #expect(events(accepted) == [.registered(expires: 60)], "the expiry of our own binding")
        #expect(timer(accepted) == .milliseconds(20) + .seconds(30), "refreshed at half the granted expiry")

        let refresh = try #require(sent(ua.timerFired(.registrationRefresh, now: .seconds(30))).first)
        let refreshCSeq = try refresh.cseq
        #expect(refreshCSeq == SIPCSeq(3, .register) && refresh.headers["Call-ID"] == first.headers["Call-ID"])
        #expect(refresh.headers["Expires"] == "120")
        // §22.1: the refresh answers the challenge at once, with the next nonce count (no 401 round trip).
        let again = try #require(try refresh.authorizationCredentials.first)
        #expect(again.nonce == "n1" && again.nonceCount == "00000002" && again.response != credentials.response)
        _ = ua.receive(answer(refresh, 200) { $0.headers.add("Expires", "90") }, from: Self.registrar, now: .seconds(31))

        let removal = try #require(sent(ua.unregister(now: .seconds(40))).first)
        #expect(try removal.headers["Expires"] == "0" && (try removal.cseq) == SIPCSeq(4, .register))
        #expect(try removal.authorizationCredentials.first?.nonceCount == "00000003")
        let removed = ua.receive(answer(removal, 200), from: Self.registrar, now: .seconds(41))
        #expect(events(removed) == [.unregistered])
        #expect(ua.registration == nil)
        #expect(sent(ua.timerFired(.registrationRefresh, now: .seconds(100))).isEmpty)
    }

    /// A registrar that finds the cached nonce stale challenges again: answered once with the new nonce, which the
    /// next refresh then uses. A refusal (403) drops the cached credentials: the retry asks to be challenged.
    @Test func staleNonceIsChallengedAgainAndRefusalForgetsTheCredentials() throws {
        var ua = makeAgent()
        let first = try #require(sent(try ua.register(at: SIPURI("sip:127.0.0.1:5090"), aor: SIPURI("sip:1001@pbx.example"), now: .zero)).first)
        func challenge(_ request: SIPMessage, nonce: String, stale: Bool = false) -> SIPMessage {
            answer(request, 401) { $0.headers.add("WWW-Authenticate", "Digest realm=\"pbx\", nonce=\"\(nonce)\", qop=\"auth\"\(stale ? ", stale=true" : "")") }
        }
        let authed = try #require(sent(ua.receive(challenge(first, nonce: "n1"), from: Self.registrar, now: .zero)).last)
        _ = ua.receive(answer(authed, 200) { $0.headers.add("Expires", "600") }, from: Self.registrar, now: .zero)
        let refresh = try #require(sent(ua.timerFired(.registrationRefresh, now: .seconds(300))).first)
        #expect(try refresh.authorizationCredentials.first?.nonce == "n1")
        let retried = try #require(sent(ua.receive(challenge(refresh, nonce: "n2", stale: true), from: Self.registrar, now: .seconds(300))).last)
        #expect(try retried.authorizationCredentials.map(\.nonce) == ["n2"], "one Authorization, for the new nonce")
        _ = ua.receive(answer(retried, 200) { $0.headers.add("Expires", "600") }, from: Self.registrar, now: .seconds(300))
        let next = try #require(sent(ua.timerFired(.registrationRefresh, now: .seconds(600))).first)
        #expect(try next.authorizationCredentials.first?.nonce == "n2")
        let refused = ua.receive(answer(next, 403), from: Self.registrar, now: .seconds(600))
        #expect(events(refused) == [.failed(status: 403, reason: "Forbidden", retryIn: .seconds(60))])
        let later = try #require(sent(ua.timerFired(.registrationRefresh, now: .seconds(660))).first)
        #expect(later.headers["Authorization"] == nil)
    }

    @Test func tooBriefAnIntervalIsRaisedAndFailuresAreRetried() throws {
        var ua = makeAgent()
        let first = try #require(sent(try ua.register(at: SIPURI("sip:127.0.0.1:5090"), aor: SIPURI("sip:1001@pbx.example"), expires: 60,
                                                       now: .zero)).first)
        let raised = try #require(sent(ua.receive(answer(first, 423) { $0.headers.add("Min-Expires", "300") }, from: Self.registrar, now: .zero)).first)
        #expect(try raised.headers["Expires"] == "300" && (try raised.cseq) == SIPCSeq(2, .register))
        let refused = ua.receive(answer(raised, 403), from: Self.registrar, now: .seconds(1))
        #expect(events(refused) == [.failed(status: 403, reason: "Forbidden", retryIn: .seconds(60))])
        #expect(timer(refused) == .seconds(61))
        let again = try #require(sent(ua.timerFired(.registrationRefresh, now: .seconds(61))).first)
        #expect(again.headers["Expires"] == "300", "the raised expiry is kept")

        // No answer at all (Timer F, 64*T1): reported as 408 and tried again a minute later.
        var silent = makeAgent()
        _ = try silent.register(at: SIPURI("sip:127.0.0.1:5090"), aor: SIPURI("sip:1001@pbx.example"), now: .zero)
        var timeouts: [SIPRegistrationEvent] = []
        var clock = FakeTimers<SIPUserAgentTimer>()
        func run(_ actions: [SIPUserAgentAction]) {
            for action in actions {
                switch action {
                case .startTimer(let timer, let at): clock.start(timer, at: at)
                case .cancelTimer(let timer): clock.cancel(timer)
                case .event(.registration(let event)): timeouts.append(event)
                default: break
                }
            }
        }
        run(try silent.register(at: SIPURI("sip:127.0.0.1:5090"), aor: SIPURI("sip:1001@pbx.example"), now: .zero))
        while timeouts.isEmpty, let next = clock.popNext(), clock.now < .seconds(40) { run(silent.timerFired(next, now: clock.now)) }
        #expect(timeouts.first == .failed(status: 408, reason: "Request Timeout", retryIn: .seconds(60)))
    }

    /// A registrar in maintenance says when to come back (Retry-After, §20.33): that is when the REGISTER goes
    /// again — within 10 s to an hour, whatever it says.
    @Test(arguments: [("120", Duration.seconds(120)), ("300;duration=60 (maintenance)", .seconds(300)), ("1", .seconds(10)),
                      ("999999999", .seconds(3600)), ("soon", .seconds(60))])
    func retryAfterIsHonoured(header: String, wait: Duration) throws {
        var ua = makeAgent()
        let first = try #require(sent(try ua.register(at: SIPURI("sip:127.0.0.1:5090"), aor: SIPURI("sip:1001@pbx.example"), now: .zero)).first)
        let refused = ua.receive(answer(first, 503) { $0.headers.add("Retry-After", header) }, from: Self.registrar, now: .seconds(2))
        #expect(events(refused) == [.failed(status: 503, reason: "Service Unavailable", retryIn: wait)])
        #expect(timer(refused) == .seconds(2) + wait)
    }

    /// A 2xx whose binding for us has expires=0 is reported as a failure and tried again in a minute, not
    /// refreshed at once (which would hammer the registrar).
    @Test func aZeroExpiryIsNotARegistration() throws {
        var ua = makeAgent()
        let first = try #require(sent(try ua.register(at: SIPURI("sip:127.0.0.1:5090"), aor: SIPURI("sip:1001@pbx.example"), now: .zero)).first)
        let answered = ua.receive(answer(first, 200) { $0.headers.add("Contact", "<sip:1001@127.0.0.1:5070>;expires=0") }, from: Self.registrar, now: .zero)
        #expect(events(answered) == [.failed(status: 200, reason: "the registrar kept no binding", retryIn: .seconds(60))])
        #expect(timer(answered) == .seconds(60))
    }

    @Test func sipsAndBadExpiryAreRefused() {
        var ua = makeAgent()
        #expect(throws: SIPUserAgentError.unsupported("sips: (TLS transport)")) {
            try ua.register(at: try SIPURI("sips:pbx.example"), aor: try SIPURI("sip:1001@pbx.example"), now: .zero)
        }
        #expect(throws: SIPUserAgentError.self) {
            try ua.register(at: try SIPURI("sip:pbx.example"), aor: try SIPURI("sip:1001@pbx.example"), expires: 0, now: .zero)
        }
        #expect(ua.unregister(now: .zero).isEmpty, "nothing to remove")
    }
}
