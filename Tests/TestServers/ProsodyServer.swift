import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XMPPCore
import XMPPLink

/// Test servers shared by the integration test targets.
///
/// One private Prosody per test process (scripts/start-prosody.sh, self-signed TLS), on free loopback
/// ports, stopped when the process exits. A missing or broken Prosody fails the tests that need it with
/// the reason, never skips them.
public struct ProsodyServer: Sendable {
    public let directory: String
    public let c2sPort: Int
    public let componentPort: Int
    public let turnPort: Int
    /// The SOCKS5 port of the XEP-0065 proxy component `proxy.<domain>` (host 127.0.0.1).
    public let proxyPort: Int
    /// Client connections with TLS from the first byte (XEP-0368 direct TLS).
    public let directTLSPort: Int
    public let pid: Int32
    public var caFile: String { directory + "/certs/localhost.crt" }
    public let domain = "localhost"

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public static let shared: Result<ProsodyServer, StartError> = start()

    public static func get() throws -> ProsodyServer { try shared.get() }

    private static func start() -> Result<ProsodyServer, StartError> {
        guard let ports = freePorts(5) else {
            return .failure(StartError(description: "no free loopback port for Prosody"))
        }
        let (c2s, component, turn, proxy) = (ports[0], ports[1], ports[2], ports[3])
        let launched = launch(directory: NSTemporaryDirectory() + "xmpplink-prosody-\(getpid())", c2sPort: c2s, componentPort: component, turnPort: turn,
                              proxyPort: proxy, directTLSPort: ports[4])
        if case .success(let server) = launched {
            prosodyPID = server.pid
            // SIGKILL: a throwaway server; Prosody 0.12 may take seconds to act on SIGTERM.
            atexit { if prosodyPID > 0 { Glibc.kill(prosodyPID, SIGKILL) } }
        }
        return launched
    }

    /// A Prosody of the caller's own, not the shared one, on fresh loopback ports: for tests that kill or
    /// restart their server (`kill()`, `restarted()`). It stops by itself when the test process exits.
    public static func startPrivate(tag: String = "private") throws -> ProsodyServer {
        guard let ports = freePorts(5) else {
            throw StartError(description: "no free loopback port for Prosody")
        }
        let (c2s, component, turn, proxy) = (ports[0], ports[1], ports[2], ports[3])
        let directory = NSTemporaryDirectory() + "xmpplink-prosody-\(getpid())-\(tag)-\(UInt32.random(in: 0...UInt32.max))"
        return try launch(directory: directory, c2sPort: c2s, componentPort: component, turnPort: turn, proxyPort: proxy, directTLSPort: ports[4]).get()
    }

    /// Kills this Prosody at once (SIGKILL, as a crash would) and waits until it is gone.
    public func kill() {
        _ = Glibc.kill(pid, SIGKILL)
        for _ in 0..<500 where Glibc.kill(pid, 0) == 0 { usleep(10_000) }
    }

    /// Starts Prosody again in the same directory, on the same ports, with the same certificate and
    /// accounts (after `kill()`); in-memory state such as XEP-0198 sessions is gone, as after a crash.
    public func restarted() throws -> ProsodyServer {
        try Self.launch(directory: directory, c2sPort: c2sPort, componentPort: componentPort, turnPort: turnPort, proxyPort: proxyPort,
                        directTLSPort: directTLSPort).get()
    }

    /// Runs scripts/start-prosody.sh for `directory` and the ports; returns once Prosody accepts connections.
    private static func launch(directory: String, c2sPort c2s: Int, componentPort component: Int, turnPort turn: Int,
                               proxyPort proxy: Int, directTLSPort direct: Int) -> Result<ProsodyServer, StartError> {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = repo.appendingPathComponent("scripts/start-prosody.sh").path
        // posix_spawn + waitpid rather than Foundation's Process, whose waitUntilExit can hang when the
        // script leaves a daemon behind. Output goes to files: Prosody outlives the script.
        let outPath = directory + ".out", errPath = directory + ".err"
        let command = "PROSODY_WATCH_PID=\(getpid()) PROXY65_PORT=\(proxy) PROSODY_DIRECT_TLS_PORT=\(direct) exec /bin/bash '\(script)' '\(directory)' \(c2s) \(component) \(turn) --tls </dev/null >'\(outPath)' 2>'\(errPath)'"
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command), nil]
        defer { for arg in argv { free(arg) } }
        // Prosody gets default signal handling and no blocked signals: ignoring SIGTERM (as a test process that
        // watches signals with Dispatch does) would otherwise be inherited, and SIGTERM would not stop it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t(), none = sigset_t()
        sigfillset(&defaults)
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        guard posix_spawn(&pid, "/bin/sh", nil, &attributes, argv, environ) == 0 else {
            return .failure(StartError(description: "cannot run \(script)"))
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        guard status == 0, let pid = Int32(out.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            return .failure(StartError(description: "Prosody did not start (is it installed? see scripts/bootstrap): \(err)\(out)"))
        }
        return .success(ProsodyServer(directory: directory, c2sPort: c2s, componentPort: component, turnPort: turn, proxyPort: proxy,
                                      directTLSPort: direct, pid: pid))
    }

    public func configuration(_ user: String, resource: String? = nil) throws -> XMPPClientConfiguration {
        var configuration = XMPPClientConfiguration(jid: try JID("\(user)@\(domain)"), password: "\(user)pw",
                                                    resource: resource, host: "127.0.0.1", port: c2sPort)
        configuration.trust = .caFile(caFile)
        return configuration
    }

    public func connect(_ user: String, resource: String? = nil) async throws -> XMPPClient {
        let client = XMPPClient(try configuration(user, resource: resource))
        try await client.connect()
        return client
    }
}

nonisolated(unsafe) private var prosodyPID: Int32 = 0

/// A TCP port nothing listens on right now (bind to port 0, read it back, close).
public func freePort() -> Int? { freePort(type: Int32(SOCK_STREAM.rawValue)) }

/// `count` different TCP ports nothing listens on right now: ports taken one after the other may repeat (the
/// kernel can hand a just-released port out again), which once made a server start fail; a few more tries.
public func freePorts(_ count: Int) -> [Int]? {
    for _ in 0..<20 {
        let ports = (0..<count).compactMap { _ in freePort() }
        if ports.count == count, Set(ports).count == count { return ports }
    }
    return nil
}

/// A UDP port that was free a moment ago (bound on 127.0.0.1 and released).
public func freeUDPPort() -> Int { freePort(type: Int32(SOCK_DGRAM.rawValue)) ?? 0 }

private func freePort(type: Int32) -> Int? {
    let fd = socket(AF_INET, type, 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { return nil }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { return nil }
    return Int(UInt16(bigEndian: address.sin_port))
}
