import XMLStream

extension FuzzChecker {
    /// What a stream parser made of some input: the events of every feed that succeeded, then the error
    /// (if any) by case name. Events completed in the feed that failed are not returned by the parser, so when
    /// there is an error only the error is compared across chunkings.
    struct XMLOutcome: Equatable {
        var events: [XMLStreamEvent]
        var error: String?
    }

    static let xmlLimits = XMLStreamLimits(maxStanzaBytes: 1 << 20, maxDepth: 24, maxAttributes: 24)
    /// Re-parsing a serialized element in document mode: the element itself is the root, so allow the same depth.
    static let reparseLimits = XMLStreamLimits(maxStanzaBytes: 1 << 22, maxDepth: 64, maxAttributes: 64)

    static func parseXML(_ input: [UInt8], chunks: [Int]) -> XMLOutcome {
        let parser = XMLStreamParser(mode: .stream, limits: xmlLimits)
        var outcome = XMLOutcome(events: [], error: nil)
        var offset = 0
        var chunkIndex = 0
        do throws(XMLStreamError) {
            while offset < input.count {
                let size = max(1, chunks[chunkIndex % chunks.count])
                chunkIndex += 1
                let end = min(input.count, offset + size)
                outcome.events += try parser.feed(input[offset..<end])
                offset = end
            }
            outcome.events += try parser.finish()
        } catch {
            outcome.error = caseName(error)
        }
        return outcome
    }

    func checkXML(_ input: [UInt8]) throws(FuzzFailure) -> String {
        let whole = Self.parseXML(input, chunks: [max(1, input.count)])
        var rng = SplitMix64(seed: fnv1a(input))
        let randomChunks = (0..<16).map { _ in 1 + Int(rng.next() % 97) }
        var chunkings = [randomChunks]
        if input.count <= 4096 { chunkings.append([1]) }
        var outcomes = [whole]
        for chunks in chunkings {
            let split = Self.parseXML(input, chunks: chunks)
            // Whether the input is refused must not depend on chunking. Which error is reported may: libxml2's
            // push parser decides from lookahead when to parse a construct, so input with several faults can
            // meet a different one first. Events delivered before an error must agree as far as both go.
            guard (split.error == nil) == (whole.error == nil) else {
                throw fail("chunking \(chunks.prefix(4)) gave \(split.error ?? "no error"), whole input gave \(whole.error ?? "no error")")
            }
            if whole.error == nil {
                guard split.events == whole.events else {
                    throw fail("chunking \(chunks.prefix(4)) gave \(split.events.count) events, whole input \(whole.events.count), or they differ")
                }
            }
            outcomes.append(split)
        }
        for a in outcomes where a.error != nil {
            for b in outcomes where b.error != nil {
                let n = min(a.events.count, b.events.count)
                guard a.events.prefix(n) == b.events.prefix(n) else {
                    throw fail("events before the error differ between chunkings")
                }
            }
        }
        for event in whole.events {
            guard case .element(let element) = event else { continue }
            let bytes = element.serializedBytes()
            let again: XMLElement
            do throws(XMLStreamError) {
                again = try XMLElement(parsing: bytes, limits: Self.reparseLimits)
            } catch {
                throw fail("serialized element does not parse (\(error)): \(String(decoding: bytes, as: UTF8.self).prefix(200))")
            }
            if again != element {
                throw fail("element changed after serialize/parse: \(String(decoding: bytes, as: UTF8.self).prefix(200))")
            }
        }
        return whole.error ?? "ok:\(min(whole.events.count, 8))"
    }
}
