import DTLS
import Testing

@Suite("DTLS handshake over memory BIOs")
struct DTLSConnectionTests {
    /// Each certificate plays each role once.
    static let roleAssignments: [(String, String)] = [("A", "B"), ("B", "A")]
    static func certificate(_ name: String) -> DTLSCertificate { name == "A" ? certificateA : certificateB }

    @Test("handshake completes, profile and keys agree", arguments: roleAssignments, DTLSSRTPProfile.allCases)
    func handshake(assignment: (String, String), profile: DTLSSRTPProfile) throws {
        let link = try makeLink(
            clientCertificate: Self.certificate(assignment.0), serverCertificate: Self.certificate(assignment.1),
            serverProfiles: [profile])
        try link.start()

        #expect(link.client.state == .connected)
        #expect(link.server.state == .connected)
        #expect(link.clientEvents.filter { $0 == .handshakeCompleted }.count == 1)
        #expect(link.serverEvents.filter { $0 == .handshakeCompleted }.count == 1)
        #expect(link.client.selectedSRTPProfile == profile)
        #expect(link.server.selectedSRTPProfile == profile)
        #expect(link.client.peerCertificateFingerprint() == Self.certificate(assignment.1).fingerprint())
        #expect(link.server.peerCertificateFingerprint() == Self.certificate(assignment.0).fingerprint())

        let clientKeys = try link.client.exportSRTPKeyingMaterial()
        let serverKeys = try link.server.exportSRTPKeyingMaterial()
        #expect(clientKeys.profile == profile)
        #expect(clientKeys.clientKey.count == profile.keyLength)
        #expect(clientKeys.clientSalt.count == profile.saltLength)
        #expect(clientKeys.clientKey == serverKeys.clientKey)
        #expect(clientKeys.clientSalt == serverKeys.clientSalt)
        #expect(clientKeys.serverKey == serverKeys.serverKey)
        #expect(clientKeys.serverSalt == serverKeys.serverSalt)
        #expect(clientKeys.localKey == serverKeys.remoteKey)
        #expect(clientKeys.localSalt == serverKeys.remoteSalt)
        #expect(clientKeys.remoteKey == serverKeys.localKey)
        #expect(clientKeys.clientKey != clientKeys.serverKey)
        #expect(link.wire.allSatisfy { $0.count <= 1200 })
        #expect(link.client.nextTimeout == nil)
        #expect(link.server.nextTimeout == nil)
    }

    @Test("application data flows both ways, one record per message")
    func applicationData() throws {
        let link = try makeLink()
        try link.start()
        let hello = Array("hello from the client".utf8)
        let large = (0..<1000).map { UInt8($0 % 251) }
        try link.shuttle(try link.client.send(hello), to: .server)
        try link.shuttle(try link.client.send(large), to: .server)
        try link.shuttle(try link.server.send(Array("and back".utf8)), to: .client)
        #expect(link.serverReceived == [hello, large])
        #expect(link.clientReceived == [Array("and back".utf8)])
    }

    @Test("a message larger than one record under the MTU is refused")
    func tooLarge() throws {
        let link = try makeLink()
        try link.start()
        let limit = link.client.maximumApplicationDataSize
        #expect(limit > 1000 && limit < 1200)
        #expect(throws: DTLSError.applicationDataTooLarge(size: limit + 1, limit: limit)) {
            _ = try link.client.send([UInt8](repeating: 7, count: limit + 1))
        }
        let datagrams = try link.client.send([UInt8](repeating: 7, count: limit))
        #expect(datagrams.count == 1)
        #expect(datagrams[0].count <= 1200)
    }

    @Test("sending before the handshake is refused")
    func notConnected() throws {
        let link = try makeLink()
        #expect(throws: DTLSError.notConnected) { _ = try link.client.send([1, 2, 3]) }
        #expect(throws: DTLSError.notConnected) { _ = try link.client.exportSRTPKeyingMaterial() }
        #expect(throws: DTLSError.notStarted) { _ = try link.client.receive([22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], now: .now) }
    }

    @Test("wrong fingerprint fails on the checking side with fingerprintMismatch", arguments: [DTLSRole.client, .server])
    func wrongFingerprint(checker: DTLSRole) throws {
        let stranger = try DTLSCertificate.generate()
        let client = try DTLSConnection(
            role: .client, certificate: certificateA,
            remoteFingerprint: checker == .client ? stranger.fingerprint() : certificateB.fingerprint())
        let server = try DTLSConnection(
            role: .server, certificate: certificateB,
            remoteFingerprint: checker == .server ? stranger.fingerprint() : certificateA.fingerprint())
        let link = Link(client: client, server: server)

        var caught: DTLSError?
        do { try link.start() } catch let error as DTLSError { caught = error }
        let expected = DTLSError.fingerprintMismatch(
            expected: stranger.fingerprint(),
            actual: (checker == .client ? certificateB : certificateA).fingerprint())
        #expect(caught == expected)
        let checking = link.connection(checker)
        #expect(checking.state == .failed(expected))
        #expect(!link.clientEvents.contains(.handshakeCompleted) || checker == .server)
        #expect(throws: DTLSError.notConnected) { _ = try checking.exportSRTPKeyingMaterial() }

        // The alert OpenSSL queued reaches the other side, which fails too instead of hanging.
        let alert = checking.close()
        #expect(!alert.isEmpty)
        let other = link.connection(checker == .client ? .server : .client)
        #expect(throws: DTLSError.self) {
            for datagram in alert { _ = try other.receive(datagram, now: .now) }
        }
        #expect(other.state != .connected)
    }

    @Test("fingerprint signalled after the handshake: completion waits for it, data is held back")
    func lateFingerprint() throws {
        let link = try makeLink(serverKnowsClient: false)
        try link.start()
        #expect(link.client.state == .connected)
        #expect(link.server.state == .awaitingRemoteFingerprint)
        #expect(!link.serverEvents.contains(.handshakeCompleted))
        #expect(throws: DTLSError.notConnected) { _ = try link.server.exportSRTPKeyingMaterial() }

        let early = Array("early media key".utf8)
        try link.shuttle(try link.client.send(early), to: .server)
        #expect(link.serverReceived.isEmpty)

        let output = try link.server.setRemoteFingerprint(certificateA.fingerprint())
        #expect(output.events == [.handshakeCompleted])
        #expect(output.applicationData == [early])
        #expect(link.server.state == .connected)
        #expect(try link.server.exportSRTPKeyingMaterial().remoteKey == (try link.client.exportSRTPKeyingMaterial()).localKey)
    }

    @Test("fingerprint signalled after the handshake that does not match ends the connection")
    func lateWrongFingerprint() throws {
        let link = try makeLink(serverKnowsClient: false)
        try link.start()
        let wrong = certificateB.fingerprint()
        #expect(throws: DTLSError.fingerprintMismatch(expected: wrong, actual: certificateA.fingerprint())) {
            _ = try link.server.setRemoteFingerprint(wrong)
        }
        let closeNotify = link.server.close()
        #expect(!closeNotify.isEmpty)
        try link.shuttle(closeNotify, to: .client)
        #expect(link.clientEvents.contains(.closedByPeer))
        #expect(link.client.state == .closed)
    }

    @Test("lost first flight is retransmitted after the timer and the handshake completes")
    func lostClientHello() async throws {
        let link = try makeLink(initialRetransmissionTimeout: .milliseconds(100))
        var dropped = 0
        link.deliver = { _, to in
            if to == .server, dropped == 0 { dropped += 1; return false }
            return true
        }
        let startedAt = ContinuousClock.now
        try link.start()
        #expect(dropped == 1)
        #expect(link.server.state == .idle)
        let deadline = try #require(link.client.nextTimeout)
        #expect(deadline > startedAt)
        #expect(deadline <= startedAt + .seconds(1))

        // Before the deadline nothing is resent.
        #expect(try link.client.handleTimeout(now: startedAt).isEmpty)

        try await Task.sleep(until: deadline + .milliseconds(20), clock: .continuous)
        let resent = try link.client.handleTimeout(now: .now)
        #expect(!resent.isEmpty)
        try link.shuttle(resent, to: .server)
        #expect(link.client.state == .connected)
        #expect(link.server.state == .connected)
        #expect(link.client.nextTimeout == nil)
    }

    enum Loss: String, CaseIterable, Sendable {
        /// The server's whole first flight (ServerHello … ServerHelloDone): the client's timer resends the
        /// ClientHello and the server answers by resending its flight.
        case serverFirstFlight
        /// The server's final flight (ChangeCipherSpec, Finished) after it considers itself connected: only
        /// the client's retransmission can bring it back (RFC 6347 §4.2.4), with fresh record numbers.
        case serverFinalFlight
    }

    @Test("lost later flights are recovered by retransmission", arguments: Loss.allCases)
    func lostLaterFlight(loss: Loss) async throws {
        let link = try makeLink(initialRetransmissionTimeout: .milliseconds(100))
        // Until the first timer fires, the chosen flight is lost on its way to the client.
        var dropping = true
        link.deliver = { datagram, to in
            guard dropping, to == .client else { return true }
            switch loss {
            case .serverFirstFlight: return false
            case .serverFinalFlight: return datagram.first != 20  // the final flight starts with ChangeCipherSpec
            }
        }
        try link.start()
        #expect(link.client.state == .handshaking)
        if loss == .serverFinalFlight { #expect(link.server.state == .connected) }

        let end = ContinuousClock.now + .seconds(5)
        while link.client.state != .connected, ContinuousClock.now < end {
            let next = try #require([link.client.nextTimeout, link.server.nextTimeout].compactMap { $0 }.min())
            try await Task.sleep(until: next + .milliseconds(5), clock: .continuous)
            dropping = false
            for role in [DTLSRole.client, .server] {
                try link.shuttle(try link.connection(role).handleTimeout(now: .now), to: role == .client ? .server : .client)
            }
        }
        #expect(link.client.state == .connected)
        #expect(link.server.state == .connected)
        #expect(try link.client.exportSRTPKeyingMaterial().localKey == (try link.server.exportSRTPKeyingMaterial()).remoteKey)
    }

    @Test("a small MTU splits flights into more datagrams, each within it", arguments: [300, 500])
    func smallMTU(mtu: Int) throws {
        let link = try makeLink(mtu: mtu)
        try link.start()
        #expect(link.client.state == .connected)
        #expect(link.server.state == .connected)
        #expect(link.wire.allSatisfy { $0.count <= mtu })
        // The server's first flight (hello, certificate, key exchange, request, done) is larger than 500 bytes.
        let serverFlight = link.serverOutputs.first?.datagrams ?? []
        #expect(serverFlight.count >= 2)
        #expect(serverFlight.reduce(0) { $0 + $1.count } > mtu)
    }

    @Test("an MTU below what DTLS can fragment into is refused")
    func tinyMTU() {
        #expect(throws: DTLSError.invalidMTU(100)) {
            _ = try DTLSConnection(role: .client, certificate: certificateA, mtu: 100)
        }
    }

    static let garbage: [[UInt8]] = [
        [],
        [0x00, 0x01, 0x00, 0x00],  // STUN
        [0x80, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0],  // RTP
        [22, 0xFE, 0xFD, 0, 0],  // truncated header
        [22, 0x03, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],  // TLS, not DTLS, version
        [22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x00, 1, 2, 3],  // length beyond the datagram
        [99, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],  // unknown content type
    ]

    @Test("garbage datagrams throw malformedDatagram and leave the connection usable", arguments: garbage)
    func garbageDatagram(datagram: [UInt8]) throws {
        let link = try makeLink()
        let hello = try link.client.start(now: .now)
        #expect(throws: DTLSError.self) { _ = try link.server.receive(datagram, now: .now) }
        do {
            _ = try link.server.receive(datagram, now: .now)
        } catch let error as DTLSError {
            guard case .malformedDatagram = error else {
                Issue.record("expected malformedDatagram, got \(error)")
                return
            }
        }
        try link.shuttle(hello, to: .server)
        #expect(link.server.state == .connected)
        #expect(throws: DTLSError.self) { _ = try link.client.receive(datagram, now: .now) }
        #expect(link.client.state == .connected)
    }

    @Test("well-framed records with random contents do not crash; after the handshake they are dropped")
    func randomRecords() throws {
        let link = try makeLink()
        try link.start()
        var generator = SystemRandomNumberGenerator()
        for contentType: UInt8 in [21, 22, 23] {
            let body = (0..<64).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let record: [UInt8] = [contentType, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 99, 0, 64] + body
            let output = try? link.client.receive(record, now: .now)
            #expect(output?.applicationData.isEmpty ?? true)
        }
        // A forged record fails its MAC and is discarded (RFC 6347 §4.1.2.7); the connection carries on.
        try link.shuttle(try link.server.send([42]), to: .client)
        #expect(link.clientReceived == [[42]])
    }

    @Test("close sends close_notify and the peer reports closedByPeer")
    func closeNotify() throws {
        let link = try makeLink()
        try link.start()
        let bye = link.client.close()
        #expect(!bye.isEmpty)
        #expect(link.client.state == .closed)
        try link.shuttle(bye, to: .server)
        #expect(link.serverEvents.contains(.closedByPeer))
        #expect(link.server.state == .closed)
        #expect(throws: DTLSError.closed) { _ = try link.server.send([1]) }
    }

    @Test("no common SRTP profile: plain DTLS completes, key export says why it cannot")
    func noCommonProfile() throws {
        let link = try makeLink(clientProfiles: [.aesCM128HmacSHA1_80], serverProfiles: [])
        try link.start()
        #expect(link.client.state == .connected)
        #expect(link.client.selectedSRTPProfile == nil)
        #expect(throws: DTLSError.noSRTPProfileNegotiated) { _ = try link.client.exportSRTPKeyingMaterial() }
    }
}
