import Testing
@testable import SIP

func makeRequest(_ method: SIPMethod, branch: String = "z9hG4bKabc", cseq: UInt32 = 1, toTag: String? = nil) -> SIPMessage {
    var headers = SIPHeaders()
    headers.add("Via", "SIP/2.0/UDP 127.0.0.1:5070;branch=\(branch);rport")
    headers.add("Max-Forwards", "70")
    headers.add("From", "<sip:alice@127.0.0.1>;tag=a1")
    headers.add("To", "<sip:bob@127.0.0.1>" + (toTag.map { ";tag=\($0)" } ?? ""))
    headers.add("Call-ID", "call-1@127.0.0.1")
    headers.add("CSeq", "\(cseq) \(method.rawValue)")
    headers.add("Contact", "<sip:alice@127.0.0.1:5070>")
    return .request(method, uri: SIPURI(user: "bob", host: "127.0.0.1", port: 5080), headers: headers)
}

func makeResponse(_ request: SIPMessage, _ status: Int, toTag: String? = "b2") -> SIPMessage {
    var response = SIPMakeResponse(to: request, status: status, toTag: toTag)
    if status >= 101 { response.headers.add("Contact", "<sip:bob@127.0.0.1:5080>") }
    return response
}

/// Runs timers of a transaction until none is left (or `until`), recording when messages went out.
struct TransactionRun {
    var clock = FakeTimers<SIPTransactionTimer>()
    var sends: [(Duration, SIPMessage)] = []
    var passed: [SIPMessage] = []
    var timedOut: Duration?
    var terminated: Duration?

    mutating func apply(_ actions: [SIPTransactionAction]) {
        for action in actions {
            switch action {
            case .send(let message): sends.append((clock.now, message))
            case .startTimer(let timer, let at): clock.start(timer, at: at)
            case .cancelTimer(let timer): clock.cancel(timer)
            case .passToTU(let message): passed.append(message)
            case .timeout: timedOut = clock.now
            case .terminated: terminated = clock.now
            }
        }
    }

    var sendTimes: [Double] { sends.map { Double($0.0.components.seconds) + Double($0.0.components.attoseconds) / 1e18 } }
}

@Suite("SIP transactions")
struct SIPTransactionTests {
    @Test func inviteClientRetransmitsWithDoublingUntilTimerB() throws {
        var run = TransactionRun()
        var (transaction, actions) = try SIPClientTransaction.start(request: makeRequest(.invite), reliable: false, now: .zero)
        run.apply(actions)
        while run.terminated == nil, let timer = run.clock.popNext() {
            actions = transaction.timerFired(timer, now: run.clock.now)
            run.apply(actions)
        }
        // §17.1.1.2: A = T1, 2T1, 4T1 … (no T2 cap), B = 64*T1 = 32 s.
        #expect(run.sendTimes == [0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5])
        #expect(run.timedOut == .seconds(32))
        #expect(run.terminated == .seconds(32))
        #expect(transaction.state == .terminated)
    }

    @Test func nonInviteClientCapsRetransmitsAtT2UntilTimerF() throws {
        var run = TransactionRun()
        var (transaction, actions) = try SIPClientTransaction.start(request: makeRequest(.options), reliable: false, now: .zero)
        run.apply(actions)
        while run.terminated == nil, let timer = run.clock.popNext() {
            run.apply(transaction.timerFired(timer, now: run.clock.now))
        }
        // §17.1.2.2: E = T1, 2T1, 4T1, then T2 (4 s) until F = 32 s.
        #expect(run.sendTimes == [0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5])
        #expect(run.timedOut == .seconds(32))
        _ = actions
    }

    @Test func configurableTimers() throws {
        let timers = SIPTimerSettings(t1: .milliseconds(100), t2: .milliseconds(400), t4: .seconds(1))
        var run = TransactionRun()
        var (transaction, actions) = try SIPClientTransaction.start(request: makeRequest(.info), reliable: false, timers: timers, now: .zero)
        run.apply(actions)
        while run.terminated == nil, let timer = run.clock.popNext() {
            run.apply(transaction.timerFired(timer, now: run.clock.now))
        }
        #expect(run.sendTimes.prefix(5).map { ($0 * 1000).rounded() } == [0, 100, 300, 700, 1100])
        #expect(run.timedOut == .milliseconds(6400))
        _ = actions
    }

    @Test(arguments: [SIPMethod.invite, .bye])
    func reliableTransportSkipsRetransmissions(method: SIPMethod) throws {
        var run = TransactionRun()
        var (transaction, actions) = try SIPClientTransaction.start(request: makeRequest(method), reliable: true, now: .zero)
        run.apply(actions)
        while run.terminated == nil, let timer = run.clock.popNext() {
            run.apply(transaction.timerFired(timer, now: run.clock.now))
        }
        #expect(run.sends.count == 1)
        #expect(run.timedOut == .seconds(32))
        _ = actions
    }

    @Test func nonInviteProceedingRetransmitsEveryT2() throws {
        var run = TransactionRun()
        let request = makeRequest(.bye)
        var (transaction, actions) = try SIPClientTransaction.start(request: request, reliable: false, now: .zero)
        run.apply(actions)
        run.apply(transaction.receiveResponse(makeResponse(request, 100), now: .zero))
        #expect(transaction.state == .proceeding)
        #expect(run.passed.map(\.statusCode) == [100])
        for _ in 0..<3 {
            let timer = run.clock.popNext() ?? .a
            #expect(timer == .e)
            run.apply(transaction.timerFired(timer, now: run.clock.now))
        }
        #expect(run.sendTimes == [0, 0.5, 4.5, 8.5])
        run.clock.now = .seconds(9)
        run.apply(transaction.receiveResponse(makeResponse(request, 200), now: run.clock.now))
        #expect(transaction.state == .completed)
        // A retransmitted final is absorbed.
        run.apply(transaction.receiveResponse(makeResponse(request, 200), now: run.clock.now))
        #expect(run.passed.map(\.statusCode) == [100, 200])
        let k = run.clock.popNext() ?? .a
        #expect(k == .k)
        #expect(run.clock.now == .seconds(14))
        run.apply(transaction.timerFired(k, now: run.clock.now))
        #expect(run.terminated == .seconds(14))
        #expect(run.clock.pending.isEmpty)
        _ = actions
    }

    @Test func inviteClientAcksNonSuccessFinal() throws {
        var run = TransactionRun()
        let request = makeRequest(.invite)
        var (transaction, actions) = try SIPClientTransaction.start(request: request, reliable: false, now: .zero)
        run.apply(actions)
        run.apply(transaction.receiveResponse(makeResponse(request, 180), now: .milliseconds(100)))
        #expect(transaction.state == .proceeding)
        #expect(run.clock.pending.isEmpty, "Timer A and B stop in Proceeding")
        let busy = makeResponse(request, 486)
        run.apply(transaction.receiveResponse(busy, now: .milliseconds(200)))
        #expect(transaction.state == .completed)
        #expect(run.passed.map(\.statusCode) == [180, 486])
        let ack = run.sends[1].1
        #expect(ack.method == .ack)
        #expect(try ack.cseq == SIPCSeq(1, .ack))
        #expect(try ack.topVia?.branch == "z9hG4bKabc")
        #expect(try ack.to.tag == "b2")
        #expect(ack.requestURI == request.requestURI)
        // Retransmitted 486: ACK again, nothing for the TU.
        run.apply(transaction.receiveResponse(busy, now: .seconds(1)))
        #expect(run.sends.count == 3)
        #expect(run.sends[2].1 == ack)
        #expect(run.passed.count == 2)
        let d = run.clock.popNext() ?? .a
        #expect(d == .d)
        run.apply(transaction.timerFired(d, now: run.clock.now))
        #expect(run.terminated != nil)
        #expect(run.clock.now >= .seconds(32))
        _ = actions
    }

    @Test func inviteClientPassesEvery2xxInAccepted() throws {
        var run = TransactionRun()
        let request = makeRequest(.invite)
        var (transaction, actions) = try SIPClientTransaction.start(request: request, reliable: false, now: .zero)
        run.apply(actions)
        run.apply(transaction.receiveResponse(makeResponse(request, 200), now: .zero))
        run.apply(transaction.receiveResponse(makeResponse(request, 200), now: .seconds(1)))
        #expect(transaction.state == .accepted)
        #expect(run.passed.map(\.statusCode) == [200, 200])
        #expect(run.sends.count == 1, "the ACK for 2xx belongs to the TU")
        let m = run.clock.popNext() ?? .a
        #expect(m == .m)
        run.apply(transaction.timerFired(m, now: run.clock.now))
        #expect(run.terminated == .seconds(32))
        _ = actions
    }

    @Test func inviteServerSendsTryingAndRetransmitsFinalUntilTimerH() throws {
        var run = TransactionRun()
        let request = makeRequest(.invite)
        var (transaction, actions) = try SIPServerTransaction.start(request: request, reliable: false, now: .zero)
        run.apply(actions)
        #expect(run.passed == [request])
        #expect(run.sends.map(\.1.statusCode) == [100])
        // A retransmitted INVITE gets the last provisional again.
        run.apply(transaction.receiveRequest(request, now: .milliseconds(500)))
        #expect(run.sends.map(\.1.statusCode) == [100, 100])
        run.clock.now = .seconds(1)
        run.apply(transaction.sendResponse(makeResponse(request, 486), now: run.clock.now))
        #expect(transaction.state == .completed)
        while run.terminated == nil, let timer = run.clock.popNext() {
            run.apply(transaction.timerFired(timer, now: run.clock.now))
        }
        // §17.2.1: G = T1 doubling to T2; H = 64*T1 after the final.
        #expect(Array(run.sendTimes.dropFirst(2)) == [1, 1.5, 2.5, 4.5, 8.5, 12.5, 16.5, 20.5, 24.5, 28.5, 32.5])
        #expect(run.timedOut == .seconds(33))
        _ = actions
    }

    @Test func inviteServerAbsorbsAckThenTimerI() throws {
        var run = TransactionRun()
        let request = makeRequest(.invite)
        var (transaction, actions) = try SIPServerTransaction.start(request: request, reliable: false, now: .zero)
        run.apply(actions)
        let decline = makeResponse(request, 603)
        run.apply(transaction.sendResponse(decline, now: .zero))
        run.apply(transaction.receiveRequest(request, now: .milliseconds(100)))
        #expect(run.sends.last?.1 == decline, "a retransmitted INVITE gets the final again")
        var ack = makeRequest(.ack, toTag: "b2")
        ack.headers.set("CSeq", "1 ACK")
        run.clock.now = .seconds(1)
        run.apply(transaction.receiveRequest(ack, now: run.clock.now))
        #expect(transaction.state == .confirmed)
        #expect(Set(run.clock.pending.keys) == [.i])
        let i = run.clock.popNext() ?? .a
        run.apply(transaction.timerFired(i, now: run.clock.now))
        #expect(run.terminated == .seconds(6))
        #expect(run.timedOut == nil)
        _ = actions
    }

    @Test func inviteServerAcceptedStateAbsorbsRetransmissions() throws {
        var run = TransactionRun()
        let request = makeRequest(.invite)
        var (transaction, actions) = try SIPServerTransaction.start(request: request, reliable: true, now: .zero)
        run.apply(actions)
        run.apply(transaction.sendResponse(makeResponse(request, 200), now: .zero))
        #expect(transaction.state == .accepted)
        run.apply(transaction.receiveRequest(request, now: .seconds(1)))
        #expect(run.sends.count == 2)
        #expect(run.passed.count == 1)
        let l = run.clock.popNext() ?? .a
        #expect(l == .l)
        run.apply(transaction.timerFired(l, now: run.clock.now))
        #expect(run.terminated == .seconds(32))
        _ = actions
    }

    @Test func nonInviteServerRetransmitsFinalAndEndsOnTimerJ() throws {
        var run = TransactionRun()
        let request = makeRequest(.bye, toTag: "b2")
        var (transaction, actions) = try SIPServerTransaction.start(request: request, reliable: false, now: .zero)
        run.apply(actions)
        #expect(run.sends.isEmpty, "no 100 for non-INVITE")
        run.apply(transaction.receiveRequest(request, now: .milliseconds(100)))
        #expect(run.sends.isEmpty, "a retransmission in Trying is discarded")
        let ok = makeResponse(request, 200, toTag: nil)
        run.apply(transaction.sendResponse(ok, now: .milliseconds(200)))
        run.apply(transaction.receiveRequest(request, now: .milliseconds(300)))
        #expect(run.sends.map(\.1) == [ok, ok])
        let j = run.clock.popNext() ?? .a
        #expect(j == .j)
        run.apply(transaction.timerFired(j, now: run.clock.now))
        #expect(run.terminated == .milliseconds(32200))
        _ = actions
    }

    @Test func matchingRules() throws {
        let invite = makeRequest(.invite)
        var cancel = makeRequest(.cancel)
        cancel.headers.set("CSeq", "1 CANCEL")
        // §17.1.3: same branch, different method -> different client transactions.
        let inviteKey = try SIPTransactionKey.client(response: makeResponse(invite, 487))
        let cancelKey = try SIPTransactionKey.client(response: makeResponse(cancel, 200))
        #expect(inviteKey != cancelKey)
        #expect(inviteKey == (try SIPTransactionKey.client(request: invite)))
        // §17.2.3: ACK matches its INVITE server transaction; sent-by matters.
        var ack = makeRequest(.ack, toTag: "b2")
        ack.headers.set("CSeq", "1 ACK")
        #expect(try SIPTransactionKey.server(request: ack) == (try SIPTransactionKey.server(request: invite)))
        var elsewhere = invite
        elsewhere.headers.set("Via", "SIP/2.0/UDP 192.0.2.50:5070;branch=z9hG4bKabc")
        #expect(try SIPTransactionKey.server(request: elsewhere) != (try SIPTransactionKey.server(request: invite)))
        // RFC 2543 branch without the magic cookie is not supported.
        var old = invite
        old.headers.set("Via", "SIP/2.0/UDP 127.0.0.1:5070;branch=1234")
        do {
            _ = try SIPTransactionKey.server(request: old)
            Issue.record("matched")
        } catch {
            #expect(error.kind == .unsupported("RFC 2543 transaction matching"))
        }
    }
}
