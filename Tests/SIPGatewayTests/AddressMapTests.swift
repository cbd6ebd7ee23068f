import Jingle
import SIPGateway
import Testing

struct AddressMapTests {
    @Test(arguments: [
        ("sip:(.+)@127.0.0.1 -> \\1@localhost", "sip:alice@127.0.0.1", "alice@localhost"),
        ("sip:bob-(.+)@gw -> bob@localhost/\\1", "sip:bob-phone@gw", "bob@localhost/phone"),
        ("sip:(.+)@127.0.0.1 -> \\1@localhost", "sip:alice@10.0.0.1", nil),
        // Case-insensitive, as SIP URI schemes and hosts are (RFC 3261 §19.1.4).
        ("sip:(.+)@GW.example -> \\1@localhost", "SIP:Alice@gw.EXAMPLE", "Alice@localhost"),
        // The whole input must match, alternatives included.
        ("sip:a@x|sip:b@x -> z@localhost", "sip:b@x", "z@localhost"),
        ("sip:a@x|sip:b@x -> z@localhost", "sip:a@xjunk", nil),
        ("sip:a@x|sip:b@x -> z@localhost", "junksip:b@x", nil),
        // Captures carry non-ASCII users unchanged.
        ("sip:(.+)@gw -> \\1@localhost", "sip:jos\u{E9}@gw", "jos\u{E9}@localhost"),
    ] as [(String, String, String?)])
    func sipToJID(rule: String, sip: String, jid: String?) throws {
        let map = GatewayAddressMap(rules: [try .init(rule)])
        #expect(map.jid(forSIP: sip) == jid)
    }

    @Test func reverseDerivedFromForwardRule() throws {
        let map = GatewayAddressMap(rules: [try .init("sip:(.+)@127.0.0.1 -> \\1@localhost")])
        #expect(map.sipURI(forJID: "carol@localhost") == "sip:carol@127.0.0.1")
        #expect(map.sipURI(forJID: "carol@elsewhere") == nil)
    }

    @Test func explicitReverseRuleWins() throws {
        let map = GatewayAddressMap(rules: [try .init("sip:(.+)@127.0.0.1 -> \\1@localhost")],
                                    reverseRules: [try .init("(.+)@jingle.localhost -> sip:\\1@127.0.0.1:5070")])
        #expect(map.sipURI(forJID: "carol@jingle.localhost") == "sip:carol@127.0.0.1:5070")
    }

    @Test(arguments: ["no arrow", " -> x", "sip:(unclosed -> \\1"])
    func badRulesAreTypedErrors(rule: String) {
        #expect(throws: GatewayError.self) { try GatewayAddressMap.Rule(rule) }
    }

    @Test(arguments: [
        (JingleReason.Condition.busy, 486), (.decline, 603), (.gone, 480), (.timeout, 480), (.cancel, 487),
        (.unsupportedApplications, 488),
    ] as [(JingleReason.Condition, Int)])
    func jingleReasonToSIP(condition: JingleReason.Condition, status: Int) {
        #expect(GatewayStatusMapping.sipStatus(for: condition) == status)
    }

    @Test(arguments: [(486, JingleReason.Condition.busy), (603, .decline), (480, .gone), (408, .timeout), (487, .cancel), (500, .generalError)])
    func sipStatusToJingle(status: Int, condition: JingleReason.Condition) {
        #expect(GatewayStatusMapping.jingleReason(forSIPStatus: status) == condition)
    }
}
