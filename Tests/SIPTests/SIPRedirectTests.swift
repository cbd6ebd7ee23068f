import Foundation
import TestServers
import Testing
@testable import SIP

/// RFC 3261 §8.1.3.4: a 3xx to our INVITE (call forwarding) sends it on to the Contact it names.
@Suite("SIP redirects (3xx)")
struct SIPRedirectTests {
    let offer = "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"

    static func moved(_ invite: SIPMessage, status: Int = 302, contacts: [String]) -> SIPMessage {
        var response = SIPMakeResponse(to: invite, status: status, toTag: "redirect")
        for contact in contacts { response.headers.add("Contact", contact) }
        return response
    }

    @Test func highestQFirstThenTheNextUntriedThenTheApplicationHearsIt() throws {
        var ua = SIPUserAgent(configuration: SIPUserAgentConfiguration(localHost: "127.0.0.1", localPort: 5070, transport: .udp, userName: "alice"))
        let (call, started) = try ua.startCall(to: try SIPURI("sip:bob@127.0.0.1:5080"), sdp: offer, now: .zero)
        let first = try #require(firstSent(.invite, in: started))
        let toC = ua.receive(Self.moved(first.0, contacts: ["<sip:b@127.0.0.1:5098>;q=0.5", "<sip:c@127.0.0.1:5097?Subject=x>;q=0.9"]),
                             from: first.1, now: .milliseconds(5))
        let second = try #require(firstSent(.invite, in: toC), "followed the 302")
        #expect(try second.0.requestURI == SIPURI("sip:c@127.0.0.1:5097"), "highest q, URI headers dropped")
        #expect(second.1 == SIPTransportAddress(transport: .udp, host: "127.0.0.1", port: 5097))
        #expect(try second.0.callID == first.0.callID && second.0.headers["From"] == first.0.headers["From"] && second.0.headers["To"] == first.0.headers["To"])
        #expect(second.0.headers.values("Via").first != first.0.headers.values("Via").first, "a new transaction")
        #expect(!toC.contains { if case .event = $0 { true } else { false } }, "the application hears nothing yet")
        // Back to c (tried) or b: b is the one left.
        let toB = ua.receive(Self.moved(second.0, status: 301, contacts: ["<sip:c@127.0.0.1:5097>", "<sip:b@127.0.0.1:5098>;q=0.5"]),
                             from: second.1, now: .milliseconds(10))
        let third = try #require(firstSent(.invite, in: toB))
        #expect(try third.0.requestURI == SIPURI("sip:b@127.0.0.1:5098"))
        // Every contact tried: the 302 reaches the application.
        let end = ua.receive(Self.moved(third.0, contacts: ["<sip:bob@127.0.0.1:5080>", "<sip:c@127.0.0.1:5097>"]), from: third.1, now: .milliseconds(15))
        #expect(firstSent(.invite, in: end) == nil)
        #expect(end.contains { if case .event(.failed(call, status: 302, _)) = $0 { true } else { false } })
    }

    /// Hostile q values (NaN, out of range, not numbers) count as 1 and keep the Contact order; the best real
    /// q still wins.
    @Test func hostileQValues() throws {
        var ua = SIPUserAgent(configuration: SIPUserAgentConfiguration(localHost: "127.0.0.1", localPort: 5070, transport: .udp, userName: "alice"))
        let (_, started) = try ua.startCall(to: try SIPURI("sip:bob@127.0.0.1:5080"), sdp: offer, now: .zero)
        let first = try #require(firstSent(.invite, in: started))
        let contacts = ["<sip:a@127.0.0.1:6001>;q=0.2", "<sip:b@127.0.0.1:6002>;q=nan", "<sip:c@127.0.0.1:6003>;q=7",
                        "<sip:d@127.0.0.1:6004>;q=x", "<sip:e@127.0.0.1:6005>;q=0.9"]
        let next = try #require(firstSent(.invite, in: ua.receive(Self.moved(first.0, contacts: contacts), from: first.1, now: .milliseconds(1))))
        #expect(try next.0.requestURI == SIPURI("sip:b@127.0.0.1:6002"), "q=nan counts as 1 and comes first in order")
    }

    /// A PBX that rings first and forwards on no answer (180, then 302): the call starts over at the new target,
    /// whose 180 and 200 make the dialog; the ACK goes there.
    @Test func forwardAfterRinging() throws {
        var ua = SIPUserAgent(configuration: SIPUserAgentConfiguration(localHost: "127.0.0.1", localPort: 5070, transport: .udp, userName: "alice"))
        let (call, started) = try ua.startCall(to: try SIPURI("sip:bob@127.0.0.1:5080"), sdp: offer, now: .zero)
        let first = try #require(firstSent(.invite, in: started))
        let ringing = ua.receive(SIPMakeResponse(to: first.0, status: 180, toTag: "pbx"), from: first.1, now: .milliseconds(5))
        #expect(ringing.contains(.event(.ringing(call, status: 180, sdp: nil))))
        let moved = ua.receive(Self.moved(first.0, contacts: ["<sip:mobile@127.0.0.1:5097>"]), from: first.1, now: .seconds(20))
        let second = try #require(firstSent(.invite, in: moved))
        let ringingAgain = ua.receive(SIPMakeResponse(to: second.0, status: 180, toTag: "fwd"), from: second.1, now: .seconds(21))
        #expect(ringingAgain.contains(.event(.ringing(call, status: 180, sdp: nil))))
        #expect(ua.dialog(of: call)?.id.remoteTag == "fwd", "the new target's early dialog, not the PBX's")
        var ok = SIPMakeResponse(to: second.0, status: 200, toTag: "fwd")
        ok.headers.add("Contact", "<sip:mobile@127.0.0.1:5097>")
        ok.headers.add("Content-Type", "application/sdp")
        ok.body = Array(offer.utf8)
        let answered = ua.receive(ok, from: second.1, now: .seconds(22))
        #expect(answered.contains(.event(.answered(call, sdp: offer))))
        let ack = firstSent(.ack, in: answered)
        #expect(ack?.1 == SIPTransportAddress(transport: .udp, host: "127.0.0.1", port: 5097))
        #expect(ack?.0.headers["To"]?.contains("tag=fwd") == true)
    }

    /// A redirect chain stops after a few hops; a 3xx without a usable Contact goes to the application.
    @Test(arguments: [[], ["<sips:bob@127.0.0.1:5061>"], ["<sip:bob@127.0.0.1:5090;transport=sctp>"]])
    func unusableOrEndlessRedirects(contacts: [String]) throws {
        var ua = SIPUserAgent(configuration: SIPUserAgentConfiguration(localHost: "127.0.0.1", localPort: 5070, transport: .udp, userName: "alice"))
        let (call, started) = try ua.startCall(to: try SIPURI("sip:bob@127.0.0.1:5080"), sdp: offer, now: .zero)
        var (invite, to) = try #require(firstSent(.invite, in: started))
        if contacts.isEmpty {
            // Each hop names a new one: followed SIPUserAgent.maximumRedirects times, then given up.
            var hops = 0
            while true {
                let next = ua.receive(Self.moved(invite, contacts: ["<sip:hop\(hops)@127.0.0.1:\(6000 + hops)>"]), from: to, now: .milliseconds(hops + 1))
                guard let sent = firstSent(.invite, in: next) else {
                    #expect(next.contains { if case .event(.failed(call, status: 302, _)) = $0 { true } else { false } })
                    break
                }
                (invite, to) = sent
                hops += 1
                try #require(hops <= 10)
            }
            #expect(hops == SIPUserAgent.maximumRedirects)
        } else {
            let end = ua.receive(Self.moved(invite, contacts: contacts), from: to, now: .milliseconds(1))
            #expect(firstSent(.invite, in: end) == nil)
            #expect(end.contains { if case .event(.failed(call, status: 302, _)) = $0 { true } else { false } })
        }
    }

    /// Against SIPp playing a forwarding PBX: 302 to another address of its own, which checks the new request
    /// URI and answers.
    @Test(.enabled(if: sippAvailable, "sipp is installed"), .timeLimit(.minutes(1)))
    func forwardedCallAgainstSIPp() async throws {
        let port = freeUDPPort()
        try await callAnsweredBySIPp(scenario: "uas_redirect", port: port, configuration: SIPEndpoint.Configuration(),
                                     target: try SIPURI("sip:bob@127.0.0.1:\(port)"), offer: offer,
                                     checks: "SIPp checked the forwarded request URI")
    }
}
