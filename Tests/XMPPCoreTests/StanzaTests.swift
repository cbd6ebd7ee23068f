import Testing
import XMLStream
@testable import XMPPCore

struct StanzaTests {
    @Test(arguments: StanzaError.Condition.allCases)
    func everyConditionRoundTrips(_ condition: StanzaError.Condition) throws {
        for type in StanzaError.ErrorType.allCases {
            var error = StanzaError(condition, type: type, text: "why", by: "example.com")
            error.textLanguage = "en"
            let element = error.element()
            let reparsed = StanzaError(element: try XMLElement(parsing: element.serialized()))
            #expect(reparsed == error)
        }
    }

    @Test func defaultTypesFollowRFC6120Examples() {
        #expect(StanzaError.Condition.badRequest.defaultType == .modify)
        #expect(StanzaError.Condition.itemNotFound.defaultType == .cancel)
        #expect(StanzaError.Condition.unexpectedRequest.defaultType == .wait)
        #expect(StanzaError.Condition.notAuthorized.defaultType == .auth)
        #expect(StanzaError.Condition.allCases.count == 22)
    }

    @Test func parsesAnErrorWithAnApplicationCondition() throws {
        let xml = """
        <iq xmlns='jabber:client' from='juliet@capulet.lit/balcony' id='xs51r0k4' to='romeo@montague.lit/orchard' type='error'>\
        <error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
        <unknown-session xmlns='urn:xmpp:jingle:errors:1'/></error></iq>
        """
        let iq = try IQ(element: try XMLElement(parsing: xml))
        #expect(iq.type == .error)
        let error = try #require(iq.error)
        #expect(error.condition == .itemNotFound && error.type == .cancel)
        #expect(error.applicationCondition?.name == "unknown-session")
        #expect(error.applicationCondition?.namespace == NS.jingleErrors)
    }

    @Test func unknownConditionBecomesUndefined() throws {
        let e = StanzaError(element: try XMLElement(parsing: "<error type='bogus'><made-up xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"))
        #expect(e.condition == .undefinedCondition && e.type == .cancel)
    }

    @Test func iqValidation() throws {
        #expect(throws: StanzaParseError.missingAttribute("type")) { try IQ(element: XMLElement("iq", ["id": "1"])) }
        #expect(throws: StanzaParseError.invalidAttribute(name: "type", value: "put")) { try IQ(element: XMLElement("iq", ["id": "1", "type": "put"])) }
        #expect(throws: StanzaParseError.missingAttribute("id")) { try IQ(element: XMLElement("iq", ["type": "get"])) }
        #expect(throws: StanzaParseError.iqPayloadCount(0)) { try IQ(element: XMLElement("iq", ["id": "1", "type": "get"])) }
        #expect(throws: StanzaParseError.iqPayloadCount(2)) {
            try IQ(element: XMLElement("iq", ["id": "1", "type": "set"], children: [XMLElement("a"), XMLElement("b")]))
        }
        #expect(throws: StanzaParseError.wrongElement(expected: "iq", found: "message")) { try IQ(element: XMLElement("message")) }
        // A result may be empty.
        #expect(try IQ(element: XMLElement("iq", ["id": "1", "type": "result"])).payload == nil)
    }

    @Test func resultAndErrorRepliesSwapAddresses() throws {
        let request = IQ(type: .get, id: "ping1", from: try JID("a@x/1"), to: try JID("b@x/2"), payload: XMLElement("ping", namespace: NS.ping))
        let result = request.makeResult()
        #expect(result.type == .result && result.id == "ping1")
        #expect(result.from == request.to && result.to == request.from)
        let error = request.makeError(StanzaError(.serviceUnavailable))
        #expect(error.type == .error && error.error?.condition == .serviceUnavailable)
        #expect(error.element[attribute: "from"] == "b@x/2")
    }

    @Test func invalidAddressesAreReported() throws {
        let iq = try IQ(element: XMLElement("iq", ["id": "1", "type": "result", "to": "a@b@c/"]))
        #expect(iq.to == nil)
        #expect(throws: StanzaParseError.invalidJID(attribute: "to", .forbiddenCharacter(part: "domainpart", scalar: 0x40))) { try iq.validatedAddresses() }
    }

    @Test func messageAndPresenceKinds() throws {
        let message = Message(type: .chat, to: try JID("a@b"), body: "hi")
        #expect(try Message(element: message.element).body == "hi")
        #expect(try Message(element: XMLElement("message")).type == .normal)
        #expect(throws: StanzaParseError.self) { try Message(element: XMLElement("message", ["type": "shout"])) }
        #expect(try Presence(element: XMLElement("presence")).type == .available)
        #expect(try Presence(element: XMLElement("presence", ["type": "unavailable"])).type == .unavailable)
        // RFC 6121 §4.7.1: "available" is not a legal value of the type attribute.
        #expect(throws: StanzaParseError.invalidAttribute(name: "type", value: "available")) {
            try Presence(element: XMLElement("presence", ["type": "available"]))
        }
    }
}
