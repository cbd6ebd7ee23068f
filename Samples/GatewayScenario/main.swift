// GatewayScenario: a SIP call through the signalling-only SIP <-> XMPP gateway to a Jingle client, all local.
//
//   SIPp (uac_call.xml) --SIP/UDP--> SIPGateway --XEP-0114 component--> private Prosody --c2s--> answering engine
//   INVITE + SDP offer       ->  session-initiate (SDP mapped by JingleSDP, draft-ietf-stox-media)
//   180 Ringing              <-  session-info <ringing/> (XEP-0167 §5)
//   200 OK + SDP answer      <-  session-accept
//   BYE                      ->  session-terminate <success/>
//
// Media is not anchored (signalling only): the SDP addresses pass through, so the two ends would exchange
// RTP directly. Prosody comes from scripts/start-prosody.sh in a temporary directory and is stopped at the end.
// Only the public API of SIPGateway, SIP, JingleEngine, Jingle, JingleSDP, SDP, XMPPLink and XMPPCore is used.
import Foundation
import Jingle
import JingleEngine
import JingleSDP
import Logging
import SDP
import SIP
import SIPGateway
import Synchronization
import XMPPCore
import XMPPLink
#if canImport(Glibc)
import Glibc
#endif

/// The checkout this sample was built from: scripts/ and the scenario file are found from here.
let sampleDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
let repository = sampleDirectory.deletingLastPathComponent().deletingLastPathComponent()

let usage = """
    usage: GatewayScenario [--scenario FILE] [--sipp PATH] [--verbose]

    Starts a private Prosody (scripts/start-prosody.sh), the SIP gateway as its component jingle.localhost,
    and bob@localhost/phone, a Jingle client that answers every call; then runs SIPp with FILE (default:
    uac_call.xml beside this sample) against the gateway, and reports what each side saw.

    examples:
      GatewayScenario
      GatewayScenario --scenario my_uac.xml --verbose
    """

struct UsageError: Error, CustomStringConvertible { let description: String }
struct SampleError: Error, CustomStringConvertible { let description: String }

struct Options {
    var scenario = sampleDirectory.appendingPathComponent("uac_call.xml").path
    var sipp = "/usr/bin/sipp"
    var verbose = false
}

func parse(_ arguments: [String]) throws -> Options {
    var options = Options()
    var rest = arguments[...]
    while let argument = rest.popFirst() {
        switch argument {
        case "--scenario":
            guard let value = rest.popFirst() else { throw UsageError(description: "--scenario needs a file") }
            options.scenario = value
        case "--sipp":
            guard let value = rest.popFirst() else { throw UsageError(description: "--sipp needs a path") }
            options.sipp = value
        case "--verbose":
            options.verbose = true
        default:
            throw UsageError(description: "unexpected argument \(argument)")
        }
    }
    return options
}

/// Runs `/bin/sh -c command` with output in files and waits for it. posix_spawn, not Foundation's Process:
/// start-prosody.sh leaves Prosody running, which can keep Process waiting on inherited descriptors.
func shell(_ command: String) -> (status: Int32, output: String) {
    let out = NSTemporaryDirectory() + "gateway-scenario-\(UUID().uuidString).out"
    var pid: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup("\(command) </dev/null >'\(out)' 2>&1"), nil]
    defer { for arg in argv { free(arg) } }
    guard posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0 else { return (-1, "cannot run /bin/sh") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let output = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
    try? FileManager.default.removeItem(atPath: out)
    return ((status >> 8) & 0xFF, output)
}

/// A TCP or UDP port on 127.0.0.1 that is free right now (bound to port 0, read back, released).
func freePort(_ type: Int32) -> Int {
    let fd = socket(AF_INET, type, 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A private Prosody on free loopback ports, with self-signed TLS; users alice/bob, component jingle.localhost.
struct Prosody {
    let directory: String
    let c2sPort: Int
    let componentPort: Int
    var caFile: String { directory + "/certs/localhost.crt" }

    static func start() throws -> Prosody {
        let script = repository.appendingPathComponent("scripts/start-prosody.sh").path
        guard FileManager.default.isExecutableFile(atPath: script) else { throw SampleError(description: "\(script) not found") }
        let directory = NSTemporaryDirectory() + "gateway-scenario-prosody-\(getpid())"
        let tcp = Int32(SOCK_STREAM.rawValue)
        let (c2s, component, turn) = (freePort(tcp), freePort(tcp), freePort(tcp))
        // PROSODY_WATCH_PID: Prosody goes away with this process even if it is killed.
        let result = shell("PROSODY_WATCH_PID=\(getpid()) '\(script)' '\(directory)' \(c2s) \(component) \(turn) --tls")
        guard result.status == 0 else {
            throw SampleError(description: "Prosody did not start (installed? see scripts/bootstrap): \(result.output.split(separator: "\n").last ?? "")")
        }
        return Prosody(directory: directory, c2sPort: c2s, componentPort: component)
    }

    func stop() {
        _ = shell("'\(repository.appendingPathComponent("scripts/stop-prosody.sh").path)' '\(directory)'")
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// bob@localhost/phone: rings, then accepts with a plain RTP answer (PCMU) mapped to Jingle by JingleSDP, and
/// prints what arrived from the gateway.
func answerCalls(engine: JingleEngine, ended: @escaping @Sendable (JingleReason?) -> Void) -> Task<Void, Never> {
    let sessions = engine.incomingSessions
    return Task {
        for await incoming in sessions {
            let mapper = JingleSDPMapper()
            let transports = incoming.initiate.contents.compactMap { $0.transport.map { type(of: $0).namespace } }
            print("bob: session-initiate \(incoming.id.sid) from \(incoming.id.peer), transport \(transports.joined(separator: ", "))")
            if let offer = try? mapper.sdp(from: incoming.initiate, author: .initiator) {
                for line in offer.serialized().split(whereSeparator: \.isNewline) where line.hasPrefix("m=") || line.hasPrefix("c=") || line.hasPrefix("a=rtpmap") {
                    print("bob:   offer \(line)")
                }
            }
            try? await engine.sendInfo(incoming.id, [JingleInfo(RTPSessionInfo.ringing)])
            do {
                let name = incoming.initiate.contents.first?.name ?? "audio"
                let answer = try SessionDescription(parsing: """
                    v=0\r
                    o=bob 1 1 IN IP4 127.0.0.1\r
                    s=-\r
                    c=IN IP4 127.0.0.1\r
                    t=0 0\r
                    m=audio 41000 RTP/AVP 0\r
                    a=rtpmap:0 PCMU/8000\r
                    a=mid:\(name)\r

                    """)
                let accept = try mapper.jingle(from: answer, context: .init(author: .responder, action: .sessionAccept, sid: incoming.id.sid,
                                                                            initiator: incoming.initiate.initiator, responder: engine.localJID))
                try await engine.accept(incoming.id, contents: accept.contents, groups: accept.groups)
                print("bob: rang, then accepted with m=audio 41000 RTP/AVP 0 (PCMU)")
            } catch {
                print("bob: could not answer: \(error)")
                try? await engine.terminate(incoming.id, reason: JingleReason(.failedApplication, text: "\(error)"))
            }
            let events = incoming.handle.events
            Task {
                for await event in events {
                    if case .ended(let reason, let byPeer) = event {
                        print("bob: session ended \(byPeer ? "by the gateway" : "by bob"): \(reason?.condition.rawValue ?? "no reason")")
                        ended(reason)
                    }
                }
            }
        }
    }
}

/// Runs SIPp once against the gateway; returns its exit status, its output and the messages of the
/// scenario's `<log>` actions (`-trace_logs`).
func runSIPp(_ options: Options, gatewayPort: Int) async throws -> (status: Int32, output: String, messages: [String]) {
    let base = NSTemporaryDirectory() + "gateway-scenario-sipp-\(UUID().uuidString)"
    let (outputPath, logPath) = (base + ".out", base + ".log")
    _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
    defer { for path in [outputPath, logPath] { try? FileManager.default.removeItem(atPath: path) } }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
    let udp = Int32(SOCK_DGRAM.rawValue)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: options.sipp)
    process.arguments = ["-sf", options.scenario, "-s", "bob", "127.0.0.1:\(gatewayPort)", "-i", "127.0.0.1",
                         "-p", "\(freePort(udp))", "-mp", "\(freePort(udp))", "-m", "1", "-nostdin",
                         "-timeout", "15", "-timeout_error", "-trace_logs", "-log_file", logPath]
    process.currentDirectoryURL = URL(fileURLWithPath: NSTemporaryDirectory())
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    print("sipp: \(options.sipp) \(process.arguments?.joined(separator: " ") ?? "")")
    try process.run()
    let deadline = ContinuousClock.now + .seconds(18)
    while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    try? handle.close()
    let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    let messages = ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    return (process.terminationStatus, output, messages)
}

func run(_ options: Options) async throws {
    guard FileManager.default.isExecutableFile(atPath: options.sipp) else {
        throw SampleError(description: "\(options.sipp) not found (apt-get install sip-tester, or scripts/bootstrap)")
    }
    guard FileManager.default.isReadableFile(atPath: options.scenario) else { throw SampleError(description: "cannot read \(options.scenario)") }

    // 1. A private XMPP server.
    let prosody = try Prosody.start()
    defer { prosody.stop() }
    print("prosody: c2s 127.0.0.1:\(prosody.c2sPort), components 127.0.0.1:\(prosody.componentPort)")

    // 2. The callee, a Jingle client on that server.
    var configuration = XMPPClientConfiguration(jid: try JID("bob@localhost"), password: "bobpw", resource: "phone",
                                                host: "127.0.0.1", port: prosody.c2sPort)
    configuration.trust = .caFile(prosody.caFile)
    let client = XMPPClient(configuration)
    let bob = try await client.connect()
    let engine = JingleEngine(link: client, localJID: bob)
    await engine.start()
    await engine.advertise([NS.jingleRTP, NS.jingleRTPAudio, NS.jingleRawUDP])
    let endings = EndingLog()
    let answering = answerCalls(engine: engine, ended: { reason in endings.append(reason?.condition) })
    print("bob: online as \(bob)")

    // 3. The gateway: SIP on a free UDP port, XMPP as component jingle.localhost; sip:USER@127.0.0.1 -> USER@localhost/phone.
    var logger = Logger(label: "gateway")
    logger.logLevel = options.verbose ? .debug : .notice
    let launcher = GatewayLauncher(
        sip: .init(host: "127.0.0.1", port: 0, transport: .udp, userName: "gateway"),
        xmpp: .component(domain: "jingle.localhost", secret: "compsecret", host: "127.0.0.1", port: prosody.componentPort),
        rules: [try GatewayAddressMap.Rule("sip:(.+)@127.0.0.1 -> \\1@localhost/phone")],
        candidateWait: .milliseconds(100))
    let gateway = try await launcher.start(logger: logger)
    print("gateway: SIP on udp:127.0.0.1:\(gateway.sip.port), XMPP as \(gateway.engine.localJID), map 'sip:(.+)@127.0.0.1 -> \\1@localhost/phone'")

    // 4. The SIP caller.
    let (status, output, messages) = try await runSIPp(options, gatewayPort: gateway.sip.port)
    for message in messages { print("sipp: \(message)") }
    print("sipp: exit status \(status)\(status == 0 ? " (the scenario passed)" : "")")
    // The BYE's session-terminate reaches bob shortly after SIPp's last 200 OK.
    let deadline = ContinuousClock.now + .seconds(3)
    while endings.all.isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
    let counters = await gateway.counterSnapshot()
    print("gateway: \(counters)")

    answering.cancel()
    await gateway.shutdown()
    await engine.stop()
    await client.close()

    guard status == 0 else {
        throw SampleError(description: "sipp exited with \(status): \(output.split(separator: "\n").suffix(8).joined(separator: " | "))")
    }
    guard counters.completed == 1, counters.failedTotal == 0, endings.all == [.success] else {
        throw SampleError(description: "the call did not complete cleanly (gateway \(counters), bob saw \(endings.all))")
    }
    print("result: ok, SIP INVITE/180/200/ACK/BYE <-> Jingle session-initiate/ringing/session-accept/session-terminate")
}

/// How bob's sessions ended, in order (appended from the event task, read at the end).
final class EndingLog: Sendable {
    private let conditions = Mutex<[JingleReason.Condition?]>([])
    func append(_ condition: JingleReason.Condition?) { conditions.withLock { $0.append(condition) } }
    var all: [JingleReason.Condition?] { conditions.withLock { $0 } }
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}
let options: Options
do {
    options = try parse(arguments)
} catch {
    FileHandle.standardError.write(Data("error: \(error) (hint: GatewayScenario --help)\n".utf8))
    exit(64)
}
do {
    try await run(options)
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
