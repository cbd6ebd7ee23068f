import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Hashes

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

/// TLS on a serverless peer link with self-signed certificates pinned by fingerprint: each side shows
/// its certificate and accepts only the peer certificate whose SHA-256 it was given (exchanged out of band,
/// as the peer's address is).
public struct XMPPPeerTLS: Sendable, Hashable {
    public var certificateFile: String
    public var privateKeyFile: String
    /// SHA-256 of the peer's certificate (DER).
    public var peerCertificateSHA256: [UInt8]

    public init(certificateFile: String, privateKeyFile: String, peerCertificateSHA256: [UInt8]) {
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.peerCertificateSHA256 = peerCertificateSHA256
    }

    /// SHA-256 of the first certificate in a PEM file, to hand to the other side.
    public static func fingerprint(certificateFile: String) throws(XMPPLinkError) -> [UInt8] {
        do {
            guard let certificate = try NIOSSLCertificate.fromPEMFile(certificateFile).first else {
                throw XMPPLinkError.invalidConfiguration("no certificate in \(certificateFile)")
            }
            return Digest.hash(.sha256, try certificate.toDERBytes())
        } catch let error as XMPPLinkError {
            throw error
        } catch {
            throw .invalidConfiguration("cannot read certificate \(certificateFile): \(error)")
        }
    }
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
        #if os(Linux)
        // ACK at once rather than on the 40 ms delayed-ACK timer: a server that keeps Nagle on (Prosody's and
        // ejabberd's default) holds back a stanza that follows another one to us until our ACK arrives, which
        // added ~40 ms per hop to call set-up. Linux clears TCP_QUICKACK as it goes, so it is set on every read;
        // on a channel without a socket the option simply fails.
        _ = context.channel.setOption(Self.quickAck, value: 1)
        #endif
    }

    #if os(Linux)
    private static let quickAck = ChannelOptions.Types.SocketOption(level: SocketOptionLevel(IPPROTO_TCP),
                                                                    name: SocketOptionName(TCP_QUICKACK))
    #endif

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
        // `channelInactive` that follows the close reports. A TCP close without TLS close_notify (the server
        // crashed or was killed, a NAT dropped the flow) is such a loss too, not a TLS failure: reported as
        // one, it would stop XEP-0198 resumption from even being tried.
        if case .uncleanShutdown? = error as? NIOSSLError {
            context.close(promise: nil)
            return
        }
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

    /// TLS from the first byte (XEP-0368): trust and the name the certificate must carry.
    struct DirectTLS: Sendable {
        var trust: XMPPTLSTrust
        var serverHostname: String
    }

    /// Connects over TCP (with `directTLS`, TLS goes in before any byte of the stream; what is written before
    /// the handshake ends waits for it). A refused connection fails at once; an unanswered one after `timeout`.
    static func connect(host: String, port: Int, timeout: Duration, directTLS: DirectTLS? = nil) async throws(XMPPLinkError) -> XMPPTransport {
        let (events, continuation) = AsyncStream<TransportEvent>.makeStream()
        let milliseconds = Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        // XEP-0368 §3: ALPN names the protocol, so servers that share port 443 can route the connection.
        let tlsContext = try directTLS.map { (tls) throws(XMPPLinkError) in try clientContext(trust: tls.trust, alpn: ["xmpp-client"]) }
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(max(1, milliseconds)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tlsContext, let directTLS {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: directTLS.serverHostname))
                    }
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
        let context = try Self.clientContext(trust: trust)
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

    /// The client TLS context for `trust` (STARTTLS, or direct TLS with ALPN).
    static func clientContext(trust: XMPPTLSTrust, alpn: [String] = []) throws(XMPPLinkError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch trust {
        case .system: break
        case .caFile(let path): configuration.trustRoots = .file(path)
        case .insecure: configuration.certificateVerification = .none
        }
        configuration.applicationProtocols = alpn
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw .tlsFailed("cannot load trust roots: \(error)")
        }
    }

    /// Peer-link TLS (mutual, pinned): the responder is the TLS server.
    /// - Parameter proceed: text to write in plaintext just before the handler goes in (the responder's
    ///   `<proceed/>`). Writing it and installing the handler in one event-loop task means the peer's
    ///   ClientHello, which it sends only after reading `<proceed/>`, can never reach the XML parser.
    func startPeerTLS(_ tls: XMPPPeerTLS, asServer: Bool, proceed: String? = nil) async throws(XMPPLinkError) {
        let context: NIOSSLContext
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificateFile).map { NIOSSLCertificateSource.certificate($0) }
            let key = NIOSSLPrivateKeySource.privateKey(try NIOSSLPrivateKey(file: tls.privateKeyFile, format: .pem))
            var configuration = asServer
                ? TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: key)
                : TLSConfiguration.makeClientConfiguration()
            if !asServer {
                configuration.certificateChain = chain
                configuration.privateKey = key
            }
            // The pin replaces chain and name checks; requiring a certificate makes the server ask for one.
            configuration.certificateVerification = .noHostnameVerification
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw .tlsFailed("cannot load peer-link certificate or key: \(error)")
        }
        let pin = tls.peerCertificateSHA256
        let channel = self.channel
        do {
            try await channel.eventLoop.submit {
                let verify = Self.pinVerifier(pin)
                if let proceed { channel.writeAndFlush(ByteBuffer(string: proceed), promise: nil) }
                if asServer {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLServerHandler(context: context, customVerificationCallback: verify), position: .first)
                } else {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: context, serverHostname: nil, customVerificationCallback: verify), position: .first)
                }
            }.get()
        } catch {
            throw .tlsFailed(String(describing: error))
        }
    }

    /// Accepts exactly the leaf certificate whose SHA-256 is `pin`.
    private static func pinVerifier(_ pin: [UInt8]) -> NIOSSLCustomVerificationCallback {
        { certificates, promise in
            let matches = certificates.first.flatMap { try? $0.toDERBytes() }.map { Digest.hash(.sha256, $0) == pin } ?? false
            promise.succeed(matches ? .certificateVerified : .failed)
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
