import DNS
import Dispatch
import Logging

/// A SIP user agent on the network: SwiftNIO UDP + TCP transport, the I/O-free `SIPUserAgent` core,
/// and timers, wired together. All protocol decisions are the core's; this actor only executes its
/// actions (send, start/cancel timer, deliver event).
public actor SIPEndpoint {
    public struct Configuration: Sendable {
        /// Local IP to bind and to write into Via/Contact (e.g. `127.0.0.1` or `::1`).
        public var host: String
        /// 0 for an ephemeral port (the same one for UDP and TCP).
        public var port: Int
        /// Transport for outgoing requests whose URI has no `transport` parameter.
        public var transport: SIPTransportKind
        public var userName: String
        public var displayName: String?
        public var userAgent: String
        public var credentials: [SIPCredential]
        public var timers: SIPTimerSettings
        public var limits: SIPParserLimits
        /// See `SIPUserAgentConfiguration.answerReinvitesAutomatically`.
        public var answerReinvitesAutomatically: Bool
        /// RFC 4028 session timers (see `SIPUserAgentConfiguration.sessionTimer`); nil turns them off.
        public var sessionTimer: SIPSessionTimerSettings?
        /// An outbound proxy (RFC 3261 §8.1.2): calls and REGISTERs go to it, with a Route header naming it in
        /// front of the unchanged Request-URI; requests inside a dialog follow the dialog's route set. It must be
        /// a loose router (`;lr` is added if missing), as every proxy since RFC 3261 is.
        public var outboundProxy: SIPURI?
        /// SRV lookup (RFC 2782) for RFC 3263 next hops, replaceable so tests can play DNS.
        var srvLookup: @Sendable (String) -> [DNSSRV.Record] = { DNSSRV.lookup($0) }

        public init(host: String = "127.0.0.1", port: Int = 0, transport: SIPTransportKind = .udp, userName: String = "jingle",
                    displayName: String? = nil, userAgent: String = "SwiftJingle", credentials: [SIPCredential] = [],
                    timers: SIPTimerSettings = SIPTimerSettings(), limits: SIPParserLimits = SIPParserLimits(),
                    answerReinvitesAutomatically: Bool = true, sessionTimer: SIPSessionTimerSettings? = SIPSessionTimerSettings()) {
            self.answerReinvitesAutomatically = answerReinvitesAutomatically
            self.sessionTimer = sessionTimer
            self.host = host
            self.port = port
            self.transport = transport
            self.userName = userName
            self.displayName = displayName
            self.userAgent = userAgent
            self.credentials = credentials
            self.timers = timers
            self.limits = limits
        }
    }

    /// Calls that reach us.
    public nonisolated let incomingCalls: AsyncStream<IncomingCall>
    /// What happens to our registration (`register(at:aor:expires:)`).
    public nonisolated let registrationEvents: AsyncStream<SIPRegistrationEvent>
    private let registrationContinuation: AsyncStream<SIPRegistrationEvent>.Continuation
    /// The bound address (port resolved when 0 was asked for).
    public nonisolated let host: String
    public nonisolated let port: Int
    public nonisolated let userName: String
    public nonisolated let defaultTransport: SIPTransportKind

    private let incomingContinuation: AsyncStream<IncomingCall>.Continuation
    private let transport: SIPTransport
    private let logger: Logger
    private var core: SIPUserAgent
    private let origin = ContinuousClock.now
    private var timers: [SIPUserAgentTimer: (generation: Int, task: Task<Void, Never>)] = [:]
    private var timerGeneration = 0
    private var calls: [SIPCallHandle: SIPCall] = [:]
    private var pending: [SIPTransactionKey: CheckedContinuation<SIPRequestResult, Never>] = [:]
    private var receiveTask: Task<Void, Never>?
    private let srvLookup: @Sendable (String) -> [DNSSRV.Record]
    private let outboundProxy: SIPURI?
    /// What the endpoint and its user agent core hold, by kind, for leak checks under load.
    @_spi(Diagnostics) public func diagnostics() -> [String: Int] {
        ["sip.timers": timers.count, "sip.calls": calls.count, "sip.pending": pending.count, "sip.ua.calls": core.calls.count,
         "sip.ua.dialogs": core.dialogIndex.count, "sip.ua.clients": core.clients.count, "sip.ua.servers": core.servers.count,
         "sip.ua.nonces": core.nonceCounts.count]
    }

    /// One line per call the user agent core holds: direction, phase, Call-ID, CSeq and branch of its INVITE.
    @_spi(Diagnostics) public func diagnosticCalls() -> [String] {
        core.calls.values.map { call in
            "\(call.direction) \(call.phase) call-id=\(call.invite.headers["Call-ID"] ?? "?") cseq=\(call.invite.headers["CSeq"] ?? "?") "
                + "key=\(call.inviteKey)"
        }.sorted()
    }

    /// Messages that could not be parsed or matched (answered with 400 where possible).
    public private(set) var droppedMessages = 0

    /// Binds the transports and starts processing.
    public static func start(_ configuration: Configuration = Configuration(),
                             logger: Logger = Logger(label: "SwiftJingle.SIP")) async throws -> SIPEndpoint {
        let (stream, continuation) = AsyncStream.makeStream(of: SIPInbound.self)
        let transport = try await SIPTransport.start(host: configuration.host, port: configuration.port, limits: configuration.limits,
                                                     logger: logger, inbound: continuation)
        let core = SIPUserAgent(configuration: SIPUserAgentConfiguration(
            localHost: configuration.host, localPort: transport.port, transport: configuration.transport, userName: configuration.userName,
            displayName: configuration.displayName, userAgent: configuration.userAgent, credentials: configuration.credentials,
            timers: configuration.timers, answerReinvitesAutomatically: configuration.answerReinvitesAutomatically,
            sessionTimer: configuration.sessionTimer))
        let endpoint = SIPEndpoint(transport: transport, core: core, logger: logger, srvLookup: configuration.srvLookup,
                                   outboundProxy: configuration.outboundProxy)
        await endpoint.run(stream)
        return endpoint
    }

    private init(transport: SIPTransport, core: SIPUserAgent, logger: Logger, srvLookup: @escaping @Sendable (String) -> [DNSSRV.Record],
                 outboundProxy: SIPURI?) {
        self.srvLookup = srvLookup
        self.outboundProxy = outboundProxy
        self.transport = transport
        self.core = core
        self.logger = logger
        self.host = transport.host
        self.port = transport.port
        self.userName = core.configuration.userName
        self.defaultTransport = core.configuration.transport
        (incomingCalls, incomingContinuation) = AsyncStream.makeStream(of: IncomingCall.self)
        (registrationEvents, registrationContinuation) = AsyncStream.makeStream(of: SIPRegistrationEvent.self, bufferingPolicy: .bufferingNewest(16))
    }

    private func run(_ stream: AsyncStream<SIPInbound>) {
        receiveTask = Task { [weak self] in
            for await inbound in stream {
                guard let self else { return }
                await self.receive(inbound)
            }
        }
    }

    /// Our SIP URI (`sip:user@host:port`, with `transport=tcp` when TCP is the default).
    public nonisolated var uri: SIPURI {
        var uri = SIPURI(user: userName, host: host, port: port)
        if defaultTransport == .tcp { uri.parameters.set("transport", "tcp") }
        return uri
    }

    /// RFC 3263 §4.2: the next hops for a request to `uri` — its domain's SRV targets when it names a domain
    /// without a port, else none (the URI's own host and port, resolved when sent). The lookup blocks, so it
    /// runs on a Dispatch thread.
    func nextHops(for uri: SIPURI) async -> [SIPTransportAddress] {
        guard let query = SIPTransportAddress.srvQuery(for: uri, defaultTransport: defaultTransport) else { return [] }
        let lookup = srvLookup
        let records = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: lookup(query.name)) }
        }
        let hops = SIPTransportAddress.hops(srvTargets: records.map { ($0.target, $0.port) }, transport: query.transport)
        if !hops.isEmpty { logger.debug("\(query.name): \(hops.map(\.description).joined(separator: ", "))") }
        return hops
    }

    /// Where an out-of-dialog request for `uri` goes: the outbound proxy's hops with a Route naming it (§8.1.2),
    /// else the URI's own (RFC 3263).
    func firstHops(for uri: SIPURI) async -> (hops: [SIPTransportAddress], route: [SIPURI]) {
        guard var proxy = outboundProxy else { return (await nextHops(for: uri), []) }
        let hops = await nextHops(for: proxy)
        if !proxy.parameters.contains("lr") { proxy.parameters.set("lr", nil) }
        return (hops.isEmpty ? [SIPTransportAddress(uri: proxy, defaultTransport: defaultTransport)] : hops, [proxy])
    }

    /// Sends an INVITE with `sdp`. Returns once it is sent; follow `SIPCall.events`. It goes to the outbound
    /// proxy if one is configured; else a target naming a domain without a port goes to the domain's
    /// `_sip._udp`/`_sip._tcp` SRV targets, in order (RFC 3263).
    /// Throws `SIPUserAgentError.unsupported` for `sips:` and transports other than UDP/TCP.
    public func invite(to target: SIPURI, sdp: String, fromUser: String? = nil, displayName: String? = nil,
                       headers: [(String, String)] = []) async throws(SIPUserAgentError) -> SIPCall {
        let (hops, route) = await firstHops(for: target)
        let (handle, actions) = try core.startCall(to: target, sdp: sdp, fromUser: fromUser, displayName: displayName, headers: headers,
                                                   nextHops: hops, route: route, now: now)
        let call = SIPCall(handle: handle, endpoint: self)
        calls[handle] = call
        execute(actions)
        return call
    }

    /// Registers our contact for `aor` at `registrar` (RFC 3261 §10) and keeps it registered; follow
    /// `registrationEvents`. Credentials come from the configuration (digest, §22).
    public func register(at registrar: SIPURI, aor: SIPURI, expires: Int = 3600) async throws(SIPUserAgentError) {
        let (hops, route) = await firstHops(for: registrar)
        execute(try core.register(at: registrar, aor: aor, expires: expires, nextHops: hops, route: route, now: now))
    }

    /// Removes our registration (REGISTER with Expires: 0) and waits for the registrar's answer, at most
    /// `timeout`; true when it confirmed.
    public func unregister(timeout: Duration = .seconds(5)) async -> Bool {
        guard core.registration != nil else { return true }
        execute(core.unregister(now: now))
        return await withCheckedContinuation { continuation in
            unregisterWaiters.append(continuation)
            Task { [weak self] in
                try? await Task.sleep(for: timeout)
                await self?.unregisterDone(false)
            }
        }
    }

    private var unregisterWaiters: [CheckedContinuation<Bool, Never>] = []

    private func unregisterDone(_ confirmed: Bool) {
        let waiters = unregisterWaiters
        unregisterWaiters = []
        for waiter in waiters { waiter.resume(returning: confirmed) }
    }

    /// Closes sockets, cancels timers, finishes every stream.
    public func shutdown() async {
        receiveTask?.cancel()
        for (_, timer) in timers { timer.task.cancel() }
        timers.removeAll()
        for call in calls.values { call.continuation.finish() }
        calls.removeAll()
        for continuation in pending.values { continuation.resume(returning: SIPRequestResult(status: 503, sdp: nil)) }
        pending.removeAll()
        unregisterDone(false)
        incomingContinuation.finish()
        registrationContinuation.finish()
        await transport.close()
    }

    // MARK: - Used by SIPCall / IncomingCall

    func perform(_ handle: SIPCallHandle, _ body: (inout SIPUserAgent, Duration) throws(SIPUserAgentError) -> [SIPUserAgentAction]) throws(SIPUserAgentError) {
        let actions = try body(&core, now)
        execute(actions)
    }

    func request(_ handle: SIPCallHandle,
                 _ body: (inout SIPUserAgent, Duration) throws(SIPUserAgentError) -> (SIPTransactionKey, [SIPUserAgentAction])) async throws(SIPUserAgentError) -> SIPRequestResult {
        let (key, actions) = try body(&core, now)
        return await withCheckedContinuation { continuation in
            pending[key] = continuation
            execute(actions)
        }
    }

    // MARK: - Execution

    private var now: Duration { ContinuousClock.now - origin }

    private func receive(_ inbound: SIPInbound) {
        switch inbound.payload {
        case .message(let message):
            logger.trace("received from \(inbound.source):\n\(String(decoding: message.serialized(), as: UTF8.self))")
            execute(core.receive(message, from: inbound.source, now: now))
        case .malformed(let error):
            logger.debug("unparseable SIP message from \(inbound.source): \(error)")
            execute(core.receiveMalformed(error, from: inbound.source))
        case .unreachable:
            execute(core.transportFailed(to: inbound.source, now: now))
        }
        droppedMessages = core.droppedMessages
    }

    private func execute(_ actions: [SIPUserAgentAction]) {
        for action in actions {
            switch action {
            case .send(let message, let address):
                logger.trace("sending to \(address):\n\(String(decoding: message.serialized(), as: UTF8.self))")
                transport.send(message, to: address)
            case .startTimer(let timer, let deadline):
                timers[timer]?.task.cancel()
                timerGeneration += 1
                let generation = timerGeneration
                let instant = origin + deadline
                let task = Task { [weak self] in
                    try? await Task.sleep(until: instant, clock: .continuous)
                    guard !Task.isCancelled, let self else { return }
                    await self.fire(timer, generation: generation)
                }
                timers[timer] = (generation, task)
            case .cancelTimer(let timer):
                timers.removeValue(forKey: timer)?.task.cancel()
            case .event(let event):
                deliver(event)
            }
        }
    }

    private func fire(_ timer: SIPUserAgentTimer, generation: Int) {
        guard timers[timer]?.generation == generation else { return }
        timers[timer] = nil
        execute(core.timerFired(timer, now: now))
    }

    private func deliver(_ event: SIPUserAgentEvent) {
        switch event {
        case .incomingCall(let handle, let info):
            let call = SIPCall(handle: handle, endpoint: self)
            calls[handle] = call
            incomingContinuation.yield(IncomingCall(info: info, call: call))
        case .ringing(let handle, let status, let sdp):
            calls[handle]?.continuation.yield(.ringing(status: status, sdp: sdp))
        case .answered(let handle, let sdp):
            calls[handle]?.continuation.yield(.answered(sdp: sdp))
        case .confirmed(let handle, let sdp):
            calls[handle]?.continuation.yield(.confirmed(sdp: sdp))
        case .failed(let handle, let status, let reason):
            finish(handle, with: .failed(status: status, reason: reason))
        case .ended(let handle, let reason):
            finish(handle, with: .ended(reason))
        case .info(let handle, let contentType, let body, let infoPackage):
            calls[handle]?.continuation.yield(.info(contentType: contentType, body: body, infoPackage: infoPackage))
        case .remoteReinvite(let handle, let sdp):
            calls[handle]?.continuation.yield(.remoteReinvite(sdp: sdp))
        case .requestCompleted(_, let key, let status, let sdp):
            pending.removeValue(forKey: key)?.resume(returning: SIPRequestResult(status: status, sdp: sdp))
        case .registration(let event):
            switch event {
            case .registered(let expires): logger.info("registered for \(expires) s")
            case .failed(let status, let reason, let retry): logger.notice("REGISTER failed: \(status) \(reason)\(retry.map { "; again in \($0)" } ?? "")")
            case .unregistered: logger.info("unregistered")
            }
            switch event {
            case .unregistered: unregisterDone(true)
            case .failed(_, _, nil): unregisterDone(false)
            default: break
            }
            registrationContinuation.yield(event)
        }
    }

    private func finish(_ handle: SIPCallHandle, with event: SIPCallEvent) {
        guard let call = calls.removeValue(forKey: handle) else { return }
        call.continuation.yield(event)
        call.continuation.finish()
    }
}
