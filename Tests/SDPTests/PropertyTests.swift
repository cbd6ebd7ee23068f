import Testing
@testable import SDP

@Suite("Property: serialize then parse")
struct PropertyTests {
    @Test("random valid models survive serialize -> parse", arguments: [1, 2, 3, 4] as [UInt64])
    func randomModelsRoundTrip(seed: UInt64) throws {
        var generator = ModelGenerator(seed: seed)
        for index in 0..<250 {
            let model = generator.session()
            let text = model.serialized()
            let parsed: SessionDescription
            do {
                parsed = try SessionDescription(parsing: text)
            } catch {
                Issue.record("seed \(seed) model \(index) failed to parse: \(error)\n\(text)")
                return
            }
            #expect(parsed == model, "seed \(seed) model \(index)\n\(text)")
            if parsed != model { return }
            #expect(parsed.serialized() == text)
        }
    }

    @Test("serialized output uses CRLF only and RFC 8866 line order")
    func lineOrder() {
        var generator = ModelGenerator(seed: 99)
        let order = Array("vosiuepcbtrzkam")
        for _ in 0..<100 {
            let text = generator.session().serialized()
            #expect(text.hasSuffix("\r\n"))
            let bytes = Array(text.utf8)
            // Every LF is preceded by CR.
            #expect(zip(bytes.dropFirst(), bytes).allSatisfy { next, previous in next != 0x0A || previous == 0x0D })
            var lastRank = 0
            var inMedia = false
            for line in text.split(separator: "\r\n") {
                guard let letter = line.first, let rank = order.firstIndex(of: letter) else { continue }
                if letter == "m" { inMedia = true; lastRank = 0; continue }
                if inMedia {
                    let mediaOrder = Array("icbka")
                    let mediaRank = mediaOrder.firstIndex(of: letter) ?? -1
                    #expect(mediaRank >= 0 && mediaRank >= lastRank, "\(line)")
                    lastRank = max(lastRank, mediaRank)
                } else {
                    // r= follows its t=, so allow t/r to alternate.
                    let adjusted = letter == "r" ? order.firstIndex(of: "t")! : rank
                    #expect(adjusted >= lastRank, "\(line)")
                    lastRank = max(lastRank, adjusted)
                }
            }
        }
    }
}
