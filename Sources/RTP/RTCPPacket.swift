/// One packet of an RTCP compound packet (RFC 3550 §6.1, §6.4–§6.6).
///
/// Padding is checked and removed while parsing and never added when serializing (SRTCP adds none either);
/// a compound packet that carried padding therefore round-trips to the same packets, not the same bytes.
public enum RTCPPacket: Sendable, Hashable {
    case senderReport(RTCPSenderReport)
    case receiverReport(RTCPReceiverReport)
    case sourceDescription(RTCPSourceDescription)
    case goodbye(RTCPGoodbye)
    /// APP (204), RTPFB (205), PSFB (206), XR (207) or any other type, kept opaque.
    case other(RTCPRawPacket)

    public enum PacketType {
        public static let senderReport: UInt8 = 200
        public static let receiverReport: UInt8 = 201
        public static let sourceDescription: UInt8 = 202
        public static let goodbye: UInt8 = 203
        public static let application: UInt8 = 204
        /// RFC 4585 §6.1 transport-layer feedback.
        public static let transportFeedback: UInt8 = 205
        /// RFC 4585 §6.1 payload-specific feedback.
        public static let payloadSpecificFeedback: UInt8 = 206
    }

    public var packetType: UInt8 {
        switch self {
        case .senderReport: PacketType.senderReport
        case .receiverReport: PacketType.receiverReport
        case .sourceDescription: PacketType.sourceDescription
        case .goodbye: PacketType.goodbye
        case .other(let raw): raw.packetType
        }
    }

    static let headerLength = 4

    // MARK: Parsing

    /// Parses a compound RTCP packet: one or more packets back to back, each length-checked, with padding
    /// allowed only on the last (RFC 3550 §6.1, §6.4.1, Appendix A.2).
    ///
    /// The rule that a compound packet starts with SR or RR is not enforced, so that reduced-size RTCP
    /// (RFC 5506) and lone feedback packets parse too.
    public static func parseCompound(_ bytes: [UInt8]) throws(RTPError) -> [RTCPPacket] {
        guard !bytes.isEmpty else { throw .truncated(needed: headerLength, available: 0) }
        var packets: [RTCPPacket] = []
        var offset = 0
        while offset < bytes.count {
            var header = ByteReader(bytes, from: offset)
            let first = try header.readUInt8()
            let version = first >> 6
            guard version == 2 else { throw .unsupportedVersion(version) }
            let hasPadding = first & 0x20 != 0
            let count = first & 0x1F
            let packetType = try header.readUInt8()
            let length = (Int(try header.readUInt16()) + 1) * 4
            guard offset + length <= bytes.count else {
                throw .truncated(needed: offset + length, available: bytes.count)
            }
            var bodyEnd = offset + length
            if hasPadding {
                guard offset + length == bytes.count else { throw .paddingNotOnLastPacket }
                let padding = Int(bytes[bodyEnd - 1])
                guard padding >= 1, padding <= length - headerLength else {
                    throw .invalidPadding(count: padding, available: length - headerLength)
                }
                bodyEnd -= padding
            }
            let body = ByteReader(bytes, from: offset + headerLength, to: bodyEnd)
            packets.append(try parseBody(packetType: packetType, count: count, body: body))
            offset += length
        }
        return packets
    }

    private static func parseBody(packetType: UInt8, count: UInt8, body: ByteReader) throws(RTPError) -> RTCPPacket {
        var reader = body
        switch packetType {
        case PacketType.senderReport:
            try requireBody(reader, 24 + Int(count) * RTCPReportBlock.length, packetType, "sender info and \(count) report blocks")
            let ssrc = try reader.readUInt32()
            let ntp = try reader.readUInt64()
            let rtp = try reader.readUInt32()
            let packets = try reader.readUInt32()
            let octets = try reader.readUInt32()
            let blocks = try parseBlocks(count: count, reader: &reader)
            return .senderReport(RTCPSenderReport(
                ssrc: ssrc, ntpTimestamp: ntp, rtpTimestamp: rtp, packetCount: packets, octetCount: octets,
                reportBlocks: blocks, profileExtension: try reader.readBytes(reader.remaining)
            ))
        case PacketType.receiverReport:
            try requireBody(reader, 4 + Int(count) * RTCPReportBlock.length, packetType, "SSRC and \(count) report blocks")
            let ssrc = try reader.readUInt32()
            let blocks = try parseBlocks(count: count, reader: &reader)
            return .receiverReport(RTCPReceiverReport(
                ssrc: ssrc, reportBlocks: blocks, profileExtension: try reader.readBytes(reader.remaining)
            ))
        case PacketType.sourceDescription:
            return .sourceDescription(try parseSourceDescription(count: count, reader: &reader))
        case PacketType.goodbye:
            try requireBody(reader, 4 * Int(count), packetType, "\(count) SSRCs")
            var ssrcs: [UInt32] = []
            for _ in 0..<count { ssrcs.append(try reader.readUInt32()) }
            var reason: [UInt8]?
            if reader.remaining > 0 {
                // RFC 3550 §6.6: an optional length-prefixed reason, then null padding to a 32-bit boundary.
                let length = Int(try reader.readUInt8())
                guard length <= reader.remaining else {
                    throw .invalidLength(packetType: packetType, reason: "reason of \(length) bytes overruns the packet")
                }
                reason = try reader.readBytes(length)
            }
            return .goodbye(RTCPGoodbye(ssrcs: ssrcs, reason: reason))
        default:
            return .other(RTCPRawPacket(packetType: packetType, countOrFormat: count, body: try reader.readBytes(reader.remaining)))
        }
    }

    private static func requireBody(_ reader: ByteReader, _ bytes: Int, _ packetType: UInt8, _ what: String) throws(RTPError) {
        guard reader.remaining >= bytes else {
            throw .invalidLength(packetType: packetType, reason: "\(reader.remaining) bytes cannot hold \(what)")
        }
    }

    private static func parseBlocks(count: UInt8, reader: inout ByteReader) throws(RTPError) -> [RTCPReportBlock] {
        var blocks: [RTCPReportBlock] = []
        blocks.reserveCapacity(Int(count))
        for _ in 0..<count { blocks.append(try RTCPReportBlock.parse(&reader)) }
        return blocks
    }

    /// RFC 3550 §6.5: each chunk is an SSRC and items, ended by a null octet and null-padded to 32 bits.
    private static func parseSourceDescription(count: UInt8, reader: inout ByteReader) throws(RTPError) -> RTCPSourceDescription {
        let type = PacketType.sourceDescription
        let bodyStart = reader.offset
        var chunks: [RTCPSourceDescription.Chunk] = []
        for _ in 0..<count {
            guard reader.remaining >= 4 else {
                throw .invalidLength(packetType: type, reason: "fewer chunks than the source count \(count)")
            }
            let ssrc = try reader.readUInt32()
            var items: [RTCPSDESItem] = []
            while true {
                guard reader.remaining > 0 else {
                    throw .invalidLength(packetType: type, reason: "chunk for SSRC \(ssrc) has no terminating null octet")
                }
                let itemType = try reader.readUInt8()
                if itemType == 0 { break }
                guard reader.remaining > 0 else {
                    throw .invalidLength(packetType: type, reason: "item type \(itemType) has no length octet")
                }
                let length = Int(try reader.readUInt8())
                guard length <= reader.remaining else {
                    throw .invalidLength(packetType: type, reason: "item type \(itemType) of \(length) bytes overruns the packet")
                }
                items.append(RTCPSDESItem(type: RTCPSDESItemType(rawValue: itemType), value: try reader.readBytes(length)))
            }
            let misalignment = (reader.offset - bodyStart) % 4
            if misalignment != 0 {
                let padding = 4 - misalignment
                guard padding <= reader.remaining else {
                    throw .invalidLength(packetType: type, reason: "chunk for SSRC \(ssrc) is not padded to 32 bits")
                }
                try reader.skip(padding)
            }
            chunks.append(RTCPSourceDescription.Chunk(ssrc: ssrc, items: items))
        }
        guard reader.remaining == 0 else {
            throw .invalidLength(packetType: type, reason: "\(reader.remaining) bytes after \(count) chunks")
        }
        return RTCPSourceDescription(chunks: chunks)
    }

    // MARK: Serializing

    /// Serializes packets back to back into one compound packet (RFC 3550 §6.1).
    public static func serializeCompound(_ packets: [RTCPPacket]) throws(RTPError) -> [UInt8] {
        var bytes: [UInt8] = []
        for packet in packets { try packet.append(to: &bytes) }
        return bytes
    }

    /// This packet's wire form.
    public func serialized() throws(RTPError) -> [UInt8] {
        var bytes: [UInt8] = []
        try append(to: &bytes)
        return bytes
    }

    private func append(to bytes: inout [UInt8]) throws(RTPError) {
        let start = bytes.count
        let count: Int
        // Common header with a placeholder length, fixed up once the body is written (RFC 3550 §6.4.1).
        bytes.append(0)
        bytes.append(packetType)
        bytes.appendUInt16(0)
        switch self {
        case .senderReport(let report):
            count = report.reportBlocks.count
            try Self.checkWords(report.profileExtension, "profileExtension")
            bytes.appendUInt32(report.ssrc)
            bytes.appendUInt64(report.ntpTimestamp)
            bytes.appendUInt32(report.rtpTimestamp)
            bytes.appendUInt32(report.packetCount)
            bytes.appendUInt32(report.octetCount)
            for block in report.reportBlocks { try block.append(to: &bytes) }
            bytes.append(contentsOf: report.profileExtension)
        case .receiverReport(let report):
            count = report.reportBlocks.count
            try Self.checkWords(report.profileExtension, "profileExtension")
            bytes.appendUInt32(report.ssrc)
            for block in report.reportBlocks { try block.append(to: &bytes) }
            bytes.append(contentsOf: report.profileExtension)
        case .sourceDescription(let description):
            count = description.chunks.count
            for chunk in description.chunks {
                let chunkStart = bytes.count
                bytes.appendUInt32(chunk.ssrc)
                for item in chunk.items {
                    guard item.type.rawValue != 0 else { throw .fieldOutOfRange(field: "SDES item type", value: 0) }
                    guard item.value.count <= 255 else { throw .fieldOutOfRange(field: "SDES item length", value: item.value.count) }
                    bytes.append(item.type.rawValue)
                    bytes.append(UInt8(item.value.count))
                    bytes.append(contentsOf: item.value)
                }
                // End of item list, then null octets up to the next 32-bit boundary (RFC 3550 §6.5).
                bytes.append(0)
                while (bytes.count - chunkStart) % 4 != 0 { bytes.append(0) }
            }
        case .goodbye(let goodbye):
            count = goodbye.ssrcs.count
            for ssrc in goodbye.ssrcs { bytes.appendUInt32(ssrc) }
            if let reason = goodbye.reason {
                guard reason.count <= 255 else { throw .fieldOutOfRange(field: "BYE reason length", value: reason.count) }
                bytes.append(UInt8(reason.count))
                bytes.append(contentsOf: reason)
                while (bytes.count - start) % 4 != 0 { bytes.append(0) }
            }
        case .other(let raw):
            count = Int(raw.countOrFormat)
            try Self.checkWords(raw.body, "body")
            bytes.append(contentsOf: raw.body)
        }
        guard count <= 0x1F else { throw .fieldOutOfRange(field: "RTCP count", value: count) }
        let words = (bytes.count - start) / 4 - 1
        guard words <= Int(UInt16.max) else { throw .fieldOutOfRange(field: "RTCP length", value: words) }
        bytes[start] = 2 << 6 | UInt8(count)
        bytes.setUInt16(UInt16(words), at: start + 2)
    }

    private static func checkWords(_ data: [UInt8], _ field: String) throws(RTPError) {
        guard data.count % 4 == 0 else { throw .fieldOutOfRange(field: field, value: data.count) }
    }
}
