import Foundation
import Testing
@testable import SDP
import TestServers

/// Mutation and garbage fuzzing with a fixed seed. The parser must never trap; it either returns a model that
/// is stable under serialize -> parse, or throws an SDPError pointing at a line of the input.
@Suite("Fuzz")
struct FuzzTests {
    private static let interestingBytes: [UInt8] = Array(" :=/;-*0123456789amtvcob\r\n\t\0".utf8) + [0xFF, 0xC3, 0xCC, 0x81]
    private static let interestingLines = [
        "a=candidate:1 1 udp 99999999999 x 1 typ host", "m=audio -1 RTP/AVP 0", "a=rtpmap:96 x/99999999999",
        "v=0", "a=", "=", "a=fmtp:96 =;=;;", "m=video 65536 RTP/AVP", "t=0", "a=ssrc:1 :", "a=extmap:1/ x",
        "r=1 1 1", "z=1 -", "b=X:99999999999999999999999", "a=candidate:" + String(repeating: "x ", count: 300),
        "o=- 1 18446744073709551616 IN IP4 x", "a=rtcp-fb:* trr-int", "a=crypto:1 s k ", "a=remote-candidates:1 x 1 2",
    ]

    /// Applies one to four random edits to the bytes of a fixture.
    private static func mutate(_ bytes: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0...7, using: &rng) {
            case 0 where !bytes.isEmpty: bytes.remove(at: position)
            case 1: bytes.insert(interestingBytes.randomElement(using: &rng)!, at: position)
            case 2 where !bytes.isEmpty: bytes[position] = UInt8.random(in: 0...255, using: &rng)
            case 3: bytes = Array(bytes.prefix(position))
            case 4:
                var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
                if lines.count > 1 {
                    lines.swapAt(Int.random(in: 0..<lines.count, using: &rng), Int.random(in: 0..<lines.count, using: &rng))
                }
                bytes = Array(lines.joined(separator: [0x0A]))
            case 5:
                var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
                let line = Array(interestingLines.randomElement(using: &rng)!.utf8) + [0x0D]
                lines.insert(line, at: Int.random(in: 0...lines.count, using: &rng))
                bytes = Array(lines.joined(separator: [0x0A]))
            case 6:
                // Replace a digit run with a huge or negative number.
                if let digit = bytes[position...].firstIndex(where: { (0x30...0x39).contains($0) }) {
                    let replacement = ["-1", "99999999999999999999999999", "65536", "4294967296", "00000000"].randomElement(using: &rng)!
                    bytes.replaceSubrange(digit...digit, with: Array(replacement.utf8))
                }
            default:
                bytes.insert(contentsOf: Array("\r\n\r\n".utf8), at: position)
            }
        }
        return bytes
    }

    /// Parses; on success checks stability, on failure checks the error's line is inside the input.
    private static func check(_ bytes: [UInt8], options: SDPParser.Options = SDPParser.Options()) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        let lineCount = text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).count
        do {
            let model = try SDPParser(options: options).parse(text)
            let again = try SDPParser(options: options).parse(model.serialized())
            #expect(again == model, "unstable round trip for \(text.debugDescription)")
            return true
        } catch {
            #expect(error.line >= 0 && error.line <= lineCount, "line \(error.line) outside input: \(error)")
            #expect(!error.message.isEmpty)
            return false
        }
    }

    @Test("mutated fixtures never trap", arguments: [11, 12] as [UInt64])
    func mutatedFixtures(seed: UInt64) throws {
        let sources = try allFixtures.map { Array(try fixture($0).utf8) }
        var rng = SplitMix64(seed: seed)
        var accepted = 0
        for index in 0..<1500 {
            let mutated = Self.mutate(sources[index % sources.count], using: &rng)
            if Self.check(mutated, options: SDPParser.Options(malformedAttributes: index % 2 == 0 ? .reject : .keepAsOther)) {
                accepted += 1
            }
        }
        // Both outcomes must occur, or the mutations are not reaching the parser's corners.
        #expect(accepted > 50 && accepted < 1450, "accepted \(accepted) of 1500")
    }

    @Test("random garbage never traps")
    func garbage() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<1500 {
            let length = Int.random(in: 0...200, using: &rng)
            var bytes = (0..<length).map { _ in
                Bool.random(using: &rng) ? Self.interestingBytes.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
            }
            if Bool.random(using: &rng) { bytes = Array("v=0\r\n".utf8) + bytes }
            _ = Self.check(bytes)
        }
    }

    @Test func tenThousandCandidates() throws {
        var text = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
        for index in 0..<10_000 {
            text += "a=candidate:\(index) 1 udp \(2_130_706_431 - index) 10.\(index / 256 % 256).\(index % 256).1 \(10_000 + index % 50_000) typ host generation 0 network-id \(index % 7)\r\n"
        }
        let clock = ContinuousClock()
        var session: SessionDescription?
        let elapsed = try clock.measure { session = try SessionDescription(parsing: text) }
        let candidates = try #require(session?.media.first?.candidates)
        #expect(candidates.count == 10_000)
        #expect(candidates.last?.foundation == "9999" && candidates.last?.networkID == "3")
        #expect(session?.serialized() == text)
        #expect(elapsed < .seconds(10), "parsing 10 000 candidates took \(elapsed)")
        print("SDP: parsed 10 000 candidates (\(text.utf8.count) bytes) in \(elapsed)")
    }

    @Test func longAndEmptyLines() throws {
        let long = String(repeating: "x", count: 1_000_000)
        let text = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=tool:\(long)\r\n" + String(repeating: "\r\n", count: 10_000)
        let session = try SessionDescription(parsing: text)
        #expect(session.attributes == [.other(name: "tool", value: long)])
        #expect(throws: SDPError.self) { try SessionDescription(parsing: "v=0\r\n" + String(repeating: "a", count: 100_000)) }
    }
}
