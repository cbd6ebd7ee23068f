/// Sender report, packet type 200 (RFC 3550 §6.4.1).
public struct RTCPSenderReport: Sendable, Hashable {
    public var ssrc: UInt32
    /// 64-bit NTP timestamp (seconds since 1900 in the high 32 bits, fraction in the low 32).
    public var ntpTimestamp: UInt64
    /// The same instant in the RTP clock of this source.
    public var rtpTimestamp: UInt32
    public var packetCount: UInt32
    public var octetCount: UInt32
    /// At most 31 blocks (5-bit RC field).
    public var reportBlocks: [RTCPReportBlock]
    /// Profile-specific extension after the report blocks, kept as bytes (a whole number of 32-bit words).
    public var profileExtension: [UInt8]

    public init(
        ssrc: UInt32, ntpTimestamp: UInt64, rtpTimestamp: UInt32, packetCount: UInt32, octetCount: UInt32,
        reportBlocks: [RTCPReportBlock] = [], profileExtension: [UInt8] = []
    ) {
        self.ssrc = ssrc
        self.ntpTimestamp = ntpTimestamp
        self.rtpTimestamp = rtpTimestamp
        self.packetCount = packetCount
        self.octetCount = octetCount
        self.reportBlocks = reportBlocks
        self.profileExtension = profileExtension
    }

    /// The middle 32 bits of the NTP timestamp, which a receiver echoes as LSR (RFC 3550 §6.4.1).
    public var compactNTPTimestamp: UInt32 { UInt32(truncatingIfNeeded: ntpTimestamp >> 16) }
}

/// Receiver report, packet type 201 (RFC 3550 §6.4.2).
public struct RTCPReceiverReport: Sendable, Hashable {
    public var ssrc: UInt32
    /// At most 31 blocks (5-bit RC field).
    public var reportBlocks: [RTCPReportBlock]
    /// Profile-specific extension after the report blocks, kept as bytes (a whole number of 32-bit words).
    public var profileExtension: [UInt8]

    public init(ssrc: UInt32, reportBlocks: [RTCPReportBlock] = [], profileExtension: [UInt8] = []) {
        self.ssrc = ssrc
        self.reportBlocks = reportBlocks
        self.profileExtension = profileExtension
    }
}

/// The type of an SDES item (RFC 3550 §6.5); unknown types are kept as their number.
public struct RTCPSDESItemType: RawRepresentable, Sendable, Hashable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let cname = RTCPSDESItemType(rawValue: 1)
    public static let name = RTCPSDESItemType(rawValue: 2)
    public static let email = RTCPSDESItemType(rawValue: 3)
    public static let phone = RTCPSDESItemType(rawValue: 4)
    public static let location = RTCPSDESItemType(rawValue: 5)
    public static let tool = RTCPSDESItemType(rawValue: 6)
    public static let note = RTCPSDESItemType(rawValue: 7)
    public static let priv = RTCPSDESItemType(rawValue: 8)
}

/// One SDES item: type and up to 255 bytes of (normally UTF-8) text.
public struct RTCPSDESItem: Sendable, Hashable {
    public var type: RTCPSDESItemType
    public var value: [UInt8]

    public init(type: RTCPSDESItemType, value: [UInt8]) {
        self.type = type
        self.value = value
    }

    public init(type: RTCPSDESItemType, text: String) {
        self.init(type: type, value: Array(text.utf8))
    }

    /// The value decoded as UTF-8, nil if it is not valid UTF-8.
    public var text: String? { String(validating: value, as: UTF8.self) }
}

/// Source description, packet type 202 (RFC 3550 §6.5): one chunk per source, every item kept in order.
public struct RTCPSourceDescription: Sendable, Hashable {
    public struct Chunk: Sendable, Hashable {
        public var ssrc: UInt32
        public var items: [RTCPSDESItem]

        public init(ssrc: UInt32, items: [RTCPSDESItem]) {
            self.ssrc = ssrc
            self.items = items
        }

        /// The CNAME item's text (RFC 3550 §6.5.1).
        public var cname: String? { items.first { $0.type == .cname }?.text }
    }

    /// At most 31 chunks (5-bit SC field).
    public var chunks: [Chunk]

    public init(chunks: [Chunk]) { self.chunks = chunks }
}

/// Goodbye, packet type 203 (RFC 3550 §6.6).
public struct RTCPGoodbye: Sendable, Hashable {
    /// At most 31 sources (5-bit SC field).
    public var ssrcs: [UInt32]
    /// Optional reason for leaving, up to 255 bytes (normally UTF-8 text).
    public var reason: [UInt8]?

    public init(ssrcs: [UInt32], reason: [UInt8]? = nil) {
        self.ssrcs = ssrcs
        self.reason = reason
    }

    public init(ssrcs: [UInt32], reasonText: String) {
        self.init(ssrcs: ssrcs, reason: Array(reasonText.utf8))
    }

    /// The reason decoded as UTF-8.
    public var reasonText: String? { reason.flatMap { String(validating: $0, as: UTF8.self) } }
}

/// An RTCP packet of a type this target does not interpret (APP, RTPFB, PSFB, XR, …), kept byte for byte.
public struct RTCPRawPacket: Sendable, Hashable {
    public var packetType: UInt8
    /// The 5-bit field after the P bit: a count, a subtype (APP) or a feedback message type (RFC 4585 FMT).
    public var countOrFormat: UInt8
    /// The bytes after the 4-byte common header, without padding (a whole number of 32-bit words).
    public var body: [UInt8]

    public init(packetType: UInt8, countOrFormat: UInt8, body: [UInt8]) {
        self.packetType = packetType
        self.countOrFormat = countOrFormat
        self.body = body
    }
}
