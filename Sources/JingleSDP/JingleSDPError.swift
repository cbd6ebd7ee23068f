/// Why a session description and a Jingle payload cannot be mapped onto each other.
///
/// Every rejection names the m-line or content at fault and the rule broken, so a gateway can log it and answer
/// the peer (SIP 488, or a Jingle `session-terminate` with `failed-application`/`incompatible-parameters`).
public struct JingleSDPError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// The action has no SDP counterpart (`session-info`, `session-terminate`, `security-info`).
        case unsupportedAction
        /// An m-line whose profile is neither RTP nor SCTP (`udptl`, `TCP/MSRP`, …): no Jingle application
        /// format in this mapping carries it.
        case unsupportedMedia
        /// A value is present but outside what the other side can carry (a payload type above 127, a short ICE
        /// password, a non-numeric SDES tag, …).
        case invalidValue
        /// Something the target format requires is absent (a clock rate for a dynamic payload type, an address
        /// for raw UDP, …).
        case missingValue
        /// Two m-lines with the same `a=mid`, or two contents with the same name (XEP-0166 §7.1, RFC 5888 §4).
        case duplicateName
        /// An answer keeps `a=setup:actpass` instead of choosing `active` or `passive` (RFC 5763 §5).
        case invalidSetupRole
    }

    public var kind: Kind
    /// A one-line explanation naming the m-line or content and the offending value.
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "Jingle/SDP mapping: \(message)" }
}
