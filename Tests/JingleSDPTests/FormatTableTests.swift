import Testing
import Jingle
import SDP
@testable import JingleSDP

/// Per-payload-type lines are found by number: a few are searched, many are indexed; both give each payload
/// type its first rtpmap and fmtp and all its rtcp-fb lines in order, as the string-keyed lookup did.
struct FormatTableTests {
    @Test(arguments: [3, 40])
    func everyPayloadTypeGetsItsOwnLines(count: Int) throws {
        let ids = (0..<count).map { 96 - count / 2 + $0 }
        var lines = ["m=video 9 UDP/TLS/RTP/SAVPF " + ids.map(String.init).joined(separator: " "), "c=IN IP4 0.0.0.0"] + ice
        // Listed in reverse so the first line of each kind is not the one of the first payload type.
        for id in ids.reversed() {
            lines += ["a=rtpmap:\(id) codec\(id)/90000", "a=fmtp:\(id) p=\(id)", "a=rtcp-fb:\(id) nack", "a=rtcp-fb:\(id) ccm fir"]
        }
        // Repeats: the first rtpmap and fmtp win, every rtcp-fb line counts.
        lines += ["a=rtpmap:\(ids[0]) other/8000", "a=fmtp:\(ids[0]) p=other", "a=rtcp-fb:\(ids[0]) goog-remb"]
        let jingle = try mapper.jingle(from: try sdp(lines), context: .init(author: .initiator, action: .sessionInitiate))
        let rtp = try #require(jingle.contents.first?.description as? RTPDescription)
        #expect(rtp.payloadTypes.map { Int($0.id) } == ids)
        for pt in rtp.payloadTypes {
            #expect(pt.name == "codec\(pt.id)")
            #expect(pt.clockrate == 90000)
            #expect(pt.parameters == [RTPParameter(name: "p", value: "\(pt.id)")])
            let expected = ["nack", "ccm"] + (Int(pt.id) == ids[0] ? ["goog-remb"] : [])
            #expect(pt.rtcpFeedback.map(\.type) == expected)
        }
    }
}

/// Candidate ids are hashed piece by piece: the same id as the hash of the interpolated text.
struct CandidateIDTests {
    @Test(arguments: [("audio", "1467250027", UInt16(1), "192.0.2.10", UInt16(46243)), ("0", "x", 256, "::1", 0),
                      ("é", "", 65535, "fe80::1%eth0", 65535)])
    func idIsTheHashOfTheInterpolatedText(content: String, foundation: String, component: UInt16, ip: String, port: UInt16) {
        let expected = "c" + hexID("\(content) \(foundation) \(component) \(ip) \(port)")
        #expect(JingleSDPMapper.candidateID(content: content, foundation, component, ip, port) == expected)
        #expect(expected.utf8.count == 9)
    }

    @Test(arguments: ["", "a", "SCTP", "UDP/DTLS/SCTP", "dtls/sctp", "RTP/AVP", "udp/tls/rtp/savpf", "RTP", "xRTP/", "RTP/\u{301}"])
    func profileTestsMatchTheStringAnswers(proto: String) {
        #expect(JingleSDPMapper.isRTPProfile(proto) == proto.uppercased().contains("RTP/"))
        let section = SDPMediaDescription(media: "application", port: 9, proto: proto, formats: [])
        #expect(JingleSDPMapper.isDataChannel(section) == proto.uppercased().hasSuffix("SCTP"))
    }
}
