import Testing
import XMLStream

/// Hostile XML on an XMPP stream (RFC 6120 §11.1, §13.12): every case is refused with its exact error, the
/// refused parser stays dead (it answers every later call with the same error), and a fresh parser still
/// serves the next stream.
@Suite struct HostileXMLTests {
    static let header = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>"

    /// Feeds `chunks` to a new stream parser; returns the error it stopped with and the parser.
    func refuse(_ chunks: [[UInt8]], limits: XMLStreamLimits = .default) -> (XMLStreamError?, XMLStreamParser, Int) {
        let parser = XMLStreamParser(mode: .stream, limits: limits)
        var fed = 0
        do {
            for chunk in chunks {
                _ = try parser.feed(chunk)
                fed += chunk.count
            }
            _ = try parser.finish()
            return (nil, parser, fed)
        } catch {
            return (error, parser, fed)
        }
    }

    /// A dead parser repeats its error; a new one parses a normal stream.
    func expectRecovery(after error: XMLStreamError, dead parser: XMLStreamParser) throws {
        #expect(throws: error) { _ = try parser.feed(Array("<message/>".utf8)) }
        #expect(throws: error) { _ = try parser.finish() }
        let fresh = XMLStreamParser(mode: .stream)
        let events = try fresh.feed(Self.header + "<message to='a@example.com'><body>hi</body></message></stream:stream>")
        #expect(events.count == 3)
        guard events.count == 3, case .element(let message) = events[1] else { return }
        #expect(message.child("body")?.text == "hi")
    }

    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func billionLaughs() throws {
        var doctype = "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
        for level in 1...9 {
            doctype += "<!ENTITY lol\(level) '" + String(repeating: "&lol\(level == 1 ? "" : String(level - 1));", count: 10) + "'>"
        }
        doctype += "]>"
        let (error, parser, _) = refuse([bytes(doctype + Self.header + "<message><body>&lol9;</body></message>")])
        #expect(error == .restrictedXML("DOCTYPE declaration"))
        if let error { try expectRecovery(after: error, dead: parser) }
    }

    @Test func externalEntityInDoctype() throws {
        let text = "<?xml version='1.0'?><!DOCTYPE foo [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]>" + Self.header + "<message><body>&xxe;</body></message>"
        let (error, parser, _) = refuse([bytes(text)])
        #expect(error == .restrictedXML("DOCTYPE declaration"))
        if let error { try expectRecovery(after: error, dead: parser) }
    }

    @Test func undeclaredEntityReferenceWithoutDoctype() throws {
        let (error, parser, _) = refuse([bytes(Self.header + "<message><body>&xxe;</body></message>")])
        guard case .restrictedXML(let what)? = error else {
            Issue.record("expected restrictedXML, got \(String(describing: error))")
            return
        }
        #expect(what.hasPrefix("entity reference:"))
        #expect(error?.streamErrorCondition == "restricted-xml")
        try expectRecovery(after: error!, dead: parser)
    }

    @Test func doctypeOnStream() throws {
        let (error, parser, _) = refuse([bytes("<!DOCTYPE stream:stream>" + Self.header)])
        #expect(error == .restrictedXML("DOCTYPE declaration"))
        if let error { try expectRecovery(after: error, dead: parser) }
    }

    @Test func tenMebibyteStanzaIsCutOffAtTheLimit() throws {
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 64 * 1024)
        var chunks = [bytes(Self.header + "<message><body>")]
        chunks += Array(repeating: chunk, count: 160)  // 10 MiB of text
        chunks.append(bytes("</body></message>"))
        let (error, parser, fed) = refuse(chunks)
        #expect(error == .stanzaTooLarge(limit: 1 << 20))
        // Refused within one feed of the limit, not after buffering all 10 MiB.
        #expect(fed <= (1 << 20) + 64 * 1024 + 256)
        if let error { try expectRecovery(after: error, dead: parser) }
    }

    @Test func depthTenThousand() throws {
        let text = Self.header + String(repeating: "<a>", count: 10_000) + String(repeating: "</a>", count: 10_000)
        let (error, parser, _) = refuse([bytes(text)])
        #expect(error == .tooDeep(limit: 64))
        if let error { try expectRecovery(after: error, dead: parser) }
    }

    @Test func tooManyAttributes() throws {
        let attributes = (0..<100).map { "a\($0)='x'" }.joined(separator: " ")
        let (error, parser, _) = refuse([bytes(Self.header + "<message \(attributes)/>")])
        #expect(error == .tooManyAttributes(limit: 64))
        if let error { try expectRecovery(after: error, dead: parser) }
    }

    /// Byte sequences that are not UTF-8 are an encoding error (RFC 6120 §11.6). libxml2 decodes a UTF-8-shaped
    /// surrogate or a code point past U+10FFFF and then refuses the character, so those two are refused as
    /// not-well-formed instead: refused either way, never passed on.
    @Test(arguments: [
        ("lone continuation byte", [0x80], "unsupported-encoding"),
        ("truncated two-byte sequence", [0xC3, 0x28], "unsupported-encoding"),
        ("overlong encoding of '/'", [0xC0, 0xAF], "unsupported-encoding"),
        ("UTF-16 surrogate", [0xED, 0xA0, 0x80], "not-well-formed"),
        ("beyond U+10FFFF", [0xF4, 0x90, 0x80, 0x80], "not-well-formed"),
    ] as [(String, [UInt8], String)])
    func invalidUTF8InText(name: String, sequence: [UInt8], condition: String) throws {
        let (error, parser, _) = refuse([bytes(Self.header + "<message><body>x"), sequence, bytes("y</body></message>")])
        #expect(error?.streamErrorCondition == condition, "\(name): \(String(describing: error))")
        if condition == "not-well-formed" {
            guard case .notWellFormed(let message)? = error else { return }
            #expect(message.contains("invalid Char value"))
        }
        if let error { try expectRecovery(after: error, dead: parser) }
    }

    @Test func nulByteInText() throws {
        let (error, parser, _) = refuse([bytes(Self.header + "<message><body>a"), [0x00], bytes("b</body></message>")])
        // XML 1.0 §2.2: U+0000 is not a character at all.
        #expect(error == .notWellFormed("Char 0x0 out of allowed range (line 1, column 133)"))
        if let error { try expectRecovery(after: error, dead: parser) }
    }

    @Test func nulCharacterReferenceInText() throws {
        let (error, parser, _) = refuse([bytes(Self.header + "<message><body>a&#0;b</body></message>")])
        guard case .notWellFormed? = error else {
            Issue.record("expected notWellFormed, got \(String(describing: error))")
            return
        }
        try expectRecovery(after: error!, dead: parser)
    }

    @Test func otherEncodingDeclared() throws {
        let (error, parser, _) = refuse([bytes("<?xml version='1.0' encoding='ISO-8859-1'?>" + Self.header)])
        guard case .unsupportedEncoding? = error else {
            Issue.record("expected unsupportedEncoding, got \(String(describing: error))")
            return
        }
        try expectRecovery(after: error!, dead: parser)
    }

    @Test func commentAndProcessingInstructionOnStream() throws {
        let (comment, parser1, _) = refuse([bytes(Self.header + "<!-- hi -->")])
        #expect(comment == .restrictedXML("comment"))
        if let comment { try expectRecovery(after: comment, dead: parser1) }
        let (pi, parser2, _) = refuse([bytes(Self.header + "<?evil data?>")])
        #expect(pi == .restrictedXML("processing instruction"))
        if let pi { try expectRecovery(after: pi, dead: parser2) }
    }
}
