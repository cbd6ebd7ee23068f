internal import CNice
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The selected pair's own UDP socket and the peer's address, for sending a batch of datagrams with one or a
/// few system calls (sendmmsg(2), UDP GSO) instead of one `nice_agent_send` (one sendmsg(2)) per datagram.
///
/// Only for pairs whose local candidate is host, server-reflexive or peer-reflexive over UDP: what such a
/// pair sends is the bare datagram from the candidate's base socket (RFC 8445 §12.1), which is exactly what
/// libnice would do. A relayed local candidate needs TURN framing (Send indications or ChannelData, RFC 8656
/// §11–12) and stays on `nice_agent_send`; so does reliable (pseudo-TCP) mode. libnice keeps receiving on the
/// socket (STUN consent checks, RFC 7675, still flow through it) and keeps its own GSocket reference; we hold
/// one more while a path is cached, and drop the path on the loop thread before libnice could close the
/// socket (pair change, state change, stream removal, restart, teardown).
struct DirectPath: @unchecked Sendable {
    let socket: UnsafeMutablePointer<GSocket>
    let fd: Int32
    var address: sockaddr_storage
    let addressLength: socklen_t
    /// 1 while UDP GSO works on this socket; the C helper clears it when the kernel refuses.
    var gso: Int32 = 1
}

extension NiceAgentCore {
    /// Loop thread: (re)reads the selected pair of one component and caches its direct path, or drops it.
    func refreshDirectPath(_ a: OpaquePointer, _ stream: UInt32, _ component: UInt32) {
        var fresh: DirectPath?
        let usable = shared.withLock { s in
            let state = s.states[ComponentKey(stream: stream, component: component)]
            return state == .connected || state == .ready
        }
        var local: UnsafeMutablePointer<NiceCandidate>?
        var remote: UnsafeMutablePointer<NiceCandidate>?
        if usable, nice_agent_get_selected_pair(a, stream, component, &local, &remote) != 0, let local, let remote,
           local.pointee.type != NICE_CANDIDATE_TYPE_RELAYED, local.pointee.transport == NICE_CANDIDATE_TRANSPORT_UDP,
           let socket = nice_agent_get_selected_socket(a, stream, component) {
            let fd = g_socket_get_fd(socket)
            if let bytes = configuration.socketBufferBytes, fd >= 0 { sj_socket_set_buffers(fd, Int32(clamping: bytes)) }
            var storage = sockaddr_storage()
            withUnsafeMutablePointer(to: &storage) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { nice_address_copy_to_sockaddr(&remote.pointee.addr, $0) }
            }
            let length: socklen_t
            switch Int32(storage.ss_family) {
            case AF_INET: length = socklen_t(MemoryLayout<sockaddr_in>.size)
            case AF_INET6: length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            default: length = 0
            }
            if fd >= 0 { Self.forbidFragmentation(fd: fd, family: Int32(storage.ss_family)) }
            if fd >= 0, length > 0, configuration.directSend, !configuration.reliable {
                fresh = DirectPath(socket: socket, fd: fd, address: storage, addressLength: length)
            } else {
                g_object_unref(UnsafeMutableRawPointer(socket))
            }
        }
        let key = ComponentKey(stream: stream, component: component)
        let old = directPaths.withLock { paths in
            let old = paths[key]
            paths[key] = fresh
            return old
        }
        if let old { g_object_unref(UnsafeMutableRawPointer(old.socket)) }
    }

    /// DF on, and the kernel never fragments nor shrinks datagrams to a cached path MTU: a datagram larger than
    /// the interface MTU fails with EMSGSIZE, a larger one than the path carries is dropped on the way. That is
    /// what path MTU discovery in the layer above needs (RFC 8899 §3, §6.1: probes must not be fragmented), and
    /// ICE's own STUN checks are far smaller than any MTU. IP_PMTUDISC_PROBE (Linux ip(7), ipv6(7)).
    static func forbidFragmentation(fd: Int32, family: Int32) {
        var probe: Int32 = 3  // IP_PMTUDISC_PROBE / IPV6_PMTUDISC_PROBE
        let size = socklen_t(MemoryLayout<Int32>.size)
        switch family {
        case AF_INET:
            _ = setsockopt(fd, Int32(IPPROTO_IP), 10 /* IP_MTU_DISCOVER */, &probe, size)
        case AF_INET6:
            _ = setsockopt(fd, Int32(IPPROTO_IPV6), 23 /* IPV6_MTU_DISCOVER */, &probe, size)
            var on: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_IPV6), 62 /* IPV6_DONTFRAG */, &on, size)
        default:
            break
        }
    }

    /// Loop thread: forgets the direct paths of one stream (nil: of all streams) before libnice may close
    /// their sockets.
    func dropDirectPaths(stream: UInt32?) {
        let dropped = directPaths.withLock { paths -> [DirectPath] in
            let gone = paths.filter { stream == nil || $0.key.stream == stream }
            for key in gone.keys { paths[key] = nil }
            return Array(gone.values)
        }
        for path in dropped { g_object_unref(UnsafeMutableRawPointer(path.socket)) }
    }

    /// Any thread: sends the datagrams in order; returns how many were handed on (the others met a full
    /// socket buffer or a local filter and are lost, as on the network). Throws only when none could go.
    func sendBatch(_ datagrams: [[UInt8]], stream: ICEStreamID, component: Int) throws(ICEError) -> Int {
        try sendBatchReporting(datagrams, stream: stream, component: component).sent
    }

    /// As `sendBatch`, also returning the errno of the last datagram the direct path refused (0: none).
    /// EMSGSIZE means larger than the local interface's MTU allows with fragmentation forbidden
    /// (`forbidFragmentation`): what a path MTU probe that is too large meets first (RFC 8899 §4.6.2).
    func sendBatchReporting(_ datagrams: [[UInt8]], stream: ICEStreamID, component: Int) throws(ICEError) -> (sent: Int, error: Int32) {
        guard !datagrams.isEmpty else { return (0, 0) }
        guard let s = UInt32(exactly: stream.rawValue), let c = UInt32(exactly: component) else {
            throw .unknownStream(stream.rawValue)
        }
        let key = ComponentKey(stream: s, component: c)
        var sent = 0
        if configuration.directSend, !configuration.reliable {
            let direct = directPaths.withLock { paths -> (sent: Int, error: Int32)? in
                guard var path = paths[key] else { return nil }
                let result = Self.sendDirect(datagrams, on: &path)
                paths[key] = path
                return result
            }
            if let direct {
                // What the kernel refused (full socket buffer, a local filter) is dropped, as the network
                // would (the layer above retransmits); the rest of the batch still went. Only when nothing
                // went for another reason (e.g. an ICMP error reported on this send) is it left to libnice's
                // path below, which reports it the usual way.
                if direct.sent > 0 || direct.error == 0 { return direct }
                let error = direct.error
                if error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS || error == EPERM || error == EMSGSIZE {
                    return (0, error)
                }
            }
        }
        for datagram in datagrams {
            let result = datagram.withUnsafeBytes { bytes in
                Result { () throws(ICEError) -> Int in try send(bytes, stream: stream, component: component) }
            }
            do throws(ICEError) {
                _ = try result.get()
                sent += 1
            } catch {
                if sent == 0 { throw error }
                return (sent, 0)
            }
        }
        return (sent, 0)
    }

    /// Under the `directPaths` lock: the datagrams go from one contiguous copy so the C side gets stable
    /// pointers. Returns the count sent and the errno of the last datagram refused (0: none was).
    private static func sendDirect(_ datagrams: [[UInt8]], on path: inout DirectPath) -> (sent: Int, error: Int32) {
        var total = 0
        for d in datagrams { total += d.count }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 16)
        defer { storage.deallocate() }
        var pointers = [UnsafeRawPointer?](repeating: nil, count: datagrams.count)
        var lengths = [UInt32](repeating: 0, count: datagrams.count)
        var offset = 0
        for (i, d) in datagrams.enumerated() {
            let target = storage.baseAddress! + offset
            d.withUnsafeBytes { if let base = $0.baseAddress { target.copyMemory(from: base, byteCount: $0.count) } }
            pointers[i] = UnsafeRawPointer(target)
            lengths[i] = UInt32(d.count)
            offset += d.count
        }
        var gso = path.gso
        var lastError: Int32 = 0
        let fd = path.fd
        let length = path.addressLength
        let result = withUnsafePointer(to: &path.address) { address in
            address.withMemoryRebound(to: sockaddr.self, capacity: 1) { to in
                sj_udp_send_batch(fd, to, length, pointers, lengths, UInt32(datagrams.count), &gso, &lastError)
            }
        }
        path.gso = gso
        return (Int(result), lastError)
    }
}

extension NiceAgentCore {
    func hasDirectPath(stream: ICEStreamID, component: Int) -> Bool {
        let key = ComponentKey(stream: UInt32(truncatingIfNeeded: stream.rawValue), component: UInt32(truncatingIfNeeded: component))
        return directPaths.withLock { $0[key] != nil }
    }
}
