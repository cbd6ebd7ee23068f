/// An RTP payload format as SDP `a=rtpmap` names it: encoding name, clock rate and, for audio, channels
/// (RFC 8866 §6.6, RFC 3551 §6).
public struct RTPPayloadFormat: Sendable, Hashable, CustomStringConvertible {
    public var encodingName: String
    public var clockRate: UInt32
    /// Audio channels; nil when the rtpmap omits them (meaning one channel for audio).
    public var channels: UInt16?

    public init(encodingName: String, clockRate: UInt32, channels: UInt16? = nil) {
        self.encodingName = encodingName
        self.clockRate = clockRate
        self.channels = channels
    }

    /// Parses an rtpmap value without the payload type: `opus/48000/2`, `PCMU/8000`, `VP8/90000`.
    public init?(rtpmap: String) {
        let parts = rtpmap.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, let rate = UInt32(parts[1]), rate > 0 else {
            return nil
        }
        var channels: UInt16?
        if parts.count == 3 {
            guard let count = UInt16(parts[2]), count > 0 else { return nil }
            channels = count
        }
        self.init(encodingName: String(parts[0]), clockRate: rate, channels: channels)
    }

    /// The rtpmap form, `name/rate[/channels]`.
    public var rtpmap: String {
        channels.map { "\(encodingName)/\(clockRate)/\($0)" } ?? "\(encodingName)/\(clockRate)"
    }

    public var description: String { rtpmap }

    /// Same format: names compare case-insensitively (RFC 4855 §3: media subtype names are case-insensitive),
    /// and a missing channel count equals 1.
    public func matches(_ other: RTPPayloadFormat) -> Bool {
        encodingName.lowercased() == other.encodingName.lowercased() && clockRate == other.clockRate
            && (channels ?? 1) == (other.channels ?? 1)
    }

    public static let pcmu = RTPPayloadFormat(encodingName: "PCMU", clockRate: 8000)
    public static let pcma = RTPPayloadFormat(encodingName: "PCMA", clockRate: 8000)
    /// RFC 3551 §4.5.2: G.722 is sampled at 16 kHz but its RTP clock runs at 8000 for historical reasons.
    public static let g722 = RTPPayloadFormat(encodingName: "G722", clockRate: 8000)
    public static let g729 = RTPPayloadFormat(encodingName: "G729", clockRate: 8000)
    /// RFC 7587 §7: always `opus/48000/2` in rtpmap, whatever the actual channel count.
    public static let opus = RTPPayloadFormat(encodingName: "opus", clockRate: 48000, channels: 2)
    public static let telephoneEvent = RTPPayloadFormat(encodingName: "telephone-event", clockRate: 8000)
    public static let telephoneEvent48000 = RTPPayloadFormat(encodingName: "telephone-event", clockRate: 48000)
    public static let comfortNoise = RTPPayloadFormat(encodingName: "CN", clockRate: 8000)
    public static let vp8 = RTPPayloadFormat(encodingName: "VP8", clockRate: 90000)
    public static let vp9 = RTPPayloadFormat(encodingName: "VP9", clockRate: 90000)
    public static let h264 = RTPPayloadFormat(encodingName: "H264", clockRate: 90000)

    /// RFC 3551 §6, Tables 4 and 5: the static payload types still assigned.
    public static let staticPayloadTypes: [UInt8: RTPPayloadFormat] = [
        0: .pcmu,
        3: RTPPayloadFormat(encodingName: "GSM", clockRate: 8000),
        4: RTPPayloadFormat(encodingName: "G723", clockRate: 8000),
        5: RTPPayloadFormat(encodingName: "DVI4", clockRate: 8000),
        6: RTPPayloadFormat(encodingName: "DVI4", clockRate: 16000),
        7: RTPPayloadFormat(encodingName: "LPC", clockRate: 8000),
        8: .pcma,
        9: .g722,
        10: RTPPayloadFormat(encodingName: "L16", clockRate: 44100, channels: 2),
        11: RTPPayloadFormat(encodingName: "L16", clockRate: 44100),
        12: RTPPayloadFormat(encodingName: "QCELP", clockRate: 8000),
        13: .comfortNoise,
        14: RTPPayloadFormat(encodingName: "MPA", clockRate: 90000),
        15: RTPPayloadFormat(encodingName: "G728", clockRate: 8000),
        16: RTPPayloadFormat(encodingName: "DVI4", clockRate: 11025),
        17: RTPPayloadFormat(encodingName: "DVI4", clockRate: 22050),
        18: .g729,
        25: RTPPayloadFormat(encodingName: "CelB", clockRate: 90000),
        26: RTPPayloadFormat(encodingName: "JPEG", clockRate: 90000),
        28: RTPPayloadFormat(encodingName: "nv", clockRate: 90000),
        31: RTPPayloadFormat(encodingName: "H261", clockRate: 90000),
        32: RTPPayloadFormat(encodingName: "MPV", clockRate: 90000),
        33: RTPPayloadFormat(encodingName: "MP2T", clockRate: 90000),
        34: RTPPayloadFormat(encodingName: "H263", clockRate: 90000),
    ]
}

/// The payload types of one RTP session: the static assignments plus those bound dynamically by signalling.
public struct RTPPayloadTypeMap: Sendable, Hashable {
    public private(set) var dynamic: [UInt8: RTPPayloadFormat] = [:]

    public init() {}

    public init(dynamic: [UInt8: RTPPayloadFormat]) throws(RTPError) {
        for (payloadType, format) in dynamic { try register(payloadType, format) }
    }

    /// Payload types that signalling may bind: 96–127 (RFC 3551 §3) and the unassigned 35–63, leaving out
    /// 64–95, which would collide with RTCP under rtcp-mux (RFC 5761 §4).
    public static func isDynamic(_ payloadType: UInt8) -> Bool {
        (96...127).contains(payloadType) || (35...63).contains(payloadType)
    }

    /// Binds a dynamic payload type to a format (from an `a=rtpmap` or a Jingle `<payload-type/>`).
    public mutating func register(_ payloadType: UInt8, _ format: RTPPayloadFormat) throws(RTPError) {
        guard Self.isDynamic(payloadType) else {
            throw .fieldOutOfRange(field: "dynamic payload type", value: Int(payloadType))
        }
        dynamic[payloadType] = format
    }

    /// The format of a payload type: a dynamic binding first, then the static table.
    public func format(for payloadType: UInt8) -> RTPPayloadFormat? {
        dynamic[payloadType] ?? RTPPayloadFormat.staticPayloadTypes[payloadType]
    }

    /// The payload type carrying `format` (lowest number when several do), dynamic bindings first.
    public func payloadType(for format: RTPPayloadFormat) -> UInt8? {
        if let found = dynamic.filter({ $0.value.matches(format) }).keys.min() { return found }
        return RTPPayloadFormat.staticPayloadTypes.filter { $0.value.matches(format) }.keys.min()
    }

    /// Looks a payload type up by encoding name (case-insensitive) and, if given, clock rate and channels.
    public func payloadType(named name: String, clockRate: UInt32? = nil, channels: UInt16? = nil) -> UInt8? {
        let wanted = name.lowercased()
        func fits(_ format: RTPPayloadFormat) -> Bool {
            format.encodingName.lowercased() == wanted && clockRate.map { $0 == format.clockRate } ?? true
                && channels.map { $0 == (format.channels ?? 1) } ?? true
        }
        if let found = dynamic.filter({ fits($0.value) }).keys.min() { return found }
        return RTPPayloadFormat.staticPayloadTypes.filter { fits($0.value) }.keys.min()
    }
}
