import Foundation
import Testing

/// The GatewayScenario sample: SIPp -> gateway -> private Prosody -> Jingle client, one completed call.
@Suite("Samples: GatewayScenario")
struct GatewayScenarioTests {
    @Test func sippCallCompletesThroughTheGateway() throws {
        let result = try SampleRunner.run("GatewayScenario", timeout: 40)
        #expect(result.status == 0, "stderr: \(result.stderr)\nstdout: \(result.stdout)")
        let out = result.stdout
        #expect(out.contains("bob: online as bob@localhost/phone"))
        #expect(out.contains("gateway: SIP on udp:127.0.0.1:"))
        // The SIP offer reached bob as Jingle over raw UDP (no ICE in a plain SIP offer), with both codecs.
        #expect(out.contains("transport urn:xmpp:jingle:transports:raw-udp:1"))
        #expect(out.contains("RTP/AVP 0 8"))
        // SIPp saw the answer mapped back to SDP; BYE became session-terminate success.
        #expect(out.contains("sipp: 200 OK answer: m=audio 41000 RTP/AVP 0"), "\(out)")
        #expect(out.contains("sipp: exit status 0 (the scenario passed)"))
        #expect(out.contains("bob: session ended by the gateway: success"))
        #expect(out.contains("gateway: calls=1 active=0 completed=1 failed=0"))
        #expect(out.contains("result: ok"))
    }

    @Test func aScenarioThatCannotBeReadFails() throws {
        let result = try SampleRunner.run("GatewayScenario", ["--scenario", "/nonexistent.xml"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot read /nonexistent.xml"))
    }

    @Test func badArgumentsAreUsageErrors() throws {
        let result = try SampleRunner.run("GatewayScenario", ["--scenario"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--scenario needs a file"))
    }
}
