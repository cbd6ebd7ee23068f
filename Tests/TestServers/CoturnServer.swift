import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A private coturn on 127.0.0.1 (scripts/start-coturn.sh), stopped by `stop()`.
public final class CoturnServer: Sendable {
    public enum Authentication: String, Sendable {
        /// Long-term credentials alice/alicepw.
        case staticUser = "static"
        /// TURN REST credentials derived from the shared secret "turnsecret" (what Prosody hands out by XEP-0215).
        case restSecret = "rest"
    }

    public let port: Int
    public let pid: pid_t
    public let directory: String

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
        /// scripts/start-coturn.sh exited 3: another process holds the port.
        public var portInUse = false
    }

    public init(port: Int, authentication: Authentication) throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = repo.appendingPathComponent("scripts/start-coturn.sh").path
        directory = NSTemporaryDirectory() + "sj-coturn-\(UUID().uuidString)"
        self.port = port
        let relayBase = Int.random(in: 0..<200) * 40 + 50_000
        // popen/pclose rather than Foundation.Process, whose waitUntilExit can hang when a daemon is left behind.
        let command = "COTURN_AUTH=\(authentication.rawValue) /bin/bash '\(script)' '\(directory)' \(port) \(relayBase) \(relayBase + 39) 2>&1"
        guard let pipe = popen(command, "r") else { throw StartError(description: "cannot run \(script)") }
        var text = ""
        var buffer = [CChar](repeating: 0, count: 256)
        while fgets(&buffer, Int32(buffer.count), pipe) != nil {
            text += String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        let status = pclose(pipe)
        guard status == 0, let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw StartError(description: "coturn did not start (is it installed? see scripts/bootstrap): \(text)",
                             portInUse: (status >> 8) & 0xFF == 3)
        }
        self.pid = pid
    }

    /// A coturn on a port of its own: picks a free UDP port and tries again (up to five times) when another
    /// process takes it between the pick and coturn's bind.
    public static func start(authentication: Authentication) throws -> CoturnServer {
        var lastError: Error?
        for _ in 0..<5 {
            do {
                return try CoturnServer(port: freeUDPPort(), authentication: authentication)
            } catch let error as StartError where error.portInUse {
                lastError = error
            }
        }
        throw lastError ?? StartError(description: "coturn did not start")
    }

    public func stop() {
        kill(pid, SIGTERM)
        for _ in 0..<100 where kill(pid, 0) == 0 { usleep(20_000) }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
