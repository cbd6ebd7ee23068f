import Foundation
import Testing

/// The SDPBridge sample must keep working as the libraries change: run the built binary and check each step.
@Suite("Samples: SDPBridge")
struct SDPBridgeTests {
    /// The printed steps, keyed by their number ("== 3. Jingle session-initiate ..." -> 3).
    static func steps(_ output: String) -> [Int: (title: String, body: String)] {
        var result: [Int: (title: String, body: String)] = [:]
        for chunk in output.components(separatedBy: "== ").dropFirst() {
            let lines = chunk.split(separator: "\n", omittingEmptySubsequences: false)
            guard let head = lines.first, let dot = head.firstIndex(of: "."), let number = Int(head[..<dot]) else { continue }
            result[number] = (String(head[head.index(after: dot)...]).trimmingCharacters(in: .whitespaces),
                              lines.dropFirst().joined(separator: "\n"))
        }
        return result
    }

    @Test func bridgesTheBuiltInBrowserOffer() throws {
        let result = try SampleRunner.run("SDPBridge")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let steps = Self.steps(result.stdout)
        #expect(steps.keys.sorted() == [1, 2, 3, 4, 5, 6])

        let initiate = try #require(steps[3])
        #expect(initiate.title.hasPrefix("Jingle session-initiate: 3 content(s)"))
        #expect(initiate.body.contains("action=\"session-initiate\""))
        #expect(initiate.body.contains("initiator=\"caller@sip.example/gw\""))
        #expect(initiate.body.contains("urn:xmpp:jingle:apps:rtp:1"))          // XEP-0167 description
        #expect(initiate.body.contains("urn:xmpp:jingle:transports:ice-udp:1")) // XEP-0176 transport
        #expect(initiate.body.contains("urn:xmpp:jingle:apps:dtls:0"))          // XEP-0320 fingerprint
        #expect(initiate.body.contains("name=\"opus\""))

        // The answer keeps audio and video and rejects the data channel with port 0 (RFC 3264 §6).
        let answer = try #require(steps[4])
        #expect(answer.title.contains("2 of 3 m-line(s) accepted"))
        #expect(answer.body.contains("m=audio 40000 UDP/TLS/RTP/SAVPF 111 0 126"))
        #expect(answer.body.contains("m=video 40000 UDP/TLS/RTP/SAVPF 96 97"))
        #expect(answer.body.contains("m=application 0 "))
        #expect(answer.body.contains("a=setup:active"))

        let accept = try #require(steps[5])
        #expect(accept.body.contains("action=\"session-accept\""))
        #expect(accept.body.contains("responder=\"callee@xmpp.example/phone\""))
        #expect(accept.body.contains("ufrag=\"gw01\""))

        let back = try #require(steps[6])
        #expect(back.title.contains("codecs match"))
        #expect(back.body.contains("a=ice-ufrag:gw01"))
        #expect(back.body.contains("m=audio"))
    }

    @Test func readsAnOfferFromStandardInput() throws {
        let phone = [
            "v=0", "o=phone 1 1 IN IP4 127.0.0.1", "s=call", "c=IN IP4 127.0.0.1", "t=0 0",
            "m=audio 49170 RTP/AVP 0 8 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
            "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=sendrecv",
        ].joined(separator: "\r\n") + "\r\n"
        let result = try SampleRunner.run("SDPBridge", ["-"], stdin: phone)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let steps = Self.steps(result.stdout)
        #expect(steps[1]?.title.contains("standard input") == true)
        #expect(steps[3]?.body.contains("urn:xmpp:jingle:transports:raw-udp:1") == true)  // no ICE: XEP-0177
        // PCMA is not supported locally, so only PCMU and DTMF remain (RFC 3264 §6.1).
        #expect(steps[4]?.body.contains("m=audio 40000 RTP/AVP 0 101") == true)
        #expect(steps[6]?.title.contains("codecs match") == true)
    }

    @Test(arguments: [
        (["/nonexistent/offer.sdp"], Int32(1), "cannot read"),
        (["a", "b"], Int32(64), "too many arguments"),
    ])
    func rejectsBadInvocations(arguments: [String], status: Int32, message: String) throws {
        let result = try SampleRunner.run("SDPBridge", arguments)
        #expect(result.status == status)
        #expect(result.stderr.contains(message))
        #expect(result.stdout.isEmpty)
    }

    @Test func rejectsMalformedSDP() throws {
        let result = try SampleRunner.run("SDPBridge", ["-"], stdin: "this is not SDP\n")
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error: "))
    }
}
