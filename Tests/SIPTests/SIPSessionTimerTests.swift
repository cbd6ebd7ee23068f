import Testing
@testable import SIP

/// RFC 4028 session timers and RFC 3311 UPDATE between two user agent cores on a fake clock.
@Suite("SIP session timers and UPDATE")
struct SIPSessionTimerTests {
    let offer = "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
    let answerSDP = "v=0\r\no=bob 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"

    func ended(_ net: Loopback, _ side: Loopback.Side) -> [SIPCallEndReason] {
        (net.events[side] ?? []).compactMap { if case .ended(_, let reason) = $0 { reason } else { nil } }
    }

    func sessionTimersPending(_ net: Loopback) -> Int {
        net.clock.pending.keys.filter {
            switch $0.timer {
            case .sessionRefresh, .sessionExpiry: true
            default: false
            }
        }.count
    }

    @Test func calleeGrantsTheTimerAndTheCallerRefreshesWithUpdate() throws {
        var net = Loopback()
        let (call, _) = try net.establish(offer: offer, answer: answerSDP)
        let invite = try #require(net.sent(by: .alice, method: .invite).first)
        #expect(invite.headers.values("Supported").contains("timer"))
        #expect(invite.headers["Session-Expires"] == "1800")
        #expect(invite.headers["Min-SE"] == "90")
        let ok = try #require(net.sent(by: .bob, status: 200).first)
        #expect(ok.headers["Session-Expires"] == "1800;refresher=uac", "the caller supports timers and named no refresher: it refreshes")
        #expect(ok.headers.values("Require") == ["timer"])
        #expect(ok.headers.values("Allow").contains("UPDATE"))

        net.advance(to: .seconds(899))
        #expect(net.sent(by: .alice, method: .update).isEmpty)
        net.advance(to: .seconds(2800))
        let updates = net.sent(by: .alice, method: .update)
        #expect(updates.count == 3, "refreshes at 900, 1800 and 2700 s")
        #expect(updates.allSatisfy { $0.body.isEmpty && $0.headers["Session-Expires"] == "1800;refresher=uac" })
        let refreshed = net.wire.filter { $0.from == .bob && (try? $0.message.cseq.method) == .update }.map(\.message)
        #expect(refreshed.count == 3 && refreshed.allSatisfy { $0.statusCode == 200 && $0.headers["Session-Expires"] == "1800;refresher=uac" })
        #expect(net.sent(by: .alice, method: .invite).count == 1, "no re-INVITE: the callee allows UPDATE")
        #expect(net.sent(by: .bob, method: .bye).isEmpty && ended(net, .alice).isEmpty && ended(net, .bob).isEmpty)

        net.apply(.alice, try net.alice.hangUp(call, now: net.clock.now))
        net.deliver()
        #expect(ended(net, .alice) == [.localHangUp])
        #expect(ended(net, .bob) == [.remoteHangUp])
        #expect(sessionTimersPending(net) == 0, "ending the call stops both timers")
    }

    @Test func aReinviteOfOursKeepsTheTimerAndRestartsIt() throws {
        var net = Loopback()
        let (call, _) = try net.establish(offer: offer, answer: answerSDP)
        net.advance(to: .seconds(100))
        let hold = offer.replacingOccurrences(of: "o=alice 1 1", with: "o=alice 1 2") + "a=sendonly\r\n"
        let (_, actions) = try net.alice.reinvite(call, sdp: hold, now: net.clock.now)
        net.apply(.alice, actions)
        net.deliver()
        let reinvite = try #require(net.sent(by: .alice, method: .invite).last)
        #expect(reinvite.headers["Session-Expires"] == "1800;refresher=uac" && reinvite.headers["Min-SE"] == "90")
        #expect(net.sent(by: .bob, status: 200).last?.headers["Session-Expires"] == "1800;refresher=uac")
        net.advance(to: .seconds(950))
        #expect(net.sent(by: .alice, method: .update).isEmpty, "the re-INVITE at 100 s was a refresh: the next is due at 1000 s")
        net.advance(to: .seconds(1001))
        #expect(Set(net.sent(by: .alice, method: .update).compactMap { try? $0.cseq.number }).count == 1)
    }

    @Test func aPeerThatVanishesIsHungUpOnBothSides() throws {
        var net = Loopback()
        _ = try net.establish(offer: offer, answer: answerSDP)
        net.drop = { _, _ in true }  // the network between them goes away, without BYE

        func requests(_ side: Loopback.Side, _ method: SIPMethod) -> Set<UInt32> {
            Set(net.sent(by: side, method: method).compactMap { try? $0.cseq.number })  // retransmissions count once
        }
        net.advance(to: .seconds(1767))
        // Alice's refresh at 900 s got no answer (32 s): she ends the call (§10).
        #expect(requests(.alice, .update).count == 1)
        #expect(requests(.alice, .bye).count == 1)
        #expect(ended(net, .alice) == [.sessionExpired])
        #expect(requests(.bob, .bye).isEmpty, "Bob waits until a third of the interval, at most 32 s, before expiry")
        net.advance(to: .seconds(1769))
        #expect(requests(.bob, .bye).count == 1, "1800 - 32 s after the last refresh")
        net.advance(to: .seconds(1900))
        #expect(ended(net, .bob) == [.sessionExpired])
        #expect(net.alice.activeCallCount == 0 && net.bob.activeCallCount == 0)
    }

    @Test func aPeerWithoutUpdateIsRefreshedWithReinvites() throws {
        var net = Loopback()
        // Alice plays a phone that knows no UPDATE and asks the callee to refresh every 120 s.
        net.rewrite = { side, message in
            guard side == .alice else { return message }
            var changed = message
            if changed.headers.contains("Allow") {
                changed.headers.set("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS")
            }
            if changed.method == .invite, changed.headers["Session-Expires"] == "1800" {
                changed.headers.set("Session-Expires", "120;refresher=uas")
            }
            return changed
        }
        let (call, incoming) = try net.establish(offer: offer, answer: answerSDP)
        let ok = try #require(net.sent(by: .bob, status: 200).first)
        #expect(ok.headers["Session-Expires"] == "120;refresher=uas")
        #expect(ok.headers.values("Require").isEmpty, "Require: timer only when the peer refreshes")

        net.advance(to: .seconds(130))
        let refreshes = net.sent(by: .bob, method: .invite)
        #expect(refreshes.count == 2, "re-INVITEs at 60 and 120 s")
        #expect(refreshes.allSatisfy { $0.sdpText == answerSDP }, "the SDP sent last, unchanged")
        #expect(refreshes.allSatisfy { $0.headers["Session-Expires"] == "120;refresher=uac" })
        #expect(net.sent(by: .bob, method: .ack).count == 2)
        #expect(net.sent(by: .bob, method: .update).isEmpty)
        #expect(!(net.events[.bob] ?? []).contains { if case .requestCompleted = $0 { true } else { false } },
                "refreshes are the core's business, not the application's")
        #expect(net.events[.alice]?.filter { $0 == .remoteReinvite(call, sdp: answerSDP) }.count == 2)
        #expect(ended(net, .alice).isEmpty && ended(net, .bob).isEmpty)
        _ = incoming
    }

    /// A re-INVITE offer the peer refused (488) is not the session: the next refresh re-INVITE carries the SDP
    /// both sides agreed on, not the refused hold (which would put the call on hold at the refresh).
    @Test func aRefusedOfferIsNotWhatTheRefreshSends() throws {
        var net = Loopback(bobAnswersReinvites: false)
        net.rewrite = { side, message in
            guard side == .bob, message.headers.contains("Allow") else { return message }
            var changed = message
            changed.headers.set("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS")
            return changed
        }
        let (call, incoming) = try net.establish(offer: offer, answer: answerSDP)
        let hold = offer.replacingOccurrences(of: "o=alice 1 1", with: "o=alice 1 2") + "a=sendonly\r\n"
        let (holdKey, holdActions) = try net.alice.reinvite(call, sdp: hold, now: net.clock.now)
        net.apply(.alice, holdActions)
        net.deliver()
        net.apply(.bob, try net.bob.rejectReinvite(incoming, status: 488, now: net.clock.now))
        net.deliver()
        #expect(net.events[.alice]?.last == .requestCompleted(call, request: holdKey, status: 488, sdp: nil))
        net.advance(to: .seconds(901))
        let refresh = try #require(net.sent(by: .alice, method: .invite).last)
        #expect(refresh.headers["Session-Expires"] == "1800;refresher=uac")
        #expect(refresh.sdpText == offer, "the agreed SDP, not the refused hold")
    }

    @Test func aRefreshTheCalleeNoLongerKnowsEndsTheCall() throws {
        var net = Loopback()
        _ = try net.establish(offer: offer, answer: answerSDP)
        // Bob answers the refresh 481, as a phone that rebooted would.
        net.rewrite = { side, message in
            guard side == .bob, message.statusCode == 200, (try? message.cseq.method) == .update else { return message }
            var headers = SIPHeaders()
            for field in message.headers where field.name != "Session-Expires" && field.name != "Require" { headers.add(field.name, field.value) }
            return .response(481, nil, headers: headers)
        }
        net.advance(to: .seconds(901))
        #expect(net.sent(by: .alice, method: .bye).count == 1)
        #expect(ended(net, .alice) == [.sessionExpired])
    }

    @Test func tooShortAnIntervalGets422AndTheCallerAsksAgain() throws {
        var net = Loopback(aliceTimer: SIPSessionTimerSettings(interval: 120), bobTimer: SIPSessionTimerSettings(minimum: 300))
        let (call, _) = try net.establish(offer: offer, answer: answerSDP)
        let invites = net.sent(by: .alice, method: .invite)
        #expect(invites.count == 2)
        let refused = try #require(net.sent(by: .bob, status: 422).first)
        #expect(refused.headers["Min-SE"] == "300")
        #expect(try invites[1].cseq == SIPCSeq(2, .invite))
        #expect(invites[1].headers["Session-Expires"] == "300" && invites[1].headers["Min-SE"] == "300")
        #expect(try invites[1].from.tag == invites[0].from.tag && invites[1].headers["Call-ID"] == invites[0].headers["Call-ID"])
        #expect(net.sent(by: .bob, status: 200).first?.headers["Session-Expires"] == "300;refresher=uac")
        #expect(net.events[.alice]?.contains(.answered(call, sdp: answerSDP)) == true)
    }

    @Test func aCallerWithoutTimersIsNeverRefusedForItsInterval() throws {
        // A proxy put a short Session-Expires into an INVITE from a caller that does not support timers:
        // 422 would only fail the call, so the callee raises the interval and refreshes itself.
        var net = Loopback(aliceTimer: nil, bobTimer: SIPSessionTimerSettings(minimum: 300))
        _ = try net.establish(offer: offer, answer: answerSDP, headers: [("Session-Expires", "60")])
        #expect(net.sent(by: .bob, status: 422).isEmpty)
        let ok = try #require(net.sent(by: .bob, status: 200).first)
        #expect(ok.headers["Session-Expires"] == "300;refresher=uas")
        #expect(ok.headers.values("Require").isEmpty)
        #expect(net.sent(by: .alice, method: .invite).first?.headers["Supported"] == nil)
    }

    @Test func requireTimerIsAcceptedOnlyWhenTimersAreOn() throws {
        func options(_ bobTimer: SIPSessionTimerSettings?) -> SIPMessage? {
            var net = Loopback(bobTimer: bobTimer)
            var request = makeRequest(.options)
            request.headers.add("Require", "timer")
            for case .send(let message, _) in net.bob.receive(request, from: Loopback.aliceAddress, now: .zero) { return message }
            return nil
        }
        let on = try #require(options(SIPSessionTimerSettings()))
        #expect(on.statusCode == 200 && on.headers.values("Supported").contains("timer"))
        let off = try #require(options(nil))
        #expect(off.statusCode == 420 && off.headers["Unsupported"] == "timer")
    }

    @Test func updateWithAnOfferIsAnsweredLikeAReinvite() throws {
        var net = Loopback(bobAnswersReinvites: false)
        let (call, incoming) = try net.establish(offer: offer, answer: answerSDP)
        var dialog = try #require(net.alice.dialog(of: call))
        func update(_ sdp: String) -> [SIPUserAgentAction] {
            net.request(.update, from: .alice, in: &dialog, sdp: sdp, headers: [("Contact", "<sip:alice@127.0.0.1:5070>")])
        }
        let hold = offer.replacingOccurrences(of: "o=alice 1 1", with: "o=alice 1 2") + "a=sendonly\r\n"
        let first = update(hold)
        #expect(first.contains(.event(.remoteReinvite(incoming, sdp: hold))))
        #expect(!first.contains { if case .send = $0 { true } else { false } }, "the application answers it")

        // A second offer before the first is answered: 500 with Retry-After (RFC 3311 §5.2).
        let second = update(offer)
        let pending = try #require(Loopback.firstSent(second))
        #expect(pending.statusCode == 500 && pending.headers["Retry-After"].flatMap { Int($0) }.map { (0...10).contains($0) } == true)

        let recvonly = answerSDP.replacingOccurrences(of: "o=bob 1 1", with: "o=bob 1 2") + "a=recvonly\r\n"
        let answered = try net.bob.answerReinvite(incoming, sdp: recvonly, now: net.clock.now)
        let ok = try #require(Loopback.firstSent(answered))
        #expect(try ok.statusCode == 200 && ok.sdpText == recvonly && ok.cseq.method == .update)
        #expect(!answered.contains { if case .startTimer(.answerRetransmit, _) = $0 { true } else { false } },
                "UPDATE is not INVITE: its 200 is not retransmitted until an ACK")
        #expect(ok.headers["Session-Expires"] == nil, "the UPDATE asked for no timer and did not say it supports them")
    }

    /// Hostile or broken timer headers never stop a call: what cannot be read counts as absent, huge values
    /// are capped, zero or tiny ones get 422 (or are raised), and the core answers every INVITE.
    @Test(arguments: [
        ("Session-Expires", "abc", 200), ("Session-Expires", "-5", 200), ("Session-Expires", "", 200),
        ("Session-Expires", "99999999999999999999999999;refresher=uac", 200), ("Session-Expires", "0", 422),
        ("Session-Expires", "60;refresher=nobody", 200), ("Min-SE", "99999999999999999999", 200), ("Min-SE", "x", 200),
        ("Require", "timer, 100rel", 200), ("Require", "timer, foo", 420),
    ])
    func hostileTimerHeaders(name: String, value: String, status: Int) throws {
        var net = Loopback()
        net.rewrite = { side, message in
            guard side == .alice, message.method == .invite else { return message }
            var changed = message
            changed.headers.set(name, value)
            return changed
        }
        let (_, actions) = try net.alice.startCall(to: net.bobURI, sdp: offer, now: .zero)
        net.apply(.alice, actions)
        net.deliver()
        if status == 200 {
            let incoming = try #require(net.incomingHandle())
            net.apply(.bob, try net.bob.answer(incoming, sdp: answerSDP, now: .zero))
            net.deliver()
            let ok = try #require(net.sent(by: .bob, status: 200).first)
            if let granted = ok.headers["Session-Expires"] {
                let seconds = try SIPSessionExpires(granted).seconds
                #expect((90...Int(UInt32.max)).contains(seconds), "\(granted)")
            }
            net.advance(to: .seconds(10))
            #expect(net.bob.activeCallCount == 1)
        } else {
            #expect(net.sent(by: .bob, status: status).count == 1)
            #expect(net.bob.activeCallCount == 0)
        }
    }

    /// RFC 3311 §5.2 in the early dialog (after the 180, before the 200): a bodyless UPDATE gets 200, an offer
    /// gets 500 with Retry-After at the callee (its INVITE offer is unanswered) and 491 at the caller (its own
    /// offer is); never 481, which would end the call. The call is then answered as usual.
    @Test func updateInTheEarlyDialog() throws {
        var net = Loopback()
        let (call, incoming) = try net.ringing(offer: offer)
        var aliceDialog = try #require(net.alice.dialog(of: call))
        var bobDialog = try #require(net.bob.dialog(of: incoming))
        func update(from side: Loopback.Side, sdp: String?) -> SIPMessage? {
            Loopback.firstSent(side == .alice ? net.request(.update, from: .alice, in: &aliceDialog, sdp: sdp)
                                              : net.request(.update, from: .bob, in: &bobDialog, sdp: sdp))
        }
        #expect(update(from: .alice, sdp: nil)?.statusCode == 200)
        let pending = update(from: .alice, sdp: offer)
        #expect(pending?.statusCode == 500 && pending?.headers["Retry-After"] != nil)
        #expect(update(from: .bob, sdp: nil)?.statusCode == 200)
        #expect(update(from: .bob, sdp: answerSDP)?.statusCode == 491)
        net.apply(.bob, try net.bob.answer(incoming, sdp: answerSDP, now: net.clock.now))
        net.deliver()
        #expect(net.events[.alice]?.contains(.answered(call, sdp: answerSDP)) == true)
        #expect(net.sent(by: .bob, status: 481).isEmpty && net.sent(by: .alice, status: 481).isEmpty)
    }

    @Test func sessionExpiresParsing() throws {
        #expect(try SIPSessionExpires("1800;refresher=UAC") == SIPSessionExpires(seconds: 1800, refresher: .uac))
        #expect(try SIPSessionExpires(" 90 ; refresher = uas ").description == "90;refresher=uas")
        #expect(try SIPSessionExpires("3600;x-foo=1").description == "3600;x-foo=1")
        #expect(try SIPSessionExpires("99999999999999999999").seconds == Int(UInt32.max))
        for bad in ["", "abc", "-5", "60;refresher=proxy", "60;refresher"] {
            #expect(throws: SIPParseError.self, "\(bad)") { try SIPSessionExpires(bad) }
        }
        var message = makeRequest(.invite)
        message.headers.add("x", "120")  // compact form (RFC 4028 §4)
        message.headers.add("Min-SE", "90;lr")
        #expect(try message.sessionExpires?.seconds == 120)
        #expect(try message.minSE == 90)
    }
}
