import ArgumentParser
import Foundation
import Hashes
import ICE
import Jingle
import JingleEngine
import XMPPCore
import XMPPLink
#if canImport(Glibc)
import Glibc
#endif

/// `jingle send`: offers files to a peer (XEP-0234 push over Jingle, ICE-UDP and DTLS).
struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send files to a peer with Jingle file transfer (XEP-0234) over ICE-UDP and DTLS.",
        discussion: """
        Over an XMPP account (--jid, --password-file, --to) or over the serverless peer link (--peer, the \
        address a `jingle receive --listen` waits on). Each file is one content of one session; its bytes go \
        over ICE and a DTLS-encrypted reliable stream, followed by a sha-256 checksum (XEP-0234 §8.1). The \
        receiver resumes an interrupted file by asking for a range (§7); only the missing bytes are sent.

        When ICE cannot connect, the sender replaces the transport with in-band bytestreams (XEP-0261 over \
        XEP-0047, transport-replace); --no-ice offers them from the start. A receiver that does not take ICE \
        for files and says so (unsupported-transports, as Conversations, Dino and Gajim answer) is offered the \
        files again in band, in a new session. In-band bytes ride the XMPP link: they are protected by TLS to \
        the server only, not by DTLS end to end, and are slower.

        Progress goes to standard error as a bar on a terminal, as JSON lines (--json, or when standard \
        error is not a terminal) otherwise; a summary per file follows.

        With --serve nothing is offered: the FILEs are served to a peer that asks for one (XEP-0234 §5, \
        `jingle receive --request NAME` or --request-hash HASH). A request is answered only when it names \
        a served file's base name or sha-256 and comes from --accept-from JID (or anyone with --yes); \
        anything else is refused with a reason that names only what was asked. One session is served \
        (--keep-listening: until SIGINT/SIGTERM, connection after connection on --listen).

        Exit status: 0 only when the receiver confirmed every file with `received` (XEP-0234 §8.2), \
        1 otherwise, 64 on a usage error. With --serve: 0 when every session served succeeded and none \
        was cut short by SIGINT/SIGTERM.

        Examples:
          jingle send big.iso --peer 127.0.0.1:5299
          jingle send a.txt b.png --to bob@example.org/laptop --jid alice@example.org --password-file pw
          jingle send notes.pdf --to bob@example.org/phone --jid alice@example.org --password-file pw --no-ice
          jingle send big.iso --peer 127.0.0.1:5299 --bind 127.0.0.1 --transport s5b
          jingle send movie.mkv --peer 127.0.0.1:5299 --bind 127.0.0.1 --turn 127.0.0.1:3478 --turn-user u --turn-pass p --relay-only
          jingle send --serve report.pdf photo.jpg --listen 127.0.0.1:5299 --yes
          jingle send --serve report.pdf --jid alice@example.org --password-file pw --accept-from bob@example.org --keep-listening
        """
    )

    @Argument(help: ArgumentHelp("Files to send.", valueName: "FILE"))
    var files: [String] = []
    @Option(help: ArgumentHelp("Recipient's full JID (account mode; with --peer defaults to receiver@localhost/jingle).", valueName: "JID"))
    var to: String?
    @OptionGroup var serving: ServeOptions
    @OptionGroup var link: LinkOptions
    @OptionGroup var ice: ICEOptions

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one FILE (to pull a file from a peer: jingle receive --request NAME)") }
        try serving.validate()
        try link.validate(defaultLocal: "sender@localhost/jingle", serverless: "--peer")
        try ice.validate()
    }

    func run() async throws {
        for file in files where access(file, R_OK) != 0 {
            throw CLIError("cannot read \(file): \(String(cString: strerror(errno)))")
        }
        let options = try ice.transferOptions()
        if serving.serve { return try await runServe(options: options) }
        let reporter = ProgressReporter(json: ice.json)
        let session = try await link.open(role: .initiator)
        let peer: JID
        if let to { peer = try JID(to) } else if let remote = session.remote { peer = remote } else {
            throw ValidationError("--to JID is required with --jid")
        }
        let engine = JingleEngine(link: session.link, localJID: session.local)
        await engine.start()
        await engine.advertise(FileTransferOptions.features)
        let results: [FileTransferResult]
        do {
            results = try await JingleFileTransfer.send(engine: engine, to: peer, paths: files, options: options,
                                                        progress: { reporter.progress($0) })
        } catch {
            reporter.finishLine()
            await engine.stop()
            await session.close()
            throw CLIError("send failed: \(error)")
        }
        reporter.finishLine()
        for r in results { reporter.summary(r, verb: "sent") }
        try? await Task.sleep(for: .milliseconds(200))   // let the session-terminate reach the peer
        await engine.stop()
        await session.close()
    }
}

/// ICE, timing and output options shared by send and receive.
struct ICEOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Local addresses for host candidates (repeat or comma-separate); default every interface.", valueName: "ADDR"))
    var bind: [String] = []
    @Option(help: ArgumentHelp("STUN server (IP literal).", valueName: "HOST:PORT"))
    var stun: String?
    @Option(help: ArgumentHelp("TURN server over UDP (IP literal).", valueName: "HOST:PORT"))
    var turn: String?
    @Option(name: .customLong("turn-user"), help: "TURN user name.")
    var turnUser: String?
    @Option(name: .customLong("turn-pass"), help: "TURN password.")
    var turnPass: String?
    @Flag(name: .customLong("relay-only"), help: "Use only TURN relay candidates.")
    var relayOnly = false
    @Flag(name: .customLong("no-ice"), help: "send: offer in-band bytestreams (XEP-0261) instead of ICE; the bytes go over the XMPP link (TLS to the server), not DTLS end to end. receive: IBB offers are always accepted.")
    var noICE = false
    @Option(help: ArgumentHelp("send: the transport to offer: ice (default, IBB fallback), ibb (like --no-ice) or s5b (XEP-0260 SOCKS5: a direct candidate on the first --bind address, plus the server's proxy unless --no-proxy).", valueName: "KIND"))
    var transport: String?
    @Flag(name: .customLong("no-proxy"), help: "S5B: neither offer the server's SOCKS5 proxy (XEP-0065, found by service discovery) nor use the peer's proxy candidates.")
    var noProxy = false
    @Option(help: ArgumentHelp("How long ICE and DTLS may take to connect.", valueName: "TIME"))
    var timeout = "20s"
    @Flag(help: "Progress and summaries as JSON lines on standard output.")
    var json = false

    func validate() throws {
        if turn != nil, turnUser == nil || turnPass == nil { throw ValidationError("--turn needs --turn-user and --turn-pass") }
        if relayOnly && turn == nil { throw ValidationError("--relay-only needs --turn") }
        if let turn { _ = try HostPort(turn, option: "--turn") }
        if let stun { _ = try HostPort(stun, option: "--stun") }
        _ = try SDPCallCommand.parseDuration(timeout, option: "--timeout")
        if let transport {
            guard let kind = FileTransferTransport(rawValue: transport) else { throw ValidationError("--transport must be ice, ibb or s5b") }
            if noICE && kind != .ibb { throw ValidationError("--no-ice contradicts --transport \(transport)") }
        }
    }

    func transferOptions() throws -> FileTransferOptions {
        var configuration = ICEConfiguration()
        configuration.localAddresses = bind.flatMap { $0.split(separator: ",").map(String.init) }
        if let stun {
            let address = try HostPort(stun, option: "--stun")
            configuration.stunServer = .init(address: address.host, port: address.port16)
        }
        if let turn, let turnUser, let turnPass {
            let address = try HostPort(turn, option: "--turn")
            configuration.turnServers = [.init(address: address.host, port: address.port16, username: turnUser, password: turnPass)]
        }
        configuration.relayOnly = relayOnly
        var options = FileTransferOptions(ice: configuration, connectTimeout: try SDPCallCommand.parseDuration(timeout, option: "--timeout"))
        if noICE { options.transport = .ibb }
        if let kind = transport.flatMap(FileTransferTransport.init(rawValue:)) { options.transport = kind }
        if noProxy { options.s5bProxy = .none }
        // Test hook (hash-mismatch tests): announce a wrong checksum.
        options.corruptChecksum = ProcessInfo.processInfo.environment["JINGLE_TEST_CORRUPT_CHECKSUM"] == "1"
        return options
    }
}

/// A progress bar on a terminal, JSON lines otherwise; summaries at the end.
final class ProgressReporter: Sendable {
    let json: Bool
    let terminal: Bool
    let started = ContinuousClock.now

    init(json: Bool) {
        self.terminal = isatty(2) == 1
        self.json = json || !terminal
    }

    func progress(_ p: FileTransferProgress) {
        let elapsed = Self.seconds(ContinuousClock.now - started)
        let rate = elapsed > 0 ? Double(p.transferred) / elapsed : 0
        if json {
            let line = JSONLine.object([
                "event": .string("progress"), "name": .string(p.name), "bytes": .number(Int(p.done)), "total": .number(Int(p.total)),
                "transferred": .number(Int(p.transferred)), "offset": .number(Int(p.offset)), "rate": .double((rate / 1e6 * 100).rounded() / 100),
            ])
            FileHandle.standardOutput.write(Data((line.description + "\n").utf8))
        } else {
            let fraction = p.total > 0 ? Double(p.done) / Double(p.total) : 1
            let width = 30
            let filled = Int(fraction * Double(width))
            let remaining = rate > 0 ? Double(p.total - p.done) / rate : 0
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let text = String(format: "\r%@ [%@] %3.0f%% %@ %.1f MB/s ETA %.0fs ", p.name, bar, fraction * 100,
                              Self.size(p.done), rate / 1e6, remaining)
            FileHandle.standardError.write(Data(text.utf8))
        }
    }

    func finishLine() {
        if !json { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    func summary(_ r: FileTransferResult, verb: String) {
        let rate = r.seconds > 0 ? Double(r.transferred) / r.seconds / 1e6 : 0
        if json {
            var fields: [String: JSONLine] = [
                "event": .string("done"), "name": .string(r.name), "path": r.path.map { .string($0) } ?? .null, "size": .number(Int(r.size)),
                "offset": .number(Int(r.offset)), "transferred": .number(Int(r.transferred)), "seconds": .double(r.seconds),
                "mbps": .double((rate * 100).rounded() / 100), "sha256": .string(r.sha256.hexString), "verified": .bool(r.verified),
                "transport": .string(r.transport.rawValue), "encrypted": .bool(r.transport == .ice),
            ]
            if let candidate = r.s5bCandidate { fields["s5bCandidate"] = .string(candidate.rawValue) }
            print(JSONLine.object(fields).description)
        } else {
            print(String(format: "%@ %@: %@ in %.2f s, %.1f MB/s%@, sha-256 %@ verified, %@", verb, r.name, Self.size(r.size), r.seconds, rate,
                         r.offset > 0 ? " (resumed at byte \(r.offset))" : "", r.sha256.hexString, Self.path(r)))
        }
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    /// How the bytes travelled, and whether they were encrypted end to end (only ICE's DTLS-keyed stream is).
    static func path(_ r: FileTransferResult) -> String {
        switch r.transport {
        case .ice: "over ICE, encrypted (DTLS-keyed AES-GCM)"
        case .ibb: "in-band over the XMPP link, not end-to-end encrypted (TLS to the server at most)"
        case .s5b: "over SOCKS5 (\(r.s5bCandidate == .proxy ? "through the server's proxy" : "direct")), not encrypted"
        }
    }

    static func size(_ bytes: UInt64) -> String {
        if bytes >= 1 << 30 { return String(format: "%.2f GiB", Double(bytes) / Double(1 << 30)) }
        if bytes >= 1 << 20 { return String(format: "%.1f MiB", Double(bytes) / Double(1 << 20)) }
        if bytes >= 1 << 10 { return String(format: "%.1f KiB", Double(bytes) / 1024) }
        return "\(bytes) B"
    }
}
