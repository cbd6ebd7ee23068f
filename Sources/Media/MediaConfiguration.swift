public import DTLS
#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
public import SRTP

/// How the media of a `MediaSession` is keyed.
public enum MediaKeying: Sendable {
    /// DTLS-SRTP (RFC 5763, RFC 5764): a DTLS handshake over the media path, the peer's certificate checked
    /// against `fingerprint` (signalled out of band: SDP `a=fingerprint`, XEP-0320), the handshake role taken
    /// from `setup` (`active` = client), and SRTP keys exported with `EXTRACTOR-dtls_srtp`.
    case dtls(fingerprint: DTLSFingerprint, setup: DTLSRole)
    /// SDES (RFC 4568): both keys already travelled in the signalling (`a=crypto`). `local` protects what we
    /// send, `remote` unprotects what we receive; both must name the same suite.
    case sdes(local: SDESCryptoAttribute, remote: SDESCryptoAttribute)
    /// Plain RTP/RTCP, unencrypted (RTP/AVP).
    case none
}

/// Which way media goes (RFC 3264 §5.1 / §8.4 directions, as a session applies them).
public enum MediaDirection: String, Sendable, Hashable, CaseIterable {
    case sendrecv, sendonly, recvonly, inactive

    public var sends: Bool { self == .sendrecv || self == .sendonly }
    public var receives: Bool { self == .sendrecv || self == .recvonly }
}

/// A local UDP endpoint for handing RTP to or taking it from another program (ffmpeg, GStreamer).
/// Only IP literals; loopback is what it is meant for.
public struct UDPEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `udp://HOST:PORT` (IPv6 hosts in brackets: `udp://[::1]:5004`).
    public init(url text: String) throws(MediaError) {
        guard text.hasPrefix("udp://") else { throw .invalidConfiguration("expected udp://HOST:PORT, got \(text)") }
        let rest = text.dropFirst("udp://".count)
        guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]), port > 0 else {
            throw .invalidConfiguration("expected udp://HOST:PORT with a port 1-65535, got \(text)")
        }
        var host = String(rest[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw .invalidConfiguration("no host in \(text)") }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "udp://[\(host)]:\(port)" : "udp://\(host):\(port)" }
}

/// Where outgoing audio comes from.
public enum AudioSource: Sendable, Hashable {
    /// A sine tone at this frequency in Hz.
    case tone(Double)
    /// A 16-bit PCM WAV file (any rate, mono or stereo: the first channel is resampled to 8 kHz), looped.
    case wav(URL)
    /// RTP packets arriving on this local UDP endpoint, sent on with our SSRC and the negotiated payload type.
    case rtp(UDPEndpoint)
    /// Nothing is sent (receive only).
    case silence

    /// Parses the command-line forms `tone:440`, `wav:FILE`, `udp://HOST:PORT`.
    public init(parsing text: String) throws(MediaError) {
        if text.hasPrefix("tone:") {
            guard let frequency = Double(text.dropFirst(5)), frequency > 0, frequency < 4000 else {
                throw .invalidConfiguration("tone frequency must be a number of Hz below 4000, got \(text)")
            }
            self = .tone(frequency)
        } else if text.hasPrefix("wav:") {
            let path = String(text.dropFirst(4))
            guard !path.isEmpty else { throw .invalidConfiguration("wav: needs a file name") }
            self = .wav(URL(fileURLWithPath: path))
        } else if text.hasPrefix("udp://") {
            self = .rtp(try UDPEndpoint(url: text))
        } else {
            throw .invalidConfiguration("audio source must be tone:FREQ, wav:FILE or udp://HOST:PORT, got \(text)")
        }
    }
}

/// The audio codec (G.711 or Opus), with the payload types the offer/answer settled on.
public struct AudioFormat: Sendable, Hashable {
    public enum Codec: String, Sendable, Hashable {
        case pcmu = "PCMU"
        case pcma = "PCMA"
        /// Opus (RFC 7587) through libopus: 48 kHz mono, 20 ms frames.
        case opus

        /// The RTP clock rate (RFC 3551 §4.5.14: 8000 for G.711; RFC 7587 §4.1: always 48000 for Opus).
        public var clockRate: UInt32 { self == .opus ? 48000 : 8000 }
    }

    public var codec: Codec
    public var payloadType: UInt8
    /// RFC 4733 telephone-event payload type, if negotiated; such packets are counted and not recorded.
    public var telephoneEventPayloadType: UInt8?

    public init(codec: Codec, payloadType: UInt8, telephoneEventPayloadType: UInt8? = nil) {
        self.codec = codec
        self.payloadType = payloadType
        self.telephoneEventPayloadType = telephoneEventPayloadType
    }

    public static let pcmu = AudioFormat(codec: .pcmu, payloadType: 0)
    public static let pcma = AudioFormat(codec: .pcma, payloadType: 8)
}

/// Video is relayed, never decoded: RTP from `input` goes out with our SSRC and `payloadType`; received RTP
/// with one of `receivePayloadTypes` goes to `output` untouched (BUNDLE demultiplexing by payload type,
/// RFC 8843 §9.2).
public struct VideoRelay: Sendable, Hashable {
    public var payloadType: UInt8
    public var receivePayloadTypes: Set<UInt8>
    public var input: UDPEndpoint?
    public var output: UDPEndpoint?

    public init(payloadType: UInt8, receivePayloadTypes: Set<UInt8>? = nil, input: UDPEndpoint? = nil, output: UDPEndpoint? = nil) {
        self.payloadType = payloadType
        self.receivePayloadTypes = receivePayloadTypes ?? [payloadType]
        self.input = input
        self.output = output
    }
}

/// Everything a `MediaSession` needs besides its transport.
public struct MediaConfiguration: Sendable {
    public var keying: MediaKeying
    /// Our DTLS certificate (its fingerprint is what we signalled); required for `.dtls`.
    public var certificate: DTLSCertificate?
    public var audioFormat: AudioFormat
    public var audioSource: AudioSource
    /// Record received audio (8 kHz mono WAV) through a playout buffer that fills gaps with silence.
    public var recordURL: URL?
    /// Decrypted received audio RTP is also sent here.
    public var audioRTPOutput: UDPEndpoint?
    public var video: VideoRelay?
    public var direction: MediaDirection
    /// RTCP CNAME (RFC 3550 §6.5.1); random when nil.
    public var cname: String?
    /// How often statistics (and RTCP reports, RFC 3550 §6.2) are produced.
    public var reportInterval: Duration
    /// Our audio SSRC, when signalled beforehand (`a=ssrc`, XEP-0339); random when nil (RFC 3550 §8.1).
    public var audioSSRC: UInt32?
    /// Send the RFC 6464 audio level in every audio packet under this one-byte header extension id (1-14,
    /// RFC 8285 §4.2), and read the peer's under the same id.
    public var audioLevelExtensionID: UInt8?
    /// Generic NACK (RFC 4585 §6.2.1) was agreed: lost audio packets are asked for again, and the packets the
    /// peer asks for are sent again from a short history.
    public var nack: Bool

    public init(
        keying: MediaKeying, certificate: DTLSCertificate? = nil, audioFormat: AudioFormat = .pcmu,
        audioSource: AudioSource = .silence, recordURL: URL? = nil, audioRTPOutput: UDPEndpoint? = nil,
        video: VideoRelay? = nil, direction: MediaDirection = .sendrecv, cname: String? = nil,
        reportInterval: Duration = .seconds(1), audioSSRC: UInt32? = nil, audioLevelExtensionID: UInt8? = nil,
        nack: Bool = false
    ) {
        self.audioSSRC = audioSSRC
        self.audioLevelExtensionID = audioLevelExtensionID
        self.nack = nack
        self.keying = keying
        self.certificate = certificate
        self.audioFormat = audioFormat
        self.audioSource = audioSource
        self.recordURL = recordURL
        self.audioRTPOutput = audioRTPOutput
        self.video = video
        self.direction = direction
        self.cname = cname
        self.reportInterval = reportInterval
    }
}

/// Counters of one session, cumulative since it started.
public struct MediaStatistics: Sendable, Hashable {
    public var packetsSent = 0
    public var bytesSent = 0
    /// RTP packets that were decrypted (or accepted, without SRTP) and parsed.
    public var packetsReceived = 0
    public var bytesReceived = 0
    /// Cumulative loss of the audio source from its sequence numbers (RFC 3550 A.3).
    public var packetsLost = 0
    /// SRTP/SRTCP packets whose authentication tag failed (RFC 3711 §3.3): dropped.
    public var authFailures = 0
    /// SRTP/SRTCP replays (RFC 3711 §3.3.2): dropped.
    public var replays = 0
    /// Datagrams dropped for other reasons (not RTP/RTCP/DTLS, unparsable, unknown payload type).
    public var malformed = 0
    /// Interarrival jitter of the audio source in milliseconds (RFC 3550 A.8).
    public var jitterMilliseconds = 0.0
    public var rtcpSent = 0
    public var rtcpReceived = 0
    public var telephoneEventsReceived = 0
    public var videoPacketsSent = 0
    public var videoPacketsReceived = 0
    /// Samples written to the recording (silence for gaps included).
    public var recordedSamples = 0
    /// The SSRC of the peer's audio (the first one received).
    public var remoteAudioSSRC: UInt32?
    /// The last audio level the peer sent (RFC 6464: 0 is the loudest, 127 silence, in -dBov).
    public var remoteAudioLevel: Int?
    /// Generic NACKs (RFC 4585 §6.2.1) sent for lost audio packets, and received from the peer.
    public var nacksSent = 0
    public var nacksReceived = 0
    /// Audio packets sent again because the peer's NACK asked for them.
    public var retransmissions = 0

    public init() {}
}

/// What a `MediaSession` reports, in order.
public enum MediaEvent: Sendable, Hashable {
    /// Keys are in place (DTLS handshake done and fingerprint checked, or SDES/plain at start).
    case connected
    /// The first media packet from the peer was decrypted.
    case mediaFlowing
    /// Every `reportInterval`.
    case stats(MediaStatistics)
    /// The session was stopped (by us, or by the peer's DTLS close_notify); the final counters.
    case ended(MediaStatistics)
    /// The session failed; no media flows any more.
    case failed(MediaError)
}

/// Why a media session could not run.
public enum MediaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The peer's DTLS certificate does not match the signalled fingerprint (RFC 5763 §5): the call fails.
    case fingerprintMismatch(expected: DTLSFingerprint, actual: DTLSFingerprint)
    /// The DTLS handshake failed or timed out.
    case dtls(DTLSError)
    /// SRTP could not be set up (bad key lengths, unsupported suite).
    case srtp(SRTPError)
    /// SDES keys of the two sides name different suites, or no usable key.
    case keyingMismatch(String)
    /// Bad parameters from the caller (or the command line).
    case invalidConfiguration(String)
    /// An audio source or recording file could not be read or written.
    case io(String)
    /// A UDP relay socket could not be opened.
    case socket(String)
    /// Offer/answer produced nothing usable (no common codec, missing ICE or DTLS attributes).
    case negotiation(String)
    /// ICE failed or did not connect in time.
    case ice(String)
    /// A feature this target does not implement.
    case unsupported(String)

    public var description: String {
        switch self {
        case .fingerprintMismatch(let expected, let actual): "DTLS fingerprint mismatch: expected \(expected), got \(actual)"
        case .dtls(let error): "DTLS failed: \(error)"
        case .srtp(let error): "SRTP setup failed: \(error)"
        case .keyingMismatch(let text): "keying mismatch: \(text)"
        case .invalidConfiguration(let text): "invalid configuration: \(text)"
        case .io(let text): "I/O error: \(text)"
        case .socket(let text): "socket error: \(text)"
        case .negotiation(let text): "negotiation failed: \(text)"
        case .ice(let text): "ICE failed: \(text)"
        case .unsupported(let text): "unsupported: \(text)"
        }
    }
}
