import Foundation
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
        value = element.text.trimmingCharacters(in: .whitespacesAndNewlines)
        // RFC 8122 §5: fingerprint = 2HEXDIG *(":" 2HEXDIG)
        let pairs = value.split(separator: ":", omittingEmptySubsequences: false)
        guard !pairs.isEmpty, pairs.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isHexDigit) }) else {
            throw r.error(.invalidText(value))
        }
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
