import Foundation
import RTP
#if canImport(Glibc)
import Glibc
#endif

public let baresipAvailable = FileManager.default.isExecutableFile(atPath: "/usr/bin/baresip")

/// A headless baresip on loopback (ausine runs at 48 kHz only, hence the 48 kHz stereo audio): UDP SIP on 127.0.0.1 only, account `peer` auto-answering, PCMU only, a
/// 440 Hz sine as microphone (ausine), a silent speaker (aubridge) and both directions dumped to WAV files
/// by the sndfile module (`*-dec.wav` is what it decoded from the peer).
public final class BaresipPeer: @unchecked Sendable {
    public let directory: URL
    public let sipPort: Int
    public let process = Process()

    /// Writes the configuration (SIP on `sipPort`, a free one when nil); `run` starts it.
    public init(sipPort requestedPort: Int? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gw-baresip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("wav"), withIntermediateDirectories: true)
        // baresip also listens for SIP over TCP on this port and TLS on the next one.
        let sipPort = requestedPort ?? freeUDPPort()
        self.sipPort = sipPort
        let rtpBase = 20_000 + 2 * Int.random(in: 0..<10_000)
        let config = """
        poll_method     epoll
        sip_listen      127.0.0.1:\(sipPort)
        net_interface   127.0.0.1
        dns_server      127.0.0.1:53
        call_local_timeout 30
        call_max_calls  4
        audio_player    aubridge,nil
        audio_source    ausine,440
        audio_alert     aubridge,nil
        ausrc_srate     48000
        ausrc_channels  2
        auplay_srate    48000
        auplay_channels 2
        rtp_ports       \(rtpBase)-\(rtpBase + 40)
        rtcp_mux        yes
        jitter_buffer_delay 1-10
        snd_path        \(directory.appendingPathComponent("wav").path)
        module_path     /usr/lib/baresip/modules
        module          g711.so
        module          ausine.so
        module          aubridge.so
        module          sndfile.so
        module_tmp      account.so
        module_app      menu.so

        """
        try config.write(to: directory.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        try "<sip:peer@127.0.0.1:\(sipPort)>;regint=0;answermode=auto;audio_codecs=PCMU\n"
            .write(to: directory.appendingPathComponent("accounts"), atomically: true, encoding: .utf8)
        try "".write(to: directory.appendingPathComponent("contacts"), atomically: true, encoding: .utf8)
    }

    /// Starts baresip for `seconds` (it quits by itself, hanging up), optionally dialling `dial` at once.
    public func run(seconds: Int, dial: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/baresip")
        var arguments = ["-f", directory.path, "-t", "\(seconds)"]
        if let dial { arguments += ["-e", "/dial \(dial)"] }
        process.arguments = arguments
        let log = directory.appendingPathComponent("out.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    public func wait(timeout seconds: Double) async -> Int32? { await waitForExit(process, timeout: seconds) }

    public var log: String {
        String(((try? String(contentsOf: directory.appendingPathComponent("out.log"), encoding: .utf8)) ?? "").suffix(3000))
    }

    /// The audio baresip decoded from its peer (the sndfile module's `…-dec.wav`).
    public func decodedAudio() throws -> WAVAudio? {
        let wav = directory.appendingPathComponent("wav")
        let names = try FileManager.default.contentsOfDirectory(atPath: wav.path).filter { $0.hasSuffix("dec.wav") }.sorted()
        guard let name = names.first else { return nil }
        return try WAVAudio(parsing: Array(try Data(contentsOf: wav.appendingPathComponent(name))))
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// The dominant one of 440 and 880 Hz (the tones the call tests send) in the first channel of a WAV file,
/// with the number of samples.
public func dominantTone(inWAV url: URL) throws -> (Double?, Int) {
    let audio = try WAVAudio(parsing: [UInt8](Data(contentsOf: url)))
    let samples = audio.channel(0)
    return (Goertzel.dominantFrequency(in: samples, sampleRate: Double(audio.format.sampleRate), candidates: [440, 880]), samples.count)
}

/// The dominant frequency of a recording between 300 and 1000 Hz, skipping the first `skip` seconds
/// (jitter-buffer start-up and silence before media).
public func dominantFrequency(_ audio: WAVAudio, skip: Double = 0.3) -> Double? {
    let samples = audio.channel(0)
    let rate = Double(audio.format.sampleRate)
    let start = min(samples.count, Int(skip * rate))
    let window = Array(samples[start...])
    guard window.count > Int(rate / 2) else { return nil }
    return Goertzel.dominantFrequency(in: window, sampleRate: rate, range: 300...1000, step: 10)
}

/// Waits for `process` to exit, polling so a stuck program cannot hang a test; after `seconds` it is sent
/// SIGTERM, then SIGKILL, and nil is returned. Otherwise its exit status.
public func waitForExit(_ process: Process, timeout seconds: Double) async -> Int32? {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while process.isRunning {
        if ContinuousClock.now > deadline {
            process.terminate()
            try? await Task.sleep(for: .milliseconds(200))
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            return nil
        }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return process.terminationStatus
}
