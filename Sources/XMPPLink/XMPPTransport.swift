import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// How to check the server's certificate on STARTTLS (RFC 6120 §13.7.2).
public enum XMPPTLSTrust: Sendable, Hashable {
    /// The system's CA store, with host name verification (the default).
    case system
    /// Trust the CA certificate(s) in this PEM file (also a self-signed server certificate), with host name
    /// verification.
    case caFile(String)
    /// No verification at all: only for test servers.
    case insecure
}

/// What the connection reports to the stream owner, in order.
enum TransportEvent: Sendable {
    case bytes([UInt8])
    case tlsEstablished
    case failed(XMPPLinkError)
    case closed
}

/// Forwards a channel's bytes and state changes into an `AsyncStream`, in order.
final class TransportBridge: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    let continuation: AsyncStream<TransportEvent>.Continuation

    init(continuation: AsyncStream<TransportEvent>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if let bytes = buffer.readBytes(length: buffer.readableBytes), !bytes.isEmpty {
            continuation.yield(.bytes(bytes))
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            continuation.yield(.tlsEstablished)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.yield(.closed)
        continuation.finish()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // TLS errors are reported as such; any other I/O error (reset, …) is a lost connection, which the
        // `channelInactive` that follows the close reports.
        if error is NIOSSLError || error is BoringSSLError {
            continuation.yield(.failed(.tlsFailed(String(describing: error))))
        }
        context.close(promise: nil)
    }
}

/// One TCP connection carrying an XMPP stream (with optional STARTTLS).
final class XMPPTransport: Sendable {
    let channel: any Channel
    let events: AsyncStream<TransportEvent>

    private init(channel: any Channel, events: AsyncStream<TransportEvent>) {
        self.channel = channel
        self.events = events
    }

    static var group: any EventLoopGroup { MultiThreadedEventLoopGroup.singleton }

    /// Connects over TCP. A refused connection fails at once; an unanswered one after `timeout`.
    static func connect(host: String, port: Int, timeout: Duration) async throws(XMPPLinkError) -> XMPPTransport {
        let (events, continuation) = AsyncStream<TransportEvent>.makeStream()
        let milliseconds = Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(max(1, milliseconds)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TransportBridge(continuation: continuation))
                }
            }
        do {
            let channel = try await bootstrap.connect(host: host, port: port).get()
            return XMPPTransport(channel: channel, events: events)
        } catch {
            continuation.finish()
            throw .connectionFailed(host: host, port: port, reason: String(describing: error))
        }
    }

    /// Wraps a channel accepted by a listener (its bridge already installed).
    static func accepted(channel: any Channel, events: AsyncStream<TransportEvent>) -> XMPPTransport {
        XMPPTransport(channel: channel, events: events)
    }

    func write(_ text: String) {
        channel.writeAndFlush(ByteBuffer(string: text), promise: nil)
    }

    /// Puts a TLS client handler in front of the bridge (RFC 6120 §5.4.3.3). Completion is reported as
    /// `.tlsEstablished` (or `.failed`) on `events`.
    func startTLS(trust: XMPPTLSTrust, serverHostname: String) async throws(XMPPLinkError) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch trust {
        case .system: break
        case .caFile(let path): configuration.trustRoots = .file(path)
        case .insecure: configuration.certificateVerification = .none
        }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw .tlsFailed("cannot load trust roots: \(error)")
        }
        let channel = self.channel
        do {
            try await channel.eventLoop.submit {
                let handler = try NIOSSLClientHandler(context: context, serverHostname: serverHostname)
                try channel.pipeline.syncOperations.addHandler(handler, position: .first)
            }.get()
        } catch {
            throw .tlsFailed(String(describing: error))
        }
    }

    func close() {
        channel.close(promise: nil)
    }
}

/// A TCP listener whose accepted connections become transports.
final class XMPPTransportListener: Sendable {
    let channel: any Channel
    let accepted: AsyncStream<XMPPTransport>

    private init(channel: any Channel, accepted: AsyncStream<XMPPTransport>) {
        self.channel = channel
        self.accepted = accepted
    }

    var port: Int { channel.localAddress?.port ?? 0 }

    static func bind(host: String, port: Int) async throws(XMPPLinkError) -> XMPPTransportListener {
        let (accepted, acceptContinuation) = AsyncStream<XMPPTransport>.makeStream()
        let bootstrap = ServerBootstrap(group: XMPPTransport.group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let (events, continuation) = AsyncStream<TransportEvent>.makeStream()
                    try channel.pipeline.syncOperations.addHandler(TransportBridge(continuation: continuation))
                    acceptContinuation.yield(XMPPTransport.accepted(channel: channel, events: events))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: host, port: port).get()
            channel.closeFuture.whenComplete { _ in acceptContinuation.finish() }
            return XMPPTransportListener(channel: channel, accepted: accepted)
        } catch {
            acceptContinuation.finish()
            throw .connectionFailed(host: host, port: port, reason: "cannot listen: \(error)")
        }
    }

    func close() {
        channel.close(promise: nil)
    }
}
