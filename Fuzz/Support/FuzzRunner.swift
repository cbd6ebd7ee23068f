/// A property violation found by the runner, with the input that shows it.
public struct FuzzFinding: Sendable, Hashable {
    public var input: [UInt8]
    public var failure: FuzzFailure
}

/// What a run did.
public struct FuzzStats: Sendable {
    public var target: FuzzTarget
    public var executions = 0
    public var findings: [FuzzFinding] = []
    public var corpusSize = 0
    public var distinctOutcomes = 0
    public var seconds = 0.0
}

/// The deterministic mutation fuzzer: seeds first, then mutations of corpus entries chosen by a seeded PRNG.
/// Without coverage feedback it keeps any input that reached an outcome label not seen before (a new error
/// case, a new action, a new packet count), which steers it past the first layer of rejections.
///
/// The same target, seed and extra seeds give the same inputs in the same order (for every target but
/// `datagram`, whose built-in seeds hold a fresh DTLS handshake).
public final class FuzzRunner {
    public let checker: FuzzChecker
    private var mutator: Mutator
    private var corpus: [[UInt8]]
    private var outcomes: Set<String> = []
    private static let corpusLimit = 1024
    private static let findingLimit = 20

    public init(target: FuzzTarget, seed: UInt64, extraSeeds: [[UInt8]] = []) {
        checker = FuzzChecker(target: target)
        mutator = Mutator(seed: seed, dictionary: checker.dictionary, maxLength: target.maxInputLength)
        corpus = (checker.seeds() + extraSeeds).map { Array($0.prefix(target.maxInputLength)) }
        if corpus.isEmpty { corpus = [[]] }
    }

    /// Runs until `maxInputs` inputs or `seconds` elapsed, whichever comes first (nil: no such bound).
    /// `willRun` sees each input just before it is checked (the harness keeps it to report a crash).
    public func run(maxInputs: Int?, seconds: Double?, willRun: (([UInt8]) -> Void)? = nil) -> FuzzStats {
        var stats = FuzzStats(target: checker.target)
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = seconds.map { start + .milliseconds(Int64($0 * 1000)) }
        var pendingSeeds = corpus
        while true {
            if let maxInputs, stats.executions >= maxInputs { break }
            if let deadline, stats.executions % 64 == 0, clock.now >= deadline { break }
            let input: [UInt8]
            if !pendingSeeds.isEmpty {
                input = pendingSeeds.removeFirst()
            } else {
                let base = corpus[mutator.below(corpus.count)]
                let other = corpus[mutator.below(corpus.count)]
                input = mutator.mutate(base, other: other)
            }
            willRun?(input)
            stats.executions += 1
            do throws(FuzzFailure) {
                let outcome = try checker.check(input)
                if outcomes.insert(outcome).inserted, corpus.count < Self.corpusLimit { corpus.append(input) }
            } catch {
                if stats.findings.count < Self.findingLimit { stats.findings.append(FuzzFinding(input: input, failure: error)) }
            }
        }
        let elapsed = clock.now - start
        stats.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        stats.corpusSize = corpus.count
        stats.distinctOutcomes = outcomes.count
        return stats
    }
}
