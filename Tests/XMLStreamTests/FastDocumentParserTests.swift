import Foundation
import TestServers
import Testing
@testable import XMLStream

/// `XMLElement(parsing:)` reads plain documents with a byte-level parser and leaves everything else to libxml2.
/// Whatever the input, the answer must be the one libxml2 alone gives: the same tree, or an error.
struct FastDocumentParserTests {
    /// The outcome of a parse, comparable: the tree or the error.
    static func outcome(_ body: () throws(XMLStreamError) -> XMLElement) -> Result<XMLElement, XMLStreamError> {
        do throws(XMLStreamError) { return .success(try body()) } catch { return .failure(error) }
    }

    static func expectSameAsLibXML2(_ text: String, limits: XMLStreamLimits = .default, sourceLocation: SourceLocation = #_sourceLocation) {
        let reference = outcome { () throws(XMLStreamError) in try XMLElement(parsingWithLibXML2: Array(text.utf8), limits: limits) }
        let viaString = outcome { () throws(XMLStreamError) in try XMLElement(parsing: text, limits: limits) }
        let viaBytes = outcome { () throws(XMLStreamError) in try XMLElement(parsing: Array(text.utf8), limits: limits) }
        switch reference {
        case .success(let tree):
            #expect(viaString == .success(tree), "\(text.debugDescription)", sourceLocation: sourceLocation)
            #expect(viaBytes == .success(tree), "\(text.debugDescription)", sourceLocation: sourceLocation)
        case .failure:
            // Errors always come from libxml2, so they are the same error.
            #expect(viaString == reference, "\(text.debugDescription)", sourceLocation: sourceLocation)
            #expect(viaBytes == reference, "\(text.debugDescription)", sourceLocation: sourceLocation)
        }
    }

    static func fastPath(_ text: String, limits: XMLStreamLimits = .default) -> XMLElement? {
        var text = text
        return text.withUTF8 { XMLFastDocumentParser.parse($0, limits: limits) }
    }

    /// Inputs at the edges of the subset the fast parser takes, and just outside it.
    static let edgeCases: [String] = [
        "<a/>", "<a></a>", " \n<a/>\n ", "<a/>x", "<a/><b/>", "<a>", "</a>", "", "   ", "<a></b>", "<a><b></a></b>",
        "<a x='1' y=\"2\"/>", "<a x = '1'/>", "<a x='1'y='2'/>", "<a x='1' x='2'/>", "<a x/>", "<a x='1/>",
        "<a x='&lt;&gt;&amp;&quot;&apos;'/>", "<a x='&#65;&#x42;&#x1F600;'/>", "<a x='&#0;'/>", "<a x='&#xFFFE;'/>",
        "<a x='&foo;'/>", "<a x='&#;'/>", "<a x='&#x;'/>", "<a x='&amp'/>", "<a x='<'/>", "<a x='>'/>",
        "<a x='tab\there'/>", "<a x='line\nbreak'/>", "<a x='cr\rhere'/>", "<a x='&#9;&#10;&#13;'/>",
        "<a>text</a>", "<a>a &amp; b &lt; c &gt; d</a>", "<a>]]&gt;</a>", "<a>]]></a>", "<a>]></a>", "<a>&#13;</a>",
        "<a>line\r\nbreak</a>", "<a>\u{0}</a>", "<a>\u{1}</a>", "<a>é 日本語 ✈︎</a>", "<a>\u{FFFE}</a>", "<a>\u{FFFD}</a>",
        "<a> <b/> <c/> </a>", "<a>\n  <b>t</b>\n</a>", "<a>x<b/>y<c/>z</a>",
        "<a xmlns='urn:x'/>", "<a xmlns='urn:x'><b/><c xmlns=''/></a>", "<p:a xmlns:p='urn:p'/>", "<p:a/>",
        "<p:a xmlns:p='urn:p'><p:b/><b/></p:a>", "<a xmlns:p='urn:p' p:x='1' x='2'/>", "<a p:x='1'/>",
        "<a xmlns:p='urn:p' xmlns:q='urn:p' p:x='1' q:x='2'/>", "<a xmlns='urn:x' xmlns='urn:y'/>",
        "<a xmlns:p=''/>", "<a xmlns:xml='http://www.w3.org/XML/1998/namespace'/>", "<a xmlns:xmlns='urn:x'/>",
        "<a xmlns='http://www.w3.org/XML/1998/namespace'/>", "<a xml:lang='en'/>", "<xml:a/>", "<xmlns:a/>",
        "<a xmlns:p='urn:p'><p:b xmlns:p='urn:q'><p:c/></p:b><p:d/></a>", "<a:b:c/>", "<a: b/>", "<:a/>",
        "<a-b.c_d1/>", "<1a/>", "<-a/>", "<a/ >", "< a/>", "<a >t</a >", "<é/>", "<aé/>", "<a xé='1'/>",
        "<?xml version='1.0'?><a/>", "<?xml version='1.0' encoding='ISO-8859-1'?><a/>", "\u{FEFF}<a/>",
        "<!DOCTYPE a><a/>", "<a><!-- c --></a>", "<a><![CDATA[x]]></a>", "<a><?pi x?></a>", "<a/><!-- c -->",
        "<a>&#x110000;</a>", "<a>&#99999999999;</a>", "<a>&#xD800;</a>", "<a>&unknown;</a>",
    ]

    @Test(arguments: edgeCases)
    func edgeCase(_ text: String) {
        Self.expectSameAsLibXML2(text)
    }

    /// Values and text long enough for the word-at-a-time scan, with the byte that matters at every offset
    /// within and across the eight-byte words.
    static let wordScanCases: [String] = {
        var cases: [String] = []
        for offset in 0..<19 {
            let pad = String(repeating: "a", count: offset)
            for special in ["&amp;", "<", "\u{1}", "\r", "\t", "\"", "é", "\u{FFFE}", "]]>", "&#x1F600;", "&bogus;"] {
                cases.append("<a x='\(pad)\(special)0123456789abcdef'/>")
                cases.append("<a x=\"\(pad)\(special)0123456789abcdef\"/>")
                cases.append("<a>\(pad)\(special)0123456789abcdef</a>")
            }
        }
        return cases
    }()

    @Test func wordScanEdges() {
        for text in Self.wordScanCases { Self.expectSameAsLibXML2(text) }
    }

    /// Namespace names are interned per document: the same name declared again (also through a reference),
    /// rebound prefixes, and names that differ only at the end.
    static let namespaceCases: [String] = [
        "<a xmlns='urn:x:1'><b xmlns='urn:x:1'/><c xmlns='urn:x:2'><d xmlns='urn:x:1'/></c></a>",
        "<a xmlns='urn:x:1'><b xmlns='urn:x&#58;1'/><c xmlns='urn&#x3A;x:2'/></a>",
        "<p:a xmlns:p='urn:x:1' xmlns:q='urn:x:1' p:k='1'><q:b xmlns:p='urn:x:2' p:k='2' q:k='3'/></p:a>",
        "<a xmlns:p='urn:x:1' xmlns:q='urn:x:1' p:k='1' q:k='2'/>", "<a xmlns:p='urn:x:1' p:k='1' k='2'/>",
        "<a xmlns='urn:x:1'><b xmlns=''><c/></b><d/></a>", "<a xmlns='urn:x:1' xmlns:p='urn:x:1'><p:b/></a>",
        "<a xmlns:p='http://www.w3.org/XML/1998/namespace'/>", "<a xmlns='urn:x:1'><b xmlns='urn:x:1?q'/></a>",
    ]

    @Test func internedNamespaces() {
        for text in Self.namespaceCases { Self.expectSameAsLibXML2(text) }
    }

    /// Attribute names that share length, first and last byte (same filter bit) but differ, and real repeats.
    static let duplicateCases: [String] = [
        "<a abc='1' axc='2' ayc='3'/>", "<a abc='1' axc='2' abc='3'/>", "<a ab='1' ba='2' ab='3'/>",
        "<a k1='1' k2='2' k3='3' k4='4' k5='5' k6='6' k7='7' k8='8' k9='9' k1='0'/>",
        "<a xmlns:p='urn:p' p:abc='1' abc='2' p:axc='3'/>", "<a xmlns:p='urn:p' p:abc='1' p:abc='2'/>",
    ]

    @Test func duplicateAttributes() {
        for text in Self.duplicateCases { Self.expectSameAsLibXML2(text) }
    }

    /// The character table agrees with XML Namespaces' NCName restricted to ASCII, and with the path characters
    /// of the URIs the fast path accepts.
    @Test func nameCharacterTable() {
        for value in 0...255 {
            let b = UInt8(value)
            let letter = (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "_")
            let other = (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
            #expect(XMLFastDocumentParser.isNameStart(b) == letter, "byte \(b)")
            #expect(XMLFastDocumentParser.isNameChar(b) == (letter || other), "byte \(b)")
            let path = letter || (b >= 0x30 && b <= 0x39) || "-.~:/@".utf8.contains(b)
            #expect(XMLFastDocumentParser.isPathChar(b) == path, "byte \(b)")
            let text = (b < 0x20 && b != 0x09 && b != 0x0A) || "&<>".utf8.contains(b)
            let attribute = b < 0x20 || "&<>\"".utf8.contains(b)
            #expect((XMLWordScan.asciiClass(b) & XMLWordScan.textSpecial != 0) == text, "byte \(b)")
            #expect((XMLWordScan.asciiClass(b) & XMLWordScan.attributeSpecial != 0) == attribute, "byte \(b)")
        }
    }

    @Test func limitsAreLeftToLibXML2() {
        Self.expectSameAsLibXML2("<a><b><c/></b></a>", limits: XMLStreamLimits(maxDepth: 2))
        Self.expectSameAsLibXML2("<a><b><c/></b></a>", limits: XMLStreamLimits(maxDepth: 3))
        Self.expectSameAsLibXML2("<a x='1' y='2' z='3'/>", limits: XMLStreamLimits(maxAttributes: 2))
        Self.expectSameAsLibXML2("<a xmlns='urn:a' x='1'/>", limits: XMLStreamLimits(maxAttributes: 1))
        Self.expectSameAsLibXML2("<a>" + String(repeating: "x", count: 200) + "</a>", limits: XMLStreamLimits(maxStanzaBytes: 100))
    }

    /// Every XEP example that is one document: same tree both ways, and the serializer's output of it (escaped
    /// text, generated prefixes, `xml:lang`) is inside the fast subset.
    @Test func xepExamples() throws {
        var fastHits = 0
        for name in XEPExampleTests.allFiles where XEPExampleTests.nonDocuments[name] == nil {
            let text = try XEPExampleTests.read(name)
            Self.expectSameAsLibXML2(text)
            let element = try XMLElement(parsingWithLibXML2: Array(text.utf8))
            let serialized = element.serialized()
            Self.expectSameAsLibXML2(serialized)
            let fast = Self.fastPath(serialized)
            #expect(fast == element, "\(name): the fast path should read what the serializer writes")
            if fast != nil { fastHits += 1 }
        }
        #expect(fastHits > 300)
    }

    /// Hand-built trees with awkward content survive serialize -> fast parse unchanged.
    @Test func serializerOutputRoundTripsThroughTheFastPath() throws {
        var root = XMLElement(name: "root", namespace: "urn:a")
        root.attributes = [
            XMLAttribute(name: "plain", value: "v"), XMLAttribute(name: "quote", value: "say \"hi\" & 'bye' <now>"),
            XMLAttribute(name: "ws", value: "tab\tnl\ncr\r"), XMLAttribute(name: "lang", namespace: xmlNamespaceURI, value: "en"),
            XMLAttribute(name: "q", namespace: "urn:other", value: "1"), XMLAttribute(name: "r", namespace: "urn:third", value: "2"),
        ]
        root.append(XMLElement(name: "child", namespace: "urn:a", children: [.text("a < b & c > d ]]> e\r\n")]))
        root.append(XMLElement(name: "none"))
        root.append(XMLElement(name: "other", namespace: "urn:b", children: [.element(XMLElement(name: "inner", namespace: "urn:b"))]))
        root.append(text: "tail é ✈︎")
        let text = root.serialized()
        #expect(Self.fastPath(text) == root)
        #expect(try XMLElement(parsing: text) == root)
        #expect(try XMLElement(parsingWithLibXML2: Array(text.utf8)) == root)
    }

    /// Random mutations of a serialized stanza: whatever the bytes, both paths agree.
    @Test func mutatedInputsAgree() {
        let seed = XMLElement(name: "jingle", namespace: "urn:xmpp:jingle:1", attributes: [XMLAttribute(name: "sid", value: "a&b")], children: [
            .element(XMLElement(name: "content", namespace: "urn:xmpp:jingle:1", attributes: [XMLAttribute(name: "name", value: "0")],
                                children: [.text("t<x>"), .element(XMLElement(name: "x", namespace: "urn:y"))])),
        ])
        let base = Array(seed.serialized().utf8)
        var generator = SplitMix64(seed: 0x5EED)
        let alphabet = Array("<>/='\"&;#x: \n\tab".utf8) + [0x00, 0x0D, 0xC3, 0xA9, 0xEF]
        for _ in 0..<400 {
            var bytes = base
            for _ in 0..<(1 + Int(generator.next() % 3)) {
                let index = Int(generator.next() % UInt64(bytes.count))
                switch generator.next() % 3 {
                case 0: bytes[index] = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                case 1: bytes.remove(at: index)
                default: bytes.insert(alphabet[Int(generator.next() % UInt64(alphabet.count))], at: index)
                }
            }
            let reference = Self.outcome { () throws(XMLStreamError) in try XMLElement(parsingWithLibXML2: bytes) }
            let ours = Self.outcome { () throws(XMLStreamError) in try XMLElement(parsing: bytes) }
            #expect(ours == reference, "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
        }
    }
}
