import Testing
import CNice
#if canImport(Glibc)
import Glibc
#endif

/// libnice is linked and usable: an agent is created, gathers a host candidate on 127.0.0.1 and is
/// destroyed, all on a GMainContext iterated by its own thread.
@Test func niceAgentOnItsOwnContextThread() async throws {
    final class Box: @unchecked Sendable {   // touched only by the context thread, then read after join
        var created = false
        var gathered = false
        var candidates = 0
        var loop: OpaquePointer?
    }
    let box = Box()
    let context = g_main_context_new()!
    let loop = g_main_loop_new(context, 0)!
    box.loop = loop

    let contextBox = Unmanaged.passRetained(box).toOpaque()
    let startThread: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeUnretainedValue()
        let loop = box.loop!
        let context = g_main_loop_get_context(loop)
        g_main_context_push_thread_default(context)
        // Everything libnice does happens on this thread and its context.
        let agent = UnsafeMutableRawPointer(nice_agent_new(context, NICE_COMPATIBILITY_RFC5245)!)
        box.created = true
        sj_g_object_set_boolean(agent, "upnp", 0)
        sj_g_object_set_boolean(agent, "ice-tcp", 0)
        var address = NiceAddress()
        nice_address_init(&address)
        _ = nice_address_set_from_string(&address, "127.0.0.1")
        let niceAgent = OpaquePointer(agent)
        _ = nice_agent_add_local_address(niceAgent, &address)
        let stream = nice_agent_add_stream(niceAgent, 1)
        let onDone: @convention(c) (UnsafeMutableRawPointer?, UInt32, UnsafeMutableRawPointer?) -> Void = { _, _, data in
            let box = Unmanaged<Box>.fromOpaque(data!).takeUnretainedValue()
            box.gathered = true
            g_main_loop_quit(box.loop)
        }
        _ = sj_g_signal_connect(agent, "candidate-gathering-done", unsafeBitCast(onDone, to: GCallback.self), raw)
        _ = nice_agent_gather_candidates(niceAgent, stream)
        // Stop after 5 s even if gathering never finishes, so the test cannot hang.
        let timeout: @convention(c) (UnsafeMutableRawPointer?) -> gboolean = { data in
            g_main_loop_quit(Unmanaged<Box>.fromOpaque(data!).takeUnretainedValue().loop)
            return 0
        }
        let source = g_timeout_source_new(5000)!
        g_source_set_callback(source, timeout, raw, nil)
        g_source_attach(source, context)
        // libnice may finish gathering inside gather_candidates itself (it signals on the calling thread),
        // in which case the quit above came before the loop ran.
        if !box.gathered { g_main_loop_run(loop) }
        g_source_destroy(source)
        g_source_unref(source)
        let head = nice_agent_get_local_candidates(niceAgent, stream, 1)
        var list = head
        while let node = list {
            box.candidates += 1
            nice_candidate_free(node.pointee.data.assumingMemoryBound(to: NiceCandidate.self))
            list = node.pointee.next
        }
        g_slist_free(head)
        g_object_unref(agent)
        g_main_context_pop_thread_default(context)
        return nil
    }
    var thread = pthread_t()
    #expect(pthread_create(&thread, nil, startThread, contextBox) == 0)
    pthread_join(thread, nil)
    Unmanaged<Box>.fromOpaque(contextBox).release()
    g_main_loop_unref(loop)
    g_main_context_unref(context)

    #expect(box.created)
    #expect(box.gathered)
    #expect(box.candidates >= 1)
}
