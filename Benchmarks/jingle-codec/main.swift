// Benchmarks/jingle-codec: parse + validate + serialize a two-content session-initiate through the Jingle
// models, against XMLStream parse + serialize alone of the same text, in the same run. The ratio is the
// cost of the typed model on top of the XML layer.
// Run: swift run -c release bench-jingle-codec     Last line: jingle-codec: ours=<N>stanzas/s baseline=<N>stanzas/s ratio=<x>
import Foundation
import Jingle
import XMLStream
#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Audio + video with BUNDLE, ICE candidates and DTLS fingerprints: what a WebRTC-style call offers.
let stanza = """
<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='romeo@montague.lit/orchard' sid='a73sjjvkla37jfea'>\
<group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'><content name='audio'/><content name='video'/></group>\
<content creator='initiator' name='audio'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>\
<payload-type id='111' name='opus' clockrate='48000' channels='2'><parameter name='minptime' value='10'/><parameter name='useinbandfec' value='1'/>\
<rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='transport-cc'/></payload-type>\
<payload-type id='0' name='PCMU' clockrate='8000'/><payload-type id='8' name='PCMA' clockrate='8000'/>\
<rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='1' uri='urn:ietf:params:rtp-hdrext:ssrc-audio-level'/>\
<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='1234567890'><parameter name='cname' value='romeo'/></source><rtcp-mux/></description>\
<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd='asd88fgpdd777uzjYhagZg' ufrag='8hhy'>\
<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>02:1A:CC:54:27:AB:EB:9C:53:3F:3E:4B:65:2E:7D:46:3F:54:42:CD:54:F1:7A:03:A2:7D:F9:B0:7F:46:19:B2</fingerprint>\
<candidate component='1' foundation='1' generation='0' id='el0747fg11' ip='10.0.1.1' network='1' port='8998' priority='2130706431' protocol='udp' type='host'/>\
<candidate component='1' foundation='2' generation='0' id='y3s2b30v3r' ip='192.0.2.3' network='1' port='45664' priority='1694498815' protocol='udp' rel-addr='10.0.1.1' rel-port='8998' type='srflx'/>\
</transport></content>\
<content creator='initiator' name='video'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'>\
<payload-type id='96' name='VP8' clockrate='90000'><rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='nack'/>\
<rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='nack' subtype='pli'/><rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='ccm' subtype='fir'/></payload-type>\
<payload-type id='97' name='rtx' clockrate='90000'><parameter name='apt' value='96'/></payload-type>\
<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='11'><parameter name='cname' value='romeo'/></source>\
<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='12'><parameter name='cname' value='romeo'/></source>\
<ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='FID'><source ssrc='11'/><source ssrc='12'/></ssrc-group><rtcp-mux/></description>\
<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd='asd88fgpdd777uzjYhagZg' ufrag='8hhy'>\
<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>02:1A:CC:54:27:AB:EB:9C:53:3F:3E:4B:65:2E:7D:46:3F:54:42:CD:54:F1:7A:03:A2:7D:F9:B0:7F:46:19:B2</fingerprint>\
</transport></content></jingle>
"""
let bytes = Array(stanza.utf8)

nonisolated(unsafe) var sink = 0

func runOurs(_ n: Int) -> Int {
    var done = 0
    for _ in 0..<n {
        guard let element = try? XMLElement(parsing: bytes), let payload = try? JinglePayload(element: element) else { continue }
        if !JingleValidator.validate(payload).contains(where: { $0.severity == .error }) {
            sink &+= payload.element().serialized().utf8.count
            done += 1
        }
    }
    return done
}

func runBaseline(_ n: Int) -> Int {
    var done = 0
    for _ in 0..<n {
        guard let element = try? XMLElement(parsing: bytes) else { continue }
        sink &+= element.serialized().utf8.count
        done += 1
    }
    return done
}

let iterations = 20_000
print("input: one \(bytes.count)-byte session-initiate (2 contents, BUNDLE, ICE, DTLS), \(iterations) iterations")

func measure(_ name: String, _ body: (Int) -> Int) -> Double {
    var best = 0.0
    for _ in 0..<5 {
        let start = now()
        let n = body(iterations)
        let elapsed = now() - start
        precondition(n == iterations, "\(name) handled \(n) of \(iterations)")
        best = max(best, Double(n) / elapsed)
    }
    print("\(name): \(Int(best)) stanzas/s, best of 5")
    return best
}

let baseline = measure("XMLStream parse + serialize", runBaseline)
let ours = measure("Jingle parse + validate + serialize", runOurs)
print("(checksum \(sink))")
print("jingle-codec: ours=\(Int(ours))stanzas/s baseline=\(Int(baseline))stanzas/s ratio=\(String(format: "%.2f", ours / baseline))")
