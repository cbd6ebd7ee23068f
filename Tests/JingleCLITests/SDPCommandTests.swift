import Foundation
import Testing

/// `jingle sdp to-jingle` / `to-sdp`, run as the real binary.
struct SDPCommandTests {
    static let offer = [
        "v=0", "o=- 1785 1 IN IP4 192.0.2.50", "s=-", "t=0 0",
        "m=audio 5004 RTP/AVP 0 101", "c=IN IP4 192.0.2.50", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15",
        "a=sendonly", "a=ptime:20",
    ].joined(separator: "\r\n") + "\r\n"

    static let iq = """
    <iq xmlns='jabber:client' from='juliet@capulet.lit/balcony' id='i91fs6d5' to='romeo@montague.lit/orchard' type='set'>
      <jingle xmlns='urn:xmpp:jingle:1' action='session-accept' initiator='romeo@montague.lit/orchard' sid='a73sjjvkla37jfea'>
        <content creator='initiator' name='voice' senders='initiator'>
          <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>
            <payload-type id='97' name='speex' clockrate='8000'/>
          </description>
          <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd='YH75Fviy6338Vbrhrlp8Yh' ufrag='9uB6'>
            <candidate component='1' foundation='abc' generation='0' id='or2ii2syr1' ip='192.0.2.1' port='3478'
                       priority='2130706431' protocol='udp' type='host'/>
          </transport>
        </content>
      </jingle>
    </iq>
    """

    @Test func toJingleFromStandardInput() throws {
        let result = try CLI.run(["sdp", "to-jingle", "--initiator", "romeo@montague.lit/orchard", "-"], stdin: Self.offer)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("<jingle xmlns=\"urn:xmpp:jingle:1\" action=\"session-initiate\" initiator=\"romeo@montague.lit/orchard\" sid=\"1785\">"))
        // Pretty: one element per line, indented.
        #expect(result.stdout.contains("\n  <content creator=\"initiator\" name=\"audio\" senders=\"initiator\">"))
        #expect(result.stdout.contains("<parameter name=\"\" value=\"0-15\"/>"))
        #expect(result.stdout.contains("<transport xmlns=\"urn:xmpp:jingle:transports:raw-udp:1\">"))
    }

    @Test func toJingleCompactFromFileAsResponder() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sdp-\(UUID().uuidString).sdp")
        try Self.offer.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try CLI.run(["sdp", "to-jingle", "--role", "responder", "--action", "session-accept", "--sid", "s1", "--compact", file.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").count == 1)
        // a=sendonly written by the responder: only the responder sends.
        #expect(result.stdout.contains("action=\"session-accept\" sid=\"s1\""))
        #expect(result.stdout.contains("senders=\"responder\""))
    }

    @Test func toSDPFromIQ() throws {
        let result = try CLI.run(["sdp", "to-sdp", "--numeric-foundations", "--session-version", "3", "-"], stdin: Self.iq)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.components(separatedBy: "\r\n")
        #expect(lines.contains("o=- a73sjjvkla37jfea 3 IN IP4 127.0.0.1"))
        #expect(lines.contains("m=audio 3478 RTP/AVP 97"))
        // session-accept is the responder's: senders='initiator' reads recvonly.
        #expect(lines.contains("a=recvonly"))
        #expect(lines.contains("a=rtpmap:97 speex/8000"))
        #expect(lines.contains { $0.hasPrefix("a=candidate:") && $0.split(separator: " ")[0].dropFirst(12).allSatisfy(\.isNumber) })
    }

    @Test func pipelineRoundTrip() throws {
        let jingle = try CLI.run(["sdp", "to-jingle"], stdin: Self.offer)
        let sdp = try CLI.run(["sdp", "to-sdp", "--role", "initiator"], stdin: jingle.stdout)
        #expect(sdp.status == 0, "\(sdp.stderr)")
        for line in ["m=audio 5004 RTP/AVP 0 101", "c=IN IP4 192.0.2.50", "a=sendonly", "a=fmtp:101 0-15", "a=ptime:20"] {
            #expect(sdp.stdout.contains(line + "\r\n"), "\(line) missing from\n\(sdp.stdout)")
        }
    }

    /// What Jingle cannot carry is named on standard error (not silently lost); the mapped output is unchanged
    /// and --quiet leaves standard error empty.
    @Test func droppedLinesAreListedOnStandardError() throws {
        let offer = Self.offer.replacingOccurrences(of: "a=ptime:20\r\n", with: "a=ptime:20\r\na=label:11\r\na=rid:q send\r\n")
        let loud = try CLI.run(["sdp", "to-jingle", "-"], stdin: offer)
        #expect(loud.status == 0, "\(loud.stderr)")
        let warnings = loud.stderr.split(separator: "\n")
        #expect(warnings.count == 2, "\(loud.stderr)")
        #expect(warnings.allSatisfy { $0.hasPrefix("warning: not carried: m-line 1: a=") })
        #expect(loud.stderr.contains("a=label:11") && loud.stderr.contains("a=rid:q send"))
        let quiet = try CLI.run(["sdp", "to-jingle", "--quiet", "-"], stdin: offer)
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
        #expect(quiet.stdout == loud.stdout)
        // Nothing to report: nothing on standard error.
        #expect(try CLI.run(["sdp", "to-jingle", "-"], stdin: Self.offer).stderr.isEmpty)
        // The other way: Jitsi's source attributes have no a=ssrc form.
        let jitsi = Self.iq.replacingOccurrences(of: "<payload-type id='97' name='speex' clockrate='8000'/>", with: """
            <payload-type id='97' name='speex' clockrate='8000'/>
            <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='42' name='a-1' videoType='camera'><parameter name='cname' value='x'/></source>
            """)
        let back = try CLI.run(["sdp", "to-sdp", "-"], stdin: jitsi)
        #expect(back.status == 0, "\(back.stderr)")
        #expect(back.stdout.contains("a=ssrc:42 cname:x"))
        #expect(back.stderr.contains("warning: not carried: m-line 1: name='a-1'"), "\(back.stderr)")
    }

    /// A SIP phone's offer with BFCP and T.38 next to audio: the audio maps, the other two streams are named
    /// on standard error; an offer with nothing else stays an error (below).
    @Test func streamsJingleCannotCarryAreLeftOutAndNamed() throws {
        let offer = Self.offer + "m=application 5070 UDP/BFCP *\r\na=floorctrl:c-s\r\nm=image 6000 udptl t38\r\n"
        let result = try CLI.run(["sdp", "to-jingle", "-"], stdin: offer)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.components(separatedBy: "<content ").count == 2)
        #expect(result.stderr.contains("warning: not carried: m-line 2: m=application 5070 UDP/BFCP *"), "\(result.stderr)")
        #expect(result.stderr.contains("warning: not carried: m-line 3: m=image 6000 udptl t38"), "\(result.stderr)")
        #expect(!result.stderr.contains("a=floorctrl"))
        // Lines of a later stream keep their own m-line number.
        let later = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=image 6000 udptl t38\r\n"
            + "m=audio 4000 RTP/AVP 0\r\na=label:1\r\n"
        let numbered = try CLI.run(["sdp", "to-jingle", "-"], stdin: later)
        #expect(numbered.status == 0, "\(numbered.stderr)")
        #expect(numbered.stderr.split(separator: "\n").map { String($0.prefix(34)) }
                    == ["warning: not carried: m-line 1: m=", "warning: not carried: m-line 2: a="], "\(numbered.stderr)")
    }

    @Test(arguments: [
        (["sdp", "to-jingle"], "v=0\r\nthis is not sdp\r\n", "SDP line 2"),
        (["sdp", "to-jingle"], "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=image 5000 udptl t38\r\nc=IN IP4 192.0.2.1\r\n", "udptl"),
        (["sdp", "to-sdp"], "<jingle", "not well-formed XML"),
        (["sdp", "to-sdp"], "<message xmlns='jabber:client'/>", "expected <jingle"),
        (["sdp", "to-sdp"], "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate'/>", "sid"),
        (["sdp", "to-jingle", "/nonexistent/offer.sdp"], "", "cannot read"),
    ])
    func badInputExitsOneWithOneLine(arguments: [String], stdin: String, expected: String) throws {
        let result = try CLI.run(arguments, stdin: stdin)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("error: "))
        #expect(result.stderr.contains(expected), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test(arguments: [
        ["sdp", "to-jingle", "--action", "session-start"],
        ["sdp", "to-jingle", "--role", "gateway"],
        ["sdp", "to-jingle", "--initiator", "@@bad"],
        ["sdp", "to-sdp", "--session-version", "x"],
    ])
    func usageErrorsExit64(arguments: [String]) throws {
        let result = try CLI.run(arguments, stdin: "")
        #expect(result.status == 64, "\(result.stderr)")
    }

    @Test func helpShowsExamples() throws {
        for arguments in [["sdp", "--help"], ["sdp", "to-jingle", "--help"], ["sdp", "to-sdp", "--help"]] {
            let result = try CLI.run(arguments)
            #expect(result.status == 0)
            #expect(result.stdout.contains("Examples:"))
            #expect(result.stdout.contains("jingle sdp to-"))
        }
    }
}
