import Foundation
import Synchronization
import NIOCore
import NIOPosix
import TestServers
import Testing
@testable import SIP

@Suite("SIP endpoint over loopback", .serialized)
struct SIPEndpointTests {
    let offer = "v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
    let answer = "v=0\r\no=b 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"

    @Test(arguments: [(SIPTransportKind.udp, "127.0.0.1"), (.tcp, "127.0.0.1"), (.udp, "::1"), (.tcp, "::1")])
    func twoEndpointsCallEachOther(transport: SIPTransportKind, host: String) async throws {
        let caller = try await SIPEndpoint.start(.init(host: host, transport: transport, userName: "caller"))
        let callee = try await SIPEndpoint.start(.init(host: host, transport: transport, userName: "callee"))
        let answer = self.answer
        let calleeSide = Task {
            var iterator = callee.incomingCalls.makeAsyncIterator()
            guard let incoming = await iterator.next() else { return [SIPCallEvent]() }
            #expect(incoming.info.from.uri.user == "romeo")
            #expect(incoming.info.from.displayName == "Romeo")
            #expect(incoming.info.invite.headers["Recv-Info"] == "trickle-ice")
            try await incoming.ring()
            try await incoming.answer(sdp: answer)
            return await collect(incoming.events) { if case .ended = $0 { return true }; return false }
        }
        let call = try await caller.invite(to: callee.uri, sdp: offer, fromUser: "romeo", displayName: "Romeo",
                                           headers: [("Recv-Info", "trickle-ice")])
        let early = try await withTimeout(10) {
            await collect(call.events) { if case .answered = $0 { return true }; if case .failed = $0 { return true }; return false }
        }
        #expect(early == [.ringing(status: 180, sdp: nil), .answered(sdp: answer)])
        let fragment = Array("a=candidate:1 1 UDP 1 127.0.0.1 4000 typ host\r\n".utf8)
        let result = try await withTimeout(10) { try await call.sendInfo(contentType: "application/sdpfrag", body: fragment, infoPackage: "trickle-ice") }
        #expect(result.status == 200)
        try await call.hangUp()
        let end = try await withTimeout(10) { await collect(call.events) { _ in false } }
        #expect(end == [.ended(.localHangUp)])
        let calleeEvents = try await withTimeout(10) { try await calleeSide.value }
        #expect(calleeEvents == [.confirmed(sdp: nil), .info(contentType: "application/sdpfrag", body: fragment, infoPackage: "trickle-ice"), .ended(.remoteHangUp)])
        await caller.shutdown()
        await callee.shutdown()
    }

    @Test func reinviteAnsweredThroughTheAsyncAPI() async throws {
        let caller = try await SIPEndpoint.start()
        let callee = try await SIPEndpoint.start(.init(userName: "callee", answerReinvitesAutomatically: false))
        let answer = self.answer
        let hold = offer + "a=sendonly\r\n"
        let calleeSide = Task {
            var iterator = callee.incomingCalls.makeAsyncIterator()
            guard let incoming = await iterator.next() else { return [SIPCallEvent]() }
            try await incoming.answer(sdp: answer)
            var seen: [SIPCallEvent] = []
            for await event in incoming.events {
                seen.append(event)
                if case .remoteReinvite = event { try await incoming.call.answerReinvite(sdp: answer + "a=recvonly\r\n") }
                if case .ended = event { break }
            }
            return seen
        }
        let call = try await caller.invite(to: callee.uri, sdp: offer)
        _ = try await withTimeout(10) { await collect(call.events) { if case .answered = $0 { return true }; return false } }
        let result = try await withTimeout(10) { try await call.reinvite(sdp: hold) }
        #expect(result == SIPRequestResult(status: 200, sdp: answer + "a=recvonly\r\n"))
        try await call.hangUp()
        let calleeEvents = try await withTimeout(10) { try await calleeSide.value }
        #expect(calleeEvents == [.confirmed(sdp: nil), .remoteReinvite(sdp: hold), .confirmed(sdp: nil), .ended(.remoteHangUp)])
        await caller.shutdown()
        await callee.shutdown()
    }

    @Test func rejectedAndCancelledCalls() async throws {
        let caller = try await SIPEndpoint.start()
        let callee = try await SIPEndpoint.start()
        let calleeSide = Task {
            var outcomes: [[SIPCallEvent]] = []
            var iterator = callee.incomingCalls.makeAsyncIterator()
            if let first = await iterator.next() {
                try await first.reject(status: 486)
                outcomes.append(await collect(first.events) { _ in false })
            }
            if let second = await iterator.next() {
                try await second.ring()
                outcomes.append(await collect(second.events) { _ in false })
            }
            return outcomes
        }
        let busy = try await caller.invite(to: callee.uri, sdp: offer)
        let busyEvents = try await withTimeout(10) { await collect(busy.events) { _ in false } }
        #expect(busyEvents == [.failed(status: 486, reason: "Busy Here")])

        let cancelled = try await caller.invite(to: callee.uri, sdp: offer)
        let ringing = try await withTimeout(10) { await collect(cancelled.events) { _ in true } }
        #expect(ringing == [.ringing(status: 180, sdp: nil)])
        try await cancelled.cancel()
        let rest = try await withTimeout(10) { await collect(cancelled.events) { _ in false } }
        #expect(rest.last == .failed(status: 487, reason: "Request Terminated"))
        let outcomes = try await withTimeout(10) { try await calleeSide.value }
        #expect(outcomes == [[.ended(.rejected(status: 486))], [.ended(.remoteCancelled)]])
        await caller.shutdown()
        await callee.shutdown()
    }

    @Test func tcpToClosedPortFailsFast() async throws {
        let endpoint = try await SIPEndpoint.start(.init(transport: .tcp))
        let call = try await endpoint.invite(to: try SIPURI("sip:nobody@127.0.0.1:\(freeUDPPort())"), sdp: offer)
        let events = try await withTimeout(5) { await collect(call.events) { _ in false } }
        #expect(events == [.failed(status: 503, reason: "Service Unavailable")])
        await endpoint.shutdown()
    }

    @Test func udpSendFailureFailsFast() async throws {
        let endpoint = try await SIPEndpoint.start()
        // An IPv4 socket cannot send to ::1: the send fails at once and the call fails with 503.
        let call = try await endpoint.invite(to: try SIPURI("sip:nobody@[::1]:5999"), sdp: offer)
        let events = try await withTimeout(5) { await collect(call.events) { _ in false } }
        #expect(events == [.failed(status: 503, reason: "Service Unavailable")])
        await endpoint.shutdown()
    }

    /// A raw TCP connection to the endpoint at `port`; what it receives collects in the collector.
    static func rawTCPClient(port: Int) async throws -> (any Channel, StreamCollector) {
        let collector = StreamCollector()
        let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return (client, collector)
    }

    /// An OPTIONS request over TCP with this Call-ID (also its branch) and CSeq.
    static func tcpOptions(callID: String, cseq: Int) -> [UInt8] {
        crlf("OPTIONS sip:jingle@127.0.0.1 SIP/2.0\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK\(callID)\nFrom: <sip:p@127.0.0.1>;tag=p\nTo: <sip:jingle@127.0.0.1>\nCall-ID: \(callID)\nCSeq: \(cseq) OPTIONS\nContent-Length: 0\n\n")
    }

    /// The messages `framer` frames from what arrives in `collector`, until `count` of them came or 5 s passed.
    static func messages(_ count: Int, from collector: StreamCollector, framer: inout SIPStreamFramer) async throws -> [SIPMessage] {
        var messages: [SIPMessage] = []
        let deadline = ContinuousClock.now + .seconds(5)
        while true {
            while let message = try framer.next() { messages.append(message) }
            guard messages.count < count, ContinuousClock.now < deadline else { return messages }
            try await Task.sleep(for: .milliseconds(20))
            framer.append(collector.take())
        }
    }

    /// Raw TCP: one message split over two writes, then two messages in one write.
    @Test func rawTCPFraming() async throws {
        let endpoint = try await SIPEndpoint.start()
        let (client, collector) = try await Self.rawTCPClient(port: endpoint.port)
        let first = Self.tcpOptions(callID: "tcp1", cseq: 1)
        try await client.writeAndFlush(client.allocator.buffer(bytes: first.prefix(30))).get()
        try await Task.sleep(for: .milliseconds(50))
        try await client.writeAndFlush(client.allocator.buffer(bytes: first.dropFirst(30))).get()
        try await client.writeAndFlush(client.allocator.buffer(bytes: Self.tcpOptions(callID: "tcp2", cseq: 2) + Self.tcpOptions(callID: "tcp3", cseq: 3))).get()
        var framer = SIPStreamFramer()
        let responses = try await Self.messages(3, from: collector, framer: &framer)
        #expect(try responses.map { try $0.callID } == ["tcp1", "tcp2", "tcp3"])
        #expect(responses.allSatisfy { $0.statusCode == 200 })
        try await client.close()
        await endpoint.shutdown()
    }

    /// RFC 5626 §4.4.1 on a real connection: a CRLF CRLF ping gets one CRLF pong, a lone CRLF gets nothing, and
    /// a request after the pings is still answered.
    @Test func tcpKeepAlivePingGetsPong() async throws {
        let endpoint = try await SIPEndpoint.start()
        let (client, collector) = try await Self.rawTCPClient(port: endpoint.port)
        func received(atLeast count: Int) async throws -> [UInt8] {
            var bytes: [UInt8] = []
            let deadline = ContinuousClock.now + .seconds(5)
            while bytes.count < count, ContinuousClock.now < deadline {
                bytes += collector.take()
                try await Task.sleep(for: .milliseconds(20))
            }
            return bytes
        }
        try await client.writeAndFlush(client.allocator.buffer(bytes: [13, 10, 13, 10])).get()
        #expect(try await received(atLeast: 2) == [13, 10])
        try await client.writeAndFlush(client.allocator.buffer(bytes: [13, 10])).get()
        try await Task.sleep(for: .milliseconds(200))
        #expect(collector.take().isEmpty, "a pong is not answered")
        try await client.writeAndFlush(client.allocator.buffer(bytes: [13, 10, 13, 10, 13, 10, 13, 10])).get()
        try await client.writeAndFlush(client.allocator.buffer(bytes: Self.tcpOptions(callID: "ping", cseq: 1))).get()
        let pongs = try await received(atLeast: 4)
        #expect(pongs.prefix(4) == [13, 10, 13, 10], "two pings, two pongs, before the response")
        var framer = SIPStreamFramer()
        framer.append(pongs.dropFirst(4))
        let answer = try #require(try await Self.messages(1, from: collector, framer: &framer).first)
        #expect(try answer.statusCode == 200 && answer.callID == "ping")
        try await client.close()
        await endpoint.shutdown()
    }

    /// Raw datagrams: OPTIONS gets 200 with Allow/Accept, a broken request with readable headers gets
    /// 400, garbage is dropped and counted.
    @Test func rawDatagramsAgainstTheEndpoint() async throws {
        let endpoint = try await SIPEndpoint.start()
        let collector = Collector()
        let client = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let clientPort = try #require(client.localAddress?.port)
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: endpoint.port)
        func send(_ bytes: [UInt8]) async throws {
            try await client.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: client.allocator.buffer(bytes: bytes))).get()
        }
        let headers = "Via: SIP/2.0/UDP 127.0.0.1:\(clientPort);branch=z9hG4bKraw1;rport\nFrom: <sip:probe@127.0.0.1>;tag=p\nTo: <sip:jingle@127.0.0.1>\nCall-ID: raw1\n"
        try await send(crlf("OPTIONS sip:jingle@127.0.0.1 SIP/2.0\n\(headers)CSeq: 1 OPTIONS\nMax-Forwards: 70\nContent-Length: 0\n\n"))
        try await send(Array("\u{0}\u{1}garbage\r\n\r\n".utf8))
        let broken = headers.replacingOccurrences(of: "raw1", with: "raw2")
        try await send(crlf("OPTIONS sip:jingle@127.0.0.1 SIP/2.0\n\(broken)CSeq: 2 OPTIONS\nContent-Length: abc\n\n"))
        let deadline = ContinuousClock.now + .seconds(5)
        while collector.datagrams.withLock({ $0.count }) < 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let responses = try collector.datagrams.withLock { $0 }.map { try SIPParser.parse(datagram: $0) }
        #expect(responses.count == 2)
        let ok = try #require(responses.first { (try? $0.callID) == "raw1" })
        #expect(ok.statusCode == 200)
        #expect(ok.headers.values("Allow") == ["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "UPDATE"])
        #expect(ok.headers.values("Supported") == ["timer"])
        #expect(ok.headers["Accept"] == "application/sdp")
        #expect(try ok.topVia?.rport == .some(clientPort))
        let bad = try #require(responses.first { (try? $0.callID) == "raw2" })
        #expect(bad.statusCode == 400)
        #expect(bad.reasonPhrase == "Bad Content-Length")
        #expect(await endpoint.droppedMessages == 2)
        await endpoint.shutdown()
        try await client.close()
    }
}

final class StreamCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let bytes = Mutex<[UInt8]>([])
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let chunk = Array(unwrapInboundIn(data).readableBytesView)
        bytes.withLock { $0 += chunk }
    }
    func take() -> [UInt8] { bytes.withLock { value in defer { value = [] }; return value } }
}

final class Collector: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let datagrams = Mutex<[[UInt8]]>([])
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Array(unwrapInboundIn(data).data.readableBytesView)
        datagrams.withLock { $0.append(bytes) }
    }
}
