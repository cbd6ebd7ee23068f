import SIP

extension FuzzChecker {
    /// RFC 3261 §7: a datagram we parse serializes to bytes that parse to the same message, and serializing is
    /// stable; the stream framer (§18.3, Content-Length framing) frames the same messages for two different
    /// chunkings; and the user agent core takes whatever parses (or the parse error) without trapping.
    func checkSIP(_ input: [UInt8]) throws(FuzzFailure) -> String {
        let datagram = sipDatagramOutcome(input)
        if let violation = datagram.violation { throw fail(violation) }
        let whole = sipFrames(input, chunk: input.count)
        let split = sipFrames(input, chunk: 1 + Int(fnv1a(input) % 97))
        guard whole.messages == split.messages, whole.error == split.error else {
            throw fail("stream framing depends on chunking: \(whole.messages.count)/\(whole.error ?? "-") vs \(split.messages.count)/\(split.error ?? "-")")
        }
        return datagram.label + "/stream:\(whole.messages.count):\(whole.error ?? "-")"
    }

    // Swift 6.3.1's optimizer crashes on this function ("Found ownership error", CopyPropagation) when
    // SIP's code is inlined into it; the parser and serializer it calls stay optimized in their own module.
    @_optimize(none)
    private func sipDatagramOutcome(_ input: [UInt8]) -> (label: String, violation: String?) {
        let first = Self.parseSIP(input)
        guard let message = first.message else {
            feedUserAgent(malformed: first.error)
            return ("datagram:" + (first.error.map(caseName) ?? "?"), nil)
        }
        let written = message.serialized()
        let text = String(decoding: written.prefix(400), as: UTF8.self)
        let second = Self.parseSIP(written)
        guard let again = second.message else {
            return ("", "serialized message does not parse: \(second.error.map { "\($0)" } ?? "?")\n\(text)")
        }
        // The serializer always writes a Content-Length that matches the body (RFC 3261 §20.14), so a datagram
        // without one, or with a wrong one, comes back with the right one: compare everything else exactly.
        if !Self.sameExceptContentLength(again, message) { return ("", "message changed after serialize/parse:\n\(text)") }
        if again.serialized() != written { return ("", "serializing is not stable:\n\(text)") }
        feedUserAgent(message: message)
        let label = message.statusCode.map { "response:\($0 / 100)xx" } ?? "request"
        return (label, nil)
    }

    private static func sameExceptContentLength(_ a: SIPMessage, _ b: SIPMessage) -> Bool {
        func fields(_ m: SIPMessage) -> [SIPHeaders.Field] { m.headers.fields.filter { $0.name != "Content-Length" } }
        return a.startLine == b.startLine && a.body == b.body && fields(a) == fields(b)
    }

    @inline(never)
    private static func parseSIP(_ bytes: [UInt8]) -> (message: SIPMessage?, error: SIPParseError?) {
        do {
            return (try SIPParser.parse(datagram: bytes), nil)
        } catch {
            return (nil, error)
        }
    }

    /// The user agent core must take any parsed message, or the parse error, without trapping.
    @inline(never)
    private func feedUserAgent(message: SIPMessage? = nil, malformed: SIPParseError? = nil) {
        var agent = SIPUserAgent(configuration: SIPUserAgentConfiguration(localHost: "127.0.0.1", localPort: 5060))
        let source = SIPTransportAddress(transport: .udp, host: "127.0.0.1", port: 5070)
        if let message { _ = agent.receive(message, from: source, now: .zero) }
        if let malformed { _ = agent.receiveMalformed(malformed, from: source) }
    }

    private func sipFrames(_ input: [UInt8], chunk: Int) -> (messages: [SIPMessage], error: String?) {
        var framer = SIPStreamFramer()
        var messages: [SIPMessage] = []
        var offset = 0
        repeat {
            let end = min(input.count, offset + max(chunk, 1))
            framer.append(input[offset..<end])
            offset = end
            do {
                while let message = try framer.next() { messages.append(message) }
            } catch {
                return (messages, caseName(error))
            }
        } while offset < input.count
        return (messages, nil)
    }
}
