public import DTLS
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
public import Logging
import RTP
public import SRTP
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How the plain leg of a `SecureToPlainRelay` is keyed.
public enum PlainLegKeying: Sendable {
    /// RTP/AVP: packets cross as they are.
    case none
    /// RTP/SAVP with SDES (RFC 4568): `local` protects what we send to the plain leg, `remote` unprotects what
    /// it sends us.
    case sdes(local: SDESCryptoAttribute, remote: SDESCryptoAttribute)
}

/// Where the plain leg's peer receives (from its SDP `c=`/`m=`, `a=rtcp`, `a=rtcp-mux`).
public struct PlainLegPeer: Sendable, Hashable {
    public var rtp: UDPEndpoint
    /// Where RTCP goes; nil with rtcp-mux (RFC 5761: on the RTP port).
    public var rtcp: UDPEndpoint?

    public init(rtp: UDPEndpoint, rtcp: UDPEndpoint?) {
        self.rtp = rtp
        self.rtcp = rtcp
    }
}

/// Packet counters of a relay, both ways.
public struct RelayStatistics: Sendable, Hashable, CustomStringConvertible {
    /// RTP and RTCP from the secure leg (SRTP unprotected) sent on to the plain leg.
    public var secureToPlainRTP = 0
    public var secureToPlainRTCP = 0
    /// RTP and RTCP from the plain leg sent on (SRTP protected) to the secure leg.
    public var plainToSecureRTP = 0
    public var plainToSecureRTCP = 0
    /// Dropped: undecryptable, replayed, malformed or sent before the keys existed.
    public var dropped = 0

    public init() {}

    public var relayedRTP: Int { secureToPlainRTP + plainToSecureRTP }

    public var description: String {
        "rtp secure->plain=\(secureToPlainRTP) plain->secure=\(plainToSecureRTP) rtcp secure->plain=\(secureToPlainRTCP) "
            + "plain->secure=\(plainToSecureRTCP) dropped=\(dropped)"
    }
}

public enum RelayEvent: Sendable, Hashable {
    /// DTLS-SRTP keys are in place on the secure leg: packets flow.
    case connected
    case failed(MediaError)
    case ended(RelayStatistics)
}

/// A media anchor between two legs of one call, as a SIP <-> XMPP gateway runs it:
///
/// ```
///  secure leg (ICE component, rtcp-mux, DTLS-SRTP)      plain leg (UDP RTP + RTCP sockets, RTP/AVP or SDES)
///   --RFC 7983--> DTLS handshake -> SRTP keys
///   --SRTP unprotect -------------------------------->  (SDES protect) --> peer RTP / RTCP address
///   <-- SRTP protect <--------------------------------  (SDES unprotect) <-- RTP port / RTCP port
/// ```
///
/// Payload types, SSRCs, sequence numbers and timestamps cross unchanged: each leg keeps one RTP session
/// end to end (RFC 3550 §7.1: a translator that does not mix keeps the sources' SSRCs), so RTCP reports stay
/// meaningful on both sides. The plain peer's address is learned from the first packet it sends (symmetric
/// RTP, RFC 4961), starting from the one its SDP gave.
///
/// All state lives on one serial queue: datagrams from both legs are handled there, as is the DTLS timer.
public final class SecureToPlainRelay: @unchecked Sendable {
    public let events: AsyncStream<RelayEvent>
    private let continuation: AsyncStream<RelayEvent>.Continuation
    private let secure: MediaTransport
    private let plain: PlainRTPPort
    private let logger: Logger
    private let queue = DispatchQueue(label: "swiftjingle.relay", qos: .userInteractive)
    private let snapshot = Mutex(RelayStatistics())

    private enum Phase { case created, started, connected, finished }
    // Touched only on `queue`.
    private var phase = Phase.created
    private let dtls: DTLSConnection
    private var outbound: SRTPSession?
    private var inbound: SRTPSession?
    private var plainOutbound: SRTPSession?
    private var plainInbound: SRTPSession?
    private var rtpPeer: SocketAddress
    private var rtcpPeer: SocketAddress
    private var stats = RelayStatistics()
    private var earlyMedia: [[UInt8]] = []
    private var dtlsTimer: DispatchSourceTimer?
    private var readSources: [DispatchSourceRead] = []

    /// Sets the relay up; the secure leg's receive handler is installed at once (a DTLS server may get the
    /// ClientHello before `start()`), the plain sockets are read from now on too.
    /// - Parameters:
    ///   - secure: the ICE (or other) transport of the DTLS-SRTP leg.
    ///   - certificate: ours, whose fingerprint the secure leg's signalling carries.
    ///   - remoteFingerprint: the secure peer's (SDP `a=fingerprint`, XEP-0320).
    ///   - role: `.client` when our `a=setup` is `active` (RFC 5763 §5).
    ///   - plain: the gateway's RTP/RTCP port pair for the plain leg.
    ///   - peer: where the plain leg's RTP and RTCP go (the SIP party's `c=`/`m=` and `a=rtcp`).
    ///   - plainKeying: `.none` for RTP/AVP, or SDES keys for RTP/SAVP (RFC 4568).
    ///   - logger: where relay events are logged.
    public init(secure: MediaTransport, certificate: DTLSCertificate, remoteFingerprint: DTLSFingerprint, role: DTLSRole,
                plain: PlainRTPPort, peer: PlainLegPeer, plainKeying: PlainLegKeying = .none,
                logger: Logger = Logger(label: "swiftjingle.relay")) throws(MediaError) {
        self.secure = secure
        self.plain = plain
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(of: RelayEvent.self, bufferingPolicy: .unbounded)
        do {
            dtls = try DTLSConnection(role: role, certificate: certificate, remoteFingerprint: remoteFingerprint)
        } catch let error as DTLSError {
            throw .dtls(error)
        } catch {
            throw .dtls(.openSSL(operation: "DTLSConnection", reason: "\(error)"))
        }
        rtpPeer = try SocketAddress(host: peer.rtp.host, port: peer.rtp.port)
        rtcpPeer = try SocketAddress(host: (peer.rtcp ?? peer.rtp).host, port: (peer.rtcp ?? peer.rtp).port)
        if case .sdes(let local, let remote) = plainKeying {
            (plainOutbound, plainInbound) = try sdesSessions(local: local, remote: remote)
        }
        let queue = queue
        secure.setReceiveHandler { [weak self] datagram in
            guard let relay = self else { return }
            queue.async { relay.fromSecure(datagram) }
        }
        for (fd, isRTCPPort) in [(plain.rtpDescriptor, false), (plain.rtcpDescriptor, true)] {
            let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
            source.setEventHandler { [weak self] in self?.readPlain(fd, rtcpPort: isRTCPPort) }
            source.resume()
            readSources.append(source)
        }
    }

    deinit {
        secure.setReceiveHandler(nil)
        continuation.finish()
    }

    /// Starts once the secure leg's ICE pair works: the DTLS client sends its ClientHello.
    public func start() {
        queue.async { self.startOnQueue() }
    }

    /// The counters now (any thread).
    public var statistics: RelayStatistics { snapshot.withLock { $0 } }

    /// Ends the relay: DTLS close_notify, sockets closed, `.ended`. Returns the final counters.
    @discardableResult
    public func stop() async -> RelayStatistics {
        await withCheckedContinuation { (done: CheckedContinuation<RelayStatistics, Never>) in
            queue.async {
                self.finish(event: nil, closeNotify: true)
                done.resume(returning: self.stats)
            }
        }
    }

    // MARK: - DTLS

    private func startOnQueue() {
        guard phase == .created else { return }
        phase = .started
        if dtls.role == .client, dtls.state == .idle {
            do {
                sendSecure(try dtls.start(now: .now))
                scheduleDTLSTimer()
            } catch {
                dtlsFailed(error)
            }
        }
    }

    private func handleDTLS(_ datagram: [UInt8]) {
        do {
            let output = try dtls.receive(datagram, now: .now)
            sendSecure(output.datagrams)
            if output.handshakeCompleted { keysFromDTLS() }
            if output.events.contains(.closedByPeer) {
                finish(event: nil, closeNotify: false)
                return
            }
            scheduleDTLSTimer()
        } catch {
            dtlsFailed(error)
        }
    }

    private func keysFromDTLS() {
        do {
            let material = try dtls.exportSRTPKeyingMaterial()
            guard let profile = SRTPProfile(rawValue: material.profile.rawValue) else {
                fail(.unsupported("SRTP profile \(material.profile.rawValue)"))
                return
            }
            (outbound, inbound) = try SRTPSession.pair(profile: profile, localKey: material.localKey, localSalt: material.localSalt,
                                                       remoteKey: material.remoteKey, remoteSalt: material.remoteSalt)
            phase = .connected
            continuation.yield(.connected)
            logger.debug("relay: DTLS-SRTP keys in place", metadata: ["profile": "\(profile.rawValue)"])
            let early = earlyMedia
            earlyMedia = []
            for datagram in early { fromSecure(datagram) }
        } catch let error as DTLSError {
            fail(.dtls(error))
        } catch let error as SRTPError {
            fail(.srtp(error))
        } catch {
            fail(.dtls(.protocolError("\(error)")))
        }
    }

    private func dtlsFailed(_ error: any Error) {
        guard let error = error as? DTLSError else {
            fail(.dtls(.protocolError("\(error)")))
            return
        }
        switch error {
        case .malformedDatagram: count { $0.dropped += 1 }
        case .fingerprintMismatch(let expected, let actual): fail(.fingerprintMismatch(expected: expected, actual: actual))
        default: fail(.dtls(error))
        }
    }

    private func scheduleDTLSTimer() {
        dtlsTimer?.cancel()
        dtlsTimer = nil
        guard let deadline = dtls.nextTimeout, phase != .finished else { return }
        let timer = DispatchSource.makeTimerSource(queue: queue)
        let delay = max(Duration.zero, deadline - .now)
        let (seconds, attoseconds) = delay.components
        timer.schedule(deadline: .now() + .nanoseconds(Int(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)))
        timer.setEventHandler { [weak self] in self?.dtlsTimeout() }
        timer.resume()
        dtlsTimer = timer
    }

    private func dtlsTimeout() {
        guard phase != .finished else { return }
        do {
            sendSecure(try dtls.handleTimeout(now: .now))
            scheduleDTLSTimer()
        } catch {
            dtlsFailed(error)
        }
    }

    // MARK: - Secure leg -> plain leg

    private func fromSecure(_ datagram: [UInt8]) {
        guard phase != .finished else { return }
        switch DatagramDemultiplexer.kind(of: datagram) {
        case .dtls:
            handleDTLS(datagram)
        case .rtp:
            guard let inbound else {
                // The DTLS server has its keys one flight before the client (RFC 6347 §4.2.4): hold a few.
                if earlyMedia.count < 32 { earlyMedia.append(datagram) } else { count { $0.dropped += 1 } }
                return
            }
            guard let kind = RTPPacketClass.classify(datagram) else { count { $0.dropped += 1 }; return }
            do {
                switch kind {
                case .rtp:
                    let packet = try inbound.unprotectRTP(datagram)
                    sendPlain(try plainOutbound?.protectRTP(packet) ?? packet, to: rtpPeer, descriptor: plain.rtpDescriptor)
                    count { $0.secureToPlainRTP += 1 }
                case .rtcp:
                    let packet = try inbound.unprotectRTCP(datagram)
                    let muxed = rtcpPeer == rtpPeer
                    sendPlain(try plainOutbound?.protectRTCP(packet) ?? packet, to: rtcpPeer,
                              descriptor: muxed ? plain.rtpDescriptor : plain.rtcpDescriptor)
                    count { $0.secureToPlainRTCP += 1 }
                }
            } catch {
                count { $0.dropped += 1 }
            }
        case .stun, .zrtp, .turnChannel, .unknown:
            count { $0.dropped += 1 }
        }
    }

    private func sendPlain(_ bytes: [UInt8], to address: SocketAddress, descriptor: Int32) {
        var storage = address.storage
        _ = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(descriptor, buffer.baseAddress, buffer.count, 0, $0, address.length) }
            }
        }
    }

    // MARK: - Plain leg -> secure leg

    private func readPlain(_ fd: Int32, rtcpPort: Bool) {
        var buffer = [UInt8](repeating: 0, count: 2048)
        while phase != .finished {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let received = buffer.withUnsafeMutableBytes { raw in
                withUnsafeMutablePointer(to: &storage) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT), $0, &length) }
                }
            }
            guard received > 0 else { return }
            fromPlain(Array(buffer[0..<received]), source: SocketAddress(storage: storage, length: length), rtcpPort: rtcpPort)
        }
    }

    private func fromPlain(_ datagram: [UInt8], source: SocketAddress, rtcpPort: Bool) {
        // Only RTP version 2 (RFC 3550 §5.1) is relayed; anything else on the port is noise.
        guard datagram.count >= 8, datagram[0] >> 6 == 2, let kind = RTPPacketClass.classify(datagram) else {
            count { $0.dropped += 1 }
            return
        }
        guard let outbound, phase == .connected else {
            count { $0.dropped += 1 }
            return
        }
        do {
            switch kind {
            case .rtp:
                // Symmetric RTP (RFC 4961): answer where the peer sends from.
                if !rtcpPort {
                    if rtcpPeer == rtpPeer { rtcpPeer = source }
                    rtpPeer = source
                }
                let packet = try plainInbound?.unprotectRTP(datagram) ?? datagram
                try secure.send(try outbound.protectRTP(packet))
                count { $0.plainToSecureRTP += 1 }
            case .rtcp:
                if rtcpPort { rtcpPeer = source }
                let packet = try plainInbound?.unprotectRTCP(datagram) ?? datagram
                try secure.send(try outbound.protectRTCP(packet))
                count { $0.plainToSecureRTCP += 1 }
            }
        } catch {
            count { $0.dropped += 1 }
        }
    }

    // MARK: - Helpers

    private func sendSecure(_ datagrams: [[UInt8]]) {
        for datagram in datagrams {
            do { try secure.send(datagram) } catch { logger.debug("relay: secure send failed: \(error)") }
        }
    }

    private func count(_ change: (inout RelayStatistics) -> Void) {
        change(&stats)
        let current = stats
        snapshot.withLock { $0 = current }
    }

    private func fail(_ error: MediaError) {
        guard phase != .finished else { return }
        logger.warning("relay failed: \(error)")
        finish(event: .failed(error), closeNotify: true)
    }

    private func finish(event: RelayEvent?, closeNotify: Bool) {
        guard phase != .finished else { return }
        if closeNotify { sendSecure(dtls.close()) }
        phase = .finished
        dtlsTimer?.cancel()
        dtlsTimer = nil
        // The read sources own the descriptors from here: each closes its own once cancelled.
        plain.handOver()
        for (source, fd) in zip(readSources, [plain.rtpDescriptor, plain.rtcpDescriptor]) {
            source.setCancelHandler { _ = Glibc.close(fd) }
            source.cancel()
        }
        readSources.removeAll()
        secure.setReceiveHandler(nil)
        continuation.yield(event ?? .ended(stats))
        continuation.finish()
    }
}
