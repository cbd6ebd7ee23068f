import TestServers
import DTLS
import Foundation
import ICE
import PeerStream
@testable import SecureTransport
import Synchronization
import Testing

@Suite("SecureStream over ICE on loopback", .serialized)
struct SecureStreamTests {
    /// Both ways of assigning roles: the DTLS client (`a=setup:active`) may be either ICE role.
    @Test("64 MiB byte-exact through 5 % injected loss", arguments: [true, false])
    func transferWithLoss(clientIsControlling: Bool) async throws {
        let (controlling, controlled) = try await connectedSides()
        let (client, server) = clientIsControlling ? (controlling, controlled) : (controlled, controlling)
        let (c, s) = await secureStreams(client: client, server: server, configuration: testConfiguration(loss: 0.05, seed: 7))
        let sender = try c.get()
        let receiver = try s.get()
        let total = 64 << 20
        let seed: UInt64 = clientIsControlling ? 11 : 12
        let started = ContinuousClock.now
        let outcome = try await within(.seconds(60), "64 MiB transfer") {
            async let written: Void = writePattern(sender, total: total, seed: seed, chunk: 1 << 20)
            let result = try await readAndVerify(receiver, seed: seed)
            try await written
            return result
        }
        let elapsed = ContinuousClock.now - started
        #expect(outcome.count == total)
        #expect(outcome.firstMismatch == nil, "first differing byte at \(outcome.firstMismatch ?? -1)")
        let senderStatistics = sender.statistics
        // 5 % of the data datagrams were dropped, so the machine must have retransmitted.
        #expect(senderStatistics.transport.datagramsDroppedByLossInjection > 0)
        #expect(senderStatistics.stream.bytesRetransmitted > 0)
        // The reverse direction works too (and ends cleanly).
        try await receiver.write(Array("done".utf8))
        try await receiver.finish()
        #expect(try await sender.read() == Array("done".utf8))
        #expect(try await sender.read() == nil)
        print("SecureStream 64 MiB with 5 % loss (debug build): \(elapsed), retransmitted \(senderStatistics.stream.bytesRetransmitted) B")
        sender.close()
        receiver.close()
        await controlling.agent.close()
        await controlled.agent.close()
    }

    /// The AES-GCM key changes every 256 packet numbers here instead of 2^22, so an 8 MiB transfer with loss
    /// crosses ~20 key changes, with retransmissions and reordering around them.
    @Test("8 MiB byte-exact through 5 % loss across ~20 key updates; no packet fails authentication")
    func transferAcrossKeyUpdates() async throws {
        let (a, b) = try await connectedSides()
        var configuration = testConfiguration(loss: 0.05, seed: 3)
        configuration.keyUpdateInterval = 256
        let (c, s) = await secureStreams(client: a, server: b, configuration: configuration)
        let sender = try c.get()
        let receiver = try s.get()
        let total = 8 << 20
        let outcome = try await within(.seconds(60), "8 MiB transfer") {
            async let written: Void = writePattern(sender, total: total, seed: 21, chunk: 1 << 20)
            let result = try await readAndVerify(receiver, seed: 21)
            try await written
            return result
        }
        #expect(outcome.count == total)
        #expect(outcome.firstMismatch == nil, "first differing byte at \(outcome.firstMismatch ?? -1)")
        let sent = sender.statistics, received = receiver.statistics
        #expect(sent.stream.packetsSent > 20 * 256, "crossed at least 20 key generations: \(sent.stream.packetsSent) packets")
        #expect(sent.stream.bytesRetransmitted > 0)
        #expect(received.packetsDiscarded == 0 && sent.packetsDiscarded == 0, "every packet authenticated under its generation's key")
        sender.close()
        receiver.close()
        await a.agent.close()
        await b.agent.close()
    }

    /// RFC 8899 over the real path: loopback carries 1472-byte UDP payloads (its MTU is 65536), so the search
    /// ends at the configured maximum on its first probe; with maxMTU = mtu nothing is probed.
    @Test("path MTU discovery raises datagrams from 1200 to 1472 bytes on loopback", arguments: [
        (1472, SecureStreamConfiguration.PacketProtectionMode.exportedKeys), (1472, .dtlsRecords), (1200, .exportedKeys),
    ])
    func pathMTUDiscovery(maxMTU: Int, protection: SecureStreamConfiguration.PacketProtectionMode) async throws {
        let (a, b) = try await connectedSides()
        var configuration = testConfiguration()
        configuration.transport.maxMTU = maxMTU
        configuration.packetProtection = protection
        configuration.stream.maxDatagramSize = 1200 - protection.overhead
        let (c, s) = await secureStreams(client: a, server: b, configuration: configuration)
        let sender = try c.get()
        let receiver = try s.get()
        let total = 8 << 20
        let outcome = try await within(.seconds(20), "8 MiB transfer") {
            async let written: Void = writePattern(sender, total: total, seed: 21)
            let result = try await readAndVerify(receiver, seed: 21)
            try await written
            return result
        }
        #expect(outcome.count == total)
        #expect(outcome.firstMismatch == nil)
        let statistics = sender.statistics
        #expect(statistics.udpPayloadSize == maxMTU)
        #expect(statistics.datagramSize == maxMTU - protection.overhead)
        #expect(statistics.stream.datagramSize == statistics.datagramSize)
        #expect(statistics.packetsDiscarded == 0)
        // DTLS records need the DTLS link MTU raised; exported-key packets do not go through DTLS at all.
        #expect(sender.transport.linkMTU == (protection == .dtlsRecords ? maxMTU : 1200))
        if maxMTU > 1200 {
            #expect(statistics.stream.pathMTUProbesAcknowledged >= 1)
            #expect(statistics.stream.pathMTUBlackHoles == 0)
        } else {
            #expect(statistics.stream.pathMTUProbesSent == 0)
        }
        sender.close()
        receiver.close()
        await a.agent.close()
        await b.agent.close()
    }

    @Test("the SRTP keys of both ends agree (calls reuse the handshake)")
    func srtpKeys() async throws {
        let (a, b) = try await connectedSides()
        let (c, s) = await secureStreams(client: a, server: b)
        let client = try c.get()
        let server = try s.get()
        let clientKeys = try client.exportSRTPKeyingMaterial()
        let serverKeys = try server.exportSRTPKeyingMaterial()
        #expect(clientKeys.localKey == serverKeys.remoteKey)
        #expect(clientKeys.remoteSalt == serverKeys.localSalt)
        #expect(clientKeys.localKey != clientKeys.remoteKey)
        client.close()
        server.close()
        await a.agent.close()
        await b.agent.close()
    }

    /// RFC 7983 §7: RTP/RTCP (first byte 128…191) shares the component with DTLS and bypasses it.
    @Test("RTP datagrams pass beside DTLS to the media handler; DTLS records to the record handler")
    func mediaPassThrough() async throws {
        let (a, b) = try await connectedSides()
        var configuration = DTLSTransportConfiguration()
        configuration.initialRetransmissionTimeout = .milliseconds(100)
        async let client = DTLSTransport.connect(
            agent: a.agent, stream: a.stream, role: .client, certificate: a.certificate,
            remoteFingerprint: b.certificate.fingerprint(), configuration: configuration)
        async let server = DTLSTransport.connect(
            agent: b.agent, stream: b.stream, role: .server, certificate: b.certificate,
            remoteFingerprint: a.certificate.fingerprint(), configuration: configuration)
        let (left, right) = try await (client, server)
        let media = LineBuffer()
        let records = LineBuffer()
        right.setMediaHandler { bytes in media.lines.withLock { $0.append(bytes.map { String($0) }.joined(separator: ",")) } }
        right.setRecordHandler { got in records.lines.withLock { $0 += got.map { String(decoding: $0, as: UTF8.self) } } }
        let rtp: [UInt8] = [0x80, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0xCA, 0xFE, 0xBA, 0xBE, 1, 2, 3]
        try rtp.withUnsafeBytes { try left.sendMedia($0) }
        try left.send(record: Array("hello".utf8))
        #expect(throws: SecureTransportError.self) { try [UInt8]([0x17, 0xFE]).withUnsafeBytes { try left.sendMedia($0) } }
        let deadline = ContinuousClock.now + .seconds(5)
        while (media.lines.withLock { $0.isEmpty } || records.lines.withLock { $0.isEmpty }) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(media.lines.withLock { $0 } == [rtp.map { String($0) }.joined(separator: ",")])
        #expect(records.lines.withLock { $0 } == ["hello"])
        #expect(right.statistics.mediaDatagramsReceived == 1)
        #expect(left.selectedSRTPProfile != nil)
        left.close()
        right.close()
        await a.agent.close()
        await b.agent.close()
    }

    /// RFC 5763 §5: a certificate that does not match the signalled fingerprint ends the handshake. The side
    /// that checks reports the mismatch; the other learns it from the alert — neither hangs.
    @Test("a wrong fingerprint fails both sides with typed errors", arguments: [true, false])
    func wrongFingerprint(clientHasWrongFingerprint: Bool) async throws {
        let (a, b) = try await connectedSides()
        let stranger = try DTLSCertificate.generate().fingerprint()
        let started = ContinuousClock.now
        let (c, s) = await secureStreams(
            client: a, server: b,
            clientExpects: clientHasWrongFingerprint ? stranger : nil,
            serverExpects: clientHasWrongFingerprint ? nil : stranger)
        let elapsed = ContinuousClock.now - started
        let (checker, other) = clientHasWrongFingerprint ? (c, s) : (s, c)
        let checkerCertificate = clientHasWrongFingerprint ? b.certificate : a.certificate
        switch checker {
        case .failure(.fingerprintMismatch(let expected, let actual)):
            #expect(expected == stranger)
            #expect(actual == checkerCertificate.fingerprint())
        default:
            Issue.record("expected fingerprintMismatch, got \(checker)")
        }
        switch other {
        case .failure(.handshakeFailed(let reason)):
            #expect(!reason.isEmpty)
        default:
            Issue.record("expected handshakeFailed from the alert, got \(other)")
        }
        // The alert ends the peer's handshake at once, well before its handshake timeout.
        #expect(elapsed < .seconds(5))
        await a.agent.close()
        await b.agent.close()
    }

    @Test("a paused reader stops the writer; memory stays within the windows; then it completes")
    func backPressure() async throws {
        let (a, b) = try await connectedSides()
        var configuration = testConfiguration()
        let window = 256 << 10
        configuration.stream.receiveWindow = window
        configuration.stream.sendBufferCapacity = window
        let (c, s) = await secureStreams(client: a, server: b, configuration: configuration)
        let sender = try c.get()
        let receiver = try s.get()
        let total = 8 << 20
        let chunk = 64 << 10
        let progress = Progress()
        let writer = Task { try await writePattern(sender, total: total, seed: 3, chunk: chunk, progress: progress) }
        // Nobody reads: after the windows fill up, the writer must be stuck.
        try await Task.sleep(for: .milliseconds(1500))
        let written = progress.value.load(ordering: .relaxed)
        let senderStatistics = sender.statistics
        let receiverStatistics = receiver.statistics
        #expect(written < total, "the writer should be blocked")
        // What `write` accepted is either unacknowledged at the sender or unread at the receiver.
        #expect(written <= 2 * window)
        #expect(senderStatistics.bufferedForSending <= window)
        #expect(receiverStatistics.bufferedForReading <= window)
        #expect(senderStatistics.bufferedForSending + receiverStatistics.bufferedForReading >= window / 2,
                "the windows should be in use while the reader is paused")
        // Resume reading: everything arrives intact and the writer finishes.
        let outcome = try await within(.seconds(30), "transfer after resuming") { try await readAndVerify(receiver, seed: 3) }
        try await writer.value
        #expect(outcome.count == total)
        #expect(outcome.firstMismatch == nil)
        sender.close()
        receiver.close()
        await a.agent.close()
        await b.agent.close()
    }

    @Test("abort with a reason reaches the peer as a typed error")
    func abortReachesPeer() async throws {
        let (a, b) = try await connectedSides()
        let (c, s) = await secureStreams(client: a, server: b)
        let left = try c.get()
        let right = try s.get()
        try await left.write(Array(repeating: 1, count: 10_000))
        let pendingRead = Task { () -> SecureTransportError? in
            do {
                while try await right.read() != nil {}
                return nil
            } catch let error as SecureTransportError {
                return error
            } catch {
                return .invalidConfiguration("unexpected \(error)")
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        let reason = PeerStreamAbortReason(code: PeerStreamAbortReason.refusedCode, message: "disk full")
        left.abort(reason: reason)
        let error = try await within(.seconds(5), "the peer to learn of the abort") { await pendingRead.value }
        #expect(error == .aborted(reason, byPeer: true))
        do {
            try await left.write([1, 2, 3])
            Issue.record("write after abort should throw")
        } catch {
            #expect(error == .aborted(reason, byPeer: false))
        }
        left.close()
        right.close()
        await a.agent.close()
        await b.agent.close()
    }

    static let invalidConfigurations: [(String, @Sendable (inout SecureStreamConfiguration) -> Void)] = [
        ("datagram budget over the MTU", { $0.stream.maxDatagramSize = 1190 }),
        ("receive window below 64 KiB", { $0.stream.receiveWindow = 1000 }),
        ("minimum window above the initial one", { $0.stream.minimumWindowPackets = 20 }),
        ("loss reduction of 1", { $0.stream.lossReductionFactor = 1 }),
        ("loss injection above 1", { $0.lossInjection = 1.5 }),
        ("maxMTU below the MTU", { $0.transport.maxMTU = 1000 }),
        ("probed datagram size beyond maxMTU", { $0.stream.maxProbedDatagramSize = 1500 }),
        ("probed datagram size below the base", { $0.stream.maxProbedDatagramSize = 1000 }),
    ]

    @Test("configurations PeerStream or DTLS cannot run are refused with a typed error",
          arguments: 0..<SecureStreamTests.invalidConfigurations.count)
    func invalidConfiguration(index: Int) async throws {
        let agent = try ICEAgent(configuration: ICEConfiguration(localAddresses: ["127.0.0.1"]))
        let stream = try await agent.addStream()
        var configuration = SecureStreamConfiguration()
        Self.invalidConfigurations[index].1(&configuration)
        #expect(throws: SecureTransportError.self, "\(Self.invalidConfigurations[index].0)") { try configuration.validate() }
        await #expect(throws: SecureTransportError.self) {
            _ = try await SecureStream.connect(
                agent: agent, stream: stream, role: .client, certificate: try DTLSCertificate.generate(),
                remoteFingerprint: try DTLSCertificate.generate().fingerprint(), configuration: configuration)
        }
        await agent.close()
    }
}
