// EchoCall: a Jingle RTP audio call (XEP-0167) to an answering engine in the same process that sends every
// audio packet it receives straight back, and the round-trip time of the audio measured from tone bursts.
//
//   caller engine --XMPPPeerLink--> echo engine          session-initiate / session-accept (SDP mapped by JingleSDP)
//   probe RTP --udp--> caller MediaSession ==ICE, DTLS-SRTP==> echo MediaSession --udp--> itself (the echo)
//   probe socket <--udp-- caller MediaSession <==ICE, DTLS-SRTP== echo MediaSession
//
// The probe sends 20 ms G.711 frames of silence with a 20 ms tone burst every 200 ms, each burst on one of
// five frequencies in turn; the echoed frames are decoded and a burst is recognised by its frequency
// (Goertzel), so the time from sending a burst to hearing it back is the audio's round trip. The RTP headers
// are rewritten at each hop (our SSRC, sequence and timestamps, RFC 3550 §5.1), the payloads are not.
//
// Only the public API of JingleEngine, Jingle, JingleSDP, Media, ICE, DTLS, RTP, SDP, XMPPLink and XMPPCore.
import DTLS
import Foundation
import ICE
import Jingle
import JingleEngine
import JingleSDP
import Media
import RTP
import SDP
import XMPPCore
import XMPPLink

let usage = """
    usage: EchoCall [--seconds N]

    Places an audio call (ICE-UDP, DTLS-SRTP, G.711) from one Jingle engine to another in the same process,
    over a serverless peer link on 127.0.0.1. The answering side echoes the audio back; tone bursts sent
    every 200 ms for N seconds (default 3) give the round-trip latency.

    examples:
      EchoCall
      EchoCall --seconds 10
    """

struct UsageError: Error, CustomStringConvertible { let description: String }
struct SampleError: Error, CustomStringConvertible { let description: String }

func parseSeconds(_ arguments: [String]) throws -> Int {
    switch arguments.count {
    case 0: return 3
    case 2 where arguments[0] == "--seconds":
        guard let n = Int(arguments[1]), (1...600).contains(n) else { throw UsageError(description: "--seconds needs a number from 1 to 600") }
        return n
    default: throw UsageError(description: "unexpected arguments \(arguments.joined(separator: " "))")
    }
}

/// One side's media before and after offer/answer: an ICE agent with its gathered candidates, a DTLS
/// certificate, and the `CallSDPLocal` they put into the SDP.
struct MediaLeg {
    let link: ICEMediaLink
    let certificate: DTLSCertificate
    let local: CallSDPLocal

    /// Gathers host candidates on loopback only (RFC 8445 §5.1.1; the sample never uses another interface).
    static func prepare(controlling: Bool) async throws -> MediaLeg {
        let link = try await ICEMediaLink(configuration: ICEConfiguration(role: controlling ? .controlling : .controlled,
                                                                          localAddresses: ["127.0.0.1"]))
        let gathered = try await link.gatherAll()
        let certificate = try DTLSCertificate.generate()
        return MediaLeg(link: link, certificate: certificate,
                        local: CallSDPLocal(credentials: gathered.credentials, candidates: gathered.candidates,
                                            fingerprint: certificate.fingerprint()))
    }

    /// Both descriptions known: settle codec, DTLS role and remote candidates, run ICE, start DTLS-SRTP and media.
    /// Audio comes from RTP arriving on `input`; decrypted received audio RTP goes to `output`.
    func start(offer: SessionDescription, answer: SessionDescription, weAreOfferer: Bool,
               input: UDPEndpoint, output: UDPEndpoint) async throws -> MediaSession {
        let negotiated = try CallSDP.negotiate(offer: offer, answer: answer, weAreOfferer: weAreOfferer)
        // Created before ICE connects: as DTLS server we may receive the ClientHello as soon as a pair works.
        let session = try MediaSession(transport: link.transport, configuration: MediaConfiguration(
            keying: .dtls(fingerprint: negotiated.remoteFingerprint, setup: negotiated.dtlsRole), certificate: certificate,
            audioFormat: negotiated.audioFormat, audioSource: .rtp(input), audioRTPOutput: output, direction: negotiated.direction))
        try await link.setRemote(credentials: negotiated.remoteCredentials, candidates: negotiated.remoteCandidates)
        try await link.waitUntilConnected(timeout: .seconds(15))
        session.start()
        return session
    }
}

/// Waits for the peer's session-accept (XEP-0166 §7.2.8), or fails when the session ends or time runs out.
func sessionAccept(_ events: AsyncStream<JingleEvent>, timeout: Duration) async throws -> JinglePayload {
    try await withThrowingTaskGroup(of: JinglePayload.self) { group in
        group.addTask {
            for await event in events {
                switch event {
                case .received(let payload) where payload.action == .sessionAccept: return payload
                case .ended(let reason, _): throw SampleError(description: "the call ended: \(reason?.condition.rawValue ?? "no reason")")
                default: continue
                }
            }
            throw SampleError(description: "the session's events ended")
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw SampleError(description: "no session-accept within \(timeout)")
        }
        defer { group.cancelAll() }
        guard let payload = try await group.next() else { throw SampleError(description: "no session-accept") }
        return payload
    }
}

/// Waits until a media session reports `.connected` (DTLS-SRTP keys in place), or fails.
func connected(_ session: MediaSession, timeout: Duration) async throws {
    let events = session.events
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            for await event in events {
                if case .connected = event { return }
                if case .failed(let error) = event { throw SampleError(description: "media failed: \(error)") }
            }
            throw SampleError(description: "media ended before DTLS-SRTP was up")
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw SampleError(description: "DTLS-SRTP not up within \(timeout)")
        }
        defer { group.cancelAll() }
        _ = try await group.next()
    }
}

/// The echo side: answers the first call and points its media's output at its own input.
func answerWithEcho(engine: JingleEngine, echoPort: UInt16) async throws -> (MediaSession, MediaLeg) {
    for await incoming in engine.incomingSessions {
        try? await engine.sendInfo(incoming.id, [JingleInfo(RTPSessionInfo.ringing)])   // XEP-0167 §5
        let mapper = JingleSDPMapper()
        let offer = try mapper.sdp(from: incoming.initiate, author: .initiator)
        let leg = try await MediaLeg.prepare(controlling: false)
        let answer = try CallSDP.answer(to: offer, leg.local)
        let accept = try mapper.jingle(from: answer, context: .init(author: .responder, action: .sessionAccept, sid: incoming.id.sid,
                                                                    initiator: incoming.id.peer, responder: engine.localJID))
        try await engine.accept(incoming.id, contents: accept.contents, groups: accept.groups)
        print("echo: accepted the call from \(incoming.id.peer), echoing through udp://127.0.0.1:\(echoPort)")
        let loop = UDPEndpoint(host: "127.0.0.1", port: echoPort)
        let session = try await leg.start(offer: offer, answer: answer, weAreOfferer: false, input: loop, output: loop)
        return (session, leg)
    }
    throw SampleError(description: "no call arrived")
}

func run(seconds: Int) async throws {
    // 1. Two engines joined by the serverless peer link.
    let callerJID = try JID("caller@localhost/echo"), echoJID = try JID("echo@localhost/echo")
    let listener = try await XMPPPeerLink.listen(local: echoJID, host: "127.0.0.1", port: 0)
    async let accepted = listener.accept()
    let callerLink = try await XMPPPeerLink.connect(local: callerJID, remote: echoJID, host: "127.0.0.1", port: listener.port)
    let echoLink = try await accepted
    let caller = JingleEngine(link: callerLink, localJID: callerJID)
    let echo = JingleEngine(link: echoLink, localJID: echoJID)
    await caller.start(); await echo.start()
    await caller.advertise(JingleCall.features); await echo.advertise(JingleCall.features)
    print("peer link: \(callerJID) -> \(echoJID) on 127.0.0.1:\(listener.port)")

    // Local UDP ports: the echo's loop, the caller's audio input (fed by the probe) and the probe's receiver.
    let echoPort = try ProbeSocket.freePort(), inputPort = try ProbeSocket.freePort()
    let probe = try ProbeSocket()
    let echoing = Task { try await answerWithEcho(engine: echo, echoPort: echoPort) }

    // 2. The caller: offer (CallSDP) -> session-initiate (JingleSDP) -> session-accept -> answer.
    let leg = try await MediaLeg.prepare(controlling: true)
    let offer = CallSDP.offer(leg.local)
    let mapper = JingleSDPMapper()
    let initiate = try mapper.jingle(from: offer, context: .init(author: .initiator, action: .sessionInitiate,
                                                                 initiator: callerJID, responder: echoJID))
    let handle = try await caller.initiate(to: echoJID, contents: initiate.contents, groups: initiate.groups)
    print("call: session-initiate \(handle.id.sid) with \(leg.local.candidates.count) ICE candidate(s) and a DTLS fingerprint")
    let accept = try await sessionAccept(handle.events, timeout: .seconds(15))
    let answer = try mapper.sdp(from: accept, author: .responder)
    let session = try await leg.start(offer: offer, answer: answer, weAreOfferer: true,
                                      input: UDPEndpoint(host: "127.0.0.1", port: inputPort),
                                      output: UDPEndpoint(host: "127.0.0.1", port: probe.port))
    let (echoSession, echoLeg) = try await echoing.value
    try await connected(session, timeout: .seconds(15))
    try await connected(echoSession, timeout: .seconds(15))
    if let pair = await leg.link.selectedPair() {
        print("media: ICE \(pair.local.address):\(pair.local.port) <-> \(pair.remote.address):\(pair.remote.port), DTLS-SRTP keys in place")
    }

    // 3. Tone bursts out, echoes back.
    let bursts = try await probe.run(to: inputPort, seconds: seconds)
    let callerStatistics = await session.stop()
    let echoStatistics = await echoSession.stop()
    try? await caller.terminate(handle.id, reason: JingleReason(.success))
    try? await Task.sleep(for: .milliseconds(100))   // let the session-terminate reach the echo side
    await leg.link.close(); await echoLeg.link.close()
    await caller.stop(); await echo.stop()
    await callerLink.close(); await echoLink.close()
    probe.close()

    // 4. What came back.
    let echoed = bursts.compactMap(\.roundTrip).map { Double($0.components.attoseconds) / 1e15 + Double($0.components.seconds) * 1000 }
    for (i, burst) in bursts.enumerated() where i < 5 {
        let heard = burst.roundTrip.map { String(format: "back after %.1f ms", Double($0.components.attoseconds) / 1e15 + Double($0.components.seconds) * 1000) }
        print("burst \(i + 1): \(Int(burst.frequency)) Hz \(heard ?? "not heard back")")
    }
    if bursts.count > 5 { print("... \(bursts.count - 5) more") }
    print("caller: sent \(callerStatistics.packetsSent) RTP packets, received \(callerStatistics.packetsReceived), lost \(callerStatistics.packetsLost)")
    print("echo: received \(echoStatistics.packetsReceived) RTP packets, sent back \(echoStatistics.packetsSent)")
    let sorted = echoed.sorted()
    guard !sorted.isEmpty else { throw SampleError(description: "no tone burst came back (\(bursts.count) sent)") }
    print(String(format: "round trip: %d of %d tone bursts echoed; min %.1f ms, median %.1f ms, max %.1f ms",
                 sorted.count, bursts.count, sorted[0], sorted[sorted.count / 2], sorted[sorted.count - 1]))
    // Loopback loses nothing normally; allow a little for a starved machine.
    guard sorted.count * 10 >= bursts.count * 8 else {
        throw SampleError(description: "only \(sorted.count) of \(bursts.count) tone bursts came back")
    }
    print("result: ok")
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}
let seconds: Int
do {
    seconds = try parseSeconds(arguments)
} catch {
    FileHandle.standardError.write(Data("error: \(error) (hint: EchoCall --help)\n".utf8))
    exit(64)
}
do {
    try await run(seconds: seconds)
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
