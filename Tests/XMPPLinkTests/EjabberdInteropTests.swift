import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TestServers
import Testing
import XMLStream
import XMPPCore
@testable import XMPPLink

/// Runs a script from scripts/ with posix_spawn; returns its exit status and standard output.
/// With `wait: false` the script runs on in the background (a slow shutdown need not hold up the test).
func runScript(_ name: String, _ arguments: [String], wait: Bool = true) -> (status: Int32, output: String) {
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let outPath = NSTemporaryDirectory() + "xmpplink-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).out"
    let quoted = arguments.map { "'\($0)'" }.joined(separator: " ")
    let script = "/bin/bash '\(repo.path)/scripts/\(name)' \(quoted) </dev/null >'\(outPath)' 2>&1"
    let command = wait ? "exec " + script : "(" + script + "; rm -f '\(outPath)') </dev/null >/dev/null 2>&1 &"
    var pid: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command), nil]
    defer { for arg in argv { free(arg) } }
    guard posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0 else { return (-1, "cannot spawn \(name)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    if !wait { return (status, "") }
    let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    unlink(outPath)
    return (status, output)
}

@Suite struct EjabberdInteropTests {
    /// The same client against a second server implementation: STARTTLS, SCRAM, bind, XEP-0198, disco, IQ.
    @Test(.timeLimit(.minutes(1))) func loginAndIQRoundTrip() async throws {
        let directory = NSTemporaryDirectory() + "xmpplink-ejabberd-\(getpid())"
        let c2s = try #require(freePort()), component = try #require(freePort()), dist = try #require(freePort())
        let started = runScript("start-ejabberd.sh", [directory, "\(c2s)", "\(component)", "\(dist)", "--tls"])
        defer { _ = runScript("stop-ejabberd.sh", [directory], wait: false) }
        try #require(started.status == 0, "ejabberd did not start (is it installed? see scripts/bootstrap): \(started.output)")

        func configuration(_ user: String) throws -> XMPPClientConfiguration {
            var configuration = XMPPClientConfiguration(jid: try JID("\(user)@localhost"), password: "\(user)pw",
                                                        host: "127.0.0.1", port: c2s)
            configuration.trust = .caFile(directory + "/certs/localhost.crt")
            return configuration
        }
        let alice = XMPPClient(try configuration("alice"))
        let aliceJID = try await alice.connect()
        #expect(aliceJID.bare == (try JID("alice@localhost")))
        #expect(await alice.streamManagementResumable)
        let bob = XMPPClient(try configuration("bob"))
        let bobJID = try await bob.connect()
        await bob.register(iqHandler: echoNamespace) { _ in XMLElement("echo", namespace: echoNamespace, text: "ejabberd ok") }
        let result = try await alice.sendIQ(IQ(type: .get, id: "ej1", to: bobJID, payload: XMLElement("echo", namespace: echoNamespace)),
                                            timeout: .seconds(5))
        #expect(result.payload?.text == "ejabberd ok")
        let services = try await alice.externalServices()
        #expect(services.contains { $0.type == "turn" && $0.username != nil && $0.password != nil })
        await alice.close()
        await bob.close()
    }
}
