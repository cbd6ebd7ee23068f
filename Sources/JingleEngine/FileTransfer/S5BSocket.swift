import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A non-blocking TCP socket polled from async code: enough for a SOCKS5 direct connection (XEP-0065) on
/// the host addresses, without tying the file-transfer code to an event loop.
final class S5BSocket: Sendable {
    private let descriptor: Mutex<Int32>

    private init(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        descriptor = Mutex(fd)
    }

    deinit { close() }

    private var fd: Int32 { descriptor.withLock { $0 } }

    private static func errorText(_ what: String) -> FileTransferSessionError {
        .transport("SOCKS5 \(what): \(String(cString: strerror(errno)))")
    }

    /// The numeric address `host` (IPv4 or IPv6 literal) with `port`.
    private static func address(_ host: String, _ port: UInt16) throws(FileTransferSessionError) -> (storage: sockaddr_storage, length: socklen_t, family: Int32) {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw .transport("SOCKS5 candidate host \(host) is not an IP address literal")
        }
        defer { freeaddrinfo(result) }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(start: info.pointee.ai_addr, count: Int(info.pointee.ai_addrlen)))
        }
        return (storage, info.pointee.ai_addrlen, info.pointee.ai_family)
    }

    /// A listening socket on `host`, port chosen by the system. With `listening` false the port is only
    /// bound, so connections to it are refused (a test hook's unreachable candidate).
    static func listen(host: String, listening: Bool = true) throws(FileTransferSessionError) -> (socket: S5BSocket, port: UInt16) {
        var (storage, length, family) = try address(host, 0)
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw errorText("socket") }
        let bound = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, !listening || Glibc.listen(fd, 4) == 0 else {
            let e = errorText("listen on \(host)")
            Glibc.close(fd)
            throw e
        }
        var local = sockaddr_storage()
        var localLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &localLength) } }
        let port: UInt16 = withUnsafeBytes(of: &local) { raw in
            // sin_port and sin6_port sit at the same offset, in network order.
            UInt16(raw[2]) << 8 | UInt16(raw[3])
        }
        return (S5BSocket(fd), port)
    }

    /// The next incoming connection, or nil when `deadline` passed or the task was cancelled.
    func accept(until deadline: ContinuousClock.Instant) async -> S5BSocket? {
        while ContinuousClock.now < deadline, !Task.isCancelled {
            let client = Glibc.accept(fd, nil, nil)
            if client >= 0 { return S5BSocket(client) }
            if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    static func connect(host: String, port: UInt16, timeout: Duration) async throws(FileTransferSessionError) -> S5BSocket {
        var (storage, length, family) = try address(host, port)
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw errorText("socket") }
        let socket = S5BSocket(fd)
        let started = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) } }
        if started != 0 && errno != EINPROGRESS { throw errorText("connect to \(host):\(port)") }
        let deadline = ContinuousClock.now + timeout
        while true {
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            if poll(&p, 1, 0) > 0 {
                var error: Int32 = 0
                var size = socklen_t(MemoryLayout<Int32>.size)
                _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size)
                guard error == 0 else { throw .transport("SOCKS5 connect to \(host):\(port): \(String(cString: strerror(error)))") }
                return socket
            }
            guard ContinuousClock.now < deadline, !Task.isCancelled else { throw .timeout("a TCP connection to \(host):\(port)") }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Up to `max` bytes; nil at end of stream.
    func read(max: Int = 1 << 16, idleTimeout: Duration) async throws(FileTransferSessionError) -> [UInt8]? {
        let deadline = ContinuousClock.now + idleTimeout
        var buffer = [UInt8](repeating: 0, count: max)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, max, 0) }
            if n > 0 { return Array(buffer.prefix(n)) }
            if n == 0 { return nil }
            if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { throw Self.errorText("read") }
            guard ContinuousClock.now < deadline, !Task.isCancelled else { throw .timeout("SOCKS5 stream data (nothing for \(idleTimeout))") }
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Exactly `count` bytes (the SOCKS5 handshake reads each message whole, so no data is read ahead).
    func read(exactly count: Int, timeout: Duration) async throws(FileTransferSessionError) -> [UInt8] {
        var out: [UInt8] = []
        while out.count < count {
            guard let chunk = try await read(max: count - out.count, idleTimeout: timeout) else {
                throw .transport("SOCKS5 peer closed the connection during the handshake")
            }
            out += chunk
        }
        return out
    }

    func write(_ bytes: ArraySlice<UInt8>) async throws(FileTransferSessionError) {
        var rest = bytes
        let deadline = ContinuousClock.now + .seconds(30)
        while !rest.isEmpty {
            let n = rest.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                rest = rest.dropFirst(n)
                continue
            }
            if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { throw Self.errorText("write") }
            guard ContinuousClock.now < deadline else { throw .timeout("the SOCKS5 peer to take data") }
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Half-close: the peer reads end of stream after our last byte.
    func shutdownWrite() { _ = shutdown(fd, Int32(SHUT_WR)) }

    func close() {
        descriptor.withLock { fd in
            if fd >= 0 { Glibc.close(fd) }
            fd = -1
        }
    }

    // MARK: SOCKS5 handshakes (RFC 1928, XEP-0065 §5.3)

    /// Client side: no-auth greeting, CONNECT to the domain `dstaddr`, port 0.
    func socks5Connect(dstaddr: String, timeout: Duration) async throws(FileTransferSessionError) {
        try await write(S5B.greeting[...])
        let method = try await read(exactly: 2, timeout: timeout)
        guard method == [5, 0] else { throw .transport("the SOCKS5 server refused no-authentication (XEP-0065 §5.3.1)") }
        try await write(S5B.connectRequest(dstaddr: dstaddr)[...])
        var reply = try await read(exactly: 5, timeout: timeout)
        let total: Int
        switch reply[3] {
        case 1: total = 10
        case 3: total = 5 + Int(reply[4]) + 2
        case 4: total = 22
        default: total = 5
        }
        if total > 5 { reply += try await read(exactly: total - 5, timeout: timeout) }
        do { _ = try S5B.parseConnectReply(reply) } catch { throw .transport(error.description) }
    }

    /// Server side: accepts the no-auth greeting and a CONNECT to exactly `dstaddr`.
    func socks5Accept(dstaddr: String, timeout: Duration) async throws(FileTransferSessionError) {
        var greeting = try await read(exactly: 2, timeout: timeout)
        greeting += try await read(exactly: Int(greeting[1]), timeout: timeout)
        let selection: [UInt8]
        do { selection = try S5B.methodSelection(for: greeting) } catch {
            try? await write([5, 0xFF][...])
            throw .transport(error.description)
        }
        try await write(selection[...])
        var request = try await read(exactly: 5, timeout: timeout)
        guard request[3] == 3 else {
            try? await write([5, 8, 0, 1, 0, 0, 0, 0, 0, 0][...])   // RFC 1928 §6: address type not supported
            throw .transport(S5B.SOCKS5Error.unsupportedAddressType(request[3]).description)
        }
        request += try await read(exactly: Int(request[4]) + 2, timeout: timeout)
        do { _ = try S5B.parseConnectRequest(request, expecting: dstaddr) } catch {
            // RFC 1928 §6: 0x02 connection not allowed by ruleset.
            try? await write([5, 2, 0, 1, 0, 0, 0, 0, 0, 0][...])
            throw .transport(error.description)
        }
        try await write(S5B.connectReply(dstaddr: dstaddr)[...])
    }
}
