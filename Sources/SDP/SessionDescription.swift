/// A session description (RFC 8866 §5): the session-level lines followed by the media descriptions.
///
/// Each line type of RFC 8866 has a field; attributes keep the order their author wrote them in, unknown
/// ones included (as ``SDPAttribute/other(name:value:)``). ``serialized()`` writes the lines in the order
/// of RFC 8866 §5 with CRLF endings, so `serialize(parse(x)) == x` for canonical input and
/// `parse(serialize(m)) == m` for every model the parser can produce.
///
/// ```
/// let offer = try SessionDescription(parsing: text)
/// let mids = offer.media.compactMap(\.mid)
/// ```
public struct SessionDescription: Hashable, Sendable {
    /// `v=`: always 0 (RFC 8866 §5.1).
    public var version: UInt8
    /// `o=` (RFC 8866 §5.2).
    public var origin: SDPOrigin
    /// `s=` (RFC 8866 §5.3); `-` when there is no name, as RFC 3264 §5 suggests.
    public var sessionName: String
    /// `i=` at session level (RFC 8866 §5.4).
    public var information: String?
    /// `u=` (RFC 8866 §5.5).
    public var uri: String?
    /// `e=` lines (RFC 8866 §5.6).
    public var emails: [String]
    /// `p=` lines (RFC 8866 §5.6).
    public var phones: [String]
    /// `c=` at session level (RFC 8866 §5.7); applies to every media description without its own.
    public var connection: SDPConnection?
    /// `b=` lines at session level (RFC 8866 §5.8).
    public var bandwidths: [SDPBandwidth]
    /// `t=` lines, each with its `r=` lines (RFC 8866 §5.9, §5.10). At least one when serialised for the wire.
    public var timing: [SDPTiming]
    /// `z=` (RFC 8866 §5.11).
    public var timeZones: [SDPTimeZoneAdjustment]
    /// `k=` (RFC 8866 §5.12, obsolete but still parsed).
    public var encryptionKey: String?
    /// `a=` lines at session level, in the author's order (RFC 8866 §5.13).
    public var attributes: [SDPAttribute]
    /// The media descriptions (`m=` sections) in order (RFC 8866 §5.14).
    public var media: [SDPMediaDescription]

    public init(
        version: UInt8 = 0,
        origin: SDPOrigin,
        sessionName: String = "-",
        information: String? = nil,
        uri: String? = nil,
        emails: [String] = [],
        phones: [String] = [],
        connection: SDPConnection? = nil,
        bandwidths: [SDPBandwidth] = [],
        timing: [SDPTiming] = [SDPTiming()],
        timeZones: [SDPTimeZoneAdjustment] = [],
        encryptionKey: String? = nil,
        attributes: [SDPAttribute] = [],
        media: [SDPMediaDescription] = []
    ) {
        self.version = version
        self.origin = origin
        self.sessionName = sessionName
        self.information = information
        self.uri = uri
        self.emails = emails
        self.phones = phones
        self.connection = connection
        self.bandwidths = bandwidths
        self.timing = timing
        self.timeZones = timeZones
        self.encryptionKey = encryptionKey
        self.attributes = attributes
        self.media = media
    }
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (RFC 8866 §5.2).
public struct SDPOrigin: Hashable, Sendable {
    /// `-` when the host has no user concept.
    public var username: String
    /// Kept as text: RFC 8866 asks for digits, but it is an opaque identifier that a gateway may want to carry
    /// (Jingle's `sid` is not numeric), and browsers use 19-digit values.
    public var sessionID: String
    /// Increases on every changed re-offer or answer (RFC 3264 §8); see ``SessionDescription/versioned(after:)``.
    public var sessionVersion: UInt64
    public var networkType: String
    public var addressType: String
    public var address: String

    public init(username: String = "-", sessionID: String, sessionVersion: UInt64, networkType: String = "IN",
                addressType: String = "IP4", address: String = "127.0.0.1") {
        self.username = username
        self.sessionID = sessionID
        self.sessionVersion = sessionVersion
        self.networkType = networkType
        self.addressType = addressType
        self.address = address
    }
}

/// `c=<nettype> <addrtype> <connection-address>` (RFC 8866 §5.7).
///
/// The address is kept verbatim, including any multicast `/ttl` and `/number-of-addresses` suffix.
public struct SDPConnection: Hashable, Sendable {
    public var networkType: String
    public var addressType: String
    public var address: String

    public init(networkType: String = "IN", addressType: String = "IP4", address: String) {
        self.networkType = networkType
        self.addressType = addressType
        self.address = address
    }
}

/// `b=<bwtype>:<bandwidth>` (RFC 8866 §5.8), for example `AS` or `TIAS` (RFC 3890).
public struct SDPBandwidth: Hashable, Sendable {
    public var type: String
    /// Kilobits per second for `CT`/`AS`, bits per second for `TIAS`.
    public var value: UInt64

    public init(type: String, value: UInt64) {
        self.type = type
        self.value = value
    }
}

/// `t=<start-time> <stop-time>` with its `r=` lines (RFC 8866 §5.9–5.10). `t=0 0` is an unbounded session.
public struct SDPTiming: Hashable, Sendable {
    /// NTP seconds; 0 means unbounded.
    public var start: UInt64
    public var stop: UInt64
    public var repeats: [SDPRepeatTimes]

    public init(start: UInt64 = 0, stop: UInt64 = 0, repeats: [SDPRepeatTimes] = []) {
        self.start = start
        self.stop = stop
        self.repeats = repeats
    }
}

/// `r=<repeat interval> <active duration> <offsets from start-time>` (RFC 8866 §5.10).
///
/// Values are typed times (`1*DIGIT [d|h|m|s]`) kept as written, so `7d` stays `7d`.
public struct SDPRepeatTimes: Hashable, Sendable {
    public var interval: String
    public var activeDuration: String
    public var offsets: [String]

    public init(interval: String, activeDuration: String, offsets: [String]) {
        self.interval = interval
        self.activeDuration = activeDuration
        self.offsets = offsets
    }
}

/// One `<adjustment time> <offset>` pair of `z=` (RFC 8866 §5.11). The offset is a signed typed time (`-1h`).
public struct SDPTimeZoneAdjustment: Hashable, Sendable {
    public var adjustmentTime: UInt64
    public var offset: String

    public init(adjustmentTime: UInt64, offset: String) {
        self.adjustmentTime = adjustmentTime
        self.offset = offset
    }
}
