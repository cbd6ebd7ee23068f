import Testing

/// Every subcommand's --help ends with real examples, and `jingle --help` documents the exit codes.
struct HelpTests {
    /// The subcommands `jingle <path> --help` lists under SUBCOMMANDS (first word of each entry).
    static func subcommands(of path: [String]) throws -> [String] {
        let help = try CLI.run(path + ["--help"]).stdout
        guard let range = help.range(of: "SUBCOMMANDS:\n") else { return [] }
        return help[range.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).prefix { !$0.isEmpty && $0.hasPrefix("  ") }.compactMap { line in
            let word = line.split(separator: " ").first.map(String.init)
            return line.hasPrefix("    ") ? nil : word   // deeper indentation continues an abstract
        }
    }

    /// Every command path, found by walking the help output (so a new subcommand is covered without listing it).
    static func allPaths() throws -> [[String]] {
        var paths: [[String]] = []
        var queue: [[String]] = [[]]
        while let path = queue.first {
            queue.removeFirst()
            paths.append(path)
            // Depth 2 at most (jingle sdp to-jingle): a misread help page cannot send this walk round in circles.
            if path.count < 2 { queue += try subcommands(of: path).filter { $0 != "help" }.map { path + [$0] } }
        }
        return paths
    }

    @Test func everyCommandHasExamples() throws {
        let paths = try Self.allPaths()
        // account, account check, answer, call, gateway, inspect, receive, sdp (+2), sdp-call, send, version and jingle itself.
        #expect(paths.count >= 14, "\(paths)")
        for path in paths {
            let result = try CLI.run(path + ["--help"])
            #expect(result.status == 0, "\(path)")
            let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            guard let heading = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "Examples:" }) else {
                Issue.record("jingle \(path.joined(separator: " ")) --help has no Examples: section")
                continue
            }
            // At least one example line, and each one a real invocation of this command (or a pipe into it).
            let examples = lines[(heading + 1)...].prefix { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.hasPrefix("--") && !$0.hasPrefix("-") }   // continuation lines of a long example
            let invocation = (["jingle"] + path).joined(separator: " ")
            #expect(!examples.isEmpty, "\(invocation): no example")
            #expect(examples.contains { $0.hasPrefix(invocation) || $0.contains("| \(invocation)") || $0.contains("| jingle") },
                    "\(invocation): \(examples)")
        }
    }

    @Test func topLevelHelpDocumentsEveryExitCode() throws {
        let help = try CLI.run(["--help"]).stdout
        #expect(help.contains("Exit codes"))
        for code in ["0 ", "1 ", "64 "] {
            #expect(help.contains("\n  \(code)"), "exit code \(code) missing: \(help)")
        }
        #expect(help.contains("usage error"))
    }
}
