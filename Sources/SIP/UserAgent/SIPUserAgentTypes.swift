import DNS
import Hashes

/// Transport protocol of a SIP hop (the Via transport token).
public enum SIPTransportKind: String, Sendable, Hashable {
    case udp = "UDP"
    case tcp = "TCP"

    public var isReliable: Bool { self == .tcp }
}

/// A transport-level peer address. Hosts are IP literals on the wire side (RFC 3263 DNS lookup is
/// left to the endpoint).
public struct SIPTransportAddress: Sendable, Hashable, CustomStringConvertible {
    public var transport: SIPTransportKind
    public var host: String
    public var port: Int

    public init(transport: SIPTransportKind, host: String, port: Int) {
        self.transport = transport
        self.host = host
        self.port = port
    }

    /// The next hop for a URI taken as it is (§8.1.2: `transport` parameter or the default, port 5060 or 5061):
    /// RFC 3263's answer when the URI has a port or an IP literal, or when its domain has no SRV records
    /// (``srvQuery(for:defaultTransport:)``). NAPTR is not looked up.
    public init(uri: SIPURI, defaultTransport: SIPTransportKind) {
        let transport: SIPTransportKind = switch uri.transportParameter {
        case "tcp": .tcp
        case "udp": .udp
        default: defaultTransport
        }
        self.init(transport: transport, host: uri.host, port: uri.port ?? (uri.scheme == .sips ? 5061 : 5060))
    }

    public var description: String { "\(transport.rawValue.lowercased()):\(host.contains(":") ? "[\(host)]" : host):\(port)" }

    /// RFC 3263 §4.2 (without NAPTR): the SRV name that says where requests for `uri` go, or nil when the URI
    /// names the hop itself — an IP literal, a port (then A/AAAA only), or `maddr`. The transport is the URI's
    /// `transport` parameter, else `defaultTransport` (§4.1 would let NAPTR choose; no NAPTR lookup is made).
    public static func srvQuery(for uri: SIPURI, defaultTransport: SIPTransportKind) -> (name: String, transport: SIPTransportKind)? {
        guard uri.scheme == .sip, uri.port == nil, !uri.parameters.contains("maddr"), !DNSSRV.isIPLiteral(uri.host), !uri.host.isEmpty else { return nil }
        let transport = SIPTransportAddress(uri: uri, defaultTransport: defaultTransport).transport
        let host = uri.host.hasSuffix(".") ? String(uri.host.dropLast()) : uri.host
        return ("_sip._\(transport == .tcp ? "tcp" : "udp").\(host)", transport)
    }

    /// The next hops that SRV records name, in the order given (RFC 2782: priority, then weight); a target of
    /// "." says the service is not offered there and is left out.
    public static func hops(srvTargets: [(target: String, port: Int)], transport: SIPTransportKind) -> [SIPTransportAddress] {
        srvTargets.compactMap { record in
            let host = record.target.hasSuffix(".") ? String(record.target.dropLast()) : record.target
            guard !host.isEmpty, (1...65535).contains(record.port) else { return nil }
            return SIPTransportAddress(transport: transport, host: host, port: record.port)
        }
    }
}

/// A username/password pair for digest authentication; `realm` nil means any realm.
public struct SIPCredential: Sendable, Hashable {
    public var username: String
    public var password: String
    public var realm: String?

    public init(username: String, password: String, realm: String? = nil) {
        self.username = username
        self.password = password
        self.realm = realm
    }
}

/// Who we are and how we address ourselves on the wire.
public struct SIPUserAgentConfiguration: Sendable {
    /// Host (IP literal) written into Via and Contact.
    public var localHost: String
    public var localPort: Int
    /// Transport for requests whose URI names none.
    public var transport: SIPTransportKind
    public var userName: String
    public var displayName: String?
    /// Host of our From URI; `localHost` when nil.
    public var domain: String?
    public var userAgent: String
    public var credentials: [SIPCredential]
    public var timers: SIPTimerSettings
    /// Random tokens for tags, branches, Call-IDs and cnonces. Injected so tests are deterministic.
    public var makeToken: @Sendable () -> String
    /// true: a re-INVITE from the peer is answered at once with our current SDP (a session refresh);
    /// false: the application answers it with `answerReinvite` / `rejectReinvite` (RFC 3264 §8: an
    /// answer to a changed offer, e.g. hold, must reflect it).
    public var answerReinvitesAutomatically: Bool
    /// RFC 4028 session timers; nil turns the extension off (a `Require: timer` then gets 420).
    public var sessionTimer: SIPSessionTimerSettings?

    public init(localHost: String, localPort: Int, transport: SIPTransportKind = .udp, userName: String = "jingle",
                displayName: String? = nil, domain: String? = nil, userAgent: String = "SwiftJingle",
                credentials: [SIPCredential] = [], timers: SIPTimerSettings = SIPTimerSettings(),
                answerReinvitesAutomatically: Bool = true, sessionTimer: SIPSessionTimerSettings? = SIPSessionTimerSettings(),
                makeToken: @escaping @Sendable () -> String = { SecureRandom.bytes(8).hexString }) {
        self.answerReinvitesAutomatically = answerReinvitesAutomatically
        self.sessionTimer = sessionTimer
        self.localHost = localHost
        self.localPort = localPort
        self.transport = transport
        self.userName = userName
        self.displayName = displayName
        self.domain = domain
        self.userAgent = userAgent
        self.credentials = credentials
        self.timers = timers
        self.makeToken = makeToken
    }
}

/// RFC 4028 session timers: a call that nobody refreshes ends with BYE, so a peer that vanished
/// without BYE does not hold a call (and its media relay) for ever.
public struct SIPSessionTimerSettings: Sendable, Equatable {
    /// The session interval we ask for in our INVITEs and grant when the peer asks for none (seconds).
    public var interval: Int
    /// Our Min-SE: a peer that supports timers and asks for less gets 422 (seconds, at least 90, §5).
    public var minimum: Int

    public init(interval: Int = 1800, minimum: Int = 90) {
        self.minimum = max(90, minimum)
        self.interval = max(self.minimum, interval)
    }
}

/// A call known to the user agent core.
public struct SIPCallHandle: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public var description: String { "call#\(rawValue)" }
}

/// Details of an incoming INVITE.
public struct SIPIncomingCallInfo: Sendable, Equatable {
    public var from: SIPNameAddress
    public var to: SIPNameAddress
    public var callID: String
    public var requestURI: SIPURI
    /// The SDP offer; nil for an offerless INVITE, in which case `answer(sdp:)` carries our offer and
    /// the caller's answer arrives with `.confirmed(sdp:)` (RFC 3261 §13.2.1 delayed offer).
    public var sdp: String?
    public var invite: SIPMessage
}

/// Why a call ended.
public enum SIPCallEndReason: Sendable, Equatable {
    case localHangUp
    case remoteHangUp
    /// The caller cancelled before we answered (§9.2).
    case remoteCancelled
    /// We answered the INVITE with this non-2xx status.
    case rejected(status: Int)
    /// No ACK for our 2xx (§13.3.1.4) or no response to our BYE.
    case timeout
    /// RFC 4028 §10: no session refresh arrived in time, or our refresh failed (408, 481, no answer);
    /// we sent BYE.
    case sessionExpired
    /// §13.3.1: the caller's INVITE carried `Expires` and it passed before we answered; we sent 487.
    case expired
}

/// Timers owned by the user agent core.
public enum SIPUserAgentTimer: Sendable, Hashable {
    case transaction(SIPTransactionKey, SIPTransactionTimer)
    /// §13.3.1.4: retransmit our 2xx until ACK.
    case answerRetransmit(SIPCallHandle)
    /// §13.3.1.4: give up waiting for the ACK after 64*T1.
    case answerTimeout(SIPCallHandle)
    /// RFC 4028 §10: time for us, the refresher, to refresh the session (half the interval).
    case sessionRefresh(SIPCallHandle)
    /// RFC 4028 §10: the peer, the refresher, has not refreshed; BYE before the session expires.
    case sessionExpiry(SIPCallHandle)
    /// RFC 3261 §14.1: our re-INVITE got 491 (it crossed the peer's); send it again after a random wait.
    case reinviteRetry(SIPCallHandle)
    /// RFC 3262 §3: resend our reliable provisional response until its PRACK (T1, doubling).
    case provisionalRetransmit(SIPCallHandle)
    /// RFC 3262 §3: no PRACK within 64*T1: the INVITE is refused.
    case provisionalTimeout(SIPCallHandle)
    /// §13.3.1: the incoming INVITE's `Expires` passed without a final answer: 487.
    case inviteExpiry(SIPCallHandle)
    /// RFC 3261 §10.2.4: time to REGISTER again (half the granted expiry, or a minute after a failure).
    case registrationRefresh
}

/// What happens to our registration with a registrar (RFC 3261 §10).
public enum SIPRegistrationEvent: Sendable, Equatable {
    /// The registrar accepted our contact for this many seconds; it is refreshed at half of that.
    case registered(expires: Int)
    /// A REGISTER failed with this final status (408: no answer); tried again after `retryIn` (nil: given up,
    /// when the failed REGISTER was the one removing the registration).
    case failed(status: Int, reason: String, retryIn: Duration?)
    /// The registrar removed our contact (after `unregister`).
    case unregistered
}

/// Something the application hears about.
public enum SIPUserAgentEvent: Sendable, Equatable {
    case incomingCall(SIPCallHandle, SIPIncomingCallInfo)
    /// 180/183 to our INVITE (with early-media SDP if any).
    case ringing(SIPCallHandle, status: Int, sdp: String?)
    /// 2xx to our INVITE; the ACK has been sent.
    case answered(SIPCallHandle, sdp: String?)
    /// Final non-2xx to our INVITE, or 408 on Timer B, or 503 on transport failure.
    case failed(SIPCallHandle, status: Int, reason: String)
    case ended(SIPCallHandle, SIPCallEndReason)
    /// The ACK for our 2xx arrived (incoming calls); `sdp` is the answer when our 2xx carried the offer.
    case confirmed(SIPCallHandle, sdp: String?)
    /// INFO from the peer (RFC 6086), already answered with 200.
    case info(SIPCallHandle, contentType: String?, body: [UInt8], infoPackage: String?)
    /// Final response to an INFO / re-INVITE we sent (`request` from `sendInfo` / `reinvite`).
    case requestCompleted(SIPCallHandle, request: SIPTransactionKey, status: Int, sdp: String?)
    /// Our registration (`register(at:aor:expires:now:)`).
    case registration(SIPRegistrationEvent)
    /// A re-INVITE, or an UPDATE with an offer (RFC 3311), from the peer: already answered with our current
    /// SDP, or (with `answerReinvitesAutomatically` false) waiting for `answerReinvite`/`rejectReinvite`.
    /// Session refreshes by UPDATE without a body are answered by the core and not reported.
    case remoteReinvite(SIPCallHandle, sdp: String?)
}

/// What the owner of a `SIPUserAgent` must do.
public enum SIPUserAgentAction: Sendable, Equatable {
    case send(SIPMessage, to: SIPTransportAddress)
    case startTimer(SIPUserAgentTimer, at: Duration)
    case cancelTimer(SIPUserAgentTimer)
    case event(SIPUserAgentEvent)
}

/// Misuse of the user agent API (by the application, not the peer).
public enum SIPUserAgentError: Error, Sendable, Equatable {
    case unknownCall(SIPCallHandle)
    /// The call is not in a state where this operation is allowed.
    case invalidState(String)
    case invalidMessage(String)
    /// Not implemented: TLS (`sips:`, `transport=tls`), SCTP, WebSocket.
    case unsupported(String)
}
