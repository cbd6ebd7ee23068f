import Jingle
import SDP
import XMPPCore

/// Maps session descriptions (RFC 8866) to Jingle payloads (XEP-0166/0167/0176/0177/0293/0294/0320/0338/0339/0343)
/// and back, losslessly for everything both can express.
///
/// The mapping is pure: no I/O, no clock, no randomness (generated ids are hashes of the data they name).
/// Every SDP is read or written *as its author wrote it*: directions (`a=sendonly`, `a=extmap:1/recvonly`) are
/// seen from the author's side, so the author's Jingle role decides the `senders` value (XEP-0167 §"Mapping to
/// SDP"; draft-ietf-stox-media §5). `senders='initiator'` is `a=sendonly` in the initiator's offer and
/// `a=recvonly` in the responder's answer.
///
/// ```
/// let mapper = JingleSDPMapper()
/// let offer = try SessionDescription(parsing: text)
/// let jingle = try mapper.jingle(from: offer, context: .init(author: .initiator, action: .sessionInitiate))
/// let back = try mapper.sdp(from: jingle, author: .initiator)
/// ```
///
/// What one side cannot carry is dropped on purpose: ``droppedLines(in:)`` lists it for a description.
public struct JingleSDPMapper: Sendable {
    /// Choices a gateway may need; the defaults keep everything as it came.
    public struct Options: Hashable, Sendable {
        /// How ICE foundations are written into SDP.
        public enum FoundationStyle: Hashable, Sendable {
            /// As they came (Jingle foundations are strings; RFC 8839 allows 1–32 `ice-char`s).
            case verbatim
            /// Foundations that are not all digits become a stable decimal hash of themselves, for SIP peers
            /// that only accept numbers. Equal foundations stay equal, different ones (almost surely) differ,
            /// which is all RFC 8445 §5.1.1.3 asks of them.
            case numeric
        }

        public var foundations: FoundationStyle
        /// `o=` version written into SDP; a caller re-offering passes a higher one (RFC 3264 §8).
        public var sessionVersion: UInt64
        /// `o=` username and address written into SDP.
        public var originUsername: String
        public var originAddress: String
        /// Writes `a=ice-options:trickle` when ICE is used: Jingle ICE-UDP always trickles (XEP-0176 §2,
        /// RFC 8840 §4.1.1).
        public var announceTrickle: Bool

        public init(foundations: FoundationStyle = .verbatim, sessionVersion: UInt64 = 0, originUsername: String = "-",
                    originAddress: String = "127.0.0.1", announceTrickle: Bool = true) {
            self.foundations = foundations
            self.sessionVersion = sessionVersion
            self.originUsername = originUsername
            self.originAddress = originAddress
            self.announceTrickle = announceTrickle
        }
    }

    /// What the SDP does not say but the Jingle payload needs.
    public struct Context: Hashable, Sendable {
        /// Who wrote the SDP: decides `senders` and checks `a=setup` in answers.
        public var author: JingleRole
        public var action: JingleWireAction
        /// Session id; nil takes the `o=` session id.
        public var sid: String?
        public var initiator: JID?
        public var responder: JID?
        /// `creator` of every content; nil means the author for `content-add`, the other party for
        /// `content-accept`, else the initiator (XEP-0166 §7.1: contents of session-initiate are created by the
        /// initiator, and keep that creator in the session-accept and in transport-info).
        public var creator: JingleRole?

        public init(author: JingleRole, action: JingleWireAction, sid: String? = nil, initiator: JID? = nil,
                    responder: JID? = nil, creator: JingleRole? = nil) {
            self.author = author
            self.action = action
            self.sid = sid
            self.initiator = initiator
            self.responder = responder
            self.creator = creator
        }
    }

    public var options: Options

    public init(options: Options = Options()) {
        self.options = options
    }

    /// The role that normally writes the SDP of an action: the responder for accepts, else the initiator.
    public static func defaultAuthor(for action: JingleWireAction) -> JingleRole {
        switch action {
        case .sessionAccept, .contentAccept, .transportAccept: .responder
        default: .initiator
        }
    }
}

/// Which parts of a content an action carries (XEP-0166 §7.2).
enum ActionShape {
    /// Description, transport and senders (session-initiate, session-accept, content-add, content-accept).
    case full
    /// Transport only (transport-info, transport-accept, transport-replace, transport-reject; XEP-0176 §6).
    case transport
    /// Description only (description-info, XEP-0167 §6).
    case description
    /// Senders only (content-modify, XEP-0166 §7.2.4).
    case senders
    /// Creator and name only (content-remove, content-reject).
    case reference

    init(_ action: JingleWireAction) throws(JingleSDPError) {
        switch action {
        case .sessionInitiate, .sessionAccept, .contentAdd, .contentAccept: self = .full
        case .transportInfo, .transportAccept, .transportReplace, .transportReject: self = .transport
        case .descriptionInfo: self = .description
        case .contentModify: self = .senders
        case .contentRemove, .contentReject: self = .reference
        case .sessionInfo, .sessionTerminate, .securityInfo:
            throw JingleSDPError(.unsupportedAction, "'\(action.rawValue)' carries no session description (draft-ietf-stox-media maps it to a SIP message, not SDP)")
        }
    }

    var hasDescription: Bool { self == .full || self == .description }
    var hasTransport: Bool { self == .full || self == .transport }
    var hasSenders: Bool { self == .full || self == .senders || self == .description }
}

extension JingleSenders {
    /// The `senders` value for a direction attribute written by `author` (RFC 3264 §5.1 directions are the
    /// author's; XEP-0166 §7.3 senders are absolute).
    public init(sdpDirection direction: SDPDirection, author: JingleRole) {
        switch direction {
        case .sendrecv: self = .both
        case .inactive: self = .none
        case .sendonly: self = author == .initiator ? .initiator : .responder
        case .recvonly: self = author == .initiator ? .responder : .initiator
        }
    }

    /// The direction attribute `author` writes for this `senders` value.
    public func sdpDirection(author: JingleRole) -> SDPDirection {
        SDPDirection(sends: includes(author), receives: includes(author.other))
    }
}

/// FNV-1a (32 bit): a stable, platform-independent hash for generated ids and numeric foundations.
func fnv1a(_ text: String) -> UInt32 {
    var hash: UInt32 = 0x811C_9DC5
    for byte in text.utf8 {
        hash ^= UInt32(byte)
        hash = hash &* 0x0100_0193
    }
    return hash
}

func hexID(_ text: String) -> String { hexID(fnv1a(text)) }

/// The hash as eight lower-case hex digits.
func hexID(_ hash: UInt32) -> String {
    String(unsafeUninitializedCapacity: 8) { buffer in
        for index in 0..<8 {
            let nibble = UInt8(truncatingIfNeeded: hash >> UInt32(28 - 4 * index)) & 0xF
            buffer[index] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble
        }
        return 8
    }
}

/// FNV-1a fed piece by piece: the same value as `fnv1a` of the concatenated text, without building it.
struct FNV1a {
    private(set) var value: UInt32 = 0x811C_9DC5

    mutating func add(byte: UInt8) {
        value ^= UInt32(byte)
        value = value &* 0x0100_0193
    }

    mutating func add(_ text: String) {
        var text = text
        var hash = value
        text.withUTF8 { bytes in
            for byte in bytes {
                hash ^= UInt32(byte)
                hash = hash &* 0x0100_0193
            }
        }
        value = hash
    }

    /// The decimal digits of `number`, as string interpolation writes them.
    mutating func add(decimal number: UInt64) {
        var digits: (UInt64, Int) = (1, 1)
        while number / digits.0 >= 10 { digits.0 *= 10; digits.1 += 1 }
        var rest = number
        while digits.1 > 0 {
            add(byte: UInt8(truncatingIfNeeded: rest / digits.0) &+ 0x30)
            rest %= digits.0
            digits.0 /= 10
            digits.1 -= 1
        }
    }
}
