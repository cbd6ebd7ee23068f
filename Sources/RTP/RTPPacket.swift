/// The fixed RTP header, CSRC list and header extension (RFC 3550 §5.1). The version is always 2; padding
/// belongs to the packet (`RTPPacket.paddingLength`).
public struct RTPHeader: Sendable, Hashable {
    public var marker: Bool
    /// 7 bits (0–127).
    public var payloadType: UInt8
    public var sequenceNumber: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32
    /// At most 15 contributing sources (the CC field is 4 bits).
    public var csrcs: [UInt32]
    /// Present when the X bit is set.
    public var headerExtension: RTPHeaderExtension?

    public init(
        marker: Bool = false, payloadType: UInt8, sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32,
        csrcs: [UInt32] = [], headerExtension: RTPHeaderExtension? = nil
    ) {
        self.marker = marker
        self.payloadType = payloadType
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.csrcs = csrcs
        self.headerExtension = headerExtension
    }

    /// Smallest RTP packet: the 12-byte fixed header.
    public static let fixedLength = 12
    public static let version: UInt8 = 2
}

/// A parsed RTP packet that refers to its payload by position in the buffer it was parsed from, so the payload
/// need not be copied (for example before handing it straight to a decoder).
public struct RTPPacketView: Sendable, Hashable {
    public var header: RTPHeader
    /// Where the payload lies in the parsed buffer (after the header, before any padding).
    public var payloadRange: Range<Int>
    /// Number of padding bytes including the count octet; 0 when the P bit is clear.
    public var paddingLength: Int

    /// Parses an RTP packet (RFC 3550 §5.1), checking every length against the buffer.
    public static func parse(_ bytes: [UInt8]) throws(RTPError) -> RTPPacketView {
        var reader = ByteReader(bytes)
        let first = try reader.readUInt8()
        let version = first >> 6
        guard version == RTPHeader.version else { throw .unsupportedVersion(version) }
        let hasPadding = first & 0x20 != 0
        let hasExtension = first & 0x10 != 0
        let csrcCount = Int(first & 0x0F)
        let second = try reader.readUInt8()
        let sequenceNumber = try reader.readUInt16()
        let timestamp = try reader.readUInt32()
        let ssrc = try reader.readUInt32()
        try reader.require(csrcCount * 4)
        var csrcs: [UInt32] = []
        csrcs.reserveCapacity(csrcCount)
        for _ in 0..<csrcCount { csrcs.append(try reader.readUInt32()) }

        var headerExtension: RTPHeaderExtension?
        if hasExtension {
            let profile = try reader.readUInt16()
            let words = Int(try reader.readUInt16())
            // RFC 3550 §5.3.1: the length counts 32-bit words after the 4-byte extension header.
            guard words * 4 <= reader.remaining else {
                throw .extensionOverrun(declaredBytes: words * 4, available: reader.remaining)
            }
            headerExtension = try RTPHeaderExtension.parse(profile: profile, data: try reader.readBytes(words * 4))
        }

        var payloadEnd = bytes.count
        var paddingLength = 0
        if hasPadding {
            // RFC 3550 §5.1: the last octet counts the padding octets, itself included.
            let available = bytes.count - reader.offset
            guard let count = bytes.last.map(Int.init), available > 0, count >= 1, count <= available else {
                throw .invalidPadding(count: bytes.last.map(Int.init) ?? 0, available: available)
            }
            paddingLength = count
            payloadEnd -= count
        }
        let header = RTPHeader(
            marker: second & 0x80 != 0, payloadType: second & 0x7F, sequenceNumber: sequenceNumber,
            timestamp: timestamp, ssrc: ssrc, csrcs: csrcs, headerExtension: headerExtension
        )
        return RTPPacketView(header: header, payloadRange: reader.offset..<payloadEnd, paddingLength: paddingLength)
    }
}

/// An RTP packet (RFC 3550 §5.1) as a value: header, payload bytes and padding.
@dynamicMemberLookup
public struct RTPPacket: Sendable, Hashable {
    public var header: RTPHeader
    public var payload: [UInt8]
    /// Number of padding bytes to append, count octet included (0–255); 0 leaves the P bit clear.
    public var paddingLength: Int

    public init(header: RTPHeader, payload: [UInt8], paddingLength: Int = 0) {
        self.header = header
        self.payload = payload
        self.paddingLength = paddingLength
    }

    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<RTPHeader, Value>) -> Value {
        get { header[keyPath: keyPath] }
        set { header[keyPath: keyPath] = newValue }
    }

    /// Parses an RTP packet, copying the payload out of `bytes`.
    public init(parsing bytes: [UInt8]) throws(RTPError) {
        let view = try RTPPacketView.parse(bytes)
        self.init(header: view.header, payload: Array(bytes[view.payloadRange]), paddingLength: view.paddingLength)
    }

    /// The packet's wire form. Throws when a field does not fit (payload type over 127, more than 15 CSRCs,
    /// padding over 255, an extension element that its form cannot carry).
    public func serialized() throws(RTPError) -> [UInt8] {
        guard header.payloadType <= 0x7F else { throw .fieldOutOfRange(field: "payloadType", value: Int(header.payloadType)) }
        guard header.csrcs.count <= 15 else { throw .fieldOutOfRange(field: "csrcCount", value: header.csrcs.count) }
        guard (0...255).contains(paddingLength) else { throw .fieldOutOfRange(field: "paddingLength", value: paddingLength) }
        let encodedExtension = try header.headerExtension?.encoded()

        var bytes: [UInt8] = []
        bytes.reserveCapacity(
            RTPHeader.fixedLength + 4 * header.csrcs.count + (encodedExtension.map { 4 + $0.data.count } ?? 0)
                + payload.count + paddingLength
        )
        var first = RTPHeader.version << 6 | UInt8(header.csrcs.count)
        if paddingLength > 0 { first |= 0x20 }
        if encodedExtension != nil { first |= 0x10 }
        bytes.append(first)
        bytes.append((header.marker ? 0x80 : 0) | header.payloadType)
        bytes.appendUInt16(header.sequenceNumber)
        bytes.appendUInt32(header.timestamp)
        bytes.appendUInt32(header.ssrc)
        for csrc in header.csrcs { bytes.appendUInt32(csrc) }
        if let encodedExtension {
            bytes.appendUInt16(encodedExtension.profile)
            bytes.appendUInt16(UInt16(encodedExtension.data.count / 4))
            bytes.append(contentsOf: encodedExtension.data)
        }
        bytes.append(contentsOf: payload)
        if paddingLength > 0 {
            bytes.append(contentsOf: repeatElement(0, count: paddingLength - 1))
            bytes.append(UInt8(paddingLength))
        }
        return bytes
    }
}
