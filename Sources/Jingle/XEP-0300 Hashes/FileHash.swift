#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import XMLStream
import XMPPCore

/// `<hash xmlns='urn:xmpp:hashes:2' algo>BASE64</hash>` (XEP-0300 §3).
public struct FileHash: Sendable, Hashable {
    /// Algorithm name from XEP-0300 §4 / IANA Hash Function Textual Names (`sha-256`, `sha3-256`, `blake2b-256`, …).
    public var algo: String
    /// The digest, base64 (RFC 4648 §4) as on the wire.
    public var value: String
    public var extraAttributes: [XMLAttribute] = []

    public static let section = "XEP-0300 §3"

    public init(algo: String, value: String) {
        self.algo = algo
        self.value = value
    }

    public init(algo: String, digest: [UInt8]) {
        self.algo = algo
        self.value = Data(digest).base64EncodedString()
    }

    public init(element: XMLElement) throws(JingleParseError) {
        var r = try ElementReader(element, name: "hash", namespace: NS.hashes, section: Self.section)
        algo = try r.required("algo")
        value = element.text.trimmingXMLWhitespace
        guard Data(base64Encoded: value) != nil, !value.isEmpty else { throw r.error(.invalidText(value)) }
        extraAttributes = r.remainingAttributes
    }

    public func element() -> XMLElement {
        var e = XMLElement("hash", namespace: NS.hashes, ["algo": algo], text: value)
        e.attributes += extraAttributes
        return e
    }

    /// The decoded digest.
    public var digest: [UInt8] { Data(base64Encoded: value).map(Array.init) ?? [] }
}

/// `<hash-used xmlns='urn:xmpp:hashes:2' algo/>` (XEP-0300 §3: the algorithm that will be used, value to follow).
public struct HashUsed: Sendable, Hashable {
    public var algo: String
    public var extraAttributes: [XMLAttribute] = []

    public init(algo: String) { self.algo = algo }

    public init(element: XMLElement) throws(JingleParseError) {
        var r = try ElementReader(element, name: "hash-used", namespace: NS.hashes, section: FileHash.section)
        algo = try r.required("algo")
        extraAttributes = r.remainingAttributes
    }

    public func element() -> XMLElement {
        var e = XMLElement("hash-used", namespace: NS.hashes, ["algo": algo])
        e.attributes += extraAttributes
        return e
    }
}
