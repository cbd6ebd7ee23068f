#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A pthread mutex with NSLock's `lock()`/`unlock()` shape, so the transport needs no Foundation: an engine
/// that links only FoundationEssentials keeps ICU's data and libFoundation out of its memory (~10 MB RSS).
final class PosixLock: @unchecked Sendable {
    fileprivate let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// A mutex with a condition variable, NSCondition's shape: `wait()` is called with the lock held.
final class PosixCondition: @unchecked Sendable {
    private let mutex = PosixLock()
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    init() {
        condition = .allocate(capacity: 1)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
    }

    func lock() { mutex.lock() }
    func unlock() { mutex.unlock() }
    func wait() { pthread_cond_wait(condition, mutex.mutex) }
    func broadcast() { pthread_cond_broadcast(condition) }
}

/// Starts a detached thread named `name` (at most 15 characters show in `top -H`) that runs `body`.
func startPosixThread(name: String, _ body: @escaping @Sendable () -> Void) {
    final class Box {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }
    let box = Unmanaged.passRetained(Box(name: name, body: body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(&thread, nil, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        setThreadName(box.name)
        box.body()
        return nil
    }, box)
    // Only fails on resource exhaustion; the transport cannot run without its thread.
    precondition(result == 0, "pthread_create failed: \(result)")
    pthread_detach(thread)
}

/// pthread_setname_np(3) is a GNU extension the Glibc module does not import; found at run time instead.
private func setThreadName(_ name: String) {
    #if canImport(Glibc)
    typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32
    guard let symbol = dlsym(nil, "pthread_setname_np") else { return }
    _ = unsafeBitCast(symbol, to: SetName.self)(pthread_self(), String(name.prefix(15)))
    #endif
}
