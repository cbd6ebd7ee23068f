import Foundation
import Testing
@testable import XMPPCore

/// RFC 7622 §3 rules and the examples of §3.5 (valid) and §3.6 (invalid).
struct JIDTests {
    struct Valid: Sendable, CustomStringConvertible {
        let input: String, local: String?, domain: String, resource: String?, canonical: String
        var description: String { input }
    }

    static let valid: [Valid] = [
        Valid(input: "juliet@example.com", local: "juliet", domain: "example.com", resource: nil, canonical: "juliet@example.com"),
        Valid(input: "juliet@example.com/foo", local: "juliet", domain: "example.com", resource: "foo", canonical: "juliet@example.com/foo"),
        Valid(input: "juliet@example.com/foo bar", local: "juliet", domain: "example.com", resource: "foo bar", canonical: "juliet@example.com/foo bar"),
        Valid(input: "juliet@example.com/foo@bar", local: "juliet", domain: "example.com", resource: "foo@bar", canonical: "juliet@example.com/foo@bar"),
        Valid(input: "foo\\20bar@example.com", local: "foo\\20bar", domain: "example.com", resource: nil, canonical: "foo\\20bar@example.com"),
        Valid(input: "fussball@example.com", local: "fussball", domain: "example.com", resource: nil, canonical: "fussball@example.com"),
        Valid(input: "fußball@example.com", local: "fußball", domain: "example.com", resource: nil, canonical: "fußball@example.com"),
        Valid(input: "π@example.com", local: "π", domain: "example.com", resource: nil, canonical: "π@example.com"),
        Valid(input: "Σ@example.com/foo", local: "σ", domain: "example.com", resource: "foo", canonical: "σ@example.com/foo"),
        Valid(input: "σ@example.com/foo", local: "σ", domain: "example.com", resource: "foo", canonical: "σ@example.com/foo"),
        Valid(input: "king@example.com/♚", local: "king", domain: "example.com", resource: "♚", canonical: "king@example.com/♚"),
        Valid(input: "example.com", local: nil, domain: "example.com", resource: nil, canonical: "example.com"),
        Valid(input: "example.com/foobar", local: nil, domain: "example.com", resource: "foobar", canonical: "example.com/foobar"),
        Valid(input: "a.example.com/b@example.net", local: nil, domain: "a.example.com", resource: "b@example.net", canonical: "a.example.com/b@example.net"),
        // Case: localpart and domainpart are case-insensitive, resourcepart is not.
        Valid(input: "Juliet@Example.COM/Balcony", local: "juliet", domain: "example.com", resource: "Balcony", canonical: "juliet@example.com/Balcony"),
        // §3.2: a trailing dot on the domainpart is removed.
        Valid(input: "romeo@example.com.", local: "romeo", domain: "example.com", resource: nil, canonical: "romeo@example.com"),
        Valid(input: "user@[::1]/r", local: "user", domain: "[::1]", resource: "r", canonical: "user@[::1]/r"),
        Valid(input: "user@127.0.0.1", local: "user", domain: "127.0.0.1", resource: nil, canonical: "user@127.0.0.1"),
        Valid(input: "jingle.localhost", local: nil, domain: "jingle.localhost", resource: nil, canonical: "jingle.localhost"),
    ]

    @Test(arguments: valid)
    func validJIDs(_ c: Valid) throws {
        let jid = try JID(c.input)
        #expect(jid.localpart == c.local)
        #expect(jid.domainpart == c.domain)
        #expect(jid.resourcepart == c.resource)
        #expect(jid.description == c.canonical)
        #expect(try JID(jid.description) == jid)
    }

    static let invalid: [(String, JIDError)] = [
        ("\"juliet\"@example.com", .forbiddenCharacter(part: "localpart", scalar: 0x22)),
        ("foo bar@example.com", .forbiddenCharacter(part: "localpart", scalar: 0x20)),
        ("@example.com/", .emptyLocalpart),
        ("juliet@", .emptyDomainpart),
        ("/foobar", .emptyDomainpart),
        ("juliet@example.com/", .emptyResourcepart),
        ("a:b@example.com", .forbiddenCharacter(part: "localpart", scalar: 0x3A)),
        ("a<b@example.com", .forbiddenCharacter(part: "localpart", scalar: 0x3C)),
        ("a'b@example.com", .forbiddenCharacter(part: "localpart", scalar: 0x27)),
        ("a&b@example.com", .forbiddenCharacter(part: "localpart", scalar: 0x26)),
        ("ex ample.com", .forbiddenCharacter(part: "domainpart", scalar: 0x20)),
        ("example..com", .invalidDomainLabel("")),
        ("juliet@example.com/a\u{7}b", .forbiddenCharacter(part: "resourcepart", scalar: 0x7)),
        ("ju\u{0}liet@example.com", .forbiddenCharacter(part: "localpart", scalar: 0x0)),
        ("[::1", .invalidDomainLabel("[::1")),
    ]

    @Test(arguments: zip(invalid.map(\.0), invalid.map(\.1)))
    func invalidJIDs(_ input: String, _ expected: JIDError) {
        #expect(throws: expected) { try JID(input) }
    }

    @Test func leadingSpaceInResourceIsAllowedByOpaqueString() throws {
        #expect(try JID("juliet@example.com/ foo").resourcepart == " foo")
    }

    @Test func lengthLimits() throws {
        let max = String(repeating: "a", count: 1023)
        #expect(try JID("\(max)@example.com").localpart?.utf8.count == 1023)
        #expect(throws: JIDError.localpartTooLong(octets: 1024)) { try JID("\(max)a@example.com") }
        #expect(try JID("a@example.com/\(max)").resourcepart?.utf8.count == 1023)
        #expect(throws: JIDError.resourcepartTooLong(octets: 1024)) { try JID("a@example.com/\(max)a") }
        // A domain of 1023 octets made of 63-octet labels.
        let labels = Array(repeating: String(repeating: "d", count: 63), count: 16).joined(separator: ".")
        let domain = String(labels.prefix(1023))
        #expect(try JID(domain).domainpart.utf8.count == 1023)
        #expect(throws: JIDError.domainpartTooLong(octets: 1024)) { try JID(domain + "e") }
        #expect(throws: JIDError.invalidDomainLabel(String(repeating: "x", count: 64))) { try JID(String(repeating: "x", count: 64) + ".com") }
        // Multi-byte characters count as octets, not characters: 512 × 'é' (2 octets each) = 1024 octets.
        #expect(throws: JIDError.resourcepartTooLong(octets: 1024)) { try JID("a@b/" + String(repeating: "é", count: 512)) }
    }

    @Test func bareAndFull() throws {
        let full = try JID("Romeo@Montague.lit/Orchard")
        #expect(full.bare.description == "romeo@montague.lit")
        #expect(full.bare.isBare && !full.isBare)
        #expect(try full.bare.with(resource: "Orchard") == full)
    }

    @Test func normalisationMakesEquivalentFormsEqual() throws {
        // "é" precomposed (U+00E9) and decomposed (e + U+0301) are the same JID (NFC).
        let a = try JID("caf\u{E9}@example.com/r\u{E9}")
        let b = try JID("cafe\u{301}@example.com/re\u{301}")
        #expect(a == b)
        #expect(a.description.utf8.count == b.description.utf8.count)
    }

    @Test func nfcMatchesFoundationOnCombiningSequences() throws {
        // The standard library's normaliser must agree with ICU's (Foundation) on what NFC is.
        let samples = ["e\u{301}", "A\u{30A}", "\u{1100}\u{1161}\u{11A8}", "o\u{308}\u{304}", "\u{212B}", "\u{FB01}", "ﾊﾟ", "a\u{323}\u{302}"]
        for sample in samples {
            let jid = try JID("x@example.com/\(sample)")
            #expect(jid.resourcepart == sample.precomposedStringWithCanonicalMapping, "NFC of \(sample.unicodeScalars.map { String($0.value, radix: 16) })")
        }
    }

    @Test func widthMappingFollowsPRECISNotICU() throws {
        // RFC 8265 §3.3.2 / RFC 8264 §9.1: fullwidth and halfwidth code points map to their <wide>/<narrow>
        // decompositions. Fullwidth ASCII becomes ASCII (then case-mapped)...
        let fullwidth = String(String.UnicodeScalarView((0xFF21...0xFF3A).compactMap(Unicode.Scalar.init)))
        #expect(try JID("\(fullwidth)@example.com").localpart == "abcdefghijklmnopqrstuvwxyz")
        for offset in UInt32(0)..<94 {
            let wide = Unicode.Scalar(0xFF01 + offset)!, narrow = Unicode.Scalar(0x21 + offset)!
            #expect(PRECISWidth.mapped(wide) == narrow)
        }
        // ...halfwidth katakana and hangul become the ordinary (wide) forms, and ordinary katakana stays as it is
        // (an ICU "Fullwidth-Halfwidth" transform would turn it into halfwidth forms instead).
        #expect(try JID("\u{FF71}\u{FF72}@example.com").localpart == "\u{30A2}\u{30A4}")
        #expect(try JID("\u{30A2}@example.com").localpart == "\u{30A2}")
        #expect(PRECISWidth.mapped("\u{FFA1}") == "\u{3131}")
        #expect(PRECISWidth.mapped("\u{FFE0}") == "\u{A2}")
        #expect(PRECISWidth.mapped("\u{FFEE}") == "\u{25CB}")
        #expect(PRECISWidth.mapped("\u{3000}") == " ")
        // Nothing outside U+3000 and the Halfwidth and Fullwidth Forms block is touched.
        for value in [0x41, 0xE9, 0x30A2, 0x3001, 0xFF00, 0xFFEF, 0x1F600] as [UInt32] {
            #expect(PRECISWidth.mapped(Unicode.Scalar(value)!) == nil)
        }
        // The table is sorted and disjoint (the binary search relies on it) and maps 226 code points.
        var previous: UInt32 = 0, count = 0
        for run in PRECISWidth.runs {
            #expect(run.first > previous && run.last >= run.first)
            previous = run.last
            count += Int(run.last - run.first) + 1
        }
        #expect(count == 226)
    }

    @Test func codableAsString() throws {
        let jid = try JID("alice@localhost/sj")
        #expect(jid.description == "alice@localhost/sj")
    }
}
