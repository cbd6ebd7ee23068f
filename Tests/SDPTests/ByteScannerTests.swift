import Testing
@testable import SDP
import TestServers

/// The word-at-a-time scanners of the parser agree with the standard library's byte-by-byte answers on random
/// text full of spaces, separators, control bytes and multi-byte characters, at every length and offset.
@Suite("Byte scanners")
struct ByteScannerTests {
    private static let alphabet: [UInt8] = Array("  ab:=;/\t\r\n\0!".utf8) + Array("é☎".utf8) + [0x20, 0x21, 0x01, 0xFF]

    private static func randomBytes(_ rng: inout SplitMix64) -> [UInt8] {
        (0..<Int.random(in: 0...90, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
    }

    @Test("Fields.split gives what split(separator:maxSplits:omittingEmptySubsequences:) gives")
    func splitMatchesStandardLibrary() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<3000 {
            let bytes = Self.randomBytes(&rng)
            let maxSplits = [Int.max, 0, 1, 2, 3, 40].randomElement(using: &rng)!
            let expected = bytes.split(separator: 0x20, maxSplits: maxSplits, omittingEmptySubsequences: true).map(Array.init)
            let actual: [[UInt8]] = bytes.withUnsafeBufferPointer { buffer in
                withUnsafeTemporaryAllocation(of: Bytes.self, capacity: Fields.inlineCapacity) { scratch in
                    var fields = Fields(scratch: scratch)
                    let count = fields.split(buffer, maxSplits: maxSplits)
                    return (0..<count).map { Array(fields[$0]) }
                }
            }
            #expect(actual == expected, "\(bytes) maxSplits \(maxSplits)")
        }
    }

    @Test("firstIndex(of:from:) finds the first byte like firstIndex(of:)")
    func firstIndexMatchesStandardLibrary() {
        var rng = SplitMix64(seed: 43)
        for _ in 0..<3000 {
            let bytes = Self.randomBytes(&rng)
            let target = Self.alphabet.randomElement(using: &rng)!
            let start = Int.random(in: 0...bytes.count, using: &rng)
            let expected = bytes[start...].firstIndex(of: target)
            let actual = bytes.withUnsafeBufferPointer { $0.firstIndex(of: target, from: start) }
            #expect(actual == expected, "\(bytes) target \(target) from \(start)")
        }
    }

    @Test("zeroBytes flags exactly the zero bytes of a word")
    func zeroBytesIsExact() {
        var rng = SplitMix64(seed: 44)
        for _ in 0..<3000 {
            let bytes = (0..<8).map { _ in [0x00, 0x01, 0x80, 0xFF, 0x20, 0x21].randomElement(using: &rng)! as UInt8 }
            let word = bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            let expected = bytes.enumerated().reduce(UInt64(0)) { $0 | ($1.element == 0 ? UInt64(0x80) << (8 * UInt64($1.offset)) : 0) }
            #expect(zeroBytes(word) == expected, "\(bytes)")
        }
    }
}
