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

    @Test func cleanStanzaHasNoDiagnostics() throws {
        let payload = JinglePayload(action: .sessionInitiate, sid: "s", initiator: alice, contents: [audioContent(), videoContent()],
                                    groups: [JingleGroup(semantics: "BUNDLE", contents: ["voice", "webcam"])])
        #expect(JingleValidator.validate(payload.element()) == [])
        #expect(JingleValidator.validate(IQ(type: .set, id: "1", payload: payload.element()).element) == [])
    }
}
