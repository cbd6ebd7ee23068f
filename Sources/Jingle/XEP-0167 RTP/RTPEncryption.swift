import XMLStream
import XMPPCore

/// `<encryption/>` with SDES `<crypto/>` lines (XEP-0167 §7, RFC 4568).
public struct RTPEncryption: Sendable, Hashable {
    /// `required='1'|'true'`: the sender refuses unencrypted media (XEP-0167 §7).
    public var required: String?
    public var cryptos: [RTPCrypto]
    /// Other keying methods (e.g. ZRTP hash), kept verbatim.
    public var extensions: [XMLElement]
    /// Attributes no codec here understands, written back unchanged.
    public var extraAttributes: [XMLAttribute] = []
    var layout = SourceLayout()

    public static let section = "XEP-0167 §7"

    public init(required: Bool? = nil, cryptos: [RTPCrypto] = [], extensions: [XMLElement] = []) {
        self.required = required.map { $0 ? "1" : "0" }
        self.cryptos = cryptos
        self.extensions = extensions
    }

    public var isRequired: Bool { required == "1" || required == "true" }

    init(element: XMLElement) throws(JingleParseError) {
        var r = ElementReader(element, section: Self.section)
        required = r.optional("required")
        if let required, !["0", "1", "true", "false"].contains(required) {
            throw r.error(.invalidAttribute("required", value: required))
        }
        var c: [RTPCrypto] = []
        for e in r.children("crypto", namespace: NS.jingleRTP) { c.append(try RTPCrypto(element: e)) }
        cryptos = c
        extensions = r.remainingChildren
        extraAttributes = r.remainingAttributes
        layout = r.layout
    }

    func element() -> XMLElement {
        var e = XMLElement(name: "encryption", namespace: NS.jingleRTP)
        e.set("required", required)
        e.add(cryptos) { $0.element() }
        e.finish(extraAttributes: extraAttributes, extensions: extensions, layout: layout)
        return e
    }
}

/// `<crypto crypto-suite key-params session-params tag/>` (XEP-0167 §7, RFC 4568 §9.1).
public struct RTPCrypto: Sendable, Hashable {
    public var cryptoSuite: String
    public var keyParams: String
    public var sessionParams: String?
    public var tag: String
    /// Attributes no codec here understands, written back unchanged.
    public var extraAttributes: [XMLAttribute] = []
    var layout = SourceLayout()

    public init(cryptoSuite: String, keyParams: String, sessionParams: String? = nil, tag: String) {
        self.cryptoSuite = cryptoSuite
        self.keyParams = keyParams
        self.sessionParams = sessionParams
        self.tag = tag
    }

    init(element: XMLElement) throws(JingleParseError) {
        var r = ElementReader(element, section: RTPEncryption.section)
        cryptoSuite = try r.required("crypto-suite")
        keyParams = try r.required("key-params")
        sessionParams = r.optional("session-params")
        tag = try r.required("tag")
        extraAttributes = r.remainingAttributes
        layout = r.layout
    }

    func element() -> XMLElement {
        var e = XMLElement(name: "crypto", namespace: NS.jingleRTP)
        e.set("crypto-suite", cryptoSuite)
        e.set("key-params", keyParams)
        e.set("session-params", sessionParams)
        e.set("tag", tag)
        e.finish(extraAttributes: extraAttributes, extensions: [], layout: layout)
        return e
    }
}
