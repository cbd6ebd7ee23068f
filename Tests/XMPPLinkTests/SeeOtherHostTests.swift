import Foundation
import Synchronization
import TestServers
import Testing
import XMPPCore
@testable import XMPPLink
#if canImport(Glibc)
import Glibc
#endif

/// A front server that answers every stream header with `<see-other-host/>` (RFC 6120 §4.9.3.19), as a
/// cluster's front or a server being drained does. It reads the client's stream header first, as a server
/// would, and remembers the `to` it saw.
final class RedirectingServer: @unchecked Sendable {
    let port: Int
    private let fd: Int32
    /// The stream headers received, one per connection.
    let received = Lines()

    final class Lines: Sendable {
        let list = Mutex<[String]>([])
    }

    /// `target(n)` is the see-other-host text for the n-th connection (0-based).
    init(target: @escaping @Sendable (Int) -> String) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let listener = fd
        let headers = received
        Thread.detachNewThread {
            var count = 0
            while true {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                var received = [UInt8]()
                var buffer = [UInt8](repeating: 0, count: 4096)
                // Up to the end of the client's <stream:stream ...> tag.
                while !(String(decoding: received, as: UTF8.self).range(of: "<stream:stream")
                    .map { String(decoding: received, as: UTF8.self)[$0.upperBound...].contains(">") } ?? false) {
                    let n = read(client, &buffer, buffer.count)
                    if n <= 0 { break }
                    received += buffer[0..<n]
                }
                headers.list.withLock { $0.append(String(decoding: received, as: UTF8.self)) }
                let reply = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
                    + "from='localhost' id='front\(count)' version='1.0'><stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>"
                    + target(count) + "</see-other-host></stream:error></stream:stream>"
                _ = Array(reply.utf8).withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                close(client)
                count += 1
            }
        }
    }

    deinit {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}

@Suite(.serialized, .timeLimit(.minutes(1))) struct SeeOtherHostTests {
    /// The front redirects to Prosody's port; the client follows, keeps `to='localhost'` and STARTTLS with the
    /// certificate checked against `localhost`, and logs in there.
    @Test func redirectIsFollowedToTheServerThatServes() async throws {
        let server = try ProsodyServer.get()
        let front = try RedirectingServer { _ in "127.0.0.1:\(server.c2sPort)" }
        var configuration = try server.configuration("alice", resource: "moved")
        configuration.port = front.port
        let traced = Mutex<[String]>([])
        configuration.trace = { direction, text in if direction == .sent { traced.withLock { $0.append(text) } } }
        let client = XMPPClient(configuration)
        #expect(try await client.connect() == (try JID("alice@localhost/moved")))
        #expect(front.received.list.withLock { $0.count } == 1)
        #expect(front.received.list.withLock { $0.first?.contains("to='localhost'") == true || $0.first?.contains("to=\"localhost\"") == true })
        #expect(traced.withLock { $0 }.contains { $0.contains("starttls") }, "the same TLS policy on the new host")
        #expect(try await client.ping() < .seconds(2))
        await client.close()
    }

    /// Two fronts that send the client to each other: it stops after a few redirects with a clear error.
    @Test func redirectLoopEnds() async throws {
        let server = try ProsodyServer.get()
        let ports = Mutex<Int>(0)
        let a = try RedirectingServer { _ in "127.0.0.1:\(ports.withLock { $0 })" }
        let b = try RedirectingServer { _ in "127.0.0.1:\(a.port)" }
        ports.withLock { $0 = b.port }
        var configuration = try server.configuration("alice", resource: "loop")
        configuration.port = a.port
        do {
            _ = try await XMPPClient(configuration).connect()
            Issue.record("connected through a redirect loop")
        } catch let error as XMPPLinkError {
            guard case .seeOtherHost = error else { Issue.record("\(error)"); return }
            #expect(error.description.contains("redirects to"))
        }
        let connections = a.received.list.withLock { $0.count } + b.received.list.withLock { $0.count }
        #expect(connections == XMPPClientConfiguration.maximumRedirects + 1)
    }

    /// A target that is not a host[:port] is not followed; the error names it.
    @Test(arguments: ["127.0.0.1:99999", "[::1", "exa mple.org", "host:port", "a/b"])
    func unusableTargetIsReported(target: String) async throws {
        let server = try ProsodyServer.get()
        let front = try RedirectingServer { _ in target }
        var configuration = try server.configuration("alice", resource: "bad")
        configuration.port = front.port
        await #expect(throws: XMPPLinkError.self) { _ = try await XMPPClient(configuration).connect() }
        #expect(front.received.list.withLock { $0.count } == 1)
    }

    @Test(arguments: [("xmpp2.example.org", "xmpp2.example.org", nil), ("xmpp2.example.org:5299", "xmpp2.example.org", 5299),
                      ("192.0.2.7:5222", "192.0.2.7", 5222), ("[2001:db8::1]:5223", "2001:db8::1", 5223), ("[2001:db8::1]", "2001:db8::1", nil)]
          as [(String, String, Int?)])
    func targetSyntax(text: String, host: String, port: Int?) throws {
        let target = try #require(XMPPClientConfiguration.redirectTarget(text))
        #expect(target.host == host && target.port == port)
    }
}
