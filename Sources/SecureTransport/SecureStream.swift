public import DTLS
public import ICE
public import PeerStream

/// A reliable, ordered, encrypted byte stream in each direction over one ICE component: a PeerStream
/// connection (loss recovery, congestion and flow control) over a DTLS 1.2 association. By default
/// (`packetProtection = .exportedKeys`) each PeerStream datagram is protected with AES-128-GCM under keys
/// exported from the handshake (RFC 5705, label `exporterLabel`): header authenticated in the clear with its
/// first byte moved into 80…127 (RFC 9443 §5, so RFC 7983 demultiplexing still separates it from DTLS, STUN
/// and RTP), the rest encrypted, a 16-byte tag, the packet number as nonce (as QUIC, RFC 9001 §5.3); DTLS
/// keeps the handshake and close_notify. With `.dtlsRecords` every datagram is one DTLS application data
/// record instead (37 bytes of overhead). Datagrams start at `transport.mtu` (1200) bytes on the wire.
/// With `transport.maxMTU` above that (1472 by default) PeerStream runs path MTU discovery (RFC 8899): padded
/// probes test larger datagrams, the size grows once one is acknowledged, and falls back on a black
/// hole. The ICE agent sends with DF set and never lets the kernel fragment (IP_PMTUDISC_PROBE), so a probe
/// too large for the path is lost, not fragmented. `statistics.datagramSize` is the size in use.
///
/// Driving: there is no Task per datagram. Received records are processed on the ICE agent's thread as
/// they arrive (decrypt, `PeerStreamConnection.receive`, then every datagram the machine may now send is
/// encrypted and sent at once); one timer thread serves every PeerStream deadline (delayed ACK, loss
/// detection, probes, pacing, idle); the async API only moves bytes in and out of the machine's own
/// buffers under one lock and suspends when there is nothing to do. So a paused reader holds at most
/// `receiveWindow` bytes here and `sendBufferCapacity` bytes at the writer, and `write` suspends until
/// the peer acknowledges enough.
///
/// One reader and one writer at a time (a second concurrent `read`, or `write`, is our caller's bug).
public final class SecureStream: @unchecked Sendable {
    public let transport: DTLSTransport
    public let configuration: SecureStreamConfiguration

    private let lock = PosixLock()
    // Guarded by `lock`.
    private var connection: PeerStreamConnection
    private var terminal: SecureTransportError?
    private var readWaiter: CheckedContinuation<Void, any Error>?
    private var writeWaiter: CheckedContinuation<Void, any Error>?
    private var writeThreshold = 1
    private var readThreshold = 1
    /// When a waiting reader is woken even though fewer than `readThreshold` bytes are readable.
    private var readWakeDeadline: PeerStreamInstant?
    private static let readBatch = 128 << 10
    private static let readBatchDelay = Duration.microseconds(500)
    private var finishWaiter: CheckedContinuation<Void, any Error>?
    private var closedByUs = false
    private var finishCalled = false
    private let scratch: UnsafeMutableRawBufferPointer
    /// Batches of records go on the wire in the order `settle` produced them (their PeerStream packet numbers
    /// rise), even when the ICE thread, the timer thread and the writer each send one after the lock is
    /// released: a batch waits for its ticket's turn. Reordered packets would look lost to PeerStream's
    /// packet-threshold loss detection (RFC 9002 §6.1.1) and be retransmitted for nothing.
    private let sendOrder = PosixCondition()
    /// Guarded by `lock`.
    private var nextTicket: UInt64 = 0
    /// Guarded by `sendOrder`.
    private var sendTurn: UInt64 = 0
    private let origin: ContinuousClock.Instant
    private let timer: DeadlineTimer
    /// Protection overhead on the wire per datagram (16 bytes with exported keys, 37 with DTLS records).
    private let recordOverhead: Int
    /// Exported-key protection (nil: DTLS records). Seals happen in send order (one batch at a time, see
    /// `sendOrder`), opens under `lock`.
    private let protection: PacketProtection?
    /// Guarded by `lock`: where received packets are decrypted.
    private let openScratch: UnsafeMutableRawBufferPointer
    /// Guarded by `lock`: protected packets that did not authenticate or parse.
    private var packetsDiscarded = 0

    /// ICE must be connected (or about to be) on `component`. Runs the DTLS handshake as `role` (client when
    /// our signalled `a=setup` is `active`, RFC 8842 §5), checks the peer's certificate against
    /// `remoteFingerprint` (a mismatch throws `fingerprintMismatch`; the peer then fails its handshake too),
    /// then opens the stream.
    public static func connect(
        agent: ICEAgent, stream: ICEStreamID, component: Int = 1, role: DTLSRole,
        certificate: DTLSCertificate, remoteFingerprint: DTLSFingerprint,
        configuration: SecureStreamConfiguration = SecureStreamConfiguration()
    ) async throws(SecureTransportError) -> SecureStream {
        try configuration.validate()
        let transport = try await DTLSTransport.connect(
            agent: agent, stream: stream, component: component, role: role, certificate: certificate,
            remoteFingerprint: remoteFingerprint, configuration: configuration.transport)
        let limit = transport.maximumApplicationDataSize
        if configuration.packetProtection == .dtlsRecords, configuration.stream.maxDatagramSize > limit {
            transport.close()
            throw .invalidConfiguration("stream.maxDatagramSize \(configuration.stream.maxDatagramSize) exceeds the DTLS record limit \(limit)")
        }
        if configuration.packetProtection == .dtlsRecords, configuration.transport.maxMTU > configuration.transport.mtu {
            // The handshake ran at `mtu`; records may now be as large as discovery may find (RFC 8899 §6: the
            // packetization layer above DTLS probes, DTLS must accept its larger records).
            do {
                try transport.setLinkMTU(configuration.transport.maxMTU)
            } catch {
                transport.close()
                throw error
            }
        }
        do {
            return try SecureStream(transport: transport, configuration: configuration)
        } catch {
            transport.close()
            throw error
        }
    }

    /// RFC 5705 §4: a label of our own under the "EXPORTER" prefix reserved for private use.
    public static let exporterLabel = "EXPORTER-SwiftJingle-PeerStream-AES-128-GCM"
    /// PeerStream's first bytes (0x21…0x27, version 2) move up by this into 0x51…0x57, inside 80…127.
    static let firstByteShift: UInt8 = 0x30

    /// Builds the stream on a transport whose handshake is done. Call `configuration.validate()` first
    /// (`connect` does): an invalid PeerStream configuration stops the process.
    /// With exported keys, derives them here (a transport without a completed handshake throws). When
    /// `stream.maxProbedDatagramSize` is nil, PeerStream probes up to what `transport.maxMTU` holds (with DTLS
    /// records: what the transport's link MTU holds; `connect` raises it to `transport.maxMTU`).
    public init(transport: DTLSTransport, configuration: SecureStreamConfiguration) throws(SecureTransportError) {
        self.transport = transport
        self.configuration = configuration
        origin = .now
        var stream = configuration.stream
        let largestRecord: Int
        switch configuration.packetProtection {
        case .exportedKeys:
            let exported = try transport.exportKeyingMaterial(label: Self.exporterLabel, length: PacketProtection.exportLength)
            do {
                protection = try PacketProtection(exported: exported, role: transport.role, keyUpdateInterval: configuration.keyUpdateInterval)
            } catch {
                throw DTLSTransport.translate(error)
            }
            recordOverhead = PacketProtection.tagLength
            largestRecord = transport.configuration.maxMTU - recordOverhead
        case .dtlsRecords:
            protection = nil
            largestRecord = transport.maximumApplicationDataSize
            recordOverhead = max(0, transport.linkMTU - largestRecord)
        }
        if stream.maxProbedDatagramSize == nil, largestRecord > stream.maxDatagramSize {
            stream.maxProbedDatagramSize = largestRecord
        }
        connection = PeerStreamConnection(configuration: stream, now: .zero)
        scratch = .allocate(byteCount: max(stream.largestDatagramSize, 2048), alignment: 16)
        openScratch = .allocate(byteCount: max(stream.largestDatagramSize, 2048), alignment: 16)
        timer = DeadlineTimer(name: "secure-stream-timer")
        timer.setHandler { [weak self] in self?.timerFired() }
        if protection != nil {
            transport.setPacketHandler { [weak self] packets in self?.receivedPackets(packets) }
        } else {
            transport.setRecordHandler { [weak self] records in self?.receivedRecords(records) }
        }
        transport.setTerminationHandler { [weak self] reason in self?.transportEnded(reason) }
        lock.lock()
        var wakeups = Wakeups()
        settle(now: now(), wakeups: &wakeups)
        lock.unlock()
        complete(wakeups)
    }

    deinit {
        timer.stop()
        scratch.deallocate()
        openScratch.deallocate()
    }

    // MARK: - Public API

    /// Queues all of `bytes` for sending, suspending while the send buffer is full (back-pressure: it
    /// resumes as the peer acknowledges). Throws when the stream is aborted, timed out or closed.
    public func write(_ bytes: [UInt8]) async throws(SecureTransportError) {
        try await write(bytes[...])
    }

    public func write(_ bytes: ArraySlice<UInt8>) async throws(SecureTransportError) {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            offset += try writeSome(bytes[offset...])
            if offset < bytes.endIndex {
                // Wait for a quarter of the buffer (or the rest) rather than for every acknowledged packet,
                // so a writer wakes up a few times per window, not once per ACK.
                let wanted = min(bytes.endIndex - offset, max(1, configuration.stream.sendBufferCapacity / 4))
                try await suspend(on: \.writeWaiter) { this in
                    this.terminal != nil || this.connection.sendBufferSpace >= wanted
                } arm: { this in this.writeThreshold = wanted }
            }
        }
    }

    /// Up to `max` bytes in order; suspends until some are there. Nil at the clean end of the peer's stream
    /// (its FIN arrived and everything before it was read).
    public func read(max: Int = 1 << 20) async throws(SecureTransportError) -> [UInt8]? {
        while true {
            switch try readSome(max: Swift.max(1, max)) {
            case .bytes(let bytes): return bytes
            case .end: return nil
            case .wait:
                // Wake for a batch rather than for every datagram; `settle` wakes us for less after
                // `readBatchDelay` so a short message is not held back for long.
                let batch = Swift.max(1, Swift.min(max, configuration.stream.receiveWindow / 4, Self.readBatch))
                try await suspend(on: \.readWaiter) { this in
                    this.terminal != nil || this.connection.readableBytes >= batch || this.connection.isAtEndOfStream
                } arm: { this in
                    this.readThreshold = batch
                    if this.connection.readableBytes > 0 { this.readWakeDeadline = this.now() + Self.readBatchDelay }
                }
            }
        }
    }

    /// Ends our direction (FIN after the last byte written) and waits until the peer has acknowledged all
    /// data and the FIN. Reading the peer's remaining data goes on with `read`.
    public func finish() async throws(SecureTransportError) {
        try startFinish()
        try await suspend(on: \.finishWaiter) { this in
            this.terminal != nil || this.finishAcknowledged
        } arm: { _ in }
        try checkFinished()
    }

    /// Aborts both directions; the peer's pending and later calls throw `aborted(reason, byPeer: true)`.
    /// Buffered data is dropped. Our own later calls throw `aborted(reason, byPeer: false)`.
    public func abort(reason: PeerStreamAbortReason) {
        lock.lock()
        connection.abort(code: reason.code, message: reason.message)
        var wakeups = Wakeups()
        settle(now: now(), wakeups: &wakeups)
        if terminal == nil { terminal = .aborted(reason, byPeer: false) }
        wakeAll(&wakeups)
        lock.unlock()
        complete(wakeups)
    }

    /// Stops the timer and closes the DTLS association (close_notify). The ICE agent stays the caller's.
    /// Pending calls throw `closed` (or the error that ended the stream before).
    public func close() {
        lock.lock()
        closedByUs = true
        if terminal == nil { terminal = .closed }
        var wakeups = Wakeups()
        wakeAll(&wakeups)
        lock.unlock()
        timer.stop()
        transport.close()
        complete(wakeups)
    }

    public var statistics: SecureStreamStatistics {
        let transportStatistics = transport.statistics
        return lock.withLock {
            SecureStreamStatistics(
                stream: connection.statistics, transport: transportStatistics,
                datagramSize: connection.statistics.datagramSize,
                udpPayloadSize: connection.statistics.datagramSize + recordOverhead,
                packetsDiscarded: packetsDiscarded,
                bufferedForSending: connection.unacknowledgedBytes, bufferedForReading: connection.receiveBufferOccupancy)
        }
    }

    /// SRTP keys from the same handshake (RFC 5764 §4.2), for a call sharing this component.
    public func exportSRTPKeyingMaterial() throws(SecureTransportError) -> DTLSSRTPKeyingMaterial {
        try transport.exportSRTPKeyingMaterial()
    }

    // MARK: - Synchronous steps of the async API (locks are not held across suspension points)

    private enum ReadStep {
        case bytes([UInt8])
        case end
        case wait
    }

    private func writeSome(_ bytes: ArraySlice<UInt8>) throws(SecureTransportError) -> Int {
        lock.lock()
        if let terminal {
            lock.unlock()
            throw terminal
        }
        let accepted: Int
        do {
            accepted = try connection.write(bytes)
        } catch {
            lock.unlock()
            throw Self.translate(error)
        }
        var wakeups = Wakeups()
        if accepted > 0 { settle(now: now(), wakeups: &wakeups) }
        lock.unlock()
        complete(wakeups)
        return accepted
    }

    private func readSome(max: Int) throws(SecureTransportError) -> ReadStep {
        lock.lock()
        if connection.readableBytes > 0 {
            let bytes = connection.read(maxBytes: max)
            var wakeups = Wakeups()
            settle(now: now(), wakeups: &wakeups)
            lock.unlock()
            complete(wakeups)
            return .bytes(bytes)
        }
        if connection.isAtEndOfStream {
            lock.unlock()
            return .end
        }
        if let terminal {
            lock.unlock()
            throw terminal
        }
        lock.unlock()
        return .wait
    }

    private func startFinish() throws(SecureTransportError) {
        lock.lock()
        if let terminal {
            lock.unlock()
            throw terminal
        }
        do {
            try connection.finish()
        } catch {
            lock.unlock()
            throw Self.translate(error)
        }
        finishCalled = true
        var wakeups = Wakeups()
        settle(now: now(), wakeups: &wakeups)
        lock.unlock()
        complete(wakeups)
    }

    private func checkFinished() throws(SecureTransportError) {
        lock.lock()
        defer { lock.unlock() }
        if !finishAcknowledged, let terminal { throw terminal }
    }

    // MARK: - Driving the machine

    private func now() -> PeerStreamInstant {
        let elapsed = ContinuousClock.now - origin
        let (seconds, attoseconds) = elapsed.components
        return PeerStreamInstant(nanoseconds: seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// ICE thread: records decrypted by the transport.
    private func receivedRecords(_ records: [[UInt8]]) {
        lock.lock()
        let instant = now()
        var wakeups = Wakeups()
        for record in records {
            do {
                let events = try record.withUnsafeBytes { bytes throws(PeerStreamError) in
                    try connection.receive(bytes, now: instant)
                }
                apply(events)
            } catch {
                // A rejected datagram changed nothing (PeerStreamError doc); it is counted in the statistics.
            }
        }
        settle(now: instant, wakeups: &wakeups)
        lock.unlock()
        complete(wakeups)
    }

    /// ICE thread: protected packets (exported keys). Each is authenticated and decrypted into `openScratch`,
    /// its first byte moved back, and fed to PeerStream; one that does not authenticate is dropped.
    private func receivedPackets(_ packets: [[UInt8]]) {
        guard let protection else { return }
        lock.lock()
        let instant = now()
        var wakeups = Wakeups()
        for packet in packets {
            let opened = packet.withUnsafeBytes { raw -> Int? in
                guard let (headerLength, packetNumber) = PeerStreamPacket.header(of: raw) else { return nil }
                return protection.open(packet: raw, headerLength: headerLength, packetNumber: packetNumber, into: openScratch)
            }
            guard let length = opened, length > 0 else {
                packetsDiscarded += 1
                continue
            }
            openScratch[0] &-= Self.firstByteShift
            do {
                apply(try connection.receive(UnsafeRawBufferPointer(rebasing: openScratch[0..<length]), now: instant))
            } catch {
                // A rejected datagram changed nothing (PeerStreamError doc); it is counted in the statistics.
            }
        }
        settle(now: instant, wakeups: &wakeups)
        lock.unlock()
        complete(wakeups)
    }

    private func timerFired() {
        lock.lock()
        let instant = now()
        apply(connection.handleTimeout(now: instant))
        var wakeups = Wakeups()
        settle(now: instant, wakeups: &wakeups)
        lock.unlock()
        complete(wakeups)
    }

    private func transportEnded(_ reason: SecureTransportError) {
        lock.lock()
        if terminal == nil, !closedByUs {
            // A close_notify after the peer's whole stream arrived is its normal goodbye: what is buffered
            // can still be read to the end. Before that it cut the stream short.
            if case .closedByPeer = reason, connection.isPeerFinished {
                terminal = .closed
            } else {
                terminal = reason
            }
        }
        var wakeups = Wakeups()
        wakeAll(&wakeups)
        lock.unlock()
        timer.schedule(nil)
        complete(wakeups)
    }

    /// Lock held. Turns machine events into our terminal state.
    private func apply(_ events: [PeerStreamEvent]) {
        for event in events {
            switch event {
            case .aborted(let reason):
                if terminal == nil { terminal = .aborted(reason, byPeer: true) }
            case .timedOut:
                if terminal == nil { terminal = .timedOut }
            case .readable, .writable, .finished, .closed:
                break
            }
        }
    }

    /// Whether our FIN and every byte before it were acknowledged. `PeerStreamConnection` reports that as
    /// part of `.closed` only (which also needs the peer's FIN), so it is read off the counters: nothing
    /// unacknowledged and nothing in flight after `finish()`.
    private var finishAcknowledged: Bool {
        if case .closed = connection.state { return true }
        guard case .open = connection.state else { return false }
        return finishCalled && connection.unacknowledgedBytes == 0 && connection.statistics.bytesInFlight == 0
    }

    /// Lock held. Sends everything the machine lets out now, re-arms the timer and collects the waiters
    /// whose condition now holds.
    private func settle(now instant: PeerStreamInstant, wakeups: inout Wakeups) {
        while true {
            let length = connection.nextDatagram(now: instant, into: scratch)
            if length == 0 { break }
            // Encrypted and sent once the lock is released (`complete`), so the ICE thread is not kept
            // waiting on our lock while OpenSSL and the socket work.
            wakeups.records.append([UInt8](UnsafeRawBufferPointer(rebasing: scratch[0..<length])))
        }
        if !wakeups.records.isEmpty, wakeups.ticket == nil {
            wakeups.ticket = nextTicket
            nextTicket &+= 1
        }
        if readWaiter != nil, connection.readableBytes > 0, connection.readableBytes < readThreshold,
           !connection.isAtEndOfStream, readWakeDeadline == nil {
            readWakeDeadline = instant + Self.readBatchDelay
        }
        var deadline = terminal == nil ? connection.nextDeadline : nil
        if let wake = readWakeDeadline, readWaiter != nil { deadline = Swift.min(deadline ?? wake, wake) }
        timer.schedule(deadline.map { origin + ($0 - .zero) })
        if terminal != nil {
            wakeAll(&wakeups)
            return
        }
        if readWaiter != nil,
           connection.readableBytes >= readThreshold || connection.isAtEndOfStream
            || (connection.readableBytes > 0 && readWakeDeadline.map { $0 <= instant } ?? false) {
            wakeups.add(readWaiter)
            readWaiter = nil
            readWakeDeadline = nil
        }
        if writeWaiter != nil, connection.sendBufferSpace >= writeThreshold {
            wakeups.add(writeWaiter)
            writeWaiter = nil
        }
        if finishWaiter != nil, finishAcknowledged {
            wakeups.add(finishWaiter)
            finishWaiter = nil
        }
    }

    /// Lock released: sends the records `settle` collected, then resumes the waiters.
    private func complete(_ wakeups: Wakeups) {
        if let ticket = wakeups.ticket {
            sendOrder.lock()
            while sendTurn != ticket { sendOrder.wait() }
            sendOrder.unlock()
        }
        defer {
            if wakeups.ticket != nil {
                sendOrder.lock()
                sendTurn &+= 1
                sendOrder.broadcast()
                sendOrder.unlock()
            }
        }
        do {
            var refused: [Int] = []
            for batch in Self.isolatingProbes(wakeups.records) {
                let tooLarge: Bool
                if let protection {
                    tooLarge = try transport.send(packets: try Self.seal(batch, with: protection))
                } else {
                    tooLarge = try transport.send(records: batch)
                }
                // A probe goes alone, so EMSGSIZE on its batch is about the probe (RFC 8899 §4.6.2).
                if tooLarge, batch.count == 1, batch[0].first == PeerStreamPacket.probeFirstByte { refused.append(batch[0].count) }
            }
            if !refused.isEmpty {
                lock.lock()
                let instant = now()
                for size in refused { connection.pathMTUProbeRefused(size: size, now: instant) }
                lock.unlock()
            }
        } catch {
            lock.lock()
            if terminal == nil, !closedByUs { terminal = error }
            var more = Wakeups()
            wakeAll(&more)
            lock.unlock()
            more.resume()
        }
        wakeups.resume()
    }

    /// A path MTU probe goes out alone: in a batch, UDP GSO would make it the segment size of the datagrams
    /// after it, and a probe larger than the local interface's MTU would then fail the whole group (and turn
    /// GSO off); alone it just fails (EMSGSIZE under IP_PMTUDISC_PROBE) and counts as a lost probe.
    static func isolatingProbes(_ datagrams: [[UInt8]]) -> [[[UInt8]]] {
        let probe = PeerStreamPacket.probeFirstByte
        guard datagrams.contains(where: { $0.first == probe }) else { return [datagrams] }
        var batches: [[[UInt8]]] = []
        var current: [[UInt8]] = []
        for datagram in datagrams {
            if datagram.first == probe {
                if !current.isEmpty { batches.append(current) }
                batches.append([datagram])
                current = []
            } else {
                current.append(datagram)
            }
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }

    /// Protects PeerStream datagrams for the wire: first byte moved into 80…127, header authenticated, the
    /// rest encrypted, tag appended.
    private static func seal(_ datagrams: [[UInt8]], with protection: PacketProtection) throws(SecureTransportError) -> [[UInt8]] {
        var sealed: [[UInt8]] = []
        sealed.reserveCapacity(datagrams.count)
        for datagram in datagrams {
            let result = datagram.withUnsafeBytes { raw in
                Result { () throws(SecureTransportError) -> [UInt8] in
                    guard let (headerLength, packetNumber) = PeerStreamPacket.header(of: raw), let first = raw.first else {
                        throw .invalidConfiguration("PeerStream produced a datagram without a header")
                    }
                    var header = [UInt8](UnsafeRawBufferPointer(rebasing: raw[0..<headerLength]))
                    header[0] = first &+ firstByteShift
                    let total = raw.count + PacketProtection.tagLength
                    var failure: (any Error)?
                    let sealed = [UInt8](unsafeUninitializedCapacity: total) { buffer, count in
                        do {
                            count = try header.withUnsafeBytes { h in
                                try protection.seal(header: h, body: UnsafeRawBufferPointer(rebasing: raw[headerLength...]),
                                                    packetNumber: packetNumber, into: UnsafeMutableRawBufferPointer(buffer))
                            }
                        } catch {
                            failure = error
                            count = 0
                        }
                    }
                    if let failure { throw DTLSTransport.translate(failure) }
                    return sealed
                }
            }
            sealed.append(try result.get())
        }
        return sealed
    }

    /// Lock held.
    private func wakeAll(_ wakeups: inout Wakeups) {
        // A reader with bytes (or the end) waiting gets them first; `read` reports the error after.
        let readable = connection.readableBytes > 0 || connection.isAtEndOfStream
        wakeups.add(readWaiter, error: readable ? nil : terminal)
        wakeups.add(writeWaiter, error: terminal)
        wakeups.add(finishWaiter, error: terminal)
        readWaiter = nil
        writeWaiter = nil
        finishWaiter = nil
    }

    /// Suspends until `ready` holds (checked under the lock, so no wakeup is lost); `arm` runs under the
    /// lock just before the continuation is stored.
    private func suspend(
        on slot: ReferenceWritableKeyPath<SecureStream, CheckedContinuation<Void, any Error>?>,
        until ready: (SecureStream) -> Bool, arm: (SecureStream) -> Void
    ) async throws(SecureTransportError) {
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                lock.lock()
                if ready(self) {
                    lock.unlock()
                    continuation.resume()
                    return
                }
                arm(self)
                self[keyPath: slot] = continuation
                lock.unlock()
            }
        } catch {
            throw Self.translate(error)
        }
    }

    static func translate(_ error: any Error) -> SecureTransportError {
        switch error {
        case let error as SecureTransportError:
            return error
        case let error as PeerStreamError:
            switch error {
            case .writeAfterFinish: return .writeAfterFinish
            case .aborted(let reason): return .aborted(reason, byPeer: false)
            case .timedOut: return .timedOut
            default: return .invalidConfiguration("\(error)")
            }
        default:
            return DTLSTransport.translate(error)
        }
    }
}

/// Continuations to resume once the lock is released.
private struct Wakeups {
    /// PeerStream datagrams to send as DTLS records.
    var records: [[UInt8]] = []
    /// The place of `records` in the stream's send order (set when there are records).
    var ticket: UInt64?
    private var items: [(CheckedContinuation<Void, any Error>, SecureTransportError?)] = []

    mutating func add(_ continuation: CheckedContinuation<Void, any Error>?, error: SecureTransportError? = nil) {
        if let continuation { items.append((continuation, error)) }
    }

    func resume() {
        for (continuation, error) in items {
            if let error { continuation.resume(throwing: error) } else { continuation.resume() }
        }
    }
}
