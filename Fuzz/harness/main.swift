import FuzzSupport
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// fuzz-harness: runs one fuzz target.
///
///   fuzz-harness --target NAME [--seconds N] [--runs N] [--seed S] [--corpus DIR]... [--crash-dir DIR]
///   fuzz-harness --target NAME --replay FILE...
///   fuzz-harness --target NAME --write-seeds DIR       (the built-in seeds as files, for libFuzzer's corpus)
///   fuzz-harness --target NAME --libfuzzer [libFuzzer flags and corpus dirs...]   (built with -D LIBFUZZER)
///
/// The built-in engine is a seeded mutation fuzzer (no coverage feedback); libFuzzer mode hands the same
/// property checks to libFuzzer's coverage-guided engine. Either way a property violation or a crash stores
/// the input in the crash directory and the process exits non-zero.

struct Options {
    var target: FuzzTarget?
    var seconds: Double?
    var runs: Int?
    var seed: UInt64 = 1
    var corpus: [String] = []
    var crashDirectory = "fuzz-crashes"
    var replay: [String] = []
    var libFuzzerArguments: [String]?
    var writeSeeds: String?
}

func usage(_ message: String) -> Never {
    FileHandle.standardError.write(Data("fuzz-harness: \(message)\nusage: fuzz-harness --target \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) [--seconds N] [--runs N] [--seed S] [--corpus DIR]... [--crash-dir DIR] | --replay FILE... | --write-seeds DIR | --libfuzzer ARGS...\n".utf8))
    exit(2)
}

func parseOptions(_ arguments: [String]) -> Options {
    var options = Options()
    var index = 0
    func value() -> String {
        index += 1
        guard index < arguments.count else { usage("\(arguments[index - 1]) needs a value") }
        return arguments[index]
    }
    while index < arguments.count {
        switch arguments[index] {
        case "--target":
            let name = value()
            guard let target = FuzzTarget(rawValue: name) else { usage("unknown target '\(name)'") }
            options.target = target
        case "--seconds":
            guard let seconds = Double(value()), seconds > 0 else { usage("--seconds takes a positive number") }
            options.seconds = seconds
        case "--runs":
            guard let runs = Int(value()), runs > 0 else { usage("--runs takes a positive integer") }
            options.runs = runs
        case "--seed":
            guard let seed = UInt64(value()) else { usage("--seed takes an unsigned integer") }
            options.seed = seed
        case "--corpus": options.corpus.append(value())
        case "--crash-dir": options.crashDirectory = value()
        case "--write-seeds": options.writeSeeds = value()
        case "--replay":
            options.replay = Array(arguments[(index + 1)...])
            index = arguments.count
        case "--libfuzzer":
            options.libFuzzerArguments = Array(arguments[(index + 1)...])
            index = arguments.count
        default: usage("unknown argument '\(arguments[index])'")
        }
        index += 1
    }
    return options
}

/// Regular files of the corpus directories (recursively), as seeds.
func loadCorpus(_ directories: [String], maxLength: Int) -> [[UInt8]] {
    var out: [[UInt8]] = []
    for directory in directories {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { continue }
        for case let relative as String in walker {
            let path = directory + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let data = FileManager.default.contents(atPath: path) else { continue }
            out.append(Array(data.prefix(maxLength)))
        }
    }
    return out
}

// MARK: - Crash capture for the built-in engine

/// The input being checked, kept where a signal handler can reach it without allocating.
nonisolated(unsafe) var currentInput = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 64 * 1024)
nonisolated(unsafe) var currentInputLength = 0
nonisolated(unsafe) var crashPathBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: 4096)

func installCrashHandler(path: String) {
    _ = path.withCString { strncpy(crashPathBuffer, $0, 4095) }
    crashPathBuffer[4095] = 0
    for signal in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE] {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signalNumber in
            // Only async-signal-safe calls: open, write, close, _exit.
            let fd = open(crashPathBuffer, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            if fd >= 0 {
                _ = write(fd, currentInput.baseAddress, currentInputLength)
                close(fd)
            }
            let message = "fuzz-harness: CRASH (signal); input written to the crash directory\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            _exit(128 + signalNumber)
        }
        sigaction(signal, &action, nil)
    }
}

func remember(_ input: [UInt8]) {
    let n = min(input.count, currentInput.count)
    input.withUnsafeBufferPointer { source in
        if let base = source.baseAddress, n > 0 { currentInput.baseAddress?.update(from: base, count: n) }
    }
    currentInputLength = n
}

func hexName(_ bytes: [UInt8]) -> String {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    return String(hash, radix: 16)
}

// MARK: - libFuzzer

#if LIBFUZZER
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

nonisolated(unsafe) var libFuzzerChecker: FuzzChecker?

func runLibFuzzer(target: FuzzTarget, arguments: [String]) -> Never {
    libFuzzerChecker = FuzzChecker(target: target)
    let all = [CommandLine.arguments[0], "-max_len=\(target.maxInputLength)"] + arguments
    var argc = Int32(all.count)
    let argv = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: all.count + 1)
    for (i, argument) in all.enumerated() { argv[i] = strdup(argument) }
    argv[all.count] = nil
    var argvPointer = argv
    let status = LLVMFuzzerRunDriver(&argc, &argvPointer) { data, size in
        let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        do throws(FuzzFailure) {
            try libFuzzerChecker?.check(input)
        } catch {
            // libFuzzer catches the trap, stores the input as crash-<sha1> and reports it.
            fatalError("property violated: \(error)")
        }
        return 0
    }
    exit(status)
}
#endif

// MARK: - Main

let options = parseOptions(Array(CommandLine.arguments.dropFirst()))
guard let target = options.target else { usage("--target is required") }

if let libFuzzerArguments = options.libFuzzerArguments {
    #if LIBFUZZER
    runLibFuzzer(target: target, arguments: libFuzzerArguments)
    #else
    _ = libFuzzerArguments
    usage("this build has no libFuzzer; build it with scripts/fuzz (swiftc -sanitize-coverage and -D LIBFUZZER)")
    #endif
}

if let directory = options.writeSeeds {
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let checker = FuzzChecker(target: target)
    for (index, seed) in checker.seeds().enumerated() {
        _ = FileManager.default.createFile(atPath: directory + "/seed-\(index)", contents: Data(seed))
    }
    exit(0)
}

if !options.replay.isEmpty {
    let checker = FuzzChecker(target: target)
    var failures = 0
    for path in options.replay {
        guard let data = FileManager.default.contents(atPath: path) else { usage("cannot read \(path)") }
        do throws(FuzzFailure) {
            let outcome = try checker.check(Array(data))
            print("\(path): ok (\(outcome))")
        } catch {
            failures += 1
            print("\(path): FAILED \(error)")
        }
    }
    exit(failures == 0 ? 0 : 1)
}

try? FileManager.default.createDirectory(atPath: options.crashDirectory, withIntermediateDirectories: true)
installCrashHandler(path: options.crashDirectory + "/crash-\(target.rawValue)-seed\(options.seed)")
let runner = FuzzRunner(target: target, seed: options.seed,
                        extraSeeds: loadCorpus(options.corpus, maxLength: target.maxInputLength))
let stats = runner.run(maxInputs: options.runs, seconds: options.seconds ?? (options.runs == nil ? 60 : nil), willRun: remember)
for finding in stats.findings {
    let path = options.crashDirectory + "/failure-\(target.rawValue)-\(hexName(finding.input))"
    _ = FileManager.default.createFile(atPath: path, contents: Data(finding.input))
    print("FAILURE \(finding.failure)\n  input saved to \(path)")
}
let rate = stats.seconds > 0 ? Int(Double(stats.executions) / stats.seconds) : 0
print("target=\(target.rawValue) engine=builtin seed=\(options.seed) executions=\(stats.executions) crashes=0 failures=\(stats.findings.count) corpus=\(stats.corpusSize) outcomes=\(stats.distinctOutcomes) seconds=\(String(format: "%.1f", stats.seconds)) exec/s=\(rate)")
exit(stats.findings.isEmpty ? 0 : 1)
