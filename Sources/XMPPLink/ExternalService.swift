#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import XMLStream
import XMPPCore

/// One STUN/TURN service from XEP-0215 §3, with the short-lived credentials the server issued.
public struct ExternalService: Sendable, Hashable {
    public var type: String
    public var host: String
    public var port: Int?
    public var transport: String?
    public var username: String?
    public var password: String?
    /// XEP-0215 §3: when the credentials stop working (DateTime profile of XEP-0082).
    public var expires: String?
    public var restricted: Bool
    public var name: String?

    public init(type: String, host: String, port: Int? = nil, transport: String? = nil, username: String? = nil,
                password: String? = nil, expires: String? = nil, restricted: Bool = false, name: String? = nil) {
        self.type = type
        self.host = host
        self.port = port
        self.transport = transport
        self.username = username
        self.password = password
        self.expires = expires
        self.restricted = restricted
        self.name = name
    }

    /// Reads every `<service/>` of a `<services xmlns='urn:xmpp:extdisco:2'/>` (or `:1`) element. Entries
    /// without the required `type` and `host` (XEP-0215 §4) are dropped.
    public static func parse(services: XMLElement) -> [ExternalService] {
        services.children("service").compactMap { e in
            guard let type = e[attribute: "type"], let host = e[attribute: "host"] else { return nil }
            let restricted = e[attribute: "restricted"].map { $0 == "true" || $0 == "1" } ?? false
            return ExternalService(type: type, host: host, port: e[attribute: "port"].flatMap { Int($0) },
                                   transport: e[attribute: "transport"], username: e[attribute: "username"],
                                   password: e[attribute: "password"], expires: e[attribute: "expires"],
                                   restricted: restricted, name: e[attribute: "name"])
        }
    }
}
