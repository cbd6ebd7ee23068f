import DTLS
import Foundation
import ICE
@testable import Media
import RTP
import SDP
import Synchronization
import Testing

@Suite("MediaSession over ICE on loopback", .serialized)
struct MediaSessionTests {
    @Test("each side records the other's tone and >= 95 % of the 20 ms frames sent arrive", arguments: TestKeying.allCases)
    func toneBothWays(keying: TestKeying) async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (a, b) = try await makeCall(keying: keying, directory: directory)
        try await a.log.waitConnected()
        try await b.log.waitConnected()
        try await a.log.waitMediaFlowing()
        try await b.log.waitMediaFlowing()
        let flowing = ContinuousClock.now
        try await Task.sleep(for: .seconds(2))
        // Stop sending on both sides, let the last packets land, then compare counters.
        a.session.hold()
        b.session.hold()
        let sendingTime = ContinuousClock.now - flowing
        try await Task.sleep(for: .milliseconds(300))
        let statsA = await a.session.stop()
        let statsB = await b.session.stop()
        await a.link.close()
        await b.link.close()

        // The sender is clocked at 20 ms: about 50 frames a second (minus one timer's worth of slack).
        let minimumFrames = Int(sendingTime / .milliseconds(20)) * 95 / 100
        #expect(statsA.packetsSent >= minimumFrames, "offerer sent \(statsA.packetsSent), expected >= \(minimumFrames)")
        #expect(statsB.packetsSent >= minimumFrames, "answerer sent \(statsB.packetsSent), expected >= \(minimumFrames)")
        #expect(statsB.packetsReceived * 100 >= statsA.packetsSent * 95, "answerer got \(statsB.packetsReceived) of \(statsA.packetsSent)")
        #expect(statsA.packetsReceived * 100 >= statsB.packetsSent * 95, "offerer got \(statsA.packetsReceived) of \(statsB.packetsSent)")
        #expect(statsA.authFailures == 0 && statsB.authFailures == 0)
        #expect(statsA.rtcpReceived >= 1 && statsB.rtcpReceived >= 1, "RTCP SR/RR flows each second")

        let heardByA = try recordedSamples(a.recording)
        let heardByB = try recordedSamples(b.recording)
        #expect(heardByA.count >= minimumFrames * 160)
        #expect(Goertzel.dominantFrequency(in: heardByA, sampleRate: 8000, candidates: [440, 880]) == 880)
        #expect(Goertzel.dominantFrequency(in: heardByB, sampleRate: 8000, candidates: [440, 880]) == 440)
        #expect(Goertzel.dominantFrequency(in: heardByA, sampleRate: 8000, range: 300...1000, step: 10) == 880)
        #expect(Goertzel.dominantFrequency(in: heardByB, sampleRate: 8000, range: 300...1000, step: 10) == 440)
        // The log is filled by its own task: wait for the final event rather than racing it.
        let final = try await a.log.wait(timeout: .seconds(2), for: "ended") { event -> MediaStatistics? in
            if case .ended(let stats) = event { stats } else { nil }
        }
        #expect(final == statsA)
        #expect(a.log.all.contains { if case .stats = $0 { true } else { false } })
    }

    @Test("a DTLS certificate that does not match the signalled fingerprint fails the call with fingerprintMismatch")
    func wrongFingerprint() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (a, b) = try await makeCall(wrongFingerprintAtAnswerer: true, directory: directory)
        let error = try await b.log.wait(for: "answerer failure") { event -> MediaError? in
            if case .failed(let error) = event { error } else { nil }
        }
        guard case .fingerprintMismatch(_, let actual) = error else {
            Issue.record("expected fingerprintMismatch, got \(error)")
            await hangUp(a, b)
            return
        }
        #expect(actual == a.certificate.fingerprint())
        #expect(!b.log.all.contains(.connected))
        let statsB = await b.session.stop()
        #expect(statsB.packetsReceived == 0)
        await hangUp(a, b)
    }

    @Test("SRTP packets altered on the receive path are dropped and counted as authentication failures")
    func tamperedPacketsAreDropped() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (a, b) = try await makeCall(directory: directory)
        try await b.log.waitMediaFlowing()
        let tampered = Atomic<Int>(0)
        let seen = Atomic<Int>(0)
        b.session.setReceiveTamperHook { datagram in
            // RTP only (RFC 5761 §4: RTCP types sit at 64-95 of the second byte); every 4th packet, last byte.
            guard datagram.count > 12, !(64...95).contains(datagram[1] & 0x7F) else { return }
            if seen.add(1, ordering: .relaxed).newValue % 4 == 0 {
                datagram[datagram.count - 1] ^= 0x5A
                tampered.add(1, ordering: .relaxed)
            }
        }
        try await Task.sleep(for: .seconds(1))
        b.session.setReceiveTamperHook(nil)
        try await Task.sleep(for: .milliseconds(200))
        let statsB = b.session.statistics
        let count = tampered.load(ordering: .relaxed)
        #expect(count >= 5)
        #expect(statsB.authFailures == count, "every altered packet fails authentication")
        #expect(statsB.packetsReceived > 0)
        await hangUp(a, b)
    }

    @Test("a replayed SRTP packet is dropped and counted as a replay")
    func replayedPacketsAreDropped() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (a, b) = try await makeCall(directory: directory)
        try await b.log.waitMediaFlowing()
        let replayed = Atomic<Int>(0)
        let seen = Atomic<Int>(0)
        let earlier = Mutex<[UInt8]?>(nil)
        b.session.setReceiveTamperHook { datagram in
            guard datagram.count > 12, !(64...95).contains(datagram[1] & 0x7F) else { return }
            // Every 5th RTP packet is swapped for a copy of one already accepted (RFC 3711 §3.3.2).
            if seen.add(1, ordering: .relaxed).newValue % 5 == 0, let copy = earlier.withLock({ $0 }) {
                datagram = copy
                replayed.add(1, ordering: .relaxed)
            } else {
                earlier.withLock { $0 = datagram }
            }
        }
        try await Task.sleep(for: .seconds(1))
        b.session.setReceiveTamperHook(nil)
        try await Task.sleep(for: .milliseconds(200))
        let statsB = b.session.statistics
        #expect(replayed.load(ordering: .relaxed) >= 5)
        #expect(statsB.replays == replayed.load(ordering: .relaxed))
        #expect(statsB.authFailures == 0)
        await hangUp(a, b)
    }

    @Test("hold stops the packets and resume restarts them")
    func holdAndResume() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (a, b) = try await makeCall(directory: directory)
        try await b.log.waitMediaFlowing()
        a.session.hold()
        try await Task.sleep(for: .milliseconds(200))
        #expect(a.session.currentDirection == .recvonly)
        let sentAtHold = a.session.statistics.packetsSent
        let receivedAtHold = b.session.statistics.packetsReceived
        try await Task.sleep(for: .seconds(1))
        #expect(a.session.statistics.packetsSent == sentAtHold, "nothing sent while held")
        #expect(b.session.statistics.packetsReceived == receivedAtHold, "nothing received while the peer holds")
        #expect(a.session.statistics.packetsReceived > 0, "the held side still receives")
        a.session.resume()
        try await Task.sleep(for: .seconds(1))
        #expect(a.session.currentDirection == .sendrecv)
        #expect(b.session.statistics.packetsReceived >= receivedAtHold + 40, "about 50 packets a second after resume")
        await hangUp(a, b)
    }
}

@Suite("Call SDP and parameters")
struct CallSDPTests {
    @Test("the offer has BUNDLE, rtcp-mux, DTLS-SRTP, opus/PCMU/PCMA/telephone-event, candidates and end-of-candidates")
    func offerShape() throws {
        let certificate = try DTLSCertificate.generate()
        let candidate = try ICECandidate(sdp: "candidate:1 1 UDP 2130706431 127.0.0.1 40000 typ host")
        let local = CallSDPLocal(credentials: ICECredentials(ufrag: "abcd", pwd: "0123456789abcdefghijkl"), candidates: [candidate],
                                 fingerprint: certificate.fingerprint(), video: true)
        let text = CallSDP.offer(local).serialized()
        for line in ["a=group:BUNDLE 0 1", "m=audio 40000 UDP/TLS/RTP/SAVPF 111 0 8 101", "a=rtpmap:111 opus/48000/2", "a=rtcp-mux", "a=setup:actpass",
                     "a=rtpmap:101 telephone-event/8000", "a=end-of-candidates", "a=fingerprint:sha-256 ",
                     "m=video 40000 UDP/TLS/RTP/SAVPF 96 97", "a=rtpmap:96 VP8/90000", "a=candidate:1 1 UDP 2130706431 127.0.0.1 40000 typ host"] {
            #expect(text.contains(line), "missing \(line)")
        }
    }

    @Test("the answerer to an actpass offer is the DTLS client; codec and direction come from the answer",
          arguments: [("PCMU", AudioFormat.Codec.pcmu), ("PCMA", .pcma)])
    func negotiation(codec: String, expected: AudioFormat.Codec) throws {
        let certA = try DTLSCertificate.generate(), certB = try DTLSCertificate.generate()
        let candA = try ICECandidate(sdp: "candidate:1 1 UDP 2130706431 127.0.0.1 40000 typ host")
        let candB = try ICECandidate(sdp: "candidate:2 1 UDP 2130706431 127.0.0.1 40002 typ host")
        var offer = CallSDP.offer(CallSDPLocal(credentials: ICECredentials(ufrag: "aaaa", pwd: "0123456789abcdefghijkl"), candidates: [candA],
                                               fingerprint: certA.fingerprint()))
        // Offer only one codec so the answer must pick it.
        offer.media[0].formats = [codec == "PCMU" ? "0" : "8", "101"]
        let answer = try CallSDP.answer(to: offer, CallSDPLocal(credentials: ICECredentials(ufrag: "bbbb", pwd: "abcdefghijkl0123456789"),
                                                                 candidates: [candB], fingerprint: certB.fingerprint()))
        let a = try CallSDP.negotiate(offer: offer, answer: answer, weAreOfferer: true)
        let b = try CallSDP.negotiate(offer: offer, answer: answer, weAreOfferer: false)
        #expect(a.dtlsRole == .server && b.dtlsRole == .client)
        #expect(a.remoteFingerprint == certB.fingerprint() && b.remoteFingerprint == certA.fingerprint())
        #expect(a.remoteCandidates == [candB] && b.remoteCandidates == [candA])
        #expect(a.audioFormat.codec == expected && b.audioFormat.codec == expected)
        #expect(a.audioFormat.telephoneEventPayloadType == 101)
        #expect(a.remoteCredentials.ufrag == "bbbb" && b.remoteCredentials.ufrag == "aaaa")
    }

    @Test("a browser-style offer with opus first is answered with opus (then G.711) and read back on both sides")
    func browserOffer() throws {
        let text = [
            "v=0", "o=- 123 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0", "a=msid-semantic: WMS",
            "m=audio 40000 UDP/TLS/RTP/SAVPF 111 0 8 126", "c=IN IP4 127.0.0.1", "a=rtcp:9 IN IP4 0.0.0.0",
            "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host", "a=candidate:2 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active",
            "a=ice-ufrag:abcd", "a=ice-pwd:0123456789abcdefghijkl", "a=ice-options:trickle",
            "a=fingerprint:sha-256 64:8F:0D:FD:31:9A:12:37:22:7F:FB:0B:2F:D0:68:22:3D:0B:0B:85:30:5D:77:C9:3D:20:CA:07:12:5B:B9:79",
            "a=setup:actpass", "a=mid:0", "a=sendrecv", "a=rtcp-mux", "a=rtpmap:111 opus/48000/2", "a=fmtp:111 minptime=10;useinbandfec=1",
            "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=rtpmap:126 telephone-event/8000", "",
        ].joined(separator: "\r\n")
        let offer = try SessionDescription(parsing: text)
        let cert = try DTLSCertificate.generate()
        let candidate = try ICECandidate(sdp: "candidate:9 1 UDP 2130706431 127.0.0.1 40010 typ host")
        let answer = try CallSDP.answer(to: offer, CallSDPLocal(credentials: ICECredentials(ufrag: "wxyz", pwd: "abcdefghijkl0123456789"),
                                                                 candidates: [candidate], fingerprint: cert.fingerprint()))
        #expect(answer.media[0].formats == ["111", "0", "8", "126"])
        let ours = try CallSDP.negotiate(offer: offer, answer: answer, weAreOfferer: false)
        #expect(ours.audioFormat == AudioFormat(codec: .opus, payloadType: 111, telephoneEventPayloadType: 126))
        #expect(ours.dtlsRole == .client)
        #expect(ours.remoteCandidates.count == 1, "the TCP candidate is skipped")
        #expect(ours.remoteFingerprint.value.hasPrefix("64:8F:0D"))
    }

    @Test("an answer without a common codec is a negotiation error")
    func noCommonCodec() throws {
        let cert = try DTLSCertificate.generate()
        let cand = try ICECandidate(sdp: "candidate:1 1 UDP 2130706431 127.0.0.1 40000 typ host")
        let local = CallSDPLocal(credentials: ICECredentials(ufrag: "aaaa", pwd: "0123456789abcdefghijkl"), candidates: [cand], fingerprint: cert.fingerprint())
        var offer = CallSDP.offer(local)
        offer.media[0].formats = ["101"]
        let answer = try CallSDP.answer(to: offer, local)
        #expect(throws: MediaError.self) { try CallSDP.negotiate(offer: offer, answer: answer, weAreOfferer: true) }
    }

    @Test("audio sources and UDP endpoints parse, bad ones are typed errors", arguments: [
        ("tone:440", true), ("wav:/tmp/x.wav", true), ("udp://127.0.0.1:5004", true), ("udp://[::1]:5004", true),
        ("tone:abc", false), ("tone:-5", false), ("mp3:x", false), ("udp://127.0.0.1", false), ("udp://:5", false), ("wav:", false),
    ])
    func sourceParsing(text: String, valid: Bool) {
        #expect(((try? AudioSource(parsing: text)) != nil) == valid)
    }

    @Test("a WAV source is resampled to 8 kHz")
    func resampling() {
        var tone = ToneGenerator(frequency: 440, amplitude: 8000, sampleRate: 48000)
        let samples = tone.nextFrame(count: 48000)
        let resampled = AudioSampleSource.resample(samples, from: 48000, to: 8000)
        #expect(resampled.count == 8000)
        #expect(Goertzel.dominantFrequency(in: resampled, sampleRate: 8000, range: 300...1000, step: 10) == 440)
    }

    @Test("SDES keys of different suites are refused")
    func sdesMismatch() throws {
        let link = StubTransport()
        var remote = randomSDES()
        remote.profile = .aeadAES128GCM
        #expect(throws: MediaError.self) {
            _ = try MediaSession(transport: link, configuration: MediaConfiguration(keying: .sdes(local: randomSDES(), remote: remote)))
        }
        #expect(throws: MediaError.self) {
            _ = try MediaSession(transport: link, configuration: MediaConfiguration(
                keying: .dtls(fingerprint: try DTLSCertificate.generate().fingerprint(), setup: .client)))
        }
    }
}

final class StubTransport: MediaTransport {
    func send(_ datagram: [UInt8]) throws {}
    func setReceiveHandler(_ handler: (@Sendable ([UInt8]) -> Void)?) {}
}

@Suite("RTP relays to and from local UDP ports")
struct RelayTests {
    /// Collects datagrams arriving on a local port.
    final class Collector: Sendable {
        let packets = Mutex<[[UInt8]]>([])
        var all: [[UInt8]] { packets.withLock { $0 } }
    }

    @Test("audio and video RTP from local ports reach the peer's output ports with our SSRC and the negotiated payload type")
    func relays() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let base = UInt16.random(in: 20_000...60_000)
        let audioIn = UDPEndpoint(host: "127.0.0.1", port: base), audioOut = UDPEndpoint(host: "127.0.0.1", port: base + 1)
        let videoIn = UDPEndpoint(host: "127.0.0.1", port: base + 2), videoOut = UDPEndpoint(host: "127.0.0.1", port: base + 3)
        let queue = DispatchQueue(label: "relay-test")
        let heardAudio = Collector(), heardVideo = Collector()
        let audioSink = try UDPRelaySocket(receivingOn: audioOut, queue: queue) { bytes in heardAudio.packets.withLock { $0.append(bytes) } }
        let videoSink = try UDPRelaySocket(receivingOn: videoOut, queue: queue) { bytes in heardVideo.packets.withLock { $0.append(bytes) } }
        defer { queue.sync { audioSink.close(); videoSink.close() } }

        let (a, b) = try await makeCall(keying: .dtls, g711Only: true, directory: directory) { offerer, configuration in
            if offerer {
                configuration.audioSource = .rtp(audioIn)
                configuration.video = VideoRelay(payloadType: 96, input: videoIn)
            } else {
                configuration.audioRTPOutput = audioOut
                configuration.video = VideoRelay(payloadType: 96, output: videoOut)
            }
        }
        try await a.log.waitConnected()
        try await b.log.waitConnected()
        let audioFeed = try UDPRelaySocket(sendingTo: audioIn)
        let videoFeed = try UDPRelaySocket(sendingTo: videoIn)
        for index in 0..<20 {
            let audio = RTPPacket(header: RTPHeader(payloadType: 0, sequenceNumber: UInt16(index), timestamp: UInt32(index * 160), ssrc: 1234),
                                  payload: [UInt8](repeating: UInt8(index), count: 160))
            audioFeed.send(try audio.serialized())
            let video = RTPPacket(header: RTPHeader(marker: index % 5 == 4, payloadType: 100, sequenceNumber: UInt16(index),
                                                    timestamp: UInt32(index / 5 * 3000), ssrc: 5678),
                                  payload: [0x10, UInt8(index)] + [UInt8](repeating: 0xAB, count: 500))
            videoFeed.send(try video.serialized())
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: .milliseconds(300))
        audioFeed.close()
        videoFeed.close()
        let audioPackets = try heardAudio.all.map { try RTPPacket(parsing: $0) }
        let videoPackets = try heardVideo.all.map { try RTPPacket(parsing: $0) }
        #expect(audioPackets.count >= 19, "audio relayed: \(audioPackets.count) of 20")
        #expect(videoPackets.count >= 19, "video relayed: \(videoPackets.count) of 20")
        #expect(audioPackets.allSatisfy { $0.ssrc == a.session.audioSSRC && $0.payloadType == 0 && $0.payload.count == 160 })
        #expect(Set(audioPackets.map { $0.payload[0] }).count == audioPackets.count, "each payload arrives once, unchanged")
        #expect(videoPackets.allSatisfy { $0.payloadType == 96 && $0.ssrc != 5678 && $0.payload.count == 502 })
        #expect(videoPackets.filter(\.marker).count >= 3, "marker bits survive")
        #expect(b.session.statistics.videoPacketsReceived == videoPackets.count)
        await hangUp(a, b)
    }
}
