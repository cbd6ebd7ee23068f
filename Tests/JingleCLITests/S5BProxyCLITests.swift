import Foundation
import Testing

/// `--no-proxy` (XEP-0065 proxies for S5B) on `jingle send` and `jingle receive`.
@Suite("jingle send/receive --no-proxy", .serialized)
struct S5BProxyCLITests {
    typealias F = FileTransferCLITests

    @Test("--no-proxy on both sides: S5B still sends over the direct connection, verified, both exit 0", .timeLimit(.minutes(1)))
    func noProxy() throws {
        let dir = try F.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try F.randomFile(dir + "/np.bin", size: 300_001)
        let r = try F.pair(dir, receive: ["--yes", "--no-proxy"], send: [dir + "/np.bin", "--transport", "s5b", "--no-proxy"])
        #expect(r.ss == 0, "send: \(r.send.stderr)")
        #expect(r.rs == 0, "receive: \(r.receive.stderr)")
        #expect(FileManager.default.contentsEqual(atPath: dir + "/np.bin", andPath: dir + "/in/np.bin"))
    }

    @Test("send --help and receive --help document --no-proxy", arguments: ["send", "receive"])
    func help(command: String) throws {
        let result = try CLI.run([command, "--help"], timeout: 20)
        #expect(result.status == 0)
        #expect(result.stdout.contains("--no-proxy") && result.stdout.contains("XEP-0065"))
    }
}
