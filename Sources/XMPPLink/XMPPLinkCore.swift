#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hashes
import Logging
import XMLStream
import XMPPCore

/// Handles an incoming IQ get/set: return the result payload (or nil for an empty result); throw a
/// `StanzaError` (or `XMPPLinkError.stanzaError`) to answer with that error. Any other error becomes
/// `internal-server-error`.
public typealias IQHandler = @Sendable (IQ) async throws -> XMLElement?

/// Which way traced stream text went.
public enum XMPPTraceDirection: Sendable { case sent, received }

/// Sees the stream text (after TLS decryption) as it is written and read: for debugging and for recording
/// test transcripts. Passwords travel inside SASL exchanges, so do not log traces of real accounts.
public typealias XMPPTrace = @Sendable (XMPPTraceDirection, String) -> Void

/// The actor that carries out an `XMPPStreamMachine`'s actions on a transport, shared by the client, the
/// component and the peer link: IQ tracking with timeouts, IQ handlers by namespace, the disco/caps
/// responder, XEP-0199 ping answers, and (client only) XEP-0198 resumption after a lost connection.
actor XMPPLinkCore {
    enum Kind: Sendable {
        case client(XMPPClientConfiguration)
        case component(XMPPComponent.Configuration)
        case peer(local: JID, remote: JID?, tls: XMPPPeerTLS?, initiator: Bool)
    }

    let kind: Kind
    nonisolated let stanzas: AsyncStream<XMLElement>
    private let stanzaContinuation: AsyncStream<XMLElement>.Continuation
    private var logger: Logger

    private var driver: XMPPStreamDriver?
    private var transport: XMPPTransport?
    private var generation = 0
    private var establishWaiter: CheckedContinuation<XMPPStreamMachine.Established, any Error>?
    private(set) var established: XMPPStreamMachine.Established?
    private var reconnecting = false
    private var closedForGood = false
    /// Stanzas sent while a lost connection is being resumed; flushed once the stream is back.
    private var queuedWhileReconnecting: [XMLElement] = []

    private struct PendingIQ {
        /// Where the request went (`to`), so only that entity can answer it.
        var to: JID?
        var continuation: CheckedContinuation<IQ, any Error>
    }
    private var pendingIQs: [String: PendingIQ] = [:]
    private var handlers: [String: IQHandler] = [:]
    /// Requests for a namespace nobody handles yet that came right after the stream was established: the
    /// application registers its handlers once `connect`/`accept` returned, and a peer may already have sent
    /// (a serverless peer's session-initiate follows its stream header at once). They wait for a handler
    /// until `heldUntil`, then get service-unavailable as usual (RFC 6120 §8.4).
    private var heldIQs: [IQ] = []
    private var heldUntil: ContinuousClock.Instant?
    static let handlerGrace = Duration.seconds(2)
    static let maxHeldIQs = 32
    private var handlerQueue: AsyncStream<(IQ, IQHandler)>.Continuation?
    private(set) var identities: [DiscoInfo.Identity]
    private(set) var features: Set<String>
    private var keepAliveTask: Task<Void, Never>?
    private var onFeaturesChanged = false

    /// Why the link ended, when it ended on an error rather than `close()`.
    private(set) var failure: XMPPLinkError?

    /// Connection losses survived through XEP-0198 resumption (for tests and logs).
    private(set) var resumptions = 0
    /// Links lost for good and established again with a new session (`reconnect`).
    private(set) var reconnections = 0
    /// Between a link lost for good and its next established stream: sends fail at once instead of waiting for a
    /// stream that may be minutes away.
    private var offline = false
    static let firstReconnectDelay: Duration = .seconds(1)
    static let longestReconnectDelay: Duration = .seconds(60)

    private let trace: XMPPTrace?

    init(kind: Kind, identity: DiscoInfo.Identity, logger: Logger, trace: XMPPTrace? = nil) {
        self.kind = kind
        self.trace = trace
        self.logger = logger
        (stanzas, stanzaContinuation) = AsyncStream<XMLElement>.makeStream()
        identities = [identity]
        // XEP-0030 §3.1: every responder supports disco#info; XEP-0199 §6: and we answer pings.
        features = [NS.discoInfo, NS.ping]
        if case .client = kind { features.insert(NS.caps) }
    }

    var localJID: JID? { established?.jid }

    // MARK: - establishing

    /// Runs a stream over `transport` until it is established (or fails).
    /// A peer that accepts TCP but never completes the stream fails with `timeout` after `timeout`.
    func establish(role: XMPPStreamMachine.Role, transport: XMPPTransport, limits: XMLStreamLimits,
                   timeout: Duration = .seconds(20)) async throws -> XMPPStreamMachine.Established {
        generation += 1
        let myGeneration = generation
        let driver = XMPPStreamDriver(role: role, limits: limits)
        self.driver = driver
        self.transport = transport
        Task { [weak self] in
            for await event in transport.events {
                guard let self else { return }
                await self.handle(event, generation: myGeneration)
            }
        }
        Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.negotiationTimedOut(generation: myGeneration)
        }
        return try await withCheckedThrowingContinuation { continuation in
            establishWaiter = continuation
            execute(driver.start(), generation: myGeneration)
        }
    }

    private func negotiationTimedOut(generation: Int) {
        guard generation == self.generation, establishWaiter != nil else { return }
        execute([.fail(.timeout)], generation: generation)
    }

    private func handle(_ event: TransportEvent, generation: Int) {
        guard generation == self.generation, let driver else { return }
        switch event {
        case .bytes(let bytes):
            trace?(.received, String(decoding: bytes, as: UTF8.self))
            execute(driver.receive(bytes), generation: generation)
        case .tlsEstablished:
            execute((try? driver.perform { $0.tlsEstablished() }) ?? [], generation: generation)
        case .failed(let error):
            execute([.fail(error)], generation: generation)
        case .closed:
            execute((try? driver.perform { $0.connectionClosed() }) ?? [], generation: generation)
        }
    }

    private func execute(_ actions: [XMPPStreamMachine.Action], generation: Int) {
        // A peer-link responder answers STARTTLS with <proceed/> and then goes TLS: the two happen in one
        // event-loop task (see XMPPTransport.startPeerTLS), so the <proceed/> is held back here.
        var heldProceed: String?
        for (index, action) in actions.enumerated() {
            guard generation == self.generation else { return }
            switch action {
            case .send(let text):
                trace?(.sent, text)
                if case .peer(_, _, _?, false) = kind, index + 1 < actions.count, case .startTLS = actions[index + 1] {
                    heldProceed = text
                } else {
                    transport?.write(text)
                }
            case .startTLS:
                guard let transport else { continue }
                let kind = self.kind
                let proceed = heldProceed
                heldProceed = nil
                Task {
                    do throws(XMPPLinkError) {
                        switch kind {
                        case .client(let configuration):
                            try await transport.startTLS(trust: configuration.trust, serverHostname: configuration.jid.domainpart)
                        case .peer(_, _, let tls?, let initiator):
                            try await transport.startPeerTLS(tls, asServer: !initiator, proceed: proceed)
                        case .peer, .component:
                            preconditionFailure("TLS requested on a link configured without it")
                        }
                    } catch {
                        self.execute([.fail(error)], generation: generation)
                    }
                }
            case .resetParser:
                preconditionFailure("the driver handles resetParser")
            case .established(let info):
                established = info
                offline = false
                heldUntil = .now + Self.handlerGrace
                logger.debug("stream established as \(info.jid) (resumed: \(info.resumed), resent: \(info.resent))")
                if let waiter = establishWaiter {
                    establishWaiter = nil
                    waiter.resume(returning: info)
                }
            case .deliver(let element):
                deliver(element)
            case .resumeFailed(let unacked):
                logger.warning("stream resumption failed; \(unacked.count) stanzas may be lost")
                failPendingIQs(.connectionLost)
            case .fail(let error):
                logger.debug("stream failed: \(error)")
                transport?.close()
                self.generation += 1
                if let waiter = establishWaiter {
                    establishWaiter = nil
                    waiter.resume(throwing: error)
                } else {
                    connectionEnded(error)
                }
                return
            case .closed:
                transport?.close()
                self.generation += 1
                if let waiter = establishWaiter {
                    establishWaiter = nil
                    waiter.resume(throwing: XMPPLinkError.connectionLost)
                } else {
                    connectionEnded(nil)
                }
                return
            }
        }
    }

    /// The stream is gone. A client with XEP-0198 resumption reconnects on a lost connection; one set to
    /// `reconnect` comes back with a new stream after any loss that is not a refusal; otherwise the link is over.
    private func connectionEnded(_ error: XMPPLinkError?) {
        if !closedForGood, error == .connectionLost, case .client(let configuration) = kind, configuration.resumeAfterConnectionLoss,
           let resumption = driver?.machine.resumption {
            reconnecting = true
            Task { await self.resume(resumption, configuration: configuration) }
            return
        }
        lostForGood(error ?? .notConnected)
    }

    /// Whether the link is set to come back after a loss (`reconnect` in its configuration).
    private var reconnects: Bool {
        switch kind {
        case .client(let configuration): configuration.reconnect
        case .component(let configuration): configuration.reconnect
        case .peer: false
        }
    }

    /// A loss worth reconnecting after: the connection or the server went away (RFC 6120 §4.9.3: a restart is
    /// `system-shutdown`, `reset`; an overloaded or broken server `connection-timeout`, `internal-server-error`,
    /// `remote-connection-failed`). Refusals — authentication, a wrong component secret, `conflict`,
    /// `not-authorized`, `host-unknown`, `policy-violation` … — are not: they would fail again, or push out the
    /// client that took our place.
    static func isTransient(_ error: XMPPLinkError) -> Bool {
        switch error {
        case .connectionLost, .connectionFailed, .timeout, .tlsFailed, .notConnected: true
        case .streamError(let condition, _):
            ["system-shutdown", "reset", "connection-timeout", "internal-server-error", "remote-connection-failed"].contains(condition)
        default: false
        }
    }

    /// The stream cannot be resumed: reconnect with a new one if so configured and the loss allows it, else end.
    private func lostForGood(_ error: XMPPLinkError) {
        guard !closedForGood, reconnects, Self.isTransient(error) else {
            terminate(error)
            return
        }
        offline = true
        failPendingIQs(error)
        queuedWhileReconnecting = []
        logger.warning("XMPP link lost (\(error)); reconnecting")
        // After a second, then at doubling intervals up to a minute, until it works, `close()` is called, the
        // server refuses us — or nobody holds the link any more (the task keeps only a weak reference).
        Task { [weak self] in
            var delay = Self.firstReconnectDelay
            while true {
                try? await Task.sleep(for: delay)
                guard let self, let next = await self.reconnectAttempt(after: delay) else { return }
                delay = next
            }
        }
    }

    /// One try at a new stream: nil when the loop is over (back, closed, or refused), else the next wait.
    private func reconnectAttempt(after delay: Duration) async -> Duration? {
        guard !closedForGood else { return nil }
        let before = established?.jid
        do {
            switch kind {
            case .client(let configuration):
                _ = try await establishClient(configuration)
                if configuration.sendInitialPresence { sendPresence() }
            case .component(let configuration):
                _ = try await establishComponent(configuration)
            case .peer:
                return nil
            }
            reconnections += 1
            if let before, let now = established?.jid, before != now {
                logger.warning("XMPP link back as \(now) (was \(before))")
            } else {
                logger.notice("XMPP link back")
            }
            return nil
        } catch {
            let linkError = error as? XMPPLinkError ?? .connectionLost
            guard Self.isTransient(linkError), !closedForGood else {
                logger.error("XMPP reconnection refused (\(linkError)); the link is over")
                terminate(linkError)
                return nil
            }
            let next = min(delay * 2, Self.longestReconnectDelay)
            logger.warning("XMPP reconnection failed (\(linkError)); next try in \(next)")
            return next
        }
    }

    /// Connects a component and hands-shakes (XEP-0114).
    func establishComponent(_ configuration: XMPPComponent.Configuration) async throws -> XMPPStreamMachine.Established {
        let transport = try await XMPPTransport.connect(host: configuration.host, port: configuration.port,
                                                        timeout: configuration.connectTimeout)
        return try await establish(role: .component(domain: configuration.domain, secret: configuration.secret),
                                   transport: transport, limits: configuration.limits)
    }

    private func terminate(_ error: XMPPLinkError) {
        if !closedForGood, failure == nil, error != .notConnected { failure = error }
        closedForGood = true
        established = nil
        keepAliveTask?.cancel()
        failPendingIQs(error)
        stanzaContinuation.finish()
        handlerQueue?.finish()
    }

    private func failPendingIQs(_ error: XMPPLinkError) {
        let pending = pendingIQs
        pendingIQs = [:]
        for (_, entry) in pending { entry.continuation.resume(throwing: error) }
    }

    /// Connects a client and negotiates its stream, following `<see-other-host/>` redirects (RFC 6120
    /// §4.9.3.19): the new host gets the same `to`, the same TLS policy and the same certificate checks (the
    /// original domain), so a redirect cannot lower the security of the connection.
    func establishClient(_ configuration: XMPPClientConfiguration,
                         resumption: XMPPStreamMachine.SMResumption? = nil) async throws -> XMPPStreamMachine.Established {
        var (transport, endpoint) = try await configuration.connectTransport()
        var redirects = 0
        while true {
            var options = configuration.streamOptions(directTLS: endpoint.directTLS)
            options.resumption = resumption
            do {
                return try await establish(role: .client(options), transport: transport, limits: configuration.limits,
                                           timeout: configuration.negotiationTimeout)
            } catch XMPPLinkError.seeOtherHost(let target) {
                guard redirects < XMPPClientConfiguration.maximumRedirects,
                      let place = XMPPClientConfiguration.redirectTarget(target) else { throw XMPPLinkError.seeOtherHost(target) }
                redirects += 1
                logger.info("\(endpoint.host):\(endpoint.port) redirects to \(target)")
                (transport, endpoint) = try await configuration.connectTransport(to: await configuration.redirectEndpoints(place, from: endpoint))
            }
        }
    }

    /// XEP-0198 §5: reconnect, authenticate again and resume; unacknowledged stanzas are resent by the machine.
    private func resume(_ resumption: XMPPStreamMachine.SMResumption, configuration: XMPPClientConfiguration) async {
        var lastError: any Error = XMPPLinkError.connectionLost
        let deadline = ContinuousClock.now + configuration.resumeWindow
        while ContinuousClock.now < deadline, !closedForGood {
            do {
                _ = try await establishClient(configuration, resumption: resumption)
                resumptions += 1
                reconnecting = false
                if established?.resumed == false, configuration.sendInitialPresence {
                    sendPresence()
                }
                let queued = queuedWhileReconnecting
                queuedWhileReconnecting = []
                for stanza in queued { try? sendNow(stanza) }
                return
            } catch {
                lastError = error
                logger.debug("resumption attempt failed: \(error)")
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        reconnecting = false
        queuedWhileReconnecting = []
        lostForGood((lastError as? XMPPLinkError) ?? .connectionLost)
    }

    // MARK: - sending

    func send(_ stanza: XMLElement) throws(XMPPLinkError) {
        let stanza = addressed(stanza)
        if reconnecting {
            queuedWhileReconnecting.append(stanza)
            return
        }
        try sendNow(stanza)
    }

    private func sendNow(_ stanza: XMLElement) throws(XMPPLinkError) {
        guard let driver, !closedForGood, !offline else { throw .notConnected }
        let actions = try driver.perform { machine throws(XMPPLinkError) in try machine.send(stanza: stanza) }
        execute(actions, generation: generation)
    }

    /// Fills in the addresses a link needs: a component's `from` (XEP-0114 §3), a peer link's `from`/`to`
    /// (XEP-0174 §3.3).
    private func addressed(_ stanza: XMLElement) -> XMLElement {
        var stanza = stanza
        switch kind {
        case .client: break
        case .component(let configuration):
            if stanza[attribute: "from"] == nil { stanza[attribute: "from"] = configuration.domain.description }
        case .peer(let local, let remote, _, _):
            if stanza[attribute: "from"] == nil { stanza[attribute: "from"] = local.description }
            if stanza[attribute: "to"] == nil, let to = remote ?? established?.remote { stanza[attribute: "to"] = to.description }
        }
        return stanza
    }

    func sendIQ(_ iq: IQ, timeout: Duration, whenWritten: (@Sendable () -> Void)? = nil) async throws -> IQ {
        var iq = iq
        let id = iq.id ?? "sj-" + SecureRandom.bytes(8).hexString
        iq.id = id
        let element = addressed(iq.element)
        let to = element[attribute: "to"].flatMap { try? JID($0) }
        let response: IQ = try await withCheckedThrowingContinuation { continuation in
            pendingIQs[id] = PendingIQ(to: to, continuation: continuation)
            do throws(XMPPLinkError) {
                try send(element)
                whenWritten?()
            } catch {
                whenWritten?()
                pendingIQs[id] = nil
                continuation.resume(throwing: error)
                return
            }
            Task {
                try? await Task.sleep(for: timeout)
                self.expire(id)
            }
        }
        if let error = response.error { throw XMPPLinkError.stanzaError(error) }
        return response
    }

    private func expire(_ id: String) {
        pendingIQs.removeValue(forKey: id)?.continuation.resume(throwing: XMPPLinkError.timeout)
    }

    // MARK: - receiving

    private func deliver(_ element: XMLElement) {
        guard element.name == "iq" else {
            stanzaContinuation.yield(element)
            return
        }
        guard let iq = try? IQ(element: element) else {
            // RFC 6120 §8.3.3.1: a malformed request gets bad-request when it can be answered.
            if let id = element[attribute: "id"], let type = element[attribute: "type"], type == "get" || type == "set" {
                var reply = XMLElement("iq", namespace: NS.client, ["type": "error", "id": id, "to": element[attribute: "from"]])
                reply.append(StanzaError(.badRequest).element())
                try? send(reply)
            }
            return
        }
        switch iq.type {
        case .result, .error:
            // RFC 6120 §8.1.2.1, §10.3: only the entity we asked may answer; a reply from anyone else with a
            // guessed id is ignored (it would otherwise let a third party complete, e.g., a Jingle request).
            if let id = iq.id, let entry = pendingIQs[id], isValidResponder(iq.from, to: entry.to) {
                pendingIQs[id] = nil
                entry.continuation.resume(returning: iq)
            }
        case .get, .set:
            answer(iq)
        }
    }

    private func isValidResponder(_ from: JID?, to: JID?) -> Bool {
        guard let to else {
            // A request without 'to' goes to our own account or server (RFC 6120 §10.3.3).
            guard let from else { return true }
            guard let me = established?.jid else { return false }
            return from == me || from == me.bare || from.description == me.domainpart
        }
        if from == to { return true }
        // The server may answer for our own bare JID without a 'from' (RFC 6120 §10.3.3).
        if from == nil, let me = established?.jid, to == me.bare || to.description == me.domainpart { return true }
        return false
    }

    private func answer(_ iq: IQ) {
        guard let payload = iq.payload else { return }
        if payload.namespace == NS.discoInfo, iq.type == .get {
            try? send(iq.makeResult(payload: discoInfo.queryElement(node: payload[attribute: "node"])).element)
            return
        }
        if payload.namespace == NS.ping, payload.name == "ping", iq.type == .get {
            try? send(iq.makeResult().element)   // XEP-0199 §4
            return
        }
        guard let handler = handlers[payload.namespace] else {
            if let until = heldUntil, ContinuousClock.now < until, heldIQs.count < Self.maxHeldIQs {
                if heldIQs.isEmpty {
                    Task { [weak self] in
                        try? await Task.sleep(until: until, clock: .continuous)
                        await self?.refuseHeldIQs()
                    }
                }
                heldIQs.append(iq)
                return
            }
            // RFC 6120 §8.4: an IQ nobody handles gets service-unavailable.
            try? send(iq.makeError(StanzaError(.serviceUnavailable)).element)
            return
        }
        enqueue(iq, handler)
    }

    /// The grace is over: what is still held had no handler in time.
    private func refuseHeldIQs() {
        heldUntil = nil
        let refused = heldIQs
        heldIQs = []
        for iq in refused { try? send(iq.makeError(StanzaError(.serviceUnavailable)).element) }
    }

    /// Requests are handled one at a time in arrival order, so a protocol layered on IQs (Jingle's
    /// session-initiate before transport-info, XEP-0166 §7.2) sees them as sent. Responses to our own IQs
    /// do not wait behind a handler, so a handler may itself send IQs and await them.
    private func enqueue(_ iq: IQ, _ handler: @escaping IQHandler) {
        if handlerQueue == nil {
            let (stream, continuation) = AsyncStream<(IQ, IQHandler)>.makeStream()
            handlerQueue = continuation
            Task { [weak self] in
                for await (request, handler) in stream {
                    let reply: IQ
                    do {
                        reply = request.makeResult(payload: try await handler(request))
                    } catch let error as StanzaError {
                        reply = request.makeError(error)
                    } catch XMPPLinkError.stanzaError(let error) {
                        reply = request.makeError(error)
                    } catch {
                        reply = request.makeError(StanzaError(.internalServerError))
                    }
                    guard let self else { return }
                    try? await self.send(reply.element)
                }
            }
        }
        handlerQueue?.yield((iq, handler))
    }

    // MARK: - handlers, disco, presence

    func register(namespace: String, handler: @escaping IQHandler) {
        handlers[namespace] = handler
        // Held requests for this namespace go to the new handler, in the order they came.
        let (matching, rest) = heldIQs.reduce(into: ([IQ](), [IQ]())) { parts, iq in
            if iq.payload?.namespace == namespace { parts.0.append(iq) } else { parts.1.append(iq) }
        }
        heldIQs = rest
        for iq in matching { enqueue(iq, handler) }
    }

    func unregister(namespace: String) {
        handlers[namespace] = nil
    }

    var discoInfo: DiscoInfo { DiscoInfo(identities: identities, features: features) }

    /// Adds features to what disco advertises; a connected client re-announces its caps (XEP-0115 §4).
    func addFeatures(_ new: [String]) {
        let before = features
        features.formUnion(new)
        if features != before { featuresChanged() }
    }

    func removeFeatures(_ old: [String]) {
        let before = features
        features.subtract(old)
        if features != before { featuresChanged() }
    }

    private func featuresChanged() {
        if case .client(let configuration) = kind, configuration.sendInitialPresence, established != nil {
            sendPresence()
        }
    }

    /// Presence with XEP-0115 caps (§4: `hash`, `node`, `ver`).
    func sendPresence() {
        guard case .client(let configuration) = kind else { return }
        let caps = XMLElement("c", namespace: NS.caps,
                              ["hash": "sha-1", "node": configuration.capsNode, "ver": discoInfo.capsVerificationString])
        try? send(Presence(payloads: [caps]).element)
    }

    /// XEP-0199 keep-alive pings sent so far.
    private(set) var keepAlivePings = 0

    func startKeepAlive(every interval: Duration, to server: JID) {
        keepAliveTask?.cancel()
        keepAliveTask = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled else { return }
                await self.keepAlive(to: server, timeout: interval)
            }
        }
    }

    /// XEP-0199 §4.1: one ping to the server. Any answer, even an error, shows the connection is alive. No
    /// answer in time means it died without a FIN or RST (a NAT forgot it, a server froze, a cable was pulled),
    /// which TCP alone would notice only after many minutes: the connection is dropped, so resumption or
    /// reconnection starts now. (XEP-0199 §8: a client MAY use the lack of a pong this way.)
    private func keepAlive(to server: JID, timeout: Duration) async {
        keepAlivePings += 1
        guard !offline, !reconnecting, established != nil else { return }
        let connection = generation
        do {
            _ = try await sendIQ(IQ(type: .get, id: "ka-" + SecureRandom.bytes(6).hexString, to: server,
                                    payload: XMLElement("ping", namespace: NS.ping)), timeout: timeout)
        } catch XMPPLinkError.timeout {
            guard connection == generation, !closedForGood else { return }
            logger.warning("no answer to a keep-alive ping within \(timeout): dropping the connection")
            dropConnection()
        } catch {
            // An error answer is an answer; a send that failed is a loss that is being handled already.
        }
    }

    // MARK: - closing

    func close() async {
        guard !closedForGood else { return }
        closedForGood = true
        if let driver, let transport {
            let actions = (try? driver.perform { $0.close() }) ?? []
            for case .send(let text) in actions { transport.write(text) }
            // RFC 6120 §4.4: wait briefly for the peer's closing tag, then drop the connection.
            let deadline = ContinuousClock.now + .milliseconds(500)
            while !driver.machine.isClosed, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            transport.close()
        }
        terminate(.notConnected)
    }

    /// Closes the TCP connection without closing the stream, as a network failure would.
    func dropConnection() {
        transport?.close()
    }
}
