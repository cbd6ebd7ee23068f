import Testing
@testable import SIP

/// SDP inside multipart bodies (RFC 5621, RFC 2046 §5.1): SIP-I INVITEs from carrier interconnects carry an
/// ISUP part next to the SDP (RFC 3204).
struct SIPMultipartBodyTests {
    static let sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"

    static func invite(contentType: String, body: [UInt8]) throws -> SIPMessage {
        let head = """
        INVITE sip:bob@127.0.0.1:5080 SIP/2.0\r
        Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-mp1\r
        From: <sip:carrier@192.0.2.1>;tag=c1\r
        To: <sip:bob@127.0.0.1>\r
        Call-ID: mp-1@192.0.2.1\r
        CSeq: 1 INVITE\r
        Contact: <sip:carrier@192.0.2.1:5060>\r
        Max-Forwards: 70\r
        Content-Type: \(contentType)\r
        Content-Length: \(body.count)\r
        \r

        """
        return try SIPParser.parse(datagram: Array(head.utf8) + body)
    }

    /// SDP, then an ISUP IAM (binary) marked optional, then the close delimiter.
    static func sipIBody(handling: String = "optional", boundary: String = "unique-boundary-1") -> [UInt8] {
        var body = Array("--\(boundary)\r\nContent-Type: application/sdp\r\n\r\n\(sdp)\r\n".utf8)
        body += Array("--\(boundary)\r\nContent-Type: application/ISUP;version=itu-t92+\r\nContent-Disposition: signal;handling=\(handling)\r\n\r\n".utf8)
        body += [0x01, 0x00, 0x49, 0x00, 0x00, 0x03, 0x02, 0x00, 0x07, 0x04, 0x10, 0x00, 0x33, 0x63, 0x21, 0x43, 0x00, 0x00, 0x03, 0x0D, 0x0A, 0x2D, 0x2D]
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        return body
    }

    @Test func sdpAloneAndInMultipart() throws {
        #expect(try Self.invite(contentType: "application/sdp", body: Array(Self.sdp.utf8)).sdpText == Self.sdp)
        let mixed = try Self.invite(contentType: "multipart/mixed;boundary=unique-boundary-1", body: Self.sipIBody())
        #expect(mixed.sessionBody == .sdp(Self.sdp))
        // Quoted boundary, LF-only line ends, a preamble, and multipart/alternative.
        let lf = Array(("preamble\n--b\"q\nContent-Type: application/sdp\n\n" + Self.sdp + "\n--b\"q--\n").utf8)
        #expect(try Self.invite(contentType: "multipart/alternative; boundary=\"b\\\"q\"", body: lf).sdpText == nil,
                "an escaped quote is not a boundary we take apart")
        let plain = Array(("preamble\n--bq\nContent-Type: application/sdp\n\n" + Self.sdp + "\n--bq--\n").utf8)
        #expect(try Self.invite(contentType: "multipart/alternative; boundary=\"bq\"", body: plain).sdpText == Self.sdp)
    }

    @Test(arguments: [
        ("multipart/mixed;boundary=unique-boundary-1", "required", "required"),
        ("multipart/mixed", "optional", "boundary"),
        ("application/isup", "optional", "application/isup"),
    ])
    func unusableBodiesSayWhy(contentType: String, handling: String, mentions: String) throws {
        let message = try Self.invite(contentType: contentType, body: Self.sipIBody(handling: handling))
        guard case .unsupported(let why) = message.sessionBody else {
            Issue.record("\(message.sessionBody)")
            return
        }
        #expect(why.contains(mentions), "\(why)")
        #expect(message.sdpText == nil)
    }

    /// The user agent takes a SIP-I INVITE as a call with the SDP part; a required ISUP part gets 415.
    @Test func userAgentTakesSIPIInvites() throws {
        var agent = SIPUserAgent(configuration: SIPUserAgentConfiguration(localHost: "127.0.0.1", localPort: 5080, userName: "bob"))
        let source = SIPTransportAddress(transport: .udp, host: "192.0.2.1", port: 5060)
        let actions = agent.receive(try Self.invite(contentType: "multipart/mixed;boundary=unique-boundary-1", body: Self.sipIBody()),
                                    from: source, now: .zero)
        let offered = actions.compactMap { if case .event(.incomingCall(_, let info)) = $0 { info.sdp } else { nil } }
        #expect(offered == [Self.sdp])

        var strict = SIPUserAgent(configuration: SIPUserAgentConfiguration(localHost: "127.0.0.1", localPort: 5080, userName: "bob"))
        let refused = strict.receive(try Self.invite(contentType: "multipart/mixed;boundary=unique-boundary-1", body: Self.sipIBody(handling: "required")),
                                     from: source, now: .zero)
        let statuses = refused.compactMap { if case .send(let m, _) = $0 { m.statusCode } else { nil } }
        #expect(statuses == [100, 415], "Trying, then the refusal (never a 100 after the final response)")
    }
}
