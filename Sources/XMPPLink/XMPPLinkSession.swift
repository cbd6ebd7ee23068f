import XMLStream
import XMPPCore

/// What the three kinds of link (client, component, serverless peer link) share: everything runs through
/// one `XMPPLinkCore` actor, so the `XMPPSession` methods are forwarded here once rather than in each type.
public class XMPPLinkSession: @unchecked Sendable {
    // @unchecked: the only stored property is an immutable reference to an actor.
    let core: XMPPLinkCore

    init(core: XMPPLinkCore) { self.core = core }

    public var localJID: JID? { get async { await core.localJID } }
    public var stanzas: AsyncStream<XMLElement> { core.stanzas }
    /// Why the link ended, if it ended on an error (stream error, oversized stanza, lost connection).
    public var failure: XMPPLinkError? { get async { await core.failure } }
    /// How many times the link was lost for good and established again (`reconnect` in the configuration).
    public var reconnectionCount: Int { get async { await core.reconnections } }

    public func send(_ stanza: XMLElement) async throws { try await core.send(stanza) }
    public func sendIQ(_ iq: IQ, timeout: Duration = .seconds(10)) async throws -> IQ {
        try await core.sendIQ(iq, timeout: timeout)
    }
    public func sendIQ(_ iq: IQ, timeout: Duration, whenWritten: @escaping @Sendable () -> Void) async throws -> IQ {
        try await core.sendIQ(iq, timeout: timeout, whenWritten: whenWritten)
    }
    public func register(iqHandler namespace: String, _ handler: @escaping IQHandler) async {
        await core.register(namespace: namespace, handler: handler)
    }
    public func unregisterIQHandler(namespace: String) async { await core.unregister(namespace: namespace) }
    public func addFeatures(_ features: [String]) async { await core.addFeatures(features) }
    public func removeFeatures(_ features: [String]) async { await core.removeFeatures(features) }
    public var discoInfo: DiscoInfo { get async { await core.discoInfo } }
    public func close() async { await core.close() }
}
