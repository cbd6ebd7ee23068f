import Testing
@testable import SIP

/// Two I/O-free user agents wired back to back through a fake network and a fake clock.
struct Loopback {
    enum Side: Hashable { case alice, bob }
    struct TimerKey: Hashable { var side: Side; var timer: SIPUserAgentTimer }

    var alice: SIPUserAgent
    var bob: SIPUserAgent
    var clock = FakeTimers<TimerKey>()
    var queue: [(Side, SIPMessage, SIPTransportAddress)] = []
    var wire: [(from: Side, message: SIPMessage)] = []
    var events: [Side: [SIPUserAgentEvent]] = [:]
    /// Return true to lose a message on the way.
    var drop: (Side, SIPMessage) -> Bool = { _, _ in false }
    /// Changes a message on the way (to play a peer that behaves differently).
    var rewrite: (Side, SIPMessage) -> SIPMessage = { $1 }

    static let aliceAddress = SIPTransportAddress(transport: .udp, host: "127.0.0.1", port: 5070)
    static let bobAddress = SIPTransportAddress(transport: .udp, host: "127.0.0.1", port: 5080)

    init(transport: SIPTransportKind = .udp, credentials: [SIPCredential] = [], bobAnswersReinvites: Bool = true,
         aliceTimer: SIPSessionTimerSettings? = SIPSessionTimerSettings(), bobTimer: SIPSessionTimerSettings? = SIPSessionTimerSettings()) {
        let aliceTokens = TokenCounter()
        let bobTokens = TokenCounter()
        alice = SIPUserAgent(configuration: SIPUserAgentConfiguration(localHost: "127.0.0.1", localPort: 5070, transport: transport, userName: "alice",
                                                                      credentials: credentials, sessionTimer: aliceTimer,
                                                                      makeToken: { "a" + aliceTokens.next() }))
        bob = SIPUserAgent(configuration: SIPUserAgentConfiguration(localHost: "127.0.0.1", localPort: 5080, transport: transport, userName: "bob",
                                                                    answerReinvitesAutomatically: bobAnswersReinvites, sessionTimer: bobTimer,
                                                                    makeToken: { "b" + bobTokens.next() }))
    }

    var bobURI: SIPURI { SIPURI(user: "bob", host: "127.0.0.1", port: 5080) }

    mutating func apply(_ side: Side, _ actions: [SIPUserAgentAction]) {
        for action in actions {
            switch action {
            case .send(let original, let address):
                let message = rewrite(side, original)
                wire.append((side, message))
                let target: Side = address.port == 5080 ? .bob : .alice
                let source = side == .alice ? Self.aliceAddress : Self.bobAddress
                if !drop(side, message) {
                    queue.append((target, message, SIPTransportAddress(transport: address.transport, host: source.host, port: source.port)))
                }
            case .startTimer(let timer, let at): clock.start(TimerKey(side: side, timer: timer), at: at)
            case .cancelTimer(let timer): clock.cancel(TimerKey(side: side, timer: timer))
            case .event(let event): events[side, default: []].append(event)
            }
        }
    }

    /// Delivers queued messages (through serialisation and parsing, as on a real wire).
    mutating func deliver() {
        while !queue.isEmpty {
            let (side, message, source) = queue.removeFirst()
            guard let parsed = try? SIPParser.parse(datagram: message.serialized()) else {
                Issue.record("unparseable message on the wire: \(message)")
                continue
            }
            switch side {
            case .alice: apply(.alice, alice.receive(parsed, from: source, now: clock.now))
            case .bob: apply(.bob, bob.receive(parsed, from: source, now: clock.now))
            }
        }
    }

    /// Fires timers up to `time`, delivering messages in between.
    mutating func advance(to time: Duration) {
        deliver()
        while let (key, at) = clock.pending.min(by: { $0.value < $1.value }), at <= time {
            clock.pending[key] = nil
            clock.now = at
            switch key.side {
            case .alice: apply(.alice, alice.timerFired(key.timer, now: clock.now))
            case .bob: apply(.bob, bob.timerFired(key.timer, now: clock.now))
            }
            deliver()
        }
        clock.now = max(clock.now, time)
    }

    /// Alice calls Bob (`headers` on the INVITE) and the INVITE reaches him; returns Alice's and Bob's handles.
    mutating func invite(offer: String, headers: [(String, String)] = []) throws -> (SIPCallHandle, SIPCallHandle) {
        let (call, actions) = try alice.startCall(to: bobURI, sdp: offer, headers: headers, now: clock.now)
        apply(.alice, actions)
        deliver()
        return (call, try #require(incomingHandle()))
    }

    /// Alice calls Bob and Bob rings (180); returns Alice's and Bob's handles.
    mutating func ringing(offer: String, headers: [(String, String)] = []) throws -> (SIPCallHandle, SIPCallHandle) {
        let (call, incoming) = try invite(offer: offer, headers: headers)
        apply(.bob, try bob.ring(incoming, now: clock.now))
        deliver()
        return (call, incoming)
    }

    /// Alice calls Bob (`headers` on the INVITE) and Bob answers; returns Alice's and Bob's handles.
    mutating func establish(offer: String, answer: String, headers: [(String, String)] = []) throws -> (SIPCallHandle, SIPCallHandle) {
        let (call, incoming) = try invite(offer: offer, headers: headers)
        apply(.bob, try bob.answer(incoming, sdp: answer, now: clock.now))
        deliver()
        try #require(events[.alice]?.contains(.answered(call, sdp: answer)) == true)
        return (call, incoming)
    }

    /// A request in `dialog` from `side`, handed straight to the other side's core rather than queued on the
    /// wire; returns what that core does with it.
    mutating func request(_ method: SIPMethod, from side: Side, in dialog: inout SIPDialog, sdp: String? = nil,
                          headers: [(String, String)] = []) -> [SIPUserAgentAction] {
        var request = dialog.makeRequest(method, body: Array((sdp ?? "").utf8), contentType: sdp == nil ? nil : "application/sdp")
        for (name, value) in headers { request.headers.add(name, value) }
        switch side {
        case .alice:
            request = alice.withVia(request, alice.makeVia(transport: .udp))
            return bob.receive(request, from: Self.aliceAddress, now: clock.now)
        case .bob:
            request = bob.withVia(request, bob.makeVia(transport: .udp))
            return alice.receive(request, from: Self.bobAddress, now: clock.now)
        }
    }

    /// The first message `actions` send (the answer to a request handed over with `request`).
    static func firstSent(_ actions: [SIPUserAgentAction]) -> SIPMessage? {
        actions.lazy.compactMap { if case .send(let message, _) = $0 { message } else { nil } }.first
    }

    func incomingHandle() -> SIPCallHandle? {
        for case .incomingCall(let handle, _) in events[.bob] ?? [] { return handle }
        return nil
    }

    func sent(by side: Side, method: SIPMethod) -> [SIPMessage] { wire.filter { $0.from == side && $0.message.method == method }.map(\.message) }
    func sent(by side: Side, status: Int) -> [SIPMessage] { wire.filter { $0.from == side && $0.message.statusCode == status }.map(\.message) }
}

@Suite("SIP user agent core")
struct SIPUserAgentTests {
    let offer = "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
    let answerSDP = "v=0\r\no=bob 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"

    @Test(arguments: [SIPTransportKind.udp, .tcp])
    func callRingAnswerInfoAndByeFromCallee(transport: SIPTransportKind) throws {
        var net = Loopback(transport: transport)
        var uri = net.bobURI
        if transport == .tcp { uri.parameters.set("transport", "tcp") }
        let (call, actions) = try net.alice.startCall(to: uri, sdp: offer, now: .zero)
        net.apply(.alice, actions)
        net.deliver()
        let incoming = try #require(net.incomingHandle())
        guard case .incomingCall(_, let info)? = net.events[.bob]?.first else { Issue.record("no incoming call"); return }
        #expect(info.sdp == offer)
        #expect(info.from.uri.user == "alice")
        #expect(net.sent(by: .bob, status: 100).count == 1)

        net.apply(.bob, try net.bob.ring(incoming, now: net.clock.now))
        net.deliver()
        #expect(net.events[.alice] == [.ringing(call, status: 180, sdp: nil)])

        net.apply(.bob, try net.bob.answer(incoming, sdp: answerSDP, now: net.clock.now))
        net.deliver()
        #expect(net.events[.alice]?.last == .answered(call, sdp: answerSDP))
        #expect(net.events[.bob]?.last == .confirmed(incoming, sdp: nil))
        let ack = try #require(net.sent(by: .alice, method: .ack).first)
        #expect(try ack.cseq == SIPCSeq(1, .ack))
        #expect(ack.requestURI?.port == 5080, "ACK goes to the callee's Contact")
        #expect(net.alice.dialog(of: call)?.state == .confirmed)

        // INFO with a trickle-ICE fragment, caller to callee.
        let fragment = Array("a=candidate:1 1 UDP 2130706431 127.0.0.1 4000 typ host\r\n".utf8)
        let (infoKey, infoActions) = try net.alice.sendInfo(call, contentType: "application/sdpfrag", body: fragment, infoPackage: "trickle-ice", now: net.clock.now)
        net.apply(.alice, infoActions)
        net.deliver()
        #expect(net.events[.bob]?.last == .info(incoming, contentType: "application/sdpfrag", body: fragment, infoPackage: "trickle-ice"))
        #expect(net.events[.alice]?.last == .requestCompleted(call, request: infoKey, status: 200, sdp: nil))
        #expect(try net.sent(by: .alice, method: .info).first?.cseq == SIPCSeq(2, .info))

        // The callee hangs up: its first request in the dialog has CSeq 1.
        net.apply(.bob, try net.bob.hangUp(incoming, now: net.clock.now))
        net.deliver()
        #expect(try net.sent(by: .bob, method: .bye).first?.cseq == SIPCSeq(1, .bye))
        #expect(net.events[.alice]?.last == .ended(call, .remoteHangUp))
        #expect(net.events[.bob]?.last == .ended(incoming, .localHangUp))
        #expect(net.alice.activeCallCount == 0)
        #expect(net.bob.activeCallCount == 0)
        // Transactions linger only for their absorb timers, then everything is gone.
        net.advance(to: .seconds(120))
        #expect(net.alice.transactionCount == 0)
        #expect(net.bob.transactionCount == 0)
        #expect(net.clock.pending.isEmpty)
    }

    @Test func callerCancelsRingingCall() throws {
        var net = Loopback()
        let (call, incoming) = try net.ringing(offer: offer)
        net.apply(.alice, try net.alice.cancel(call, now: .zero))
        net.deliver()
        let cancel = try #require(net.sent(by: .alice, method: .cancel).first)
        let invite = try #require(net.sent(by: .alice, method: .invite).first)
        #expect(try cancel.topVia?.branch == (try invite.topVia?.branch))
        #expect(try cancel.cseq == SIPCSeq(1, .cancel))
        #expect(net.events[.bob]?.last == .ended(incoming, .remoteCancelled))
        #expect(net.events[.alice]?.last == .failed(call, status: 487, reason: "Request Terminated"))
        #expect(net.sent(by: .alice, method: .ack).count == 1, "the 487 is ACKed by the transaction")
    }

    @Test func cancelBeforeAnyProvisionalWaitsForOne() throws {
        var net = Loopback()
        // Bob's 100 Trying is lost, so Alice has seen no provisional response yet.
        net.drop = { side, message in side == .bob && message.statusCode == 100 }
        let (call, actions) = try net.alice.startCall(to: net.bobURI, sdp: offer, now: .zero)
        net.apply(.alice, actions)
        net.deliver()
        net.apply(.alice, try net.alice.cancel(call, now: .zero))
        #expect(net.sent(by: .alice, method: .cancel).isEmpty, "§9.1: no CANCEL before a provisional response")
        net.apply(.bob, try net.bob.ring(try #require(net.incomingHandle()), now: .zero))
        net.deliver()
        #expect(net.sent(by: .alice, method: .cancel).count == 1)
        #expect(net.events[.alice]?.last == .failed(call, status: 487, reason: "Request Terminated"))
    }

    @Test(arguments: [486, 603])
    func calleeRejects(status: Int) throws {
        var net = Loopback()
        let (call, incoming) = try net.invite(offer: offer)
        net.apply(.bob, try net.bob.reject(incoming, status: status, now: .zero))
        net.deliver()
        #expect(net.events[.alice]?.last == .failed(call, status: status, reason: SIPMessage.defaultReason(status)))
        net.advance(to: .seconds(60))
        #expect(net.bob.transactionCount == 0)
        #expect(net.sent(by: .bob, status: status).count == 1, "the ACK stopped Timer G retransmissions")
    }

    @Test func noAnswerTimesOutWith408() throws {
        var net = Loopback()
        net.drop = { side, _ in side == .alice }
        let (call, actions) = try net.alice.startCall(to: net.bobURI, sdp: offer, now: .zero)
        net.apply(.alice, actions)
        net.advance(to: .seconds(40))
        #expect(net.events[.alice] == [.failed(call, status: 408, reason: "Request Timeout")])
        #expect(net.sent(by: .alice, method: .invite).count == 7)
    }

    /// §13.3.1.4: the 2xx is retransmitted (T1 doubling to T2) until the ACK; without one the
    /// call is ended with BYE after 64*T1.
    @Test func lostAckMakesCalleeRetransmitThenBye() throws {
        var net = Loopback()
        net.drop = { side, message in side == .alice && message.method == .ack }
        let (call, actions) = try net.alice.startCall(to: net.bobURI, sdp: offer, now: .zero)
        net.apply(.alice, actions)
        net.deliver()
        let incoming = try #require(net.incomingHandle())
        net.apply(.bob, try net.bob.answer(incoming, sdp: answerSDP, now: .zero))
        net.advance(to: .seconds(40))
        let oks = net.wire.filter { $0.from == .bob && $0.message.statusCode == 200 && (try? $0.message.cseq.method) == .invite }
        #expect(oks.count == 11)
        #expect(net.sent(by: .alice, method: .ack).count == 11, "every 2xx retransmission is ACKed again")
        #expect(net.events[.bob]?.last == .ended(incoming, .timeout))
        #expect(net.events[.alice]?.last == .ended(call, .remoteHangUp))
    }

    @Test func digestChallengeIsAnsweredOnce() throws {
        var net = Loopback(credentials: [SIPCredential(username: "alice", password: "secret", realm: "example.org")])
        let (call, actions) = try net.alice.startCall(to: net.bobURI, sdp: offer, now: .zero)
        net.apply(.alice, actions)
        let invite = try #require(net.queue.first?.1)
        net.queue.removeAll()
        var challenge = SIPMakeResponse(to: invite, status: 401, toTag: "srv")
        challenge.headers.add("WWW-Authenticate", #"Digest realm="example.org", nonce="n0nce", qop="auth", algorithm=MD5"#)
        net.apply(.alice, net.alice.receive(challenge, from: Loopback.bobAddress, now: .zero))
        #expect(net.queue.first?.1.method == .ack, "the 401 is ACKed by the transaction")
        let retried = try #require(net.queue.first { $0.1.method == .invite }?.1)
        #expect(try retried.cseq == SIPCSeq(2, .invite))
        #expect(try retried.topVia?.branch != (try invite.topVia?.branch))
        #expect(try retried.callID == (try invite.callID))
        let credentials = try #require(try retried.authorizationCredentials.first)
        let expected = try SIPDigest.response(algorithm: "MD5", username: "alice", realm: "example.org", password: "secret", method: "INVITE",
                                              uri: net.bobURI.description, nonce: "n0nce", nonceCount: "00000001",
                                              cnonce: try #require(credentials.cnonce), qop: "auth")
        #expect(credentials.response == expected)
        #expect(credentials.uri == net.bobURI.description)
        // A second 401 is final.
        net.queue.removeAll()
        var again = SIPMakeResponse(to: retried, status: 401, toTag: "srv")
        again.headers.add("WWW-Authenticate", #"Digest realm="example.org", nonce="n0nce2", qop="auth""#)
        net.apply(.alice, net.alice.receive(again, from: Loopback.bobAddress, now: .zero))
        #expect(net.events[.alice]?.last == .failed(call, status: 401, reason: "Unauthorized"))
        #expect(net.queue.filter { $0.1.method == .invite }.isEmpty)
    }

    @Test func optionsAndUnsupportedRequests() throws {
        var net = Loopback()
        var counter = 0
        func ask(_ method: SIPMethod, extra: [(String, String)] = [], toTag: String? = nil) -> SIPMessage? {
            counter += 1
            var request = makeRequest(method, branch: "z9hG4bK\(counter)", toTag: toTag)
            for (name, value) in extra { request.headers.add(name, value) }
            let actions = net.bob.receive(request, from: Loopback.aliceAddress, now: .zero)
            for case .send(let message, let address) in actions {
                #expect(address == SIPTransportAddress(transport: .udp, host: "127.0.0.1", port: 5070))
                return message
            }
            return nil
        }
        let options = try #require(ask(.options))
        #expect(options.statusCode == 200)
        #expect(options.headers.values("Allow").contains("INFO"))
        #expect(options.headers["Accept"] == "application/sdp")
        #expect(try options.to.tag != nil)
        #expect(ask("FOO")?.statusCode == 501)
        #expect(ask(.register)?.statusCode == 405)
        #expect(ask(.options, extra: [("Require", "100rel")])?.statusCode == 420)
        #expect(ask(.bye, toTag: "nope")?.statusCode == 481)
        #expect(ask(.info, toTag: "nope")?.statusCode == 481)
    }

    @Test func rport() throws {
        var net = Loopback()
        let request = makeRequest(.options)
        let actions = net.bob.receive(request, from: SIPTransportAddress(transport: .udp, host: "127.0.0.1", port: 40000), now: .zero)
        guard case .send(let response, let address)? = actions.first else { Issue.record("no response"); return }
        // RFC 3581 §4: received and rport filled in; the response goes to the source port.
        #expect(address.port == 40000)
        let via = try #require(try response.topVia)
        #expect(via.rport == .some(40000))
        #expect(via.received == "127.0.0.1")
    }

    @Test func malformedRequestGets400OrIsDropped() throws {
        var net = Loopback()
        let bytes = crlf("INVITE sip:bob@127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:bob@h>\nCall-ID: c\nCSeq: 1 INVITE\nContent-Length: 99\n\n")
        do {
            _ = try SIPParser.parse(datagram: bytes)
            Issue.record("parsed")
        } catch {
            let actions = net.bob.receiveMalformed(error, from: Loopback.aliceAddress)
            guard case .send(let response, let address)? = actions.first else { Issue.record("no 400"); return }
            #expect(response.statusCode == 400)
            #expect(address.port == 5070)
        }
        #expect(net.bob.receiveMalformed(SIPParseError(.malformedStartLine, reason: "x"), from: Loopback.aliceAddress).isEmpty)
        #expect(net.bob.droppedMessages == 2)
    }

    @Test func reinviteBothWays() throws {
        var net = Loopback()
        let (call, actions) = try net.alice.startCall(to: net.bobURI, sdp: offer, now: .zero)
        net.apply(.alice, actions)
        net.deliver()
        let incoming = try #require(net.incomingHandle())
        net.apply(.bob, try net.bob.answer(incoming, sdp: answerSDP, now: .zero))
        net.deliver()
        let (key, reinvite) = try net.alice.reinvite(call, sdp: offer + "a=sendonly\r\n", now: .zero)
        net.apply(.alice, reinvite)
        net.deliver()
        #expect(net.events[.bob]?.contains(.remoteReinvite(incoming, sdp: offer + "a=sendonly\r\n")) == true)
        #expect(net.events[.alice]?.last == .requestCompleted(call, request: key, status: 200, sdp: answerSDP))
        #expect(try net.sent(by: .alice, method: .ack).last?.cseq == SIPCSeq(2, .ack))
        #expect(net.events[.bob]?.last == .confirmed(incoming, sdp: nil))
        net.apply(.alice, try net.alice.hangUp(call, now: .zero))
        net.deliver()
        #expect(try net.sent(by: .alice, method: .bye).first?.cseq == SIPCSeq(3, .bye))
        #expect(net.events[.alice]?.last == .ended(call, .localHangUp))
        #expect(net.events[.bob]?.last == .ended(incoming, .remoteHangUp))
    }

    @Test func unsupportedSchemesAndTransportsThrow() throws {
        var net = Loopback()
        #expect(throws: SIPUserAgentError.unsupported("sips: (TLS transport)")) {
            try net.alice.startCall(to: try SIPURI("sips:bob@127.0.0.1"), sdp: offer, now: .zero)
        }
        #expect(throws: SIPUserAgentError.unsupported("transport=sctp")) {
            try net.alice.startCall(to: try SIPURI("sip:bob@127.0.0.1;transport=sctp"), sdp: offer, now: .zero)
        }
    }

    /// §15: a callee hanging up between its 2xx and the ACK sends BYE only once the ACK is in.
    @Test func calleeByeWaitsForAck() throws {
        var net = Loopback()
        let (call, actions) = try net.alice.startCall(to: net.bobURI, sdp: offer, now: .zero)
        net.apply(.alice, actions)
        net.deliver()
        let incoming = try #require(net.incomingHandle())
        net.apply(.bob, try net.bob.answer(incoming, sdp: answerSDP, now: .zero))
        net.apply(.bob, try net.bob.hangUp(incoming, now: .zero))
        #expect(net.sent(by: .bob, method: .bye).isEmpty)
        net.deliver()
        #expect(net.sent(by: .bob, method: .bye).count == 1)
        #expect(net.events[.alice]?.suffix(2) == [.answered(call, sdp: answerSDP), .ended(call, .remoteHangUp)])
        #expect(net.events[.bob]?.last == .ended(incoming, .localHangUp))
    }

    /// An ACK for the 2xx that reuses the INVITE's branch still confirms the call.
    @Test func ackWithInviteBranchConfirms() throws {
        var net = Loopback()
        let invite = makeRequest(.invite, branch: "z9hG4bKsame")
        net.apply(.bob, net.bob.receive(invite, from: Loopback.aliceAddress, now: .zero))
        let incoming = try #require(net.incomingHandle())
        net.apply(.bob, try net.bob.answer(incoming, sdp: answerSDP, now: .zero))
        let ok = try #require(net.sent(by: .bob, status: 200).first)
        var ack = makeRequest(.ack, branch: "z9hG4bKsame", toTag: try ok.to.tag)
        ack.headers.set("CSeq", "1 ACK")
        net.apply(.bob, net.bob.receive(ack, from: Loopback.aliceAddress, now: .milliseconds(10)))
        #expect(net.events[.bob]?.last == .confirmed(incoming, sdp: nil))
        #expect(net.clock.pending.keys.contains { $0.timer == .answerRetransmit(incoming) } == false)
    }

    @Test func unreachableDestinationFailsWith503() throws {
        var net = Loopback()
        let (call, actions) = try net.alice.startCall(to: net.bobURI, sdp: offer, now: .zero)
        net.apply(.alice, actions)
        net.queue.removeAll()
        net.apply(.alice, net.alice.transportFailed(to: Loopback.bobAddress, now: .milliseconds(5)))
        #expect(net.events[.alice] == [.failed(call, status: 503, reason: "Service Unavailable")])
        #expect(net.alice.transactionCount == 0)
    }

    /// RFC 3261 §22.3 (407 with Proxy-Authorization) and RFC 8760/7616 SHA-256, through the core.
    @Test(arguments: [(407, "SHA-256"), (401, "SHA-256"), (407, "MD5")])
    func proxyAndSHA256Challenges(status: Int, algorithm: String) throws {
        var net = Loopback(credentials: [SIPCredential(username: "alice", password: "pw")])
        let (_, actions) = try net.alice.startCall(to: net.bobURI, sdp: offer, now: .zero)
        net.apply(.alice, actions)
        let invite = try #require(net.queue.first?.1)
        net.queue.removeAll()
        var challenge = SIPMakeResponse(to: invite, status: status, toTag: "proxy")
        let header = status == 407 ? "Proxy-Authenticate" : "WWW-Authenticate"
        challenge.headers.add(header, "Digest realm=\"proxy.example\", nonce=\"abc\", qop=\"auth\", algorithm=\(algorithm), opaque=\"op\"")
        net.apply(.alice, net.alice.receive(challenge, from: Loopback.bobAddress, now: .zero))
        let retried = try #require(net.queue.first { $0.1.method == .invite }?.1)
        let credentials = try #require(try retried.authorizationCredentials.first)
        #expect(credentials.isProxy == (status == 407))
        #expect(retried.headers[status == 407 ? "Proxy-Authorization" : "Authorization"] != nil)
        #expect(credentials.algorithm == algorithm)
        #expect(credentials.opaque == "op")
        let expected = try SIPDigest.response(algorithm: algorithm, username: "alice", realm: "proxy.example", password: "pw", method: "INVITE",
                                              uri: credentials.uri, nonce: "abc", nonceCount: "00000001",
                                              cnonce: try #require(credentials.cnonce), qop: "auth")
        #expect(credentials.response == expected)
        #expect(credentials.response.count == (algorithm == "MD5" ? 32 : 64))
    }

    @Test func inviteWithoutOfferIsUnsupported() {
        var net = Loopback()
        #expect(throws: SIPUserAgentError.unsupported("INVITE without SDP offer")) {
            try net.alice.startCall(to: net.bobURI, sdp: "", now: .zero)
        }
    }

    /// §13.2.2.4: a 2xx from a second fork gets ACK and BYE; the first dialog stays the call.
    @Test func forkedSecondAnswerIsAckedAndEnded() throws {
        var net = Loopback()
        let (call, actions) = try net.alice.startCall(to: net.bobURI, sdp: offer, now: .zero)
        net.apply(.alice, actions)
        let invite = try #require(net.queue.first?.1)
        net.queue.removeAll()
        func ok(tag: String, port: Int) -> SIPMessage {
            var response = SIPMakeResponse(to: invite, status: 200, toTag: tag)
            response.headers.add("Contact", "<sip:bob@127.0.0.1:\(port)>")
            response.body = Array(answerSDP.utf8)
            return response
        }
        net.apply(.alice, net.alice.receive(ok(tag: "fork1", port: 5080), from: Loopback.bobAddress, now: .zero))
        net.apply(.alice, net.alice.receive(ok(tag: "fork2", port: 5090), from: Loopback.bobAddress, now: .zero))
        net.apply(.alice, net.alice.receive(ok(tag: "fork1", port: 5080), from: Loopback.bobAddress, now: .zero))
        let acks = net.sent(by: .alice, method: .ack)
        #expect(try acks.map { try $0.to.tag } == ["fork1", "fork2", "fork1"])
        let byes = net.sent(by: .alice, method: .bye)
        #expect(byes.count == 1)
        #expect(try byes.first?.to.tag == "fork2")
        #expect(byes.first?.requestURI?.port == 5090)
        #expect(net.events[.alice] == [.answered(call, sdp: answerSDP)])
        #expect(net.alice.dialog(of: call)?.id.remoteTag == "fork1")
    }

    /// With manual re-INVITE answers the application's SDP goes out (a hold offer answered recvonly),
    /// or its rejection leaves the session as it was.
    @Test func reinviteAnsweredOrRejectedByTheApplication() throws {
        var net = Loopback(bobAnswersReinvites: false)
        let (call, actions) = try net.alice.startCall(to: net.bobURI, sdp: offer, now: .zero)
        net.apply(.alice, actions)
        net.deliver()
        let incoming = try #require(net.incomingHandle())
        net.apply(.bob, try net.bob.answer(incoming, sdp: answerSDP, now: .zero))
        net.deliver()

        let hold = offer + "a=sendonly\r\n"
        let (holdKey, holdActions) = try net.alice.reinvite(call, sdp: hold, now: .zero)
        net.apply(.alice, holdActions)
        net.deliver()
        #expect(net.events[.bob]?.last == .remoteReinvite(incoming, sdp: hold))
        #expect(net.sent(by: .bob, status: 200).count == 1, "only the first 2xx so far")
        // A second offer from Alice while hers is open is refused locally (§14.1).
        #expect(throws: SIPUserAgentError.self) { try net.alice.reinvite(call, sdp: offer, now: .zero) }
        let recvonly = answerSDP + "a=recvonly\r\n"
        net.apply(.bob, try net.bob.answerReinvite(incoming, sdp: recvonly, now: .zero))
        net.deliver()
        #expect(net.events[.alice]?.last == .requestCompleted(call, request: holdKey, status: 200, sdp: recvonly))

        let (resumeKey, resumeActions) = try net.alice.reinvite(call, sdp: offer, now: .zero)
        net.apply(.alice, resumeActions)
        net.deliver()
        net.apply(.bob, try net.bob.rejectReinvite(incoming, status: 488, now: .zero))
        net.deliver()
        #expect(net.events[.alice]?.last == .requestCompleted(call, request: resumeKey, status: 488, sdp: nil))
        #expect(net.alice.dialog(of: call)?.state == .confirmed)
        #expect(throws: SIPUserAgentError.invalidState("no re-INVITE waiting for an answer")) {
            try net.bob.answerReinvite(incoming, sdp: answerSDP, now: .zero)
        }
    }

    /// §14.2: a re-INVITE arriving while ours is open is answered 491.
    @Test func crossingReinvitesGet491() throws {
        var net = Loopback(bobAnswersReinvites: false)
        let (call, incoming) = try net.establish(offer: offer, answer: answerSDP)
        let (_, bobActions) = try net.bob.reinvite(incoming, sdp: answerSDP, now: .zero)
        let (_, aliceActions) = try net.alice.reinvite(call, sdp: offer, now: .zero)
        net.apply(.bob, bobActions)
        net.apply(.alice, aliceActions)
        net.deliver()
        #expect(net.sent(by: .bob, status: 491).count == 1)
        #expect(net.sent(by: .alice, status: 491).count == 1)
    }

    /// §14.1: after crossing (491 both ways) each side sends its re-INVITE again after a random wait — the
    /// callee within 2 s, the caller (who chose the Call-ID) after 2.1 to 4 s — so both go through, and the
    /// applications hear only the 200s.
    @Test func crossingReinvitesAreRetried() throws {
        var net = Loopback()
        let (call, incoming) = try net.establish(offer: offer, answer: answerSDP)
        let (bobKey, bobActions) = try net.bob.reinvite(incoming, sdp: answerSDP, now: .zero)
        let (aliceKey, aliceActions) = try net.alice.reinvite(call, sdp: offer, now: .zero)
        net.apply(.bob, bobActions)
        net.apply(.alice, aliceActions)
        net.deliver()
        #expect(net.sent(by: .bob, status: 491).count == 1 && net.sent(by: .alice, status: 491).count == 1)
        #expect(throws: SIPUserAgentError.self, "a retry is pending") { try net.alice.reinvite(call, sdp: offer, now: .zero) }
        net.advance(to: .seconds(2))
        #expect(net.events[.bob]?.contains(.requestCompleted(incoming, request: bobKey, status: 200, sdp: offer)) == true, "bob's retry went first")
        #expect(!(net.events[.alice] ?? []).contains { if case .requestCompleted = $0 { true } else { false } })
        net.advance(to: .seconds(5))
        #expect(net.events[.alice]?.contains(.requestCompleted(call, request: aliceKey, status: 200, sdp: answerSDP)) == true)
        let reported = (net.events[.alice] ?? []) + (net.events[.bob] ?? [])
        #expect(!reported.contains { if case .requestCompleted(_, _, 491, _) = $0 { true } else { false } })
        #expect(try net.sent(by: .alice, method: .invite).map { try $0.cseq.number } == [1, 2, 3], "the retry is a new transaction")
    }
}
