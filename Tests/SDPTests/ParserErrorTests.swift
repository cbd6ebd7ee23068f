import Testing
@testable import SDP

/// A valid four-line session header; a bad line appended to it is line 5, a bad line after `m=` is line 6.
private let header = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
private let withAudio = header + "m=audio 9 RTP/AVP 0\r\n"

struct BadInput: CustomTestStringConvertible, Sendable {
    let text: String
    let kind: SDPError.Kind
    let line: Int
    /// A word the message must contain, so that it names what is wrong.
    let mentions: String
    var testDescription: String { "\(kind) at \(line): \(text.suffix(40).debugDescription)" }

    init(_ text: String, _ kind: SDPError.Kind, line: Int, mentions: String) {
        self.text = text
        self.kind = kind
        self.line = line
        self.mentions = mentions
    }
}

private let badInputs: [BadInput] = [
    BadInput("", .emptyInput, line: 0, mentions: "no SDP"),
    BadInput("\r\n\n\r\n", .emptyInput, line: 0, mentions: "no SDP"),
    BadInput("hello", .malformedLine, line: 1, mentions: "<type>=<value>"),
    BadInput("=0", .malformedLine, line: 1, mentions: "<type>=<value>"),
    BadInput("vv=0", .malformedLine, line: 1, mentions: "<type>=<value>"),
    BadInput("o=- 1 1 IN IP4 0.0.0.0\r\nv=0", .unexpectedLine, line: 1, mentions: "v="),
    BadInput("v=1\r\n", .unsupportedVersion, line: 1, mentions: "version"),
    BadInput(header + "x=unknown\r\n", .unknownLineType, line: 5, mentions: "x="),
    BadInput(header + "1=digit\r\n", .malformedLine, line: 5, mentions: "one letter"),
    BadInput(header + "no equals sign\r\n", .malformedLine, line: 5, mentions: "<type>=<value>"),
    BadInput("v=0\r\ns=-\r\nt=0 0\r\n", .missingLine, line: 0, mentions: "o="),
    BadInput("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nt=0 0\r\n", .missingLine, line: 0, mentions: "s="),
    BadInput("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\n", .missingLine, line: 0, mentions: "t="),
    BadInput(header + "s=again\r\n", .duplicateLine, line: 5, mentions: "s="),
    BadInput("v=0\r\nv=0\r\n", .duplicateLine, line: 2, mentions: "v="),
    BadInput("v=0\r\no=- 1 IN IP4 0.0.0.0\r\n", .malformedValue, line: 2, mentions: "o="),
    BadInput("v=0\r\no=- 1 x IN IP4 0.0.0.0\r\n", .malformedValue, line: 2, mentions: "session version"),
    BadInput("v=0\r\no=- 1 123456789012345678901234567890 IN IP4 0.0.0.0\r\n", .valueOutOfRange, line: 2, mentions: "session version"),
    BadInput(header + "c=IN IP4\r\n", .malformedValue, line: 5, mentions: "c="),
    BadInput(header + "b=AS\r\n", .malformedValue, line: 5, mentions: "b="),
    BadInput(header + "b=AS:-5\r\n", .valueOutOfRange, line: 5, mentions: "negative"),
    BadInput(header + "t=0\r\n", .malformedValue, line: 5, mentions: "t="),
    BadInput(header + "t=-1 0\r\n", .valueOutOfRange, line: 5, mentions: "negative"),
    BadInput("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nr=1d 1h 0\r\nt=0 0\r\n", .unexpectedLine, line: 4, mentions: "r="),
    BadInput(header + "r=1x 1h 0\r\n", .malformedValue, line: 5, mentions: "r="),
    BadInput(header + "z=2882844526\r\n", .malformedValue, line: 5, mentions: "z="),
    BadInput(header + "z=2882844526 +1h\r\n", .malformedValue, line: 5, mentions: "offset"),
    BadInput(header + "m=audio -1 RTP/AVP 0\r\n", .valueOutOfRange, line: 5, mentions: "negative"),
    BadInput(header + "m=audio 65536 RTP/AVP 0\r\n", .valueOutOfRange, line: 5, mentions: "65535"),
    BadInput(header + "m=audio 99999999999999999999999999 RTP/AVP 0\r\n", .valueOutOfRange, line: 5, mentions: "m= port"),
    BadInput(header + "m=audio nine RTP/AVP 0\r\n", .malformedValue, line: 5, mentions: "m= port"),
    BadInput(header + "m=audio 9/x RTP/AVP 0\r\n", .malformedValue, line: 5, mentions: "number of ports"),
    BadInput(header + "m=audio 9\r\n", .malformedValue, line: 5, mentions: "m="),
    BadInput(withAudio + "o=- 1 1 IN IP4 0.0.0.0\r\n", .unexpectedLine, line: 6, mentions: "o="),
    BadInput(withAudio + "t=0 0\r\n", .unexpectedLine, line: 6, mentions: "t="),
    BadInput(withAudio + "i=one\r\ni=two\r\n", .duplicateLine, line: 7, mentions: "i="),
    BadInput(withAudio + "q=what\r\n", .unknownLineType, line: 6, mentions: "q="),
    BadInput(withAudio + "a=\r\n", .malformedLine, line: 6, mentions: "attribute name"),
    BadInput(withAudio + "a=foo bar\r\n", .malformedLine, line: 6, mentions: "attribute name"),
    BadInput(withAudio + "a=:value\r\n", .malformedLine, line: 6, mentions: "attribute name"),
    BadInput(withAudio + "a=rtpmap:abc opus/48000\r\n", .malformedAttribute, line: 6, mentions: "rtpmap payload type"),
    BadInput(withAudio + "a=rtpmap:200 opus/48000\r\n", .valueOutOfRange, line: 6, mentions: "0-127"),
    BadInput(withAudio + "a=rtpmap:96 opus\r\n", .malformedAttribute, line: 6, mentions: "clock rate"),
    BadInput(withAudio + "a=rtpmap:96 opus/fast\r\n", .malformedAttribute, line: 6, mentions: "clock rate"),
    BadInput(withAudio + "a=fmtp:\r\n", .malformedAttribute, line: 6, mentions: "fmtp"),
    BadInput(withAudio + "a=candidate:1 1 udp 1 192.0.2.1 5 host\r\n", .malformedAttribute, line: 6, mentions: "typ"),
    BadInput(withAudio + "a=candidate:1 1 udp 1 192.0.2.1 70000 typ host\r\n", .valueOutOfRange, line: 6, mentions: "candidate port"),
    BadInput(withAudio + "a=candidate:1 1 udp 4294967296 192.0.2.1 5 typ host\r\n", .valueOutOfRange, line: 6, mentions: "priority"),
    BadInput(withAudio + "a=candidate:1 1 udp 1 192.0.2.1 -5 typ host\r\n", .valueOutOfRange, line: 6, mentions: "negative"),
    BadInput(withAudio + "a=candidate:1 1 udp 1 192.0.2.1 5 typ host generation\r\n", .malformedAttribute, line: 6, mentions: "generation"),
    BadInput(withAudio + "a=candidate:1 1 udp 1 192.0.2.1 5 typ srflx raddr 192.0.2.2 rport x\r\n", .malformedAttribute, line: 6, mentions: "rport"),
    BadInput(withAudio + "a=candidate:123456789012345678901234567890123 1 udp 1 192.0.2.1 5 typ host\r\n", .malformedAttribute, line: 6, mentions: "foundation"),
    BadInput(withAudio + "a=remote-candidates:1 192.0.2.1\r\n", .malformedAttribute, line: 6, mentions: "remote-candidates"),
    BadInput(withAudio + "a=setup:sometimes\r\n", .malformedAttribute, line: 6, mentions: "actpass"),
    BadInput(withAudio + "a=rtcp-mux:yes\r\n", .malformedAttribute, line: 6, mentions: "no value"),
    BadInput(withAudio + "a=sendonly:now\r\n", .malformedAttribute, line: 6, mentions: "no value"),
    BadInput(withAudio + "a=mid\r\n", .malformedAttribute, line: 6, mentions: "needs a value"),
    BadInput(withAudio + "a=mid:\r\n", .malformedAttribute, line: 6, mentions: "mid"),
    BadInput(withAudio + "a=ice-ufrag:\r\n", .malformedAttribute, line: 6, mentions: "ice-ufrag"),
    BadInput(withAudio + "a=extmap:1/sideways urn:x\r\n", .malformedAttribute, line: 6, mentions: "direction"),
    BadInput(withAudio + "a=extmap:1\r\n", .malformedAttribute, line: 6, mentions: "extmap"),
    BadInput(withAudio + "a=rtcp-fb:96 trr-int soon\r\n", .malformedAttribute, line: 6, mentions: "trr-int"),
    BadInput(withAudio + "a=rtcp-fb:96\r\n", .malformedAttribute, line: 6, mentions: "rtcp-fb"),
    BadInput(withAudio + "a=crypto:1234567890 AES_CM_128_HMAC_SHA1_80 inline:x\r\n", .malformedAttribute, line: 6, mentions: "crypto"),
    BadInput(withAudio + "a=crypto:1 AES_CM_128_HMAC_SHA1_80\r\n", .malformedAttribute, line: 6, mentions: "key-params"),
    BadInput(withAudio + "a=sctp-port:-1\r\n", .valueOutOfRange, line: 6, mentions: "negative"),
    BadInput(withAudio + "a=max-message-size:lots\r\n", .malformedAttribute, line: 6, mentions: "max-message-size"),
    BadInput(withAudio + "a=sctpmap:5000\r\n", .malformedAttribute, line: 6, mentions: "sctpmap"),
    BadInput(withAudio + "a=ssrc:1\r\n", .malformedAttribute, line: 6, mentions: "ssrc"),
    BadInput(withAudio + "a=ssrc:4294967296 cname:x\r\n", .valueOutOfRange, line: 6, mentions: "ssrc id"),
    BadInput(withAudio + "a=ssrc-group:FID 1 two\r\n", .malformedAttribute, line: 6, mentions: "ssrc-group"),
    BadInput(withAudio + "a=fingerprint:sha-256\r\n", .malformedAttribute, line: 6, mentions: "fingerprint"),
    BadInput(withAudio + "a=ptime:soon\r\n", .malformedAttribute, line: 6, mentions: "ptime"),
    BadInput(withAudio + "a=rtcp:9 IN IP4\r\n", .malformedAttribute, line: 6, mentions: "rtcp"),
    BadInput(withAudio + "a=msid:a b c\r\n", .malformedAttribute, line: 6, mentions: "msid"),
    BadInput(withAudio + "a=group:\r\n", .malformedAttribute, line: 6, mentions: "group"),
    BadInput(withAudio + "a=ice-options:\r\n", .malformedAttribute, line: 6, mentions: "ice-options"),
    BadInput(withAudio + "a=tool:nul\u{0}here\r\n", .malformedLine, line: 6, mentions: "control character"),
    // LF-only input counts lines the same way.
    BadInput("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nm=audio 9 RTP/AVP 0\n\na=rtpmap:x\n", .malformedAttribute, line: 7, mentions: "rtpmap"),
]

@Suite("Parser errors")
struct ParserErrorTests {
    @Test("bad input gives a typed error with its line", arguments: badInputs)
    func rejects(_ input: BadInput) {
        #expect {
            try SessionDescription(parsing: input.text)
        } throws: { error in
            guard let error = error as? SDPError else { return false }
            return error.kind == input.kind && error.line == input.line && error.message.contains(input.mentions)
        }
    }

    @Test func descriptionNamesTheLine() {
        let error = SDPError(.malformedLine, line: 7, "bad")
        #expect(error.description == "SDP line 7: bad")
        #expect(SDPError(.missingLine, line: 0, "no o=").description == "SDP: no o=")
    }

    @Test("keepAsOther keeps malformed known attributes verbatim")
    func lenientPolicy() throws {
        let text = withAudio + "a=rtpmap:abc opus/48000\r\na=setup:sometimes\r\na=rtcp-mux:yes\r\n"
        let session = try SessionDescription(parsing: text, options: SDPParser.Options(malformedAttributes: .keepAsOther))
        #expect(session.media[0].attributes == [
            .other(name: "rtpmap", value: "abc opus/48000"),
            .other(name: "setup", value: "sometimes"),
            .other(name: "rtcp-mux", value: "yes"),
        ])
        #expect(session.serialized() == text)
        // Structural problems still fail under the lenient policy.
        #expect(throws: SDPError.self) {
            try SessionDescription(parsing: withAudio + "a=foo bar\r\n", options: SDPParser.Options(malformedAttributes: .keepAsOther))
        }
    }

    @Test func standaloneCandidateParsing() throws {
        let text = "candidate:842163049 1 udp 1686052607 198.51.100.20 46243 typ srflx raddr 192.0.2.10 rport 46243 generation 0"
        let candidate = try SDPCandidate(parsing: text)
        #expect(candidate.type == .srflx && candidate.relatedPort == 46243 && candidate.generation == 0)
        #expect("candidate:" + candidate.serialized() == text)
        #expect(try SDPCandidate(parsing: "a=" + text) == candidate)
        #expect {
            try SDPCandidate(parsing: "candidate:1 1 udp 1 192.0.2.1 5 typ")
        } throws: { error in
            (error as? SDPError)?.kind == .malformedAttribute && (error as? SDPError)?.line == 0
        }
    }

    @Test func candidateExtensionAccessorsEditInPlace() throws {
        var candidate = try SDPCandidate(parsing: "1 1 udp 1 192.0.2.1 5 typ host x-a 1 generation 0 network-id 2")
        candidate.generation = 3
        candidate.networkCost = "10"
        candidate.networkID = nil
        #expect(candidate.serialized() == "1 1 udp 1 192.0.2.1 5 typ host x-a 1 generation 3 network-cost 10")
    }
}
