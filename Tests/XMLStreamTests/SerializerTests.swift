import Foundation
import Testing
@testable import XMLStream

struct SerializerTests {
    @Test func escapesTextAndAttributes() throws {
        var e = XMLElement(name: "body", namespace: "jabber:client")
        e[attribute: "q"] = "a\"b'c<d>&e\tf\ng\rh"
        e.append(text: "x < y && y > z ]]> \r done")
        let text = e.serialized()
        #expect(text == "<body xmlns=\"jabber:client\" q=\"a&quot;b'c&lt;d&gt;&amp;e&#9;f&#10;g&#13;h\">x &lt; y &amp;&amp; y &gt; z ]]&gt; &#13; done</body>")
        #expect(try XMLElement(parsing: text) == e)
    }

    /// The escaper scans eight bytes at a time: every special character at every offset within and across the
    /// words is escaped exactly as the scalar-by-scalar rules (the `String` overloads) escape it.
    @Test func escapingAtEveryOffset() throws {
        for offset in 0..<19 {
            let pad = String(repeating: "a", count: offset)
            for special in ["&", "<", ">", "\"", "'", "\t", "\n", "\r", "\u{7}", "é", "\u{FFFE}", "\u{FFFF}", "\u{FFFD}", "\u{F000}", "]]>"] {
                let value = pad + special + "0123456789abcdef" + special
                var expectedText = "", expectedAttribute = ""
                XMLEscaping.appendText(value, to: &expectedText)
                XMLEscaping.appendAttribute(value, to: &expectedAttribute)
                var e = XMLElement(name: "a")
                e[attribute: "v"] = value
                e.append(text: value)
                let text = e.serialized()
                #expect(text == "<a v=\"\(expectedAttribute)\">\(expectedText)</a>")
                #expect(e.serializedBytes() == Array(text.utf8))
                var bytes: [UInt8] = []
                XMLEscaping.appendText(value, to: &bytes)
                #expect(bytes == Array(expectedText.utf8))
                bytes = []
                XMLEscaping.appendAttribute(value, to: &bytes)
                #expect(bytes == Array(expectedAttribute.utf8))
                let back = try XMLElement(parsing: text)
                let clean = value.replacingOccurrences(of: "\u{7}", with: "\u{FFFD}").replacingOccurrences(of: "\u{FFFE}", with: "\u{FFFD}")
                    .replacingOccurrences(of: "\u{FFFF}", with: "\u{FFFD}")
                #expect(back[attribute: "v"] == clean)
                #expect(back.text == clean)
            }
        }
    }

    /// A document larger than the writer's first buffer, and generated prefixes past ns9.
    @Test func largeDocumentAndManyPrefixes() throws {
        var root = XMLElement(name: "root", namespace: "urn:a")
        for i in 0..<12 { root.setAttribute("k", namespace: "urn:n\(i)", value: "\(i)") }
        for i in 0..<500 { root.append(XMLElement("c", ["i": "\(i)"], text: "text \(i) & more")) }
        let text = root.serialized()
        #expect(text.utf8.count > 8192)
        #expect(text.contains("xmlns:ns12=\"urn:n11\" ns12:k=\"11\""))
        #expect(try XMLElement(parsing: text) == root)
    }

    @Test func characterThatXMLCannotCarryIsReplaced() throws {
        let e = XMLElement("a", text: "bell\u{7}")
        #expect(e.serialized() == "<a>bell\u{FFFD}</a>")
        #expect(try XMLElement(parsing: e.serialized()).text == "bell\u{FFFD}")
    }

    @Test func namespacesAreWrittenMinimally() throws {
        let candidate = XMLElement("candidate", namespace: "urn:xmpp:jingle:transports:ice-udp:1", ["port": "1"])
        let transport = XMLElement("transport", namespace: "urn:xmpp:jingle:transports:ice-udp:1", children: [candidate])
        let content = XMLElement("content", namespace: "urn:xmpp:jingle:1", ["name": "a"], children: [transport])
        let jingle = XMLElement("jingle", namespace: "urn:xmpp:jingle:1", ["sid": "s"], children: [content])
        let iq = XMLElement("iq", namespace: "jabber:client", ["type": "set"], children: [jingle])
        #expect(iq.serialized(defaultNamespace: "jabber:client") ==
            "<iq type=\"set\"><jingle xmlns=\"urn:xmpp:jingle:1\" sid=\"s\"><content name=\"a\"><transport xmlns=\"urn:xmpp:jingle:transports:ice-udp:1\"><candidate port=\"1\"/></transport></content></jingle></iq>")
        #expect(try XMLElement(parsing: iq.serialized()) == iq)
    }

    @Test func elementWithoutNamespaceUnderANamespacedParent() throws {
        let parent = XMLElement("p", namespace: "urn:x", children: [XMLElement("c")])
        #expect(parent.serialized() == "<p xmlns=\"urn:x\"><c xmlns=\"\"/></p>")
        #expect(try XMLElement(parsing: parent.serialized()) == parent)
    }

    @Test func qualifiedAttributes() throws {
        var e = XMLElement(name: "text", namespace: "urn:ietf:params:xml:ns:xmpp-stanzas")
        e.setAttribute("lang", namespace: xmlNamespaceURI, value: "en")
        e.setAttribute("foo", namespace: "urn:other", value: "1")
        e.setAttribute("bar", namespace: "urn:other", value: "2")
        let text = e.serialized()
        #expect(text.contains("xml:lang=\"en\""))
        let back = try XMLElement(parsing: text)
        #expect(back == e)
        #expect(back.attribute("lang", namespace: xmlNamespaceURI) == "en")
    }

    @Test func prefixesAreNotPartOfTheValue() throws {
        let a = try XMLElement(parsing: "<x:a xmlns:x='urn:a'><x:b/></x:a>")
        let b = try XMLElement(parsing: "<a xmlns='urn:a'><b/></a>")
        #expect(a == b)
    }

    @Test func mixedContentRoundTrips() throws {
        let e = try XMLElement(parsing: "<p>one <b>two</b> three &amp; four</p>")
        #expect(e.children.count == 3)
        #expect(try XMLElement(parsing: e.serialized()) == e)
    }

    @Test func accessors() {
        var e = XMLElement("iq", namespace: "jabber:client", ["id": "1", "type": "get"],
                           children: [XMLElement("query", namespace: "urn:q"), XMLElement("query", namespace: "urn:r")])
        #expect(e[attribute: "id"] == "1")
        #expect(e.child("query", namespace: "urn:r") != nil)
        #expect(e.children("query").count == 2)
        e[attribute: "id"] = nil
        #expect(e[attribute: "id"] == nil)
        e.removeChildren("query", namespace: "urn:q")
        #expect(e.elements.map(\.namespace) == ["urn:r"])
    }
}
