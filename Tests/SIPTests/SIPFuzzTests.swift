import Testing
@testable import SIP
import TestServers

@Suite("SIP parser robustness")
struct SIPFuzzTests {
    static let seeds: [[UInt8]] = [ParserFixtures.wideSpread, SIPStreamFramerTests.one, SIPStreamFramerTests.two]

    /// Mutated messages either parse or throw `SIPParseError`; whatever parses serialises to
    /// something that parses again, and the user agent core takes it without trapping.
    @Test(arguments: 0..<3)
    func mutatedMessagesNeverTrap(seedIndex: Int) throws {
        var random = SplitMix64(seed: UInt64(seedIndex + 1) * 7919)
        var agent = SIPUserAgent(configuration: SIPUserAgentConfiguration(localHost: "127.0.0.1", localPort: 5060))
        let source = SIPTransportAddress(transport: .udp, host: "127.0.0.1", port: 5070)
        var parsed = 0
        for _ in 0..<1500 {
            var bytes = Self.seeds[seedIndex]
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes.remove(at: index)
                case 2: bytes.insert([13, 10, 32, 58, 59, 44, 60, 62, 34, 64].randomElement(using: &random) ?? 32, at: index)
                default: bytes[index] = [UInt8(ascii: ";"), UInt8(ascii: ","), UInt8(ascii: "\""), UInt8(ascii: "<")].randomElement(using: &random) ?? 0
                }
            }
            do {
                let message = try SIPParser.parse(datagram: bytes)
                parsed += 1
                let again = try SIPParser.parse(datagram: message.serialized())
                #expect(again.startLine == message.startLine)
                _ = agent.receive(message, from: source, now: .zero)
            } catch {
                _ = agent.receiveMalformed(error, from: source)
            }
        }
        #expect(parsed > 0, "some mutations keep the message valid")
    }

    /// Any chunking of a byte stream frames the same messages.
    @Test func randomChunkingFramesTheSameMessages() throws {
        let stream = SIPStreamFramerTests.one + SIPStreamFramerTests.two + [13, 10] + SIPStreamFramerTests.one
        var random = SplitMix64(seed: 42)
        for _ in 0..<200 {
            var framer = SIPStreamFramer()
            var messages: [SIPMessage] = []
            var offset = 0
            while offset < stream.count {
                let length = Int.random(in: 1...64, using: &random)
                framer.append(stream[offset..<min(stream.count, offset + length)])
                offset += length
                while let message = try framer.next() { messages.append(message) }
            }
            #expect(messages.map(\.statusCode) == [nil, 200, nil])
        }
    }
}
