import ICE
import Testing

@Suite("ICECandidate a=candidate grammar (RFC 8839 §5.1)")
struct ICECandidateTests {
    @Test("parses and re-serializes candidate lines", arguments: [
        ("a=candidate:1 1 UDP 2130706431 192.0.2.1 5000 typ host",
         ICECandidate(foundation: "1", component: 1, priority: 2_130_706_431, address: "192.0.2.1", port: 5000, type: .host),
         "candidate:1 1 UDP 2130706431 192.0.2.1 5000 typ host"),
        ("candidate:abc+/ 2 udp 1694498815 198.51.100.7 61000 typ srflx raddr 10.0.0.2 rport 5001 generation 1 network-id 3",
         ICECandidate(foundation: "abc+/", component: 2, priority: 1_694_498_815, address: "198.51.100.7", port: 61000,
                      type: .srflx, relatedAddress: "10.0.0.2", relatedPort: 5001, generation: 1, network: 3),
         "candidate:abc+/ 2 UDP 1694498815 198.51.100.7 61000 typ srflx raddr 10.0.0.2 rport 5001 generation 1 network-id 3"),
        ("4 1 TCP 1518280447 2001:db8::5 9 typ host tcptype active",
         ICECandidate(foundation: "4", component: 1, transport: .tcp, priority: 1_518_280_447, address: "2001:db8::5", port: 9,
                      type: .host, tcpType: .active),
         "candidate:4 1 TCP 1518280447 2001:db8::5 9 typ host tcptype active"),
        ("candidate:9 1 UDP 16777215 203.0.113.9 3478 typ relay raddr 198.51.100.7 rport 61000 ufrag x unknown-ext y\r\n",
         ICECandidate(foundation: "9", component: 1, priority: 16_777_215, address: "203.0.113.9", port: 3478,
                      type: .relay, relatedAddress: "198.51.100.7", relatedPort: 61000),
         "candidate:9 1 UDP 16777215 203.0.113.9 3478 typ relay raddr 198.51.100.7 rport 61000"),
    ])
    func parse(line: String, expected: ICECandidate, serialized: String) throws {
        let parsed = try ICECandidate(sdp: line)
        #expect(parsed == expected)
        #expect(parsed.sdpAttributeValue == serialized)
        #expect(try ICECandidate(sdp: parsed.sdpAttributeValue) == parsed)
    }

    @Test("rejects malformed lines with a typed error", arguments: [
        ("candidate:1 1 UDP 2130706431 192.0.2.1 5000 typ", ICEError.invalidCandidate("expected at least 8 fields, got 7")),
        ("candidate:1 0 UDP 1 192.0.2.1 5000 typ host", .invalidCandidate("component-id must be 1 to 256")),
        ("candidate:1 1 UDP 99999999999 192.0.2.1 5000 typ host", .invalidCandidate("priority must be 1 to 10 digits fitting 32 bits")),
        ("candidate:1 1 UDP 1 192.0.2.1 70000 typ host", .invalidCandidate("port \"70000\" is not 0 to 65535")),
        ("candidate:1 1 UDP 1 192.0.2.1 5000 type host", .invalidCandidate("expected \"typ\", got \"type\"")),
        ("candidate:1 1 SCTP 1 192.0.2.1 5000 typ host", .unsupported("candidate transport SCTP")),
        ("candidate:1 1 UDP 1 192.0.2.1 5000 typ weird", .unsupported("candidate type weird")),
        ("candidate:f*o 1 UDP 1 192.0.2.1 5000 typ host", .invalidCandidate("foundation must be 1 to 32 ice-chars")),
        ("candidate:1 1 UDP 1 192.0.2.1 5000 typ host raddr", .invalidCandidate("extension \"raddr\" without a value")),
        ("candidate:1 1 TCP 1 192.0.2.1 5000 typ host", .invalidCandidate("TCP candidate without tcptype (RFC 6544 §4.5)")),
    ])
    func reject(line: String, error: ICEError) {
        #expect(throws: error) { try ICECandidate(sdp: line) }
    }

    @Test("credentials follow RFC 8839 §5.4 lengths and ice-chars", arguments: [
        ("abcd", String(repeating: "p", count: 22), true),
        ("abc", String(repeating: "p", count: 22), false),
        ("abcd", String(repeating: "p", count: 21), false),
        ("ab-d", String(repeating: "p", count: 22), false),
        ("a+/d", String(repeating: "P9+/", count: 6), true),
    ])
    func credentials(ufrag: String, pwd: String, valid: Bool) {
        let credentials = ICECredentials(ufrag: ufrag, pwd: pwd)
        if valid {
            #expect(throws: Never.self) { try credentials.validate() }
        } else {
            #expect(throws: ICEError.self) { try credentials.validate() }
        }
    }
}
