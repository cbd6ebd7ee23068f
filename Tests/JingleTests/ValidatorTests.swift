import Foundation
import Testing
import XMLStream
import XMPPCore
@testable import Jingle

@Suite struct ValidatorTests {
    /// Every Jingle example of the XEPs that parses has no validation errors: the XEPs' own examples follow the rules.
    @Test func xepExamplesHaveNoErrors() throws {
        var checked = 0
        for (file, _) in try Fixtures.index() where notRoundTripping[file] == nil {
            let root = try XMLElement(parsing: Fixtures.text(file))
            guard let jingle = root.child("jingle", namespace: NS.jingle) else { continue }
            let errors = JingleValidator.validate(jingle).filter { $0.severity == .error }
            #expect(errors.isEmpty, "\(file): \(errors)")
            checked += 1
        }
        #expect(checked == 93)   // the XEP examples that carry a parseable <jingle/>
    }

    @Test(arguments: [
        ("<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='a@b/c' sid='s'/>", "XEP-0166 §7.2.10", JingleDiagnostic.Severity.error),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='s'/>", "XEP-0166 §7.2.11", .warning),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'><content creator='initiator' name='v'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='0' name='PCMU'/></description><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='abcd' pwd='asd88fgpdd777uzjYhagZg'/></content></jingle>", "XEP-0166 §7.1", .warning),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='a@b/c' sid='s'><content creator='initiator' name='v'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='96' clockrate='8000'/></description><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='abcd' pwd='asd88fgpdd777uzjYhagZg'/></content></jingle>", "XEP-0167 §4", .error),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='a@b/c' sid='s'><content creator='initiator' name='v'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='0' name='PCMU'/><payload-type id='0' name='PCMU'/></description><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='abcd' pwd='asd88fgpdd777uzjYhagZg'/></content></jingle>", "XEP-0167 §4", .error),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='session-accept' responder='a@b/c' sid='s'><content creator='initiator' name='v'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='0' name='PCMU'/></description><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='abcd' pwd='asd88fgpdd777uzjYhagZg'><fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>AB:CD</fingerprint></transport></content></jingle>", "XEP-0320 §3", .error),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='a@b/c' sid='s'><group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'><content name='missing'/></group><content creator='initiator' name='v'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='0' name='PCMU'/></description><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='abcd' pwd='asd88fgpdd777uzjYhagZg'/></content></jingle>", "XEP-0338 §3", .error),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='a@b/c' sid='s'><content creator='initiator' name='f' senders='responder'><description xmlns='urn:xmpp:jingle:apps:file-transfer:5'><file/></description><transport xmlns='urn:xmpp:jingle:transports:ibb:1' block-size='4096' sid='i'/></content></jingle>", "XEP-0234 §5", .error),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='content-modify' sid='s'><content creator='initiator' name='v'/></jingle>", "XEP-0166 §7.2.3", .error),
        ("<jingle xmlns='urn:xmpp:jingle:1' action='bogus' sid='s'/>", "XEP-0166 §7.1", .error),
    ])
    func findsTheBrokenRule(_ text: String, _ section: String, _ severity: JingleDiagnostic.Severity) throws {
        let diagnostics = JingleValidator.validate(try XMLElement(parsing: text))
        #expect(diagnostics.contains { $0.section == section && $0.severity == severity }, "\(diagnostics)")
    }

    /// A candidate without generation or id (peers that build Jingle from SDP write such) is read, so the call
    /// goes on: generation 0, an id made of what identifies the candidate, the same every time. The validator
    /// still names both as XEP-0176 §5 errors.
    @Test func candidateWithoutGenerationOrIDIsReadAndReported() throws {
        let text = """
        <jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='s'><content creator='initiator' name='a'>\
        <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='abcd' pwd='asd88fgpdd777uzjYhagZg'>\
        <candidate component='1' foundation='7' ip='192.0.2.1' port='5000' priority='2130706431' protocol='udp' type='host'/>\
        <candidate component='1' foundation='8' id='given' ip='192.0.2.2' port='5002' priority='2130706430' protocol='udp' type='host' generation='3'/>\
        </transport></content></jingle>
        """
        let element = try XMLElement(parsing: text)
        let payload = try JinglePayload(element: element)
        let transport = try #require(payload.contents.first?.transport as? ICEUDPTransport)
        #expect(transport.candidates.map(\.generation) == [0, 3])
        #expect(transport.candidates.map(\.id) == ["7.1.192.0.2.1.5000", "given"])
        #expect(try JinglePayload(element: element) == payload)
        let errors = JingleValidator.validate(element).filter { $0.section == "XEP-0176 §5" && $0.severity == .error }
        #expect(errors.count == 2, "\(errors)")
        #expect(errors.contains { $0.message.contains("'generation'") } && errors.contains { $0.message.contains("'id'") })
        // A candidate that has both is not reported.
        let clean = text.replacingOccurrences(of: "foundation='7' ip", with: "foundation='7' generation='0' id='x' ip")
        #expect(JingleValidator.validate(try XMLElement(parsing: clean)).allSatisfy { $0.section != "XEP-0176 §5" })
    }

    @Test func cleanStanzaHasNoDiagnostics() throws {
        let payload = JinglePayload(action: .sessionInitiate, sid: "s", initiator: alice, contents: [audioContent(), videoContent()],
                                    groups: [JingleGroup(semantics: "BUNDLE", contents: ["voice", "webcam"])])
        #expect(JingleValidator.validate(payload.element()) == [])
        #expect(JingleValidator.validate(IQ(type: .set, id: "1", payload: payload.element()).element) == [])
    }
}
