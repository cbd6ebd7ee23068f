#if canImport(Glibc)
import Glibc
#endif

/// One thread that sleeps until the earliest deadline it was given and then calls `fire`. It exists so a
/// transport's timers (DTLS retransmission, PeerStream ACK delay, loss detection, pacing) cost one wakeup each
/// instead of a Task per timer: pacing alone re-arms the timer thousands of times a second.
///
/// Deadlines are on `ContinuousClock`; the wait itself uses `CLOCK_MONOTONIC` through a relative offset,
/// so both clocks may differ in origin.
final class DeadlineTimer: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    // Guarded by `mutex`.
    private var deadline: ContinuousClock.Instant?
    /// What the thread sleeps until now (nil: until signalled).
    private var sleepingUntil: ContinuousClock.Instant?
    private var stopped = false
    /// A deadline this close to when the thread wakes anyway does not wake it early. Pacing and ACK timers
    /// are re-armed after nearly every datagram; waking the thread for each would cost a context switch per
    /// datagram, and PeerStream's bursts already cover one pacing granularity (1 ms).
    private let slack: Duration
    private var fire: (@Sendable () -> Void)?

    init(name: String, slack: Duration = .microseconds(200)) {
        self.slack = slack
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
        startPosixThread(name: name) { [self] in run() }
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Sets what runs when a deadline passes (on the timer thread, never under the timer's lock).
    func setHandler(_ handler: @escaping @Sendable () -> Void) {
        pthread_mutex_lock(mutex)
        fire = handler
        pthread_mutex_unlock(mutex)
    }

    /// Arms the timer for `deadline` (replacing the previous one); nil disarms it.
    func schedule(_ newDeadline: ContinuousClock.Instant?) {
        pthread_mutex_lock(mutex)
        let wake: Bool
        if let newDeadline {
            // The thread only needs waking when the new deadline is clearly earlier than the time it wakes
            // anyway; a later one is picked up then.
            wake = sleepingUntil.map { newDeadline < $0 - slack } ?? true
        } else {
            wake = false
        }
        deadline = newDeadline
        if wake { pthread_cond_signal(condition) }
        pthread_mutex_unlock(mutex)
    }

    /// Ends the thread (it drops its handler, breaking any reference cycle through it).
    func stop() {
        pthread_mutex_lock(mutex)
        stopped = true
        fire = nil
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    private func run() {
        pthread_mutex_lock(mutex)
        while !stopped {
            guard let due = deadline else {
                sleepingUntil = nil
                pthread_cond_wait(condition, mutex)
                continue
            }
            let remaining = due - ContinuousClock.now
            if remaining <= .zero {
                deadline = nil
                sleepingUntil = .now
                let handler = fire
                pthread_mutex_unlock(mutex)
                handler?()
                pthread_mutex_lock(mutex)
                continue
            }
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let (seconds, attoseconds) = remaining.components
            var nanoseconds = Int(now.tv_nsec) + Int(attoseconds / 1_000_000_000)
            var wholeSeconds = Int(now.tv_sec) + Int(seconds)
            if nanoseconds >= 1_000_000_000 {
                wholeSeconds += nanoseconds / 1_000_000_000
                nanoseconds %= 1_000_000_000
            }
            var until = timespec(tv_sec: wholeSeconds, tv_nsec: nanoseconds)
            sleepingUntil = due
            pthread_cond_timedwait(condition, mutex, &until)
            sleepingUntil = .now
        }
        pthread_mutex_unlock(mutex)
    }
}
