import Testing
@testable import XMLStream

/// RFC 6120 §11 and §13.12: what a hostile peer may send, and the exact error each gets.
struct HostileInputTests {
    static let header = XEPExampleTests.header

    /// Feeds `input` after a stream header and returns the error, checking that the parser stays dead
    /// (the same error again) and that a fresh parser still works.
    static func streamError(_ input: [UInt8], limits: XMLStreamLimits = .default) -> XMLStreamError? {
        let parser = XMLStreamParser(limits: limits)
        var caught: XMLStreamError?
        do {
            _ = try parser.feed(input)
            _ = try parser.finish()
        } catch {
            caught = error
        }
        if let caught {
            #expect(throws: caught) { try parser.feed("<presence/>") }
        }
        let fresh = XMLStreamParser()
        #expect((try? fresh.feed(header + "<presence/>"))?.count == 2)
        return caught
    }

    @Test func billionLaughs() {
        var doc = "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
        for i in 1...9 { doc += "<!ENTITY lol\(i) '" + String(repeating: "&lol\(i - 1 == 0 ? "" : String(i - 1));", count: 10) + "'>" }
        doc += "]><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><message><body>&lol9;</body></message>"
        #expect(Self.streamError(Array(doc.utf8)) == .restrictedXML("DOCTYPE declaration"))
    }

    @Test func externalEntity() {
        let doc = "<?xml version='1.0'?><!DOCTYPE foo [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><message><body>&xxe;</body></message>"
        #expect(Self.streamError(Array(doc.utf8)) == .restrictedXML("DOCTYPE declaration"))
    }

    @Test func plainDoctype() {
        let doc = "<!DOCTYPE stream><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
        #expect(Self.streamError(Array(doc.utf8)) == .restrictedXML("DOCTYPE declaration"))
    }

    @Test func undeclaredEntityReference() {
        let error = Self.streamError(Array((Self.header + "<message><body>&xxe;</body></message>").utf8))
        guard case .restrictedXML? = error else { Issue.record("got \(String(describing: error))"); return }
    }

    @Test func commentAndProcessingInstructionAreRestrictedOnAStream() {
        #expect(Self.streamError(Array((Self.header + "<!-- hi -->").utf8)) == .restrictedXML("comment"))
        #expect(Self.streamError(Array((Self.header + "<?evil data?>").utf8)) == .restrictedXML("processing instruction"))
    }

    @Test func twoMebibyteStanza() {
        let body = String(repeating: "A", count: 2 << 20)
        let error = Self.streamError(Array((Self.header + "<message><body>" + body + "</body></message>").utf8))
        #expect(error == .stanzaTooLarge(limit: 1 << 20))
        #expect(error?.streamErrorCondition == "policy-violation")
    }

    @Test func hugeAttributeValueIsBoundedToo() {
        let value = String(repeating: "B", count: 3 << 20)
        #expect(Self.streamError(Array((Self.header + "<message id='" + value + "'/>").utf8)) == .stanzaTooLarge(limit: 1 << 20))
    }

    @Test func stanzaJustUnderTheLimitIsAccepted() throws {
        let limits = XMLStreamLimits(maxStanzaBytes: 10_000)
        let parser = XMLStreamParser(limits: limits)
        _ = try parser.feed(Self.header)
        let stanza = "<message><body>" + String(repeating: "x", count: 9_000) + "</body></message>"
        for _ in 0..<50 { #expect(try parser.feed(stanza).count == 1) }   // many stanzas: the budget is per stanza
        #expect(Self.streamError(Array((Self.header + "<message><body>" + String(repeating: "x", count: 11_000) + "</body></message>").utf8), limits: limits) == .stanzaTooLarge(limit: 10_000))
    }

    @Test func depthTenThousand() {
        let input = Self.header + String(repeating: "<a>", count: 10_000)
        #expect(Self.streamError(Array(input.utf8)) == .tooDeep(limit: 64))
    }

    @Test func depthAtTheLimitIsAccepted() throws {
        // The stream root is depth 1, so a stanza may nest 63 levels.
        let parser = XMLStreamParser()
        let events = try parser.feed(Self.header + String(repeating: "<a>", count: 63) + String(repeating: "</a>", count: 63))
        #expect(events.count == 2)
    }

    @Test func tooManyAttributes() {
        let attributes = (0..<100).map { "a\($0)='1'" }.joined(separator: " ")
        #expect(Self.streamError(Array((Self.header + "<message \(attributes)/>").utf8)) == .tooManyAttributes(limit: 64))
    }

    @Test func invalidUTF8() {
        let bytes = Array((Self.header + "<message><body>").utf8) + [0xC3, 0x28, 0xFF] + Array("</body></message>".utf8)
        guard case .unsupportedEncoding? = Self.streamError(bytes) else { Issue.record("expected unsupportedEncoding"); return }
    }

    @Test func declaredNonUTF8Encoding() {
        let doc = "<?xml version='1.0' encoding='ISO-8859-1'?>" + Self.header
        guard case .unsupportedEncoding? = Self.streamError(Array(doc.utf8)) else { Issue.record("expected unsupportedEncoding"); return }
    }

    @Test func nulInText() {
        let bytes = Array((Self.header + "<message><body>a").utf8) + [0] + Array("b</body></message>".utf8)
        guard case .notWellFormed? = Self.streamError(bytes) else { Issue.record("expected notWellFormed"); return }
    }

    @Test func unclosedStream() {
        #expect(Self.streamError(Array((Self.header + "<presence/>").utf8)) == .unexpectedEnd)
    }

    @Test func mismatchedTags() {
        guard case .notWellFormed? = Self.streamError(Array((Self.header + "<message></presence>").utf8)) else {
            Issue.record("expected notWellFormed"); return
        }
    }

    @Test func unboundPrefix() {
        guard case .notWellFormed? = Self.streamError(Array((Self.header + "<x:message/>").utf8)) else {
            Issue.record("expected notWellFormed"); return
        }
    }

    @Test func documentModeRejectsTwoRoots() {
        #expect(throws: XMLStreamError.self) { try XMLElement(parsing: "<a/><b/>") }
        #expect(throws: XMLStreamError.notASingleElement) { try XMLElement(parsing: "") }
    }
}
