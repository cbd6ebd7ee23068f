#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The plain (RTP/AVP) side of a media relay: an RTP socket and, on the next port, an RTCP socket (RFC 3550
/// §11: RTCP on the RTP port + 1 unless `a=rtcp` or `a=rtcp-mux` say otherwise), both bound to one local
/// address. Bound at creation so the port can be written into an SDP before the relay runs.
public final class PlainRTPPort: @unchecked Sendable {
    public let host: String
    /// The RTP port; RTCP is `rtpPort + 1`.
    public let rtpPort: UInt16
    public var rtcpPort: UInt16 { rtpPort + 1 }

    let rtpDescriptor: Int32
    let rtcpDescriptor: Int32
    /// Whether the descriptors are closed or handed over.
    private let closed = Mutex(false)

    /// Binds an even RTP port and the RTCP port above it on `host` (an IPv4 or IPv6 literal), trying ports the
    /// system hands out until a pair is free.
    public init(host: String = "127.0.0.1") throws(MediaError) {
        self.host = host
        (rtpDescriptor, rtcpDescriptor, rtpPort) = try Self.bindPair(host: host)
    }

    private static func bindPair(host: String) throws(MediaError) -> (Int32, Int32, UInt16) {
        for _ in 0..<64 {
            let rtp = try bind(host: host, port: 0)
            let port = localPort(rtp)
            // RFC 3550 §11: an even RTP port, the odd one above for RTCP.
            if port % 2 == 0, port < UInt16.max, let rtcp = try? bind(host: host, port: port + 1) {
                return (rtp, rtcp, port)
            }
            _ = Glibc.close(rtp)
        }
        throw .socket("no free RTP/RTCP port pair on \(host)")
    }

    deinit { close() }

    /// Closes both sockets (also done by the relay that uses them when it stops).
    public func close() {
        let wasClosed = closed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        _ = Glibc.close(rtpDescriptor)
        _ = Glibc.close(rtcpDescriptor)
    }

    /// Marks the descriptors as owned by someone else (a relay's read sources close them).
    func handOver() {
        closed.withLock { $0 = true }
    }

    static func bind(host: String, port: UInt16) throws(MediaError) -> Int32 {
        let address = try SocketAddress(host: host, port: port)
        let fd = socket(address.family, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw .socket("socket(): \(String(cString: strerror(errno)))") }
        var storage = address.storage
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, address.length) }
        }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            _ = Glibc.close(fd)
            throw .socket("cannot bind \(host):\(port): \(reason)")
        }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        return fd
    }

    static func localPort(_ fd: Int32) -> UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return SocketAddress(storage: storage, length: length).port
    }
}

/// A socket address for `sendto`/`recvfrom`.
struct SocketAddress: Sendable, Equatable {
    var storage: sockaddr_storage
    var length: socklen_t

    var family: Int32 { Int32(storage.ss_family) }

    init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
    }

    init(host: String, port: UInt16) throws(MediaError) {
        var storage = sockaddr_storage()
        if host.contains(":") {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else { throw .invalidConfiguration("\(host) is not an IPv6 literal") }
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: address) { raw.copyMemory(from: $0) } }
            self.init(storage: storage, length: socklen_t(MemoryLayout<sockaddr_in6>.size))
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw .invalidConfiguration("\(host) is not an IPv4 literal") }
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: address) { raw.copyMemory(from: $0) } }
            self.init(storage: storage, length: socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }

    var port: UInt16 {
        withUnsafeBytes(of: storage) { raw in
            if Int32(storage.ss_family) == AF_INET6 {
                return UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)
            }
            return UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port)
        }
    }

    static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        guard lhs.length == rhs.length else { return false }
        var a = lhs.storage, b = rhs.storage
        return memcmp(&a, &b, Int(lhs.length)) == 0
    }
}
