import Foundation
import Testing
@testable import SDP

/// Reads a fixture from the test bundle.
func fixture(_ name: String) throws -> String {
    let url = try #require(Bundle.module.url(forResource: name, withExtension: "sdp", subdirectory: "Fixtures"),
                           "fixture \(name).sdp missing from the bundle")
    return try String(contentsOf: url, encoding: .utf8)
}

/// Every fixture, by name without extension.
let allFixtures = [
    "browser-offer", "sip-phone-offer", "sdes-offer", "datachannel-sctpmap-offer", "directions-answer",
    "all-line-types", "ice-lite-reoffer", "aiortc-offer", "baresip-offer", "baresip-ice-dtls-offer", "sloppy-lf",
]

/// Fixtures written exactly as the serializer writes them (CRLF, no stray spaces): their text must survive.
let canonicalFixtures = allFixtures.filter { $0 != "sloppy-lf" }

/// `text` with CRLF turned into LF.
func lf(_ text: String) -> String {
    String(decoding: Array(text.utf8).filter { $0 != 0x0D }, as: UTF8.self)
}

/// The first attribute of a section matching a case.
func first<T>(_ attributes: [SDPAttribute], _ extract: (SDPAttribute) -> T?) -> T? {
    attributes.lazy.compactMap(extract).first
}
