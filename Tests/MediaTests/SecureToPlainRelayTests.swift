import DTLS
import Foundation
@testable import Media
import RTP
import SRTP
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Two in-memory datagram endpoints wired to each other (each delivers on its own queue, as a socket would).
final class LoopTransport: MediaTransport, @unchecked Sendable {
    private let handler = Mutex<(@Sendable ([UInt8]) -> Void)?>(nil)
    private let queue = DispatchQueue(label: "loop-transport")
    weak var peer: LoopTransport?

    static func pair() -> (LoopTransport, LoopTransport) {
        let a = LoopTransport(), b = LoopTransport()
        a.peer = b
        b.peer = a
        return (a, b)
    }

    func send(_ datagram: [UInt8]) throws {
        guard let peer else { return }
        peer.queue.async { peer.handler.withLock { $0 }?(datagram) }
    }

    func setReceiveHandler(_ handler: (@Sendable ([UInt8]) -> Void)?) {
        self.handler.withLock { $0 = handler }
    }
}

/// A plain RTP phone on loopback: one RTP socket it reads by polling and sends from (symmetric RTP).
final class PlainPhone: @unchecked Sendable {
    let port: PlainRTPPort

    init() throws { port = try PlainRTPPort(host: "127.0.0.1") }

    var endpoint: UDPEndpoint { UDPEndpoint(host: "127.0.0.1", port: port.rtpPort) }

    func drain() -> [[UInt8]] {
        var packets: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(port.rtpDescriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            guard count > 0 else { return packets }
            packets.append(Array(buffer[0..<count]))
        }
    }

    func send(_ bytes: [UInt8], to port: UInt16) throws {
        let address = try SocketAddress(host: "127.0.0.1", port: port)
        var storage = address.storage
        _ = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(self.port.rtpDescriptor, buffer.baseAddress, buffer.count, 0, $0, address.length) }
            }
        }
    }
}

@Suite("Relay between a DTLS-SRTP leg and a plain RTP leg")
struct SecureToPlainRelayTests {
    /// A MediaSession (DTLS client, 440 Hz) talks DTLS-SRTP to the relay over an in-memory transport; the relay
    /// hands its RTP to a plain phone on loopback (decrypted, or re-protected with SDES) and the phone's
    /// 880 Hz packets back to the session. Payload type and SSRC cross unchanged.
    @Test(arguments: [false, true])
    func relaysBothWays(sdes: Bool) async throws {
        let (secureSide, relaySide) = LoopTransport.pair()
        let sessionCertificate = try DTLSCertificate.generate()
        let relayCertificate = try DTLSCertificate.generate()
        let phone = try PhoneWithKeys(sdes: sdes)
        let relayPort = try PlainRTPPort(host: "127.0.0.1")
        let relay = try SecureToPlainRelay(secure: relaySide, certificate: relayCertificate, remoteFingerprint: sessionCertificate.fingerprint(),
                                           role: .server, plain: relayPort, peer: PlainLegPeer(rtp: phone.phone.endpoint, rtcp: nil),
                                           plainKeying: phone.relayKeying)
        let session = try MediaSession(transport: secureSide, configuration: MediaConfiguration(
            keying: .dtls(fingerprint: relayCertificate.fingerprint(), setup: .client), certificate: sessionCertificate,
            audioFormat: .pcmu, audioSource: .tone(440), reportInterval: .milliseconds(200)))
        let log = MediaEventLog.recording(session)
        relay.start()
        session.start()
        try await log.waitConnected()

        // Secure -> plain: about a second of the session's tone reaches the phone.
        var heard: [Int16] = []
        var ssrcs = Set<UInt32>()
        let deadline = ContinuousClock.now + .seconds(5)
        while heard.count < 8000, ContinuousClock.now < deadline {
            for datagram in phone.phone.drain() {
                guard let plain = try? phone.unprotect(datagram), RTPPacketClass.classify(plain) == .rtp,
                      let packet = try? RTPPacket(parsing: plain) else { continue }
                #expect(packet.payloadType == 0)
                ssrcs.insert(packet.ssrc)
                heard += G711Law.muLaw.decode(packet.payload)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(heard.count >= 8000, "the phone got \(heard.count) samples")
        #expect(ssrcs == [session.audioSSRC], "the session's SSRC crosses unchanged")
        #expect(Goertzel.dominantFrequency(in: heard, sampleRate: 8000, range: 300...1000, step: 10) == 440)

        // Plain -> secure: 50 packets of 880 Hz from the phone reach the session.
        var tone = ToneGenerator(frequency: 880)
        var sender = RTPSenderState(ssrc: 0x1234_5678, initialSequenceNumber: 100, initialTimestamp: 1000)
        for index in 0..<50 {
            let packet = sender.makePacket(payloadType: 0, payload: G711Law.muLaw.encode(tone.nextFrame(count: 160)),
                                           timestampOffset: UInt32(index * 160), marker: index == 0)
            try phone.phone.send(try phone.protect(try packet.serialized()), to: relayPort.rtpPort)
            try await Task.sleep(for: .milliseconds(5))
        }
        let received = try await pollUntil(seconds: 5) { session.statistics.packetsReceived >= 50 }
        #expect(received, "the session got \(session.statistics.packetsReceived) packets")
        let statistics = relay.statistics
        #expect(statistics.plainToSecureRTP == 50 && statistics.secureToPlainRTP >= 50, "\(statistics)")
        await session.stop()
        let final = await relay.stop()
        #expect(final.secureToPlainRTP >= statistics.secureToPlainRTP)
        phone.phone.port.close()
    }

    @Test func plainPortsAreAnEvenOddPair() throws {
        let ports = try (0..<4).map { _ in try PlainRTPPort(host: "127.0.0.1") }
        for port in ports {
            #expect(port.rtpPort % 2 == 0 && port.rtcpPort == port.rtpPort + 1)
            port.close()
        }
        #expect(throws: MediaError.self) { try PlainRTPPort(host: "not-an-address") }
    }
}

/// The phone and, with SDES, its keys and the relay's (RFC 4568: each side protects with its own key).
struct PhoneWithKeys {
    let phone: PlainPhone
    let relayKeying: PlainLegKeying
    private let outbound: SRTPSession?
    private let inbound: SRTPSession?

    init(sdes: Bool) throws {
        phone = try PlainPhone()
        guard sdes else {
            relayKeying = .none
            outbound = nil
            inbound = nil
            return
        }
        let phoneKey = randomSDES(), relayKey = randomSDES()
        relayKeying = .sdes(local: relayKey, remote: phoneKey)
        (outbound, inbound) = try SRTPSession.pair(profile: phoneKey.profile, localKey: phoneKey.keyParams[0].key, localSalt: phoneKey.keyParams[0].salt,
                                                   remoteKey: relayKey.keyParams[0].key, remoteSalt: relayKey.keyParams[0].salt)
    }

    func protect(_ packet: [UInt8]) throws -> [UInt8] { try outbound?.protectRTP(packet) ?? packet }

    func unprotect(_ datagram: [UInt8]) throws -> [UInt8] {
        guard let inbound else { return datagram }
        return RTPPacketClass.classify(datagram) == .rtcp ? try inbound.unprotectRTCP(datagram) : try inbound.unprotectRTP(datagram)
    }
}

func pollUntil(seconds: Double, _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while !condition() {
        guard ContinuousClock.now < deadline else { return false }
        try await Task.sleep(for: .milliseconds(10))
    }
    return true
}
