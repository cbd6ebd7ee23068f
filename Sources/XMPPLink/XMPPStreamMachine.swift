#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hashes
import XMLStream
import XMPPCore

/// The I/O-free XMPP stream state machine for the three kinds of link: a client to a server (RFC 6120),
/// an external component (XEP-0114) and a serverless peer link (XEP-0174 stream model).
///
/// Client states (RFC 6120 §4–§7, XEP-0198):
/// ```
/// idle -start-> awaitingHeader -header-> awaitingFeatures
///   features(starttls)  -> awaitingProceed -proceed-> negotiatingTLS -tlsEstablished-> awaitingHeader
///   features(mechanisms)-> authenticating -success-> (reset) awaitingHeader
///   features(after auth)-> binding -result-> [startingSession] -> [enablingSM] -> established
///                       -> resuming -resumed-> established          (XEP-0198 §5)
///                                   -failed-> binding
/// any state: stream error / parse error / </stream:stream> -> closed
/// ```
/// Component: `idle -start-> awaitingHeader -header-> awaitingHandshake -<handshake/>-> established`.
/// Peer: the initiator waits for the header and (empty) features; the responder answers the header with its
/// own and `<stream:features/>` and is then established.
///
/// Inputs are parsed stream events; outputs are `Action`s for the connection to carry out in order.
/// Stanzas cross this API in the `jabber:client` namespace whatever the stream's content namespace.
public struct XMPPStreamMachine: Sendable {
    public enum TLSPolicy: Sendable, Hashable {
        /// STARTTLS must succeed before authentication (the default).
        case required
        /// Use STARTTLS when offered, continue without it otherwise.
        case ifAvailable
        /// Never negotiate TLS (test servers on loopback).
        case disabled
        /// TLS from the first byte, no STARTTLS (XEP-0368 direct TLS, e.g. port 5223): the connection is
        /// encrypted before the stream opens.
        case direct
    }

    /// XEP-0198 state that outlives a TCP connection, so a new stream can resume the old one (§5).
    public struct SMResumption: Sendable, Hashable {
        public var id: String
        /// How many stanzas we handled from the server (our `h`).
        public var inboundHandled: UInt32
        /// The last `h` the server acknowledged for our stanzas.
        public var outboundAcked: UInt32
        /// Our stanzas the server has not yet acknowledged, oldest first.
        public var unacked: [XMLElement]
        public var boundJID: JID
    }

    public struct ClientOptions: Sendable {
        public var jid: JID
        public var password: String
        public var resource: String?
        public var tls: TLSPolicy
        /// RFC 6120 §13.8: PLAIN sends the password in the clear; refuse it without TLS unless asked.
        public var allowPlainWithoutTLS: Bool
        public var streamManagement: Bool
        /// Resume this XEP-0198 session instead of binding a new resource.
        public var resumption: SMResumption?
        /// SCRAM client nonce (inject for tests; random by default).
        public var clientNonce: String

        public init(jid: JID, password: String, resource: String? = nil, tls: TLSPolicy = .required,
                    allowPlainWithoutTLS: Bool = false, streamManagement: Bool = true,
                    resumption: SMResumption? = nil, clientNonce: String = SecureRandom.bytes(18).hexString) {
            self.jid = jid
            self.password = password
            self.resource = resource ?? jid.resourcepart
            self.tls = tls
            self.allowPlainWithoutTLS = allowPlainWithoutTLS
            self.streamManagement = streamManagement
            self.resumption = resumption
            self.clientNonce = clientNonce
        }
    }

    public enum Role: Sendable {
        case client(ClientOptions)
        /// XEP-0114: the component's domain and the shared secret.
        case component(domain: JID, secret: String)
        /// XEP-0174 §3.3: our JID and the peer's; the initiator opens the stream. With `tls` both sides
        /// require STARTTLS (the responder offers it as required, §3.3 "TLS negotiation").
        case peer(local: JID, remote: JID?, initiator: Bool, tls: Bool = false)
    }

    public struct Established: Sendable, Hashable {
        /// The full JID bound (client), the component domain, or our peer-link JID.
        public var jid: JID
        /// The peer's JID on a peer link (from its stream header).
        public var remote: JID?
        public var features: StreamFeatures?
        public var streamID: String?
        public var streamManagement: Bool
        public var resumable: Bool
        /// Whether this stream resumed a previous one (XEP-0198 §5); `resent` stanzas were sent again.
        public var resumed: Bool
        public var resent: Int
    }

    public enum Action: Sendable, Hashable {
        /// Write these bytes (UTF-8 text) to the connection.
        case send(String)
        /// Put TLS on the connection (as the TLS client, or the server for a peer-link responder) and call
        /// `tlsEstablished()` once it is up.
        case startTLS
        /// Start a new XML parser: the next bytes begin a new stream (RFC 6120 §4.3.3).
        case resetParser
        case established(Established)
        /// A stanza (iq/message/presence) or other top-level element from the peer.
        case deliver(XMLElement)
        /// XEP-0198 resumption was refused; these stanzas may not have reached the server.
        case resumeFailed(unacked: [XMLElement])
        /// The stream is over because of this error; close the connection after the sends before it.
        case fail(XMPPLinkError)
        /// The peer closed the stream cleanly; close the connection.
        case closed
    }

    private enum State: Sendable {
        case idle
        case awaitingHeader
        case awaitingFeatures
        case awaitingProceed
        /// Peer-link responder: features offered STARTTLS, waiting for `<starttls/>`.
        case awaitingStartTLS
        case negotiatingTLS
        case authenticating(SCRAMClient?)
        case binding
        case startingSession(JID)
        case enablingSM(JID)
        case resuming(SMResumption)
        case awaitingHandshake
        case established
        case closing
        case closed
    }

    public let role: Role
    private var state: State = .idle
    private var tlsActive = false
    private var authenticated = false
    private var streamID: String?
    private var features: StreamFeatures?
    private var established: Established?
    private var remoteJID: JID?

    // XEP-0198 counters.
    private var smEnabled = false
    private var smID: String?
    private var smResumable = false
    private var inboundHandled: UInt32 = 0
    private var outboundAcked: UInt32 = 0
    private var unacked: [XMLElement] = []

    public init(role: Role) {
        self.role = role
        if case .peer(_, let remote, _, _) = role { remoteJID = remote }
    }

    /// The namespace of stanzas on this stream (RFC 6120 §4.8.2, XEP-0114 §3).
    public var contentNamespace: String {
        if case .component = role { return NS.component }
        return NS.client
    }

    public var isEstablished: Bool { if case .established = state { true } else { false } }
    public var isClosed: Bool { if case .closed = state { true } else { false } }

    /// The state needed to resume this stream later, when XEP-0198 resumption was enabled.
    public var resumption: SMResumption? {
        guard smEnabled, smResumable, let smID, let jid = established?.jid else { return nil }
        return SMResumption(id: smID, inboundHandled: inboundHandled, outboundAcked: outboundAcked,
                            unacked: unacked, boundJID: jid)
    }

    /// Stanzas sent and not yet acknowledged by the server (XEP-0198).
    public var unackedCount: Int { unacked.count }

    // MARK: - starting

    /// Opens the stream (the peer-link responder waits for the initiator instead).
    public mutating func start() -> [Action] {
        guard case .idle = state else { preconditionFailure("start() called twice") }
        if case .peer(_, _, let initiator, _) = role, !initiator {
            state = .awaitingHeader
            return []
        }
        state = .awaitingHeader
        // Direct TLS (XEP-0368): the transport is TLS already, so the stream is encrypted from its header on.
        if case .client(let options) = role, options.tls == .direct { tlsActive = true }
        return [.send("<?xml version='1.0'?>" + streamHeader())]
    }

    private func streamHeader(replyTo remote: JID? = nil, id: String? = nil) -> String {
        var attributes: [(String, String)] = []
        switch role {
        case .client(let options):
            // RFC 6120 §4.7.1: include 'from' once the stream is encrypted.
            if tlsActive { attributes.append(("from", options.jid.bare.description)) }
            attributes.append(("to", options.jid.domainpart))
            attributes.append(("version", "1.0"))
        case .component(let domain, _):
            attributes.append(("to", domain.description))
        case .peer(let local, let configuredRemote, _, _):
            attributes.append(("from", local.description))
            if let to = remote ?? configuredRemote { attributes.append(("to", to.description)) }
            if let id { attributes.append(("id", id)) }
            attributes.append(("version", "1.0"))
        }
        var out = "<stream:stream xmlns='\(contentNamespace)' xmlns:stream='\(NS.stream)'"
        for (name, value) in attributes {
            out += " \(name)='\(escape(value))'"
        }
        return out + " xml:lang='en'>"
    }

    /// The TLS layer is up (RFC 6120 §5.4.3.3): restart the stream over it.
    public mutating func tlsEstablished() -> [Action] {
        // With direct TLS the handshake completes under a stream that is already running: nothing to restart.
        if case .client(let options) = role, options.tls == .direct { return [] }
        guard case .negotiatingTLS = state else { preconditionFailure("tlsEstablished() outside TLS negotiation") }
        tlsActive = true
        state = .awaitingHeader
        // The peer-link responder waits for the initiator's new header; everyone else opens the stream.
        if case .peer(_, _, false, _) = role { return [.resetParser] }
        return [.resetParser, .send(streamHeader())]
    }

    // MARK: - receiving

    /// The parser failed on the peer's bytes: answer with the matching stream error (RFC 6120 §4.9.3).
    public mutating func receive(parseError: XMLStreamError) -> [Action] {
        if case .closed = state { return [] }
        return failWithStreamError(parseError.streamErrorCondition, .xml(parseError))
    }

    /// The TCP connection ended.
    public mutating func connectionClosed() -> [Action] {
        switch state {
        case .closed: return []
        case .closing:
            state = .closed
            return [.closed]
        default:
            state = .closed
            return [.fail(.connectionLost)]
        }
    }

    public mutating func receive(_ event: XMLStreamEvent) -> [Action] {
        switch event {
        case .streamOpened(let header): return receiveHeader(header)
        case .element(let element): return receiveElement(element)
        case .streamClosed:
            switch state {
            case .closed: return []
            case .closing:
                state = .closed
                return [.closed]
            default:
                // RFC 6120 §4.4: answer the peer's close with ours.
                state = .closed
                return [.send("</stream:stream>"), .closed]
            }
        }
    }

    private mutating func receiveHeader(_ header: XMLStreamHeader) -> [Action] {
        guard case .awaitingHeader = state else {
            return failWithStreamError("invalid-xml", .protocolViolation("second stream header"))
        }
        guard header.name == "stream", header.namespace == NS.stream else {
            return failWithStreamError("invalid-namespace", .protocolViolation("stream root <\(header.name)/> in '\(header.namespace)'"))
        }
        if let content = header.namespaceDeclarations[""], content != contentNamespace {
            return failWithStreamError("invalid-namespace", .protocolViolation("content namespace '\(content)'"))
        }
        streamID = header[attribute: "id"]
        switch role {
        case .client:
            // RFC 6120 §4.7.5: a server without version 1.0 cannot offer features.
            guard let version = header[attribute: "version"], version.hasPrefix("1.") else {
                return failWithStreamError("unsupported-version", .protocolViolation("stream version \(header[attribute: "version"] ?? "none")"))
            }
            state = .awaitingFeatures
            return []
        case .component(_, let secret):
            // XEP-0114 §3: handshake = hex(SHA-1(stream id + secret)).
            guard let id = streamID else {
                return failWithStreamError("invalid-id", .protocolViolation("component stream without id"))
            }
            state = .awaitingHandshake
            let digest = Digest.hash(.sha1, Array((id + secret).utf8)).hexString
            return [.send("<handshake>\(digest)</handshake>")]
        case .peer(let local, _, let initiator, let tls):
            if let from = header[attribute: "from"] {
                guard let jid = try? JID(from) else {
                    return failWithStreamError("invalid-from", .protocolViolation("invalid 'from' \(from)"))
                }
                remoteJID = jid
            }
            if initiator {
                state = .awaitingFeatures
                return []
            }
            // XEP-0174 §3.3: the responder checks that the stream is for it, then answers.
            if let to = header[attribute: "to"], (try? JID(to)) != local {
                return [.send("<?xml version='1.0'?>" + streamHeader())]
                    + failWithStreamError("host-unknown", .protocolViolation("stream addressed to \(to)"))
            }
            let id = SecureRandom.bytes(8).hexString
            streamID = id
            if tls && !tlsActive {
                state = .awaitingStartTLS
                return [.send("<?xml version='1.0'?>" + streamHeader(replyTo: remoteJID, id: id)
                              + "<stream:features><starttls xmlns='\(NS.tls)'><required/></starttls></stream:features>")]
            }
            state = .established
            let info = Established(jid: local, remote: remoteJID, features: nil, streamID: id, streamManagement: false,
                                   resumable: false, resumed: false, resent: 0)
            established = info
            return [.send("<?xml version='1.0'?>" + streamHeader(replyTo: remoteJID, id: id) + "<stream:features/>"),
                    .established(info)]
        }
    }

    private mutating func receiveElement(_ element: XMLElement) -> [Action] {
        if element.name == "error", element.namespace == NS.stream {
            return receiveStreamError(element)
        }
        switch state {
        case .idle, .awaitingHeader, .negotiatingTLS:
            return failWithStreamError("not-authorized", .protocolViolation("<\(element.name)/> before the stream was ready"))
        case .closing, .closed:
            return []
        case .awaitingFeatures:
            guard element.name == "features", element.namespace == NS.stream else {
                return failWithStreamError("not-authorized", .protocolViolation("expected stream features, got <\(element.name)/>"))
            }
            return receiveFeatures(StreamFeatures(element: element))
        case .awaitingStartTLS:
            guard element.name == "starttls", element.namespace == NS.tls else {
                return failWithStreamError("policy-violation", .protocolViolation("peer did not start the required TLS"))
            }
            state = .negotiatingTLS
            return [.send("<proceed xmlns='\(NS.tls)'/>"), .startTLS]
        case .awaitingProceed:
            guard element.namespace == NS.tls else { return unexpected(element) }
            if element.name == "proceed" {
                state = .negotiatingTLS
                return [.startTLS]
            }
            // RFC 6120 §5.4.2.2: <failure/> and the server closes the stream.
            state = .closed
            return [.fail(.tlsFailed("server refused STARTTLS"))]
        case .authenticating(let scram):
            return receiveSASL(element, scram: scram)
        case .binding:
            return receiveBindResult(element)
        case .startingSession(let jid):
            guard element.name == "iq", element[attribute: "id"] == "sess_1" else { return unexpected(element) }
            return afterSession(jid)
        case .enablingSM(let jid):
            guard element.namespace == NS.streamManagement else { return unexpected(element) }
            if element.name == "enabled" {
                smEnabled = true
                smID = element[attribute: "id"]
                smResumable = element[attribute: "resume"] == "true" || element[attribute: "resume"] == "1"
                inboundHandled = 0
                outboundAcked = 0
                unacked = []
            }
            return becomeEstablished(jid: jid, resumed: false, resent: 0)
        case .resuming(let previous):
            guard element.namespace == NS.streamManagement else { return unexpected(element) }
            return receiveResumeAnswer(element, previous: previous)
        case .awaitingHandshake:
            guard element.name == "handshake", case .component(let domain, _) = role else { return unexpected(element) }
            state = .established
            let info = Established(jid: domain, remote: nil, features: nil, streamID: streamID, streamManagement: false,
                                   resumable: false, resumed: false, resent: 0)
            established = info
            return [.established(info)]
        case .established:
            return receiveEstablished(element)
        }
    }

    private mutating func receiveStreamError(_ element: XMLElement) -> [Action] {
        // RFC 6120 §4.9.2: the condition is the child in the streams namespace; the stream is then closed.
        var condition = "undefined-condition"
        var text: String?
        var redirect = ""
        for child in element.elements where child.namespace == NS.streams {
            if child.name == "text" { text = child.text } else { condition = child.name }
            if child.name == "see-other-host" {
                let words = child.text.split(whereSeparator: \.isWhitespace)
                redirect = words.count == 1 ? String(words[0]) : ""
            }
        }
        // §4.9.3.19: the server names the host (and port) that serves us instead; the client connects there.
        if condition == "see-other-host", !redirect.isEmpty {
            state = .closed
            return [.send("</stream:stream>"), .fail(.seeOtherHost(redirect))]
        }
        if case .awaitingHandshake = state, condition == "not-authorized" {
            state = .closed
            return [.send("</stream:stream>"), .fail(.handshakeRefused)]
        }
        state = .closed
        return [.send("</stream:stream>"), .fail(.streamError(condition: condition, text: text))]
    }

    private mutating func receiveFeatures(_ features: StreamFeatures) -> [Action] {
        self.features = features
        switch role {
        case .component:
            return unexpected(features.element)
        case .peer(let local, _, _, let tls):
            if tls && !tlsActive {
                guard features.startTLS else {
                    state = .closed
                    return [.send("</stream:stream>"), .fail(.tlsUnavailable)]
                }
                state = .awaitingProceed
                return [.send("<starttls xmlns='\(NS.tls)'/>")]
            }
            state = .established
            let info = Established(jid: local, remote: remoteJID, features: features, streamID: streamID,
                                   streamManagement: false, resumable: false, resumed: false, resent: 0)
            established = info
            return [.established(info)]
        case .client(let options):
            if !tlsActive && options.tls != .disabled {
                if features.startTLS {
                    state = .awaitingProceed
                    return [.send("<starttls xmlns='\(NS.tls)'/>")]
                }
                if options.tls == .required {
                    state = .closed
                    return [.send("</stream:stream>"), .fail(.tlsUnavailable)]
                }
            }
            if !authenticated {
                return startAuthentication(features, options: options)
            }
            if let previous = options.resumption, features.streamManagement {
                state = .resuming(previous)
                return [.send("<resume xmlns='\(NS.streamManagement)' previd='\(escape(previous.id))' h='\(previous.inboundHandled)'/>")]
            }
            return startBinding(features, options: options)
        }
    }

    private mutating func startAuthentication(_ features: StreamFeatures, options: ClientOptions) -> [Action] {
        let offered = features.saslMechanisms
        guard let username = options.jid.localpart else {
            state = .closed
            return [.send("</stream:stream>"), .fail(.invalidConfiguration("client JID \(options.jid) has no localpart"))]
        }
        // Strongest first: SCRAM-SHA-512, RFC 7677 SCRAM-SHA-256, RFC 5802 SCRAM-SHA-1, then PLAIN (RFC 4616) only over TLS.
        if let algorithm = SCRAMClient.mechanisms.first(where: { offered.contains($0.name) })?.algorithm {
            let scram = SCRAMClient(algorithm: algorithm, username: username, password: options.password,
                                    clientNonce: options.clientNonce)
            state = .authenticating(scram)
            return [.send("<auth xmlns='\(NS.sasl)' mechanism='\(scram.mechanism)'>\(base64(scram.clientFirstMessage))</auth>")]
        }
        if offered.contains("PLAIN") && (tlsActive || options.allowPlainWithoutTLS) {
            state = .authenticating(nil)
            return [.send("<auth xmlns='\(NS.sasl)' mechanism='PLAIN'>\(base64("\0\(username)\0\(options.password)"))</auth>")]
        }
        state = .closed
        return [.send("</stream:stream>"), .fail(.noAcceptableMechanism(offered: offered))]
    }

    private mutating func receiveSASL(_ element: XMLElement, scram: SCRAMClient?) -> [Action] {
        guard element.namespace == NS.sasl else { return unexpected(element) }
        switch element.name {
        case "challenge":
            guard var scram, let serverFirst = unbase64(element.text) else {
                return saslAbort(.scramProtocol("unexpected or undecodable challenge"))
            }
            do throws(XMPPLinkError) {
                let final = try scram.clientFinalMessage(serverFirst: serverFirst)
                state = .authenticating(scram)
                return [.send("<response xmlns='\(NS.sasl)'>\(base64(final))</response>")]
            } catch {
                return saslAbort(error)
            }
        case "success":
            if let scram {
                // RFC 6120 §6.3.10: SCRAM's server-final-message travels as additional data of <success/>.
                guard let serverFinal = unbase64(element.text) else { return saslAbort(.serverSignatureMismatch) }
                do throws(XMPPLinkError) { try scram.verify(serverFinal: serverFinal) } catch { return saslAbort(error) }
            }
            authenticated = true
            state = .awaitingHeader
            // RFC 6120 §6.4.6: a new stream over the same connection, with a fresh parser.
            return [.resetParser, .send(streamHeader())]
        case "failure":
            var condition = "not-authorized"
            var text: String?
            for child in element.elements {
                if child.name == "text" { text = child.text } else { condition = child.name }
            }
            state = .closed
            return [.send("</stream:stream>"), .fail(.saslFailed(condition: condition, text: text))]
        default:
            return unexpected(element)
        }
    }

    private mutating func saslAbort(_ error: XMPPLinkError) -> [Action] {
        state = .closed
        return [.send("<abort xmlns='\(NS.sasl)'/></stream:stream>"), .fail(error)]
    }

    private mutating func startBinding(_ features: StreamFeatures, options: ClientOptions) -> [Action] {
        guard features.bind else {
            return failWithStreamError("undefined-condition", .protocolViolation("server offers no resource binding"))
        }
        state = .binding
        var bind = XMLElement("bind", namespace: NS.bind)
        if let resource = options.resource { bind.append(XMLElement("resource", namespace: NS.bind, text: resource)) }
        let iq = IQ(type: .set, id: "bind_1", payload: bind)
        return [.send(iq.element.serialized(defaultNamespace: NS.client))]
    }

    private mutating func receiveBindResult(_ element: XMLElement) -> [Action] {
        guard element.name == "iq", element[attribute: "id"] == "bind_1", let iq = try? IQ(element: element) else {
            return unexpected(element)
        }
        if let error = iq.error {
            state = .closed
            return [.send("</stream:stream>"), .fail(.bindFailed(error))]
        }
        guard let text = iq.payload?.child("jid", namespace: NS.bind)?.text, let jid = try? JID(text), jid.resourcepart != nil else {
            return failWithStreamError("undefined-condition", .protocolViolation("bind result without a full JID"))
        }
        if features?.sessionRequired == true {
            state = .startingSession(jid)
            let iq = IQ(type: .set, id: "sess_1", payload: XMLElement("session", namespace: NS.session))
            return [.send(iq.element.serialized(defaultNamespace: NS.client))]
        }
        return afterSession(jid)
    }

    private mutating func afterSession(_ jid: JID) -> [Action] {
        if case .client(let options) = role, options.streamManagement, features?.streamManagement == true {
            state = .enablingSM(jid)
            return [.send("<enable xmlns='\(NS.streamManagement)' resume='true'/>")]
        }
        return becomeEstablished(jid: jid, resumed: false, resent: 0)
    }

    private mutating func receiveResumeAnswer(_ element: XMLElement, previous: SMResumption) -> [Action] {
        smID = previous.id
        smEnabled = true
        smResumable = true
        inboundHandled = previous.inboundHandled
        outboundAcked = previous.outboundAcked
        unacked = previous.unacked
        switch element.name {
        case "resumed":
            // XEP-0198 §5: drop what the server got, send the rest again.
            if let h = element[attribute: "h"].flatMap(UInt32.init) {
                if let violation = acknowledge(h) { return violation }
            }
            var actions: [Action] = []
            var text = ""
            for stanza in unacked { text += serialize(stanza) }
            let resent = unacked.count
            if resent > 0 { text += "<r xmlns='\(NS.streamManagement)'/>" }
            if !text.isEmpty { actions.append(.send(text)) }
            return actions + becomeEstablished(jid: previous.boundJID, resumed: true, resent: resent)
        case "failed":
            if let h = element[attribute: "h"].flatMap(UInt32.init) { _ = acknowledge(h) }
            let lost = unacked
            smEnabled = false
            smID = nil
            smResumable = false
            unacked = []
            guard case .client(let options) = role, let features else { preconditionFailure("resume outside client role") }
            return [.resumeFailed(unacked: lost)] + startBinding(features, options: options)
        default:
            return unexpected(element)
        }
    }

    private mutating func becomeEstablished(jid: JID, resumed: Bool, resent: Int) -> [Action] {
        state = .established
        let info = Established(jid: jid, remote: nil, features: features, streamID: streamID, streamManagement: smEnabled,
                               resumable: smResumable, resumed: resumed, resent: resent)
        established = info
        return [.established(info)]
    }

    private mutating func receiveEstablished(_ element: XMLElement) -> [Action] {
        if element.namespace == NS.streamManagement {
            switch element.name {
            case "r":
                // XEP-0198 §4: answer a request with the count of stanzas handled.
                return [.send("<a xmlns='\(NS.streamManagement)' h='\(inboundHandled)'/>")]
            case "a":
                guard let h = element[attribute: "h"].flatMap(UInt32.init) else {
                    return failWithStreamError("undefined-condition", .protocolViolation("<a/> without h"))
                }
                return acknowledge(h) ?? []
            default:
                return []
            }
        }
        guard element.namespace == contentNamespace, ["iq", "message", "presence"].contains(element.name) else {
            return failWithStreamError("unsupported-stanza-type", .protocolViolation("<\(element.name) xmlns='\(element.namespace)'/>"))
        }
        if smEnabled { inboundHandled &+= 1 }
        return [.deliver(retarget(element, from: contentNamespace, to: NS.client))]
    }

    /// Applies an acknowledgement `h` (XEP-0198 §4, counters wrap at 2^32). Returns actions only on a violation.
    private mutating func acknowledge(_ h: UInt32) -> [Action]? {
        let newly = Int(h &- outboundAcked)
        guard newly <= unacked.count else {
            // XEP-0198 §4: acknowledging more than was sent is an error.
            return failWithStreamError("undefined-condition", .protocolViolation("server acknowledged \(newly) stanzas, \(unacked.count) were sent"))
        }
        unacked.removeFirst(newly)
        outboundAcked = h
        return nil
    }

    private mutating func unexpected(_ element: XMLElement) -> [Action] {
        failWithStreamError("unsupported-stanza-type", .protocolViolation("unexpected <\(element.name) xmlns='\(element.namespace)'/>"))
    }

    private mutating func failWithStreamError(_ condition: String, _ error: XMPPLinkError) -> [Action] {
        state = .closed
        return [.send("<stream:error><\(condition) xmlns='\(NS.streams)'/></stream:error></stream:stream>"), .fail(error)]
    }

    // MARK: - sending

    /// Sends a stanza (in `jabber:client`; rewritten to the stream's content namespace). With XEP-0198 the
    /// stanza is kept until acknowledged and an ack is requested.
    public mutating func send(stanza: XMLElement) throws(XMPPLinkError) -> [Action] {
        guard case .established = state else { throw .notConnected }
        var text = serialize(stanza)
        if smEnabled {
            unacked.append(stanza)
            text += "<r xmlns='\(NS.streamManagement)'/>"
        }
        return [.send(text)]
    }

    /// Closes the stream (RFC 6120 §4.4); the peer's `</stream:stream>` then yields `.closed`.
    public mutating func close() -> [Action] {
        switch state {
        case .closed, .closing: return []
        case .idle:
            state = .closed
            return [.closed]
        default:
            var text = ""
            if smEnabled { text += "<a xmlns='\(NS.streamManagement)' h='\(inboundHandled)'/>" }
            state = .closing
            return [.send(text + "</stream:stream>")]
        }
    }

    private func serialize(_ stanza: XMLElement) -> String {
        retarget(stanza, from: NS.client, to: contentNamespace).serialized(defaultNamespace: contentNamespace)
    }
}

/// Moves an element and its descendants from one namespace to another (stanzas are built in `jabber:client`
/// and travel in `jabber:component:accept` on a component stream, XEP-0114 §3).
func retarget(_ element: XMLElement, from: String, to: String) -> XMLElement {
    if from == to { return element }
    var copy = element
    if copy.namespace == from { copy.namespace = to }
    copy.children = element.children.map { node in
        if case .element(let child) = node { return .element(retarget(child, from: from, to: to)) }
        return node
    }
    return copy
}

private func base64(_ text: String) -> String {
    let encoded = Data(text.utf8).base64EncodedString()
    // RFC 6120 §6.4.2: empty initial response is "=".
    return encoded.isEmpty ? "=" : encoded
}

private func unbase64(_ text: String) -> String? {
    let trimmed = String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    if trimmed.isEmpty || trimmed == "=" { return "" }
    return Data(base64Encoded: trimmed).map { String(decoding: $0, as: UTF8.self) }
}

/// `value` escaped for a single-quoted attribute: XMLEscaping escapes for double quotes, and `'` is replaced
/// here scalar by scalar (a `'` followed by a combining mark is one Character, which a Character-level
/// replacement would miss).
private func escape(_ value: String) -> String {
    var out = ""
    XMLEscaping.appendAttribute(value, to: &out)
    guard out.unicodeScalars.contains("'") else { return out }
    var scalars = String.UnicodeScalarView()
    for scalar in out.unicodeScalars {
        if scalar == "'" { scalars.append(contentsOf: "&apos;".unicodeScalars) } else { scalars.append(scalar) }
    }
    return String(scalars)
}
