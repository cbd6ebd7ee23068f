import Testing
@testable import SIP

/// RFC 3262: a caller that requires reliable provisional responses (`Require: 100rel`) gets its 180 with RSeq,
/// resent until its PRACK.
@Suite("SIP reliable provisional responses (100rel, PRACK)")
struct SIPReliableProvisionalTests {
    let offer = "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
    let answerSDP = "v=0\r\no=bob 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"

    /// Alice calls requiring 100rel; Bob rings. Returns the handles and the reliable 180.
    func ringing(_ net: inout Loopback) throws -> (SIPCallHandle, SIPCallHandle, SIPMessage) {
        let (call, incoming) = try net.ringing(offer: offer, headers: [("Require", "100rel")])
        #expect(net.sent(by: .bob, status: 420).isEmpty, "Require: 100rel is supported")
        let ringing = try #require(net.sent(by: .bob, status: 180).first)
        return (call, incoming, ringing)
    }

    /// A PRACK in Alice's early dialog, delivered to Bob; returns Bob's answer to it.
    func prack(_ net: inout Loopback, dialog: inout SIPDialog, rack: String) -> SIPMessage? {
        Loopback.firstSent(net.request(.prack, from: .alice, in: &dialog, headers: [("RAck", rack)]))
    }

    @Test func reliable180IsResentUntilItsPRACK() throws {
        var net = Loopback()
        let (call, incoming, ringing) = try ringing(&net)
        #expect(ringing.headers.values("Require") == ["100rel"])
        let rseq = try #require(ringing.headers["RSeq"].flatMap { UInt32($0) })
        #expect((1...0x7FFF_FFFF).contains(rseq))
        net.advance(to: .milliseconds(1600))
        #expect(net.sent(by: .bob, status: 180).count == 3, "resent at T1 and 3*T1")
        var dialog = try #require(net.alice.dialog(of: call))
        #expect(prack(&net, dialog: &dialog, rack: "\(rseq &+ 1) 1 INVITE")?.statusCode == 481, "a PRACK for another RSeq")
        #expect(prack(&net, dialog: &dialog, rack: "\(rseq) 1 INVITE")?.statusCode == 200)
        net.advance(to: .seconds(40))
        #expect(net.sent(by: .bob, status: 180).count == 3, "no more resends after the PRACK")
        #expect(net.bob.activeCallCount == 1, "the call is still offered")

        // A second ring needs a new RSeq and waits for its own PRACK; the answer ends the resending.
        net.apply(.bob, try net.bob.ring(incoming, now: net.clock.now))
        net.deliver()
        #expect(net.sent(by: .bob, status: 180).last?.headers["RSeq"] == String(rseq &+ 1))
        net.apply(.bob, try net.bob.answer(incoming, sdp: answerSDP, now: net.clock.now))
        net.deliver()
        #expect(net.events[.alice]?.contains(.answered(call, sdp: answerSDP)) == true)
        let before = net.sent(by: .bob, status: 180).count
        net.advance(to: .seconds(80))
        #expect(net.sent(by: .bob, status: 180).count == before)
    }

    @Test func unacknowledgedReliable180RefusesTheCall() throws {
        var net = Loopback()
        let (_, incoming, _) = try ringing(&net)
        net.advance(to: .seconds(31))
        #expect(net.sent(by: .bob, status: 500).isEmpty)
        net.advance(to: .seconds(33))
        let refused = try #require(net.sent(by: .bob, status: 500).first)
        #expect(refused.reasonPhrase == "Provisional Response Not Acknowledged")
        #expect(net.events[.bob]?.last == .ended(incoming, .rejected(status: 500)))
        #expect(net.bob.activeCallCount == 0)
    }

    @Test func withoutRequireThe180IsUnreliable() throws {
        var net = Loopback()
        _ = try net.ringing(offer: offer, headers: [("Supported", "100rel")])
        let ringing = try #require(net.sent(by: .bob, status: 180).first)
        #expect(ringing.headers["RSeq"] == nil && ringing.headers["Require"] == nil)
        net.advance(to: .seconds(5))
        #expect(net.sent(by: .bob, status: 180).count == 1)
    }
}
