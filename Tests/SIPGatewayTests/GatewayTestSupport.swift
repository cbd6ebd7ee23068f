import Foundation
import Jingle
import JingleEngine
import JingleSDP
import SDP
import SIP
import SIPGateway
import TestServers
import Synchronization
import XMPPCore
import XMPPLink
#if canImport(Glibc)
import Glibc
#endif

/// A SIPp process on loopback, killed if it outlives its timeout.
final class SIPpProcess: @unchecked Sendable {
    let process = Process()
    let output = Pipe()
    let logFile: URL

    /// A SIPp UAS on a free loopback port running `scenario` (e.g. `["-sn", "uas"]` or `["-sf", path]`) for
    /// `calls` calls, failing after `timeout` seconds; returns it with the SIP port it listens on.
    static func uas(_ scenario: [String], calls: Int = 1, timeout: Int = 15) throws -> (sipp: SIPpProcess, port: Int) {
        let port = freeUDPPort()
        let sipp = try SIPpProcess(arguments: scenario + ["-i", "127.0.0.1", "-p", "\(port)", "-mp", "\(freeUDPPort())",
                                                          "-m", "\(calls)", "-nostdin", "-timeout", "\(timeout)", "-timeout_error"])
        return (sipp, port)
    }

    init(arguments: [String]) throws {
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("gw-sipp-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logFile)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sipp")
        process.arguments = arguments
        process.currentDirectoryURL = FileManager.default.temporaryDirectory
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    func wait(timeout seconds: Double) async -> Int32? { await waitForExit(process, timeout: seconds) }

    var log: String { String((((try? String(contentsOf: logFile, encoding: .utf8)) ?? "")).suffix(3000)) }

    deinit { if process.isRunning { process.terminate() } }
}

let sippAvailable = FileManager.default.isExecutableFile(atPath: "/usr/bin/sipp")

func fixture(_ name: String) throws -> String {
    guard let url = Bundle.module.url(forResource: name, withExtension: "xml", subdirectory: "Fixtures") else {
        throw ProsodyServer.StartError(description: "missing fixture \(name).xml")
    }
    return url.path
}

/// What the Jingle callee does with a session-initiate.
enum CalleeBehaviour: String, Sendable {
    /// session-info ringing, then session-accept with an answer built by JingleSDP.
    case answer
    /// session-terminate busy.
    case busy
    /// session-terminate decline.
    case decline
    /// session-info ringing, never answers.
    case ring
    /// session-info ringing, then session-accept half a second later (a person picking up).
    case ringThenAnswer
}

/// An XMPP client with a Jingle engine that handles incoming calls as told, recording what it saw.
final class JingleCallee: Sendable {
    let client: XMPPClient
    let engine: JingleEngine
    let behaviour: CalleeBehaviour
    let offers = Mutex<[JinglePayload]>([])
    let endings = Mutex<[JingleReason.Condition?]>([])
    /// RTP session-info received (hold, unhold, …), in order; ringing excluded.
    let infos = Mutex<[RTPSessionInfo]>([])
    /// transport-info payloads received (trickled candidates).
    let transportInfos = Mutex<[JinglePayload]>([])
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(server: ProsodyServer, user: String, resource: String, behaviour: CalleeBehaviour) async throws {
        client = XMPPClient(try server.configuration(user, resource: resource))
        let jid = try await client.connect()
        engine = JingleEngine(link: client, localJID: jid)
        self.behaviour = behaviour
        await engine.start()
        let sessions = engine.incomingSessions
        let t = Task { [self] in
            await withDiscardingTaskGroup { group in
                for await session in sessions {
                    group.addTask { await self.handle(session) }
                }
            }
        }
        task.withLock { $0 = t }
    }

    private func handle(_ session: IncomingJingleSession) async {
        offers.withLock { $0.append(session.initiate) }
        let id = session.id
        switch behaviour {
        case .busy: try? await engine.terminate(id, reason: JingleReason(.busy))
        case .decline: try? await engine.terminate(id, reason: JingleReason(.decline))
        case .ring: try? await engine.sendInfo(id, [JingleInfo(RTPSessionInfo.ringing)])
        case .answer, .ringThenAnswer:
            try? await engine.sendInfo(id, [JingleInfo(RTPSessionInfo.ringing)])
            if behaviour == .ringThenAnswer { try? await Task.sleep(for: .milliseconds(500)) }
            if let answer = try? Self.answer(to: session.initiate, responder: engine.localJID) {
                try? await engine.accept(id, contents: answer.contents, groups: answer.groups)
            }
        }
        for await event in session.handle.events {
            if case .ended(let reason, _) = event { endings.withLock { $0.append(reason?.condition) } }
            if case .received(let p) = event, p.action == .transportInfo { transportInfos.withLock { $0.append(p) } }
            if case .received(let p) = event, p.action == .sessionInfo {
                let rtp = p.info.compactMap { $0.payload as? RTPSessionInfo }.filter { $0 != .ringing }
                infos.withLock { $0 += rtp }
            }
        }
    }

    /// A plain RTP answer (PCMU) for the offer's first content, mapped by JingleSDP.
    static func answer(to offer: JinglePayload, responder: JID) throws -> JinglePayload {
        let name = offer.contents.first?.name ?? "audio"
        let sdp = try SessionDescription(parsing: """
        v=0\r
        o=- 7 7 IN IP4 127.0.0.1\r
        s=-\r
        c=IN IP4 127.0.0.1\r
        t=0 0\r
        m=audio 41000 RTP/AVP 0\r
        a=rtpmap:0 PCMU/8000\r
        a=mid:\(name)\r

        """)
        return try JingleSDPMapper().jingle(from: sdp, context: .init(author: .responder, action: .sessionAccept, sid: offer.sid,
                                                                     initiator: offer.initiator, responder: responder))
    }

    func close() async {
        task.withLock { $0?.cancel() }
        await engine.stop()
        await client.close()
    }
}

/// An XMPP account with a started `JingleEngine`: the Jingle side of a gateway test that speaks Jingle
/// directly (a plain-RTP offer, as a SIP phone's SDP maps to Jingle) rather than through `JingleCall`.
struct JingleParty {
    let client: XMPPClient
    let engine: JingleEngine
    let jid: JID

    init(_ configuration: XMPPClientConfiguration) async throws {
        client = XMPPClient(configuration)
        jid = try await client.connect()
        engine = JingleEngine(link: client, localJID: jid)
        await engine.start()
    }

    /// A SIP phone's offer: PCMU on 127.0.0.1:42000, with `session` lines before the m-line and `media`
    /// lines after it.
    static func plainRTPOffer(session: [String] = [], media: [String] = []) -> String {
        (["v=0", "o=- 5 5 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0"] + session
            + ["m=audio 42000 RTP/AVP 0"] + media + ["a=rtpmap:0 PCMU/8000"]).map { $0 + "\r\n" }.joined()
    }

    /// Sends session-initiate to `callee` with `sdp` mapped to Jingle; returns the session and the payload sent.
    func initiate(to callee: JID, sdp: String = plainRTPOffer()) async throws -> (handle: JingleSessionHandle, offer: JinglePayload) {
        let offer = try JingleSDPMapper().jingle(from: try SessionDescription(parsing: sdp),
                                                 context: .init(author: .initiator, action: .sessionInitiate, initiator: jid))
        return (try await engine.initiate(to: callee, contents: offer.contents, groups: offer.groups), offer)
    }

    /// Terminates the session with `timeout` after `seconds` unless the test is done first (cancel the task),
    /// so a missing answer cannot hang the test.
    func watchdog(_ handle: JingleSessionHandle, seconds: Double = 8) -> Task<Void, Never> {
        let engine = engine
        return Task { try? await Task.sleep(for: .seconds(seconds)); try? await engine.terminate(handle.id, reason: JingleReason(.timeout)) }
    }

    func close() async {
        await engine.stop()
        await client.close()
    }
}
