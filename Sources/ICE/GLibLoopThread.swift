internal import CNice
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A private `GMainContext` iterated by a `GMainLoop` on a thread of its own. libnice runs every timer,
/// socket source and signal of an agent on the context it was created with, so one of these per agent
/// keeps all libnice work (and every callback) on one known thread.
final class GLibLoopThread: @unchecked Sendable {
    /// `GMainContext *`; libnice keeps its own reference through the agent.
    let context: OpaquePointer
    /// `GMainLoop *`.
    private let loop: OpaquePointer
    private struct ThreadState {
        var thread: pthread_t?
        var finished = false
    }
    private let threadState = Mutex(ThreadState())
    private let probe: LifecycleProbe

    private init(probe: LifecycleProbe) {
        self.probe = probe
        guard let context = g_main_context_new(), let loop = g_main_loop_new(context, 0) else {
            preconditionFailure("GLib could not allocate a main context")
        }
        self.context = context
        self.loop = loop
    }

    /// Creates the context and starts its thread. The thread keeps the object alive until it ends.
    static func start(probe: LifecycleProbe) -> GLibLoopThread {
        let me = GLibLoopThread(probe: probe)
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<GLibLoopThread>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, Unmanaged.passRetained(me).toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
        me.threadState.withLock { $0.thread = thread }
        return me
    }

    deinit {
        g_main_loop_unref(loop)
        g_main_context_unref(context)
    }

    private func run() {
        g_main_context_push_thread_default(context)
        g_main_loop_run(loop)
        // Dispatch what was queued before the loop stopped: those jobs find the agent gone and report
        // `closed` instead of leaving a caller suspended forever.
        var rounds = 0
        while rounds < 10_000, g_main_context_iteration(context, 0) != 0 { rounds += 1 }
        g_main_context_pop_thread_default(context)
        probe.loopThreadFinished.store(true, ordering: .releasing)
    }

    /// True on the loop thread while the loop runs (GLib: the thread that acquired the context).
    var isCurrent: Bool { g_main_context_is_owner(context) != 0 }

    /// Runs `job` on the loop thread (directly when already there), via `g_main_context_invoke_full`.
    func invoke(_ job: LoopJob) {
        g_main_context_invoke_full(
            context, G_PRIORITY_DEFAULT,
            { data in
                guard let data else { return 0 }
                Unmanaged<LoopJob>.fromOpaque(data).takeUnretainedValue().run()
                return 0  // G_SOURCE_REMOVE
            },
            Unmanaged.passRetained(job).toOpaque(),
            { data in
                guard let data else { return }
                Unmanaged<LoopJob>.fromOpaque(data).release()
            })
    }

    /// Queues `job` as an idle source even when called on the loop thread, so it runs from the top of the
    /// loop rather than inside whatever libnice callback is on the stack.
    func post(_ job: LoopJob) {
        guard let source = g_idle_source_new() else { preconditionFailure("g_idle_source_new returned NULL") }
        g_source_set_priority(source, G_PRIORITY_DEFAULT)
        g_source_set_callback(
            source,
            { data in
                guard let data else { return 0 }
                Unmanaged<LoopJob>.fromOpaque(data).takeUnretainedValue().run()
                return 0
            },
            Unmanaged.passRetained(job).toOpaque(),
            { data in
                guard let data else { return }
                Unmanaged<LoopJob>.fromOpaque(data).release()
            })
        g_source_attach(source, context)
        g_source_unref(source)
    }

    func quit() { g_main_loop_quit(loop) }

    /// Waits for the thread to end (joins it); from the loop thread itself, detaches it instead.
    func join() {
        let onLoop = isCurrent
        let thread: pthread_t? = threadState.withLock { state in
            guard !state.finished, let t = state.thread else { return nil }
            state.finished = true
            return t
        }
        guard let thread else { return }
        if onLoop {
            pthread_detach(thread)
        } else {
            pthread_join(thread, nil)
        }
    }
}

/// A unit of work for the loop thread. If GLib drops it unrun (context destroyed), `rejected` runs
/// instead so an awaiting caller is resumed.
final class LoopJob {
    private var work: (@Sendable () -> Void)?
    private var rejected: (@Sendable () -> Void)?

    init(_ work: @escaping @Sendable () -> Void, rejected: @escaping @Sendable () -> Void) {
        self.work = work
        self.rejected = rejected
    }

    func run() {
        let w = work
        work = nil
        rejected = nil
        w?()
    }

    deinit { rejected?() }
}
