import Foundation
import TestServers
import Testing
@testable import SIP

/// A SIPp (or other peer) process on loopback, killed if it outlives its timeout.
final class SIPpProcess: @unchecked Sendable {
    let process = Process()
    let output = Pipe()

    init(executable: String = "/usr/bin/sipp", arguments: [String], directory: URL) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Waits for exit (polling, so a stuck SIPp cannot hang the test); returns the exit status.
    func wait(timeout seconds: Double) async -> Int32? { await waitForExit(process, timeout: seconds) }

    /// Ends the process now (SIGTERM, then SIGKILL if it lingers).
    func stop() async {
        if process.isRunning { process.terminate() }
        _ = await wait(timeout: 2)
    }

    var log: String {
        String(decoding: (try? output.fileHandleForReading.readToEnd()) ?? Data(), as: UTF8.self)
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}

let sippAvailable = FileManager.default.isExecutableFile(atPath: "/usr/bin/sipp")

/// A fresh directory for a SIPp run (its logs land in the current directory).
func workDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("sip-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// One call to a SIPp UAS on `port` — its built-in `uas` (`scenario` nil) or a scenario from Fixtures — from an
/// endpoint with `configuration`: SIPp must answer, we hang up, and SIPp must finish its scenario with exit 0;
/// `checks` says what the scenario verified, for the failure message.
func callAnsweredBySIPp(scenario: String?, port: Int, transport: SIPTransportKind = .udp, configuration: SIPEndpoint.Configuration,
                        target: SIPURI, offer: String, checks: String) async throws {
    let directory = try workDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let script = try scenario.map { ["-sf", try #require(Bundle.module.url(forResource: $0, withExtension: "xml", subdirectory: "Fixtures")).path] }
        ?? ["-sn", "uas"]
    let sipp = try SIPpProcess(arguments: script + ["-i", "127.0.0.1", "-p", "\(port)", "-m", "1", "-nostdin", "-t", transport == .tcp ? "t1" : "u1",
                                                   "-timeout", "15", "-timeout_error", "-trace_logs"], directory: directory)
    await waitForPort(port, tcp: transport == .tcp)
    let endpoint = try await SIPEndpoint.start(configuration)
    let call = try await endpoint.invite(to: target, sdp: offer)
    let events = try await withTimeout(10) {
        await collect(call.events) { if case .answered = $0 { return true }; if case .failed = $0 { return true }; return false }
    }
    guard case .answered? = events.last else {
        Issue.record("call not answered: \(events)\n\(sipp.log)")
        await endpoint.shutdown()
        await sipp.stop()
        return
    }
    try await call.hangUp()
    #expect(await sipp.wait(timeout: 10) == 0, "\(checks): \(sipp.log)")
    await endpoint.shutdown()
}

@Suite("SIPp interop", .serialized, .enabled(if: sippAvailable, "sipp is installed on the build machine"))
struct SIPpIntegrationTests {
    let offer = """
    v=0\r
    o=jingle 1 1 IN IP4 127.0.0.1\r
    s=-\r
    c=IN IP4 127.0.0.1\r
    t=0 0\r
    m=audio 40000 RTP/AVP 0\r
    a=rtpmap:0 PCMU/8000\r

    """

    /// Our UAC calls SIPp's built-in UAS: 180, 200 (SDP), ACK, then our BYE gets 200.
    @Test(arguments: [SIPTransportKind.udp, .tcp])
    func uacCallsSIPpBuiltInUAS(transport: SIPTransportKind) async throws {
        let port = freeUDPPort()
        let directory = try workDirectory()
        let sipp = try SIPpProcess(arguments: ["-sn", "uas", "-i", "127.0.0.1", "-p", "\(port)", "-m", "1", "-nostdin",
                                               "-t", transport == .udp ? "u1" : "t1", "-timeout", "15", "-timeout_error"],
                                   directory: directory)
        await waitForPort(port, tcp: transport == .tcp)
        let endpoint = try await SIPEndpoint.start(.init(transport: transport))
        let call = try await endpoint.invite(to: try SIPURI("sip:service@127.0.0.1:\(port)"), sdp: offer)
        let events = try await withTimeout(10) {
            await collect(call.events) { if case .answered = $0 { return true }; if case .failed = $0 { return true }; return false }
        }
        #expect(events.contains { if case .ringing(180, _) = $0 { return true }; return false })
        guard case .answered(let sdp)? = events.last else {
            Issue.record("call not answered: \(events)")
            await endpoint.shutdown()
            return
        }
        #expect(sdp?.contains("m=audio") == true)
        try await Task.sleep(for: .milliseconds(200))
        try await call.hangUp()
        let end = try await withTimeout(10) { await collect(call.events) { _ in false } }
        #expect(end == [.ended(.localHangUp)])
        let status = await sipp.wait(timeout: 10)
        #expect(status == 0, "sipp: \(sipp.log.suffix(2000))")
        await endpoint.shutdown()
    }

    /// Our UAC against a scripted SIPp UAS that sends 100, 180 and a 200 with ICE attributes.
    @Test func uacCallsScriptedUASWithTrying() async throws {
        let port = freeUDPPort()
        let directory = try workDirectory()
        let scenario = try #require(Bundle.module.url(forResource: "uas_sdp_ice", withExtension: "xml", subdirectory: "Fixtures"))
        let mediaPort = freeUDPPort()
        let sipp = try SIPpProcess(arguments: ["-sf", scenario.path, "-i", "127.0.0.1", "-p", "\(port)", "-mp", "\(mediaPort)",
                                               "-key", "mport", "\(mediaPort)", "-m", "1", "-nostdin", "-timeout", "15", "-timeout_error"],
                                   directory: directory)
        await waitForPort(port, tcp: false)
        let endpoint = try await SIPEndpoint.start()
        let call = try await endpoint.invite(to: try SIPURI("sip:service@127.0.0.1:\(port)"), sdp: offer)
        let events = try await withTimeout(10) {
            await collect(call.events) { if case .answered = $0 { return true }; if case .failed = $0 { return true }; return false }
        }
        guard case .answered(let sdp)? = events.last else {
            Issue.record("call not answered: \(events)")
            await endpoint.shutdown()
            return
        }
        #expect(sdp?.contains("a=ice-ufrag:Sipp2uFr") == true)
        try await call.hangUp()
        let end = try await withTimeout(10) { await collect(call.events) { _ in false } }
        #expect(end == [.ended(.localHangUp)])
        let status = await sipp.wait(timeout: 10)
        #expect(status == 0, "sipp: \(sipp.log.suffix(2000))")
        await endpoint.shutdown()
    }

    /// SIPp challenges our INVITE with a digest 401 and checks our answer with its own digest code;
    /// wrong credentials are refused with 403.
    @Test(arguments: [("s3cret", true), ("wrong", false)])
    func digestAgainstSIPp(password: String, accepted: Bool) async throws {
        let port = freeUDPPort()
        let directory = try workDirectory()
        let scenario = try #require(Bundle.module.url(forResource: "uas_digest", withExtension: "xml", subdirectory: "Fixtures"))
        let sipp = try SIPpProcess(arguments: ["-sf", scenario.path, "-i", "127.0.0.1", "-p", "\(port)", "-m", "1", "-nostdin",
                                               "-timeout", "15", "-timeout_error"],
                                   directory: directory)
        await waitForPort(port, tcp: false)
        let endpoint = try await SIPEndpoint.start(.init(credentials: [SIPCredential(username: "alice", password: password)]))
        let call = try await endpoint.invite(to: try SIPURI("sip:service@127.0.0.1:\(port)"), sdp: offer)
        let events = try await withTimeout(10) {
            await collect(call.events) { if case .answered = $0 { return true }; if case .failed = $0 { return true }; return false }
        }
        if accepted {
            guard case .answered(let sdp)? = events.last else {
                Issue.record("call not answered: \(events)")
                await endpoint.shutdown()
                return
            }
            #expect(sdp?.contains("m=audio") == true)
            #expect(events.contains(.ringing(status: 180, sdp: nil)))
            try await call.hangUp()
            let end = try await withTimeout(10) { await collect(call.events) { _ in false } }
            #expect(end == [.ended(.localHangUp)])
            let status = await sipp.wait(timeout: 10)
            #expect(status == 0, "sipp: \(sipp.log.suffix(2000))")
        } else {
            #expect(events.last == .failed(status: 403, reason: "Forbidden"))
            let status = await sipp.wait(timeout: 10)
            #expect(status != 0)
        }
        await endpoint.shutdown()
    }

    /// SIPp's built-in UAC calls us: we ring, answer with SDP, get the ACK, and SIPp's BYE ends the call.
    @Test(arguments: [SIPTransportKind.udp, .tcp])
    func sippUACCallsOurUAS(transport: SIPTransportKind) async throws {
        let endpoint = try await SIPEndpoint.start()
        let directory = try workDirectory()
        let sipp = try SIPpProcess(arguments: ["-sn", "uac", "127.0.0.1:\(endpoint.port)", "-i", "127.0.0.1", "-p", "\(freeUDPPort())",
                                               "-t", transport == .udp ? "u1" : "t1", "-m", "1", "-d", "500", "-nostdin",
                                               "-timeout", "15", "-timeout_error"],
                                   directory: directory)
        let answer = offer
        let events = try await withTimeout(10) { () -> [SIPCallEvent] in
            var iterator = endpoint.incomingCalls.makeAsyncIterator()
            guard let incoming = await iterator.next() else { return [] }
            #expect(incoming.sdp?.contains("m=audio") == true)
            try await incoming.ring()
            try await incoming.answer(sdp: answer)
            return await collect(incoming.events) { if case .ended = $0 { return true }; return false }
        }
        #expect(events.first == .confirmed(sdp: nil))
        #expect(events.last == .ended(.remoteHangUp))
        let status = await sipp.wait(timeout: 10)
        #expect(status == 0, "sipp: \(sipp.log.suffix(2000))")
        await endpoint.shutdown()
    }
}
