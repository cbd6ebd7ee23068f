/// Everything that can go wrong while reading or answering a session description.
///
/// Parsing never traps on peer data: every rejection is one of these, naming the 1-based line of the input
/// (0 when the problem is not tied to one line, such as a missing `o=`) and saying what is wrong.
public struct SDPError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The class of problem, for callers that branch on it (a gateway maps most of them to SIP 488).
    public enum Kind: String, Hashable, Sendable {
        /// The input holds no SDP lines at all.
        case emptyInput
        /// A line is not `<type>=<value>` with a single-letter type (RFC 8866 §5).
        case malformedLine
        /// A type letter that RFC 8866 §5 does not define; the RFC requires rejecting the whole description.
        case unknownLineType
        /// A line appears where RFC 8866 §5 does not allow it (for example `o=` inside a media section,
        /// or anything before `v=`).
        case unexpectedLine
        /// A line that may appear at most once in its section appears twice.
        case duplicateLine
        /// A line that RFC 8866 §5 requires (`v=`, `o=`, `s=`, `t=`) is missing.
        case missingLine
        /// `v=` is not `0` (RFC 8866 §5.1).
        case unsupportedVersion
        /// The value of a known line type does not follow its grammar.
        case malformedValue
        /// The value of a known attribute does not follow the grammar of the RFC that defines it.
        case malformedAttribute
        /// A number is outside the range its field allows (ports above 65535, negative numbers, …).
        case valueOutOfRange
        /// An offer cannot be answered as asked (RFC 3264 §6), or a version cannot be bumped (RFC 3264 §8).
        case offerAnswer
    }

    public var kind: Kind
    /// 1-based input line, or 0 when the problem is not tied to one line.
    public var line: Int
    /// A human-readable explanation naming the field and the offending text.
    public var message: String

    public init(_ kind: Kind, line: Int, _ message: String) {
        self.kind = kind
        self.line = line
        self.message = message
    }

    public var description: String {
        line > 0 ? "SDP line \(line): \(message)" : "SDP: \(message)"
    }
}
