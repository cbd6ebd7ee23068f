// Call set-up time of two in-process MediaSessions on loopback.
//
// Each call: both ICE agents are created and gather, the offer and answer are built and parsed as SDP text,
// the agents check connectivity, then DTLS-SRTP runs and the offerer's first 20 ms audio frame is sent.
//   ours     = from starting the offer (creating the offerer's agent) to the first decrypted media packet at
//              the answerer;
//   baseline = from the same start to both ICE agents reaching READY (nomination done), in the same call:
//              the bare connectivity that any media stack on this ICE layer has to wait for.
// The ratio is what DTLS, key export and the first packet add on top of ICE. Certificates are made before
// the clock starts (an endpoint keeps one ready). Median over 20 calls.
import DTLS
import Foundation
import ICE
import Media
import SDP

let calls = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 20

func milliseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1000 + Double(attoseconds) / 1e15
}

func oneCall() async throws -> (ours: Double, baseline: Double) {
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
    let bothReady = Task { () -> ContinuousClock.Instant? in
        do {
            try await linkA.waitUntilConnected(requireReady: true)
            try await linkB.waitUntilConnected(requireReady: true)
            return ContinuousClock.now
        } catch {
            return nil
        }
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
    let ready = await bothReady.value
    await sessionA.stop()
    await sessionB.stop()
    await linkA.close()
    await linkB.close()
    guard let media, let ready else { throw MediaError.ice("call \(calls) did not complete") }
    return (milliseconds(media - start), milliseconds(ready - start))
}

var ours: [Double] = []
var baseline: [Double] = []
for _ in 0..<calls {
    let result = try await oneCall()
    ours.append(result.ours)
    baseline.append(result.baseline)
}
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
let (o, b) = (median(ours), median(baseline))
print("calls: \(calls); set-up ms (ours) min \(Int(ours.min() ?? 0)) max \(Int(ours.max() ?? 0)); ICE ready ms min \(Int(baseline.min() ?? 0)) max \(Int(baseline.max() ?? 0))")
print("call-setup: ours=\(Int(o.rounded()))ms baseline=\(Int(b.rounded()))ms ratio=\((o / b * 100).rounded() / 100)")
