import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Kernel TCP over 127.0.0.1: one connection, a writer thread and a reader thread, `total` bytes.
func kernelTCPThroughput(total: Int) throws -> Duration {
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard listener >= 0 else { throw BenchError("socket failed") }
    defer { close(listener) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0 }
    }
    guard bound, listen(listener, 1) == 0 else { throw BenchError("bind/listen failed") }
    let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    let connected = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) == 0 }
    }
    guard connected else { throw BenchError("connect failed") }
    let server = accept(listener, nil, nil)
    guard server >= 0 else { throw BenchError("accept failed") }
    let received = Counter()
    let done = DispatchSemaphore(value: 0)
    let started = ContinuousClock.now
    Thread.detachNewThread {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var count = 0
        while count < total {
            let n = buffer.withUnsafeMutableBytes { recv(server, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            count += n
        }
        received.add(count)
        done.signal()
    }
    Thread.detachNewThread {
        let buffer = [UInt8](repeating: 0x5A, count: 256 << 10)
        var sent = 0
        while sent < total {
            let n = buffer.withUnsafeBytes { send(client, $0.baseAddress, min($0.count, total - sent), Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
    }
    done.wait()
    let elapsed = ContinuousClock.now - started
    close(client)
    close(server)
    guard received.current == total else { throw BenchError("kernel TCP delivered \(received.current) of \(total)") }
    return elapsed
}
