import Testing
import XMPPCore

/// RFC 7622 §3.2–§3.4: each part holds 1 to 1023 octets of UTF-8; a domain label holds 1 to 63 (RFC 5890).
@Suite struct HostileJIDTests {
    static let max = JID.maxPartOctets

    /// A domainpart of exactly `octets` octets: 63-octet labels joined by dots, the last one shorter.
    static func domain(octets: Int) -> String {
        var lengths: [Int] = []
        var total = -1
        while total < octets {
            let take = min(63, octets - total - 1)
            lengths.append(take)
            total += take + 1
        }
        // An empty last label would be a trailing dot, which RFC 7622 §3.2 strips: borrow an octet instead.
        if lengths.count > 1, lengths[lengths.count - 1] == 0 {
            lengths[lengths.count - 2] -= 1
            lengths[lengths.count - 1] = 1
        }
        return lengths.map { String(repeating: "d", count: $0) }.joined(separator: ".")
    }

    @Test func domainHelperBuildsExactLengths() {
        #expect(Self.domain(octets: 1023).utf8.count == 1023)
        #expect(Self.domain(octets: 1024).utf8.count == 1024)
    }

    @Test func localpartAtAndOverTheLimit() throws {
        let atLimit = try JID(String(repeating: "l", count: Self.max) + "@example.com")
        #expect(atLimit.localpart?.utf8.count == Self.max)
        #expect(throws: JIDError.localpartTooLong(octets: 1024)) { try JID(String(repeating: "l", count: 1024) + "@example.com") }
        // Octets, not characters: 512 two-octet letters are 1024 octets.
        #expect(throws: JIDError.localpartTooLong(octets: 1024)) { try JID(String(repeating: "é", count: 512) + "@example.com") }
        #expect(try JID(String(repeating: "é", count: 511) + "l@example.com").localpart?.utf8.count == 1023)
    }

    @Test func domainpartAtAndOverTheLimit() throws {
        let atLimit = try JID("u@" + Self.domain(octets: Self.max))
        #expect(atLimit.domainpart.utf8.count == Self.max)
        #expect(throws: JIDError.domainpartTooLong(octets: 1024)) { try JID("u@" + Self.domain(octets: 1024)) }
        // The trailing dot is stripped before the length check (RFC 7622 §3.2).
        #expect(try JID(Self.domain(octets: Self.max) + ".").domainpart.utf8.count == Self.max)
    }

    @Test func domainLabelAtAndOverSixtyThree() throws {
        let label63 = String(repeating: "x", count: 63)
        #expect(try JID("u@\(label63).example").domainpart == "\(label63).example")
        let label64 = String(repeating: "x", count: 64)
        #expect(throws: JIDError.invalidDomainLabel(label64)) { try JID("u@\(label64).example") }
        #expect(throws: JIDError.invalidDomainLabel("")) { try JID("u@a..example") }
    }

    @Test func resourcepartAtAndOverTheLimit() throws {
        let atLimit = try JID("u@example.com/" + String(repeating: "r", count: Self.max))
        #expect(atLimit.resourcepart?.utf8.count == Self.max)
        #expect(throws: JIDError.resourcepartTooLong(octets: 1024)) { try JID("u@example.com/" + String(repeating: "r", count: 1024)) }
        // A '/' inside the resource is part of it and counts.
        #expect(throws: JIDError.resourcepartTooLong(octets: 1024)) { try JID("u@example.com/" + String(repeating: "/", count: 1024)) }
    }

    @Test func allPartsAtTheLimitAtOnce() throws {
        let text = String(repeating: "l", count: Self.max) + "@" + Self.domain(octets: Self.max) + "/" + String(repeating: "r", count: Self.max)
        let jid = try JID(text)
        #expect(jid.description == text)
        #expect(try JID(jid.description) == jid)
    }

    @Test func emptyParts() {
        #expect(throws: JIDError.emptyLocalpart) { try JID("@example.com") }
        #expect(throws: JIDError.emptyDomainpart) { try JID("user@") }
        #expect(throws: JIDError.emptyDomainpart) { try JID("") }
        #expect(throws: JIDError.emptyResourcepart) { try JID("user@example.com/") }
    }

    @Test func controlCharacters() {
        #expect(throws: JIDError.forbiddenCharacter(part: "localpart", scalar: 0)) { try JID("a\u{0}b@example.com") }
        #expect(throws: JIDError.forbiddenCharacter(part: "resourcepart", scalar: 7)) { try JID("a@example.com/x\u{7}") }
        #expect(throws: JIDError.forbiddenCharacter(part: "domainpart", scalar: 0x20)) { try JID("a@exa mple.com") }
    }
}
