import Foundation
import FuzzSupport
import Testing

/// Runs every fuzz target's harness for a fixed number of inputs, so CI exercises the same code as
/// scripts/fuzz, and replays the kept regression inputs.
@Suite struct FuzzSmokeTests {
    @Test(arguments: FuzzTarget.allCases)
    func smokeRun(target: FuzzTarget) {
        // Datagram inputs drive real DTLS handshakes (milliseconds each in a debug build), so fewer of them.
        let inputs = target == .datagram ? 500 : 2_000
        let runner = FuzzRunner(target: target, seed: 20_261_121)
        let stats = runner.run(maxInputs: inputs, seconds: nil)
        #expect(stats.executions == inputs)
        #expect(stats.findings.isEmpty, "\(stats.findings.map { "\($0.failure) input=\($0.input.prefix(256))" })")
        // The seeds alone must reach more than one outcome, or the target would test nothing.
        #expect(stats.distinctOutcomes > 1)
    }

    @Test(arguments: FuzzTarget.allCases)
    func seedsSatisfyTheProperty(target: FuzzTarget) throws {
        let checker = FuzzChecker(target: target)
        let seeds = checker.seeds()
        #expect(!seeds.isEmpty)
        for seed in seeds { try checker.check(seed) }
    }

    @Test(arguments: FuzzTarget.allCases)
    func sameSeedGivesSameRun(target: FuzzTarget) {
        guard target != .datagram else { return }  // its built-in seeds hold a fresh DTLS handshake
        let a = FuzzRunner(target: target, seed: 7).run(maxInputs: 300, seconds: nil)
        let b = FuzzRunner(target: target, seed: 7).run(maxInputs: 300, seconds: nil)
        #expect(a.corpusSize == b.corpusSize)
        #expect(a.distinctOutcomes == b.distinctOutcomes)
    }

    /// Every input ever found to break a target (kept under Fixtures/fuzz/<target>/) must now pass.
    @Test(arguments: FuzzTarget.allCases)
    func regressionInputs(target: FuzzTarget) throws {
        let checker = FuzzChecker(target: target)
        let files = regressionFiles(target)
        for file in files {
            let data = try Data(contentsOf: file)
            do throws(FuzzFailure) {
                try checker.check(Array(data))
            } catch {
                Issue.record("\(file.lastPathComponent): \(error)")
            }
        }
    }

    private func regressionFiles(_ target: FuzzTarget) -> [URL] {
        guard let directory = Bundle.module.url(forResource: target.rawValue, withExtension: nil, subdirectory: "Fixtures/fuzz"),
              let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        return names.filter { !$0.hasPrefix(".") }.sorted().map { directory.appendingPathComponent($0) }
    }
}
