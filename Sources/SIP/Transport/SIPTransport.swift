import Logging
import NIOCore
import NIOPosix
import Synchronization

/// What the transport hands up: a parsed message or the reason it could not be parsed, with its source.
public struct SIPInbound: Sendable {
    public enum Payload: Sendable {
        case message(SIPMessage)
        case malformed(SIPParseError)
        /// Could not connect or send to this address (§18.4: the transaction layer hears of it).
        case unreachable
    }

    public var source: SIPTransportAddress
    public var payload: Payload
}

/// SIP over UDP and TCP on one local address and port (RFC 3261 §18). Datagrams are parsed one
/// message each; TCP bytes go through `SIPStreamFramer`, and a framing error closes the connection
/// (the stream cannot be resynchronised). Outgoing TCP requests open a connection per peer address
/// and reuse it; responses go back on the connection a request came on (§18.2.2).
final class SIPTransport: Sendable {
    let group: any EventLoopGroup
    let udp: any Channel
    let tcp: any Channel
    let host: String
    let port: Int
    let limits: SIPParserLimits
    let logger: Logger
    private let inbound: AsyncStream<SIPInbound>.Continuation
    private let connections: SIPConnectionRegistry

    private init(group: any EventLoopGroup, udp: any Channel, tcp: any Channel, host: String, port: Int, limits: SIPParserLimits,
                 logger: Logger, inbound: AsyncStream<SIPInbound>.Continuation, connections: SIPConnectionRegistry) {
        self.connections = connections
        self.group = group
        self.udp = udp
        self.tcp = tcp
        self.host = host
        self.port = port
        self.limits = limits
        self.logger = logger
        self.inbound = inbound
    }

    /// Binds UDP and TCP on `host`:`port` (port 0: an ephemeral port, the same for both).
    static func start(host: String, port: Int, limits: SIPParserLimits, logger: Logger,
                      inbound: AsyncStream<SIPInbound>.Continuation) async throws -> SIPTransport {
        let group = MultiThreadedEventLoopGroup.singleton
        let connections = SIPConnectionRegistry()
        var lastError: (any Error)?
        for _ in 0..<8 {
            // No SO_REUSEADDR on UDP: on Linux it would let two endpoints share a port and split traffic.
            let udp = try await DatagramBootstrap(group: group)
                // §18.1.1: a datagram may be up to 65 535 bytes. NIO's default 2 048-byte buffer would cut longer
                // ones silently, and the cut message could still parse (a header line lost, a body too short).
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(SIPDatagramHandler(limits: limits, inbound: inbound))
                    }
                }
                .bind(host: host, port: port).get()
            let boundPort = udp.localAddress?.port ?? port
            do {
                let tcp = try await ServerBootstrap(group: group)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelInitializer { child in
                        child.eventLoop.makeCompletedFuture {
                            try child.pipeline.syncOperations.addHandler(SIPStreamHandler(limits: limits, inbound: inbound, connections: connections))
                        }
                    }
                    .bind(host: host, port: boundPort).get()
                let transport = SIPTransport(group: group, udp: udp, tcp: tcp, host: host, port: boundPort, limits: limits,
                                             logger: logger, inbound: inbound, connections: connections)
                return transport
            } catch {
                // The ephemeral UDP port is taken on TCP: try another one.
                lastError = error
                try? await udp.close()
                if port != 0 { break }
            }
        }
        throw lastError ?? SIPTransportError.bindFailed
    }

    func send(_ message: SIPMessage, to address: SIPTransportAddress) {
        let bytes = message.serialized()
        let socketAddress: SocketAddress
        do {
            socketAddress = try SocketAddress(ipAddress: address.host, port: address.port)
        } catch {
            do {
                socketAddress = try SocketAddress.makeAddressResolvingHost(address.host, port: address.port)
            } catch {
                logger.warning("cannot resolve \(address): \(error)")
                inbound.yield(SIPInbound(source: address, payload: .unreachable))
                return
            }
        }
        switch address.transport {
        case .udp:
            let buffer = udp.allocator.buffer(bytes: bytes)
            udp.writeAndFlush(AddressedEnvelope(remoteAddress: socketAddress, data: buffer)).whenFailure { [logger, inbound] error in
                // e.g. an IPv6 destination from an IPv4 socket: the transaction hears of it (§18.4).
                logger.warning("UDP send to \(address) failed: \(error)")
                inbound.yield(SIPInbound(source: address, payload: .unreachable))
            }
        case .tcp:
            let connection = connections.map.withLock { table in
                if let existing = table[address] { return existing }
                let connecting = ClientBootstrap(group: group)
                    .channelInitializer { [limits, inbound, connections] channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(SIPStreamHandler(limits: limits, inbound: inbound, connections: connections))
                        }
                    }
                    .connect(to: socketAddress)
                table[address] = connecting
                return connecting
            }
            connection.whenComplete { [logger, connections, inbound] (result: Result<any Channel, any Error>) in
                switch result {
                case .success(let channel):
                    let written = channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
                    written.whenFailure { error in
                        logger.warning("TCP send to \(address) failed: \(error)")
                        inbound.yield(SIPInbound(source: address, payload: .unreachable))
                    }
                    if connections.takeCloseAfterWrite(address) {
                        written.whenComplete { _ in channel.close(promise: nil) }
                    }
                case .failure(let error):
                    logger.warning("TCP connect to \(address) failed: \(error)")
                    connections.remove(address)
                    inbound.yield(SIPInbound(source: address, payload: .unreachable))
                }
            }
        }
    }

    func close() async {
        let open = connections.map.withLock { connections in
            defer { connections.removeAll() }
            return Array(connections.values)
        }
        for future in open { try? await future.get().close() }
        try? await udp.close()
        try? await tcp.close()
        inbound.finish()
    }
}

/// Open TCP connections by peer address, shared by the accepting and connecting sides (§18.2.2:
/// responses reuse the connection of the request; §18.1.1: requests may reuse an open connection).
final class SIPConnectionRegistry: Sendable {
    let map = Mutex<[SIPTransportAddress: EventLoopFuture<any Channel>]>([:])

    func adopt(_ channel: any Channel, as address: SIPTransportAddress) {
        map.withLock { connections in
            if connections[address] == nil { connections[address] = channel.eventLoop.makeSucceededFuture(channel) }
        }
    }

    func remove(_ address: SIPTransportAddress) {
        _ = map.withLock { $0.removeValue(forKey: address) }
        _ = closing.withLock { $0.remove(address) }
    }

    /// Connections whose framing is lost, kept open only for the error response to the message that broke
    /// it: the next write to them is followed by a close.
    let closing = Mutex<Set<SIPTransportAddress>>([])

    func closeAfterNextWrite(_ address: SIPTransportAddress) {
        _ = closing.withLock { $0.insert(address) }
    }

    func takeCloseAfterWrite(_ address: SIPTransportAddress) -> Bool {
        closing.withLock { $0.remove(address) != nil }
    }
}

public enum SIPTransportError: Error, Sendable, Equatable {
    case bindFailed
}

extension SIPTransportAddress {
    init?(_ address: SocketAddress?, transport: SIPTransportKind) {
        guard let address, let ip = address.ipAddress, let port = address.port else { return nil }
        self.init(transport: transport, host: ip, port: port)
    }
}

/// One message per datagram (§18.3).
final class SIPDatagramHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let limits: SIPParserLimits
    let inbound: AsyncStream<SIPInbound>.Continuation

    init(limits: SIPParserLimits, inbound: AsyncStream<SIPInbound>.Continuation) {
        self.limits = limits
        self.inbound = inbound
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let source = SIPTransportAddress(envelope.remoteAddress, transport: .udp) else { return }
        let bytes = Array(envelope.data.readableBytesView)
        // RFC 5626 §4.4.1 keep-alive (CRLF CRLF) carries no message.
        if bytes.allSatisfy({ $0 == 13 || $0 == 10 }) { return }
        let payload: SIPInbound.Payload
        do { payload = .message(try SIPParser.parse(datagram: bytes, limits: limits)) } catch { payload = .malformed(error) }
        inbound.yield(SIPInbound(source: source, payload: payload))
    }
}

/// Stream framing for one TCP connection (§18.3).
final class SIPStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var framer: SIPStreamFramer
    private let inbound: AsyncStream<SIPInbound>.Continuation
    private let connections: SIPConnectionRegistry
    private var source: SIPTransportAddress?
    /// Set once framing is lost: further bytes cannot be delimited and are dropped until the close.
    private var discarding = false

    init(limits: SIPParserLimits, inbound: AsyncStream<SIPInbound>.Continuation, connections: SIPConnectionRegistry) {
        self.framer = SIPStreamFramer(limits: limits)
        self.inbound = inbound
        self.connections = connections
    }

    func channelActive(context: ChannelHandlerContext) {
        register(context)
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { register(context) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let source { connections.remove(source) }
        context.fireChannelInactive()
    }

    private func register(_ context: ChannelHandlerContext) {
        guard source == nil, let address = SIPTransportAddress(context.remoteAddress, transport: .tcp) else { return }
        source = address
        connections.adopt(context.channel, as: address)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !discarding else { return }
        let buffer = unwrapInboundIn(data)
        framer.append(buffer.readableBytesView)
        guard let source = source ?? SIPTransportAddress(context.remoteAddress, transport: .tcp) else { return }
        do {
            while let message = try framer.next() {
                inbound.yield(SIPInbound(source: source, payload: .message(message)))
            }
            // RFC 5626 §4.4.1: each CRLF CRLF ping is answered with a CRLF pong, or the peer's flow times out.
            for _ in 0..<framer.takePings() {
                context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: [13, 10])), promise: nil)
            }
        } catch {
            // Framing is lost; a validation error of a complete message is not fatal.
            switch error.kind {
            case .headerSectionTooLarge, .tooManyHeaders, .bodyTooLarge, .missingContentLength, .invalidContentLength,
                 .malformedStartLine, .malformedHeader, .unsupportedVersion:
                discarding = true
                if SIPMessage.badRequest(for: error) != nil {
                    // §8.2.6.2/§21.4: the headers were readable, so the user agent answers (400, 505, 513) on this
                    // connection, which closes right after that write (or after 2 s if no answer comes).
                    connections.closeAfterNextWrite(source)
                    let channel = context.channel
                    channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
                    inbound.yield(SIPInbound(source: source, payload: .malformed(error)))
                } else {
                    inbound.yield(SIPInbound(source: source, payload: .malformed(error)))
                    context.close(promise: nil)
                }
            default:
                inbound.yield(SIPInbound(source: source, payload: .malformed(error)))
            }
        }
    }
}
