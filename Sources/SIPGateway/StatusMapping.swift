import Jingle

/// draft-ietf-stox-media / RFC 7259-style mapping between Jingle reasons and SIP final responses.
public enum GatewayStatusMapping {
    /// The SIP final response for a Jingle session that ended before it was accepted.
    public static func sipStatus(for reason: JingleReason.Condition?) -> Int {
        switch reason {
        case .busy: 486
        case .decline: 603
        case .cancel: 487
        case .unsupportedApplications, .unsupportedTransports, .incompatibleParameters, .failedApplication: 488
        case .securityError: 488
        case .generalError, .mediaError, .failedTransport: 500
        case .gone, .timeout, .expired, .connectivityError, .alternativeSession, .success, nil: 480
        }
    }

    /// The Jingle reason for a failed INVITE.
    public static func jingleReason(forSIPStatus status: Int) -> JingleReason.Condition {
        switch status {
        case 486, 600: .busy
        case 603: .decline
        case 487: .cancel
        case 408: .timeout
        case 404, 410, 480, 604: .gone
        case 488, 606: .incompatibleParameters
        case 415: .unsupportedApplications
        default: .generalError
        }
    }
}
