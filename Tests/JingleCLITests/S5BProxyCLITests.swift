import Foundation
import Testing

/// `--no-proxy` (XEP-0065 proxies for S5B) on `jingle send` and `jingle receive`.
@Suite("jingle send/receive --no-proxy")
struct S5BProxyCLITests {
    @Test("send --help and receive --help document --no-proxy", arguments: ["send", "receive"])
    func help(command: String) throws {
        let result = try CLI.run([command, "--help"], timeout: 20)
        #expect(result.status == 0)
        #expect(result.stdout.contains("--no-proxy") && result.stdout.contains("XEP-0065"))
    }

    /// Parsed, not rejected: the run fails later (nothing listens on port 9), with 1 rather than the usage
    /// error 64 an unknown flag gives.
    @Test("--no-proxy is accepted with --transport s5b; a misspelt flag is a usage error")
    func parses() throws {
        let ok = try CLI.run(["send", "/dev/null", "--peer", "127.0.0.1:9", "--transport", "s5b", "--no-proxy", "--timeout", "2s"], timeout: 20)
        #expect(ok.status == 1, "\(ok.stderr)")
        let bad = try CLI.run(["send", "/dev/null", "--peer", "127.0.0.1:9", "--transport", "s5b", "--no-proxies"], timeout: 20)
        #expect(bad.status == 64 && bad.stderr.contains("no-proxies"), "\(bad.stderr)")
    }
}
