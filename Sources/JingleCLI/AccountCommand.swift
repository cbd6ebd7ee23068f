import ArgumentParser
import Foundation
import XMPPLink

/// `jingle account …`: account tools.
struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account",
        abstract: "Check an XMPP account: log in and report what the server offers.",
        discussion: """
        Examples:
          jingle account check --jid alice@example.org --password-file ~/.alice-pw
          jingle account check --jid a@localhost --password-file pw --server [::1]:5222
        """,
        subcommands: [AccountCheckCommand.self]
    )
}

struct AccountCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Log in, print the bound JID, the server's features and external services, and log out.",
        discussion: """
        Exit status: 0 when the login worked, 1 with a one-line reason when it did not (wrong password, \
        unreachable server, untrusted certificate, stream error), 64 on a usage error.

        Examples:
          jingle account check --jid alice@example.org --password-file ~/.alice-pw
          jingle account check --jid alice@localhost --password-file pw --server 127.0.0.1:5222 --insecure
        """
    )

    @OptionGroup var account: AccountOptions

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard account.isGiven else { throw ValidationError("--jid and --password-file are required") }
        try account.validateForm()
    }

    func run() async throws {
        let configuration = try account.configuration()
        let report: XMPPLoginReport
        do {
            report = try await XMPPClient.probe(configuration)
        } catch let error as XMPPLinkError {
            throw CLIError("login failed: \(error)", hint: Self.hint(for: error))
        }
        let services = report.externalServices.map { service -> String in
            var text = "\(service.type) \(service.host)"
            if let port = service.port { text += ":\(port)" }
            if let transport = service.transport { text += " (\(transport))" }
            if service.username != nil { text += " with credentials" }
            return text
        }
        let disco = report.serverDisco.map { Array($0.features).sorted() } ?? []
        if json {
            print(JSONLine.object([
                "jid": .string(report.boundJID.description),
                "streamFeatures": .array(report.serverFeatures.map(JSONLine.string)),
                "serverFeatures": .array(disco.map(JSONLine.string)),
                "externalServices": .array(services.map(JSONLine.string)),
                "streamManagement": .bool(report.streamManagement),
            ]))
            return
        }
        print("bound JID: \(report.boundJID)")
        print("stream management: \(report.streamManagement ? "resumable" : "no")")
        print("stream features:")
        for feature in report.serverFeatures { print("  \(feature)") }
        print("server features (disco#info):")
        for feature in disco { print("  \(feature)") }
        print("external services (XEP-0215):")
        if services.isEmpty { print("  none") }
        for service in services { print("  \(service)") }
    }

    static func hint(for error: XMPPLinkError) -> String? {
        switch error {
        case .saslFailed: "check the JID and the password file"
        case .connectionFailed: "is the server running, and is --server right?"
        case .tlsFailed: "use --ca-file with the server's CA, or --insecure for a test server"
        case .tlsUnavailable: "the server offers no TLS; --insecure allows that for test servers"
        default: nil
        }
    }
}
