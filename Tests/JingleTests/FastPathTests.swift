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
