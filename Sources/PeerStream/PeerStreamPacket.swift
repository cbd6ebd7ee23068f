/// One PeerStream packet, decoded. The wire format is documented on `PeerStreamConnection`.
///
/// The connection itself parses into a non-allocating view (`PacketView`); this public form is for tools and
/// tests that build or inspect datagrams. Both go through the same parser, so the validation is the same.
public enum PeerStreamPacket: Hashable, Sendable {
    case data(packetNumber: UInt64, offset: UInt64, payload: [UInt8])
    case ack(packetNumber: UInt64, PeerStreamAck)
    case fin(packetNumber: UInt64, finalOffset: UInt64)
    case reset(packetNumber: UInt64, code: UInt16, reason: String)
    case ping(packetNumber: UInt64)

    /// Wire version spoken by this implementation.
    public static let version: UInt8 = 1
    /// version(1) type(1) connection id(4) packet number(8).
    public static let headerSize = 14
    /// Header + offset(8) + payload length(2).
    public static let dataHeaderSize = 24
    /// Header + largest(8) + ack delay(4) + max data(8) + range count(1).
    public static let ackFixedSize = 35
    /// Each ACK range: largest(8) + smallest(8).
    public static let ackRangeSize = 16
    /// Most ranges one ACK may carry on the wire.
    public static let maxAckRanges = 64
    /// Packet numbers and stream offsets stay below 2^62 (as in QUIC, RFC 9000 §12.3 and §19.8).
    public static let maxValue: UInt64 = 1 << 62

    public var packetNumber: UInt64 {
        switch self {
        case .data(let pn, _, _), .ack(let pn, _), .fin(let pn, _), .reset(let pn, _, _), .ping(let pn): pn
        }
    }

    /// Decodes and validates one datagram; DATA payloads above `maxDatagramSize - dataHeaderSize` are rejected.
    public static func parse(_ datagram: [UInt8], connectionID: UInt32,
                             maxDatagramSize: Int = PeerStreamConfiguration.defaultMaxDatagramSize) throws(PeerStreamError) -> PeerStreamPacket {
        let maxPayload = maxDatagramSize - dataHeaderSize
        let result = datagram.withUnsafeBytes { raw in Result { () throws(PeerStreamError) -> PeerStreamPacket in
            let view = try PacketView.parse(raw, connectionID: connectionID, maxPayload: maxPayload)
            switch view {
            case .data(let pn, let offset, let payload):
                return .data(packetNumber: pn, offset: offset, payload: Array(raw[payload]))
            case .ack(let pn, let ack): return .ack(packetNumber: pn, ack)
            case .fin(let pn, let final): return .fin(packetNumber: pn, finalOffset: final)
            case .reset(let pn, let code, let reason): return .reset(packetNumber: pn, code: code, reason: reason)
            case .ping(let pn): return .ping(packetNumber: pn)
            }
        } }
        return try result.get()
    }

    /// Encodes the packet as given, without validating it (so tests can build invalid packets too).
    public func serialized(connectionID: UInt32) -> [UInt8] {
        var writer = ByteWriter()
        switch self {
        case .data(let pn, let offset, let payload):
            writer.header(.data, connectionID, pn)
            writer.u64(offset)
            writer.u16(UInt16(truncatingIfNeeded: payload.count))
            writer.bytes.append(contentsOf: payload)
        case .ack(let pn, let ack):
            writer.header(.ack, connectionID, pn)
            writer.u64(ack.largestAcknowledged)
            writer.u32(ack.ackDelayMicroseconds)
            writer.u64(ack.maxData)
            writer.u8(UInt8(truncatingIfNeeded: ack.ranges.count))
            for range in ack.ranges {
                writer.u64(range.upperBound)
                writer.u64(range.lowerBound)
            }
        case .fin(let pn, let final):
            writer.header(.fin, connectionID, pn)
            writer.u64(final)
        case .reset(let pn, let code, let reason):
            writer.header(.reset, connectionID, pn)
            writer.u16(code)
            let utf8 = Array(reason.utf8)
            writer.u16(UInt16(truncatingIfNeeded: utf8.count))
            writer.bytes.append(contentsOf: utf8)
        case .ping(let pn):
            writer.header(.ping, connectionID, pn)
        }
        return writer.bytes
    }
}

/// The body of an ACK packet.
public struct PeerStreamAck: Hashable, Sendable {
    /// Largest packet number received (equals the upper end of the first range).
    public var largestAcknowledged: UInt64
    /// Time between receiving `largestAcknowledged` and sending this ACK, in microseconds (RFC 9002 §5.3).
    public var ackDelayMicroseconds: UInt32
    /// Flow-control limit: the stream offset the receiver lets the sender send up to (exclusive).
    public var maxData: UInt64
    /// Received packet numbers, descending, disjoint and non-adjacent.
    public var ranges: [ClosedRange<UInt64>]

    public init(largestAcknowledged: UInt64, ackDelayMicroseconds: UInt32, maxData: UInt64, ranges: [ClosedRange<UInt64>]) {
        self.largestAcknowledged = largestAcknowledged
        self.ackDelayMicroseconds = ackDelayMicroseconds
        self.maxData = maxData
        self.ranges = ranges
    }
}

enum PacketType: UInt8 {
    case data = 0x01
    case ack = 0x02
    case fin = 0x03
    case reset = 0x04
    case ping = 0x05
}

/// A parsed datagram; DATA keeps its payload as a range of the datagram so nothing is copied until the bytes
/// reach the receive buffer.
enum PacketView {
    case data(packetNumber: UInt64, offset: UInt64, payload: Range<Int>)
    case ack(packetNumber: UInt64, PeerStreamAck)
    case fin(packetNumber: UInt64, finalOffset: UInt64)
    case reset(packetNumber: UInt64, code: UInt16, reason: String)
    case ping(packetNumber: UInt64)

    /// Validates every field against the datagram's length and the protocol's bounds.
    static func parse(_ raw: UnsafeRawBufferPointer, connectionID: UInt32, maxPayload: Int) throws(PeerStreamError) -> PacketView {
        var reader = ByteReader(raw)
        let version = try reader.u8()
        guard version == PeerStreamPacket.version else { throw .unsupportedVersion(version) }
        let typeByte = try reader.u8()
        guard let type = PacketType(rawValue: typeByte) else { throw .unknownPacketType(typeByte) }
        let cid = try reader.u32()
        guard cid == connectionID else { throw .connectionIDMismatch(expected: connectionID, received: cid) }
        let pn = try reader.u64()
        guard pn < PeerStreamPacket.maxValue else { throw .packetNumberOutOfRange(pn) }
        let view: PacketView
        switch type {
        case .data:
            let offset = try reader.u64()
            let length = Int(try reader.u16())
            guard length <= maxPayload else { throw .payloadTooLarge(length) }
            guard offset < PeerStreamPacket.maxValue, offset + UInt64(length) <= PeerStreamPacket.maxValue else {
                throw .offsetOutOfRange(offset)
            }
            let start = reader.position
            try reader.skip(length)
            view = .data(packetNumber: pn, offset: offset, payload: start..<(start + length))
        case .ack:
            let largest = try reader.u64()
            let delay = try reader.u32()
            let maxData = try reader.u64()
            guard largest < PeerStreamPacket.maxValue else { throw .packetNumberOutOfRange(largest) }
            guard maxData <= PeerStreamPacket.maxValue else { throw .offsetOutOfRange(maxData) }
            let count = Int(try reader.u8())
            guard count >= 1, count <= PeerStreamPacket.maxAckRanges else { throw .invalidAckRangeCount(count) }
            try reader.require(count * PeerStreamPacket.ackRangeSize)
            var ranges: [ClosedRange<UInt64>] = []
            ranges.reserveCapacity(count)
            var floor: UInt64 = 0  // the previous range's smallest; the next range must end below floor - 1
            for index in 0..<count {
                let high = try reader.u64()
                let low = try reader.u64()
                guard low <= high else { throw .invalidAckRanges }
                if index == 0 {
                    guard high == largest else { throw .invalidAckRanges }
                } else {
                    guard floor >= 2, high <= floor - 2 else { throw .invalidAckRanges }
                }
                floor = low
                ranges.append(low...high)
            }
            view = .ack(packetNumber: pn, PeerStreamAck(
                largestAcknowledged: largest, ackDelayMicroseconds: delay, maxData: maxData, ranges: ranges))
        case .fin:
            let final = try reader.u64()
            guard final <= PeerStreamPacket.maxValue else { throw .offsetOutOfRange(final) }
            view = .fin(packetNumber: pn, finalOffset: final)
        case .reset:
            let code = try reader.u16()
            let length = Int(try reader.u16())
            let start = reader.position
            try reader.skip(length)
            guard let reason = String(validating: raw[start..<(start + length)], as: UTF8.self) else {
                throw .invalidReasonText
            }
            view = .reset(packetNumber: pn, code: code, reason: reason)
        case .ping:
            view = .ping(packetNumber: pn)
        }
        guard reader.remaining == 0 else { throw .trailingBytes(reader.remaining) }
        return view
    }
}

/// Bounds-checked big-endian reads; every read names how much it needed so errors say what was cut off.
struct ByteReader {
    let raw: UnsafeRawBufferPointer
    private(set) var position = 0

    init(_ raw: UnsafeRawBufferPointer) {
        self.raw = raw
    }

    var remaining: Int { raw.count - position }

    func require(_ count: Int) throws(PeerStreamError) {
        guard count <= remaining else { throw .truncated(needed: position + count, available: raw.count) }
    }

    mutating func skip(_ count: Int) throws(PeerStreamError) {
        try require(count)
        position += count
    }

    mutating func u8() throws(PeerStreamError) -> UInt8 {
        try require(1)
        defer { position += 1 }
        return raw[position]
    }

    mutating func u16() throws(PeerStreamError) -> UInt16 {
        try require(2)
        defer { position += 2 }
        return UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt16.self))
    }

    mutating func u32() throws(PeerStreamError) -> UInt32 {
        try require(4)
        defer { position += 4 }
        return UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    mutating func u64() throws(PeerStreamError) -> UInt64 {
        try require(8)
        defer { position += 8 }
        return UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }
}

/// Growable writer for the public, allocating encoder.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }

    mutating func header(_ type: PacketType, _ connectionID: UInt32, _ packetNumber: UInt64) {
        u8(PeerStreamPacket.version)
        u8(type.rawValue)
        u32(connectionID)
        u64(packetNumber)
    }
}

/// Writes fields straight into the caller's datagram buffer (the connection's hot path).
struct BufferWriter {
    let buffer: UnsafeMutableRawBufferPointer
    private(set) var position = 0

    init(_ buffer: UnsafeMutableRawBufferPointer) {
        self.buffer = buffer
    }

    mutating func u8(_ value: UInt8) {
        buffer.storeBytes(of: value, toByteOffset: position, as: UInt8.self)
        position += 1
    }

    mutating func u16(_ value: UInt16) {
        buffer.storeBytes(of: value.bigEndian, toByteOffset: position, as: UInt16.self)
        position += 2
    }

    mutating func u32(_ value: UInt32) {
        buffer.storeBytes(of: value.bigEndian, toByteOffset: position, as: UInt32.self)
        position += 4
    }

    mutating func u64(_ value: UInt64) {
        buffer.storeBytes(of: value.bigEndian, toByteOffset: position, as: UInt64.self)
        position += 8
    }

    mutating func header(_ type: PacketType, _ connectionID: UInt32, _ packetNumber: UInt64) {
        u8(PeerStreamPacket.version)
        u8(type.rawValue)
        u32(connectionID)
        u64(packetNumber)
    }

    /// Reserves `count` bytes for the caller to fill and returns where they start.
    mutating func reserve(_ count: Int) -> UnsafeMutableRawBufferPointer {
        defer { position += count }
        return UnsafeMutableRawBufferPointer(rebasing: buffer[position..<(position + count)])
    }

    mutating func append(_ bytes: some Collection<UInt8>) {
        for byte in bytes { u8(byte) }
    }
}
