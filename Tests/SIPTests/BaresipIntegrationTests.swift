import Foundation
import Logging
import TestServers
import Testing
@testable import SIP

let baresipAvailable = FileManager.default.isExecutableFile(atPath: "/usr/bin/baresip")
    && FileManager.default.fileExists(atPath: "/usr/lib/baresip/modules/g711.so")

/// baresip as a second, independent SIP stack: it answers our calls automatically and calls us.
@Suite("baresip interop", .serialized, .enabled(if: baresipAvailable, "baresip is installed on the build machine"))
struct BaresipIntegrationTests {
    let offer = "v=0\r\no=jingle 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

    /// Writes a baresip configuration that listens on `port`, sends a sine tone (the ausine module
    /// only runs at 48 kHz stereo), records to a file, and auto-answers.
    func configure(port: Int) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("baresip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = """
        poll_method epoll
        sip_listen 127.0.0.1:\(port)
        audio_player aufile,\(directory.path)/out.wav
        audio_source ausine,440
        audio_alert aufile,\(directory.path)/alert.wav
        ausrc_srate 48000
        auplay_srate 48000
        ausrc_channels 2
        auplay_channels 1
        module_path /usr/lib/baresip/modules
        module g711.so
        module ausine.so
        module aufile.so
        module_app account.so
        module_app menu.so
        net_interface 127.0.0.1

        """
        try config.write(to: directory.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        try "<sip:baresip@127.0.0.1>;regint=0;answermode=auto\n".write(to: directory.appendingPathComponent("accounts"), atomically: true, encoding: .utf8)
        return directory
    }

    func launch(_ directory: URL, extra: [String] = []) throws -> SIPpProcess {
        try SIPpProcess(executable: "/usr/bin/baresip", arguments: ["-f", directory.path, "-4", "-t", "8"] + extra, directory: directory)
    }

    @Test func weCallBaresipWhichAutoAnswers() async throws {
        let port = freeUDPPort()
        let baresip = try launch(try configure(port: port))
        await waitForPort(port, tcp: false)
        let endpoint = try await SIPEndpoint.start(logger: traceLogger())
        let call = try await endpoint.invite(to: try SIPURI("sip:baresip@127.0.0.1:\(port)"), sdp: offer)
        let events = try await withTimeout(10) {
            await collect(call.events) { if case .answered = $0 { return true }; if case .failed = $0 { return true }; return false }
        }
        guard case .answered(let sdp)? = events.last else {
            Issue.record("not answered: \(events)")
            await endpoint.shutdown()
            return
        }
        #expect(sdp?.contains("m=audio") == true)
        #expect(sdp?.contains("PCMU/8000") == true)
        try await Task.sleep(for: .milliseconds(300))
        try await call.hangUp()
        let end = try await withTimeout(10) { await collect(call.events) { _ in false } }
        #expect(end == [.ended(.localHangUp)])
        await endpoint.shutdown()
        await baresip.stop()
    }

    @Test func baresipCallsUs() async throws {
        let endpoint = try await SIPEndpoint.start(logger: traceLogger())
        let port = freeUDPPort()
        let baresip = try launch(try configure(port: port), extra: ["-e", "/dial sip:jingle@127.0.0.1:\(endpoint.port)"])
        let answer = offer
        let events = try await withTimeout(12) { () -> [SIPCallEvent] in
            var iterator = endpoint.incomingCalls.makeAsyncIterator()
            guard let incoming = await iterator.next() else { return [] }
            #expect(incoming.sdp?.contains("PCMU/8000") == true)
            try await incoming.ring()
            try await incoming.answer(sdp: answer)
            let confirmed = await collect(incoming.events) { _ in true }
            try await Task.sleep(for: .milliseconds(300))
            try await incoming.hangUp()
            return confirmed + (await collect(incoming.events) { _ in false })
        }
        #expect(events == [.confirmed(sdp: nil), .ended(.localHangUp)])
        await endpoint.shutdown()
        await baresip.stop()
    }
}

func traceLogger() -> Logger {
    var logger = Logger(label: "sip-test", factory: { StreamLogHandler.standardError(label: $0) })
    logger.logLevel = ProcessInfo.processInfo.environment["SIP_TRACE"] == nil ? .info : .trace
    return logger
}
