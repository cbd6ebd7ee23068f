import Testing

struct InspectCommandTests {
    static let sessionInitiate = """
    <iq from='romeo@montague.lit/orchard' id='ng91xs69' to='juliet@capulet.lit/balcony' type='set'>
      <jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='romeo@montague.lit/orchard' sid='a73sjjvkla37jfea'>
        <content creator='initiator' name='voice'>
          <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>
            <payload-type id='96' name='speex' clockrate='16000'/>
            <x xmlns='urn:example:extension' keep='me'/>
          </description>
          <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd='asd88fgpdd777uzjYhagZg' ufrag='8hhy'>
            <candidate component='1' foundation='1' generation='0' id='el0747fg11' ip='10.0.1.1' network='1' port='8998' priority='2130706431' protocol='udp' type='host'/>
          </transport>
        </content>
      </jingle>
    </iq>
    """

    @Test func validStanzaPrintsCanonicalXMLAndExitsZero() throws {
        let result = try CLI.run(["inspect", "-"], stdin: Self.sessionInitiate)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("<iq xmlns=\"jabber:client\""))
        #expect(result.stdout.contains("action=\"session-initiate\""))
        // Extension elements in other namespaces are kept and are not errors.
        #expect(result.stdout.contains("<x xmlns=\"urn:example:extension\" keep=\"me\"/>"))
        #expect(result.stderr.contains("1 stanza(s), 0 invalid"))
    }

    @Test func severalStanzasAndJSON() throws {
        let input = Self.sessionInitiate + Self.sessionInitiate.replacingOccurrences(of: "sid='a73sjjvkla37jfea'", with: "")
        let result = try CLI.run(["inspect", "--json", "-"], stdin: input)
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].contains("\"valid\":true") && lines[0].contains("\"sid\":\"a73sjjvkla37jfea\""))
        #expect(lines[1].contains("\"valid\":false") && lines[1].contains("sid"))
    }

    @Test(arguments: [
        ("<iq type='set' id='1'><jingle xmlns='urn:xmpp:jingle:1' action='dance' sid='s'/></iq>", "action"),
        ("<iq type='set' id='1'><jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='a@b/c'/></iq>", "sid"),
        ("<message to='a@b'/>", "no <jingle"),
        ("<iq type='get' id='1'><jingle xmlns='urn:xmpp:jingle:1' action='session-info' sid='s'/></iq>", "type 'set'"),
    ])
    func invalidStanzasAreReportedWithTheirRule(_ input: String, _ expected: String) throws {
        let result = try CLI.run(["inspect", "-"], stdin: input)
        #expect(result.status == 1)
        #expect(result.stderr.contains(expected), "\(result.stderr)")
        #expect(result.stderr.contains("XEP-0166") || result.stderr.contains("RFC 6120"))
    }

    @Test func notWellFormedInputIsOneClearLine() throws {
        let result = try CLI.run(["inspect", "-"], stdin: "<iq><jingle")
        #expect(result.status == 1)
        #expect(result.stderr.contains("not well-formed XML"))
        #expect(result.stdout.isEmpty)
    }

    @Test func missingFile() throws {
        let result = try CLI.run(["inspect", "/nonexistent/stanza.xml"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot read /nonexistent/stanza.xml"))
    }

    @Test func prettyOutputIsIndented() throws {
        let result = try CLI.run(["inspect", "--pretty", "-"], stdin: Self.sessionInitiate)
        #expect(result.status == 0)
        #expect(result.stdout.contains("\n  <jingle xmlns=\"urn:xmpp:jingle:1\""))
        #expect(result.stdout.contains("\n    <content creator=\"initiator\" name=\"voice\">"))
    }
}
