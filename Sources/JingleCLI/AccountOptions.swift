import ArgumentParser
import Foundation
import XMPPCore
import XMPPLink

/// The options that name an XMPP account and how to reach its server. `jingle account check` uses them
/// alone; the commands that talk to a peer use them inside `LinkOptions`, so each flag means the same in
/// every command.
struct AccountOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The account's JID, e.g. alice@example.org (a resource may be given: alice@example.org/laptop); with --peer/--listen, our JID on the link.", valueName: "jid"))
    var jid: String?

    @Option(name: .customLong("password-file"), help: ArgumentHelp("File holding the account's password (first line).", valueName: "file"))
    var passwordFile: String?

    @Option(help: ArgumentHelp("Server address as host:port or [IPv6]:port (default: DNS SRV for the JID's domain, then port 5222).", valueName: "host:port"))
    var server: String?

    @Option(name: .customLong("ca-file"), help: ArgumentHelp("Trust the CA or self-signed certificate(s) in this PEM file.", valueName: "file"))
    var caFile: String?

    @Flag(help: "For test servers only: accept any certificate and allow a server without TLS.")
    var insecure = false

    @Flag(name: .customLong("direct-tls"), help: ArgumentHelp(
        "TLS from the first byte (XEP-0368), as servers offer on port 5223, instead of STARTTLS (default port 5223, DNS SRV _xmpps-client)."))
    var directTLS = false

    /// Whether both account options are there (a command may also run over the serverless link instead).
    var isGiven: Bool { jid != nil && passwordFile != nil }

    /// Checks the form of what was given (a usage error, exit 64); the account itself is checked on use.
    func validateForm() throws {
        if let server { _ = try HostPort(server, option: "--server") }
        if directTLS && insecure { throw ValidationError("--direct-tls and --insecure do not go together (--insecure allows a server without TLS)") }
    }

    /// The client configuration these options describe; a one-line error for anything wrong.
    func configuration() throws -> XMPPClientConfiguration {
        guard let jid, let passwordFile else { throw ValidationError("--jid and --password-file are required") }
        let account: JID
        do { account = try JID(jid) } catch { throw CLIError("invalid --jid '\(jid)': \(error)") }
        guard account.localpart != nil else { throw CLIError("--jid needs a user part, e.g. alice@\(account.domainpart)") }
        let password: String
        do {
            let firstLine = try String(contentsOfFile: passwordFile, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).first
            password = firstLine.map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) } ?? ""
        } catch {
            throw CLIError("cannot read --password-file \(passwordFile): \(error.localizedDescription)")
        }
        guard !password.isEmpty else { throw CLIError("--password-file \(passwordFile) is empty") }
        let address = try server.map { try HostPort($0, option: "--server") }
        var configuration = XMPPClientConfiguration(jid: account.bare, password: password, resource: account.resourcepart,
                                                    host: address?.host, port: address?.port)
        if let caFile {
            guard FileManager.default.fileExists(atPath: caFile) else { throw CLIError("--ca-file \(caFile) does not exist") }
            configuration.trust = .caFile(caFile)
        }
        if insecure {
            configuration.trust = .insecure
            configuration.tls = .ifAvailable
            configuration.allowPlainWithoutTLS = true
        }
        if directTLS { configuration.tls = .direct }
        // A receiver or answerer may wait for hours: it comes back after a server restart or an outage longer
        // than XEP-0198 resumption, and its pings keep a NAT from forgetting an idle connection and notice one
        // that died silently.
        configuration.reconnect = true
        configuration.keepAliveInterval = .seconds(60)
        return configuration
    }

    /// Logs in; returns the client and the JID the server bound.
    func login() async throws -> (XMPPClient, JID) {
        let client = XMPPClient(try configuration())
        do {
            return (client, try await client.connect())
        } catch let error as XMPPLinkError {
            throw CLIError("cannot log in as \(jid ?? "?"): \(error)", hint: AccountCheckCommand.hint(for: error) ?? "check --server, --password-file and --ca-file/--insecure")
        } catch {
            throw CLIError("cannot log in as \(jid ?? "?"): \(error)", hint: "check --server, --password-file and --ca-file/--insecure")
        }
    }
}

/// How a command reaches its peer: an XMPP account (`AccountOptions`), or the serverless peer link, where
/// one side waits with --listen and the other connects with --peer. Shared by send, receive, call and answer.
struct LinkOptions: ParsableArguments {
    @OptionGroup var account: AccountOptions

    @Option(help: ArgumentHelp("Serverless: connect to a peer waiting with --listen here.", valueName: "host:port"))
    var peer: String?

    @Option(help: ArgumentHelp("Serverless: wait for a peer to connect here (port 0: any free port).", valueName: "host:port"))
    var listen: String?

    @Option(name: .customLong("peer-jid"), help: ArgumentHelp("Serverless, with --peer: the other side's JID (send: default receiver@localhost/jingle).", valueName: "jid"))
    var peerJID: String?

    // The account's options, read through the link as before they were shared.
    var jid: String? { account.jid }
    var passwordFile: String? { account.passwordFile }
    var server: String? { account.server }
    var caFile: String? { account.caFile }
    var insecure: Bool { account.insecure }
    var isServerless: Bool { peer != nil || listen != nil }

    enum Role { case initiator, responder }

    /// A connected link with the JIDs on it and how to close it.
    struct Opened {
        let link: any XMPPSession
        let local: JID
        /// The peer, when the link itself names it (the serverless link).
        let remote: JID?
        /// Whether the link goes through a server (an account) rather than straight to the peer.
        let viaServer: Bool
        let close: @Sendable () async -> Void
        func close() async { await close() }
    }

    /// An account, or exactly one side of the serverless link; every address well formed. Usage errors.
    func validate(defaultLocal: String, serverless: String) throws {
        if peer != nil && listen != nil { throw ValidationError("give either --peer or --listen, not both") }
        if !isServerless && !account.isGiven {
            throw ValidationError("give \(serverless) ADDR:PORT (serverless) or --jid and --password-file (account)")
        }
        if isServerless && account.passwordFile != nil { throw ValidationError("--password-file is for account mode, not \(serverless)") }
        if let peer { _ = try HostPort(peer, option: "--peer") }
        if let listen { _ = try HostPort(listen, option: "--listen", anyPort: true) }
        if let jid { do { _ = try JID(jid) } catch { throw ValidationError("--jid: '\(jid)' is not a JID") } }
        if let peerJID { do { _ = try JID(peerJID) } catch { throw ValidationError("--peer-jid: '\(peerJID)' is not a JID") } }
        try account.validateForm()
    }

    /// The file-transfer commands' link: default JIDs sender@/receiver@localhost/jingle on the serverless link.
    func open(role: Role) async throws -> Opened {
        try await open(defaultLocal: peer != nil ? "sender@localhost/jingle" : "receiver@localhost/jingle",
                       remote: try peerJID.map { try JID($0) } ?? JID("receiver@localhost/jingle"),
                       peerHint: "is `jingle receive --listen \(peer ?? "")` running?",
                       announce: { FileHandle.standardError.write(Data("receive: \($0)\n".utf8)) })
    }

    /// Connects: to the peer at --peer (as `remote`), by waiting at --listen, or by logging in to the account.
    /// `announce` hears "listening on HOST:PORT as JID" once a listener is up.
    func open(defaultLocal: String, remote: JID?, peerHint: String, announce: (String) -> Void) async throws -> Opened {
        if let peer {
            let address = try HostPort(peer, option: "--peer")
            let local = try JID(jid ?? defaultLocal)
            guard let remote else { throw ValidationError("--peer needs the peer's JID") }
            do {
                let link = try await XMPPPeerLink.connect(local: local, remote: remote, host: address.host, port: address.port)
                return Opened(link: link, local: local, remote: remote, viaServer: false, close: { await link.close() })
            } catch {
                throw CLIError("cannot reach the peer at \(peer): \(error)", hint: peerHint)
            }
        }
        if let listen {
            let address = try HostPort(listen, option: "--listen", anyPort: true)
            let local = try JID(jid ?? defaultLocal)
            let listener: XMPPPeerListener
            do {
                listener = try await XMPPPeerLink.listen(local: local, host: address.host, port: address.port)
            } catch {
                throw CLIError("cannot listen on \(listen): \(error)", hint: "is the port in use?")
            }
            announce("listening on \(HostPort.described(host: address.host, port: listener.port)) as \(local)")
            // A connection that never becomes a peer link (a port probe, a stray client) is skipped.
            var lastError: (any Error)?
            for _ in 0..<20 {
                do {
                    let link = try await listener.accept()
                    return Opened(link: link, local: local, remote: await link.remoteJID, viaServer: false, close: { await link.close() })
                } catch {
                    lastError = error
                }
            }
            throw CLIError("no peer link on \(listen): \(lastError.map { "\($0)" } ?? "no connection")")
        }
        let (client, bound) = try await account.login()
        return Opened(link: client, local: bound, remote: nil, viaServer: true, close: { await client.close() })
    }
}
