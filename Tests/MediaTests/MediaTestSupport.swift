import DTLS
import Foundation
import ICE
@testable import Media
import RTP
import SDP
import SRTP
import Synchronization
import Testing

struct TestTimeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Records a session's events so a test can wait for one without being their only reader.
final class MediaEventLog: Sendable {
    private let storage = Mutex<[MediaEvent]>([])

    static func recording(_ session: MediaSession) -> MediaEventLog {
        let log = MediaEventLog()
        let events = session.events
        Task { for await event in events { log.storage.withLock { $0.append(event) } } }
        return log
    }

    var all: [MediaEvent] { storage.withLock { $0 } }

    @discardableResult
    func wait<T>(timeout: Duration = .seconds(15), for what: String, _ match: (MediaEvent) -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while true {
            for event in all { if let value = match(event) { return value } }
            guard ContinuousClock.now < deadline else { throw TestTimeout(what: what) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func waitConnected() async throws {
        let connected = try await wait(for: "connected") { event -> Bool? in
            switch event {
            case .connected: return true
            case .failed(let error):
                Issue.record("session failed: \(error)")
                return false
            default: return nil
            }
        }
        #expect(connected)
    }

    func waitMediaFlowing() async throws {
        try await wait(for: "media flowing") { event -> Bool? in if case .mediaFlowing = event { true } else { nil } }
    }
}

/// How a test call is keyed.
enum TestKeying: String, CaseIterable, CustomTestStringConvertible {
    case dtls, sdes, plain
    var testDescription: String { rawValue }
}

/// One side of an in-process call.
struct CallSide {
    let link: ICEMediaLink
    let session: MediaSession
    let log: MediaEventLog
    let recording: URL
    let certificate: DTLSCertificate
    /// What offer/answer settled for this side, and the SSRC this side announced in its description.
    let negotiated: NegotiatedCall
    let announcedSSRC: UInt32
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("media-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func randomSDES(tag: Int = 1) -> SDESCryptoAttribute {
    let key = (0..<16).map { _ in UInt8.random(in: 0...255) }
    let salt = (0..<14).map { _ in UInt8.random(in: 0...255) }
    return SDESCryptoAttribute(tag: tag, profile: .aesCM128HmacSHA1_80, keyParams: [SDESKeyParams(key: key, salt: salt)])
}

/// Two sessions over two ICE agents on 127.0.0.1, set up through a real offer/answer in SDP text.
/// `wrongFingerprintAtAnswerer` makes the answerer expect some other certificate.
func makeCall(
    keying: TestKeying = .dtls, offererTone: Double = 440, answererTone: Double = 880,
    wrongFingerprintAtAnswerer: Bool = false, g711Only: Bool = false, directory: URL,
    configure: (_ offerer: Bool, _ configuration: inout MediaConfiguration) -> Void = { _, _ in }
) async throws -> (offerer: CallSide, answerer: CallSide) {
    let linkA = try await ICEMediaLink(configuration: ICEConfiguration(role: .controlling, localAddresses: ["127.0.0.1"]))
    let linkB = try await ICEMediaLink(configuration: ICEConfiguration(role: .controlled, localAddresses: ["127.0.0.1"]))
    let certA = try DTLSCertificate.generate()
    let certB = try DTLSCertificate.generate()
    let gatheredA = try await linkA.gatherAll()
    let ssrcA = UInt32.random(in: 1...UInt32.max), ssrcB = UInt32.random(in: 1...UInt32.max)
    var offer = CallSDP.offer(CallSDPLocal(credentials: gatheredA.credentials, candidates: gatheredA.candidates, fingerprint: certA.fingerprint(),
                                           audioSSRC: ssrcA, cname: "offerer"))
    if g711Only { offer.media[0].formats.removeAll { $0 == "111" } }
    let offerOnWire = try SessionDescription(parsing: offer.serialized())
    let gatheredB = try await linkB.gatherAll()
    let answer = try CallSDP.answer(
        to: offerOnWire, CallSDPLocal(credentials: gatheredB.credentials, candidates: gatheredB.candidates, fingerprint: certB.fingerprint(),
                                      audioSSRC: ssrcB, cname: "answerer"))
    let answerOnWire = try SessionDescription(parsing: answer.serialized())
    let negotiatedA = try CallSDP.negotiate(offer: offer, answer: answerOnWire, weAreOfferer: true)
    var negotiatedB = try CallSDP.negotiate(offer: offerOnWire, answer: answer, weAreOfferer: false)
    if wrongFingerprintAtAnswerer { negotiatedB.remoteFingerprint = try DTLSCertificate.generate().fingerprint() }

    let sdesA = randomSDES(), sdesB = randomSDES()
    func keyingMode(_ negotiated: NegotiatedCall, local: SDESCryptoAttribute, remote: SDESCryptoAttribute) -> MediaKeying {
        switch keying {
        case .dtls: .dtls(fingerprint: negotiated.remoteFingerprint, setup: negotiated.dtlsRole)
        case .sdes: .sdes(local: local, remote: remote)
        case .plain: .none
        }
    }
    let recordA = directory.appendingPathComponent("offerer.wav")
    let recordB = directory.appendingPathComponent("answerer.wav")
    var configurationA = MediaConfiguration(
        keying: keyingMode(negotiatedA, local: sdesA, remote: sdesB), certificate: certA, audioFormat: negotiatedA.audioFormat,
        audioSource: .tone(offererTone), recordURL: recordA, cname: "offerer", audioSSRC: ssrcA,
        audioLevelExtensionID: negotiatedA.audioLevelExtensionID, nack: negotiatedA.nack)
    var configurationB = MediaConfiguration(
        keying: keyingMode(negotiatedB, local: sdesB, remote: sdesA), certificate: certB, audioFormat: negotiatedB.audioFormat,
        audioSource: .tone(answererTone), recordURL: recordB, cname: "answerer", audioSSRC: ssrcB,
        audioLevelExtensionID: negotiatedB.audioLevelExtensionID, nack: negotiatedB.nack)
    configure(true, &configurationA)
    configure(false, &configurationB)
    let sessionA = try MediaSession(transport: linkA.transport, configuration: configurationA)
    let sessionB = try MediaSession(transport: linkB.transport, configuration: configurationB)
    let logA = MediaEventLog.recording(sessionA)
    let logB = MediaEventLog.recording(sessionB)

    try await linkA.setRemote(credentials: negotiatedA.remoteCredentials, candidates: negotiatedA.remoteCandidates)
    try await linkB.setRemote(credentials: negotiatedB.remoteCredentials, candidates: negotiatedB.remoteCandidates)
    try await linkA.waitUntilConnected()
    try await linkB.waitUntilConnected()
    sessionA.start()
    sessionB.start()
    return (CallSide(link: linkA, session: sessionA, log: logA, recording: recordA, certificate: certA, negotiated: negotiatedA, announcedSSRC: ssrcA),
            CallSide(link: linkB, session: sessionB, log: logB, recording: recordB, certificate: certB, negotiated: negotiatedB, announcedSSRC: ssrcB))
}

func hangUp(_ sides: CallSide...) async {
    for side in sides {
        await side.session.stop()
        await side.link.close()
    }
}

func recordedSamples(_ url: URL) throws -> [Int16] {
    try WAVAudio(parsing: [UInt8](Data(contentsOf: url))).channel(0)
}
