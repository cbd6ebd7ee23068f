import XMLStream
import XMPPCore

/// The informational messages of XEP-0167 §5 (`urn:xmpp:jingle:apps:rtp:info:1`), sent in `session-info`.
public enum RTPSessionInfo: JingleInfoPayload, Hashable {
    case active
    case hold
    case unhold
    case mute(creator: JingleRole, name: String?)
    case unmute(creator: JingleRole, name: String?)
    case ringing

    public static let namespace = NS.jingleRTPInfo
    public static let section = "XEP-0167 §5"

    public init(element: XMLElement) throws(JingleParseError) {
        guard element.namespace == NS.jingleRTPInfo else {
            throw JingleParseError(.unexpectedElement(name: element.name, namespace: element.namespace), element: element.name, section: Self.section)
        }
        var r = ElementReader(element, section: Self.section)
        switch element.name {
        case "active": self = .active
        case "hold": self = .hold
        case "unhold": self = .unhold
        case "ringing": self = .ringing
        case "mute": self = .mute(creator: try r.required("creator", as: JingleRole.self), name: r.optional("name"))
        case "unmute": self = .unmute(creator: try r.required("creator", as: JingleRole.self), name: r.optional("name"))
        default:
            // XEP-0166 §7.2.9: an unknown payload is answered with unsupported-info by the session.
            throw JingleParseError(.unexpectedElement(name: element.name, namespace: element.namespace), element: element.name, section: Self.section)
        }
    }

    public func element() -> XMLElement {
        switch self {
        case .active: XMLElement(name: "active", namespace: NS.jingleRTPInfo)
        case .hold: XMLElement(name: "hold", namespace: NS.jingleRTPInfo)
        case .unhold: XMLElement(name: "unhold", namespace: NS.jingleRTPInfo)
        case .ringing: XMLElement(name: "ringing", namespace: NS.jingleRTPInfo)
        case .mute(let creator, let name): XMLElement("mute", namespace: NS.jingleRTPInfo, ["creator": creator.rawValue, "name": name])
        case .unmute(let creator, let name): XMLElement("unmute", namespace: NS.jingleRTPInfo, ["creator": creator.rawValue, "name": name])
        }
    }
}
