import ArgumentParser
import Foundation
import XMPPCore
import XMPPLink

/// The options that name an XMPP account and how to reach its server, shared by every command that logs in.
struct AccountOptions: ParsableArguments {
    @Option(help: "The account's JID, e.g. alice@example.org (a resource may be given: alice@example.org/laptop).")
    var jid: String

    @Option(help: ArgumentHelp("File holding the account's password (first line).", valueName: "file"))
    var passwordFile: String

    @Option(help: ArgumentHelp("Server address as host:port (default: DNS SRV for the JID's domain, then port 5222).", valueName: "host:port"))
    var server: String?

    @Option(help: ArgumentHelp("Trust the CA or self-signed certificate(s) in this PEM file.", valueName: "file"))
    var caFile: String?

    @Flag(help: "For test servers only: accept any certificate and allow a server without TLS.")
    var insecure = false

    /// The client configuration these options describe; a one-line error for anything wrong.
    func configuration() throws -> XMPPClientConfiguration {
        let account: JID
        do { account = try JID(jid) } catch { throw CLIError("invalid --jid '\(jid)': \(error)") }
        guard account.localpart != nil else { throw CLIError("--jid needs a user part, e.g. alice@\(account.domainpart)") }
        let password: String
        do {
            password = try String(contentsOfFile: passwordFile, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        } catch {
            throw CLIError("cannot read --password-file \(passwordFile): \(error.localizedDescription)")
        }
        guard !password.isEmpty else { throw CLIError("--password-file \(passwordFile) is empty") }
        var host: String?
        var port: Int?
        if let server {
            let parsed = try HostPort(server, option: "--server")
            host = parsed.host
            port = parsed.port
        }
        var configuration = XMPPClientConfiguration(jid: account.bare, password: password, resource: account.resourcepart, host: host, port: port)
        if let caFile {
            guard FileManager.default.fileExists(atPath: caFile) else { throw CLIError("--ca-file \(caFile) does not exist") }
            configuration.trust = .caFile(caFile)
        }
        if insecure {
            configuration.trust = .insecure
            configuration.tls = .ifAvailable
            configuration.allowPlainWithoutTLS = true
        }
        return configuration
    }
}

/// `host:port`, `[v6]:port` or `v6-address` with a port after the last colon.
struct HostPort: Sendable, Hashable {
    var host: String
    var port: Int

    init(_ text: String, option: String) throws {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw CLIError("\(option) '\(text)': expected [address]:port") }
            portPart = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        } else {
            throw CLIError("\(option) '\(text)': expected host:port")
        }
        guard !hostPart.isEmpty, let port = Int(portPart), (1...65535).contains(port) else {
            throw CLIError("\(option) '\(text)': expected host:port with a port from 1 to 65535")
        }
        self.host = String(hostPart)
        self.port = port
    }
}
