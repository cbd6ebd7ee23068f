public import DTLS
public import ICE

/// DTLS over one ICE component (RFC 5764 §4, RFC 8842): the handshake in the role that the signalled
/// `a=setup` gave us (`active` = client, RFC 4145 §4, RFC 8842 §5), the peer's certificate checked against
/// the fingerprint signalled out of band (RFC 8122 §5), then application data records both ways.
///
/// Incoming datagrams are sorted by their first byte (RFC 7983 §7): STUN never reaches us (libnice answers
/// it itself), DTLS records go to the `DTLSConnection`, RTP/RTCP go to the media handler untouched (a call
/// protects them with SRTP keys from `exportSRTPKeyingMaterial`), anything else is dropped.
///
/// Threading: ICE calls the receive path on its GLib thread; `send` may be called from any thread. One lock
/// guards the `DTLSConnection`; it is never held while a handler runs, so a handler may call `send`.
///
/// The transport installs the agent's receive handler (`ICEAgent.setReceiveHandler` is one per agent), so
/// one agent carries one `DTLSTransport`, on the stream and component given.
public final class DTLSTransport: @unchecked Sendable {
    /// Application data records as received, in order, one element per DTLS record (so one per datagram
    /// the peer's upper layer sent).
    public typealias RecordHandler = @Sendable (_ records: [[UInt8]]) -> Void
    /// Datagrams whose first byte is in 80…127 (the range RFC 9443 §5 gives QUIC): packets a layer above
    /// protects itself with keys from `exportKeyingMaterial` (`SecureStream`'s PeerStream packets), in order.
    public typealias PacketHandler = @Sendable (_ packets: [[UInt8]]) -> Void
    /// An RTP or RTCP datagram (RFC 7983 first byte 128…191); the buffer is valid during the call only.
    public typealias MediaHandler = @Sendable (_ datagram: UnsafeRawBufferPointer) -> Void
    /// The transport ended: peer close_notify (`closedByPeer`) or a fatal error. Called once, not after `close()`.
    public typealias TerminationHandler = @Sendable (_ reason: SecureTransportError) -> Void

    public let agent: ICEAgent
    public let stream: ICEStreamID
    public let component: Int
    public let role: DTLSRole
    public let configuration: DTLSTransportConfiguration

    private let lock = PosixLock()
    // Guarded by `lock`.
    private let dtls: DTLSConnection
    private var handshakeDone = false
    private var failure: SecureTransportError?
    private var handshakeWaiter: CheckedContinuation<Void, any Error>?
    private var recordHandler: RecordHandler?
    private var packetHandler: PacketHandler?
    /// Protected packets of the current burst (delivered at the flush, as records) and those that arrived
    /// before a packet handler was installed (the peer may finish its handshake and send first).
    private var pendingPackets: [[UInt8]] = []
    private var earlyPackets: [[UInt8]] = []
    private var mediaHandler: MediaHandler?
    private var terminationHandler: TerminationHandler?
    /// Records that arrived after the handshake but before a record handler was installed.
    private var earlyRecords: [[UInt8]] = []
    /// Records of the current burst of datagrams, handed over together at the agent's flush (so the layer
    /// above answers a burst with one batch of records: one ACK, one sendmmsg).
    private var pendingRecords: [[UInt8]] = []
    private static let pendingRecordLimit = 128
    private var generator: SplitMix64
    private var counters = DTLSTransportStatistics()
    private let timer: DeadlineTimer
    private static let earlyRecordLimit = 4096

    /// Runs the handshake over an ICE component that is connected (or about to be: flights that cannot be
    /// sent yet are retransmitted), and returns once the peer's certificate matched `remoteFingerprint`.
    /// Throws `fingerprintMismatch` (both sides then end: the peer gets a bad_certificate alert and throws
    /// `handshakeFailed`), `handshakeFailed`, or `handshakeTimedOut`.
    public static func connect(
        agent: ICEAgent, stream: ICEStreamID, component: Int = 1, role: DTLSRole,
        certificate: DTLSCertificate, remoteFingerprint: DTLSFingerprint,
        configuration: DTLSTransportConfiguration = DTLSTransportConfiguration()
    ) async throws(SecureTransportError) -> DTLSTransport {
        let transport = try DTLSTransport(
            agent: agent, stream: stream, component: component, role: role, certificate: certificate,
            remoteFingerprint: remoteFingerprint, configuration: configuration)
        do {
            try await transport.handshake()
        } catch {
            transport.close()
            throw error
        }
        return transport
    }

    private init(
        agent: ICEAgent, stream: ICEStreamID, component: Int, role: DTLSRole, certificate: DTLSCertificate,
        remoteFingerprint: DTLSFingerprint, configuration: DTLSTransportConfiguration
    ) throws(SecureTransportError) {
        guard (0...1).contains(configuration.lossInjection) else {
            throw .invalidConfiguration("lossInjection must be within 0…1")
        }
        do {
            dtls = try DTLSConnection(
                role: role, certificate: certificate, remoteFingerprint: remoteFingerprint,
                srtpProfiles: configuration.srtpProfiles, mtu: configuration.mtu,
                initialRetransmissionTimeout: configuration.initialRetransmissionTimeout)
        } catch let error as DTLSError {
            throw .dtls(error)
        } catch {
            throw .handshakeFailed("\(error)")
        }
        self.agent = agent
        self.stream = stream
        self.component = component
        self.role = role
        self.configuration = configuration
        generator = SplitMix64(seed: configuration.lossInjectionSeed)
        timer = DeadlineTimer(name: "dtls-transport-timer")
        timer.setHandler { [weak self] in self?.timerFired() }
        agent.setReceiveHandler { [weak self] stream, component, bytes in
            guard let self, stream == self.stream, component == self.component else { return }
            self.received(bytes)
        }
        agent.setReceiveFlushHandler { [weak self] in self?.flushRecords() }
    }

    deinit {
        timer.stop()
    }

    private func handshake() async throws(SecureTransportError) {
        let deadline = ContinuousClock.now + configuration.handshakeTimeout
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                lock.lock()
                if let failure {
                    lock.unlock()
                    continuation.resume(throwing: failure)
                    return
                }
                handshakeWaiter = continuation
                var datagrams: [[UInt8]] = []
                if role == .client {
                    do {
                        datagrams = try dtls.start(now: .now)
                    } catch {
                        let waiter = fail(Self.translate(error))
                        lock.unlock()
                        waiter?.resume(throwing: failure ?? .closed)
                        return
                    }
                }
                armTimer(handshakeDeadline: deadline)
                lock.unlock()
                sendRaw(datagrams)
            }
        } catch let error as SecureTransportError {
            throw error
        } catch {
            throw .handshakeFailed("\(error)")
        }
    }

    // MARK: - Public use after the handshake

    /// Encrypts one message as one DTLS record and sends it (at most `maximumApplicationDataSize` bytes).
    /// A datagram that ICE cannot send right now is counted in `sendFailures` and dropped, as the network
    /// would: the layer above retransmits.
    public func send(record: [UInt8]) throws(SecureTransportError) {
        lock.lock()
        if let failure {
            lock.unlock()
            throw failure
        }
        let datagrams: [[UInt8]]
        do {
            datagrams = try dtls.send(record)
        } catch {
            let translated = Self.translate(error)
            let handler = failAfterHandshake(translated)
            lock.unlock()
            handler?(translated)
            throw translated
        }
        var drop = false
        if configuration.lossInjection > 0 {
            drop = Double(generator.next() >> 11) * 0x1p-53 < configuration.lossInjection
            if drop { counters.datagramsDroppedByLossInjection += datagrams.count }
        }
        if !drop { counters.datagramsSent += datagrams.count }
        lock.unlock()
        if !drop { sendRaw(datagrams, counted: true) }
    }

    /// Encrypts each message as its own DTLS record (one record per datagram, as `send(record:)`) and sends
    /// them together with `ICEAgent.sendBatch` (one or a few system calls on a direct UDP pair). Records are
    /// never merged: each stays one datagram within the MTU. Returns whether the kernel refused a datagram as
    /// larger than the local interface's MTU allows (EMSGSIZE; for path MTU probes sent alone).
    @discardableResult
    public func send(records: [[UInt8]]) throws(SecureTransportError) -> Bool {
        guard !records.isEmpty else { return false }
        lock.lock()
        if let failure {
            lock.unlock()
            throw failure
        }
        var datagrams: [[UInt8]] = []
        datagrams.reserveCapacity(records.count)
        for record in records {
            let produced: [[UInt8]]
            do {
                produced = try dtls.send(record)
            } catch {
                let translated = Self.translate(error)
                let handler = failAfterHandshake(translated)
                lock.unlock()
                handler?(translated)
                throw translated
            }
            if configuration.lossInjection > 0, Double(generator.next() >> 11) * 0x1p-53 < configuration.lossInjection {
                counters.datagramsDroppedByLossInjection += produced.count
                continue
            }
            datagrams += produced
        }
        counters.datagramsSent += datagrams.count
        lock.unlock()
        return sendRaw(datagrams, counted: true)
    }

    /// Sends datagrams the caller protected itself (first byte 80…127, RFC 9443 §5), with the same loss
    /// injection and counters as records, in one `ICEAgent.sendBatch`. Returns whether the kernel refused a
    /// datagram as larger than the local interface's MTU allows (EMSGSIZE; for path MTU probes sent alone).
    @discardableResult
    public func send(packets: [[UInt8]]) throws(SecureTransportError) -> Bool {
        guard !packets.isEmpty else { return false }
        for packet in packets where !Self.isProtectedPacket(packet.first) {
            throw .invalidConfiguration("send(packets:) takes datagrams whose first byte is 80…127 (RFC 9443 §5)")
        }
        lock.lock()
        if let failure {
            lock.unlock()
            throw failure
        }
        var datagrams = packets
        if configuration.lossInjection > 0 {
            datagrams = []
            datagrams.reserveCapacity(packets.count)
            for packet in packets {
                if Double(generator.next() >> 11) * 0x1p-53 < configuration.lossInjection {
                    counters.datagramsDroppedByLossInjection += 1
                } else {
                    datagrams.append(packet)
                }
            }
        }
        counters.datagramsSent += datagrams.count
        lock.unlock()
        return sendRaw(datagrams, counted: true)
    }

    static func isProtectedPacket(_ first: UInt8?) -> Bool {
        guard let first else { return false }
        return (80...127).contains(first)
    }

    /// Keying material from the handshake under the caller's label (RFC 5705), e.g. for `PacketProtection`.
    public func exportKeyingMaterial(label: String, length: Int) throws(SecureTransportError) -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        do {
            return try dtls.exportKeyingMaterial(label: label, length: length)
        } catch {
            throw Self.translate(error)
        }
    }

    /// Installs the receiver of protected packets (first byte 80…127); those that arrived before are
    /// delivered now.
    public func setPacketHandler(_ handler: PacketHandler?) {
        lock.lock()
        packetHandler = handler
        let early = handler == nil ? [] : earlyPackets
        if handler != nil { earlyPackets = [] }
        lock.unlock()
        if let handler, !early.isEmpty { handler(early) }
    }

    /// Sends an RTP/RTCP datagram (already SRTP-protected by the caller) on the same component, unencrypted
    /// by DTLS (RFC 5764 §5.1.2).
    public func sendMedia(_ datagram: UnsafeRawBufferPointer) throws(SecureTransportError) {
        guard DatagramDemultiplexer.kind(of: datagram) == .rtp else {
            throw .invalidConfiguration("sendMedia takes RTP/RTCP datagrams (first byte 128…191, RFC 7983 §7)")
        }
        do {
            try agent.send(datagram, stream: stream, component: component)
        } catch {
            throw .ice(error)
        }
    }

    /// The largest record `send(record:)` accepts under the MTU with the negotiated cipher.
    public var maximumApplicationDataSize: Int {
        lock.withLock { dtls.maximumApplicationDataSize }
    }

    /// The largest datagram records are cut to now (`configuration.mtu` until `setLinkMTU`).
    public var linkMTU: Int {
        lock.withLock { dtls.mtu }
    }

    /// Lets application data records fill datagrams of up to `mtu` bytes, once the layer above has found
    /// that the path carries them (RFC 8899: the packetization layer above DTLS probes, DTLS only must not
    /// refuse the larger records). At most `configuration.maxMTU`.
    public func setLinkMTU(_ mtu: Int) throws(SecureTransportError) {
        guard mtu >= configuration.mtu, mtu <= configuration.maxMTU else {
            throw .invalidConfiguration("link MTU \(mtu) outside mtu \(configuration.mtu)…maxMTU \(configuration.maxMTU)")
        }
        lock.lock()
        defer { lock.unlock() }
        do {
            try dtls.setLinkMTU(mtu)
        } catch {
            throw Self.translate(error)
        }
    }

    /// SRTP master keys and salts for a call on this component (RFC 5764 §4.2).
    public func exportSRTPKeyingMaterial() throws(SecureTransportError) -> DTLSSRTPKeyingMaterial {
        lock.lock()
        defer { lock.unlock() }
        do {
            return try dtls.exportSRTPKeyingMaterial()
        } catch {
            throw Self.translate(error)
        }
    }

    /// The `use_srtp` profile negotiated, if any.
    public var selectedSRTPProfile: DTLSSRTPProfile? { lock.withLock { dtls.selectedSRTPProfile } }

    /// Installs the receiver of application data records; records that arrived before are delivered now.
    public func setRecordHandler(_ handler: RecordHandler?) {
        lock.lock()
        recordHandler = handler
        let early = handler == nil ? [] : earlyRecords
        if handler != nil { earlyRecords = [] }
        lock.unlock()
        if let handler, !early.isEmpty { handler(early) }
    }

    /// Installs the receiver of RTP/RTCP datagrams (RFC 7983 §7 range 128…191).
    public func setMediaHandler(_ handler: MediaHandler?) {
        lock.withLock { mediaHandler = handler }
    }

    /// Installs the handler told once when the transport ends other than by `close()`. Called at once when it
    /// already has.
    public func setTerminationHandler(_ handler: TerminationHandler?) {
        lock.lock()
        terminationHandler = handler
        let already = handshakeDone ? failure : nil
        lock.unlock()
        if let handler, let already { handler(already) }
    }

    public var statistics: DTLSTransportStatistics { lock.withLock { counters } }

    /// Sends close_notify (RFC 5246 §7.2.1), stops the timer and lets go of the ICE component (the agent
    /// itself stays open: it belongs to the caller).
    public func close() {
        lock.lock()
        let datagrams = dtls.close()
        if failure == nil { failure = .closed }
        let waiter = handshakeWaiter
        handshakeWaiter = nil
        recordHandler = nil
        packetHandler = nil
        mediaHandler = nil
        terminationHandler = nil
        lock.unlock()
        timer.stop()
        waiter?.resume(throwing: SecureTransportError.closed)
        sendRaw(datagrams)
        agent.setReceiveHandler(nil)
        agent.setReceiveFlushHandler(nil)
    }

    // MARK: - Receive path (ICE thread)

    private func received(_ bytes: UnsafeRawBufferPointer) {
        switch DatagramDemultiplexer.kind(of: bytes) {
        case .dtls:
            receivedDTLS(bytes)
        case .rtp:
            let handler = lock.withLock { () -> MediaHandler? in
                counters.mediaDatagramsReceived += 1
                return mediaHandler
            }
            handler?(bytes)
        case .unknown where Self.isProtectedPacket(bytes.first):
            receivedPacket(bytes)
        case .stun, .zrtp, .turnChannel, .unknown:
            // STUN is libnice's; the rest has no user here (RFC 7983 §7: drop).
            lock.withLock { counters.datagramsDiscarded += 1 }
        }
    }

    /// ICE thread: a protected packet, kept for the flush (or for the handler to come).
    private func receivedPacket(_ bytes: UnsafeRawBufferPointer) {
        lock.lock()
        guard failure == nil else {
            lock.unlock()
            return
        }
        counters.datagramsReceived += 1
        var deliver: (PacketHandler, [[UInt8]])?
        if let packetHandler {
            pendingPackets.append(Array(bytes))
            if pendingPackets.count >= Self.pendingRecordLimit {
                deliver = (packetHandler, pendingPackets)
                pendingPackets = []
            }
        } else if earlyPackets.count < Self.earlyRecordLimit {
            earlyPackets.append(Array(bytes))
        }
        lock.unlock()
        if let (handler, packets) = deliver { handler(packets) }
    }

    /// ICE thread, after a burst: hands the burst's records and packets to their handlers.
    private func flushRecords() {
        lock.lock()
        let records = pendingRecords
        pendingRecords = []
        let handler = records.isEmpty ? nil : recordHandler
        let packets = pendingPackets
        pendingPackets = []
        let onPackets = packets.isEmpty ? nil : packetHandler
        lock.unlock()
        handler?(records)
        onPackets?(packets)
    }

    /// Lock held. Takes the pending protected packets with their handler (delivered after unlocking).
    private func takePendingPackets() -> (PacketHandler, [[UInt8]])? {
        guard !pendingPackets.isEmpty, let packetHandler else { return nil }
        defer { pendingPackets = [] }
        return (packetHandler, pendingPackets)
    }

    /// Lock held. Takes the pending records with the handler to give them to (after unlocking).
    private func takePending() -> (RecordHandler, [[UInt8]])? {
        guard !pendingRecords.isEmpty, let recordHandler else { return nil }
        defer { pendingRecords = [] }
        return (recordHandler, pendingRecords)
    }

    private func receivedDTLS(_ bytes: UnsafeRawBufferPointer) {
        lock.lock()
        guard failure == nil else {
            lock.unlock()
            return
        }
        counters.datagramsReceived += 1
        let output: DTLSOutput
        do {
            output = try dtls.receive([UInt8](bytes), now: .now)
        } catch DTLSError.malformedDatagram {
            counters.datagramsDiscarded += 1
            lock.unlock()
            return
        } catch {
            let translated = Self.translate(error)
            // Whatever alert OpenSSL queued tells the peer why (RFC 5246 §7.2).
            let alerts = dtls.close()
            let waiter = fail(translated)
            let handler = handshakeDone ? terminationHandler : nil
            if handshakeDone { terminationHandler = nil }
            let pending = takePending()
            let packets = takePendingPackets()
            lock.unlock()
            if let (deliver, records) = pending { deliver(records) }
            if let (deliver, list) = packets { deliver(list) }
            sendRaw(alerts)
            waiter?.resume(throwing: translated)
            handler?(translated)
            return
        }
        var waiter: CheckedContinuation<Void, any Error>?
        var terminated: (TerminationHandler, SecureTransportError)?
        for event in output.events {
            switch event {
            case .handshakeCompleted:
                handshakeDone = true
                waiter = handshakeWaiter
                handshakeWaiter = nil
            case .closedByPeer:
                if failure == nil {
                    failure = .closedByPeer
                    if let handler = terminationHandler { terminated = (handler, .closedByPeer) }
                    terminationHandler = nil
                    if waiter == nil, let pending = handshakeWaiter {
                        handshakeWaiter = nil
                        lock.unlock()
                        pending.resume(throwing: SecureTransportError.closedByPeer)
                        lock.lock()
                    }
                }
            }
        }
        if !output.applicationData.isEmpty {
            if recordHandler != nil {
                pendingRecords += output.applicationData
            } else if earlyRecords.count + output.applicationData.count <= Self.earlyRecordLimit {
                earlyRecords += output.applicationData
            }
        }
        if !handshakeDone || dtls.nextTimeout != nil { armTimer(handshakeDeadline: nil) }
        // Delivered at the flush, unless the burst is long or the transport ends (whose handler must see
        // every record first: the peer's FIN may be among them).
        let pending = terminated != nil || pendingRecords.count >= Self.pendingRecordLimit ? takePending() : nil
        let packets = terminated != nil ? takePendingPackets() : nil
        lock.unlock()
        sendRaw(output.datagrams)
        waiter?.resume()
        if let (deliver, records) = pending { deliver(records) }
        if let (deliver, list) = packets { deliver(list) }
        if let (handler, reason) = terminated { handler(reason) }
    }

    // MARK: - Timers

    private var handshakeDeadline: ContinuousClock.Instant?

    /// Lock held. The timer serves DTLS retransmissions and the handshake deadline.
    private func armTimer(handshakeDeadline newDeadline: ContinuousClock.Instant?) {
        if let newDeadline { handshakeDeadline = newDeadline }
        var next = dtls.nextTimeout
        if !handshakeDone, let limit = handshakeDeadline { next = min(next ?? limit, limit) }
        timer.schedule(next)
    }

    private func timerFired() {
        lock.lock()
        guard failure == nil else {
            lock.unlock()
            return
        }
        let now = ContinuousClock.now
        if !handshakeDone, let limit = handshakeDeadline, now >= limit {
            let waiter = fail(.handshakeTimedOut)
            let alerts = dtls.close()
            lock.unlock()
            sendRaw(alerts)
            waiter?.resume(throwing: SecureTransportError.handshakeTimedOut)
            return
        }
        var datagrams: [[UInt8]] = []
        do {
            datagrams = try dtls.handleTimeout(now: now)
        } catch {
            let translated = Self.translate(error)
            let waiter = fail(translated)
            let handler = handshakeDone ? terminationHandler : nil
            lock.unlock()
            waiter?.resume(throwing: translated)
            handler?(translated)
            return
        }
        armTimer(handshakeDeadline: nil)
        lock.unlock()
        sendRaw(datagrams)
    }

    // MARK: - Helpers

    /// Lock held. Records the failure; returns the handshake waiter to resume (after unlocking).
    private func fail(_ error: SecureTransportError) -> CheckedContinuation<Void, any Error>? {
        if failure == nil { failure = error }
        timer.schedule(nil)
        let waiter = handshakeWaiter
        handshakeWaiter = nil
        return waiter
    }

    /// Lock held. As `fail`, returning the termination handler to call.
    private func failAfterHandshake(_ error: SecureTransportError) -> TerminationHandler? {
        _ = fail(error)
        let handler = terminationHandler
        terminationHandler = nil
        return handler
    }

    /// Sends on the ICE component. `counted`: the caller already added them to `datagramsSent`. Returns
    /// whether the kernel refused a datagram as larger than the local interface's MTU (EMSGSIZE).
    @discardableResult
    private func sendRaw(_ datagrams: [[UInt8]], counted: Bool = false) -> Bool {
        guard !datagrams.isEmpty else { return false }
        // Not connected yet, or the socket buffer is full: what is not sent is lost, as on the network;
        // DTLS retransmits handshake flights and PeerStream retransmits data.
        let (sent, tooLarge) = (try? agent.sendBatchReportingSize(datagrams, stream: stream, component: component)) ?? (0, false)
        let failed = datagrams.count - sent
        guard failed > 0 || !counted else { return tooLarge }
        lock.withLock {
            counters.datagramsSent += counted ? -failed : sent
            counters.sendFailures += failed
        }
        return tooLarge
    }

    static func translate(_ error: any Error) -> SecureTransportError {
        switch error {
        case let error as SecureTransportError:
            return error
        case let error as DTLSError:
            switch error {
            case .fingerprintMismatch(let expected, let actual):
                return .fingerprintMismatch(expected: expected, actual: actual)
            case .handshakeFailed(let reason):
                return .handshakeFailed(reason)
            case .handshakeTimedOut:
                return .handshakeTimedOut
            case .closed:
                return .closed
            case .invalidFingerprint, .unsupportedFingerprintAlgorithm, .missingPeerCertificate, .malformedDatagram,
                 .protocolError, .notStarted, .notConnected, .applicationDataTooLarge, .invalidMTU,
                 .noSRTPProfileNegotiated, .openSSL:
                return .dtls(error)
            }
        case let error as ICEError:
            return .ice(error)
        default:
            return .handshakeFailed("\(error)")
        }
    }
}
