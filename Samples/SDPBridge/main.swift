// SDPBridge: the SDP <-> Jingle conversion a SIP/XMPP signalling gateway performs, one step at a time.
//
//   SDP offer  --JingleSDPMapper-->  Jingle session-initiate  (XEP-0166 §7.2.10, mapping per XEP-0167 §9)
//   SDP answer (RFC 3264 §6)  <--SessionDescription.answer--  the offer
//   SDP answer --JingleSDPMapper-->  Jingle session-accept    (XEP-0166 §7.2.8)
//   session-accept --JingleSDPMapper-->  SDP answer again, as the SIP side would receive it
//
// Only the public API of the SDP, Jingle, JingleSDP, XMPPCore and XMLStream libraries is used.
import Foundation
import Jingle
import JingleSDP
import SDP
import XMLStream
import XMPPCore

let usage = """
    usage: SDPBridge [OFFER.sdp | -]

    Reads an SDP offer (a built-in browser-like offer when no argument is given, '-' for standard input),
    prints the Jingle session-initiate it maps to, answers it (RFC 3264), prints the Jingle session-accept
    for the answer and the SDP answer mapped back from it.

    examples:
      SDPBridge
      SDPBridge phone-offer.sdp
      cat offer.sdp | SDPBridge -
    """

/// A WebRTC-style offer: audio (Opus, PCMU, DTMF) and video (VP8 + RTX) bundled over one ICE transport with
/// DTLS-SRTP, plus a data channel this bridge does not accept (so the answer shows a rejected m-line).
let builtInOffer = """
    v=0
    o=- 4611731400430051336 2 IN IP4 127.0.0.1
    s=-
    t=0 0
    a=group:BUNDLE 0 1 2
    a=msid-semantic:WMS stream
    m=audio 50123 UDP/TLS/RTP/SAVPF 111 0 126
    c=IN IP4 127.0.0.1
    a=rtcp:9 IN IP4 0.0.0.0
    a=candidate:1467250027 1 udp 2122260223 127.0.0.1 50123 typ host generation 0
    a=end-of-candidates
    a=ice-ufrag:EsAw
    a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1
    a=ice-options:trickle
    a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F
    a=setup:actpass
    a=mid:0
    a=sendrecv
    a=rtcp-mux
    a=rtpmap:111 opus/48000/2
    a=fmtp:111 minptime=10;useinbandfec=1
    a=rtpmap:0 PCMU/8000
    a=rtpmap:126 telephone-event/8000
    a=fmtp:126 0-15
    a=ssrc:1001 cname:k5Ot8UpyZgqYzVjH
    m=video 50123 UDP/TLS/RTP/SAVPF 96 97
    c=IN IP4 127.0.0.1
    a=rtcp:9 IN IP4 0.0.0.0
    a=ice-ufrag:EsAw
    a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1
    a=ice-options:trickle
    a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F
    a=setup:actpass
    a=mid:1
    a=sendrecv
    a=rtcp-mux
    a=rtpmap:96 VP8/90000
    a=rtcp-fb:96 nack
    a=rtcp-fb:96 nack pli
    a=rtpmap:97 rtx/90000
    a=fmtp:97 apt=96
    a=ssrc-group:FID 2002 2003
    a=ssrc:2002 cname:k5Ot8UpyZgqYzVjH
    a=ssrc:2003 cname:k5Ot8UpyZgqYzVjH
    m=application 50123 UDP/DTLS/SCTP webrtc-datachannel
    c=IN IP4 127.0.0.1
    a=ice-ufrag:EsAw
    a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1
    a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F
    a=setup:actpass
    a=mid:2
    a=sctp-port:5000
    a=max-message-size:262144

    """.replacingOccurrences(of: "\n", with: "\r\n")

/// What the gateway's own media side supports: the answer keeps only these (RFC 3264 §6.1).
let capabilities = SDPLocalCapabilities(
    codecs: [
        SDPCodecCapability(name: "opus", clockRate: 48000, channels: 2),
        SDPCodecCapability(name: "PCMU", clockRate: 8000),
        SDPCodecCapability(name: "telephone-event", clockRate: 8000),
        SDPCodecCapability(name: "VP8", clockRate: 90000),
        SDPCodecCapability(name: "rtx", clockRate: 90000),
    ],
    mediaKinds: ["audio", "video"],
    iceUfrag: "gw01", icePwd: "gatewaypasswordgateway01",
    candidates: [SDPCandidate(foundation: "1", component: 1, transport: "udp", priority: 2_130_706_431,
                              address: "127.0.0.1", port: 40000, type: .host)],
    fingerprint: SDPFingerprint(hashFunction: "sha-256",
                                fingerprint: "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"))

/// Indents an element one child per line (the SDP mapping never mixes text with child elements).
func pretty(_ element: XMLElement, indent: Int = 0, inherited: String = "") -> String {
    let pad = String(repeating: "  ", count: indent)
    let onlyElements = !element.children.isEmpty && element.children.allSatisfy { if case .element = $0 { true } else { false } }
    guard onlyElements else { return pad + element.serialized(defaultNamespace: inherited) }
    var open = element
    open.children = []
    let tag = open.serialized(defaultNamespace: inherited)
    let inner = element.elements.map { pretty($0, indent: indent + 1, inherited: element.namespace) }
    return ([pad + String(tag.dropLast(2)) + ">"] + inner + [pad + "</\(element.name)>"]).joined(separator: "\n")
}

func step(_ number: Int, _ title: String, _ body: String) {
    print("== \(number). \(title)")
    print(body.replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(in: .newlines))
    print()
}

struct BridgeFailure: Error, CustomStringConvertible {
    let description: String
}

func run(arguments: [String]) throws {
    let text: String
    let source: String
    switch arguments.first {
    case nil:
        (text, source) = (builtInOffer, "built-in browser-like offer")
    case "-":
        (text, source) = (String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self), "standard input")
    case let path?:
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BridgeFailure(description: "cannot read '\(path)' (hint: pass a readable SDP file, or no argument for the built-in offer)")
        }
        (text, source) = (String(decoding: data, as: UTF8.self), path)
    }

    let caller = try JID("caller@sip.example/gw")
    let callee = try JID("callee@xmpp.example/phone")
    let sid = "bridge-1"
    let mapper = JingleSDPMapper()

    // 1. The SIP side's offer (RFC 8866 syntax).
    let offer = try SessionDescription(parsing: text)
    step(1, "SDP offer (\(source)): \(offer.media.count) m-line(s)", offer.serialized())

    // Lines that have no Jingle form are reported, not silently lost.
    let dropped = JingleSDPMapper.droppedLines(in: offer)
    if !dropped.isEmpty {
        step(2, "SDP lines without a Jingle form (\(dropped.count))", dropped.map(\.description).joined(separator: "\n"))
    } else {
        step(2, "SDP lines without a Jingle form (0)", "none")
    }

    // 3. Offer -> session-initiate, sent by the gateway on behalf of the caller (XEP-0166 §7.2.10).
    let initiate = try mapper.jingle(from: offer, context: .init(author: .initiator, action: .sessionInitiate, sid: sid,
                                                                 initiator: caller, responder: callee))
    let initiateIQ = IQ(type: .set, id: "ji-1", from: caller, to: callee, payload: initiate.element())
    step(3, "Jingle session-initiate: \(initiate.contents.count) content(s)", pretty(initiateIQ.element))

    // 4. The callee's side answers the offer (RFC 3264 §6): common codecs, reversed direction, DTLS setup.
    let answer = try SessionDescription.answer(to: offer, capabilities: capabilities,
                                               origin: SDPOrigin(sessionID: "777", sessionVersion: 1))
    let accepted = answer.media.filter { $0.port != 0 }.count
    step(4, "SDP answer (RFC 3264): \(accepted) of \(answer.media.count) m-line(s) accepted", answer.serialized())

    // 5. Answer -> session-accept, from the responder (XEP-0166 §7.2.8).
    let accept = try mapper.jingle(from: answer, context: .init(author: .responder, action: .sessionAccept, sid: sid,
                                                                initiator: caller, responder: callee))
    let acceptIQ = IQ(type: .set, id: "ja-1", from: callee, to: caller, payload: accept.element())
    step(5, "Jingle session-accept: \(accept.contents.count) content(s)", pretty(acceptIQ.element))

    // 6. What the SIP caller finally receives: the session-accept parsed from its wire form and mapped back.
    let wire = try XMLElement(parsing: accept.element().serialized())
    let received = try JinglePayload(element: wire, registry: .sdpMapping)
    let back = try mapper.sdp(from: received, author: .responder)
    let sameCodecs = back.media.map(\.formats) == answer.media.map(\.formats)
    step(6, "SDP answer mapped back from the session-accept (codecs \(sameCodecs ? "match" : "DIFFER from") the answer)",
         back.serialized())
    if !sameCodecs {
        throw BridgeFailure(description: "the answer's formats did not survive the Jingle round trip")
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}
if arguments.count > 1 {
    FileHandle.standardError.write(Data("error: too many arguments (hint: SDPBridge --help)\n".utf8))
    exit(64)
}
do {
    try run(arguments: arguments)
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
