import Testing
@testable import SIP

/// RFC 3261 §13.3.1: an INVITE with `Expires` that is still unanswered when it expires gets 487; the caller's
/// transaction ends as if it had cancelled.
@Suite("SIP INVITE expiry (Expires, 487)")
struct SIPInviteExpiryTests {
    let offer = "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
    let answerSDP = "v=0\r\no=bob 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"

    /// Alice calls with `Expires: <expires>`, Bob rings; returns both handles.
    func ringing(_ net: inout Loopback, expires: String, require100rel: Bool = false) throws -> (SIPCallHandle, SIPCallHandle) {
        var headers = [("Expires", expires)]
        if require100rel { headers.append(("Require", "100rel")) }
        return try net.ringing(offer: offer, headers: headers)
    }

    func expiryPending(_ net: Loopback, _ handle: SIPCallHandle) -> Bool {
        net.clock.pending[Loopback.TimerKey(side: .bob, timer: .inviteExpiry(handle))] != nil
    }

    @Test func unansweredInviteExpiresWith487() throws {
        var net = Loopback()
        let (call, incoming) = try ringing(&net, expires: "10")
        net.advance(to: .milliseconds(9_900))
        #expect(net.sent(by: .bob, status: 487).isEmpty)
        net.advance(to: .seconds(11))
        let terminated = try #require(net.sent(by: .bob, status: 487).first)
        #expect(terminated.headers["To"]?.contains("tag=") == true, "the 487 is in the early dialog of the 180")
        #expect(net.events[.bob]?.last == .ended(incoming, .expired))
        #expect(net.bob.activeCallCount == 0)
        #expect(net.events[.alice]?.contains { if case .failed(call, status: 487, _) = $0 { true } else { false } } == true,
                "the caller's INVITE ends with 487: \(net.events[.alice] ?? [])")
        #expect(throws: SIPUserAgentError.self) { _ = try net.bob.answer(incoming, sdp: answerSDP, now: net.clock.now) }
    }

    @Test func answerBeforeExpiryStopsTheTimer() throws {
        var net = Loopback()
        let (call, incoming) = try ringing(&net, expires: "10")
        #expect(expiryPending(net, incoming))
        net.advance(to: .seconds(3))
        net.apply(.bob, try net.bob.answer(incoming, sdp: answerSDP, now: net.clock.now))
        net.deliver()
        #expect(!expiryPending(net, incoming))
        #expect(net.events[.alice]?.contains(.answered(call, sdp: answerSDP)) == true)
        // Even if the timer had fired, an answered call is not touched.
        net.apply(.bob, net.bob.timerFired(.inviteExpiry(incoming), now: .seconds(10)))
        net.advance(to: .seconds(20))
        #expect(net.sent(by: .bob, status: 487).isEmpty)
        #expect(net.bob.activeCallCount == 1)
    }

    @Test func rejectAndCancelStopTheTimer() throws {
        var net = Loopback()
        let (_, incoming) = try ringing(&net, expires: "10")
        net.apply(.bob, try net.bob.reject(incoming, status: 486, now: net.clock.now))
        #expect(!expiryPending(net, incoming))

        var second = Loopback()
        let (call, ringing) = try ringing(&second, expires: "10")
        second.apply(.alice, try second.alice.cancel(call, now: second.clock.now))
        second.deliver()
        #expect(second.events[.bob]?.last == .ended(ringing, .remoteCancelled))
        #expect(!expiryPending(second, ringing))
    }

    /// A reliable 180 waiting for its PRACK stops being resent when the INVITE expires.
    @Test func expiryEndsReliableProvisionalResends() throws {
        var net = Loopback()
        net.drop = { side, message in side == .alice && message.method == .prack }
        let (_, incoming) = try ringing(&net, expires: "2", require100rel: true)
        net.advance(to: .seconds(3))
        #expect(net.events[.bob]?.last == .ended(incoming, .expired))
        let resent = net.sent(by: .bob, status: 180).count
        net.advance(to: .seconds(40))
        #expect(net.sent(by: .bob, status: 180).count == resent)
        #expect(net.sent(by: .bob, status: 500).isEmpty, "no second final answer")
    }

    /// `Expires` values that are not delta-seconds are ignored; huge ones are capped, not wrapped.
    @Test(arguments: [("abc", nil), ("-1", nil), ("", nil), ("1.5", nil), (" 007 ", 7), ("0", 0),
                      ("99999999999999999999", Int64(UInt32.max)), ("000000000000005", 5)] as [(String, Int64?)])
    func expiresValues(text: String, seconds: Int64?) throws {
        #expect(SIPUserAgent.deltaSeconds(text) == seconds)
        var net = Loopback()
        let (_, incoming) = try ringing(&net, expires: text)
        let at = net.clock.pending[Loopback.TimerKey(side: .bob, timer: .inviteExpiry(incoming))]
        #expect(at == seconds.map { .seconds($0) })
    }
}
