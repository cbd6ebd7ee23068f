import DTLS
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
public import Logging
import RTP
import SRTP
import Synchronization

/// One call's media over one transport (an ICE component with rtcp-mux and BUNDLE):
///
/// ```
///  transport --RFC 7983 first byte--> DTLS ----------> DTLSConnection --EXTRACTOR-dtls_srtp--> SRTP keys
///                                \--> RTP/RTCP --SRTP unprotect--> RFC 5761 split --> RTP: audio (playout
///                                     buffer -> WAV, UDP relay), video (UDP relay); RTCP: SR/RR statistics
///  tone / WAV / UDP RTP --20 ms timer--> G.711 --RTP--> SRTP protect --> transport
/// ```
///
/// All state lives on one serial dispatch queue: received datagrams are copied there from the transport's
/// thread, and the 20 ms sender, the RTCP report and the DTLS retransmission timers fire there. The sender
/// is clocked by a real timer and numbers frames by wall-clock time, so the RTP timestamp advances by 160
/// per 20 ms whatever the timer's jitter (frames a late timer missed are sent at once, up to 100 ms behind;
/// beyond that they are skipped, the timestamp still advancing).
///
/// Lifecycle: `init` (installs the receive handler: a DTLS server may receive the ClientHello early) →
/// `start()` once the transport is connected (a DTLS client sends its ClientHello) → `.connected` when keys
/// are in place → media → `stop()`. `hold()`/`resume()` change what is sent at any time.
public final class MediaSession: @unchecked Sendable {
    /// Events in order; finishes after `.ended` or `.failed`.
    public let events: AsyncStream<MediaEvent>
    public let configuration: MediaConfiguration
    /// Our audio SSRC: `MediaConfiguration.audioSSRC` when signalled, else random (RFC 3550 §8.1).
    public let audioSSRC: UInt32
    /// When the DTLS and media steps first happened (`dtls.start`, `dtls.firstReceived`, `dtls.keys`,
    /// `media.firstSent`, `media.firstReceived`).
    public let timeline: SetupTimeline

    private let continuation: AsyncStream<MediaEvent>.Continuation
    private let transport: MediaTransport
    private let logger: Logger
    private let queue = DispatchQueue(label: "swiftjingle.media", qos: .userInteractive)
    private let snapshot = Mutex(MediaStatistics())
    private let epoch = ContinuousClock.now

    private enum Phase { case created, started, connected, finished }

    // Everything below is touched only on `queue`.
    private var phase = Phase.created
    private var dtls: DTLSConnection?
    private var outbound: SRTPSession?
    private var inbound: SRTPSession?
    private var keysReady = false
    private var direction: MediaDirection
    private var source: AudioSampleSource
    private var sender: RTPSenderState
    private var videoSender: RTPSenderState?
    private var reception = RTPReceptionStatistics()
    private var audioSourceSSRC: UInt32?
    private var playout = PlayoutBuffer()
    private var writer: WAVWriter?
    private var stats = MediaStatistics()
    private var mediaFlowingReported = false
    /// SRTP that arrived before the DTLS handshake gave us keys.
    private var earlyMedia: [[UInt8]] = []
    private var sendTimer: DispatchSourceTimer?
    private var reportTimer: DispatchSourceTimer?
    private var dtlsTimer: DispatchSourceTimer?
    private var sendStart: ContinuousClock.Instant?
    private var nextFrameIndex: UInt64 = 0
    private var markNextPacket = true
    private var firstRelayTimestamp: UInt32?
    private var firstVideoRelayTimestamp: UInt32?
    private var audioOut: UDPRelaySocket?
    private var audioIn: UDPRelaySocket?
    private var videoOut: UDPRelaySocket?
    private var videoIn: UDPRelaySocket?
    /// Test hook: sees (and may alter) every received SRTP/SRTCP datagram before it is unprotected.
    var receiveTamperHook: (@Sendable (inout [UInt8]) -> Void)?
    /// Test hook: returns false for an outgoing audio RTP packet (by sequence number) that is to be lost.
    var sendFilterHook: (@Sendable (UInt16) -> Bool)?
    /// Our last sent audio packets, protected, by sequence number, for NACK retransmission (RFC 4585 §6.2.1).
    private var sentHistory: [UInt16: [UInt8]] = [:]
    private var sentHistoryOrder: [UInt16] = []
    private static let sentHistoryLimit = 64
    /// Opus coder state, when the codec is Opus.
    private var opusEncoder: OpusEncoder?
    private var opusDecoder: OpusDecoder?
    /// The highest audio sequence number received (for gap detection, RFC 3550 A.1 without the cycles).
    private var highestReceivedSequence: UInt16?

    private static let frameSamples = 160
    private static let frameDuration = Duration.milliseconds(20)

    /// Sets the session up; nothing is sent before `start()`. Throws for an unusable configuration (DTLS
    /// without certificate, mismatched SDES suites, unreadable WAV, relay port in use, recording not writable).
    public init(transport: MediaTransport, configuration: MediaConfiguration,
                logger: Logger = Logger(label: "swiftjingle.media"), timeline: SetupTimeline = SetupTimeline()) throws(MediaError) {
        self.transport = transport
        self.timeline = timeline
        self.configuration = configuration
        self.logger = logger
        direction = configuration.direction
        (events, continuation) = AsyncStream<MediaEvent>.makeStream(bufferingPolicy: .unbounded)
        audioSSRC = configuration.audioSSRC ?? UInt32.random(in: 1...UInt32.max)
        sender = RTPSenderState(ssrc: audioSSRC, initialSequenceNumber: .random(in: 0...0x7FFF), initialTimestamp: .random(in: 0...UInt32.max))
        if configuration.video != nil {
            videoSender = RTPSenderState(ssrc: UInt32.random(in: 1...UInt32.max), initialSequenceNumber: .random(in: 0...0x7FFF),
                                         initialTimestamp: .random(in: 0...UInt32.max))
        }
        switch configuration.audioSource {
        case .tone(let frequency): source = AudioSampleSource(tone: frequency)
        case .wav(let url): source = try AudioSampleSource(wav: url)
        case .rtp, .silence: source = AudioSampleSource(silence: ())
        }

        switch configuration.keying {
        case .dtls(let fingerprint, let setup):
            guard let certificate = configuration.certificate else {
                throw .invalidConfiguration("DTLS-SRTP keying needs our certificate")
            }
            do {
                dtls = try DTLSConnection(role: setup, certificate: certificate, remoteFingerprint: fingerprint)
            } catch let error as DTLSError {
                throw .dtls(error)
            } catch {
                throw .dtls(.openSSL(operation: "DTLSConnection", reason: "\(error)"))
            }
        case .sdes(let local, let remote):
            (outbound, inbound) = try sdesSessions(local: local, remote: remote)
            keysReady = true
        case .none:
            keysReady = true
        }

        if configuration.audioFormat.codec == .opus {
            opusEncoder = try OpusEncoder()
            opusDecoder = try OpusDecoder()
        }
        if let url = configuration.recordURL {
            do {
                writer = try WAVWriter(url: url, format: WAVFormat(sampleRate: 8000, channels: 1))
            } catch {
                throw .io("cannot record to \(url.path): \(error)")
            }
        }
        if let output = configuration.audioRTPOutput { audioOut = try UDPRelaySocket(sendingTo: output) }
        if let output = configuration.video?.output { videoOut = try UDPRelaySocket(sendingTo: output) }
        if case .rtp(let input) = configuration.audioSource {
            audioIn = try UDPRelaySocket(receivingOn: input, queue: queue) { [weak self] bytes in self?.relayAudioIn(bytes) }
        }
        if let input = configuration.video?.input {
            videoIn = try UDPRelaySocket(receivingOn: input, queue: queue) { [weak self] bytes in self?.relayVideoIn(bytes) }
        }
        let queue = queue
        transport.setReceiveHandler { [weak self] datagram in
            guard let session = self else { return }
            queue.async { session.handleDatagram(datagram) }
        }
    }

    deinit {
        transport.setReceiveHandler(nil)
        continuation.finish()
    }

    // MARK: - Public controls

    /// Starts the session once the transport is connected: a DTLS client sends its ClientHello; SDES and
    /// plain sessions are connected at once. Calling it again does nothing.
    public func start() {
        queue.async { self.startOnQueue() }
    }

    /// Puts the call on hold: no more media is sent (RTCP goes on, as RFC 3264 §8.4 expects), received media
    /// is still played out. The signalling layer announces it (SDP `a=inactive`, or Jingle `<hold/>` session-info,
    /// XEP-0167 §7) and calls `setDirection` with whatever the peer answers.
    public func hold() {
        queue.async {
            self.direction = switch self.direction {
            case .sendrecv, .recvonly: .recvonly
            case .sendonly, .inactive: .inactive
            }
        }
    }

    /// Sends media again after `hold()`; the first packet carries the marker bit (RFC 3551 §4.1).
    public func resume() {
        queue.async {
            self.direction = switch self.direction {
            case .sendrecv, .recvonly: .sendrecv
            case .sendonly, .inactive: .sendonly
            }
            self.markNextPacket = true
        }
    }

    /// Applies a direction from signalling (a re-offer or Jingle content-modify).
    public func setDirection(_ newDirection: MediaDirection) {
        queue.async {
            if !self.direction.sends, newDirection.sends { self.markNextPacket = true }
            self.direction = newDirection
        }
    }

    /// The current direction.
    public var currentDirection: MediaDirection { queue.sync { direction } }

    /// The counters as of the last packet (safe from any thread).
    public var statistics: MediaStatistics { snapshot.withLock { $0 } }

    /// Ends the session: RTCP BYE (RFC 3550 §6.6), DTLS close_notify, the recording flushed and closed,
    /// `.ended` emitted. Returns the final counters. Calling it after a failure just cleans up.
    @discardableResult
    public func stop() async -> MediaStatistics {
        await withCheckedContinuation { (done: CheckedContinuation<MediaStatistics, Never>) in
            queue.async {
                self.finish(sendGoodbye: true, event: nil)
                done.resume(returning: self.stats)
            }
        }
    }

    // MARK: - Test hooks

    func setReceiveTamperHook(_ hook: (@Sendable (inout [UInt8]) -> Void)?) {
        queue.async { self.receiveTamperHook = hook }
    }

    /// Drops outgoing audio packets (with NACK on) whose sequence number the hook refuses, as a lossy path would.
    func setSendFilterHook(_ hook: (@Sendable (UInt16) -> Bool)?) {
        queue.async { self.sendFilterHook = hook }
    }

    // MARK: - Start and keys

    private func startOnQueue() {
        guard phase == .created else { return }
        phase = .started
        if let dtls {
            // A server that already received the ClientHello has started; starting again is harmless for a
            // client only, so only the client starts here (RFC 5763 §5: the active side initiates).
            if dtls.role == .client, dtls.state == .idle {
                do {
                    let datagrams = try dtls.start(now: .now)
                    timeline.mark("dtls.start")
                    send(datagrams)
                    scheduleDTLSTimer()
                } catch {
                    dtlsFailed(error)
                }
            }
        }
        if keysReady { becomeConnected() }
    }

    private func becomeConnected() {
        guard phase == .started || phase == .created else { return }
        phase = .connected
        continuation.yield(.connected)
        startTimers()
    }

    private func keysFromDTLS() {
        guard let dtls else { return }
        do {
            let material = try dtls.exportSRTPKeyingMaterial()
            guard let profile = SRTPProfile(rawValue: material.profile.rawValue) else {
                fail(.unsupported("SRTP profile \(material.profile.rawValue)"))
                return
            }
            (outbound, inbound) = try SRTPSession.pair(profile: profile, localKey: material.localKey, localSalt: material.localSalt,
                                                       remoteKey: material.remoteKey, remoteSalt: material.remoteSalt)
            keysReady = true
            timeline.mark("dtls.keys")
            logger.debug("DTLS-SRTP keys exported", metadata: ["profile": "\(profile.rawValue)"])
            if phase == .created { phase = .started }
            becomeConnected()
            let early = earlyMedia
            earlyMedia = []
            for datagram in early { handleSecureMedia(datagram) }
        } catch let error as DTLSError {
            fail(.dtls(error))
        } catch let error as SRTPError {
            fail(.srtp(error))
        } catch {
            fail(.dtls(.protocolError("\(error)")))
        }
    }

    // MARK: - Receive path

    private func handleDatagram(_ datagram: [UInt8]) {
        guard phase != .finished else { return }
        switch DatagramDemultiplexer.kind(of: datagram) {
        case .dtls: handleDTLS(datagram)
        case .rtp: handleSecureMedia(datagram)
        case .stun, .zrtp, .turnChannel, .unknown: stats.malformed += 1
        }
    }

    private func handleDTLS(_ datagram: [UInt8]) {
        guard let dtls else {
            stats.malformed += 1
            return
        }
        timeline.mark("dtls.firstReceived")
        do {
            let output = try dtls.receive(datagram, now: .now)
            send(output.datagrams)
            if output.handshakeCompleted { keysFromDTLS() }
            if output.events.contains(.closedByPeer) {
                finish(sendGoodbye: false, event: nil)
                return
            }
            scheduleDTLSTimer()
        } catch {
            dtlsFailed(error)
        }
    }

    private func dtlsFailed(_ error: any Error) {
        guard let error = error as? DTLSError else {
            fail(.dtls(.protocolError("\(error)")))
            return
        }
        switch error {
        case .malformedDatagram:
            stats.malformed += 1
        case .fingerprintMismatch(let expected, let actual):
            fail(.fingerprintMismatch(expected: expected, actual: actual))
        default:
            fail(.dtls(error))
        }
    }

    private func handleSecureMedia(_ original: [UInt8]) {
        guard keysReady else {
            // Media before our keys: the DTLS server completes the handshake one flight before the client
            // (RFC 6347 §4.2.4) and may start sending at once. Hold a few packets until our keys exist.
            if dtls != nil, earlyMedia.count < 16 { earlyMedia.append(original) } else { stats.malformed += 1 }
            return
        }
        var datagram = original
        receiveTamperHook?(&datagram)
        guard let kind = RTPPacketClass.classify(datagram) else {
            stats.malformed += 1
            return
        }
        do {
            switch kind {
            case .rtcp:
                let plain = try inbound?.unprotectRTCP(datagram) ?? datagram
                handleRTCP(plain)
            case .rtp:
                let plain = try inbound?.unprotectRTP(datagram) ?? datagram
                handleRTP(plain)
            }
        } catch SRTPError.authenticationFailed {
            stats.authFailures += 1
        } catch SRTPError.replay {
            stats.replays += 1
        } catch {
            stats.malformed += 1
        }
        publish()
    }

    private func handleRTCP(_ bytes: [UInt8]) {
        guard let packets = try? RTCPPacket.parseCompound(bytes) else {
            stats.malformed += 1
            return
        }
        stats.rtcpReceived += 1
        for packet in packets {
            switch packet {
            case .senderReport(let report): reception.receive(report, arrival: ContinuousClock.now - epoch)
            case .other(let raw) where raw.packetType == Self.transportFeedback && raw.countOrFormat == Self.genericNACK:
                handleNACK(raw.body)
            default: break
            }
        }
    }

    // MARK: - Generic NACK (RFC 4585 §6.2.1)

    /// RTPFB (RFC 4585 §6.1) and its FMT for generic NACK.
    private static let transportFeedback: UInt8 = 205
    private static let genericNACK: UInt8 = 1

    /// The peer lost packets of ours: each FCI entry names one sequence number (PID) and a bitmask of the 16
    /// following (BLP). Packets still in the history are sent again unchanged (same SRTP packet: RFC 3711
    /// §3.3.2 replay protection only drops it if the first copy did arrive).
    private func handleNACK(_ body: [UInt8]) {
        guard configuration.nack, body.count >= 12, (body.count - 8) % 4 == 0 else { return }
        let mediaSSRC = UInt32(body[4]) << 24 | UInt32(body[5]) << 16 | UInt32(body[6]) << 8 | UInt32(body[7])
        guard mediaSSRC == audioSSRC else { return }
        stats.nacksReceived += 1
        var index = 8
        while index + 4 <= body.count {
            let pid = UInt16(body[index]) << 8 | UInt16(body[index + 1])
            let blp = UInt16(body[index + 2]) << 8 | UInt16(body[index + 3])
            index += 4
            var lost = [pid]
            for bit in 0..<16 where blp & (1 << bit) != 0 { lost.append(pid &+ UInt16(bit + 1)) }
            for sequence in lost {
                guard let protected = sentHistory[sequence] else { continue }
                if (try? transport.send(protected)) != nil { stats.retransmissions += 1 }
            }
        }
    }

    /// Asks for audio packets skipped between the highest sequence number so far and this one (at most 16;
    /// a bigger jump is a burst not worth repairing at 20 ms a packet).
    private func detectLoss(_ sequence: UInt16, ssrc: UInt32) {
        defer {
            if let highest = highestReceivedSequence {
                if Int16(bitPattern: sequence &- highest) > 0 { highestReceivedSequence = sequence }
            } else {
                highestReceivedSequence = sequence
            }
        }
        guard configuration.nack, keysReady, let highest = highestReceivedSequence else { return }
        let gap = Int16(bitPattern: sequence &- highest)
        guard gap > 1, gap <= 17 else { return }
        let first = highest &+ 1
        var blp: UInt16 = 0
        for offset in 1..<Int(gap - 1) { blp |= 1 << (offset - 1) }
        let body: [UInt8] = [
            UInt8(audioSSRC >> 24), UInt8(audioSSRC >> 16 & 0xFF), UInt8(audioSSRC >> 8 & 0xFF), UInt8(audioSSRC & 0xFF),
            UInt8(ssrc >> 24), UInt8(ssrc >> 16 & 0xFF), UInt8(ssrc >> 8 & 0xFF), UInt8(ssrc & 0xFF),
            UInt8(first >> 8), UInt8(first & 0xFF), UInt8(blp >> 8), UInt8(blp & 0xFF),
        ]
        // RFC 4585 §3.1: feedback goes in a compound packet that starts with a report and carries the CNAME.
        sendRTCP([
            .receiverReport(RTCPReceiverReport(ssrc: audioSSRC)),
            .sourceDescription(RTCPSourceDescription(chunks: [.init(ssrc: audioSSRC, items: [RTCPSDESItem(type: .cname, text: cname)])])),
            .other(RTCPRawPacket(packetType: Self.transportFeedback, countOrFormat: Self.genericNACK, body: body)),
        ])
        stats.nacksSent += 1
    }

    private func handleRTP(_ bytes: [UInt8]) {
        guard let packet = try? RTPPacket(parsing: bytes) else {
            stats.malformed += 1
            return
        }
        let format = configuration.audioFormat
        if packet.payloadType == format.payloadType {
            stats.packetsReceived += 1
            stats.bytesReceived += packet.payload.count
            if audioSourceSSRC == nil {
                audioSourceSSRC = packet.ssrc
                stats.remoteAudioSSRC = packet.ssrc
            }
            if let id = configuration.audioLevelExtensionID, let value = packet.header.headerExtension?.value(forID: id), let first = value.first {
                // RFC 6464 §3: the low 7 bits are the level in -dBov; the top bit is the voice activity flag.
                stats.remoteAudioLevel = Int(first & 0x7F)
            }
            if packet.ssrc == audioSourceSSRC { detectLoss(packet.header.sequenceNumber, ssrc: packet.ssrc) }
            let arrival = RTPSourceStatistics.timestampUnits(ContinuousClock.now - epoch, clockRate: format.codec.clockRate)
            _ = reception.receive(packet.header, arrival: arrival)
            if let writer {
                if let law = format.codec.law {
                    let result = playout.insert(packet, law: law)
                    record(result.samples, to: writer)
                } else if let opusDecoder {
                    // Opus frames are recorded in arrival order (on loopback that is the sending order); a
                    // packet libopus refuses counts as malformed.
                    do { record(try opusDecoder.decodeNarrowband(packet.payload), to: writer) } catch { stats.malformed += 1 }
                }
            }
            audioOut?.send(bytes)
            if !mediaFlowingReported {
                mediaFlowingReported = true
                timeline.mark("media.firstReceived")
                continuation.yield(.mediaFlowing)
            }
        } else if packet.payloadType == format.telephoneEventPayloadType {
            stats.telephoneEventsReceived += 1
            stats.packetsReceived += 1
            stats.bytesReceived += packet.payload.count
        } else if let video = configuration.video, video.receivePayloadTypes.contains(packet.payloadType) {
            stats.videoPacketsReceived += 1
            stats.packetsReceived += 1
            stats.bytesReceived += packet.payload.count
            videoOut?.send(bytes)
            if !mediaFlowingReported {
                mediaFlowingReported = true
                continuation.yield(.mediaFlowing)
            }
        } else {
            stats.malformed += 1
        }
    }

    private func record(_ samples: [Int16], to writer: WAVWriter) {
        guard !samples.isEmpty else { return }
        do {
            try writer.write(samples)
            stats.recordedSamples += samples.count
        } catch {
            logger.warning("recording stopped: \(error)")
            self.writer = nil
        }
    }

    // MARK: - Send path

    private func startTimers() {
        let now = ContinuousClock.now
        sendStart = now
        if case .rtp = configuration.audioSource {} else if case .silence = configuration.audioSource {} else {
            // The first frame goes out now, while we are on the queue anyway: a timer firing "now" still
            // waits for the queue and the scheduler, which added 1-3 ms to the call set-up time.
            sendDueFrames()
            let timer = DispatchSource.makeTimerSource(flags: .strict, queue: queue)
            timer.schedule(deadline: .now() + .milliseconds(20), repeating: .milliseconds(20), leeway: .milliseconds(1))
            timer.setEventHandler { [weak self] in self?.sendDueFrames() }
            timer.resume()
            sendTimer = timer
        }
        let report = DispatchSource.makeTimerSource(queue: queue)
        let interval = configuration.reportInterval
        let milliseconds = max(50, Int(interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000))
        report.schedule(deadline: .now() + .milliseconds(milliseconds), repeating: .milliseconds(milliseconds), leeway: .milliseconds(10))
        report.setEventHandler { [weak self] in self?.report() }
        report.resume()
        reportTimer = report
    }

    /// Sends every frame whose time has come. Frame n carries timestamp offset 160·n, so the RTP clock follows
    /// the wall clock (RFC 3550 §5.1) even when a timer fires late.
    private func sendDueFrames() {
        guard phase == .connected, let sendStart else { return }
        let elapsed = ContinuousClock.now - sendStart
        let due = UInt64(max(0, elapsed / Self.frameDuration)) + 1
        // More than 5 frames behind (the process was stalled): skip the backlog rather than burst it.
        if due > nextFrameIndex + 5 {
            let skipped = due - 5 - nextFrameIndex
            _ = source.nextFrame(count: Int(skipped) * Self.frameSamples)
            nextFrameIndex += skipped
        }
        while nextFrameIndex < due {
            let samples = source.nextFrame(count: Self.frameSamples)
            // RTP timestamp units per 20 ms frame: 160 at 8 kHz, 960 at Opus' 48 kHz (RFC 7587 §4.1).
            let unitsPerFrame = UInt64(configuration.audioFormat.codec.clockRate / 50)
            let offset = UInt32(truncatingIfNeeded: nextFrameIndex &* unitsPerFrame)
            nextFrameIndex += 1
            let payload: [UInt8]
            if let law = configuration.audioFormat.codec.law {
                payload = law.encode(samples)
            } else if let opusEncoder {
                // Encoded even when not sending, so the encoder's state follows the source.
                do { payload = try opusEncoder.encode(narrowband: samples) } catch {
                    logger.warning("Opus encode failed: \(error)")
                    continue
                }
            } else {
                preconditionFailure("an Opus session without an encoder")
            }
            guard direction.sends else { continue }
            let packet = sender.makePacket(payloadType: configuration.audioFormat.payloadType, payload: payload,
                                           timestampOffset: offset, marker: markNextPacket, headerExtension: audioLevelExtension(samples))
            markNextPacket = false
            sendRTP(packet, payloadBytes: samples.count)
        }
        publish()
    }

    /// RFC 6464 §3 level of one frame: its RMS in -dBov (0 loudest … 127 silence), the V bit set when it is
    /// not silence.
    private func audioLevelExtension(_ samples: [Int16]) -> RTPHeaderExtension? {
        guard let id = configuration.audioLevelExtensionID, !samples.isEmpty else { return nil }
        let power = samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(samples.count)
        let level = power > 0 ? min(127, max(0, Int((-10 * log10(power / (32768.0 * 32768.0))).rounded()))) : 127
        let voice: UInt8 = level < 127 ? 0x80 : 0
        return .oneByte([RTPHeaderExtensionElement(id: id, value: [voice | UInt8(level)])])
    }

    private func sendRTP(_ packet: RTPPacket, payloadBytes: Int) {
        guard let bytes = try? packet.serialized() else { return }
        let protected: [UInt8]
        do {
            protected = try outbound?.protectRTP(bytes) ?? bytes
        } catch {
            logger.warning("SRTP protect failed: \(error)")
            return
        }
        if configuration.nack, packet.header.ssrc == audioSSRC {
            let sequence = packet.header.sequenceNumber
            sentHistory[sequence] = protected
            sentHistoryOrder.append(sequence)
            if sentHistoryOrder.count > Self.sentHistoryLimit { sentHistory[sentHistoryOrder.removeFirst()] = nil }
        }
        if packet.header.ssrc == audioSSRC, let filter = sendFilterHook, !filter(packet.header.sequenceNumber) {
            stats.packetsSent += 1
            stats.bytesSent += payloadBytes
            return
        }
        do {
            try transport.send(protected)
            if stats.packetsSent == 0 { timeline.mark("media.firstSent") }
            stats.packetsSent += 1
            stats.bytesSent += payloadBytes
        } catch {
            logger.debug("send failed: \(error)")
        }
    }

    /// RTP from the local audio input port: our SSRC, our sequence numbers, the negotiated payload type, the
    /// input's timestamps rebased onto ours.
    private func relayAudioIn(_ bytes: [UInt8]) {
        guard phase == .connected, direction.sends, let packet = try? RTPPacket(parsing: bytes) else { return }
        let first = firstRelayTimestamp ?? packet.timestamp
        firstRelayTimestamp = first
        let rewritten = sender.makePacket(payloadType: configuration.audioFormat.payloadType, payload: packet.payload,
                                          timestampOffset: packet.timestamp &- first, marker: packet.marker || markNextPacket)
        markNextPacket = false
        sendRTP(rewritten, payloadBytes: packet.payload.count)
        publish()
    }

    /// Video RTP from the local input port: only SSRC, sequence numbers and payload type are rewritten.
    private func relayVideoIn(_ bytes: [UInt8]) {
        guard phase == .connected, direction.sends, let video = configuration.video, var videoSender,
              let packet = try? RTPPacket(parsing: bytes) else { return }
        let first = firstVideoRelayTimestamp ?? packet.timestamp
        firstVideoRelayTimestamp = first
        let rewritten = videoSender.makePacket(payloadType: video.payloadType, payload: packet.payload,
                                               timestampOffset: packet.timestamp &- first, marker: packet.marker,
                                               headerExtension: packet.headerExtension)
        self.videoSender = videoSender
        stats.videoPacketsSent += 1
        sendRTP(rewritten, payloadBytes: packet.payload.count)
    }

    private func send(_ datagrams: [[UInt8]]) {
        for datagram in datagrams {
            do {
                try transport.send(datagram)
            } catch {
                logger.debug("send failed: \(error)")
            }
        }
    }

    // MARK: - RTCP and statistics

    /// RFC 3550 §6.4: an SR when we have sent since the last report, else an RR; always with an SDES CNAME
    /// (§6.1: every compound packet carries one).
    private func report() {
        guard phase == .connected else { return }
        var packets = [RTCPPacket]()
        let blocks = reception.makeReportBlocks(now: ContinuousClock.now - epoch)
        if sender.packetCount > 0 {
            let offset = sendStart.map {
                RTPSourceStatistics.timestampUnits(ContinuousClock.now - $0, clockRate: configuration.audioFormat.codec.clockRate)
            } ?? 0
            packets.append(.senderReport(sender.makeSenderReport(ntpTimestamp: Self.ntpNow(), timestampOffset: offset, reportBlocks: blocks)))
        } else {
            packets.append(.receiverReport(RTCPReceiverReport(ssrc: audioSSRC, reportBlocks: blocks)))
        }
        packets.append(.sourceDescription(RTCPSourceDescription(chunks: [
            .init(ssrc: audioSSRC, items: [RTCPSDESItem(type: .cname, text: cname)]),
        ])))
        sendRTCP(packets)
        publish()
        continuation.yield(.stats(stats))
    }

    private lazy var cname: String = configuration.cname ?? UUID().uuidString.lowercased()

    private func sendRTCP(_ packets: [RTCPPacket]) {
        guard let bytes = try? RTCPPacket.serializeCompound(packets) else { return }
        do {
            let protected = try outbound?.protectRTCP(bytes) ?? bytes
            try transport.send(protected)
            stats.rtcpSent += 1
        } catch {
            logger.debug("RTCP send failed: \(error)")
        }
    }

    /// NTP time (seconds since 1900 in the high word, RFC 3550 §4).
    static func ntpNow() -> UInt64 {
        let unix = Date().timeIntervalSince1970
        let seconds = UInt64(unix) + 2_208_988_800
        let fraction = UInt64((unix - unix.rounded(.down)) * 4_294_967_296)
        return seconds << 32 | fraction
    }

    /// Copies the counters (with loss and jitter of the audio source) to where other threads read them.
    private func publish() {
        if let ssrc = audioSourceSSRC, let source = reception.sources[ssrc] {
            stats.packetsLost = max(0, Int(source.cumulativeLost))
            stats.jitterMilliseconds = Double(source.jitter) / 8
        }
        let current = stats
        snapshot.withLock { $0 = current }
    }

    // MARK: - DTLS timer

    private func scheduleDTLSTimer() {
        dtlsTimer?.cancel()
        dtlsTimer = nil
        guard let dtls, let deadline = dtls.nextTimeout, phase != .finished else { return }
        let delay = max(.zero, deadline - .now)
        let milliseconds = Int(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000) + 1
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + .milliseconds(milliseconds))
        timer.setEventHandler { [weak self] in self?.dtlsTimeout() }
        timer.resume()
        dtlsTimer = timer
    }

    private func dtlsTimeout() {
        guard let dtls, phase != .finished else { return }
        do {
            send(try dtls.handleTimeout(now: .now))
            scheduleDTLSTimer()
        } catch {
            dtlsFailed(error)
        }
    }

    // MARK: - Ending

    private func fail(_ error: MediaError) {
        guard phase != .finished else { return }
        logger.warning("media session failed: \(error)")
        if let dtls { send(dtls.close()) }
        finish(sendGoodbye: false, event: .failed(error))
    }

    /// Ends everything once. `event` is `.failed` for failures; otherwise `.ended` with the final counters.
    private func finish(sendGoodbye: Bool, event: MediaEvent?) {
        guard phase != .finished else { return }
        let wasConnected = phase == .connected
        if sendGoodbye, wasConnected {
            sendRTCP([
                .receiverReport(RTCPReceiverReport(ssrc: audioSSRC)),
                .goodbye(RTCPGoodbye(ssrcs: [audioSSRC])),
            ])
        }
        if sendGoodbye, let dtls, event == nil { send(dtls.close()) }
        phase = .finished
        for timer in [sendTimer, reportTimer, dtlsTimer] { timer?.cancel() }
        sendTimer = nil
        reportTimer = nil
        dtlsTimer = nil
        if let writer {
            record(playout.flush(), to: writer)
            try? writer.close()
            self.writer = nil
        }
        for socket in [audioIn, audioOut, videoIn, videoOut] { socket?.close() }
        transport.setReceiveHandler(nil)
        publish()
        continuation.yield(event ?? .ended(stats))
        continuation.finish()
    }
}

extension AudioFormat.Codec {
    /// The G.711 law, nil for Opus.
    var law: G711Law? {
        switch self {
        case .pcmu: .muLaw
        case .pcma: .aLaw
        case .opus: nil
        }
    }
}

/// SDES keying (RFC 4568): our sending and receiving SRTP sessions from the local and remote `a=crypto`
/// lines, which must name the same suite (§7.1.2) and carry key parameters.
func sdesSessions(local: SDESCryptoAttribute, remote: SDESCryptoAttribute) throws(MediaError) -> (outbound: SRTPSession, inbound: SRTPSession) {
    guard local.profile == remote.profile else {
        throw .keyingMismatch("local suite \(local.profile.sdesName) but remote \(remote.profile.sdesName) (RFC 4568 §7.1.2)")
    }
    guard let localKey = local.keyParams.first, let remoteKey = remote.keyParams.first else {
        throw .keyingMismatch("a=crypto without key parameters")
    }
    do {
        return try SRTPSession.pair(profile: local.profile, localKey: localKey.key, localSalt: localKey.salt,
                                    remoteKey: remoteKey.key, remoteSalt: remoteKey.salt)
    } catch let error as SRTPError {
        throw .srtp(error)
    } catch {
        throw .srtp(.unsupported("\(error)"))
    }
}
