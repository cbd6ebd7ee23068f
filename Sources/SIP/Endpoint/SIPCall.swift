/// What happens to a call, as seen by the application.
public enum SIPCallEvent: Sendable, Equatable {
    /// 180/183 (outgoing calls).
    case ringing(status: Int, sdp: String?)
    /// 2xx with the answer (outgoing calls); the ACK is sent.
    case answered(sdp: String?)
    /// The ACK for our 2xx arrived (incoming calls).
    case confirmed(sdp: String?)
    /// The INVITE failed: final non-2xx, 408 (no response), 503 (transport).
    case failed(status: Int, reason: String)
    case ended(SIPCallEndReason)
    /// INFO from the peer (already answered 200).
    case info(contentType: String?, body: [UInt8], infoPackage: String?)
    /// A re-INVITE, or an UPDATE with an offer, from the peer: answered with our current SDP, or waiting for
    /// `answerReinvite(sdp:)` / `rejectReinvite(status:)` when the endpoint is configured so.
    case remoteReinvite(sdp: String?)
}

/// Outcome of an in-dialog request we sent (INFO, re-INVITE).
public struct SIPRequestResult: Sendable, Equatable {
    public var status: Int
    public var sdp: String?
}

/// A call, either direction. Events arrive on `events`, which finishes after `.failed` or `.ended`.
public final class SIPCall: Sendable {
    public let handle: SIPCallHandle
    public let events: AsyncStream<SIPCallEvent>
    let continuation: AsyncStream<SIPCallEvent>.Continuation
    let endpoint: SIPEndpoint

    init(handle: SIPCallHandle, endpoint: SIPEndpoint) {
        self.handle = handle
        self.endpoint = endpoint
        (events, continuation) = AsyncStream.makeStream(of: SIPCallEvent.self)
    }

    /// CANCEL (unanswered outgoing call), 603 (unanswered incoming call) or BYE.
    public func hangUp() async throws(SIPUserAgentError) {
        try await endpoint.perform(handle) { core, now throws(SIPUserAgentError) in try core.hangUp(handle, now: now) }
    }

    /// CANCEL an unanswered outgoing call (§9.1).
    public func cancel() async throws(SIPUserAgentError) {
        try await endpoint.perform(handle) { core, now throws(SIPUserAgentError) in try core.cancel(handle, now: now) }
    }

    /// INFO with a body (e.g. `application/sdpfrag`, RFC 8840); returns the final status.
    public func sendInfo(contentType: String, body: [UInt8], infoPackage: String? = nil) async throws(SIPUserAgentError) -> SIPRequestResult {
        try await endpoint.request(handle) { core, now throws(SIPUserAgentError) in
            try core.sendInfo(handle, contentType: contentType, body: body, infoPackage: infoPackage, now: now)
        }
    }

    /// Answers the peer's pending re-INVITE with 200 and `sdp`.
    public func answerReinvite(sdp: String) async throws(SIPUserAgentError) {
        try await endpoint.perform(handle) { core, now throws(SIPUserAgentError) in try core.answerReinvite(handle, sdp: sdp, now: now) }
    }

    /// Refuses the peer's pending re-INVITE (488, 491 …); the session stays as it was.
    public func rejectReinvite(status: Int) async throws(SIPUserAgentError) {
        try await endpoint.perform(handle) { core, now throws(SIPUserAgentError) in try core.rejectReinvite(handle, status: status, now: now) }
    }

    /// re-INVITE with a new offer; returns the final status and the answer.
    public func reinvite(sdp: String) async throws(SIPUserAgentError) -> SIPRequestResult {
        try await endpoint.request(handle) { core, now throws(SIPUserAgentError) in try core.reinvite(handle, sdp: sdp, now: now) }
    }
}

/// An INVITE that reached us. Decide with `ring()`, then `answer(sdp:)` or `reject(status:)`.
public final class IncomingCall: Sendable {
    public let info: SIPIncomingCallInfo
    public let call: SIPCall

    init(info: SIPIncomingCallInfo, call: SIPCall) {
        self.info = info
        self.call = call
    }

    /// The caller's offer.
    public var sdp: String? { info.sdp }
    public var events: AsyncStream<SIPCallEvent> { call.events }

    /// 180 Ringing.
    public func ring() async throws(SIPUserAgentError) {
        try await call.endpoint.perform(call.handle) { [handle = call.handle] core, now throws(SIPUserAgentError) in
            try core.ring(handle, now: now)
        }
    }

    /// 200 OK with our answer.
    public func answer(sdp: String) async throws(SIPUserAgentError) {
        try await call.endpoint.perform(call.handle) { [handle = call.handle] core, now throws(SIPUserAgentError) in
            try core.answer(handle, sdp: sdp, now: now)
        }
    }

    /// 486, 603, 488 …
    public func reject(status: Int) async throws(SIPUserAgentError) {
        try await call.endpoint.perform(call.handle) { [handle = call.handle] core, now throws(SIPUserAgentError) in
            try core.reject(handle, status: status, now: now)
        }
    }

    public func hangUp() async throws(SIPUserAgentError) { try await call.hangUp() }
}
