public import Jingle
import Synchronization
import XMLStream
public import XMPPCore
public import XMPPLink

/// Jingle Message Initiation (XEP-0353) over one XMPP link: a call to a bare JID is proposed in a
/// `<message/>`, every device of the callee rings, and the device that answers sends `<proceed/>`; the caller
/// then sends session-initiate to that full JID.
///
/// This actor reads the link's `stanzas` (it must be their only reader) and routes XEP-0353 payloads.
///
/// The session-initiate that follows uses the proposal's id as its sid (XEP-0353 §3.2).
public actor MessageInitiation {
    /// A proposal (or a later message about it) from a peer.
    public struct Received: Sendable {
        public let from: JID
        public let message: JingleMessage
    }

    public nonisolated let link: any XMPPSession
    /// Proposals from callers, in arrival order (callee side).
    public nonisolated let proposals: AsyncStream<Received>
    private let proposalContinuation: AsyncStream<Received>.Continuation
    /// Everything received per proposal id (proceed, reject, retract, finish, accept).
    private var received: [String: [Received]] = [:]
    private var reader: Task<Void, Never>?

    public init(link: any XMPPSession) {
        self.link = link
        (proposals, proposalContinuation) = AsyncStream.makeStream(of: Received.self, bufferingPolicy: .unbounded)
    }

    /// Starts reading the link's stanzas.
    public func start() {
        guard reader == nil else { return }
        let stanzas = link.stanzas
        reader = Task { [weak self] in
            for await element in stanzas {
                guard element.name == "message", let message = try? Message(element: element),
                      let from = message.from, let payload = try? message.jingleMessage() else { continue }
                await self?.route(Received(from: from, message: payload))
            }
        }
    }

    public func stop() {
        reader?.cancel()
        reader = nil
        proposalContinuation.finish()
    }

    private func route(_ item: Received) {
        if item.message.kind == .propose { proposalContinuation.yield(item) }
        received[item.message.id, default: []].append(item)
    }

    /// What arrived so far for proposal `id`.
    public func messages(for id: String) -> [Received] { received[id] ?? [] }

    /// Sends `kind` for proposal `id` to `peer` (XEP-0353 §3).
    public func send(_ kind: JingleMessage.Kind, id: String, to peer: JID, media: [String] = ["audio"], reason: JingleReason? = nil) async throws {
        let descriptions: [any JingleApplicationDescription] = kind == .propose ? media.map { RTPDescription(media: $0) } : []
        let payload = JingleMessage(kind, id: id, descriptions: descriptions, reason: reason)
        try await link.send(payload.message(id: "jm-\(kind.rawValue)-\(id)", to: peer))
    }

    /// Waits up to `timeout` for the answer to our proposal: the first proceed or reject (or a retract/finish).
    /// `ringing` is called once per device that says it rings.
    public func waitForAnswer(to id: String, timeout: Duration, ringing: @Sendable (JID) -> Void = { _ in }) async -> Received? {
        let deadline = ContinuousClock.now + timeout
        var rang: Set<JID> = []
        while ContinuousClock.now < deadline {
            for item in received[id] ?? [] where item.message.kind == .ringing && rang.insert(item.from).inserted { ringing(item.from) }
            if let answer = received[id]?.first(where: { [.proceed, .reject, .retract, .finish].contains($0.message.kind) }) { return answer }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// Whether the caller withdrew proposal `id` (§3.3).
    public func isRetracted(_ id: String) -> Bool { received[id]?.contains { $0.message.kind == .retract } ?? false }
}

extension JingleCall {
    /// Calls a bare JID (XEP-0353): propose, wait for a device to proceed, then session-initiate to that full
    /// JID. A reject ends with `CallError.ended(reason)`; no answer within `timeout` retracts the proposal.
    public static func place(engine: JingleEngine, initiation: MessageInitiation, toBare peer: JID, options: CallOptions,
                             timeout: Duration = .seconds(30), ringing: @Sendable (JID) -> Void = { _ in }) async throws(CallError) -> JingleCall {
        let id = "jm" + String(UInt64.random(in: 0..<UInt64.max), radix: 36)
        do {
            try await initiation.send(.propose, id: id, to: peer.bare, media: options.video ? ["audio", "video"] : ["audio"])
        } catch {
            throw .mapping("cannot send the proposal: \(error)")
        }
        guard let answer = await initiation.waitForAnswer(to: id, timeout: timeout, ringing: ringing) else {
            try? await initiation.send(.retract, id: id, to: peer.bare, reason: JingleReason(.timeout))
            throw .ended(JingleReason(.timeout, text: "nobody answered the proposal"))
        }
        guard answer.message.kind == .proceed else { throw .ended(answer.message.reason ?? JingleReason(.decline)) }
        let call = try await place(engine: engine, to: answer.from, options: options, sid: id)
        await call.setProposalID(id)
        return call
    }
}
