internal import COpenSSL
public import Hashes

/// One ex_data slot per process, holding the `DTLSConnection` that owns an `SSL` so that OpenSSL's verify and
/// timer callbacks (plain C functions that capture nothing) can reach it.
private let connectionSlot: Int32 = sj_SSL_get_ex_new_index()

/// A DTLS 1.2 endpoint (RFC 6347) for DTLS-SRTP (RFC 5763, RFC 5764), with no sockets and no clock of its own.
///
/// OpenSSL runs over two memory BIOs: datagrams the caller received go in through `receive`, datagrams to send
/// come out of every call, split on record boundaries so that none exceeds the path MTU. The caller drives
/// retransmission: after each call, `nextTimeout` tells when to call `handleTimeout`.
///
/// Time is a `ContinuousClock.Instant` passed in by the caller and is only used to express `nextTimeout`.
/// OpenSSL 3.0 keeps its own retransmission timer on the system clock (it reads `gettimeofday` internally and
/// offers no way to inject time); `handleTimeout` retransmits only once that timer has really expired, and
/// reschedules otherwise. So callers must pass the real `ContinuousClock.now`, and a test that loses a flight
/// waits for the (configurable) retransmission timeout rather than advancing a fake clock.
///
/// ```
///  idle --start()--> handshaking --handshake done, fingerprint matches--> connected --close()/close_notify--> closed
///                        |       \--handshake done, no fingerprint yet--> awaitingRemoteFingerprint
///                        |                  setRemoteFingerprint(matching) --> connected
///                        +--error, mismatch, timeout--> failed   (close() then yields any alert OpenSSL queued)
/// ```
///
/// Owned by one task: not `Sendable`. Frees its `SSL`, `SSL_CTX` and BIOs in `deinit`.
public final class DTLSConnection {
    public enum State: Sendable, Hashable {
        case idle
        case handshaking
        /// The handshake completed but the peer's fingerprint has not been signalled yet (some peers send DTLS
        /// before their session-accept arrives). Application data received meanwhile is held back.
        case awaitingRemoteFingerprint
        case connected
        case closed
        case failed(DTLSError)
    }

    public let role: DTLSRole
    /// The largest datagram this connection emits.
    public private(set) var mtu: Int
    public private(set) var state: State = .idle
    /// When to call `handleTimeout`, or nil when no retransmission timer runs.
    public private(set) var nextTimeout: ContinuousClock.Instant?
    /// The fingerprint the peer's certificate must match (RFC 5763 §5).
    public private(set) var remoteFingerprint: DTLSFingerprint?
    /// The profile the `use_srtp` extension settled on, once connected (RFC 5764 §4.1.1).
    public private(set) var selectedSRTPProfile: DTLSSRTPProfile?
    /// The peer's certificate in DER, once the handshake completed.
    public private(set) var peerCertificateDER: [UInt8]?

    private let context: OpaquePointer  // SSL_CTX *
    private let ssl: OpaquePointer  // SSL *, owns both BIOs
    private let incoming: OpaquePointer  // BIO * (memory), datagrams received
    private let outgoing: OpaquePointer  // BIO * (memory), records to send
    private let initialTimeoutMicroseconds: UInt32
    /// Set by the verify callback when the peer's certificate does not match, so the failure is reported as a
    /// mismatch rather than as OpenSSL's generic "certificate verify failed".
    private var verificationFailure: DTLSError?
    /// Application data received while awaiting the remote fingerprint.
    private var heldApplicationData: [[UInt8]] = []
    private var readBuffer = [UInt8](repeating: 0, count: 16_384 + 2_048)

    /// Records held back while awaiting the fingerprint (DTLS is lossy anyway; this bounds memory).
    private static let heldRecordLimit = 64
    /// RFC 6347 §4.2.4.1: double the timer on each retransmission, up to 60 s.
    private static let maximumTimeoutMicroseconds: UInt32 = 60_000_000

    /// Creates an endpoint.
    /// - Parameters:
    ///   - role: client sends the ClientHello; server answers.
    ///   - certificate: our certificate, whose fingerprint we signal.
    ///   - remoteFingerprint: the peer's, if already signalled; else supply it with `setRemoteFingerprint`.
    ///   - srtpProfiles: offered (client) or accepted (server) `use_srtp` profiles in preference order; empty
    ///     for plain DTLS.
    ///   - mtu: the largest datagram to emit; at least 256.
    ///   - initialRetransmissionTimeout: the first flight retransmission timer (RFC 6347 §4.2.4.1: 1 s).
    public init(
        role: DTLSRole,
        certificate: DTLSCertificate,
        remoteFingerprint: DTLSFingerprint? = nil,
        srtpProfiles: [DTLSSRTPProfile] = [.aeadAES128GCM, .aesCM128HmacSHA1_80],
        mtu: Int = 1200,
        initialRetransmissionTimeout: Duration = .seconds(1)
    ) throws {
        guard mtu >= 256, mtu <= 65_507 else { throw DTLSError.invalidMTU(mtu) }
        if let remoteFingerprint, remoteFingerprint.hashAlgorithm == nil {
            throw DTLSError.unsupportedFingerprintAlgorithm(remoteFingerprint.algorithm)
        }
        let (seconds, attoseconds) = initialRetransmissionTimeout.components
        let micros = max(1_000, min(Int64(Self.maximumTimeoutMicroseconds), seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
        let parts = try Self.makeSSL(role: role, certificate: certificate, srtpProfiles: srtpProfiles, mtu: mtu)
        self.role = role
        self.mtu = mtu
        self.remoteFingerprint = remoteFingerprint
        self.context = parts.context
        self.ssl = parts.ssl
        self.incoming = parts.incoming
        self.outgoing = parts.outgoing
        self.initialTimeoutMicroseconds = UInt32(micros)
        // Unretained: the SSL is freed in our deinit, so it never outlives us.
        SSL_set_ex_data(ssl, connectionSlot, Unmanaged.passUnretained(self).toOpaque())
        DTLS_set_timer_cb(ssl) { ssl, previous in DTLSConnection.timerDuration(ssl: ssl, previous: previous) }
    }

    deinit {
        SSL_free(ssl)  // frees both BIOs too
        SSL_CTX_free(context)
    }

    private static func makeSSL(role: DTLSRole, certificate: DTLSCertificate, srtpProfiles: [DTLSSRTPProfile], mtu: Int) throws
        -> (context: OpaquePointer, ssl: OpaquePointer, incoming: OpaquePointer, outgoing: OpaquePointer)
    {
        OpenSSLErrorQueue.clear()
        guard let context = SSL_CTX_new(DTLS_method()) else {
            throw DTLSError.openSSL(operation: "SSL_CTX_new", reason: OpenSSLErrorQueue.drain())
        }
        func fail(_ operation: String) -> DTLSError {
            let error = DTLSError.openSSL(operation: operation, reason: OpenSSLErrorQueue.drain())
            SSL_CTX_free(context)
            return error
        }
        // RFC 8827 §6.5 requires DTLS 1.2 or later; OpenSSL 3.0 has no DTLS 1.3.
        guard sj_SSL_CTX_set_min_proto_version(context, DTLS1_2_VERSION) == 1,
              sj_SSL_CTX_set_max_proto_version(context, DTLS1_2_VERSION) == 1
        else { throw fail("SSL_CTX_set_min/max_proto_version") }
        guard SSL_CTX_use_certificate(context, certificate.certificate) == 1,
              SSL_CTX_use_PrivateKey(context, certificate.privateKey) == 1,
              SSL_CTX_check_private_key(context) == 1
        else { throw fail("SSL_CTX_use_certificate") }
        // Forward-secret AEAD suites first; RFC 8827 §6.5 makes ECDHE-ECDSA-AES128-GCM-SHA256 mandatory.
        // The RSA and CBC suites let us talk to peers with older RSA certificates.
        let ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
            + "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"
            + "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA"
        guard SSL_CTX_set_cipher_list(context, ciphers) == 1 else { throw fail("SSL_CTX_set_cipher_list") }
        guard sj_SSL_CTX_set1_groups_list(context, "X25519:P-256:P-384") == 1 else { throw fail("SSL_CTX_set1_groups_list") }
        // No MTU discovery through the BIO (there is no socket to ask); no tickets or renegotiation, which
        // DTLS-SRTP never uses.
        _ = sj_SSL_CTX_set_options(
            context, sj_SSL_OP_NO_QUERY_MTU | sj_SSL_OP_NO_TICKET | sj_SSL_OP_NO_COMPRESSION | sj_SSL_OP_NO_RENEGOTIATION)
        // Both sides present a certificate (RFC 5763 §5); it is self-signed, so the chain is not judged, only
        // its fingerprint.
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT) { preverified, store in
            DTLSConnection.verify(preverified: preverified, store: store)
        }
        if !srtpProfiles.isEmpty {
            var seen = Set<DTLSSRTPProfile>()
            let list = srtpProfiles.filter { seen.insert($0).inserted }.map(\.rawValue).joined(separator: ":")
            // Returns 0 on success, unlike most of OpenSSL.
            guard SSL_CTX_set_tlsext_use_srtp(context, list) == 0 else { throw fail("SSL_CTX_set_tlsext_use_srtp") }
        }
        guard let ssl = SSL_new(context) else { throw fail("SSL_new") }
        guard let incoming = BIO_new(BIO_s_mem()), let outgoing = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw fail("BIO_new")
        }
        // An empty memory BIO means "no datagram yet", not end of file.
        _ = sj_BIO_set_mem_eof_return(incoming, -1)
        _ = sj_BIO_set_mem_eof_return(outgoing, -1)
        SSL_set_bio(ssl, incoming, outgoing)
        switch role {
        case .client: SSL_set_connect_state(ssl)
        case .server: SSL_set_accept_state(ssl)
        }
        guard sj_DTLS_set_link_mtu(ssl, mtu) == 1 else {
            SSL_free(ssl)
            throw fail("DTLS_set_link_mtu")
        }
        return (context, ssl, incoming, outgoing)
    }

    // MARK: - Driving the handshake

    /// Starts the handshake: a client returns its ClientHello, a server returns nothing and waits.
    public func start(now: ContinuousClock.Instant) throws -> [[UInt8]] {
        switch state {
        case .idle:
            state = .handshaking
        case .handshaking, .awaitingRemoteFingerprint, .connected:
            return []
        case .closed, .failed:
            throw DTLSError.closed
        }
        var output = DTLSOutput()
        try advanceHandshake(into: &output, now: now)
        return output.datagrams
    }

    /// Feeds one received datagram (RFC 7983 says which datagrams are DTLS; see `DatagramDemultiplexer`).
    /// A server that has not been started starts now. A datagram that is not DTLS records throws
    /// `malformedDatagram` and leaves the connection as it was. After `close()` or a failure, datagrams are ignored.
    public func receive(_ datagram: [UInt8], now: ContinuousClock.Instant) throws -> DTLSOutput {
        switch state {
        case .idle:
            guard role == .server else { throw DTLSError.notStarted }
            state = .handshaking
        case .handshaking, .awaitingRemoteFingerprint, .connected:
            break
        case .closed, .failed:
            // Datagrams still in flight when we closed or failed (the peer's close_notify answer, its
            // retransmissions) are expected; the ending was already reported, so they are ignored.
            return DTLSOutput()
        }
        try Self.validateRecords(datagram)
        if state == .handshaking { try Self.screenHandshakeRecords(datagram) }
        OpenSSLErrorQueue.clear()
        let written = datagram.withUnsafeBytes { BIO_write(incoming, $0.baseAddress, Int32($0.count)) }
        guard written == Int32(datagram.count) else {
            throw fail(.openSSL(operation: "BIO_write", reason: OpenSSLErrorQueue.drain()))
        }
        var output = DTLSOutput()
        if state == .handshaking {
            try advanceHandshake(into: &output, now: now)
        }
        if state == .connected || state == .awaitingRemoteFingerprint {
            try readApplicationData(into: &output)
        }
        output.datagrams += drainOutgoing()
        updateTimeout(now: now)
        return output
    }

    /// Call when `now` has reached `nextTimeout`: retransmits the last flight (RFC 6347 §4.2.4).
    public func handleTimeout(now: ContinuousClock.Instant) throws -> [[UInt8]] {
        guard let deadline = nextTimeout, now >= deadline else { return [] }
        switch state {
        case .handshaking, .awaitingRemoteFingerprint, .connected:
            break
        case .idle, .closed, .failed:
            nextTimeout = nil
            return []
        }
        OpenSSLErrorQueue.clear()
        if sj_DTLSv1_handle_timeout(ssl) < 0 {
            OpenSSLErrorQueue.clear()
            throw fail(.handshakeTimedOut)
        }
        let datagrams = drainOutgoing()
        updateTimeout(now: now)
        return datagrams
    }

    /// Supplies the peer's fingerprint after `init`. Before the handshake completes it is only stored; when the
    /// handshake is waiting for it, the check happens now and a match yields `.handshakeCompleted` (plus any
    /// application data held back). A mismatch throws `fingerprintMismatch` and ends the connection; `close()`
    /// then returns the close_notify to send.
    public func setRemoteFingerprint(_ fingerprint: DTLSFingerprint) throws -> DTLSOutput {
        guard fingerprint.hashAlgorithm != nil else {
            throw DTLSError.unsupportedFingerprintAlgorithm(fingerprint.algorithm)
        }
        switch state {
        case .idle, .handshaking:
            remoteFingerprint = fingerprint
            return DTLSOutput()
        case .awaitingRemoteFingerprint, .connected:
            remoteFingerprint = fingerprint
            var output = DTLSOutput()
            try checkPeerFingerprint(into: &output)
            return output
        case .closed, .failed:
            throw DTLSError.closed
        }
    }

    /// Encrypts one message as one DTLS record. DTLS keeps message boundaries, so a message larger than
    /// `maximumApplicationDataSize` is refused rather than split.
    public func send(_ applicationData: [UInt8]) throws -> [[UInt8]] {
        guard state == .connected else {
            if case .closed = state { throw DTLSError.closed }
            if case .failed = state { throw DTLSError.closed }
            throw DTLSError.notConnected
        }
        guard !applicationData.isEmpty else { return [] }
        let limit = maximumApplicationDataSize
        guard applicationData.count <= limit else {
            throw DTLSError.applicationDataTooLarge(size: applicationData.count, limit: limit)
        }
        OpenSSLErrorQueue.clear()
        let written = applicationData.withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32($0.count)) }
        guard written == Int32(applicationData.count) else {
            throw fail(.protocolError(OpenSSLErrorQueue.drain()))
        }
        return drainOutgoing()
    }

    /// Sends close_notify (RFC 5246 §7.2.1) and ends the connection. After a failure it returns whatever alert
    /// OpenSSL queued (for example bad_certificate), so the peer learns why.
    public func close() -> [[UInt8]] {
        switch state {
        case .handshaking, .awaitingRemoteFingerprint, .connected:
            OpenSSLErrorQueue.clear()
            _ = SSL_shutdown(ssl)  // 0: our close_notify is out, the peer's not yet in; fine for datagrams
            OpenSSLErrorQueue.clear()
            state = .closed
        case .idle:
            state = .closed
        case .closed, .failed:
            break
        }
        nextTimeout = nil
        return drainOutgoing()
    }

    /// Changes the largest datagram, for a layer above that discovers the path MTU itself (RFC 8899, DPLPMTUD):
    /// handshake flights keep the MTU they started with; application data records may fill the new one.
    public func setLinkMTU(_ newMTU: Int) throws {
        guard newMTU >= 256, newMTU <= 65_507 else { throw DTLSError.invalidMTU(newMTU) }
        // After the handshake OpenSSL no longer derives the record MTU from the link MTU: set both (with
        // memory BIOs there is no transport overhead between them).
        guard sj_DTLS_set_link_mtu(ssl, newMTU) == 1, sj_SSL_set_mtu(ssl, newMTU) != 0 else {
            throw DTLSError.invalidMTU(newMTU)
        }
        mtu = newMTU
    }

    /// The largest message `send` accepts: what fits one record in one datagram under the MTU with the
    /// negotiated cipher's overhead. Zero before the handshake has chosen a cipher.
    public var maximumApplicationDataSize: Int {
        Int(DTLS_get_data_mtu(ssl))
    }

    /// The fingerprint of the peer's certificate with `algorithm`, once the handshake completed.
    public func peerCertificateFingerprint(_ algorithm: HashAlgorithm = .sha256) -> DTLSFingerprint? {
        peerCertificateDER.map { DTLSFingerprint(algorithm: algorithm, bytes: Digest.hash(algorithm, $0)) }
    }

    /// Exports `length` bytes of keying material under `label` (RFC 5705 §4, no context), once connected. Labels
    /// beginning with "EXPORTER" are for private use without registration (RFC 5705 §4).
    public func exportKeyingMaterial(label: String, length: Int) throws -> [UInt8] {
        guard state == .connected else { throw DTLSError.notConnected }
        var exported = [UInt8](repeating: 0, count: length)
        OpenSSLErrorQueue.clear()
        let result = exported.withUnsafeMutableBufferPointer { out in
            label.withCString { SSL_export_keying_material(ssl, out.baseAddress, length, $0, label.utf8.count, nil, 0, 0) }
        }
        guard result == 1 else {
            throw DTLSError.openSSL(operation: "SSL_export_keying_material", reason: OpenSSLErrorQueue.drain())
        }
        return exported
    }

    /// Exports the SRTP master keys and salts (RFC 5764 §4.2) with the `EXTRACTOR-dtls_srtp` label
    /// (RFC 5705 §4). Only once connected and a profile was negotiated.
    public func exportSRTPKeyingMaterial() throws -> DTLSSRTPKeyingMaterial {
        guard state == .connected else { throw DTLSError.notConnected }
        guard let profile = selectedSRTPProfile else { throw DTLSError.noSRTPProfileNegotiated }
        let label = "EXTRACTOR-dtls_srtp"
        var exported = [UInt8](repeating: 0, count: 2 * (profile.keyLength + profile.saltLength))
        OpenSSLErrorQueue.clear()
        let count = exported.count
        let result = exported.withUnsafeMutableBufferPointer { out in
            label.withCString { SSL_export_keying_material(ssl, out.baseAddress, count, $0, label.utf8.count, nil, 0, 0) }
        }
        guard result == 1 else {
            throw DTLSError.openSSL(operation: "SSL_export_keying_material", reason: OpenSSLErrorQueue.drain())
        }
        return DTLSSRTPKeyingMaterial(profile: profile, role: role, exported: exported)
    }

    // MARK: - Internals

    private func fail(_ error: DTLSError) -> DTLSError {
        state = .failed(error)
        nextTimeout = nil
        heldApplicationData.removeAll()
        return error
    }

    private func advanceHandshake(into output: inout DTLSOutput, now: ContinuousClock.Instant) throws {
        OpenSSLErrorQueue.clear()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            try completeHandshake(into: &output)
        } else {
            let code = SSL_get_error(ssl, result)
            switch code {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                break
            default:
                let reason = OpenSSLErrorQueue.drain()
                if let mismatch = verificationFailure {
                    throw fail(mismatch)
                }
                throw fail(.handshakeFailed(reason))
            }
        }
        output.datagrams += drainOutgoing()
        updateTimeout(now: now)
    }

    private func completeHandshake(into output: inout DTLSOutput) throws {
        guard let peer = SSL_get1_peer_certificate(ssl) else {
            _ = SSL_shutdown(ssl)
            throw fail(.missingPeerCertificate)
        }
        peerCertificateDER = DTLSCertificate.derEncoding(of: peer)
        X509_free(peer)
        if let profile = SSL_get_selected_srtp_profile(ssl) {
            selectedSRTPProfile = DTLSSRTPProfile(protectionProfileID: profile.pointee.id)
        }
        state = .awaitingRemoteFingerprint
        if remoteFingerprint != nil {
            try checkPeerFingerprint(into: &output)
        }
    }

    /// RFC 5763 §5: the certificate presented in the handshake must match the signalled fingerprint, or the
    /// connection is torn down.
    private func checkPeerFingerprint(into output: inout DTLSOutput) throws {
        guard let expected = remoteFingerprint, let der = peerCertificateDER else { return }
        guard let algorithm = expected.hashAlgorithm else {
            throw DTLSError.unsupportedFingerprintAlgorithm(expected.algorithm)
        }
        let actual = DTLSFingerprint(algorithm: algorithm, bytes: Digest.hash(algorithm, der))
        guard actual == expected else {
            OpenSSLErrorQueue.clear()
            _ = SSL_shutdown(ssl)  // close_notify, left queued for close()
            OpenSSLErrorQueue.clear()
            throw fail(.fingerprintMismatch(expected: expected, actual: actual))
        }
        if state == .awaitingRemoteFingerprint {
            state = .connected
            output.events.append(.handshakeCompleted)
            output.applicationData += heldApplicationData
            heldApplicationData.removeAll()
        }
    }

    private func readApplicationData(into output: inout DTLSOutput) throws {
        let capacity = Int32(readBuffer.count)
        while true {
            OpenSSLErrorQueue.clear()
            let count = readBuffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, capacity) }
            if count > 0 {
                let record = Array(readBuffer[0..<Int(count)])
                if state == .connected {
                    output.applicationData.append(record)
                } else if heldApplicationData.count < Self.heldRecordLimit {
                    heldApplicationData.append(record)
                }
                continue
            }
            switch SSL_get_error(ssl, count) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return
            case SSL_ERROR_ZERO_RETURN:
                // The peer sent close_notify; answer with ours (RFC 5246 §7.2.1).
                _ = SSL_shutdown(ssl)
                OpenSSLErrorQueue.clear()
                state = .closed
                nextTimeout = nil
                output.events.append(.closedByPeer)
                return
            default:
                throw fail(.protocolError(OpenSSLErrorQueue.drain()))
            }
        }
    }

    private func updateTimeout(now: ContinuousClock.Instant) {
        var seconds = 0
        var microseconds = 0
        switch state {
        case .handshaking, .awaitingRemoteFingerprint, .connected:
            if sj_DTLSv1_get_timeout(ssl, &seconds, &microseconds) == 1 {
                nextTimeout = now + .seconds(seconds) + .microseconds(microseconds)
            } else {
                nextTimeout = nil
            }
        case .idle, .closed, .failed:
            nextTimeout = nil
        }
    }

    /// Takes everything OpenSSL wrote and packs it into datagrams no larger than the MTU.
    private func drainOutgoing() -> [[UInt8]] {
        var pointer: UnsafeMutablePointer<CChar>?
        let length = sj_BIO_get_mem_data(outgoing, &pointer)
        guard length > 0, let pointer else { return [] }
        let datagrams = DTLSRecordPacker.pack(UnsafeRawBufferPointer(start: pointer, count: length), mtu: mtu)
        _ = sj_BIO_reset(outgoing)
        return datagrams
    }

    /// Checks that a datagram is a sequence of whole DTLS records (RFC 6347 §4.1) before OpenSSL sees it,
    /// because OpenSSL silently drops what it cannot parse and the caller should learn about garbage.
    static func validateRecords(_ datagram: [UInt8]) throws {
        guard !datagram.isEmpty else { throw DTLSError.malformedDatagram("empty datagram") }
        var offset = 0
        while offset < datagram.count {
            guard datagram.count - offset >= DTLSRecordPacker.headerLength else {
                throw DTLSError.malformedDatagram("truncated record header at byte \(offset)")
            }
            let contentType = datagram[offset]
            // change_cipher_spec(20), alert(21), handshake(22), application_data(23), heartbeat(24), tls12_cid(25)
            guard (20...25).contains(contentType) else {
                throw DTLSError.malformedDatagram("content type \(contentType) at byte \(offset)")
            }
            // DTLS versions are {254, 255} (1.0) and {254, 253} (1.2) (RFC 6347 §4.1).
            guard datagram[offset + 1] == 0xFE else {
                throw DTLSError.malformedDatagram("record version \(datagram[offset + 1]).\(datagram[offset + 2]) is not DTLS")
            }
            let length = Int(datagram[offset + 11]) << 8 | Int(datagram[offset + 12])
            guard offset + DTLSRecordPacker.headerLength + length <= datagram.count else {
                throw DTLSError.malformedDatagram("record at byte \(offset) claims \(length) bytes, datagram is shorter")
            }
            offset += DTLSRecordPacker.headerLength + length
        }
    }

    /// Refuses records that no genuine peer sends during a DTLS 1.2 handshake and that OpenSSL would act on:
    /// anyone who can spoof the peer's address could otherwise end or stall the handshake with one datagram.
    /// The handshake runs in epoch 0 and, from ChangeCipherSpec on, epoch 1 (RFC 6347 §4.1); application data
    /// is only ever sent encrypted, so never in epoch 0 (OpenSSL fails the handshake with "unexpected record"
    /// on one); a record of a later epoch cannot belong to this handshake (an invalid record SHOULD be
    /// silently discarded, §4.1.2.7: here the caller learns of it as `malformedDatagram`). What remains is
    /// inherent to DTLS 1.2: a well-formed plaintext alert or handshake message forged in epoch 0 is not
    /// authenticated before Finished and can still end the handshake.
    static func screenHandshakeRecords(_ datagram: [UInt8]) throws {
        var offset = 0
        while offset + DTLSRecordPacker.headerLength <= datagram.count {
            let contentType = datagram[offset]
            let epoch = Int(datagram[offset + 3]) << 8 | Int(datagram[offset + 4])
            guard epoch <= 1 else {
                throw DTLSError.malformedDatagram("record of epoch \(epoch) during the handshake")
            }
            let length = Int(datagram[offset + 11]) << 8 | Int(datagram[offset + 12])
            guard !(epoch == 0 && contentType == 23) else {
                throw DTLSError.malformedDatagram("unencrypted application data during the handshake")
            }
            // A plaintext alert is exactly level and description (RFC 5246 §7.2); OpenSSL fails the handshake
            // on any other length ("invalid alert").
            guard !(epoch == 0 && contentType == 21 && length != 2) else {
                throw DTLSError.malformedDatagram("alert of \(length) bytes during the handshake")
            }
            offset += DTLSRecordPacker.headerLength + length
        }
    }

    // MARK: - C callbacks

    private static func connection(for ssl: OpaquePointer?) -> DTLSConnection? {
        guard let ssl, let raw = SSL_get_ex_data(ssl, connectionSlot) else { return nil }
        return Unmanaged<DTLSConnection>.fromOpaque(raw).takeUnretainedValue()
    }

    /// OpenSSL's verify callback. The chain of a self-signed certificate never verifies, which is expected:
    /// only the leaf's fingerprint matters. When the fingerprint is already known, a mismatch fails the
    /// handshake here, so OpenSSL sends a bad_certificate alert; otherwise the check waits for the handshake
    /// to complete.
    private static func verify(preverified: Int32, store: OpaquePointer?) -> Int32 {
        guard let store,
              let sslPointer = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()),
              let connection = connection(for: OpaquePointer(sslPointer))
        else { return 0 }
        guard X509_STORE_CTX_get_error_depth(store) == 0 else { return 1 }
        guard let expected = connection.remoteFingerprint else { return 1 }
        guard let leaf = X509_STORE_CTX_get0_cert(store), let der = DTLSCertificate.derEncoding(of: leaf),
              let algorithm = expected.hashAlgorithm
        else { return 0 }
        let actual = DTLSFingerprint(algorithm: algorithm, bytes: Digest.hash(algorithm, der))
        if actual != expected {
            connection.verificationFailure = .fingerprintMismatch(expected: expected, actual: actual)
            return 0
        }
        return 1
    }

    /// OpenSSL's retransmission timer: the configured initial value, doubled on each expiry up to 60 s
    /// (RFC 6347 §4.2.4.1).
    private static func timerDuration(ssl: OpaquePointer?, previous: UInt32) -> UInt32 {
        guard let connection = connection(for: ssl) else { return 1_000_000 }
        if previous == 0 { return connection.initialTimeoutMicroseconds }
        return previous >= maximumTimeoutMicroseconds / 2 ? maximumTimeoutMicroseconds : previous * 2
    }
}

/// Packs the records OpenSSL wrote into a memory BIO into datagrams. OpenSSL sizes each handshake fragment
/// to fit the MTU but hands a whole flight out as one buffer; RFC 6347 §4.1.1 lets several records share a
/// datagram, never a record span two.
enum DTLSRecordPacker {
    /// content type (1), version (2), epoch (2), sequence number (6), length (2): RFC 6347 §4.1.
    static let headerLength = 13

    static func pack(_ bytes: UnsafeRawBufferPointer, mtu: Int) -> [[UInt8]] {
        var datagrams: [[UInt8]] = []
        var current: [UInt8] = []
        var offset = 0
        while offset < bytes.count {
            var recordLength = bytes.count - offset
            if recordLength >= headerLength {
                let declared = Int(bytes[offset + 11]) << 8 | Int(bytes[offset + 12])
                recordLength = min(headerLength + declared, recordLength)
            }
            if !current.isEmpty, current.count + recordLength > mtu {
                datagrams.append(current)
                current = []
            }
            current.append(contentsOf: bytes[offset..<offset + recordLength])
            offset += recordLength
        }
        if !current.isEmpty { datagrams.append(current) }
        return datagrams
    }
}
