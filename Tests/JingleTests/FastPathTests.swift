import Jingle
import Testing
import XMLStream

/// The byte-level helpers and one-pass readers must give exactly the answers of the String API and of the
/// per-kind reading they replaced, for any input.
@Suite struct FastPathTests {
    static let integerTexts = ["0", "7", "007", "+5", "-0", "-00", "-5", "+", "-", "", "255", "256", "65535", "65536",
                               "4294967295", "4294967296", "18446744073709551615", "18446744073709551616",
                               "99999999999999999999999", "0x1", " 1", "1 ", "1a", "٣", "１"]

    @Test(arguments: integerTexts)
    func integersParseLikeTheStandardLibrary(text: String) {
        #expect(ASCIIText.integer(text, as: UInt8.self) == UInt8(text))
        #expect(ASCIIText.integer(text, as: UInt16.self) == UInt16(text))
        #expect(ASCIIText.integer(text, as: UInt32.self) == UInt32(text))
        #expect(ASCIIText.integer(text, as: UInt64.self) == UInt64(text))
    }

    @Test(arguments: [UInt64(0), 9, 10, 99, 100, 127, 65535, 999_999_999_999_999, 1_000_000_000_000_000, UInt64.max])
    func decimalsPrintLikeTheStandardLibrary(value: UInt64) {
        #expect(ASCIIText.decimal(value) == String(value))
        #expect(ASCIIText.decimal(UInt8(truncatingIfNeeded: value)) == String(UInt8(truncatingIfNeeded: value)))
        #expect(ASCIIText.decimal(UInt32(truncatingIfNeeded: value)) == String(UInt32(truncatingIfNeeded: value)))
    }

    @Test(arguments: ["abcd", "abc", "ab\r\ncd", "ab\r\nc", "é", "éabc", "e\u{301}abc", "e\u{301}ab", "", "a\rbc"])
    func characterCountsMatch(text: String) {
        for bound in [4, 5, 22] {
            #expect(ASCIIText.characterCount(of: text, isLessThan: bound) == (text.count < bound))
        }
    }

    @Test(arguments: ["UDP", "udp", "Udp", "udq", "ud", "udpx", "ÜDP", "\u{212A}"])
    func caseInsensitiveComparisonsMatch(text: String) {
        #expect(ASCIIText.equalsIgnoringCase(text, lowercase: "udp") == (text.lowercased() == "udp"))
        #expect(ASCIIText.equalIgnoringCase(text, "uDp") == (text.lowercased() == "uDp".lowercased()))
        #expect(ASCIIText.equalIgnoringCase(text, "k") == (text.lowercased() == "k"))
    }

    /// Two invalid children of different kinds, in either document order: the error is the one of the kind
    /// read first (payload types before sources), as when each kind had its own pass.
    @Test(arguments: [true, false])
    func theFirstKindsErrorWinsWhateverTheDocumentOrder(sourceFirst: Bool) throws {
        let badSource = "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='x'/>"
        let badPayloadType = "<payload-type id='200'/>"
        let children = sourceFirst ? badSource + badPayloadType : badPayloadType + badSource
        let element = try XMLElement(parsing: "<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>\(children)</description>")
        #expect(throws: JingleParseError(.invalidAttribute("id", value: "200"), element: "payload-type", section: "XEP-0167 §4")) {
            try RTPDescription(element: element)
        }
    }

    /// Two reasons are refused before either is read, even when the first is itself invalid.
    @Test func aRepeatedReasonIsReportedBeforeAnInvalidOne() throws {
        let element = try XMLElement(parsing: """
            <jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='s'><reason><bogus/></reason>\
            <reason><success/></reason></jingle>
            """)
        #expect(throws: JingleParseError(.unexpectedElement(name: "reason", namespace: "urn:xmpp:jingle:1"), element: "jingle",
                                         section: "XEP-0166 §7.1")) {
            try JinglePayload(element: element)
        }
    }

    /// A hand-built element may repeat an attribute: the first is read, and the repeat is not kept as an
    /// extension attribute either.
    @Test func aRepeatedAttributeIsReadOnce() throws {
        var element = XMLElement(name: "payload-type", namespace: "urn:xmpp:jingle:apps:rtp:1")
        element.attributes = [XMLAttribute(name: "name", value: "opus"), XMLAttribute(name: "id", value: "111"),
                              XMLAttribute(name: "name", value: "other"), XMLAttribute(name: "x-custom", value: "1")]
        let payloadType = try RTPPayloadType(element: element)
        #expect(payloadType.id == 111)
        #expect(payloadType.name == "opus")
        #expect(payloadType.extraAttributes == [XMLAttribute(name: "x-custom", value: "1")])
    }
}

/// The second round of byte-level shortcuts: table-written small numbers, byte comparison of long names,
/// enum attributes matched by length and bytes, and the pair-by-pair fingerprint check.
@Suite struct FastPathRoundTwoTests {
    @Test func smallDecimalsComeFromTheTableUnchanged() {
        for value in 0...300 { #expect(ASCIIText.decimal(UInt64(value)) == String(value)) }
    }

    @Test(arguments: ["urn:xmpp:jingle:apps:rtp:1", "urn:xmpp:jingle:apps:rtp:2", "urn:xmpp:jingle:apps:rtp:1 ",
                      "urn:xmpp:jingle:apps:rtP:1", "Urn:xmpp:jingle:apps:rtp:1", "urn:xmpp:jingle:apps:rtp:é",
                      "urn:xmpp:jingle:apps:rtp", "urn:xmpp:jingle:transports:ice-udp:1", "payload-type", ""])
    func longNamesCompareLikeTheStandardLibrary(text: String) {
        for name in ["urn:xmpp:jingle:apps:rtp:1", "urn:xmpp:jingle:transports:ice-udp:1", "payload-type"] {
            #expect(ASCIIText.equals(text, name) == (text == name))
        }
    }

    @Test(arguments: ["initiator", "responder", "both", "none", "Initiator", "initiator ", "", "initiatoR", "respondeR"])
    func enumAttributesMatchLikeInitRawValue(text: String) throws {
        let element = XMLElement(name: "content", namespace: "urn:xmpp:jingle:1",
                                 attributes: [XMLAttribute(name: "creator", value: "initiator"), XMLAttribute(name: "name", value: "a"),
                                              XMLAttribute(name: "senders", value: text)])
        let parsed = try? JingleContent(element: element)
        #expect(parsed?.senders == JingleSenders(rawValue: text))
        #expect((parsed == nil) == (JingleSenders(rawValue: text) == nil))
    }

    /// RFC 8122 §5 `2HEXDIG *(":" 2HEXDIG)` (or empty), checked byte by byte: the reference for the fast check.
    static func referenceLength(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        if bytes.isEmpty { return 0 }
        for (index, byte) in bytes.enumerated() {
            let hex = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
            if index % 3 == 2 ? byte != 0x3A : !hex { return nil }
        }
        return bytes.count % 3 == 2 ? bytes.count : nil
    }

    @Test func fingerprintCheckAgreesWithTheReference() {
        // Every string of up to five characters over a small alphabet, then every ASCII character (and one
        // non-ASCII one) in each position of a pair: the edges of the digit and letter ranges included.
        let alphabet = ["0", "f", "F", "g", ":", "/", "`", "é"]
        var level = [""], texts = [""]
        for _ in 0..<5 {
            level = level.flatMap { t in alphabet.map { t + $0 } }
            texts += level
        }
        for scalar in (0..<128).map({ Unicode.Scalar(UInt8($0)) }) + ["é"] {
            let c = String(Character(scalar))
            texts += [c + "0", "0" + c, "00" + c + "00", "00:0" + c]
        }
        for text in texts { #expect(DTLSFingerprint.hexPairsLength(text) == Self.referenceLength(text), "\(text.debugDescription)") }
        let sha256 = (0..<32).map { _ in "AB" }.joined(separator: ":")
        #expect(DTLSFingerprint.hexPairsLength(sha256) == 95)
        #expect(DTLSFingerprint.hexPairsLength(sha256 + ":") == nil)
    }
}
