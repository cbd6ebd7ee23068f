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
        var e = XMLElement("fingerprint", namespace: NS.jingleDTLS, attributeCapacity: 2 + extraAttributes.count, childCapacity: 1)
        e.set("hash", hash)
        e.set("setup", setup)
        if !value.isEmpty { e.children.append(.text(value)) }
        e.finish(extraAttributes: extraAttributes, extensions: [], layout: layout)
        return e
    }

    /// RFC 8122 §5: fingerprint = 2HEXDIG *(":" 2HEXDIG)
    static func isHexPairs(_ text: String) -> Bool {
        hexPairsLength(text).map { $0 >= 2 } ?? false
    }

    /// The length of `text` if it is `2HEXDIG *(":" 2HEXDIG)` or empty, else nil. On the contiguous bytes: the
    /// fingerprint is the longest value of a transport (95 bytes for SHA-256), checked on every parse and map.
    package static func hexPairsLength(_ text: String) -> Int? {
        // 0-9, or A-F / a-f (setting 0x20 folds the upper-case letters; no other byte folds into a-f).
        @inline(__always) func isHex(_ byte: UInt8) -> Bool {
            (byte &- 0x30) < 10 || ((byte | 0x20) &- 0x61) < 6
        }
        // A valid text is 3k+2 bytes: a pair of digits, then a colon and a pair, repeated; checked pair by pair.
        func check(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
            let count = bytes.count
            if count == 0 { return 0 }
            guard count % 3 == 2 else { return nil }
            var index = 0
            while true {
                // index ≡ 0 (mod 3) and below count, so index + 1 is too (count ≡ 2).
                guard isHex(bytes[index]), isHex(bytes[index + 1]) else { return nil }
                index += 2
                if index == count { return count }
                guard bytes[index] == 0x3A else { return nil }
                index += 1
            }
        }
        return text.utf8.withContiguousStorageIfAvailable(check) ?? Array(text.utf8).withUnsafeBufferPointer(check)
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
