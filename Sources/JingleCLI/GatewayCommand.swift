import ArgumentParser
import Dispatch
import Foundation
import Logging
import SIP
import SIPGateway
#if canImport(Glibc)
import Glibc
#endif

/// `jingle gateway`: a SIP <-> XMPP Jingle gateway (draft-ietf-stox-media), signalling only or media-anchored.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Run a SIP <-> XMPP Jingle gateway (SIP INVITE/SDP <-> Jingle session-initiate, both directions).",
        discussion: """
        The XMPP side is either an XEP-0114 component (--component DOMAIN --secret-file F --server HOST:PORT) \
        or a client account (--jid JID --password-file F [--server HOST:PORT] [--ca-file F]).

        --map 'PATTERN -> REPLACEMENT' rules turn the SIP request URI (sip:user@host, no port) into the \
        callee's JID; \\1… are capture groups. Calls from XMPP to user@DOMAIN use --reverse-map rules on the \
        dialled bare JID, or the --map rules read backwards.

        --media passthrough (default) translates signalling only: media flows end to end. --media anchored \
        makes the gateway each leg's media peer: ICE + DTLS-SRTP towards the Jingle party, plain RTP/AVP \
        (RTP/SAVP with SDES when the SIP offer has a=crypto) from a UDP port on --media-address towards the \
        SIP party, and relays RTP/RTCP between them (one audio stream per call).

        Hold is translated both ways: a re-INVITE with a=sendonly/inactive <-> Jingle session-info <hold/>. \
        With passthrough, candidates trickled after the SDP went out travel as SIP INFO \
        (application/trickle-ice-sdpfrag, RFC 8840) <-> Jingle transport-info.

        SIP calls carry RFC 4028 session timers (--session-expires, default 1800 s): a SIP party that vanished \
        without BYE is hung up when its refreshes stop, and the Jingle side gets session-terminate <timeout/>. \
        Refreshes and holds by UPDATE (RFC 3311) are taken as well as by re-INVITE. An INVITE without SDP \
        (delayed offer) is answered with the gateway's own offer in --media anchored, and refused with 488 in \
        passthrough.

        With --register AOR the gateway registers its SIP contact for that address (a PBX extension or SIP \
        account), answering digest challenges with --sip-password-file; it refreshes the binding and removes it \
        at exit.

        Every call is logged (SIP Call-ID <-> Jingle sid). Counters (calls, active, failed by reason, \
        relayed RTP/RTCP packets, holds) are printed on SIGUSR1 and at exit (SIGINT/SIGTERM).

        Examples:
          jingle gateway --sip udp:127.0.0.1:5060 --component jingle.localhost --secret-file secret --server 127.0.0.1:5347 \\
            --map 'sip:(.+)@127.0.0.1 -> \\1@localhost/phone' --reverse-map '(.+)@jingle.localhost -> sip:\\1@127.0.0.1:5070'
          jingle gateway --sip udp:127.0.0.1:5060 --sip tcp:127.0.0.1:5060 --jid gw@localhost --password-file pw \\
            --server 127.0.0.1:5222 --ca-file localhost.crt --map 'sip:(.+)@127.0.0.1 -> \\1@localhost/phone'
          jingle gateway --media anchored --sip udp:127.0.0.1:5060 --component jingle.localhost --secret-file secret \\
            --server 127.0.0.1:5347 --map 'sip:(.+)@127.0.0.1 -> \\1@localhost/phone'
        """
    )

    @Option(name: .customLong("sip"), help: ArgumentHelp("SIP listener, udp:HOST:PORT or tcp:HOST:PORT (both share one port).", valueName: "LISTENER"))
    var sip: [String] = ["udp:127.0.0.1:5060"]
    @Option(help: ArgumentHelp("Run as an XEP-0114 component with this domain.", valueName: "DOMAIN"))
    var component: String?
    @Option(name: .customLong("secret-file"), help: ArgumentHelp("File holding the component secret.", valueName: "FILE"))
    var secretFile: String?
    @Option(help: ArgumentHelp("Run as this XMPP client account.", valueName: "JID"))
    var jid: String?
    @Option(name: .customLong("password-file"), help: ArgumentHelp("File holding the account password.", valueName: "FILE"))
    var passwordFile: String?
    @Option(help: ArgumentHelp("XMPP server (component port with --component).", valueName: "HOST:PORT"))
    var server: String?
    @Flag(name: .customLong("direct-tls"), help: ArgumentHelp("With --jid: TLS from the first byte (XEP-0368, port 5223) instead of STARTTLS."))
    var directTLS = false
    @Option(name: .customLong("ca-file"), help: ArgumentHelp("CA certificate to trust for the client's TLS.", valueName: "FILE"))
    var caFile: String?
    @Option(name: .customLong("map"), help: ArgumentHelp("SIP -> XMPP address rule.", valueName: "'PATTERN -> REPLACEMENT'"))
    var map: [String] = []
    @Option(name: .customLong("reverse-map"), help: ArgumentHelp("XMPP -> SIP address rule.", valueName: "'PATTERN -> REPLACEMENT'"))
    var reverseMap: [String] = []
    @Option(help: ArgumentHelp("passthrough (media end to end) or anchored (ICE/DTLS-SRTP <-> plain RTP relayed by the gateway).", valueName: "MODE"))
    var media: String = "passthrough"
    @Option(name: .customLong("media-address"), help: ArgumentHelp("Anchored mode: address for ICE candidates and the SIP leg's RTP port (default: the SIP listener's host).", valueName: "IP"))
    var mediaAddress: String?
    @Option(name: .customLong("candidate-wait-ms"), help: ArgumentHelp("How long to gather trickled candidates before writing SDP.", valueName: "MS"))
    var candidateWaitMS: Int = 200
    @Option(name: .customLong("register"), help: ArgumentHelp(
        "Register the gateway's SIP contact for this address of record (e.g. sip:1001@pbx.example.com), so calls to it reach the gateway; refreshed, and removed at exit.",
        valueName: "AOR"))
    var register: String?
    @Option(name: .customLong("registrar"), help: ArgumentHelp("Where REGISTERs go (default: the --register host and port), e.g. sip:10.0.0.5:5060.", valueName: "URI"))
    var registrar: String?
    @Option(name: .customLong("outbound-proxy"), help: ArgumentHelp(
        "Send calls to SIP and REGISTERs through this proxy (RFC 3261 §8.1.2: a Route header names it, the request URI is kept), e.g. sip:sbc.example.com;transport=tcp.",
        valueName: "URI"))
    var outboundProxy: String?
    @Option(name: .customLong("register-expires"), help: ArgumentHelp("Registration expiry to ask for.", valueName: "SECONDS"))
    var registerExpires: Int = 3600
    @Option(name: .customLong("sip-auth-user"), help: ArgumentHelp("Digest user name for the SIP side (default: the --register user).", valueName: "NAME"))
    var sipAuthUser: String?
    @Option(name: .customLong("sip-password-file"), help: ArgumentHelp("File holding the SIP digest password (REGISTER, and calls a proxy challenges).", valueName: "FILE"))
    var sipPasswordFile: String?
    @Option(name: .customLong("session-expires"), help: ArgumentHelp(
        "RFC 4028 session timer: a SIP call nobody refreshes for this long is hung up (at least 90; 0 turns session timers off).",
        valueName: "SECONDS"))
    var sessionExpires: Int = 1800
    @Flag(help: "Log every SIP and Jingle step (debug level).")
    var verbose = false

    func validate() throws {
        guard (component == nil) != (jid == nil) else { throw ValidationError("give exactly one of --component or --jid") }
        if component != nil && (secretFile == nil || server == nil) { throw ValidationError("--component needs --secret-file and --server") }
        if jid != nil && passwordFile == nil { throw ValidationError("--jid needs --password-file") }
        if directTLS && jid == nil { throw ValidationError("--direct-tls is for --jid (a component connects without TLS)") }
        guard !map.isEmpty || !reverseMap.isEmpty else { throw ValidationError("give at least one --map rule") }
        guard GatewayLauncher.MediaMode(rawValue: media) != nil else { throw ValidationError("--media is passthrough or anchored") }
        if registrar != nil && register == nil { throw ValidationError("--registrar needs --register AOR") }
        if let register {
            guard let aor = try? SIPURI(register), aor.scheme == .sip, aor.user != nil else {
                throw ValidationError("--register '\(register)': expected a sip: address of record with a user, e.g. sip:1001@pbx.example.com")
            }
        }
        if let registrar, (try? SIPURI(registrar)) == nil { throw ValidationError("--registrar '\(registrar)': expected a sip: URI, e.g. sip:10.0.0.5:5060") }
        if let outboundProxy {
            guard let proxy = try? SIPURI(outboundProxy), proxy.scheme == .sip, proxy.user == nil,
                  proxy.transportParameter.map({ $0 == "udp" || $0 == "tcp" }) ?? true else {
                throw ValidationError("--outbound-proxy '\(outboundProxy)': expected a sip: URI of a host, e.g. sip:sbc.example.com or sip:10.0.0.5:5060;transport=tcp")
            }
        }
        guard registerExpires > 0 else { throw ValidationError("--register-expires must be positive") }
        if sipAuthUser != nil && sipPasswordFile == nil { throw ValidationError("--sip-auth-user needs --sip-password-file") }
        guard sessionExpires == 0 || (90...86_400).contains(sessionExpires) else {
            throw ValidationError("--session-expires is 0 (off) or 90 to 86400 seconds (RFC 4028 §5: never below 90)")
        }
        for rule in map + reverseMap {
            do { _ = try GatewayAddressMap.Rule(rule) } catch { throw ValidationError(error.description) }
        }
    }

    func run() async throws {
        if let mediaAddress, mediaAddress.isEmpty || mediaAddress.contains(where: { !($0.isHexDigit || $0 == "." || $0 == ":") }) {
            throw CLIError("bad --media-address '\(mediaAddress)'", hint: "give an IP literal, e.g. 127.0.0.1")
        }
        var listeners: [(SIPTransportKind, String, Int)] = []
        for listener in sip {
            let lower = listener.lowercased()
            let kind: SIPTransportKind
            if lower.hasPrefix("udp:") { kind = .udp } else if lower.hasPrefix("tcp:") { kind = .tcp } else {
                throw ValidationError("--sip '\(listener)': expected udp:HOST:PORT or tcp:HOST:PORT")
            }
            let address = try HostPort(String(listener.dropFirst(4)), option: "--sip", anyPort: true)
            listeners.append((kind, address.host, address.port))
        }
        guard let first = listeners.first else { throw CLIError("no --sip listener") }
        if listeners.contains(where: { $0.1 != first.1 || $0.2 != first.2 }) {
            throw CLIError("unsupported: SIP listeners on different addresses", hint: "UDP and TCP share one HOST:PORT in this version")
        }
        let rules = try map.map { text throws -> GatewayAddressMap.Rule in try GatewayAddressMap.Rule(text) }
        let reverse = try reverseMap.map { text throws -> GatewayAddressMap.Rule in try GatewayAddressMap.Rule(text) }
        let xmpp: GatewayLauncher.XMPPSide
        if let component, let secretFile, let server {
            let secret = try readInput(secretFile).trimmingCharacters(in: .whitespacesAndNewlines)
            let address = try HostPort(server, option: "--server")
            xmpp = .component(domain: component, secret: secret, host: address.host, port: address.port)
        } else if let jid, let passwordFile {
            let password = try readInput(passwordFile).trimmingCharacters(in: .whitespacesAndNewlines)
            let address = try server.map { try HostPort($0, option: "--server") }
            xmpp = .client(jid: jid, password: password, host: address?.host, port: address?.port, caFile: caFile, directTLS: directTLS)
        } else {
            throw CLIError("give --component or --jid")
        }
        let timer = sessionExpires == 0 ? nil : SIPSessionTimerSettings(interval: sessionExpires)
        let aor = try register.map { try SIPURI($0) }
        var credentials: [SIPCredential] = []
        if let sipPasswordFile {
            let password = try readInput(sipPasswordFile).split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard !password.isEmpty else { throw CLIError("--sip-password-file \(sipPasswordFile) is empty") }
            guard let user = sipAuthUser ?? aor?.user else { throw CLIError("--sip-password-file needs --sip-auth-user (or --register with a user)") }
            credentials = [SIPCredential(username: user, password: password.hasSuffix("\r") ? String(password.dropLast()) : password)]
        }
        var sip = SIPEndpoint.Configuration(host: first.1, port: first.2, transport: first.0, userName: "gateway", credentials: credentials,
                                            sessionTimer: timer)
        sip.outboundProxy = try outboundProxy.map { try SIPURI($0) }
        var launcher = GatewayLauncher(sip: sip,
                                       xmpp: xmpp, rules: rules, reverseRules: reverse,
                                       media: GatewayLauncher.MediaMode(rawValue: media) ?? .passthrough,
                                       candidateWait: .milliseconds(candidateWaitMS), mediaAddress: mediaAddress)
        if let aor {
            launcher.registration = .init(aor: aor, registrar: try registrar.map { try SIPURI($0) }, expires: registerExpires)
        }
        var logger = Logger(label: "gateway")
        logger.logLevel = verbose ? .debug : .info
        let gateway: SIPGateway
        do {
            gateway = try await launcher.start(logger: logger)
        } catch {
            throw CLIError("gateway did not start: \(error)", hint: "check --server, the secret/password and that the SIP port is free")
        }
        FileHandle.standardError.write(Data("gateway: SIP on \(gateway.sip.host):\(gateway.sip.port), XMPP as \(gateway.engine.localJID), media \(media)\n".utf8))
        // Signals: SIGUSR1 prints counters, SIGINT/SIGTERM print them and exit.
        for sig in [SIGUSR1, SIGINT, SIGTERM] { signal(sig, SIG_IGN) }
        let (signals, continuation) = AsyncStream.makeStream(of: Int32.self)
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGUSR1, SIGINT, SIGTERM] {
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { continuation.yield(sig) }
            source.resume()
            sources.append(source)
        }
        for await sig in signals {
            let counters = await gateway.counterSnapshot()
            FileHandle.standardOutput.write(Data("gateway: \(counters)\n".utf8))
            if sig != SIGUSR1 { break }
        }
        for source in sources { source.cancel() }
        await gateway.shutdown()
    }
}
