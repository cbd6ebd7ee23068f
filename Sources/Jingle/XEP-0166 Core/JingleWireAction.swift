/// The value of the `action` attribute (XEP-0166 §7.2): the fifteen actions of the protocol.
public enum JingleWireAction: String, Sendable, Hashable, CaseIterable {
    case contentAccept = "content-accept"
    case contentAdd = "content-add"
    case contentModify = "content-modify"
    case contentReject = "content-reject"
    case contentRemove = "content-remove"
    case descriptionInfo = "description-info"
    case securityInfo = "security-info"
    case sessionAccept = "session-accept"
    case sessionInfo = "session-info"
    case sessionInitiate = "session-initiate"
    case sessionTerminate = "session-terminate"
    case transportAccept = "transport-accept"
    case transportInfo = "transport-info"
    case transportReject = "transport-reject"
    case transportReplace = "transport-replace"
}

/// A party of the session (XEP-0166 §7.3 `creator`).
public enum JingleRole: String, Sendable, Hashable, CaseIterable {
    case initiator, responder

    public var other: JingleRole { self == .initiator ? .responder : .initiator }
}

/// Which parties generate content (XEP-0166 §7.3 `senders`); absent means `both`.
public enum JingleSenders: String, Sendable, Hashable, CaseIterable {
    case both, initiator, none, responder

    /// Whether `role` sends media or data under this value.
    public func includes(_ role: JingleRole) -> Bool {
        switch self {
        case .both: true
        case .none: false
        case .initiator: role == .initiator
        case .responder: role == .responder
        }
    }
}
