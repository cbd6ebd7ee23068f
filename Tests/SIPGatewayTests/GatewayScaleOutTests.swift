import Foundation
import Jingle
import JingleEngine
import JingleSDP
import SDP
import TestServers
import Testing
import XMPPCore
import XMPPLink
#if canImport(Glibc)
import Glibc
#endif

/// A `jingle gateway` process (the built executable), its output kept in a file.
final class GatewayProcess: @unchecked Sendable {
    let process = Process()
    let outputFile: URL
    let sipPort: Int

    static var executable: URL { builtProduct("jingle") }

    init(arguments: [String], sipPort: Int) throws {
        self.sipPort = sipPort
        outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("gw-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: outputFile)
        process.executableURL = Self.executable
        process.arguments = ["gateway", "--sip", "udp:127.0.0.1:\(sipPort)"] + arguments
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var output: String { (try? String(contentsOf: outputFile, encoding: .utf8)) ?? "" }

    /// SIGTERM, then the counter line the gateway prints at exit.
    func stop() async -> String {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = ContinuousClock.now + .seconds(5)
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        return output
    }

    /// The number after `name=` on the gateway's last counter line.
    static func counter(_ name: String, in output: String) -> Int? {
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("gateway: calls=") }),
              let field = line.split(separator: " ").first(where: { $0.hasPrefix(name + "=") }) else { return nil }
        return Int(field.dropFirst(name.count + 1))
    }

    deinit { if process.isRunning { process.terminate() } }
}

/// Scale-out: two gateway processes connect as the same XEP-0114 component (jingle.localhost) to one ejabberd
/// whose `domain_balancing` hashes the stanza's full source JID. Every stanza of a call placed from XMPP comes
/// from the caller's full JID, so a whole Jingle session reaches one instance and the instances share nothing.
@Suite("Gateway scale-out over ejabberd", .serialized, .enabled(if: sippAvailable, "sipp is installed on the build machine"))
struct GatewayScaleOutTests {
    @Test(.timeLimit(.minutes(2))) func twentyCallsSpreadOverTwoInstances() async throws {
        let server = try EjabberdServer(tls: true, domainBalancing: "source:2")
        defer { server.stop() }
        let secretFile = FileManager.default.temporaryDirectory.appendingPathComponent("gw-secret-\(UUID().uuidString)")
        try "compsecret\n".write(to: secretFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: secretFile) }

        let calls = 20
        let (sipp, uasPort) = try SIPpProcess.uas(["-sn", "uas"], calls: calls, timeout: 60)
        let arguments = ["--component", "jingle.localhost", "--secret-file", secretFile.path,
                         "--server", "127.0.0.1:\(server.componentPort)", "--candidate-wait-ms", "50",
                         "--reverse-map", "(.+)@jingle.localhost -> sip:\\1@127.0.0.1:\(uasPort)"]
        let gateways = [try GatewayProcess(arguments: arguments, sipPort: freeUDPPort()),
                        try GatewayProcess(arguments: arguments, sipPort: freeUDPPort())]
        for gateway in gateways {
            let up = await eventually(.seconds(10)) { gateway.output.contains("XMPP as jingle.localhost") || !gateway.process.isRunning }
            try #require(up && gateway.process.isRunning, "gateway did not start: \(gateway.output)")
        }

        // Twenty callers, each its own full JID (the balancing key): alice/c0…c9 and bob/c10…c19.
        let results = await withTaskGroup(of: (String, Bool).self) { group in
            for index in 0..<calls {
                let user = index < calls / 2 ? "alice" : "bob"
                group.addTask {
                    do {
                        return ("\(user)/c\(index)", try await Self.call(server: server, user: user, resource: "c\(index)"))
                    } catch {
                        return ("\(user)/c\(index) \(error)", false)
                    }
                }
            }
            var all: [(String, Bool)] = []
            for await result in group { all.append(result) }
            return all
        }
        let failed = results.filter { !$0.1 }.map(\.0)
        #expect(failed.isEmpty, "calls that were not accepted: \(failed)")
        let sippStatus = await sipp.wait(timeout: 20)
        #expect(sippStatus == 0, "sipp: \(sipp.log)")

        var completed: [Int] = []
        var outputs: [String] = []
        for gateway in gateways {
            let output = await gateway.stop()
            outputs.append(String(output.suffix(1500)))
            let done = GatewayProcess.counter("completed", in: output)
            #expect(done != nil, "no counters from a gateway: \(output.suffix(2000))")
            completed.append(done ?? 0)
        }
        #expect(completed.reduce(0, +) == calls, "completed per instance: \(completed)\n\(outputs.joined(separator: "\n---\n"))")
        #expect(completed.allSatisfy { $0 > 0 }, "both instances carried calls: \(completed)")
    }

    /// One XMPP caller: session-initiate (plain RTP offer) to carol@jingle.localhost, wait for session-accept,
    /// hang up. True when the call was accepted and ended.
    static func call(server: EjabberdServer, user: String, resource: String) async throws -> Bool {
        var configuration = XMPPClientConfiguration(jid: try JID("\(user)@localhost/\(resource)"), password: "\(user)pw",
                                                    host: "127.0.0.1", port: server.c2sPort)
        configuration.trust = .caFile(server.caFile)
        let party = try await JingleParty(configuration)
        let engine = party.engine
        let (handle, _) = try await party.initiate(to: try JID("carol@jingle.localhost"))
        let timeout = party.watchdog(handle, seconds: 20)
        var accepted = false
        var ended = false
        for await event in handle.events {
            if case .received(let payload) = event, payload.action == .sessionAccept {
                accepted = true
                try await engine.terminate(handle.id, reason: JingleReason(.success))
            }
            if case .ended = event { ended = true; break }
        }
        timeout.cancel()
        await party.close()
        return accepted && ended
    }
}
