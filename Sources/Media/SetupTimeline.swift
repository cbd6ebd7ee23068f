import Synchronization

/// The instants at which a call's set-up steps first happened (gathering done, ICE connected, DTLS done,
/// first media sent and received …), so the set-up time can be broken down (Benchmarks/call-setup).
///
/// Only the first occurrence of each name is kept; marking is cheap and safe from any thread.
public final class SetupTimeline: Sendable {
    /// One step and when it first happened.
    public struct Mark: Sendable, Hashable {
        public var name: String
        public var instant: ContinuousClock.Instant
    }

    private let marks = Mutex<[Mark]>([])

    public init() {}

    /// Records `name` at `instant` unless it was recorded before.
    public func mark(_ name: String, at instant: ContinuousClock.Instant = .now) {
        marks.withLock { marks in
            guard !marks.contains(where: { $0.name == name }) else { return }
            marks.append(Mark(name: name, instant: instant))
        }
    }

    /// Every mark, earliest first.
    public var entries: [Mark] { marks.withLock { $0 }.sorted { $0.instant < $1.instant } }

    /// When `name` first happened, if it did.
    public func instant(of name: String) -> ContinuousClock.Instant? {
        marks.withLock { $0.first { $0.name == name }?.instant }
    }
}
