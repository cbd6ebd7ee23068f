/// A point in time on the caller's monotonic clock, in nanoseconds from an arbitrary origin.
///
/// The connection never reads a clock: every call that depends on time takes `now`, and timers come back as
/// deadlines of this type. A driver converts from `ContinuousClock` (`(clock.now - origin)`), a test from its
/// virtual clock. Plain `Int64` arithmetic keeps the per-packet path cheap.
public struct PeerStreamInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    public static let zero = PeerStreamInstant(nanoseconds: 0)

    public static func < (lhs: PeerStreamInstant, rhs: PeerStreamInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    public static func + (lhs: PeerStreamInstant, rhs: Duration) -> PeerStreamInstant {
        PeerStreamInstant(nanoseconds: lhs.nanoseconds &+ rhs.peerStreamNanoseconds)
    }

    public static func - (lhs: PeerStreamInstant, rhs: PeerStreamInstant) -> Duration {
        .nanoseconds(lhs.nanoseconds &- rhs.nanoseconds)
    }

    public var description: String {
        "\(Double(nanoseconds) / 1e9)s"
    }
}

extension Duration {
    /// Whole nanoseconds, saturating at `Int64.max` for absurdly long durations.
    var peerStreamNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        if seconds >= Int64.max / 1_000_000_000 { return Int64.max }
        if seconds <= Int64.min / 1_000_000_000 { return Int64.min }
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
