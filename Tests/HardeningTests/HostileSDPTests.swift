import SDP
import Testing

/// Hostile session descriptions (RFC 8866): oversized but legal input parses in bounded time and round-trips;
/// illegal values are refused with the exact kind and line; the parser (a value) serves the next description.
@Suite struct HostileSDPTests {
    static let head = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"
    static let audio = "m=audio 49170 RTP/AVP 0 96\r\nc=IN IP4 192.0.2.1\r\na=rtpmap:96 opus/48000/2\r\n"

    /// The parser still reads an ordinary description after the hostile one.
    func expectStillServes(_ parser: SDPParser) throws {
        let ok = try parser.parse(Self.head + Self.audio)
        #expect(ok.media.count == 1)
        #expect(ok.media.first?.port == 49170)
    }

    func elapsed(_ body: () throws -> Void) rethrows -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        try body()
        return clock.now - start
    }

    @Test func tenThousandCandidates() throws {
        var text = Self.head + Self.audio
        for i in 0..<10_000 {
            text += "a=candidate:\(i) 1 udp \(2_130_706_431 - i) 10.\(i / 65536 % 256).\(i / 256 % 256).\(i % 256) \(10_000 + i % 50_000) typ host\r\n"
        }
        let parser = SDPParser()
        var model: SessionDescription?
        let time = try elapsed { model = try parser.parse(text) }
        #expect(time < .seconds(8))
        let candidates = model?.media.first?.attributes.filter { if case .candidate = $0 { true } else { false } } ?? []
        #expect(candidates.count == 10_000)
        if let model { #expect(try parser.parse(model.serialized()) == model) }
        try expectStillServes(parser)
    }

    @Test(arguments: [
        ("m=audio -1 RTP/AVP 0\r\n", 5, "m= port cannot be negative, got '-1'"),
        ("m=audio 65536 RTP/AVP 0\r\n", 5, "m= port must be at most 65535, got '65536'"),
        ("m=audio 99999999999999999999 RTP/AVP 0\r\n", 5, "m= port must be at most 65535, got '99999999999999999999'"),
        (audio + "a=candidate:1 1 udp 2130706431 192.0.2.1 -5000 typ host\r\n", 8, "a=candidate port cannot be negative, got '-5000'"),
        (audio + "a=rtcp:-1\r\n", 8, "a=rtcp port cannot be negative, got '-1'"),
    ])
    func negativeAndOversizedPorts(lines: String, lineNumber: Int, message: String) throws {
        let parser = SDPParser()
        #expect(throws: SDPError(.valueOutOfRange, line: lineNumber, message)) { try parser.parse(Self.head + lines) }
        try expectStillServes(parser)
    }

    @Test func oneMebibyteFmtpLine() throws {
        let value = String(repeating: "x", count: 1 << 20)
        let text = Self.head + Self.audio + "a=fmtp:96 profile=\(value)\r\n"
        let parser = SDPParser()
        var model: SessionDescription?
        let time = try elapsed { model = try parser.parse(text) }
        #expect(time < .seconds(5))
        guard let model, case .fmtp(let fmtp)? = model.media.first?.attributes.last else {
            Issue.record("fmtp not parsed")
            return
        }
        #expect(fmtp["profile"]?.utf8.count == 1 << 20)
        #expect(try parser.parse(model.serialized()) == model)
        try expectStillServes(parser)
    }

    @Test func hundredThousandFmtpParameters() throws {
        let parameters = (0..<100_000).map { "p\($0)=\($0)" }.joined(separator: ";")
        let text = Self.head + Self.audio + "a=fmtp:96 \(parameters)\r\n"
        let parser = SDPParser()
        var model: SessionDescription?
        let time = try elapsed { model = try parser.parse(text) }
        #expect(time < .seconds(5))
        guard let model, case .fmtp(let fmtp)? = model.media.first?.attributes.last else {
            Issue.record("fmtp not parsed")
            return
        }
        #expect(fmtp.parameters.count == 100_000)
        #expect(fmtp["p99999"] == "99999")
        try expectStillServes(parser)
    }

    @Test func unknownLineTypeRejectsTheDescription() throws {
        let parser = SDPParser()
        #expect(throws: SDPError.self) { try parser.parse(Self.head + "y=whatever\r\n") }
        do {
            _ = try parser.parse(Self.head + "y=whatever\r\n")
        } catch {
            #expect(error.kind == .unknownLineType)
            #expect(error.line == 5)
        }
        try expectStillServes(parser)
    }
}
