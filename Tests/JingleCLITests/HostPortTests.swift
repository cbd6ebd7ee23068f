import Testing
@testable import JingleCLI

/// The one host:port parser behind every address option (--server, --peer, --listen, --stun, --turn, --sip).
struct HostPortTests {
    @Test(arguments: [
        ("127.0.0.1:5222", "127.0.0.1", 5222),
        ("localhost:1", "localhost", 1),
        ("xmpp.example.org:65535", "xmpp.example.org", 65535),
        ("[::1]:5222", "::1", 5222),
        ("[fe80::1%eth0]:5060", "fe80::1%eth0", 5060),
        ("[2001:db8::5]:3478", "2001:db8::5", 3478),
    ])
    func parses(text: String, host: String, port: Int) throws {
        let address = try HostPort(text, option: "--server")
        #expect(address.host == host)
        #expect(address.port == port)
        #expect(address.port16 == UInt16(port))
        // The description writes it back the way it was given (brackets around IPv6).
        #expect(address.description == text)
    }

    @Test(arguments: [
        ("localhost", "expected host:port"),
        ("127.0.0.1:", "port from 1 to 65535"),
        (":5222", "port from 1 to 65535"),
        ("127.0.0.1:0", "port from 1 to 65535"),
        ("127.0.0.1:65536", "port from 1 to 65535"),
        ("127.0.0.1:-1", "port from 1 to 65535"),
        ("127.0.0.1:52a", "port from 1 to 65535"),
        ("::1:5222", "put an IPv6 address in brackets"),
        ("[::1]5222", "expected [IPv6-address]:port"),
        ("[::1", "expected [IPv6-address]:port"),
        ("[]:5222", "port from 1 to 65535"),
        ("exa mple.org:5222", "port from 1 to 65535"),
    ])
    func rejects(text: String, message: String) {
        #expect {
            _ = try HostPort(text, option: "--server")
        } throws: { error in
            "\(error)".contains(message) && "\(error)".contains("--server '\(text)'")
        }
    }

    @Test func portZeroOnlyForListeners() throws {
        #expect(try HostPort("127.0.0.1:0", option: "--listen", anyPort: true).port == 0)
        #expect(throws: (any Error).self) { try HostPort("127.0.0.1:0", option: "--peer") }
    }

    /// Every command that takes an address refuses a bad one the same way: usage error, exit 64, naming the option.
    @Test(arguments: [
        (["account", "check", "--jid", "a@localhost", "--password-file", "/dev/null", "--server", "localhost"], "--server"),
        (["account", "check", "--jid", "a@localhost", "--password-file", "/dev/null", "--server", "::1:5222"], "--server"),
        (["send", "/dev/null", "--peer", "127.0.0.1"], "--peer"),
        (["send", "/dev/null", "--peer", "127.0.0.1:1", "--stun", "stun.example.org"], "--stun"),
        (["receive", "--dir", "/tmp", "--yes", "--listen", "[::1]"], "--listen"),
        (["call", "bob@localhost/x", "--peer", "127.0.0.1:99999"], "--peer"),
        (["answer", "--auto", "--listen", "localhost"], "--listen"),
        (["sdp-call", "--offer-out", "o", "--answer-in", "a", "--turn", "127.0.0.1", "--turn-user", "u", "--turn-pass", "p"], "--turn"),
        (["gateway", "--component", "gw.localhost", "--secret-file", "SECRET", "--server", "127.0.0.1", "--map", "sip:(.+)@h -> \\1@x"], "--server"),
        (["gateway", "--sip", "udp:nowhere", "--component", "gw.localhost", "--secret-file", "SECRET", "--server", "127.0.0.1:5347",
          "--map", "sip:(.+)@h -> \\1@x"], "--sip"),
    ])
    func badAddressIsAUsageError(arguments: [String], option: String) throws {
        let secret = try AccountCheckTests.passwordFile("compsecret")
        let result = try CLI.run(arguments.map { $0 == "SECRET" ? secret : $0 }, timeout: 20)
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains("\(option) '"), "\(result.stderr)")
    }

    /// An IPv6 server address in brackets is parsed and used: the login fails only because nothing listens.
    @Test func bracketedIPv6ServerIsUsed() throws {
        let result = try CLI.run(["account", "check", "--jid", "a@localhost", "--password-file", try AccountCheckTests.passwordFile("x"),
                                  "--server", "[::1]:1"], timeout: 20)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("::1"), "\(result.stderr)")
        #expect(!result.stderr.contains("expected"), "\(result.stderr)")
    }
}
