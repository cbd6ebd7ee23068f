#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hashes
import XMLStream
import XMPPCore

/// A disco#info result (XEP-0030 §3.1): identities and features (extended forms are not modelled).
public struct DiscoInfo: Sendable, Hashable {
    public struct Identity: Sendable, Hashable {
        public var category: String
        public var type: String
        public var name: String?
        public var lang: String?

        public init(category: String, type: String, name: String? = nil, lang: String? = nil) {
            self.category = category
            self.type = type
            self.name = name
            self.lang = lang
        }
    }

    public var identities: [Identity]
    public var features: Set<String>

    public init(identities: [Identity], features: Set<String>) {
        self.identities = identities
        self.features = features
    }

    /// Reads a `<query xmlns='http://jabber.org/protocol/disco#info'/>`.
    public init(query: XMLElement) {
        identities = query.children("identity", namespace: NS.discoInfo).compactMap { e in
            guard let category = e[attribute: "category"], let type = e[attribute: "type"] else { return nil }
            return Identity(category: category, type: type, name: e[attribute: "name"],
                            lang: e.attribute("lang", namespace: xmlNamespaceURI))
        }
        features = Set(query.children("feature", namespace: NS.discoInfo).compactMap { $0[attribute: "var"] })
    }

    /// The `<query/>` element, features sorted so the output is stable.
    public func queryElement(node: String? = nil) -> XMLElement {
        var query = XMLElement("query", namespace: NS.discoInfo, ["node": node])
        for identity in identities {
            var e = XMLElement("identity", namespace: NS.discoInfo,
                               ["category": identity.category, "type": identity.type, "name": identity.name])
            if let lang = identity.lang { e.setAttribute("lang", namespace: xmlNamespaceURI, value: lang) }
            query.append(e)
        }
        for feature in features.sorted() {
            query.append(XMLElement("feature", namespace: NS.discoInfo, ["var": feature]))
        }
        return query
    }

    /// The XEP-0115 §5.1 verification string (SHA-1, no extended forms): identities sorted by
    /// category/type/lang/name, each `category/type/lang/name<`, then features sorted, each `feature<`,
    /// hashed and base64-encoded. Sorting is by octets (§5.1 "i;octet" collation).
    public var capsVerificationString: String {
        let identityStrings = identities.map { "\($0.category)/\($0.type)/\($0.lang ?? "")/\($0.name ?? "")" }
        var input = ""
        for s in identityStrings.sorted(by: octetLess) { input += s + "<" }
        for f in features.sorted(by: octetLess) { input += f + "<" }
        return Data(Digest.hash(.sha1, Array(input.utf8))).base64EncodedString()
    }
}

private func octetLess(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}
