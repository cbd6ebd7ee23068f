import Jingle
import SDP

/// An SDP line (or part of one) that has no Jingle counterpart and is left out on purpose.
public struct JingleSDPDroppedLine: Hashable, Sendable, CustomStringConvertible {
    /// Index of the m-line, or nil at session level.
    public var mediaIndex: Int?
    /// The line as written (`a=msid-semantic:WMS *`), or for a candidate token the token (`ufrag EsAw`).
    public var line: String
    /// Why it cannot be carried.
    public var reason: String

    public init(mediaIndex: Int?, line: String, reason: String) {
        self.mediaIndex = mediaIndex
        self.line = line
        self.reason = reason
    }

    public var description: String {
        "\(mediaIndex.map { "m-line \($0 + 1)" } ?? "session"): \(line) — \(reason)"
    }
}

extension JingleSDPMapper {
    /// Every line of `sdp` that ``jingle(from:context:)`` leaves out (for a full action such as
    /// session-initiate), with the reason. Lines that are only regenerated differently (the `o=` version, `s=`,
    /// `t=`, ICE ports and `c=`) are not listed.
    public static func droppedLines(in sdp: SessionDescription) -> [JingleSDPDroppedLine] {
        var out: [JingleSDPDroppedLine] = []
        func drop(_ index: Int?, _ line: String, _ reason: String) { out.append(JingleSDPDroppedLine(mediaIndex: index, line: line, reason: reason)) }
        if let information = sdp.information { drop(nil, "i=\(information)", "Jingle has no session information text") }
        if let uri = sdp.uri { drop(nil, "u=\(uri)", "Jingle has no session URI") }
        for email in sdp.emails { drop(nil, "e=\(email)", "Jingle has no contact fields") }
        for phone in sdp.phones { drop(nil, "p=\(phone)", "Jingle has no contact fields") }
        for b in sdp.bandwidths { drop(nil, "b=\(b.type):\(b.value)", "XEP-0167 <bandwidth/> exists per description only") }
        if !sdp.timeZones.isEmpty { drop(nil, "z=…", "Jingle sessions are unbounded (no timing)") }
        if let key = sdp.encryptionKey { drop(nil, "k=\(key)", "k= is obsolete (RFC 8866 §5.12); XEP-0167 keys travel in <crypto/>") }
        for attribute in sdp.attributes {
            let line = "a=" + attribute.serialized()
            switch attribute {
            case .group, .iceUfrag, .icePwd, .fingerprint, .setup, .direction, .extmapAllowMixed, .iceLite: break
            case .iceOptions: drop(nil, line, "regenerated: Jingle ICE-UDP always trickles (XEP-0176), other options have no element")
            case .msidSemantic: drop(nil, line, "WebRTC stream semantics have no Jingle element; XEP-0339 <source/> parameters carry msid per SSRC")
            default: drop(nil, line, "no Jingle counterpart at session level")
            }
        }
        for (index, section) in sdp.media.enumerated() {
            let usesICE = sdp.iceUfrag(for: section) != nil || !section.candidates.isEmpty || !sdp.fingerprints(for: section).isEmpty
                || isDataChannel(section)
            if section.bandwidths.count > 1 {
                for b in section.bandwidths.dropFirst() { drop(index, "b=\(b.type):\(b.value)", "XEP-0167 allows one <bandwidth/>: the first b= line is kept") }
            }
            if let information = section.information { drop(index, "i=\(information)", "Jingle has no media title") }
            if let key = section.encryptionKey { drop(index, "k=\(key)", "k= is obsolete (RFC 8866 §5.12)") }
            let formats = Set(section.formats)
            var remoteSeen = false, rtcpSeen = false
            for attribute in section.attributes {
                let line = "a=" + attribute.serialized()
                if section.isRejected {
                    switch attribute {
                    case .candidate, .iceUfrag, .icePwd, .fingerprint, .setup, .endOfCandidates, .remoteCandidates, .rtcp, .iceOptions:
                        drop(index, line, "a rejected m-line (port 0, RFC 3264 §6) maps to a content without transport")
                        continue
                    default: break
                    }
                }
                switch attribute {
                case .candidate(let c):
                    if c.transport.lowercased() != "udp" || c.tcpType != nil {
                        drop(index, line, "XEP-0176 ICE-UDP carries UDP candidates only (TCP candidates with tcptype, RFC 6544, are not mapped)")
                        continue
                    }
                    if case .other = c.type { drop(index, line, "candidate type '\(c.type.rawValue)' is not one of XEP-0176's host/srflx/prflx/relay") }
                    for pair in c.extensions where pair.name != "generation" && !(pair.name == "network-id" && UInt32(pair.value) != nil) {
                        let why = switch pair.name {
                        case "ufrag": "libwebrtc's per-candidate ufrag repeats <transport ufrag>, which XEP-0176 carries once"
                        case "network-cost": "libwebrtc's network-cost has no XEP-0176 attribute"
                        default: "candidate extension '\(pair.name)' has no XEP-0176 attribute"
                        }
                        drop(index, "\(pair.name) \(pair.value)", why)
                    }
                case .rtcp:
                    if usesICE || rtcpSeen { drop(index, line, "with ICE the RTCP address comes from component-2 candidates or rtcp-mux (RFC 8839 §5.1); a=rtcp:9 is a placeholder") }
                    rtcpSeen = true
                case .remoteCandidates(let list):
                    for extra in list.dropFirst(remoteSeen ? 0 : 1) {
                        drop(index, "\(extra.component) \(extra.address) \(extra.port)", "XEP-0176 §5.3 carries one <remote-candidate/>: only the first entry of a=remote-candidates is kept")
                    }
                    remoteSeen = true
                case .rtpmap(let map) where !formats.contains(String(map.payloadType)):
                    drop(index, line, "payload type not in the m= line (RFC 8866 §6.6)")
                case .fmtp(let fmtp) where !formats.contains(fmtp.format) || isDataChannel(section):
                    drop(index, line, "format not in the m= line, or a data channel fmtp (no Jingle element)")
                case .rtcpFeedback(let fb):
                    if case .format(let f) = fb.format, !formats.contains(f) { drop(index, line, "payload type not in the m= line (RFC 4585 §4.2)") }
                case .msid: drop(index, line, "a=msid has no Jingle element; XEP-0339 <source/> parameters carry msid per SSRC")
                case .iceOptions: drop(index, line, "regenerated: Jingle ICE-UDP always trickles (XEP-0176)")
                case .maxMessageSize, .sctpPort, .sctpmap: break
                case .mid, .direction, .iceUfrag, .icePwd, .fingerprint, .setup, .crypto, .rtcpMux, .rtcpRsize, .extmap, .extmapAllowMixed,
                     .ssrc, .ssrcGroup, .endOfCandidates, .ptime, .maxptime, .rtpmap, .fmtp:
                    break
                case .other(let name, _) where name == "bundle-only":
                    drop(index, line, "no Jingle element: the content keeps its BUNDLE group membership (XEP-0338) instead")
                default:
                    drop(index, line, "no Jingle counterpart")
                }
            }
        }
        return out
    }
}

extension JingleSDPMapper {
    /// What ``sdp(from:author:)`` leaves out of a Jingle payload, with the reason; `mediaIndex` is the index of
    /// the content (nil for the `<jingle/>` element itself), `line` names the element or attribute.
    public static func droppedElements(in payload: JinglePayload) -> [JingleSDPDroppedLine] {
        var out: [JingleSDPDroppedLine] = []
        func drop(_ index: Int?, _ what: String, _ reason: String) { out.append(JingleSDPDroppedLine(mediaIndex: index, line: what, reason: reason)) }
        if payload.reason != nil { drop(nil, "<reason/>", "SDP has no termination reason (draft-ietf-stox-media maps it to the SIP response)") }
        for e in payload.extensions { drop(nil, "<\(e.name) xmlns='\(e.namespace)'/>", "unknown element, no SDP line") }
        for a in payload.extraAttributes { drop(nil, "\(a.name)='\(a.value)'", "unknown attribute, no SDP line") }
        for (index, content) in payload.contents.enumerated() {
            if let disposition = content.disposition, disposition != "session" {
                drop(index, "disposition='\(disposition)'", "SDP has no content disposition")
            }
            for a in content.extraAttributes { drop(index, "\(a.name)='\(a.value)'", "unknown content attribute") }
            for e in content.extensions where e.namespace != SDPMappingExtension.namespace {
                drop(index, "<\(e.name) xmlns='\(e.namespace)'/>", "unknown content child")
            }
            if let description = content.description, let rtp = try? rtpDescription(description) {
                if let ssrc = rtp.ssrc { drop(index, "ssrc='\(ssrc)'", "the deprecated description ssrc (XEP-0167 §4) has no line; XEP-0339 <source/> has") }
                // Dino sends <source ssrc/> without parameters; a=ssrc needs an attribute (RFC 5576 §4.1), so it has no line.
                for source in rtp.sources {
                    if source.parameters.isEmpty {
                        drop(index, "<source ssrc='\(source.ssrc)'/>", "a=ssrc needs an attribute (RFC 5576 §4.1); a source without <parameter/> has no SDP line")
                    }
                    // Jitsi's <ssrc-info owner/> and name/videoType attributes on <source/> have no a=ssrc form.
                    for a in source.extraAttributes { drop(index, "\(a.name)='\(a.value)'", "unknown source attribute") }
                    for e in source.extensions { drop(index, "<\(e.name) xmlns='\(e.namespace)'/>", "unknown source child") }
                }
                for a in rtp.extraAttributes { drop(index, "\(a.name)='\(a.value)'", "unknown description attribute") }
                for e in rtp.extensions where e.namespace != SDPMappingExtension.namespace {
                    drop(index, "<\(e.name) xmlns='\(e.namespace)'/>", "unknown description child")
                }
                if let required = rtp.encryption?.required {
                    drop(index, "<encryption required='\(required)'/>", "SDP says it with the profile: RTP/SAVP is written whenever <crypto/> is present (RFC 4568 §5)")
                }
                for e in rtp.encryption?.extensions ?? [] { drop(index, "<\(e.name) xmlns='\(e.namespace)'/>", "keying other than SDES <crypto/> has no line here") }
                let ptime = rtp.payloadTypes.lazy.compactMap(\.ptime).first
                let maxptime = rtp.payloadTypes.lazy.compactMap(\.maxptime).first
                for pt in rtp.payloadTypes {
                    if let p = pt.ptime, p != ptime { drop(index, "<payload-type id='\(pt.id)' ptime='\(p)'/>", "one a=ptime per m-line (RFC 8866 §6.4): the first payload type's wins") }
                    if let p = pt.maxptime, p != maxptime { drop(index, "<payload-type id='\(pt.id)' maxptime='\(p)'/>", "one a=maxptime per m-line (RFC 8866 §6.5)") }
                    for a in pt.extraAttributes { drop(index, "\(a.name)='\(a.value)'", "unknown payload-type attribute") }
                    for e in pt.extensions { drop(index, "<\(e.name) xmlns='\(e.namespace)'/>", "unknown payload-type child") }
                }
            }
            if let transport = content.transport, let ice = iceTransport(transport) {
                // An id that the way back would derive again is not lost (ours, or a round trip of SDP).
                for c in ice.candidates where c.id != JingleSDPMapper.candidateID(content: content.name, c.foundation, c.component, c.ip, c.port) {
                    drop(index, "<candidate id='\(c.id)'/>", "a=candidate has no id (RFC 8839 §5.1); ids are regenerated from the candidate")
                }
                if let first = ice.fingerprints.first {
                    for fp in ice.fingerprints.dropFirst() where fp.setup != first.setup {
                        drop(index, "<fingerprint setup='\(fp.setup.rawValue)'/>", "one a=setup per m-line (RFC 4145 §4): the first fingerprint's wins")
                    }
                }
                for a in ice.extraAttributes { drop(index, "\(a.name)='\(a.value)'", "unknown transport attribute") }
                for e in ice.extensions where e.namespace != SDPMappingExtension.namespace && e.namespace != SCTPMap.namespace {
                    drop(index, "<\(e.name) xmlns='\(e.namespace)'/>", "unknown transport child")
                }
            } else if let raw = content.transport as? RawUDPTransport {
                for c in raw.candidates where c.generation != 0
                    || c.id != JingleSDPMapper.candidateID(content: content.name, "raw", c.component, c.ip, c.port) {
                    drop(index, "<candidate id='\(c.id)' generation='\(c.generation)'/>", "c= and the m= port carry address and port only (XEP-0177 §4)")
                }
                for c in raw.candidates.dropFirst(2) { drop(index, "<candidate component='\(c.component)'/>", "SDP has one RTP and one RTCP address") }
            }
        }
        return out
    }
}
