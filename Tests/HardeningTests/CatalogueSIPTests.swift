import Foundation
import SIP
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Hostile SIP at a live `SIPEndpoint` over real UDP and TCP sockets on loopback: each bad request gets
/// the exact answer RFC 3261 allows (a 400 with a reason when Via, From, To, Call-ID and CSeq were readable,
/// §8.2.6.2 / §21.4.1; nothing otherwise), and the endpoint answers the next valid OPTIONS.
@Suite("Catalogue: hostile SIP at a live endpoint", .serialized)
struct CatalogueSIPTests {
    enum Transport: String, CaseIterable, Sendable { case udp, tcp }

    /// A blocking loopback socket with a receive timeout; sends never raise SIGPIPE. Used by one test at a
    /// time; its blocking receive runs on a Dispatch thread (see `receive(within:)`).
    final class Client: @unchecked Sendable {
        let fd: Int32
        let transport: Transport
        let endpointPort: Int
        private var framer = SIPStreamFramer()

        init(_ transport: Transport, port: Int) throws {
            self.transport = transport
            endpointPort = port
            fd = socket(AF_INET, Int32(transport == .udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = Self.address(port: port)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw SIPTestError("connect to 127.0.0.1:\(port) failed: errno \(errno)") }
        }

        deinit { close(fd) }

        static func address(port: Int) -> sockaddr_in {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            return address
        }

        var localPort: Int {
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            return Int(UInt16(bigEndian: address.sin_port))
        }

        /// Sends everything it can; returns false once the peer has closed the connection.
        @discardableResult
        func send(_ bytes: [UInt8]) -> Bool {
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }

        enum Reception: Sendable { case message(SIPMessage), nothing, closed }

        /// The next message within `seconds`, `.nothing` if none came, `.closed` if the TCP peer closed.
        /// Waits off the Swift concurrency pool: a blocking recv on one of its threads (two on a two-core
        /// machine) can starve the endpoint under test, which runs on the same pool.
        func receive(within seconds: Double) async throws -> Reception {
            try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(with: Result { try self.receiveBlocking(within: seconds) }) }
            }
        }

        private func receiveBlocking(within seconds: Double) throws -> Reception {
            let deadline = Date().addingTimeInterval(seconds)
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while Date() < deadline {
                if transport == .tcp, let message = try framer.next() { return .message(message) }
                let n = recv(fd, &buffer, buffer.count, 0)
                if n > 0 {
                    if transport == .udp { return .message(try SIPParser.parse(datagram: Array(buffer[..<n]))) }
                    framer.append(buffer[..<n])
                } else if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    if transport == .tcp, let message = try framer.next() { return .message(message) }
                    return .closed
                }
            }
            return .nothing
        }
    }

    struct SIPTestError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func crlf(_ text: String) -> [UInt8] { Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8) }

    /// A request with its headers; `drop` leaves one out, `extra` adds lines before the blank line.
    static func request(_ client: Client, method: String = "OPTIONS", callID: String?, cseq: Int, contentLength: String = "0",
                        extra: String = "") -> [UInt8] {
        let via = "SIP/2.0/\(client.transport.rawValue.uppercased()) 127.0.0.1:\(client.localPort);branch=z9hG4bK\(callID ?? "none")\(cseq);rport"
        var text = "\(method) sip:jingle@127.0.0.1:\(client.endpointPort) SIP/2.0\nVia: \(via)\nFrom: <sip:probe@127.0.0.1>;tag=p\(cseq)\n"
        text += "To: <sip:jingle@127.0.0.1>\n"
        if let callID { text += "Call-ID: \(callID)\n" }
        text += "CSeq: \(cseq) \(method)\nMax-Forwards: 70\n\(extra)Content-Length: \(contentLength)\n\n"
        return crlf(text)
    }

    /// The endpoint's count of dropped messages once it reaches `count` (or after 3 s).
    static func dropped(_ endpoint: SIPEndpoint, atLeast count: Int) async -> Int {
        for _ in 0..<150 {
            let dropped = await endpoint.droppedMessages
            if dropped >= count { return dropped }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return await endpoint.droppedMessages
    }

    /// The endpoint still serves: a valid OPTIONS gets 200 with our Call-ID.
    static func expectServes(_ client: Client, callID: String, cseq: Int) async throws {
        #expect(client.send(request(client, callID: callID, cseq: cseq)))
        guard case .message(let response) = try await client.receive(within: 5) else {
            Issue.record("no answer to a valid OPTIONS after the hostile request")
            return
        }
        #expect(response.statusCode == 200)
        #expect(try response.callID == callID)
    }

    @Test("a request without Call-ID gets no answer (§8.2.6.2: a response cannot be addressed) and is counted; OPTIONS still gets 200",
          arguments: Transport.allCases)
    func missingCallID(transport: Transport) async throws {
        let endpoint = try await SIPEndpoint.start()
        let client = try Client(transport, port: endpoint.port)
        #expect(client.send(Self.request(client, callID: nil, cseq: 1)))
        let reception = try await client.receive(within: 1)
        guard case .nothing = reception else { Issue.record("expected silence, got \(reception)"); return }
        let dropped = await Self.dropped(endpoint, atLeast: 1)
        #expect(dropped == 1)
        // Over TCP the framing survived (a complete message that failed validation): the same connection serves on.
        try await Self.expectServes(client, callID: "after-missing-\(transport)", cseq: 2)
        await endpoint.shutdown()
    }

    @Test("Content-Length that is not a number gets 400 Bad Content-Length; the endpoint then answers OPTIONS",
          arguments: Transport.allCases)
    func badContentLength(transport: Transport) async throws {
        let endpoint = try await SIPEndpoint.start()
        let client = try Client(transport, port: endpoint.port)
        #expect(client.send(Self.request(client, callID: "badlen-\(transport)", cseq: 1, contentLength: "abc")))
        guard case .message(let response) = try await client.receive(within: 5) else {
            Issue.record("no 400 for a bad Content-Length over \(transport)")
            return
        }
        #expect(response.statusCode == 400)
        #expect(response.reasonPhrase == "Bad Content-Length")
        #expect(try response.callID == "badlen-\(transport)")
        #expect(try response.cseq == SIPCSeq(1, .options))
        let dropped = await Self.dropped(endpoint, atLeast: 1)
        #expect(dropped == 1)
        // Over TCP the framing is lost with the length (§18.3): the endpoint closes that connection after its 400.
        let next: Client
        if transport == .tcp {
            let after = try await client.receive(within: 2)
            guard case .closed = after else { Issue.record("expected the connection closed, got \(after)"); return }
            next = try Client(.tcp, port: endpoint.port)
        } else {
            next = client
        }
        try await Self.expectServes(next, callID: "after-badlen-\(transport)", cseq: 2)
        await endpoint.shutdown()
    }

    @Test("Content-Length beyond the body limit over TCP gets 513 Message Too Large (§21.5.14), then the connection closes")
    func hugeContentLengthOverTCP() async throws {
        let endpoint = try await SIPEndpoint.start()
        let client = try Client(.tcp, port: endpoint.port)
        #expect(client.send(Self.request(client, callID: "huge", cseq: 1, contentLength: "999999999")))
        guard case .message(let response) = try await client.receive(within: 5) else {
            Issue.record("no 513 for a 1 GB Content-Length")
            return
        }
        #expect(response.statusCode == 513)
        #expect(response.reasonPhrase == "Message Too Large")
        let after = try await client.receive(within: 2)
        guard case .closed = after else { Issue.record("expected the connection closed, got \(after)"); return }
        try await Self.expectServes(try Client(.tcp, port: endpoint.port), callID: "after-huge", cseq: 2)
        await endpoint.shutdown()
    }

    @Test("1 MiB of headers over TCP: the endpoint stops reading at its 64 KiB limit, closes without an answer, serves the next connection")
    func oneMebibyteOfHeadersOverTCP() async throws {
        let endpoint = try await SIPEndpoint.start()
        let client = try Client(.tcp, port: endpoint.port)
        let huge = Self.request(client, callID: "big", cseq: 1, extra: "X-Big: " + String(repeating: "a", count: 1 << 20) + "\r\n")
        let started = ContinuousClock.now
        // The write may be cut short by the endpoint's close: that is the expected outcome, not an error.
        client.send(huge)
        let reception = try await client.receive(within: 5)
        guard case .closed = reception else { Issue.record("expected the connection closed without an answer, got \(reception)"); return }
        #expect(ContinuousClock.now - started < .seconds(3))
        let dropped = await Self.dropped(endpoint, atLeast: 1)
        #expect(dropped == 1)
        try await Self.expectServes(try Client(.tcp, port: endpoint.port), callID: "after-big", cseq: 2)
        await endpoint.shutdown()
    }

    @Test("a 9 000-byte datagram (long headers and body) is read whole, not cut at a receive buffer's size, and answered 200")
    func longDatagramIsReadWhole() async throws {
        let endpoint = try await SIPEndpoint.start()
        let client = try Client(.udp, port: endpoint.port)
        let body = String(repeating: "v=0\r\n", count: 1_000)
        var request = Self.request(client, callID: "long", cseq: 1, contentLength: "\(body.utf8.count)",
                                   extra: "X-Long: " + String(repeating: "b", count: 4_000) + "\r\nContent-Type: text/plain\r\n")
        request += Array(body.utf8)
        #expect(request.count > 9_000)
        #expect(client.send(request))
        guard case .message(let response) = try await client.receive(within: 5) else {
            Issue.record("no answer to a long OPTIONS")
            return
        }
        #expect(response.statusCode == 200, "\(response.statusCode) \(String(describing: response.reasonPhrase))")
        #expect(try response.callID == "long")
        await endpoint.shutdown()
    }

    @Test("a datagram whose headers pass the endpoint's limit is dropped unanswered and counted; OPTIONS still gets 200")
    func oversizedHeadersOverUDP() async throws {
        // One UDP datagram carries at most 65 507 bytes, under the default 64 KiB header limit; so this endpoint
        // is configured with 16 KiB and gets a 60 000-byte header section.
        var configuration = SIPEndpoint.Configuration()
        configuration.limits = SIPParserLimits(maxHeaderBytes: 16 * 1024)
        let endpoint = try await SIPEndpoint.start(configuration)
        let client = try Client(.udp, port: endpoint.port)
        let huge = Self.request(client, callID: "bigudp", cseq: 1, extra: "X-Big: " + String(repeating: "a", count: 60_000) + "\r\n")
        #expect(client.send(huge))
        let reception = try await client.receive(within: 1)
        guard case .nothing = reception else { Issue.record("expected silence, got \(reception)"); return }
        let dropped = await Self.dropped(endpoint, atLeast: 1)
        #expect(dropped == 1)
        try await Self.expectServes(client, callID: "after-bigudp", cseq: 2)
        await endpoint.shutdown()
    }
}
