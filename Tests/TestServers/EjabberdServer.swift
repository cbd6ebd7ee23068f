import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A private ejabberd on 127.0.0.1 (scripts/start-ejabberd.sh), for the tests that want a second server
/// implementation or ejabberd's component load balancing. Users alice/alicepw and bob/bobpw; component
/// jingle.localhost with secret "compsecret". Stop it with `stop()`.
public final class EjabberdServer: Sendable {
    public let directory: String
    public let c2sPort: Int
    public let componentPort: Int
    public var caFile: String { directory + "/certs/localhost.crt" }

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// `domainBalancing` ("source:2", "bare_destination:3", …) configures ejabberd's `domain_balancing` for
    /// jingle.localhost, so several component connections of that domain share its traffic.
    /// - Parameter scramHash: store passwords as SCRAM with this hash (`sha`, `sha256`, `sha512`): ejabberd then
    ///   offers only that SCRAM mechanism (and PLAIN).
    public init(tls: Bool = true, domainBalancing: String? = nil, scramHash: String? = nil) throws {
        guard let ports = freePorts(3) else {
            throw StartError(description: "no free loopback port")
        }
        let (c2s, component, dist) = (ports[0], ports[1], ports[2])
        directory = NSTemporaryDirectory() + "sj-ejabberd-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        c2sPort = c2s
        componentPort = component
        var environment: [String: String] = [:]
        if let domainBalancing { environment["EJABBERD_DOMAIN_BALANCING"] = domainBalancing }
        if let scramHash { environment["EJABBERD_SCRAM_HASH"] = scramHash }
        let started = runRepositoryScript("start-ejabberd.sh", [directory, "\(c2s)", "\(component)", "\(dist)"] + (tls ? ["--tls"] : []),
                                          environment: environment)
        guard started.status == 0 else {
            _ = runRepositoryScript("stop-ejabberd.sh", [directory], wait: false)
            throw StartError(description: "ejabberd did not start (is it installed? see scripts/bootstrap): \(started.output)")
        }
    }

    /// Stops the node in the background (ejabberd takes a second or two to shut down).
    public func stop() {
        _ = runRepositoryScript("stop-ejabberd.sh", [directory], wait: false)
    }
}

/// Runs a script from the repository's scripts/ with posix_spawn (not Foundation.Process, whose
/// waitUntilExit can hang when the script leaves a daemon behind); returns its exit status and output.
/// With `wait: false` the script runs on in the background (a slow shutdown need not hold up a test).
public func runRepositoryScript(_ name: String, _ arguments: [String], environment: [String: String] = [:],
                                wait: Bool = true) -> (status: Int32, output: String) {
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let outPath = NSTemporaryDirectory() + "sj-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).out"
    let quoted = arguments.map { "'\($0)'" }.joined(separator: " ")
    let assignments = environment.map { "\($0.key)='\($0.value)' " }.joined()
    let script = "\(assignments)/bin/bash '\(repo.path)/scripts/\(name)' \(quoted) </dev/null >'\(outPath)' 2>&1"
    let command = wait ? "exec env " + script : "(env " + script + "; rm -f '\(outPath)') </dev/null >/dev/null 2>&1 &"
    var pid: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command), nil]
    defer { for arg in argv { free(arg) } }
    guard posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0 else { return (-1, "cannot spawn \(name)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    if !wait { return (status, "") }
    let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    unlink(outPath)
    return (status, output)
}
