import Foundation
import TestServers
import Testing

/// `jingle account check` against a real private Prosody.
struct AccountCheckTests {
    static func passwordFile(_ password: String) throws -> String {
        let path = NSTemporaryDirectory() + "sj-pw-\(UUID().uuidString)"
        try Data((password + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func loginPrintsBoundJIDFeaturesAndServices() throws {
        let server = try ProsodyServer.get()
        let result = try CLI.run(["account", "check", "--jid", "alice@localhost", "--password-file", try Self.passwordFile("alicepw"),
                                  "--server", "127.0.0.1:\(server.c2sPort)", "--ca-file", server.caFile])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("bound JID: alice@localhost/"))
        #expect(result.stdout.contains("urn:xmpp:sm:3"))
        #expect(result.stdout.contains("turn 127.0.0.1:\(server.turnPort) (udp) with credentials"))
    }

    /// `--direct-tls` logs in over TLS from the first byte (XEP-0368), on Prosody's direct-TLS port.
    @Test func directTLS() throws {
        let server = try ProsodyServer.get()
        let result = try CLI.run(["account", "check", "--direct-tls", "--jid", "alice@localhost", "--password-file", try Self.passwordFile("alicepw"),
                                  "--server", "127.0.0.1:\(server.directTLSPort)", "--ca-file", server.caFile])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("bound JID: alice@localhost/"))
        let refused = try CLI.run(["account", "check", "--direct-tls", "--insecure", "--jid", "alice@localhost", "--password-file",
                                   try Self.passwordFile("alicepw"), "--server", "127.0.0.1:\(server.directTLSPort)"])
        #expect(refused.status == 64 && refused.stderr.contains("--direct-tls and --insecure"), "\(refused.stderr)")
    }

    @Test func jsonOutput() throws {
        let server = try ProsodyServer.get()
        let result = try CLI.run(["account", "check", "--json", "--jid", "bob@localhost/desk", "--password-file", try Self.passwordFile("bobpw"),
                                  "--server", "127.0.0.1:\(server.c2sPort)", "--insecure"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\"jid\":\"bob@localhost/desk\""))
        #expect(result.stdout.contains("\"streamManagement\":true"))
    }

    @Test func wrongPasswordIsOneLineAndExitsOne() throws {
        let server = try ProsodyServer.get()
        let result = try CLI.run(["account", "check", "--jid", "alice@localhost", "--password-file", try Self.passwordFile("nope"),
                                  "--server", "127.0.0.1:\(server.c2sPort)", "--insecure"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("authentication failed: not-authorized"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func serverNotListening() throws {
        let port = try #require(freePort())
        let start = Date()
        let result = try CLI.run(["account", "check", "--jid", "alice@localhost", "--password-file", try Self.passwordFile("alicepw"),
                                  "--server", "127.0.0.1:\(port)", "--insecure"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot connect to 127.0.0.1:\(port)"))
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test func untrustedCertificate() throws {
        let server = try ProsodyServer.get()
        let result = try CLI.run(["account", "check", "--jid", "alice@localhost", "--password-file", try Self.passwordFile("alicepw"),
                                  "--server", "127.0.0.1:\(server.c2sPort)"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("TLS failed"))
        #expect(result.stderr.contains("--ca-file"))
    }

    @Test(arguments: [
        (["--jid", "not a jid", "--password-file", "/dev/null"], "invalid --jid"),
        (["--jid", "localhost", "--password-file", "/dev/null"], "needs a user part"),
        (["--jid", "a@localhost", "--password-file", "/nonexistent"], "cannot read --password-file"),
        (["--jid", "a@localhost", "--password-file", "EMPTY"], "is empty"),
    ])
    func badOptions(_ arguments: [String], _ message: String) throws {
        let empty = try Self.passwordFile("")
        let result = try CLI.run(["account", "check"] + arguments.map { $0 == "EMPTY" ? empty : $0 })
        #expect(result.status == 1)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func badServerOption() throws {
        let result = try CLI.run(["account", "check", "--jid", "a@localhost", "--password-file", try Self.passwordFile("x"), "--server", "localhost"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("expected host:port"))
    }
}
