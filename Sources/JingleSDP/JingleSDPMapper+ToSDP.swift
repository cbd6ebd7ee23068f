import Jingle
import SDP
import XMLStream

extension JingleSDPMapper {
    /// Maps a Jingle payload to the session description its `author` would write.
    ///
    /// - Profile: `UDP/TLS/RTP/SAVPF` when the transport carries a DTLS fingerprint (as browsers and Jingle
    ///   clients do, XEP-0320), `RTP/SAVP` with SDES `<encryption>` (XEP-0167 §7), `RTP/AVP` otherwise;
    ///   `UDP/DTLS/SCTP webrtc-datachannel` for data channels (RFC 8841), a rejected content keeps its profile.
    /// - Port and `c=`: the default ICE candidate (the first component-1 relay, else srflx, else host candidate
    ///   that is not an mDNS name); port 9 and `c=IN IP4 0.0.0.0` while candidates trickle (RFC 8840 §4.1.1).
    ///   Within a BUNDLE group a section without candidates shares the port of the first one that has them
    ///   (RFC 8843 §7.3). Raw UDP (XEP-0177): the component-1 candidate, and `a=rtcp` for component 2.
    /// - A content without description or transport (transport-info, description-info) gets the placeholder
    ///   m-line of RFC 8840 §9, `m=audio 9 RTP/AVP 0`.
    public func sdp(from payload: JinglePayload, author: JingleRole) throws(JingleSDPError) -> SessionDescription {
        guard !Self.containsSpace(payload.sid) else {
            throw JingleSDPError(.invalidValue, "sid '\(payload.sid)' contains white space, which the o= line cannot carry (RFC 8866 §5.2)")
        }
        let origin = SDPOrigin(username: options.originUsername, sessionID: payload.sid, sessionVersion: options.sessionVersion,
                               address: options.originAddress)
        var sdp = SessionDescription(origin: origin)
        var seen: Set<String> = []
        var anyICE = false, iceLite = false
        sdp.media.reserveCapacity(payload.contents.count)
        for index in payload.contents.indices {
            let name = payload.contents[index].name
            // Two contents: a linear check; more get the set.
            let repeated = payload.contents.count <= 8
                ? payload.contents[..<index].contains { $0.name == name } : !seen.insert(name).inserted
            guard !repeated else {
                throw JingleSDPError(.duplicateName, "two contents are named '\(name)' (XEP-0166 §7.1)")
            }
            var ice: ICEUDPTransport?
            let section = try mediaSection(payload.contents[index], action: payload.action, author: author, ice: &ice)
            if let ice {
                anyICE = true
                if SDPMappingExtension.find("ice-lite", in: ice.extensions) != nil { iceLite = true }
            }
            sdp.media.append(section)
        }
        sdp.attributes.reserveCapacity(payload.groups.count + 2)
        for group in payload.groups {
            sdp.attributes.append(.group(SDPGroup(semantics: group.semantics, identifiers: group.contents)))
        }
        if iceLite { sdp.attributes.append(.iceLite) }
        if anyICE && options.announceTrickle { sdp.attributes.append(.iceOptions(["trickle"])) }
        Self.shareBundlePorts(&sdp, groups: payload.groups, mids: payload.contents.map(\.name))
        try Self.validate(sdp)
        return sdp
    }

    static func iceTransport(_ transport: any JingleTransportMethod) -> ICEUDPTransport? {
        if let ice = transport as? ICEUDPTransport { return ice }
        let e = transport.element()
        guard e.namespace == ICEUDPTransport.namespace else { return nil }
        return try? ICEUDPTransport(element: e)
    }

    static func rtpDescription(_ description: any JingleApplicationDescription) throws(JingleSDPError) -> RTPDescription? {
        if let rtp = description as? RTPDescription { return rtp }
        let e = description.element()
        guard e.namespace == RTPDescription.namespace else { return nil }
        do { return try RTPDescription(element: e) } catch { throw JingleSDPError(.invalidValue, error.description) }
    }

    func mediaSection(_ content: JingleContent, action: JingleWireAction, author: JingleRole) throws(JingleSDPError) -> SDPMediaDescription {
        var ice: ICEUDPTransport?
        return try mediaSection(content, action: action, author: author, ice: &ice)
    }

    /// The m-line of a content; `ice` receives its ICE-UDP transport, if any (read once, used twice).
    func mediaSection(_ content: JingleContent, action: JingleWireAction, author: JingleRole,
                      ice iceOut: inout ICEUDPTransport?) throws(JingleSDPError) -> SDPMediaDescription {
        let rejected = SDPMappingExtension.find("rejected", in: content.extensions)
        var section = SDPMediaDescription(media: "audio", port: 9, proto: "RTP/AVP", formats: ["0"])
        var attributes: [SDPAttribute] = [.mid(content.name)]
        if let senders = content.senders { attributes.append(.direction(senders.sdpDirection(author: author))) }

        // Transport first: its fingerprint decides the RTP profile.
        var hasFingerprint = false
        var connection: SDPConnection? = SDPConnection(address: "0.0.0.0")
        // Transport then description attributes go straight into the m-line's list (no partial lists to join).
        attributes.reserveCapacity(32)
        var dataAttributes: [SDPAttribute] = []
        var sctp: SCTPMap?
        if let transport = content.transport, rejected == nil {
            iceOut = Self.iceTransport(transport)
            if let ice = iceOut {
                hasFingerprint = !ice.fingerprints.isEmpty
                if let setup = ice.fingerprints.first?.setup, setup == .actpass, action == .sessionAccept || action == .contentAccept {
                    throw JingleSDPError(.invalidSetupRole, "content '\(content.name)': an answer must choose setup='active' or 'passive', not actpass (RFC 5763 §5, XEP-0320 §3)")
                }
                iceAttributes(ice, into: &attributes)
                if let best = Self.defaultCandidate(ice.candidates) {
                    section.port = best.port
                    connection = SDPConnection(addressType: Self.isIPv6(best.ip) ? "IP6" : "IP4", address: best.ip)
                }
                for x in ice.extensions where x.namespace == SCTPMap.namespace && x.name == "sctpmap" {
                    sctp = try SCTPMap(element: x)
                }
                if let size = SDPMappingExtension.find("max-message-size", in: ice.extensions) {
                    guard let raw = size[attribute: "value"], let value = UInt64(raw) else {
                        throw JingleSDPError(.invalidValue, "content '\(content.name)': <max-message-size/> needs a numeric value")
                    }
                    dataAttributes.append(.maxMessageSize(value))
                }
            } else if let raw = transport as? RawUDPTransport ?? (transport.element().namespace == RawUDPTransport.namespace
                        ? try? RawUDPTransport(element: transport.element()) : nil) {
                guard let rtp = raw.candidates.first(where: { $0.component == 1 }) else {
                    throw JingleSDPError(.missingValue, "content '\(content.name)': raw UDP transport without a component-1 candidate (XEP-0177 §4)")
                }
                section.port = rtp.port
                connection = SDPConnection(addressType: Self.isIPv6(rtp.ip) ? "IP6" : "IP4", address: rtp.ip)
                if let rtcp = raw.candidates.first(where: { $0.component == 2 }) {
                    let address = rtcp.ip == rtp.ip ? nil : SDPConnection(addressType: Self.isIPv6(rtcp.ip) ? "IP6" : "IP4", address: rtcp.ip)
                    attributes.append(.rtcp(SDPRTCPAddress(port: rtcp.port, connection: address)))
                }
            } else {
                throw JingleSDPError(.unsupportedMedia, "content '\(content.name)': transport '\(transport.element().namespace)' has no SDP form (only ICE-UDP and raw UDP do)")
            }
        }

        if let description = content.description {
            let rtp = try Self.rtpDescription(description)
            if let rtp, rtp.media == "application", rtp.payloadTypes.isEmpty, sctp != nil {
                // Jitsi (Jicofo, lib-jitsi-meet) writes its data channel as an RTP description of media 'application'
                // with the XEP-0343 <sctpmap/> in the transport: an SCTP m-line, not an RTP one without formats.
                Self.dataChannelLine(sctp, section: &section, attributes: &dataAttributes)
            } else if let rtp {
                section.media = rtp.media
                section.proto = hasFingerprint ? "UDP/TLS/RTP/SAVPF"
                    : (rtp.encryption.map { !$0.cryptos.isEmpty } ?? false) ? "RTP/SAVP" : "RTP/AVP"
                section.formats = rtp.payloadTypes.map { ASCIIText.decimal($0.id) }
                if let bandwidth = rtp.bandwidth {
                    guard let value = UInt64(bandwidth.value.trimmingSpacesAndTabs) else {
                        throw JingleSDPError(.invalidValue, "content '\(content.name)': <bandwidth type='\(bandwidth.type)'> value '\(bandwidth.value)' is not a number (RFC 8866 §5.8)")
                    }
                    section.bandwidths = [SDPBandwidth(type: bandwidth.type, value: value)]
                }
                try rtpAttributes(rtp, content: content.name, author: author, into: &attributes)
            } else if description.element().namespace == WebRTCDataChannelDescription.namespace {
                Self.dataChannelLine(sctp, section: &section, attributes: &dataAttributes)
            } else {
                throw JingleSDPError(.unsupportedMedia, "content '\(content.name)': application '\(description.element().namespace)' has no SDP form (only RTP and WebRTC data channels do)")
            }
        }
        if content.description == nil, sctp != nil {
            // Transport-only placeholder of a data channel: keep it an SCTP m-line so its <sctpmap/> survives.
            Self.dataChannelLine(sctp, section: &section, attributes: &dataAttributes)
        }
        if let rejected {
            section.port = 0
            if let proto = rejected[attribute: "proto"], !proto.isEmpty { section.proto = proto }
        }
        if content.transport == nil && content.description != nil && rejected == nil {
            section.port = 9
        }
        if let connection { section.connections = [connection] }
        if !dataAttributes.isEmpty { attributes += dataAttributes }
        section.attributes = attributes
        return section
    }

    /// The m-line of a WebRTC data channel: RFC 8841 (`UDP/DTLS/SCTP webrtc-datachannel` + `a=sctp-port`), or the
    /// pre-RFC form when the stream count must be kept (`DTLS/SCTP <port>` + `a=sctpmap`,
    /// draft-ietf-mmusic-sctp-sdp-05 §5.1).
    static func dataChannelLine(_ sctp: SCTPMap?, section: inout SDPMediaDescription, attributes: inout [SDPAttribute]) {
        section.media = "application"
        if let sctp, sctp.streams != nil {
            section.proto = "DTLS/SCTP"
            section.formats = [String(sctp.number)]
            attributes.insert(.sctpmap(SDPSCTPMap(port: sctp.number, protocolName: sctp.protocol, streams: sctp.streams)), at: 0)
        } else {
            section.proto = "UDP/DTLS/SCTP"
            section.formats = [sctp?.protocol ?? "webrtc-datachannel"]
            if let sctp { attributes.insert(.sctpPort(sctp.number), at: 0) }
        }
    }

    /// RFC 8839 §4.2.1.1 leaves the choice of default candidate to the agent: take the one most likely to work
    /// from anywhere (relay, then server reflexive, then host), never an mDNS name a SIP peer cannot resolve.
    static func defaultCandidate(_ candidates: [ICECandidate]) -> ICECandidate? {
        // One pass: the first usable candidate of the best type seen so far.
        func rank(_ type: ICECandidateType) -> Int {
            switch type {
            case .relay: 0
            case .srflx: 1
            case .prflx: 2
            case .host: 3
            }
        }
        var best: Int?
        for index in candidates.indices where candidates[index].component == 1 && !isMDNSName(candidates[index].ip) {
            if best.map({ rank(candidates[index].type) < rank(candidates[$0].type) }) ?? true { best = index }
        }
        return best.map { candidates[$0] }
    }

    /// `ip.lowercased().hasSuffix(".local")`, on the bytes for ASCII addresses.
    static func isMDNSName(_ ip: String) -> Bool {
        guard ASCIIText.isASCII(ip) else { return ip.lowercased().hasSuffix(".local") }
        let bytes = ip.utf8
        guard bytes.count >= 6 else { return false }
        return zip(bytes.suffix(6), ".local".utf8).allSatisfy { ASCIIText.lower($0) == $1 }
    }

    /// `ip.contains(":")`: an IPv6 address. On the bytes for ASCII text (a Character may combine with ':').
    static func isIPv6(_ ip: String) -> Bool {
        guard ASCIIText.isASCII(ip) else { return ip.contains(":") }
        return ASCIIText.containsByte(ip, 0x3A)
    }

    /// A space, tab, CR or LF Character in `text`.
    static func containsSpace(_ text: String) -> Bool {
        guard ASCIIText.isASCII(text) else {
            return text.contains(where: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" })
        }
        return text.utf8.contains { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
    }

    func iceAttributes(_ ice: ICEUDPTransport) -> [SDPAttribute] {
        var out: [SDPAttribute] = []
        iceAttributes(ice, into: &out)
        return out
    }

    func iceAttributes(_ ice: ICEUDPTransport, into out: inout [SDPAttribute]) {
        if let ufrag = ice.ufrag { out.append(.iceUfrag(ufrag)) }
        if let pwd = ice.pwd { out.append(.icePwd(pwd)) }
        for fp in ice.fingerprints { out.append(.fingerprint(SDPFingerprint(hashFunction: fp.hash, fingerprint: fp.value))) }
        if let setup = ice.fingerprints.first?.setup, let role = SDPSetupRole(rawValue: setup.rawValue) { out.append(.setup(role)) }
        for c in ice.candidates {
            var extensions: [SDPCandidateExtension] = []
            extensions.reserveCapacity(c.network == nil ? 1 : 2)
            extensions.append(SDPCandidateExtension(name: "generation", value: ASCIIText.decimal(c.generation)))
            if let network = c.network { extensions.append(SDPCandidateExtension(name: "network-id", value: ASCIIText.decimal(network))) }
            out.append(.candidate(SDPCandidate(foundation: foundation(c.foundation), component: c.component, transport: c.protocol,
                                               priority: c.priority, address: c.ip, port: c.port,
                                               type: SDPCandidateType(rawValue: c.type.rawValue),
                                               relatedAddress: c.relAddr, relatedPort: c.relPort, extensions: extensions)))
        }
        if SDPMappingExtension.find("end-of-candidates", in: ice.extensions) != nil { out.append(.endOfCandidates) }
        if let remote = ice.remoteCandidate {
            out.append(.remoteCandidates([SDPRemoteCandidate(component: remote.component, address: remote.ip, port: remote.port)]))
        }
    }

    func foundation(_ value: String) -> String {
        switch options.foundations {
        case .verbatim: value
        case .numeric: value.allSatisfy(\.isASCIIDigit) && !value.isEmpty ? value : String(fnv1a(value))
        }
    }

    func rtpAttributes(_ rtp: RTPDescription, content: String, author: JingleRole) throws(JingleSDPError) -> [SDPAttribute] {
        var out: [SDPAttribute] = []
        try rtpAttributes(rtp, content: content, author: author, into: &out)
        return out
    }

    func rtpAttributes(_ rtp: RTPDescription, content: String, author: JingleRole,
                       into out: inout [SDPAttribute]) throws(JingleSDPError) {
        if rtp.rtcpMux { out.append(.rtcpMux) }
        if SDPMappingExtension.find("rtcp-rsize", in: rtp.extensions) != nil { out.append(.rtcpRsize) }
        for x in rtp.headerExtensions {
            let rest = x.parameters.map { p in p.name.isEmpty ? (p.value ?? "") : (p.value.map { "\(p.name)=\($0)" } ?? p.name) }
            out.append(.extmap(SDPExtmap(id: x.id, direction: x.senders?.sdpDirection(author: author), uri: x.uri,
                                         extensionAttributes: rest.isEmpty ? nil : rest.joined(separator: " "))))
        }
        if rtp.extmapAllowMixed { out.append(.extmapAllowMixed) }
        if let encryption = rtp.encryption {
            for c in encryption.cryptos {
                guard let tag = UInt32(c.tag) else {
                    throw JingleSDPError(.invalidValue, "content '\(content)': crypto tag '\(c.tag)' is not a number (RFC 4568 §9.1)")
                }
                out.append(.crypto(SDPCrypto(tag: tag, suite: c.cryptoSuite, keyParams: c.keyParams, sessionParams: c.sessionParams)))
            }
        }
        var ptime: UInt32?, maxptime: UInt32?
        // By index, reading fields in place: iterating copied each payload type whole (a retain and a release of
        // each of its strings and arrays), where the loop reads a few fields.
        let payloadTypes = rtp.payloadTypes
        for index in payloadTypes.indices {
            let format = ASCIIText.decimal(payloadTypes[index].id)
            if let name = payloadTypes[index].name {
                let known = Self.staticCodec(payloadTypes[index].id)
                if payloadTypes[index].clockrate == nil && payloadTypes[index].channels == nil, let known, ASCIIText.equalIgnoringCase(known.encodingName, name) {
                    // RFC 3551 §6 static assignment: the m= line says it all, no rtpmap needed.
                } else {
                    // Without a clockrate: the static table, 90000 for video (RFC 3551 §5), 48000 for Opus (RFC 7587 §7).
                    let isOpus = ASCIIText.equalIgnoringCase(name, "opus")
                    guard let clockRate = payloadTypes[index].clockrate ?? known?.clockRate ?? (rtp.media == "video" ? 90000 : isOpus ? 48000 : nil) else {
                        throw JingleSDPError(.missingValue, "content '\(content)': payload-type \(payloadTypes[index].id) '\(name)' has no clockrate, which a=rtpmap needs (RFC 8866 §6.6)")
                    }
                    let channels = payloadTypes[index].channels.map(UInt32.init) ?? (isOpus && payloadTypes[index].clockrate == nil ? 2 : nil)
                    out.append(.rtpmap(SDPRTPMap(payloadType: payloadTypes[index].id, encodingName: name, clockRate: clockRate, channels: channels)))
                }
            }
            if !payloadTypes[index].parameters.isEmpty {
                out.append(.fmtp(SDPFormatParameters(format: format, parameters: payloadTypes[index].parameters.map {
                    SDPFormatParameter(name: $0.name.isEmpty ? nil : $0.name, value: $0.value ?? "")
                })))
            }
            for fb in payloadTypes[index].rtcpFeedback { out.append(.rtcpFeedback(Self.feedback(fb, format: .format(format)))) }
            if let trr = payloadTypes[index].rtcpFeedbackTRRInt {
                out.append(.rtcpFeedback(SDPRTCPFeedback(format: .format(format), type: "trr-int", parameter: ASCIIText.decimal(trr.value))))
            }
            // SDP has one ptime per m-line (RFC 8866 §6.4): the first payload type that sets it decides.
            if ptime == nil { ptime = payloadTypes[index].ptime }
            if maxptime == nil { maxptime = payloadTypes[index].maxptime }
        }
        for fb in rtp.rtcpFeedback { out.append(.rtcpFeedback(Self.feedback(fb, format: .all))) }
        if let trr = rtp.rtcpFeedbackTRRInt {
            out.append(.rtcpFeedback(SDPRTCPFeedback(format: .all, type: "trr-int", parameter: ASCIIText.decimal(trr.value))))
        }
        if let ptime { out.append(.ptime(ptime)) }
        if let maxptime { out.append(.maxptime(maxptime)) }
        for group in rtp.sourceGroups { out.append(.ssrcGroup(SDPSourceGroup(semantics: group.semantics, ssrcs: group.ssrcs))) }
        for source in rtp.sources {
            for p in source.parameters { out.append(.ssrc(SDPSourceAttribute(ssrc: source.ssrc, name: p.name, value: p.value))) }
        }
    }

    /// XEP-0293 §3 `<rtcp-fb type subtype>` to RFC 4585 §4.2; `<parameter/>` children follow the subtype.
    static func feedback(_ fb: RTCPFeedback, format: SDPFormatSelector) -> SDPRTCPFeedback {
        guard !fb.parameters.isEmpty else { return SDPRTCPFeedback(format: format, type: fb.type, parameter: fb.subtype) }
        // The words joined by spaces, appended in place.
        var text = fb.subtype ?? ""
        for (index, p) in fb.parameters.enumerated() {
            if index > 0 || fb.subtype != nil { text += " " }
            text += p.name
            if let value = p.value { text += "="; text += value }
        }
        return SDPRTCPFeedback(format: format, type: fb.type, parameter: text)
    }

    /// RFC 8843 §7.3: bundled sections share the transport of the first section that has candidates.
    static func shareBundlePorts(_ sdp: inout SessionDescription) {
        shareBundlePorts(&sdp, groups: sdp.groups.map { JingleGroup(semantics: $0.semantics, contents: $0.identifiers) },
                         mids: sdp.media.map(\.mid))
    }

    /// The same, for a description written from `groups`, given each m-line's `a=mid` (the content names).
    static func shareBundlePorts(_ sdp: inout SessionDescription, groups: [JingleGroup], mids: [String?]) {
        for group in groups where group.semantics == "BUNDLE" {
            let members = sdp.media.indices.filter { i in mids[i].map(group.contents.contains) ?? false }
            guard let tagged = members.first(where: { sdp.media[$0].port != 9 && sdp.media[$0].port != 0 }) else { continue }
            for i in members where sdp.media[i].port == 9 && sdp.media[i].candidates.isEmpty {
                sdp.media[i].port = sdp.media[tagged].port
                sdp.media[i].connections = sdp.media[tagged].connections
            }
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension JingleSDPMapper {
    /// Jingle attribute values are free text, SDP lines are not: a value with a line break would inject lines
    /// into the description a gateway sends on (RFC 8866 §5: a line ends at CRLF), and a token with white
    /// space would shift the fields after it. Checked on the finished description, before anyone sends it.
    static func validate(_ sdp: SessionDescription) throws(JingleSDPError) {
        // The checks read the contiguous bytes; the message (an interpolated string) is made only on failure.
        func token(_ value: String, _ what: @autoclosure () -> String) throws(JingleSDPError) {
            guard !value.isEmpty, !ASCIIText.containsSpaceOrControl(value) else {
                throw JingleSDPError(.invalidValue, "\(what()) '\(value.debugDescription.dropFirst().dropLast())' must be a non-empty token without white space (RFC 8866 §9)")
            }
        }
        func text(_ value: String?, _ what: @autoclosure () -> String) throws(JingleSDPError) {
            guard let value else { return }
            guard !ASCIIText.containsLineBreakOrNUL(value) else {
                throw JingleSDPError(.invalidValue, "\(what()) contains a line break, which would start a new SDP line (RFC 8866 §5)")
            }
        }
        // Through a pointer into the array's buffer rather than a borrowed value: the switch still copies the
        // attribute it matches, but measured about 900 instructions cheaper per payload (sdp-roundtrip 'to sdp').
        func check(_ pointer: UnsafePointer<SDPAttribute>) throws(JingleSDPError) {
            switch pointer.pointee {
            // No value, or an enumeration or a number: nothing that could hold a line break.
            case .direction, .rtcpMux, .rtcpRsize, .extmapAllowMixed, .endOfCandidates, .iceLite, .setup, .ptime, .maxptime,
                 .sctpPort, .maxMessageSize:
                break
            case .mid(let v): try token(v, "content name")
            case .iceUfrag(let v): try token(v, "ICE ufrag")
            case .icePwd(let v): try token(v, "ICE pwd")
            case .group(let g): try token(g.semantics, "group semantics"); for id in g.identifiers { try token(id, "group content name") }
            case .candidate(let c):
                try token(c.foundation, "candidate foundation"); try token(c.transport, "candidate protocol"); try token(c.address, "candidate ip")
                if let r = c.relatedAddress { try token(r, "candidate rel-addr") }
            case .rtpmap(let m): try token(m.encodingName, "payload-type name")
            case .fmtp(let f): for p in f.parameters { if let n = p.name { try token(n, "parameter name") }; try text(p.value, "parameter value") }
            case .extmap(let x): try token(x.uri, "rtp-hdrext uri"); try text(x.extensionAttributes, "rtp-hdrext parameter")
            case .fingerprint(let f): try token(f.hashFunction, "fingerprint hash"); try token(f.fingerprint, "fingerprint")
            case .crypto(let c): try token(c.suite, "crypto-suite"); try token(c.keyParams, "key-params"); try text(c.sessionParams, "session-params")
            case .rtcpFeedback(let f): try token(f.type, "rtcp-fb type"); try text(f.parameter, "rtcp-fb subtype")
            case .ssrc(let s): try token(s.name, "source parameter name"); try text(s.value, "source parameter value")
            case .ssrcGroup(let g): try token(g.semantics, "ssrc-group semantics")
            case .remoteCandidates(let list): for r in list { try token(r.address, "remote-candidate ip") }
            case .sctpmap(let m): try token(m.protocolName, "sctpmap protocol")
            default: try text(pointer.pointee.serializedValue, "a=\(pointer.pointee.name)")
            }
        }
        try token(sdp.origin.sessionID, "sid")
        func checkAll(_ attributes: [SDPAttribute]) throws(JingleSDPError) {
            // Borrowed from the buffer: iterating the array copies each attribute's payload.
            try attributes.withUnsafeBufferPointer { (attributes) throws(JingleSDPError) in
                guard let base = attributes.baseAddress else { return }
                for index in attributes.indices { try check(base + index) }
            }
        }
        try checkAll(sdp.attributes)
        for section in sdp.media {
            try token(section.media, "media")
            try token(section.proto, "profile")
            for format in section.formats { try token(format, "format") }
            for connection in section.connections { try token(connection.address, "candidate ip") }
            for bandwidth in section.bandwidths { try token(bandwidth.type, "bandwidth type") }
            try checkAll(section.attributes)
        }
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (XML text around a number).
    var trimmingSpacesAndTabs: Substring {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else { return "" }
        return self[first...last]
    }
}
