import Jingle
import SDP
import XMLStream

extension JingleSDPMapper {
    /// Maps a session description written by `context.author` to the Jingle payload of `context.action`.
    ///
    /// Session-level `a=ice-ufrag`/`a=ice-pwd`/`a=fingerprint`/`a=setup`/direction/`a=extmap-allow-mixed` apply
    /// to every m-line without its own (RFC 8839 §5.4, RFC 8122 §5, RFC 8866 §6.7). Any m-line profile is accepted.
    public func jingle(from sdp: SessionDescription, context: Context) throws(JingleSDPError) -> JinglePayload {
        let shape = try ActionShape(context.action)
        let sid = context.sid ?? sdp.origin.sessionID
        guard !sid.isEmpty else { throw JingleSDPError(.missingValue, "no session id: the o= line has none and no sid was given") }
        let creator = context.creator ?? {
            switch context.action {
            case .contentAdd: context.author
            case .contentAccept: context.author.other
            default: .initiator
            }
        }()
        // Each attribute list is read once up front, instead of once per accessor (a=mid, a=ice-ufrag, …).
        let session = AttributeScan(sdp.attributes)
        // By index: `map` hands each m-line over as a copy (a retain and a release of each of its fields).
        var sections: [AttributeScan] = []
        sections.reserveCapacity(sdp.media.count)
        for index in sdp.media.indices { sections.append(AttributeScan(sdp.media[index].attributes)) }
        let names = try Self.contentNames(sdp, mids: sections)
        var contents: [JingleContent] = []
        contents.reserveCapacity(sdp.media.count)
        try sdp.media.withUnsafeBufferPointer { (media) throws(JingleSDPError) in
            for index in media.indices {
                let section = sections[index]
                // One copy of the m-line: handing `media[index]` to each call below copied it every time (the
                // compiler cannot rule out a write through the buffer while a call runs).
                let m = media[index]
                var content = JingleContent(creator: creator, name: names[index])
                let rejected = m.isRejected
                if shape.hasSenders, let direction = section.direction ?? session.direction {
                    content.senders = JingleSenders(sdpDirection: direction, author: context.author)
                }
                if shape.hasDescription {
                    content.description = try description(m, session: session, name: names[index], author: context.author)
                    if rejected { content.extensions.append(SDPMappingExtension.rejected(proto: m.proto)) }
                }
                if shape.hasTransport && !rejected {
                    content.transport = try transport(m, scan: section, session: session, in: sdp, name: names[index],
                                                      action: context.action)
                }
                if shape == .transport && rejected { continue }
                contents.append(content)
            }
        }
        let groups = shape == .full ? session.groups.map { JingleGroup(semantics: $0.semantics, contents: $0.identifiers) } : []
        return JinglePayload(action: context.action, sid: sid, initiator: context.initiator, responder: context.responder,
                             contents: contents, groups: groups)
    }

    /// `a=mid` of each m-line; XEP-0166 §7.1 requires a name, so an m-line without one is named after its media
    /// type (suffixed with its index when that type repeats).
    static func contentNames(_ sdp: SessionDescription, mids: [AttributeScan]? = nil) throws(JingleSDPError) -> [String] {
        var names: [String] = []
        names.reserveCapacity(sdp.media.count)
        var seen: Set<String> = []
        let few = sdp.media.count <= 8
        // By index: the m-line itself is needed only without a scanned a=mid (enumerating copied each one).
        for index in sdp.media.indices {
            let name: String
            if let mid = mids.map({ $0[index].mid }) ?? sdp.media[index].mid {
                name = mid
            } else {
                let media = sdp.media[index].media
                let unique = sdp.media.filter { $0.media == media }.count == 1
                name = unique ? media : "\(media)\(index)"
            }
            // A few names are compared; many are hashed.
            guard few ? !names.contains(name) : seen.insert(name).inserted else {
                throw JingleSDPError(.duplicateName, "m-line \(index + 1) repeats the name '\(name)': a=mid values must be unique (RFC 5888 §4)")
            }
            names.append(name)
        }
        return names
    }

    // MARK: description

    func description(_ section: SDPMediaDescription, session: AttributeScan, name: String,
                     author: JingleRole) throws(JingleSDPError) -> any JingleApplicationDescription {
        if Self.isDataChannel(section) { return WebRTCDataChannelDescription() }
        guard Self.isRTPProfile(section.proto) else {
            throw JingleSDPError(.unsupportedMedia, "m=\(section.media) (content '\(name)') uses profile '\(section.proto)': only RTP (XEP-0167) and SCTP data channels (XEP-0343) map to Jingle")
        }
        var d = RTPDescription(media: section.media)
        var ptime: UInt32?, maxptime: UInt32?
        // Per payload type: the first a=rtpmap and a=fmtp, and the a=rtcp-fb lines in order (RFC 8866 §6.6,
        // §6.15; RFC 4585 §4.2), found by number instead of by a string key per line.
        var formats = FormatTable()
        var cryptos: [RTPCrypto] = []
        var sources: [RTPSource] = []
        var sourceIndex: [UInt32: Int] = [:]
        section.attributes.withUnsafeBufferPointer { attributes in
            for attribute in attributes.indices {
                switch attributes[attribute] {
                case .rtpmap(let map): formats.addRTPMap(map)
                case .fmtp(let fmtp): formats.addFormatParameters(fmtp)
                case .ptime(let value): if ptime == nil { ptime = value }
                case .maxptime(let value): if maxptime == nil { maxptime = value }
                case .rtcpMux: d.rtcpMux = true
                case .rtcpRsize: d.extensions.append(SDPMappingExtension.rtcpRsize)
                case .crypto(let c):
                    cryptos.append(RTPCrypto(cryptoSuite: c.suite, keyParams: c.keyParams, sessionParams: c.sessionParams,
                                             tag: ASCIIText.decimal(c.tag)))
                case .extmap(let x):
                    // XEP-0294 §3: `senders` is the absolute form of the RFC 8285 §7 direction.
                    var parameters: [RTPParameter] = []
                    if let rest = x.extensionAttributes { parameters.append(RTPParameter(name: "", value: rest)) }
                    d.headerExtensions.append(RTPHeaderExtension(id: x.id, uri: x.uri,
                                                                 senders: x.direction.map { JingleSenders(sdpDirection: $0, author: author) },
                                                                 parameters: parameters))
                case .extmapAllowMixed: d.extmapAllowMixed = true
                case .ssrc(let s):
                    // XEP-0339 §3.1: one <source/> per SSRC, its a=ssrc lines as parameters in order.
                    let parameter = RTPParameter(name: s.name, value: s.value)
                    // A few sources are searched; many are indexed (built once they pass 16).
                    let position: Int?
                    if sources.count <= 16 {
                        position = sources.firstIndex { $0.ssrc == s.ssrc }
                    } else {
                        if sourceIndex.isEmpty { for (i, source) in sources.enumerated() { sourceIndex[source.ssrc] = i } }
                        position = sourceIndex[s.ssrc]
                    }
                    if let position {
                        sources[position].parameters.append(parameter)
                    } else {
                        if !sourceIndex.isEmpty { sourceIndex[s.ssrc] = sources.count }
                        sources.append(RTPSource(ssrc: s.ssrc, parameters: [parameter]))
                    }
                case .ssrcGroup(let g): d.sourceGroups.append(RTPSourceGroup(semantics: g.semantics, ssrcs: g.ssrcs))
                case .rtcpFeedback(let fb):
                    switch fb.format {
                    case .all:
                        // XEP-0293 §3: feedback outside any payload-type applies to all of them (RFC 4585 §4.2 `*`).
                        if let trr = fb.trrInterval {
                            if d.rtcpFeedbackTRRInt == nil { d.rtcpFeedbackTRRInt = RTCPFeedbackTRRInt(value: trr) }
                        } else {
                            d.rtcpFeedback.append(RTCPFeedback(type: fb.type, subtype: fb.parameter))
                        }
                    case .format(let format): formats.addFeedback(fb, format: format)
                    }
                default: break
                }
            }
        }
        formats.index()
        if !d.extmapAllowMixed && session.extmapAllowMixed { d.extmapAllowMixed = true }
        d.sources = sources
        if !cryptos.isEmpty { d.encryption = RTPEncryption(cryptos: cryptos) }
        // XEP-0167 §4 allows one <bandwidth/>: the first b= line of the section.
        if let b = section.bandwidths.first { d.bandwidth = RTPBandwidth(type: b.type, value: ASCIIText.decimal(b.value)) }
        d.payloadTypes.reserveCapacity(section.formats.count)
        for format in section.formats {
            guard let id = ASCIIText.integer(format, as: UInt8.self), id <= 127 else {
                throw JingleSDPError(.invalidValue, "m=\(section.media) (content '\(name)'): payload type '\(format)' is not a number 0-127 (RFC 3551 §6)")
            }
            var name: String?, clockrate: UInt32?, channels: UInt8?
            // An a=rtpmap names its payload type in decimal: only the same spelling on the m= line matches it.
            if let map = FormatTable.isCanonical(format, id) ? formats.rtpmap(id) : nil {
                guard (map.channels ?? 1) <= UInt32(UInt8.max) else {
                    throw JingleSDPError(.invalidValue, "a=rtpmap:\(format): \(map.channels ?? 0) channels do not fit XEP-0167's channels attribute")
                }
                name = map.encodingName
                clockrate = map.clockRate
                channels = map.channels.map { UInt8($0) }
            } else if let known = Self.staticCodec(id) {
                // RFC 3551 §6: a static payload type needs no rtpmap; Jingle still names it (XEP-0167 Example 1).
                name = known.encodingName
            }
            var parameters: [RTPParameter] = []
            if let fmtp = formats.formatParameters(format, id) {
                // XEP-0167 §4 requires a name: a nameless value (`0-15`, RFC 4733 §7.1.1) gets name=''.
                parameters = fmtp.parameters.map { RTPParameter(name: $0.name ?? "", value: $0.value) }
            }
            var feedback: [RTCPFeedback] = [], trrInt: RTCPFeedbackTRRInt?
            formats.forEachFeedback(format, id) { fb in
                if let trr = fb.trrInterval {
                    if trrInt == nil { trrInt = RTCPFeedbackTRRInt(value: trr) }
                } else {
                    feedback.append(RTCPFeedback(type: fb.type, subtype: fb.parameter))
                }
            }
            // Built in place, once: setting fields of a payload type after the fact copied it.
            d.payloadTypes.append(RTPPayloadType(id: id, name: name, clockrate: clockrate, channels: channels, ptime: ptime,
                                                 maxptime: maxptime, parameters: parameters, rtcpFeedback: feedback,
                                                 rtcpFeedbackTRRInt: trrInt))
        }
        return d
    }

    /// Whether Jingle can express the m-line at all: an RTP profile (XEP-0167) or an SCTP data channel
    /// (XEP-0343). BFCP, T.38 (`udptl`), MSRP and the like have no Jingle application.
    public static func canCarry(_ section: SDPMediaDescription) -> Bool {
        isDataChannel(section) || isRTPProfile(section.proto)
    }

    /// `sdp` with only the m-lines whose index `keep` accepts; a group (BUNDLE, LS) keeps only the mids left,
    /// and a group left empty is dropped (RFC 5888 §5, RFC 8843 §7.3.3).
    public static func restricted(_ sdp: SessionDescription, to keep: (Int) -> Bool) -> SessionDescription {
        var reduced = sdp
        reduced.media = sdp.media.indices.filter(keep).map { sdp.media[$0] }
        guard reduced.media.count < sdp.media.count else { return sdp }
        let kept = Set(reduced.media.compactMap(\.mid))
        reduced.attributes = sdp.attributes.compactMap { attribute in
            guard case .group(var group) = attribute else { return attribute }
            group.identifiers = group.identifiers.filter(kept.contains)
            return group.identifiers.isEmpty ? nil : .group(group)
        }
        return reduced
    }

    /// `proto.uppercased().contains("RTP/")`, on the bytes for ASCII profiles.
    static func isRTPProfile(_ proto: String) -> Bool {
        guard ASCIIText.isASCII(proto) else { return proto.uppercased().contains("RTP/") }
        let bytes = Array(proto.utf8)
        guard bytes.count >= 4 else { return false }
        for start in 0...(bytes.count - 4)
        where ASCIIText.upper(bytes[start]) == 0x52 && ASCIIText.upper(bytes[start + 1]) == 0x54
            && ASCIIText.upper(bytes[start + 2]) == 0x50 && bytes[start + 3] == 0x2F {
            return true
        }
        return false
    }

    /// `proto.uppercased().hasSuffix("SCTP")`, on the bytes for ASCII profiles (for others a Character may
    /// straddle the suffix, so the String answer is taken).
    static func isDataChannel(_ section: SDPMediaDescription) -> Bool {
        let proto = section.proto
        guard ASCIIText.isASCII(proto) else { return proto.uppercased().hasSuffix("SCTP") }
        let bytes = proto.utf8
        guard bytes.count >= 4 else { return false }
        var index = bytes.index(bytes.endIndex, offsetBy: -4)
        for expected: UInt8 in [0x53, 0x43, 0x54, 0x50] {
            guard ASCIIText.upper(bytes[index]) == expected else { return false }
            index = bytes.index(after: index)
        }
        return true
    }

    static func staticCodec(_ id: UInt8) -> SDPRTPMap? {
        id < 128 ? staticCodecs[Int(id)] : nil
    }

    /// RFC 3551 §6's static payload types, as the SDP module defines them, built once.
    private static let staticCodecs: [SDPRTPMap?] = (0..<128).map { id in
        SDPMediaDescription(media: "audio", port: 0, proto: "RTP/AVP", formats: []).codec(for: String(id))
    }

    // MARK: transport

    func transport(_ section: SDPMediaDescription, scan: AttributeScan, session: AttributeScan, in sdp: SessionDescription,
                   name: String, action: JingleWireAction) throws(JingleSDPError) -> any JingleTransportMethod {
        // Section values first, else the session's (RFC 8839 §5.4, RFC 8122 §5, RFC 4145 §4).
        let ufrag = scan.ufrag ?? session.ufrag
        let pwd = scan.pwd ?? session.pwd
        let fingerprints = scan.fingerprints.isEmpty ? session.fingerprints : scan.fingerprints
        let usesICE = ufrag != nil || pwd != nil || !scan.candidates.isEmpty || !fingerprints.isEmpty
            || Self.isDataChannel(section) || scan.endOfCandidates
        guard usesICE else { return try rawUDP(section, in: sdp, name: name) }

        var t = ICEUDPTransport(ufrag: ufrag, pwd: pwd)
        // RFC 8445 §5.3: at least 4 and 22 characters; XEP-0176 peers reject shorter ones.
        if let ufrag, ASCIIText.characterCount(of: ufrag, isLessThan: 4) {
            throw JingleSDPError(.invalidValue, "m=\(section.media) (content '\(name)'): a=ice-ufrag '\(ufrag)' is shorter than 4 characters (RFC 8445 §5.3)")
        }
        if let pwd, ASCIIText.characterCount(of: pwd, isLessThan: 22) {
            throw JingleSDPError(.invalidValue, "m=\(section.media) (content '\(name)'): a=ice-pwd is shorter than 22 characters (RFC 8445 §5.3)")
        }
        if !fingerprints.isEmpty {
            // RFC 4145 §4: no a=setup means active.
            let role = scan.setup ?? session.setup ?? .active
            if role == .actpass && (action == .sessionAccept || action == .contentAccept) {
                throw JingleSDPError(.invalidSetupRole, "m=\(section.media) (content '\(name)'): an answer must choose a=setup:active or passive, not actpass (RFC 5763 §5)")
            }
            let setup = DTLSSetup(rawValue: role.rawValue) ?? .active
            t.fingerprints.reserveCapacity(fingerprints.count)
            for fp in fingerprints {
                guard Self.isHexPairs(fp.fingerprint) else {
                    throw JingleSDPError(.invalidValue, "a=fingerprint:\(fp.hashFunction) '\(fp.fingerprint)' is not colon-separated hex pairs (RFC 8122 §5)")
                }
                t.fingerprints.append(DTLSFingerprint(hash: fp.hashFunction, setup: setup, value: fp.fingerprint))
            }
        }
        t.candidates.reserveCapacity(scan.candidates.count)
        for c in scan.candidates {
            guard let candidate = try Self.iceCandidate(c, content: name) else { continue }
            t.candidates.append(candidate)
        }
        if let first = scan.remoteCandidate {
            // XEP-0176 §5.3 carries one remote candidate (the in-use pair's component 1).
            t.remoteCandidate = ICERemoteCandidate(component: first.component, ip: first.address, port: first.port)
        }
        if scan.endOfCandidates { t.extensions.append(SDPMappingExtension.endOfCandidates) }
        if session.iceLite { t.extensions.append(SDPMappingExtension.iceLite) }
        if Self.isDataChannel(section) {
            var map: SCTPMap?
            for attribute in section.attributes {
                switch attribute {
                case .sctpPort(let port): if map == nil { map = SCTPMap(number: port) }
                case .sctpmap(let old): if map == nil { map = SCTPMap(number: old.port, protocol: old.protocolName, streams: old.streams) }
                default: break
                }
            }
            if let map { t.extensions.append(map.element()) }
            if let size = section.maxMessageSize { t.extensions.append(SDPMappingExtension.maxMessageSize(size)) }
        }
        return t
    }

    /// XEP-0176 §5 candidate from RFC 8839 §5.1; nil for what ICE-UDP cannot carry (TCP candidates, unknown types).
    static func iceCandidate(_ c: SDPCandidate, content: String) throws(JingleSDPError) -> ICECandidate? {
        guard ASCIIText.equalsIgnoringCase(c.transport, lowercase: "udp"), c.tcpType == nil else { return nil }
        let type: ICECandidateType
        switch c.type {
        case .host: type = .host
        case .srflx: type = .srflx
        case .prflx: type = .prflx
        case .relay: type = .relay
        case .other(let raw):
            guard let known = ICECandidateType(rawValue: raw) else { return nil }
            type = known
        }
        guard (1...256).contains(c.component) else {
            throw JingleSDPError(.invalidValue, "content '\(content)': candidate component \(c.component) is outside 1-256 (RFC 8839 §5.1)")
        }
        // `generation` is required in Jingle, optional in SDP: absent means 0.
        return ICECandidate(component: c.component, foundation: c.foundation, generation: c.generation ?? 0,
                            id: candidateID(content: content, c.foundation, c.component, c.address, c.port),
                            ip: c.address, network: c.networkID.flatMap { ASCIIText.integer($0, as: UInt32.self) }, port: c.port, priority: c.priority,
                            protocol: c.transport, type: type, relAddr: c.relatedAddress, relPort: c.relatedPort)
    }

    /// A candidate id (XEP-0176 §5) for a candidate that came without one: a hash of what identifies it, so the
    /// same candidate gets the same id in every message.
    static func candidateID(content: String, _ foundation: String, _ component: UInt16, _ ip: String, _ port: UInt16) -> String {
        // The hash of "<content> <foundation> <component> <ip> <port>", fed piece by piece instead of interpolated.
        var hash = FNV1a()
        hash.add(content); hash.add(byte: 0x20); hash.add(foundation); hash.add(byte: 0x20)
        hash.add(decimal: UInt64(component)); hash.add(byte: 0x20); hash.add(ip); hash.add(byte: 0x20); hash.add(decimal: UInt64(port))
        return "c" + hexID(hash.value)
    }

    /// XEP-0177 §4 raw UDP: the c= address and m= port (component 1), and `a=rtcp` for component 2 (RFC 3605).
    func rawUDP(_ section: SDPMediaDescription, in sdp: SessionDescription, name: String) throws(JingleSDPError) -> RawUDPTransport {
        guard let connection = sdp.connection(for: section) else {
            throw JingleSDPError(.missingValue, "m=\(section.media) (content '\(name)') has neither ICE attributes nor a c= line, so it has no address (RFC 8866 §5.7)")
        }
        var t = RawUDPTransport(candidates: [
            RawUDPCandidate(component: 1, id: Self.candidateID(content: name, "raw", 1, connection.address, section.port),
                            ip: connection.address, port: section.port),
        ])
        for attribute in section.attributes {
            if case .rtcp(let rtcp) = attribute {
                let ip = rtcp.connection?.address ?? connection.address
                t.candidates.append(RawUDPCandidate(component: 2, id: Self.candidateID(content: name, "raw", 2, ip, rtcp.port),
                                                    ip: ip, port: rtcp.port))
                break
            }
        }
        return t
    }

    /// RFC 8122 §5: `2HEXDIG *(":" 2HEXDIG)`. Checked on UTF-8 bytes: `Character.isHexDigit` also accepts
    /// full-width digits and is slow.
    static func isHexPairs(_ text: String) -> Bool {
        (DTLSFingerprint.hexPairsLength(text) ?? 0) >= 2
    }
}

