import Foundation
import Testing
@testable import SDP
import TestServers

/// Pins the exact behaviour of the parser and the serializer on thousands of generated inputs, so that a rewrite
/// for speed can be checked to change nothing: for each input the digest of the outcome (the parsed model with
/// every field, and its serialized text; or the error's kind, line and message) must equal the digest recorded
/// in Fixtures/golden-outcomes.txt. The inputs are the fixtures under seeded field-level and line-level edits
/// (numbers out of range, missing or extra fields, doubled spaces, tabs, combining marks, control bytes, lines
/// moved or duplicated), plus random models from ``ModelGenerator`` for the serializer.
///
/// When the behaviour is changed on purpose, record new digests with
/// `SDP_GOLDEN_RECORD=/abs/path/Tests/SDPTests/Fixtures/golden-outcomes.txt swift test --filter GoldenOutcome`.
@Suite("Golden outcomes")
struct GoldenOutcomeTests {
    static let parsedCases = 4000
    static let modelCases = 600

    /// Field values that sit on the edges of the grammars.
    private static let oddFields = [
        "", "-1", "0", "00", "127", "128", "255", "256", "65535", "65536", "4294967295", "4294967296",
        "18446744073709551615", "18446744073709551616", "99999999999999999999999", "x", "*", "typ", "raddr",
        "rport", "host", "é", "a\u{301}", " \u{301}", "\t", "foo:bar", "=", ";", "/", "1/2", "96/sendonly",
        "opus/48000/2", "PCMU/8000/x", "5.5", "10h", "-1h", "+1", "active", "holdconn", "trr-int", "\u{0}", "\r",
    ]
    private static let oddBytes: [UInt8] = Array(" :=/;-*09.\t\r".utf8) + [0x00, 0xFF, 0xC3, 0xCC, 0x81]
    private static let extraLines = [
        "a=candidate:1 1 udp 99999999999 x 1 typ host", "m=audio -1 RTP/AVP 0", "a=rtpmap:96 x/99999999999",
        "v=0", "a=", "=", "a=fmtp:96 =;=;;", "m=video 65536/2 RTP/AVP", "t=0", "a=ssrc:1 :", "a=extmap:1/ x",
        "r=1 1 1", "z=1 -1h 2 0", "b=X:99999999999999999999999", "a=rtcp-fb:* trr-int 5", "a=crypto:1 s k ",
        "a=remote-candidates:1 x 1 2 y 3", "a=ptime:20.5", "a=maxptime:x", "a=sctp-port:5000", "a=setup: passive ",
        "a=msid-semantic: WMS *", "a=ice-options:trickle  renomination", "a=group:BUNDLE", "a=ssrc-group:FID 1 x",
        "a=max-message-size:-3", "a=sctpmap:5000 webrtc-datachannel 1024", "a=msid:a b c", "a=rtcp:9 IN IP4 x",
        "a=extmap:3/recvonly urn:x attr  ", "a=candidate:f 2 tcp 5 ::1 9 typ srflx raddr 1 rport 2 tcptype so x y",
        "k=clear:x", "e=a@b", "p=+1 2", "u=http://x", "i=info", "c=IN IP6 ::1", "b=AS:64", "a=mid: 0 ",
    ]

    /// A 64-bit FNV-1a digest: compact, stable across runs and platforms.
    static func digest(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    static func outcome(of bytes: [UInt8], policy: SDPParser.MalformedAttributePolicy) -> String {
        do {
            let model = try SDPParser(options: SDPParser.Options(malformedAttributes: policy)).parse(bytes: bytes)
            return "ok \(String(reflecting: model))\n\(model.serialized())"
        } catch {
            return "error \(error.kind) \(error.line) \(error.message)"
        }
    }

    /// One seeded edit inside a line: a field replaced, dropped or doubled, a byte inserted or removed, a cut.
    private static func editLine(_ line: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var fields = line.split(separator: 0x20, omittingEmptySubsequences: false).map(Array.init)
        let field = Int.random(in: 0..<max(fields.count, 1), using: &rng)
        switch Int.random(in: 0...6, using: &rng) {
        case 0 where !fields.isEmpty: fields[field] = Array(oddFields.randomElement(using: &rng)!.utf8)
        case 1 where fields.count > 1: fields.remove(at: field)
        case 2 where !fields.isEmpty: fields.insert(Array(oddFields.randomElement(using: &rng)!.utf8), at: field)
        case 3:
            var bytes = line
            bytes.insert(oddBytes.randomElement(using: &rng)!, at: Int.random(in: 0...bytes.count, using: &rng))
            return bytes
        case 4 where !line.isEmpty:
            var bytes = line
            bytes.remove(at: Int.random(in: 0..<bytes.count, using: &rng))
            return bytes
        case 5: return Array(line.prefix(Int.random(in: 0...line.count, using: &rng)))
        default:
            // A value after the colon of an attribute replaced by an odd field, or the type letter changed.
            if let colon = line.firstIndex(of: 0x3A) {
                return Array(line[...colon]) + Array(oddFields.randomElement(using: &rng)!.utf8)
            }
            var bytes = line
            if !bytes.isEmpty { bytes[0] = Array("vosiuepcbtrzkamxV1".utf8).randomElement(using: &rng)! }
            return bytes
        }
        return Array(fields.joined(separator: [0x20]))
    }

    /// One to three edits of a fixture's lines.
    private static func mutate(_ text: String, using rng: inout SplitMix64) -> [UInt8] {
        var lines = Array(text.utf8).split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let index = Int.random(in: 0..<lines.count, using: &rng)
            switch Int.random(in: 0...9, using: &rng) {
            case 0: lines.swapAt(index, Int.random(in: 0..<lines.count, using: &rng))
            case 1 where lines.count > 1: lines.remove(at: index)
            case 2: lines.insert(lines[index], at: index)
            case 3: lines.insert(Array(extraLines.randomElement(using: &rng)!.utf8) + [0x0D], at: index)
            default:
                let hasCR = lines[index].last == 0x0D
                let body = editLine(Array(lines[index].dropLast(hasCR ? 1 : 0)), using: &rng)
                lines[index] = body + (hasCR ? [0x0D] : [])
            }
        }
        return Array(lines.joined(separator: [0x0A]))
    }

    /// The digests of every generated case, in order.
    static func currentDigests() throws -> [UInt64] {
        let sources = try allFixtures.map(fixture)
        var rng = SplitMix64(seed: 20_261_121)
        var digests: [UInt64] = []
        for index in 0..<parsedCases {
            let bytes = mutate(sources[index % sources.count], using: &rng)
            digests.append(digest(outcome(of: bytes, policy: index % 3 == 0 ? .keepAsOther : .reject)))
        }
        var models = ModelGenerator(seed: 2026)
        for _ in 0..<modelCases {
            let model = models.session()
            let media = model.media.map { $0.serialized() }.joined(separator: "|")
            let attributes = (model.attributes + model.media.flatMap(\.attributes)).map { $0.serialized() }.joined(separator: "|")
            digests.append(digest(model.serialized() + "\n" + media + "\n" + attributes))
        }
        return digests
    }

    @Test("parser and serializer outcomes match the recorded digests")
    func outcomesMatch() throws {
        let digests = try Self.currentDigests()
        let text = digests.map { String($0, radix: 16) }.joined(separator: "\n") + "\n"
        if let path = ProcessInfo.processInfo.environment["SDP_GOLDEN_RECORD"] {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            Issue.record("recorded \(digests.count) digests to \(path); run again without SDP_GOLDEN_RECORD")
            return
        }
        let url = try #require(Bundle.module.url(forResource: "golden-outcomes", withExtension: "txt", subdirectory: "Fixtures"))
        let recorded = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { UInt64($0, radix: 16) }
        #expect(recorded.count == digests.count)
        var mismatches: [Int] = []
        for (index, digest) in digests.enumerated() where index < recorded.count && recorded[index] != digest {
            mismatches.append(index)
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) cases differ, first: \(mismatches.prefix(20))")
    }

    /// The generated inputs must reach both outcomes and many distinct errors, or the digests pin little.
    @Test("generated inputs cover accepted and rejected descriptions")
    func coverage() throws {
        let sources = try allFixtures.map(fixture)
        var rng = SplitMix64(seed: 20_261_121)
        var accepted = 0
        var messages = Set<String>()
        for index in 0..<Self.parsedCases {
            let result = Self.outcome(of: Self.mutate(sources[index % sources.count], using: &rng), policy: index % 3 == 0 ? .keepAsOther : .reject)
            if result.hasPrefix("ok ") { accepted += 1 } else { messages.insert(String(result.prefix(60))) }
        }
        #expect(accepted > Self.parsedCases / 10 && accepted < Self.parsedCases * 9 / 10, "accepted \(accepted)")
        #expect(messages.count > 100, "only \(messages.count) distinct errors")
    }
}
