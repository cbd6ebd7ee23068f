import SIP

extension FuzzChecker {
    /// RFC 3261 §7: a datagram we parse serializes to bytes that parse to the same message, and serializing is
    /// stable; the stream framer (§18.3, Content-Length framing) frames the same messages for two different
    /// chunkings; and the user agent core takes whatever parses (or the parse error) without trapping.
    func checkSIP(_ input: [UInt8]) throws(FuzzFailure) -> String {
        var labels: [String] = []
        var agent = SIPUserAgent(configuration: SIPUserAgentConfiguration(localHost: "127.0.0.1", localPort: 5060))
        let source = SIPTransportAddress(transport: .udp, host: "127.0.0.1", port: 5070)
        let parsed: SIPMessage
        do throws(SIPParseError) {
            parsed = try SIPParser.parse(datagram: input)
        } catch {
            _ = agent.receiveMalformed(error, from: source)
            labels.append("datagram:" + caseName(error))
            return try checkFraming(input, labels: labels)
        }
        let written = parsed.serialized()
        let again: SIPMessage
        do throws(SIPParseError) {
            again = try SIPParser.parse(datagram: written)
        } catch {
            throw fail("serialized message does not parse: \(error)\n\(String(decoding: written.prefix(400), as: UTF8.self))")
        }
        guard again == parsed else {
            throw fail("message changed after serialize/parse:\n\(String(decoding: written.prefix(400), as: UTF8.self))")
        }
        guard again.serialized() == written else { throw fail("serializing is not stable") }
        _ = agent.receive(parsed, from: source, now: .zero)
        labels.append(parsed.statusCode.map { "response:\($0 / 100)xx" } ?? "request")
        return try checkFraming(input, labels: labels)
    }

    private func checkFraming(_ input: [UInt8], labels: [String]) throws(FuzzFailure) -> String {
        var labels = labels
        let whole = frame(input, chunk: input.count)
        let split = frame(input, chunk: 1 + Int(fnv1a(input) % 97))
        guard whole.messages == split.messages, whole.error == split.error else {
            throw fail("stream framing depends on chunking: \(whole.messages.count)/\(String(describing: whole.error)) vs \(split.messages.count)/\(String(describing: split.error))")
        }
        labels.append("stream:\(whole.messages.count):\(whole.error ?? "-")")
        return labels.joined(separator: "/")
    }

    private func frame(_ input: [UInt8], chunk: Int) -> (messages: [SIPMessage], error: String?) {
        var framer = SIPStreamFramer()
        var messages: [SIPMessage] = []
        var offset = 0
        repeat {
            let end = min(input.count, offset + max(chunk, 1))
            framer.append(input[offset..<end])
            offset = end
            do throws(SIPParseError) {
                while let message = try framer.next() { messages.append(message) }
            } catch {
                return (messages, caseName(error))
            }
        } while offset < input.count
        return (messages, nil)
    }
}
