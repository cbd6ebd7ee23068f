#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A plain UDP socket for the local RTP relays (`--audio-rtp-in/out`, `--video-rtp-in/out`): either bound to
/// an endpoint to read from, or unbound to send to one. Used only from the owning session's queue.
final class UDPRelaySocket {
    private let descriptor: Int32
    private let family: Int32
    private var readSource: DispatchSourceRead?

    /// A socket that sends to `destination`.
    init(sendingTo destination: UDPEndpoint) throws(MediaError) {
        let address = try Self.socketAddress(destination)
        family = address.family
        descriptor = socket(family, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw .socket("socket(): \(String(cString: strerror(errno)))") }
        self.destination = address.storage
        destinationLength = address.length
    }

    /// A socket bound to `local` that reads datagrams on `queue`.
    init(receivingOn local: UDPEndpoint, queue: DispatchQueue, handler: @escaping @Sendable ([UInt8]) -> Void) throws(MediaError) {
        let address = try Self.socketAddress(local)
        let fd = socket(address.family, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw .socket("socket(): \(String(cString: strerror(errno)))") }
        var storage = address.storage
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, address.length) }
        }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            _ = Glibc.close(fd)
            throw .socket("cannot bind \(local): \(reason)")
        }
        family = address.family
        descriptor = fd
        destination = nil
        destinationLength = 0
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                guard count > 0 else { break }
                handler(Array(buffer[0..<count]))
            }
        }
        source.resume()
        readSource = source
    }

    private let destination: sockaddr_storage?
    private let destinationLength: socklen_t

    /// Sends one datagram; errors are ignored (a local relay with nobody listening is not a call failure).
    func send(_ bytes: [UInt8]) {
        guard var destination else { return }
        _ = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &destination) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, buffer.baseAddress, buffer.count, 0, $0, destinationLength)
                }
            }
        }
    }

    func close() {
        if let readSource {
            // The read source owns the descriptor from here: close it once the source is cancelled.
            let fd = descriptor
            readSource.setCancelHandler { _ = Glibc.close(fd) }
            readSource.cancel()
            self.readSource = nil
        } else if descriptor >= 0 {
            _ = Glibc.close(descriptor)
        }
    }

    private static func socketAddress(_ endpoint: UDPEndpoint) throws(MediaError) -> (storage: sockaddr_storage, length: socklen_t, family: Int32) {
        var storage = sockaddr_storage()
        if endpoint.host.contains(":") {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = endpoint.port.bigEndian
            guard inet_pton(AF_INET6, endpoint.host, &address.sin6_addr) == 1 else {
                throw .invalidConfiguration("\(endpoint.host) is not an IPv6 literal")
            }
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: address) { raw.copyMemory(from: $0) } }
            return (storage, socklen_t(MemoryLayout<sockaddr_in6>.size), AF_INET6)
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = endpoint.port.bigEndian
        guard inet_pton(AF_INET, endpoint.host, &address.sin_addr) == 1 else {
            throw .invalidConfiguration("\(endpoint.host) is not an IPv4 literal")
        }
        withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: address) { raw.copyMemory(from: $0) } }
        return (storage, socklen_t(MemoryLayout<sockaddr_in>.size), AF_INET)
    }
}
