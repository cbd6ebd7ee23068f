import XMLStream
import XMPPCore

/// DTLS roles of RFC 4145 §4 `a=setup` (XEP-0320 §3 `setup`).
public enum DTLSSetup: String, Sendable, Hashable, CaseIterable {
    case active, passive, actpass, holdconn
}

/// `<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash setup>HEX</fingerprint>` inside a transport (XEP-0320 §3).
public struct DTLSFingerprint: Sendable, Hashable {
    /// Hash function name from the IANA registry (RFC 8122 §5), e.g. `sha-256`.
    public var hash: String
    public var setup: DTLSSetup
    /// Upper-case hex pairs separated by colons (RFC 8122 §5), surrounding whitespace removed.
    public var value: String
    public var extraAttributes: [XMLAttribute]
    var layout = SourceLayout()

    public static let section = "XEP-0320 §3"

    public init(hash: String, setup: DTLSSetup, value: String, extraAttributes: [XMLAttribute] = []) {
        self.hash = hash
        self.setup = setup
        self.value = value
        self.extraAttributes = extraAttributes
    }

    init(element: XMLElement) throws(JingleParseError) {
        var r = ElementReader(element, section: Self.section)
        hash = try r.required("hash")
        setup = try r.required("setup", as: DTLSSetup.self)
        value = element.text.trimmingXMLWhitespace
        guard Self.isHexPairs(value) else { throw r.error(.invalidText(value)) }
        extraAttributes = r.remainingAttributes
        layout = r.layout
    }

    func element() -> XMLElement {
        var e = XMLElement(name: "fingerprint", namespace: NS.jingleDTLS)
        e.set("hash", hash)
        e.set("setup", setup)
        e.append(text: value)
        e.finish(extraAttributes: extraAttributes, extensions: [], layout: layout)
        return e
    }

    /// RFC 8122 §5: fingerprint = 2HEXDIG *(":" 2HEXDIG)
    static func isHexPairs(_ text: String) -> Bool {
        var count = 0
        for (i, b) in text.utf8.enumerated() {
            let isHex = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
            if i % 3 == 2 { if b != 0x3A { return false } } else if !isHex { return false }
            count = i + 1
        }
        return count >= 2 && count % 3 == 2
    }

    /// The fingerprint as bytes, or nil if `value` is not hex pairs.
    public var bytes: [UInt8]? {
        var out: [UInt8] = []
        for pair in value.split(separator: ":") {
            guard let b = UInt8(pair, radix: 16) else { return nil }
            out.append(b)
        }
        return out
    }
}
