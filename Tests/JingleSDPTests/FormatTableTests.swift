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
