// Call set-up time of a Jingle RTP call (XEP-0167) through a real Prosody on loopback.
//
//   ours     = two JingleEngines whose XMPP clients (alice, bob) log in to a private Prosody started for this
//              run (the one the integration tests use, scripts/start-prosody.sh); alice places a call
//              (JingleCall.place), bob answers (JingleCall.answer). Measured from the instant alice hands
//              the session-initiate to her XMPP link to the first decrypted media packet at bob.
//   baseline = the same media stack without XMPP: two in-process MediaSessions over ICEMediaLinks on
//              loopback, SDP offer/answer passed as text in memory; from creating the offerer's ICE agent
//              to the first decrypted media packet at the answerer.
// The ratio is what signalling through a server costs on top of the bare ICE + DTLS-SRTP set-up.
// Certificates are made before the baseline's clock starts (an endpoint keeps one ready). Medians of
// N calls (default 20; `bench-call-setup N`). Per-step medians (relative to session-initiate sent) are
// printed before the last line, for both parties.
//
// Last (release, 2 shared cores): ours=33.7ms baseline=26.7ms: initiate at the callee 1.8 ms, accept sent 4.3,
// accept at the caller 7.1, ICE connected 29.0 (one libnice Ta tick), DTLS keys 33.1, decrypted 33.7.
// With Prosody's default Nagle on, 75.8 ms (the first hop alone waited 40 ms for a delayed ACK).
import DTLS
import Foundation
import ICE
import Jingle
import JingleEngine
import Media
import SDP
import TestServers
import XMPPCore
import XMPPLink

let calls = max(1, Int(CommandLine.arguments.dropFirst().first ?? "") ?? 20)

func milliseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1000 + Double(attoseconds) / 1e15
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
}

func format(_ value: Double) -> String { String(format: "%.1f", value) }

struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
}

// MARK: - baseline: in-process ICE + DTLS-SRTP, no XMPP

func inProcessCall() async throws -> Double {
    let certA = try DTLSCertificate.generate()
    let certB = try DTLSCertificate.generate()
    let start = ContinuousClock.now
    let linkA = try await ICEMediaLink(configuration: ICEConfiguration(role: .controlling, localAddresses: ["127.0.0.1"]))
    let linkB = try await ICEMediaLink(configuration: ICEConfiguration(role: .controlled, localAddresses: ["127.0.0.1"]))
    async let gatheredAValue = linkA.gatherAll()
    async let gatheredBValue = linkB.gatherAll()
    let (gatheredA, gatheredB) = try await (gatheredAValue, gatheredBValue)
    let offer = try SessionDescription(parsing: CallSDP.offer(CallSDPLocal(
        credentials: gatheredA.credentials, candidates: gatheredA.candidates, fingerprint: certA.fingerprint())).serialized())
    let answer = try SessionDescription(parsing: try CallSDP.answer(to: offer, CallSDPLocal(
        credentials: gatheredB.credentials, candidates: gatheredB.candidates, fingerprint: certB.fingerprint())).serialized())
    let negotiatedA = try CallSDP.negotiate(offer: offer, answer: answer, weAreOfferer: true)
    let negotiatedB = try CallSDP.negotiate(offer: offer, answer: answer, weAreOfferer: false)
    let sessionA = try MediaSession(transport: linkA.transport, configuration: MediaConfiguration(
        keying: .dtls(fingerprint: negotiatedA.remoteFingerprint, setup: negotiatedA.dtlsRole), certificate: certA,
        audioFormat: negotiatedA.audioFormat, audioSource: .tone(440)))
    let sessionB = try MediaSession(transport: linkB.transport, configuration: MediaConfiguration(
        keying: .dtls(fingerprint: negotiatedB.remoteFingerprint, setup: negotiatedB.dtlsRole), certificate: certB,
        audioFormat: negotiatedB.audioFormat, audioSource: .tone(880)))
    let eventsB = sessionB.events
    let firstMedia = Task { () -> ContinuousClock.Instant? in
        for await event in eventsB {
            if case .mediaFlowing = event { return ContinuousClock.now }
            if case .failed = event { return nil }
        }
        return nil
    }
    try await linkA.setRemote(credentials: negotiatedA.remoteCredentials, candidates: negotiatedA.remoteCandidates)
    try await linkB.setRemote(credentials: negotiatedB.remoteCredentials, candidates: negotiatedB.remoteCandidates)
    async let connectedA: Void = linkA.waitUntilConnected()
    async let connectedB: Void = linkB.waitUntilConnected()
    try await connectedA
    sessionA.start()
    try await connectedB
    sessionB.start()
    let media = await firstMedia.value
    await sessionA.stop()
    await sessionB.stop()
    await linkA.close()
    await linkB.close()
    guard let media else { throw BenchmarkError(description: "an in-process call did not complete") }
    return milliseconds(media - start)
}

// MARK: - ours: through Prosody

struct Parties {
    let alice: JingleEngine, bob: JingleEngine
    let aliceClient: XMPPClient, bobClient: XMPPClient
    let bobJID: JID
}

func connectParties() async throws -> Parties {
    let server = try ProsodyServer.get()
    func connect(_ user: String) async throws -> XMPPClient {
        let configuration = try server.configuration(user, resource: "bench-\(UUID().uuidString.prefix(8))")
        let client = XMPPClient(configuration)
        try await client.connect()
        return client
    }
    let aliceClient = try await connect("alice")
    let bobClient = try await connect("bob")
    guard let aliceJID = await aliceClient.boundJID, let bobJID = await bobClient.boundJID else {
        throw BenchmarkError(description: "no bound JID after login")
    }
    let alice = JingleEngine(link: aliceClient, localJID: aliceJID)
    let bob = JingleEngine(link: bobClient, localJID: bobJID)
    await alice.start(); await bob.start()
    await alice.advertise(JingleCall.features); await bob.advertise(JingleCall.features)
    return Parties(alice: alice, bob: bob, aliceClient: aliceClient, bobClient: bobClient, bobJID: bobJID)
}

/// One call; returns the set-up time and each party's marks relative to session-initiate sent.
func callThroughServer(_ p: Parties) async throws -> (setup: Double, caller: [String: Double], callee: [String: Double]) {
    let bob = p.bob
    let answering = Task { () throws -> JingleCall in
        var incoming = bob.incomingSessions.makeAsyncIterator()
        guard let session = await incoming.next() else { throw BenchmarkError(description: "bob's engine stopped") }
        return try await JingleCall.answer(engine: bob, incoming: session,
                                           options: CallOptions(audioSource: .tone(880), bindAddresses: ["127.0.0.1"]))
    }
    let call = try await JingleCall.place(engine: p.alice, to: p.bobJID,
                                          options: CallOptions(audioSource: .tone(440), bindAddresses: ["127.0.0.1"]))
    let callee = try await answering.value
    let deadline = ContinuousClock.now + .seconds(10)
    while callee.timeline.instant(of: "media.firstReceived") == nil, ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(5))
    }
    _ = await call.hangUp()
    await callee.waitUntilEnded()
    guard let sent = call.timeline.instant(of: "initiate.sent"), let received = callee.timeline.instant(of: "media.firstReceived") else {
        throw BenchmarkError(description: "a call through Prosody carried no media within 10 s")
    }
    func relative(_ timeline: SetupTimeline) -> [String: Double] {
        Dictionary(timeline.entries.map { ($0.name, milliseconds($0.instant - sent)) }, uniquingKeysWith: { first, _ in first })
    }
    return (milliseconds(received - sent), relative(call.timeline), relative(callee.timeline))
}

func printSteps(_ party: String, _ runs: [[String: Double]]) {
    let names = Set(runs.flatMap(\.keys))
    let steps = names.map { name in (name, median(runs.compactMap { $0[name] })) }.sorted { $0.1 < $1.1 }
    print("  \(party): " + steps.map { "\($0.0) \(format($0.1))" }.joined(separator: ", "))
}

var baseline: [Double] = []
for _ in 0..<calls { baseline.append(try await inProcessCall()) }

let parties = try await connectParties()
// One call first so that code paths, the server's session state and the caches are warm for every measured call.
_ = try await callThroughServer(parties)
var ours: [Double] = []
var callerSteps: [[String: Double]] = [], calleeSteps: [[String: Double]] = []
for _ in 0..<calls {
    let result = try await callThroughServer(parties)
    ours.append(result.setup)
    callerSteps.append(result.caller)
    calleeSteps.append(result.callee)
}
await parties.alice.stop(); await parties.bob.stop()
await parties.aliceClient.close(); await parties.bobClient.close()

let (o, b) = (median(ours), median(baseline))
print("calls: \(calls); through Prosody (session-initiate sent -> first decrypted packet at the callee) ms: min \(format(ours.min() ?? 0)) max \(format(ours.max() ?? 0)); in-process ICE+DTLS ms: min \(format(baseline.min() ?? 0)) max \(format(baseline.max() ?? 0))")
print("median step times, ms after session-initiate sent:")
printSteps("caller", callerSteps)
printSteps("callee", calleeSteps)
print("call-setup: ours=\(format(o))ms baseline=\(format(b))ms ratio=\((o / b * 100).rounded() / 100)")
