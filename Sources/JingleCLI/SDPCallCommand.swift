import ArgumentParser
import DTLS
import Foundation
import ICE
import Media
import SDP
#if canImport(Glibc)
import Glibc
#endif

/// `jingle sdp-call`: one end of a WebRTC-style audio call whose offer and answer travel as SDP files.
struct SDPCallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sdp-call",
        abstract: "Make or answer an audio call (ICE, DTLS-SRTP, RTP) with SDP offer/answer exchanged through files.",
        discussion: """
        One side writes an offer and reads the answer (--offer-out/--answer-in), the other reads the offer \
        and writes the answer (--offer-in/--answer-out). FILE may be - for standard input/output. An input \
        file is waited for until it exists and is non-empty (--wait). Output files are written atomically \
        (a temporary file in the same directory, then renamed), so the peer never reads half a description.

        The SDP carries every ICE candidate (gathering completes before it is written; a=end-of-candidates, \
        no trickle), DTLS-SRTP over UDP/TLS/RTP/SAVPF, rtcp-mux and a BUNDLE group of one audio m-line (PCMU, \
        PCMA, telephone-event) and, with a --video-rtp-* option, one video m-line (VP8, H264) whose RTP is \
        relayed to and from local UDP ports untouched apart from SSRC and payload type.

        State changes and per-second statistics go to standard error (as JSON lines on standard output with \
        --json), then a summary.

        Exit status: 0 if media flowed both ways (at least one packet sent, and one received and \
        decrypted), 1 otherwise (with a one-line reason), 64 on a usage error.

        Examples:
          jingle sdp-call --offer-out offer.sdp --answer-in answer.sdp --audio tone:440 --record heard.wav --duration 10s
          jingle sdp-call --offer-in offer.sdp --answer-out answer.sdp --audio tone:880 --record heard.wav --bind 127.0.0.1
          jingle sdp-call --offer-in - --answer-out answer.sdp --audio wav:music.wav --duration 2m --json
          jingle sdp-call --offer-out o.sdp --answer-in a.sdp --audio-rtp-in udp://127.0.0.1:5004 --audio-rtp-out udp://127.0.0.1:5006
          jingle sdp-call --offer-out o.sdp --answer-in a.sdp --turn 127.0.0.1:3478 --turn-user alice --turn-pass alicepw
        """
    )

    @Option(name: .customLong("offer-out"), help: ArgumentHelp("Write our offer here (offerer).", valueName: "FILE"))
    var offerOut: String?
    @Option(name: .customLong("answer-in"), help: ArgumentHelp("Read the peer's answer from here (offerer).", valueName: "FILE"))
    var answerIn: String?
    @Option(name: .customLong("offer-in"), help: ArgumentHelp("Read the peer's offer from here (answerer).", valueName: "FILE"))
    var offerIn: String?
    @Option(name: .customLong("answer-out"), help: ArgumentHelp("Write our answer here (answerer).", valueName: "FILE"))
    var answerOut: String?

    @Option(help: ArgumentHelp("What to send: tone:FREQ or wav:FILE.", valueName: "SOURCE"))
    var audio = "tone:440"
    @Option(help: ArgumentHelp("Record received audio (8 kHz mono WAV).", valueName: "OUT.wav"))
    var record: String?
    @Option(help: ArgumentHelp("How long media runs once connected: 10s, 500ms, 2m.", valueName: "TIME"))
    var duration = "10s"
    @Option(help: ArgumentHelp("How long to wait for an input file, and for ICE/DTLS to connect.", valueName: "TIME"))
    var wait = "30s"
    @Flag(help: "State changes and per-second statistics as JSON lines on standard output.")
    var json = false
    @Option(help: ArgumentHelp("Local addresses for host candidates (repeat or comma-separate); default every interface.", valueName: "ADDR"))
    var bind: [String] = []
    @Option(help: ArgumentHelp("STUN server (IP literal).", valueName: "HOST:PORT"))
    var stun: String?
    @Option(help: ArgumentHelp("TURN server over UDP (IP literal).", valueName: "HOST:PORT"))
    var turn: String?
    @Option(name: .customLong("turn-user"), help: "TURN user name.")
    var turnUser: String?
    @Option(name: .customLong("turn-pass"), help: "TURN password.")
    var turnPass: String?
    @Option(name: .customLong("audio-rtp-in"), help: ArgumentHelp("Send RTP arriving here instead of --audio.", valueName: "udp://HOST:PORT"))
    var audioRTPIn: String?
    @Option(name: .customLong("audio-rtp-out"), help: ArgumentHelp("Relay decrypted received audio RTP here.", valueName: "udp://HOST:PORT"))
    var audioRTPOut: String?
    @Option(name: .customLong("video-rtp-in"), help: ArgumentHelp("Send video RTP arriving here (adds a video m-line).", valueName: "udp://HOST:PORT"))
    var videoRTPIn: String?
    @Option(name: .customLong("video-rtp-out"), help: ArgumentHelp("Relay received video RTP here (adds a video m-line).", valueName: "udp://HOST:PORT"))
    var videoRTPOut: String?

    private var isOfferer: Bool { offerOut != nil }

    func validate() throws {
        switch (offerOut, answerIn, offerIn, answerOut) {
        case (.some, .some, nil, nil), (nil, nil, .some, .some): break
        default:
            throw ValidationError("use either --offer-out F --answer-in G (offerer) or --offer-in F --answer-out G (answerer)")
        }
        if offerOut == "-" && json || answerOut == "-" && json {
            throw ValidationError("--json writes to standard output; write the SDP to a file instead of -")
        }
        _ = try Self.parseDuration(duration, option: "--duration")
        _ = try Self.parseDuration(wait, option: "--wait")
        do {
            _ = try AudioSource(parsing: audio)
            for endpoint in [audioRTPIn, audioRTPOut, videoRTPIn, videoRTPOut].compactMap({ $0 }) { _ = try UDPEndpoint(url: endpoint) }
        } catch {
            throw ValidationError("\(error)")
        }
        if turn != nil, turnUser == nil || turnPass == nil { throw ValidationError("--turn needs --turn-user and --turn-pass") }
        if let stun { _ = try HostPort(stun, option: "--stun") }
        if let turn { _ = try HostPort(turn, option: "--turn") }
    }

    /// `10s`, `500ms`, `2m`, or plain seconds.
    static func parseDuration(_ text: String, option: String) throws -> Duration {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let value = Double(text.dropLast(suffix.count)), value >= 0, value.isFinite {
                return .milliseconds(Int64((value * scale * 1000).rounded()))
            }
            if suffix == "ms" { break }
        }
        if let value = Double(text), value >= 0, value.isFinite { return .milliseconds(Int64((value * 1000).rounded())) }
        throw ValidationError("\(option): expected a time like 10s, 500ms or 2m, got '\(text)'")
    }

    func run() async throws {
        let reporter = CallReporter(json: json)
        let waitLimit = try Self.parseDuration(wait, option: "--wait")
        let mediaTime = try Self.parseDuration(duration, option: "--duration")
        var configuration = ICEConfiguration(role: isOfferer ? .controlling : .controlled)
        configuration.localAddresses = bind.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        if let stun {
            let address = try HostPort(stun, option: "--stun")
            configuration.stunServer = .init(address: address.host, port: address.port16)
        }
        if let turn, let turnUser, let turnPass {
            let address = try HostPort(turn, option: "--turn")
            configuration.turnServers = [.init(address: address.host, port: address.port16, username: turnUser, password: turnPass)]
        }
        let wantsVideo = videoRTPIn != nil || videoRTPOut != nil

        let link = try await ICEMediaLink(configuration: configuration)
        let certificate = try DTLSCertificate.generate()
        reporter.state("gathering", "gathering ICE candidates")

        let offer: SessionDescription
        let answer: SessionDescription
        if let offerOut, let answerIn {
            let gathered = try await link.gatherAll()
            offer = CallSDP.offer(CallSDPLocal(credentials: gathered.credentials, candidates: gathered.candidates,
                                               fingerprint: certificate.fingerprint(), video: wantsVideo))
            try Self.writeAtomically(offer.serialized(), to: offerOut)
            reporter.state("offer-written", "offer written to \(offerOut) (\(gathered.candidates.count) candidates); waiting for the answer")
            answer = try await Self.readDescription(answerIn, waitLimit: waitLimit, what: "answer")
            reporter.state("ringing", "answer received; checking connectivity")
        } else if let offerIn, let answerOut {
            offer = try await Self.readDescription(offerIn, waitLimit: waitLimit, what: "offer")
            reporter.state("ringing", "offer received")
            let gathered = try await link.gatherAll()
            answer = try CallSDP.answer(to: offer, CallSDPLocal(credentials: gathered.credentials, candidates: gathered.candidates,
                                                                fingerprint: certificate.fingerprint(), video: wantsVideo))
            try Self.writeAtomically(answer.serialized(), to: answerOut)
            reporter.state("answer-written", "answer written to \(answerOut) (\(gathered.candidates.count) candidates); checking connectivity")
        } else {
            throw ValidationError("no offer/answer files")
        }

        let negotiated = try CallSDP.negotiate(offer: offer, answer: answer, weAreOfferer: isOfferer)
        var video: VideoRelay?
        if wantsVideo, let payloadType = negotiated.videoPayloadType {
            video = VideoRelay(payloadType: payloadType, receivePayloadTypes: negotiated.videoReceivePayloadTypes,
                               input: try videoRTPIn.map { try UDPEndpoint(url: $0) }, output: try videoRTPOut.map { try UDPEndpoint(url: $0) })
        }
        let source = try audioRTPIn.map { AudioSource.rtp(try UDPEndpoint(url: $0)) } ?? AudioSource(parsing: audio)
        let session = try MediaSession(transport: link.transport, configuration: MediaConfiguration(
            keying: .dtls(fingerprint: negotiated.remoteFingerprint, setup: negotiated.dtlsRole), certificate: certificate,
            audioFormat: negotiated.audioFormat, audioSource: source, recordURL: record.map { URL(fileURLWithPath: $0) },
            audioRTPOutput: try audioRTPOut.map { try UDPEndpoint(url: $0) }, video: video, direction: negotiated.direction,
            audioLevelExtensionID: negotiated.audioLevelExtensionID, nack: negotiated.nack))
        let outcome = CallOutcome()
        let events = session.events
        let eventTask = Task {
            for await event in events {
                reporter.event(event)
                await outcome.note(event)
            }
        }

        var failure: String?
        do {
            try await link.setRemote(credentials: negotiated.remoteCredentials, candidates: negotiated.remoteCandidates)
            try await link.waitUntilConnected(timeout: waitLimit)
            if let pair = await link.selectedPair() {
                reporter.state("ice-connected", "ICE connected \(pair.local.address):\(pair.local.port) <-> \(pair.remote.address):\(pair.remote.port)")
            }
            session.start()
            if let reason = await outcome.waitConnected(timeout: waitLimit) {
                failure = reason
            } else {
                await outcome.waitEnd(timeout: mediaTime)
            }
        } catch {
            failure = "\(error)"
        }
        let statistics = await session.stop()
        await link.close()
        _ = await eventTask.value
        if failure == nil, let reason = await outcome.failure { failure = reason }
        reporter.summary(statistics, codec: negotiated.audioFormat.codec.rawValue)
        if let failure { throw CLIError("call failed: \(failure)") }
        guard statistics.packetsSent > 0, statistics.packetsReceived > 0 else {
            throw CLIError("media did not flow both ways (sent \(statistics.packetsSent), received and decrypted \(statistics.packetsReceived))")
        }
    }

    /// Writes `text` to a temporary file in the target's directory and renames it into place, so a peer polling
    /// for the file sees all of it or nothing. `-` writes to standard output.
    static func writeAtomically(_ text: String, to path: String) throws {
        if path == "-" {
            FileHandle.standardOutput.write(Data(text.utf8))
            return
        }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        do {
            try Data(text.utf8).write(to: temporary)
        } catch {
            throw CLIError("cannot write \(temporary.path): \(error.localizedDescription)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw CLIError("cannot rename into \(path): \(reason)")
        }
    }

    /// Reads an SDP file once it exists and is non-empty (or standard input to its end for `-`).
    static func readDescription(_ path: String, waitLimit: Duration, what: String) async throws -> SessionDescription {
        var text: String
        if path == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            let deadline = ContinuousClock.now + waitLimit
            while true {
                if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                   let size = attributes[.size] as? NSNumber, size.intValue > 0 { break }
                guard ContinuousClock.now < deadline else { throw CLIError("no \(what) in \(path) after \(waitLimit)") }
                try await Task.sleep(for: .milliseconds(50))
            }
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw CLIError("cannot read \(path): \(error.localizedDescription)")
            }
        }
        // Some tools write bare LF line ends; RFC 8866 §5 asks for CRLF, and the parser accepts both.
        text = text.trimmingCharacters(in: .whitespacesAndNewlines) + "\r\n"
        do {
            return try SessionDescription(parsing: text)
        } catch {
            throw CLIError("the \(what) in \(path) is not valid SDP: \(error)")
        }
    }
}

/// Remembers what the session reported so the command can wait on it.
actor CallOutcome {
    private(set) var connected = false
    private(set) var ended = false
    private(set) var failure: String?

    func note(_ event: MediaEvent) {
        switch event {
        case .connected: connected = true
        case .ended: ended = true
        case .failed(let error):
            failure = "\(error)"
            ended = true
        case .mediaFlowing, .stats: break
        }
    }

    /// Nil once keys are in place; the reason when the session failed or time ran out.
    func waitConnected(timeout: Duration) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while !connected {
            if let failure { return failure }
            if ended { return "the session ended before it connected" }
            if ContinuousClock.now >= deadline { return "DTLS did not complete within \(timeout)" }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// Returns after `timeout`, or earlier when the session ends (the peer hung up) or fails.
    func waitEnd(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while !ended, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
    }
}

/// Human-readable lines on standard error, or JSON lines on standard output.
struct CallReporter: Sendable {
    let json: Bool
    let start = ContinuousClock.now

    private var seconds: Double {
        let (s, atto) = (ContinuousClock.now - start).components
        return ((Double(s) + Double(atto) / 1e18) * 1000).rounded() / 1000
    }

    func state(_ name: String, _ text: String) {
        if json {
            emit(.object(["event": .string("state"), "state": .string(name), "time": .double(seconds), "detail": .string(text)]))
        }
        FileHandle.standardError.write(Data((String(format: "[%7.3fs] ", seconds) + text + "\n").utf8))
    }

    func event(_ event: MediaEvent) {
        switch event {
        case .connected: state("connected", "connected (DTLS-SRTP keys in place)")
        case .mediaFlowing: state("media-flowing", "media flowing")
        case .stats(let stats):
            if json {
                emit(.object(["event": .string("stats"), "time": .double(seconds), "stats": Self.json(stats)]))
            }
            FileHandle.standardError.write(Data(String(
                format: "[%7.3fs] sent %d pkts/%d B, received %d pkts/%d B, lost %d, auth failures %d, jitter %.1f ms\n",
                seconds, stats.packetsSent, stats.bytesSent, stats.packetsReceived, stats.bytesReceived, stats.packetsLost,
                stats.authFailures, stats.jitterMilliseconds).utf8))
        case .ended: state("ended", "call ended")
        case .failed(let error): state("failed", "call failed: \(error)")
        }
    }

    func summary(_ stats: MediaStatistics, codec: String) {
        if json { emit(.object(["event": .string("summary"), "codec": .string(codec), "stats": Self.json(stats)])) }
        FileHandle.standardError.write(Data("""
            summary: codec \(codec); sent \(stats.packetsSent) packets (\(stats.bytesSent) bytes); received \(stats.packetsReceived) \
            packets (\(stats.bytesReceived) bytes); lost \(stats.packetsLost); NACKs sent \(stats.nacksSent)/received \
            \(stats.nacksReceived), retransmitted \(stats.retransmissions); SRTP auth failures \(stats.authFailures), replays \
            \(stats.replays); RTCP sent \(stats.rtcpSent)/received \(stats.rtcpReceived); recorded \(stats.recordedSamples) samples

            """.utf8))
    }

    private func emit(_ line: JSONLine) {
        FileHandle.standardOutput.write(Data((line.description + "\n").utf8))
    }

    static func json(_ stats: MediaStatistics) -> JSONLine {
        .object([
            "packetsSent": .number(stats.packetsSent), "bytesSent": .number(stats.bytesSent),
            "packetsReceived": .number(stats.packetsReceived), "bytesReceived": .number(stats.bytesReceived),
            "packetsLost": .number(stats.packetsLost), "authFailures": .number(stats.authFailures),
            "replays": .number(stats.replays), "jitterMs": .double(stats.jitterMilliseconds),
            "rtcpSent": .number(stats.rtcpSent), "rtcpReceived": .number(stats.rtcpReceived),
            "videoPacketsSent": .number(stats.videoPacketsSent), "videoPacketsReceived": .number(stats.videoPacketsReceived),
            "nacksSent": .number(stats.nacksSent), "nacksReceived": .number(stats.nacksReceived),
            "retransmissions": .number(stats.retransmissions),
        ])
    }
}
