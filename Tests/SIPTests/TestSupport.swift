import Foundation
import Testing
@testable import SIP

/// Turns `\n` line ends into CRLF (test messages are written with LF for readability).
func crlf(_ text: String) -> [UInt8] {
    Array(text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)
}

/// A deterministic token source: "t1", "t2", …
final class TokenCounter: Sendable {
    private let counter = Mutex(0)
    func next() -> String {
        counter.withLock { value in
            value += 1
            return "t\(value)"
        }
    }
}

import Synchronization

/// A fake clock with pending timers, to drive machines through their timers without waiting.
struct FakeTimers<Timer: Hashable> {
    var now: Duration = .zero
    var pending: [Timer: Duration] = [:]

    mutating func start(_ timer: Timer, at: Duration) { pending[timer] = at }
    mutating func cancel(_ timer: Timer) { pending[timer] = nil }

    /// Pops the earliest timer, advancing `now` to its deadline.
    mutating func popNext() -> Timer? {
        guard let (timer, at) = pending.min(by: { $0.value < $1.value }) else { return nil }
        pending[timer] = nil
        now = max(now, at)
        return timer
    }
}

/// Runs `body` with a deadline; throws `TimedOut` if it does not finish in time.
struct TimedOut: Error {}
func withTimeout<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw TimedOut()
        }
        defer { group.cancelAll() }
        guard let result = try await group.next() else { throw TimedOut() }
        return result
    }
}

/// Collects events from a stream until `stop` says so (or the stream ends).
func collect(_ events: AsyncStream<SIPCallEvent>, until stop: @escaping @Sendable (SIPCallEvent) -> Bool) async -> [SIPCallEvent] {
    var seen: [SIPCallEvent] = []
    for await event in events {
        seen.append(event)
        if stop(event) { break }
    }
    return seen
}

/// Waits until some process has bound `port` on loopback (UDP) or listens on it (TCP), by reading
/// /proc/net; peers started by a test need a moment before they accept traffic.
func waitForPort(_ port: Int, tcp: Bool, timeout: Duration = .seconds(5)) async {
    let hex = String(port, radix: 16, uppercase: true).leftPadded(to: 4)
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        for file in tcp ? ["/proc/net/tcp", "/proc/net/tcp6"] : ["/proc/net/udp", "/proc/net/udp6"] {
            guard let table = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            for line in table.split(separator: "\n").dropFirst() {
                let columns = line.split(separator: " ")
                guard columns.count > 3, columns[1].hasSuffix(":" + hex) else { continue }
                if !tcp || columns[3] == "0A" { return }
            }
        }
        try? await Task.sleep(for: .milliseconds(20))
    }
}

/// The first request of `method` among a core's actions, and where it goes.
func firstSent(_ method: SIPMethod, in actions: [SIPUserAgentAction]) -> (message: SIPMessage, to: SIPTransportAddress)? {
    for case .send(let message, let to) in actions where message.method == method { return (message, to) }
    return nil
}
