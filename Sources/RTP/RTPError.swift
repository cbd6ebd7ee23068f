/// Why an RTP or RTCP packet (or one of its parts) could not be parsed or serialized.
///
/// Parsing never traps on peer data: every bound is checked and reported here.
public enum RTPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The buffer ended before the structure did: `needed` bytes from the start were required, `available` were there.
    case truncated(needed: Int, available: Int)
    /// The version field was not 2 (RFC 3550 §5.1, §6.4.1).
    case unsupportedVersion(UInt8)
    /// The P bit was set but the last octet's padding count was 0 or larger than what follows the header
    /// (RFC 3550 §5.1, §6.4.1).
    case invalidPadding(count: Int, available: Int)
    /// The header extension's declared length runs past the packet (RFC 3550 §5.3.1).
    case extensionOverrun(declaredBytes: Int, available: Int)
    /// An RFC 8285 header extension element was malformed (its length runs past the extension block, or an
    /// element we were asked to serialize cannot be represented in the chosen form).
    case invalidHeaderExtension(String)
    /// An RTCP length field disagrees with the bytes present or with the packet type's own layout
    /// (RFC 3550 §6.4, Appendix A.2).
    case invalidLength(packetType: UInt8, reason: String)
    /// RTCP padding on a packet that is not the last of a compound packet (RFC 3550 §6.4.1, Appendix A.2).
    case paddingNotOnLastPacket
    /// A value does not fit its wire field (serializing our own values).
    case fieldOutOfRange(field: String, value: Int)
    /// Valid input that this implementation does not handle.
    case unsupported(String)

    public var description: String {
        switch self {
        case .truncated(let needed, let available): "truncated: needed \(needed) bytes, have \(available)"
        case .unsupportedVersion(let version): "unsupported RTP version \(version)"
        case .invalidPadding(let count, let available): "invalid padding count \(count) (\(available) bytes available)"
        case .extensionOverrun(let declared, let available): "header extension of \(declared) bytes overruns the packet (\(available) available)"
        case .invalidHeaderExtension(let reason): "invalid header extension: \(reason)"
        case .invalidLength(let type, let reason): "invalid length in RTCP packet type \(type): \(reason)"
        case .paddingNotOnLastPacket: "RTCP padding on a packet that is not the last of the compound packet"
        case .fieldOutOfRange(let field, let value): "\(field) value \(value) does not fit its field"
        case .unsupported(let what): "unsupported: \(what)"
        }
    }
}
