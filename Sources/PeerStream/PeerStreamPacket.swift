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
    /// A path MTU probe (RFC 8899 §4.1): a PING padded with `padding` zero bytes to the size being probed.
    case probe(packetNumber: UInt64, padding: Int)

    /// Wire version spoken by this implementation (the high nibble of the first byte).
    public static let version: UInt8 = 2
    /// Largest header: version/type(1) + connection id and packet number as 8-byte varints. Usual: 1 + 1 + 4.
    public static let headerSize = 17
    /// Largest DATA header: header + offset as an 8-byte varint (the payload length is implicit).
    public static let dataHeaderSize = 25
    /// Largest ACK without its additional ranges: header + largest(8) + ack delay(8) + max data(8) +
    /// range count(2) + first range length(8).
    public static let ackFixedSize = 51
    /// Largest additional ACK range: gap(8) + range length(8).
    public static let ackRangeSize = 16
    /// Most ranges one ACK may carry on the wire.
    public static let maxAckRanges = 64
    /// Packet numbers and stream offsets stay below 2^62 (as in QUIC, RFC 9000 §12.3 and §19.8): the largest
    /// value a varint can carry is 2^62 − 1.
    public static let maxValue: UInt64 = 1 << 62

    public var packetNumber: UInt64 {
        switch self {
        case .data(let pn, _, _), .ack(let pn, _), .fin(let pn, _), .reset(let pn, _, _), .ping(let pn), .probe(let pn, _): pn
        }
    }

    /// The first byte of a path MTU probe (version 2, type PROBE), for drivers that send probes apart.
    public static let probeFirstByte: UInt8 = PacketType.probe.firstByte

    /// Bytes a QUIC variable-length integer takes for `value` (RFC 9000 §16): 1, 2, 4 or 8.
    @inline(__always)
    public static func varintLength(_ value: UInt64) -> Int {
        value < 64 ? 1 : value < 16_384 ? 2 : value < 1 << 30 ? 4 : 8
    }

    /// Header bytes of a packet with this connection id and packet number.
    @inline(__always)
    static func headerLength(connectionID: UInt32, packetNumber: UInt64) -> Int {
        1 + varintLength(UInt64(connectionID)) + varintLength(packetNumber)
    }

    /// The header's length (version/type byte, connection id, packet number) and the packet number, without
    /// validating anything else; nil when the datagram ends inside the header. For packet protection below
    /// PeerStream that authenticates the header and encrypts the rest, with the packet number in the nonce.
    public static func header(of datagram: UnsafeRawBufferPointer) -> (length: Int, packetNumber: UInt64)? {
        var reader = ByteReader(datagram)
        do {
            _ = try reader.u8()
            _ = try reader.varint()
            let pn = try reader.varint()
            return (reader.position, pn)
        } catch {
            return nil
        }
    }

    /// Decodes and validates one datagram; DATA packets larger than `maxDatagramSize` are rejected.
    public static func parse(_ datagram: [UInt8], connectionID: UInt32,
                             maxDatagramSize: Int = PeerStreamConfiguration.defaultMaxDatagramSize) throws(PeerStreamError) -> PeerStreamPacket {
        let result = datagram.withUnsafeBytes { raw in Result { () throws(PeerStreamError) -> PeerStreamPacket in
            let view = try PacketView.parse(raw, connectionID: connectionID, maxDatagramSize: maxDatagramSize)
            switch view {
            case .data(let pn, let offset, let payload):
                return .data(packetNumber: pn, offset: offset, payload: Array(raw[payload]))
            case .ack(let pn, let ack): return .ack(packetNumber: pn, ack)
            case .fin(let pn, let final): return .fin(packetNumber: pn, finalOffset: final)
            case .reset(let pn, let code, let reason): return .reset(packetNumber: pn, code: code, reason: reason)
            case .ping(let pn): return .ping(packetNumber: pn)
            case .probe(let pn, let padding): return .probe(packetNumber: pn, padding: padding)
            }
        } }
        return try result.get()
    }

    /// Encodes the packet as given, without validating it (so tests can build invalid packets too). Values
    /// of 2^62 and above cannot be expressed as varints: they are written as their low 62 bits. ACK ranges
    /// are encoded as gaps and lengths with wrapping arithmetic, so ranges that are not descending and
    /// disjoint come out as gaps or lengths that the parser finds to run below zero.
    public func serialized(connectionID: UInt32) -> [UInt8] {
        var writer = ByteWriter()
        switch self {
        case .data(let pn, let offset, let payload):
            writer.header(.data, connectionID, pn)
            writer.varint(offset)
            writer.bytes.append(contentsOf: payload)
        case .ack(let pn, let ack):
            writer.header(.ack, connectionID, pn)
            writer.varint(ack.largestAcknowledged)
            writer.varint(UInt64(ack.ackDelayMicroseconds))
            writer.varint(ack.maxData)
            writer.varint(UInt64(ack.ranges.count))
            var previousSmallest: UInt64?
            for (index, range) in ack.ranges.enumerated() {
                if index == 0 {
                    writer.varint(ack.largestAcknowledged &- range.lowerBound)
                } else if let smallest = previousSmallest {
                    writer.varint(smallest &- range.upperBound &- 2)
                    writer.varint(range.upperBound &- range.lowerBound)
                }
                previousSmallest = range.lowerBound
            }
        case .fin(let pn, let final):
            writer.header(.fin, connectionID, pn)
            writer.varint(final)
        case .reset(let pn, let code, let reason):
            writer.header(.reset, connectionID, pn)
            writer.u16(code)
            writer.bytes.append(contentsOf: Array(reason.utf8))
        case .ping(let pn):
            writer.header(.ping, connectionID, pn)
        case .probe(let pn, let padding):
            writer.header(.probe, connectionID, pn)
            writer.bytes.append(contentsOf: repeatElement(0, count: max(0, padding)))
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

/// The low nibble of the first byte; the high nibble is the version.
enum PacketType: UInt8 {
    case data = 0x01
    case ack = 0x02
    case fin = 0x03
    case reset = 0x04
    case ping = 0x05
    case probe = 0x06

    var firstByte: UInt8 { PeerStreamPacket.version << 4 | rawValue }
}

/// A parsed datagram; DATA keeps its payload as a range of the datagram so nothing is copied until the bytes
/// reach the receive buffer.
enum PacketView {
    case data(packetNumber: UInt64, offset: UInt64, payload: Range<Int>)
    case ack(packetNumber: UInt64, PeerStreamAck)
    case fin(packetNumber: UInt64, finalOffset: UInt64)
    case reset(packetNumber: UInt64, code: UInt16, reason: String)
    case ping(packetNumber: UInt64)
    case probe(packetNumber: UInt64, padding: Int)

    /// Validates every field against the datagram's length and the protocol's bounds.
    static func parse(_ raw: UnsafeRawBufferPointer, connectionID: UInt32, maxDatagramSize: Int) throws(PeerStreamError) -> PacketView {
        var reader = ByteReader(raw)
        let first = try reader.u8()
        guard first >> 4 == PeerStreamPacket.version else { throw .unsupportedVersion(first >> 4) }
        guard let type = PacketType(rawValue: first & 0x0F) else { throw .unknownPacketType(first) }
        let cid = try reader.varint()
        guard cid == UInt64(connectionID) else {
            throw .connectionIDMismatch(expected: connectionID, received: UInt32(truncatingIfNeeded: cid))
        }
        let pn = try reader.varint()
        guard pn < PeerStreamPacket.maxValue else { throw .packetNumberOutOfRange(pn) }
        let view: PacketView
        switch type {
        case .data:
            let offset = try reader.varint()
            // DATA is the only frame of its packet: its payload is the rest of the datagram.
            let length = reader.remaining
            guard length <= maxDatagramSize - reader.position else { throw .payloadTooLarge(length) }
            guard offset < PeerStreamPacket.maxValue, offset + UInt64(length) <= PeerStreamPacket.maxValue else {
                throw .offsetOutOfRange(offset)
            }
            let start = reader.position
            try reader.skip(length)
            view = .data(packetNumber: pn, offset: offset, payload: start..<(start + length))
        case .ack:
            let largest = try reader.varint()
            let delay = try reader.varint()
            let maxData = try reader.varint()
            guard largest < PeerStreamPacket.maxValue else { throw .packetNumberOutOfRange(largest) }
            guard maxData <= PeerStreamPacket.maxValue else { throw .offsetOutOfRange(maxData) }
            let countValue = try reader.varint()
            guard countValue >= 1, countValue <= UInt64(PeerStreamPacket.maxAckRanges) else {
                throw .invalidAckRangeCount(Int(clamping: countValue))
            }
            let count = Int(countValue)
            // Each range takes at least one byte (the first) or two (gap and length): check the bound once so
            // a lying count cannot make us reserve memory for ranges that are not there.
            try reader.require(1 + 2 * (count - 1))
            var ranges: [ClosedRange<UInt64>] = []
            ranges.reserveCapacity(count)
            // RFC 9000 §19.3.1: the first range runs down from largest; each further one starts `gap + 2` below
            // the previous smallest. Running below zero is invalid, so ranges are descending, disjoint and
            // non-adjacent by construction.
            let firstLength = try reader.varint()
            guard firstLength <= largest else { throw .invalidAckRanges }
            var smallest = largest - firstLength
            ranges.append(smallest...largest)
            for _ in 1..<count {
                let gap = try reader.varint()
                let length = try reader.varint()
                guard smallest >= 2, gap <= smallest - 2 else { throw .invalidAckRanges }
                let high = smallest - 2 - gap
                guard length <= high else { throw .invalidAckRanges }
                smallest = high - length
                ranges.append(smallest...high)
            }
            view = .ack(packetNumber: pn, PeerStreamAck(
                largestAcknowledged: largest, ackDelayMicroseconds: UInt32(clamping: delay), maxData: maxData, ranges: ranges))
        case .fin:
            let final = try reader.varint()
            guard final <= PeerStreamPacket.maxValue else { throw .offsetOutOfRange(final) }
            view = .fin(packetNumber: pn, finalOffset: final)
        case .reset:
            let code = try reader.u16()
            // The reason is the rest of the datagram.
            let start = reader.position
            let length = reader.remaining
            try reader.skip(length)
            guard let reason = String(validating: raw[start..<(start + length)], as: UTF8.self) else {
                throw .invalidReasonText
            }
            view = .reset(packetNumber: pn, code: code, reason: reason)
        case .ping:
            view = .ping(packetNumber: pn)
        case .probe:
            // The padding only gives the probe its size; its content is ignored (RFC 8899 §4.1).
            let padding = reader.remaining
            guard raw.count <= maxDatagramSize else { throw .payloadTooLarge(padding) }
            try reader.skip(padding)
            view = .probe(packetNumber: pn, padding: padding)
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

    /// RFC 9000 §16: the two high bits of the first byte give the length (1, 2, 4 or 8 bytes), the rest is
    /// the value, big-endian; at most 2^62 − 1.
    mutating func varint() throws(PeerStreamError) -> UInt64 {
        try require(1)
        let first = raw[position]
        switch first >> 6 {
        case 0:
            position += 1
            return UInt64(first)
        case 1:
            try require(2)
            defer { position += 2 }
            return UInt64(UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt16.self)) & 0x3FFF)
        case 2:
            try require(4)
            defer { position += 4 }
            return UInt64(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt32.self)) & 0x3FFF_FFFF)
        default:
            try require(8)
            defer { position += 8 }
            return UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt64.self)) & 0x3FFF_FFFF_FFFF_FFFF
        }
    }
}

/// Growable writer for the public, allocating encoder.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }

    /// Values of 2^62 and above keep their low 62 bits (see `PeerStreamPacket.serialized`).
    mutating func varint(_ value: UInt64) {
        let value = value & 0x3FFF_FFFF_FFFF_FFFF
        switch PeerStreamPacket.varintLength(value) {
        case 1: u8(UInt8(value))
        case 2: u16(UInt16(value) | 0x4000)
        case 4: withUnsafeBytes(of: (UInt32(value) | 0x8000_0000).bigEndian) { bytes.append(contentsOf: $0) }
        default: withUnsafeBytes(of: (value | 0xC000_0000_0000_0000).bigEndian) { bytes.append(contentsOf: $0) }
        }
    }

    mutating func header(_ type: PacketType, _ connectionID: UInt32, _ packetNumber: UInt64) {
        u8(type.firstByte)
        varint(UInt64(connectionID))
        varint(packetNumber)
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

    /// Our own values are always below 2^62 (packet numbers and offsets are bounded before they get here).
    @inline(__always)
    mutating func varint(_ value: UInt64) {
        precondition(value < PeerStreamPacket.maxValue, "varint above 2^62 - 1")
        switch PeerStreamPacket.varintLength(value) {
        case 1:
            u8(UInt8(value))
        case 2:
            u16(UInt16(value) | 0x4000)
        case 4:
            buffer.storeBytes(of: (UInt32(value) | 0x8000_0000).bigEndian, toByteOffset: position, as: UInt32.self)
            position += 4
        default:
            buffer.storeBytes(of: (value | 0xC000_0000_0000_0000).bigEndian, toByteOffset: position, as: UInt64.self)
            position += 8
        }
    }

    mutating func header(_ type: PacketType, _ connectionID: UInt32, _ packetNumber: UInt64) {
        u8(type.firstByte)
        varint(UInt64(connectionID))
        varint(packetNumber)
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
