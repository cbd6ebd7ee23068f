/// One `a=` line (RFC 8866 §5.13, §6).
///
/// Attributes that a Jingle mapping or an offer/answer exchange needs are typed; every other attribute is kept
/// verbatim as ``other(name:value:)`` in its position, so nothing is lost on a round trip. A `.other` built by
/// hand whose name is one of the typed names below re-parses as the typed case.
public enum SDPAttribute: Hashable, Sendable {
    /// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]` (RFC 8866 §6.6).
    case rtpmap(SDPRTPMap)
    /// `a=fmtp:<format> <format specific parameters>` (RFC 8866 §6.15).
    case fmtp(SDPFormatParameters)
    /// `a=rtcp-fb:<pt|*> <type> [<parameter>]` (RFC 4585 §4.2, RFC 8108 for `*`).
    case rtcpFeedback(SDPRTCPFeedback)
    /// `a=extmap:<id>[/<direction>] <URI> [<extension attributes>]` (RFC 8285 §7).
    case extmap(SDPExtmap)
    /// `a=extmap-allow-mixed` (RFC 8285 §6).
    case extmapAllowMixed
    /// `a=ssrc:<ssrc-id> <attribute>[:<value>]` (RFC 5576 §4.1).
    case ssrc(SDPSourceAttribute)
    /// `a=ssrc-group:<semantics> <ssrc-id> …` (RFC 5576 §4.2).
    case ssrcGroup(SDPSourceGroup)
    /// `a=group:<semantics> <identification-tag> …` (RFC 5888 §5), e.g. `BUNDLE` (RFC 8843).
    case group(SDPGroup)
    /// `a=mid:<identification-tag>` (RFC 5888 §4).
    case mid(String)
    /// `a=candidate:…` (RFC 8839 §5.1).
    case candidate(SDPCandidate)
    /// `a=end-of-candidates` (RFC 8840 §8.2).
    case endOfCandidates
    /// `a=remote-candidates:<component> <address> <port> …` (RFC 8839 §5.2).
    case remoteCandidates([SDPRemoteCandidate])
    /// `a=ice-ufrag:<ufrag>` (RFC 8839 §5.4).
    case iceUfrag(String)
    /// `a=ice-pwd:<password>` (RFC 8839 §5.4).
    case icePwd(String)
    /// `a=ice-options:<option> …` (RFC 8839 §5.6), e.g. `trickle`.
    case iceOptions([String])
    /// `a=ice-lite` (RFC 8839 §5.3).
    case iceLite
    /// `a=fingerprint:<hash function> <fingerprint>` (RFC 8122 §5).
    case fingerprint(SDPFingerprint)
    /// `a=setup:<role>` (RFC 4145 §4, RFC 5763 §5).
    case setup(SDPSetupRole)
    /// `a=crypto:<tag> <crypto-suite> <key-params> [<session-params>]` (RFC 4568 §9.1).
    case crypto(SDPCrypto)
    /// `a=rtcp:<port> [<nettype> <addrtype> <connection-address>]` (RFC 3605 §2.1).
    case rtcp(SDPRTCPAddress)
    /// `a=rtcp-mux` (RFC 5761 §5.1.1).
    case rtcpMux
    /// `a=rtcp-rsize` (RFC 5506 §5).
    case rtcpRsize
    /// `a=ptime:<milliseconds>` (RFC 8866 §6.4). A fractional value, which the RFC allows but Jingle cannot
    /// carry, is kept as ``other(name:value:)``.
    case ptime(UInt32)
    /// `a=maxptime:<milliseconds>` (RFC 8866 §6.5); fractional values are kept as ``other(name:value:)``.
    case maxptime(UInt32)
    /// `a=sendrecv`, `a=sendonly`, `a=recvonly`, `a=inactive` (RFC 8866 §6.7, RFC 3264 §5.1).
    case direction(SDPDirection)
    /// `a=sctp-port:<port>` (RFC 8841 §5.1).
    case sctpPort(UInt16)
    /// `a=max-message-size:<bytes>` (RFC 8841 §6.1); 0 means "no limit".
    case maxMessageSize(UInt64)
    /// `a=sctpmap:<port> <protocol> [<streams>]` (draft-ietf-mmusic-sctp-sdp-05, still sent by old peers and
    /// the model of XEP-0343).
    case sctpmap(SDPSCTPMap)
    /// `a=msid:<stream id> [<track id>]` (RFC 8830 §2).
    case msid(SDPMediaStreamID)
    /// `a=msid-semantic:<semantic> [<identifier> …]` (draft-ietf-mmusic-msid-05, written by WebRTC stacks).
    case msidSemantic(SDPMsidSemantic)
    /// Any other attribute, verbatim: `a=<name>` (value nil) or `a=<name>:<value>` (value may be empty).
    case other(name: String, value: String?)

    /// The attribute name as written before the colon.
    public var name: String {
        switch self {
        case .rtpmap: "rtpmap"
        case .fmtp: "fmtp"
        case .rtcpFeedback: "rtcp-fb"
        case .extmap: "extmap"
        case .extmapAllowMixed: "extmap-allow-mixed"
        case .ssrc: "ssrc"
        case .ssrcGroup: "ssrc-group"
        case .group: "group"
        case .mid: "mid"
        case .candidate: "candidate"
        case .endOfCandidates: "end-of-candidates"
        case .remoteCandidates: "remote-candidates"
        case .iceUfrag: "ice-ufrag"
        case .icePwd: "ice-pwd"
        case .iceOptions: "ice-options"
        case .iceLite: "ice-lite"
        case .fingerprint: "fingerprint"
        case .setup: "setup"
        case .crypto: "crypto"
        case .rtcp: "rtcp"
        case .rtcpMux: "rtcp-mux"
        case .rtcpRsize: "rtcp-rsize"
        case .ptime: "ptime"
        case .maxptime: "maxptime"
        case .direction(let direction): direction.rawValue
        case .sctpPort: "sctp-port"
        case .maxMessageSize: "max-message-size"
        case .sctpmap: "sctpmap"
        case .msid: "msid"
        case .msidSemantic: "msid-semantic"
        case .other(let name, _): name
        }
    }
}

/// `a=rtpmap` (RFC 8866 §6.6).
public struct SDPRTPMap: Hashable, Sendable {
    /// 0–127 (RFC 3551 §6; 96–127 dynamic).
    public var payloadType: UInt8
    /// Kept as written (`opus`, `PCMU`, `H264`); compare case-insensitively (RFC 4855 §3).
    public var encodingName: String
    public var clockRate: UInt32
    /// The encoding parameters: channel count for audio; nil when absent (meaning 1 for audio).
    public var channels: UInt32?

    public init(payloadType: UInt8, encodingName: String, clockRate: UInt32, channels: UInt32? = nil) {
        self.payloadType = payloadType
        self.encodingName = encodingName
        self.clockRate = clockRate
        self.channels = channels
    }
}

/// `a=fmtp` (RFC 8866 §6.15) with its parameters split at `;`.
///
/// Parameters keep their order and repetitions. A piece without `=` (the `0-15` of telephone-event, RFC 4733
/// §7.1.1) has a nil ``SDPFormatParameter/name``. Spaces around `;` are not kept.
public struct SDPFormatParameters: Hashable, Sendable {
    /// The `<fmt>` this applies to (a payload type, or `webrtc-datachannel` in old data channel SDP).
    public var format: String
    public var parameters: [SDPFormatParameter]

    public init(format: String, parameters: [SDPFormatParameter]) {
        self.format = format
        self.parameters = parameters
    }

    /// The value of the first parameter with this name (names compare case-insensitively, RFC 4855 §3).
    public subscript(name: String) -> String? {
        let lowered = name.lowercased()
        return parameters.first { $0.name?.lowercased() == lowered }?.value
    }
}

/// One `name=value` or nameless `value` piece of an fmtp line.
///
/// `name == nil` (no `=` at all, `0-15`) and `name == ""` (a piece starting with `=`) are different values;
/// a mapping to XEP-0167 `<parameter name=''>` should use nil for the empty name.
public struct SDPFormatParameter: Hashable, Sendable {
    /// nil for a piece with no `=`; the value is then the whole piece.
    public var name: String?
    public var value: String

    public init(name: String?, value: String) {
        self.name = name
        self.value = value
    }
}

/// Which payload types an `rtcp-fb` line applies to.
public enum SDPFormatSelector: Hashable, Sendable {
    /// `*`: every payload type of the m= line (RFC 4585 §4.2).
    case all
    case format(String)
}

/// `a=rtcp-fb:<pt|*> <type> [<parameter>]` (RFC 4585 §4.2).
///
/// `type` is `ack`, `nack`, `trr-int`, `ccm`, `goog-remb`, `transport-cc`, …; `parameter` is the rest of the
/// line (`pli`, `fir`, the `trr-int` milliseconds, `app …`).
public struct SDPRTCPFeedback: Hashable, Sendable {
    public var format: SDPFormatSelector
    public var type: String
    public var parameter: String?

    public init(format: SDPFormatSelector, type: String, parameter: String? = nil) {
        self.format = format
        self.type = type
        self.parameter = parameter
    }

    /// The minimal interval between regular RTCP packets for `trr-int` lines (RFC 4585 §4.2), else nil.
    public var trrInterval: UInt32? {
        guard type == "trr-int", let parameter else { return nil }
        return parseUnsigned(Substring(parameter))
    }
}

/// `a=extmap:<id>[/<direction>] <URI> [<extension attributes>]` (RFC 8285 §7).
public struct SDPExtmap: Hashable, Sendable {
    /// 1–14 for one-byte headers, 1–255 for two-byte headers; 4096–4351 in offers only (RFC 8285 §7).
    public var id: UInt16
    public var direction: SDPDirection?
    public var uri: String
    /// The rest of the line after the URI, verbatim.
    public var extensionAttributes: String?

    public init(id: UInt16, direction: SDPDirection? = nil, uri: String, extensionAttributes: String? = nil) {
        self.id = id
        self.direction = direction
        self.uri = uri
        self.extensionAttributes = extensionAttributes
    }
}

/// `a=ssrc:<ssrc-id> <attribute>[:<value>]` (RFC 5576 §4.1), e.g. `cname`, `msid`.
public struct SDPSourceAttribute: Hashable, Sendable {
    public var ssrc: UInt32
    public var name: String
    /// nil when the source attribute has no `:value`.
    public var value: String?

    public init(ssrc: UInt32, name: String, value: String? = nil) {
        self.ssrc = ssrc
        self.name = name
        self.value = value
    }
}

/// `a=ssrc-group:<semantics> <ssrc-id> …` (RFC 5576 §4.2), e.g. `FID` (RFC 5576 §7), `SIM`, `FEC-FR`.
public struct SDPSourceGroup: Hashable, Sendable {
    public var semantics: String
    public var ssrcs: [UInt32]

    public init(semantics: String, ssrcs: [UInt32]) {
        self.semantics = semantics
        self.ssrcs = ssrcs
    }
}

/// `a=group:<semantics> <identification-tag> …` (RFC 5888 §5). `BUNDLE` may list no tag (RFC 8843 §7).
public struct SDPGroup: Hashable, Sendable {
    public var semantics: String
    public var identifiers: [String]

    public init(semantics: String, identifiers: [String]) {
        self.semantics = semantics
        self.identifiers = identifiers
    }
}

/// `a=remote-candidates` entry (RFC 8839 §5.2).
public struct SDPRemoteCandidate: Hashable, Sendable {
    public var component: UInt16
    public var address: String
    public var port: UInt16

    public init(component: UInt16, address: String, port: UInt16) {
        self.component = component
        self.address = address
        self.port = port
    }
}

/// `a=fingerprint:<hash function> <fingerprint>` (RFC 8122 §5). Both are kept as written (`sha-256` and
/// `SHA-256` both occur); compare the hash function case-insensitively.
public struct SDPFingerprint: Hashable, Sendable {
    public var hashFunction: String
    /// Colon-separated upper-case hex pairs as RFC 8122 §5 asks; kept as received.
    public var fingerprint: String

    public init(hashFunction: String, fingerprint: String) {
        self.hashFunction = hashFunction
        self.fingerprint = fingerprint
    }
}

/// `a=setup` roles (RFC 4145 §4). With DTLS-SRTP the offerer uses `actpass` and the answerer picks `active`
/// or `passive` (RFC 5763 §5).
public enum SDPSetupRole: String, Hashable, Sendable, CaseIterable {
    case active, passive, actpass, holdconn
}

/// Media direction attributes (RFC 8866 §6.7, RFC 3264 §5.1), seen from the author of the description.
public enum SDPDirection: String, Hashable, Sendable, CaseIterable {
    case sendrecv, sendonly, recvonly, inactive

    /// What the other side should write in its answer to this direction (RFC 3264 §6.1):
    /// `sendonly` becomes `recvonly` and back; `sendrecv` and `inactive` stay.
    public var reversed: SDPDirection {
        switch self {
        case .sendrecv: .sendrecv
        case .sendonly: .recvonly
        case .recvonly: .sendonly
        case .inactive: .inactive
        }
    }

    /// True when the author sends media.
    public var sends: Bool { self == .sendrecv || self == .sendonly }
    /// True when the author receives media.
    public var receives: Bool { self == .sendrecv || self == .recvonly }

    /// The direction with the given send and receive capabilities.
    public init(sends: Bool, receives: Bool) {
        switch (sends, receives) {
        case (true, true): self = .sendrecv
        case (true, false): self = .sendonly
        case (false, true): self = .recvonly
        case (false, false): self = .inactive
        }
    }

    /// Both limits at once: sends only if both allow sending, receives only if both allow receiving.
    public func intersection(_ other: SDPDirection) -> SDPDirection {
        SDPDirection(sends: sends && other.sends, receives: receives && other.receives)
    }
}

/// `a=crypto:<tag> <crypto-suite> <key-params> [<session-params>]` (RFC 4568 §9.1).
public struct SDPCrypto: Hashable, Sendable {
    /// 1–9 digits (RFC 4568 §9.1).
    public var tag: UInt32
    /// e.g. `AES_CM_128_HMAC_SHA1_80`.
    public var suite: String
    /// One or more `inline:<key||salt>[|lifetime][|MKI:length]` joined by `;`, verbatim.
    public var keyParams: String
    /// The session parameters (`KDR=`, `UNENCRYPTED_SRTP`, …) as one space-separated string, verbatim.
    public var sessionParams: String?

    public init(tag: UInt32, suite: String, keyParams: String, sessionParams: String? = nil) {
        self.tag = tag
        self.suite = suite
        self.keyParams = keyParams
        self.sessionParams = sessionParams
    }
}

/// `a=rtcp:<port> [<nettype> <addrtype> <connection-address>]` (RFC 3605 §2.1).
public struct SDPRTCPAddress: Hashable, Sendable {
    public var port: UInt16
    /// The optional address, all three fields or none.
    public var connection: SDPConnection?

    public init(port: UInt16, connection: SDPConnection? = nil) {
        self.port = port
        self.connection = connection
    }
}

/// Old-style `a=sctpmap:<sctp port> <protocol> [<streams>]` (draft-ietf-mmusic-sctp-sdp-05 §5.1).
public struct SDPSCTPMap: Hashable, Sendable {
    public var port: UInt16
    /// `webrtc-datachannel`.
    public var protocolName: String
    public var streams: UInt32?

    public init(port: UInt16, protocolName: String, streams: UInt32? = nil) {
        self.port = port
        self.protocolName = protocolName
        self.streams = streams
    }
}

/// `a=msid:<stream id> [<track id>]` (RFC 8830 §2).
public struct SDPMediaStreamID: Hashable, Sendable {
    public var streamID: String
    /// The `msid-appdata`, a track identifier in WebRTC.
    public var trackID: String?

    public init(streamID: String, trackID: String? = nil) {
        self.streamID = streamID
        self.trackID = trackID
    }
}

/// `a=msid-semantic:<semantic> [<identifier> …]` (draft-ietf-mmusic-msid-05 §3), e.g. `WMS *`.
///
/// Written without a space after the colon; libwebrtc's `a=msid-semantic: WMS` parses to the same value.
public struct SDPMsidSemantic: Hashable, Sendable {
    public var semantic: String
    public var identifiers: [String]

    public init(semantic: String, identifiers: [String] = []) {
        self.semantic = semantic
        self.identifiers = identifiers
    }
}
