import Foundation
import Testing
@testable import XMLStream
import TestServers

/// Feeding any chunking of the same bytes yields exactly the same events (nio-ssh's dripFeed idea).
struct DripFeedTests {
    /// A stream of every well-formed single-document XEP example, as stanzas one after another,
    /// with a UTF-8 multi-byte text thrown in so chunk boundaries fall inside characters.
    static func bigStream() throws -> [UInt8] {
        var text = XEPExampleTests.header
        for name in XEPExampleTests.allFiles where XEPExampleTests.nonDocuments[name] == nil {
            text += try XEPExampleTests.read(name)
        }
        text += "<message to='romeo@montague.lit'><body>Wherefore art thou? ✈︎ 日本語 é &amp; &lt;3</body></message>"
        text += "</stream:stream>"
        return Array(text.utf8)
    }

    static func events(_ input: [UInt8], chunkSizes: (Int) -> Int) throws -> [XMLStreamEvent] {
        let parser = XMLStreamParser()
        var out: [XMLStreamEvent] = []
        var offset = 0
        var i = 0
        while offset < input.count {
            let n = min(max(1, chunkSizes(i)), input.count - offset)
            out += try parser.feed(input[offset..<offset + n])
            offset += n
            i += 1
        }
        out += try parser.finish()
        return out
    }

    @Test func oneByteAtATimeEqualsAllAtOnce() throws {
        let input = try Self.bigStream()
        let whole = try Self.events(input) { _ in input.count }
        let dripped = try Self.events(input) { _ in 1 }
        #expect(whole.count > 300)
        #expect(dripped == whole)
    }

    @Test(arguments: [1, 7, 42, 1000])
    func randomChunkingsEqualAllAtOnce(seed: UInt64) throws {
        let input = try Self.bigStream()
        let whole = try Self.events(input) { _ in input.count }
        var rng = SplitMix64(seed: seed)
        let chunked = try Self.events(input) { _ in Int(rng.next() % 97) + 1 }
        #expect(chunked == whole)
    }

    @Test func whitespaceKeepalivesBetweenStanzasAreIgnored() throws {
        let parser = XMLStreamParser()
        var events = try parser.feed(XEPExampleTests.header + " \n ")
        events += try parser.feed("<presence/>\n \n<presence/> ")
        #expect(events.count == 3)
        #expect(events.dropFirst().allSatisfy { if case .element(let e) = $0 { e.name == "presence" } else { false } })
    }
}

