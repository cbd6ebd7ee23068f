/// One codec the local side can receive and send, matched against `a=rtpmap` (or a static payload type).
public struct SDPCodecCapability: Hashable, Sendable {
    /// Encoding name, compared case-insensitively (RFC 4855 §3): `opus`, `PCMU`, `telephone-event`, `rtx`.
    public var name: String
    public var clockRate: UInt32
    /// Audio channels; nil means 1 (RFC 8866 §6.6).
    public var channels: UInt32?
    /// When set, the answer carries these fmtp parameters for the codec instead of echoing the offer's.
    public var parameters: [SDPFormatParameter]?

    public init(name: String, clockRate: UInt32, channels: UInt32? = nil, parameters: [SDPFormatParameter]? = nil) {
        self.name = name
        self.clockRate = clockRate
        self.channels = channels
        self.parameters = parameters
    }

    func matches(_ map: SDPRTPMap) -> Bool {
        map.encodingName.lowercased() == name.lowercased() && map.clockRate == clockRate && (map.channels ?? 1) == (channels ?? 1)
    }
}

/// What the answerer supports, for ``SessionDescription/answer(to:capabilities:origin:)``.
public struct SDPLocalCapabilities: Hashable, Sendable {
    /// Codecs in no particular order: the answer keeps the offerer's order (RFC 3264 §6.1).
    public var codecs: [SDPCodecCapability]
    /// Media types that can be accepted: `audio`, `video`, `application` (data channels).
    public var mediaKinds: Set<String>
    /// The furthest the local side wants to go; the answer is the offer's direction reversed, limited by this.
    public var direction: SDPDirection
    /// Local ICE credentials (RFC 8839 §5.4); required to answer an offer that uses ICE.
    public var iceUfrag: String?
    public var icePwd: String?
    /// Local candidates. Without ICE in the offer, the first component-1 candidate only gives the `c=` address
    /// and port (the raw-UDP case of a SIP phone).
    public var candidates: [SDPCandidate]
    /// Whether gathering is complete: then `a=end-of-candidates` is written (RFC 8840 §8.2); if not,
    /// `a=ice-options:trickle` announces that more candidates follow (RFC 8840 §4.1.3).
    public var candidatesComplete: Bool
    /// Local DTLS certificate fingerprint (RFC 8122); required to answer DTLS-SRTP and data channel m-lines.
    public var fingerprint: SDPFingerprint?
    /// SDES key parameters (`inline:<base64 key||salt>`, RFC 4568 §6.1) and suites we accept; nil refuses SDES.
    public var sdesKeyParams: String?
    public var sdesSuites: [String]
    /// Whether BUNDLE (RFC 8843) is supported; if not, the answer carries no BUNDLE group.
    public var supportsBundle: Bool
    /// Whether RTP/RTCP multiplexing is supported (RFC 5761 §5.1.1).
    public var supportsRTCPMux: Bool
    /// Local SCTP port and message size limit for data channels (RFC 8841 §5.1, §6.1).
    public var sctpPort: UInt16
    public var maxMessageSize: UInt64?
    /// RTP header extension URIs we understand; offered `a=extmap` lines with these URIs are answered with the
    /// same id and the reversed direction (RFC 8285 §7), all others are left out.
    public var headerExtensions: Set<String>

    public init(codecs: [SDPCodecCapability], mediaKinds: Set<String> = ["audio"], direction: SDPDirection = .sendrecv,
                iceUfrag: String? = nil, icePwd: String? = nil, candidates: [SDPCandidate] = [],
                candidatesComplete: Bool = true, fingerprint: SDPFingerprint? = nil, sdesKeyParams: String? = nil,
                sdesSuites: [String] = ["AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"],
                supportsBundle: Bool = true, supportsRTCPMux: Bool = true, sctpPort: UInt16 = 5000,
                maxMessageSize: UInt64? = nil, headerExtensions: Set<String> = []) {
        self.codecs = codecs
        self.mediaKinds = mediaKinds
        self.direction = direction
        self.iceUfrag = iceUfrag
        self.icePwd = icePwd
        self.candidates = candidates
        self.candidatesComplete = candidatesComplete
        self.fingerprint = fingerprint
        self.sdesKeyParams = sdesKeyParams
        self.sdesSuites = sdesSuites
        self.supportsBundle = supportsBundle
        self.supportsRTCPMux = supportsRTCPMux
        self.sctpPort = sctpPort
        self.maxMessageSize = maxMessageSize
        self.headerExtensions = headerExtensions
    }
}

extension SDPSetupRole {
    /// The role an answerer takes against this offered role (RFC 5763 §5, RFC 4145 §4.1): `active` against
    /// `actpass` (so DTLS starts as soon as the answer is out) and against `passive`, `passive` against
    /// `active`, `holdconn` against `holdconn`. An offer without `a=setup` counts as `active` (RFC 4145 §4).
    public static func answering(_ offered: SDPSetupRole?) -> SDPSetupRole {
        switch offered {
        case .actpass, .passive: .active
        case .active, nil: .passive
        case .holdconn: .holdconn
        }
    }
}

/// Encoding names that travel with a primary codec and are useless alone (RFC 4733, RFC 4588, RFC 2198,
/// RFC 5109, RFC 3389).
private let secondaryEncodings: Set<String> = ["telephone-event", "rtx", "red", "ulpfec", "flexfec-03", "cn"]

extension SessionDescription {
    /// Builds the answer to an offer (RFC 3264 §6).
    ///
    /// - One m-line per offered m-line, same order and media type. Unsupported media, media with no common
    ///   primary codec, DTLS without a local fingerprint, SDES without a key, and m-lines the offer already
    ///   rejected get port 0 with the offered formats (RFC 3264 §6) and keep their `a=mid`.
    /// - Codecs: the offered payload type numbers and order, limited to supported codecs (RFC 3264 §6.1);
    ///   `telephone-event`, `red`, `ulpfec` and `CN` follow if supported and a primary codec matched; `rtx`
    ///   only when its `apt` points at a kept payload type (RFC 4588 §8.1). Their `rtcp-fb` lines are kept.
    /// - Direction: the offer's reversed (RFC 3264 §6.1), limited by ``SDPLocalCapabilities/direction``.
    /// - Header extensions: offered `a=extmap` lines whose URI is in ``SDPLocalCapabilities/headerExtensions``
    ///   keep their id, with the direction reversed (RFC 8285 §7).
    /// - BUNDLE: the group lists only accepted mids, in the offer's order; candidates are written only in the
    ///   first accepted (tagged) m-line of the group, the others share its port (RFC 8843 §7.3.1). Without
    ///   BUNDLE every accepted m-line gets the same ``SDPLocalCapabilities/candidates``: a caller that runs one
    ///   ICE session per m-line replaces them per section in the returned answer.
    /// - DTLS: `a=setup` from ``SDPSetupRole/answering(_:)`` (RFC 5763 §5); ICE credentials and candidates
    ///   when the offer uses ICE (RFC 8839 §4.2); `t=` copied from the offer (RFC 3264 §6).
    public static func answer(to offer: SessionDescription, capabilities: SDPLocalCapabilities,
                              origin: SDPOrigin) throws(SDPError) -> SessionDescription {
        let offeredBundle = capabilities.supportsBundle ? offer.bundleGroup : nil
        var answer = SessionDescription(origin: origin, sessionName: "-", timing: offer.timing)
        var acceptedInBundle: [String] = []
        var transportWritten = false
        let defaultCandidate = capabilities.candidates.first { $0.component == 1 }

        for offered in offer.media {
            let mid = offered.mid
            let bundled = mid.map { offeredBundle?.identifiers.contains($0) ?? false } ?? false
            guard var accepted = acceptedSection(offered, in: offer, capabilities: capabilities) else {
                answer.media.append(rejected(offered))
                continue
            }
            // Transport lines: in every section unless bundled, then only in the first bundled one.
            let carriesCandidates = !bundled || !transportWritten
            if bundled { transportWritten = true; if let mid { acceptedInBundle.append(mid) } }
            let usesICE = offer.iceUfrag(for: offered) != nil
            if let defaultCandidate {
                accepted.port = defaultCandidate.port
                accepted.connections = [SDPConnection(addressType: defaultCandidate.address.contains(":") ? "IP6" : "IP4",
                                                      address: defaultCandidate.address)]
            } else {
                // Trickle ICE before gathering (RFC 8840 §4.1.1): port 9 and the unspecified address.
                accepted.port = 9
                accepted.connections = [SDPConnection(address: "0.0.0.0")]
            }
            if usesICE {
                guard let ufrag = capabilities.iceUfrag, let pwd = capabilities.icePwd else {
                    throw SDPError(.offerAnswer, line: 0, "the offer uses ICE but no local ice-ufrag/ice-pwd was given (RFC 8839 §5.4)")
                }
                accepted.attributes.append(.iceUfrag(ufrag))
                accepted.attributes.append(.icePwd(pwd))
                // Candidates still to come are announced with ice-options:trickle (RFC 8840 §4.1.3).
                if !capabilities.candidatesComplete { accepted.attributes.append(.iceOptions(["trickle"])) }
                if carriesCandidates {
                    accepted.attributes += capabilities.candidates.map(SDPAttribute.candidate)
                    if capabilities.candidatesComplete { accepted.attributes.append(.endOfCandidates) }
                }
            }
            answer.media.append(accepted)
        }
        if offeredBundle != nil, !acceptedInBundle.isEmpty {
            answer.attributes.append(.group(SDPGroup(semantics: "BUNDLE", identifiers: acceptedInBundle)))
        }
        return answer
    }

    private static func rejected(_ offered: SDPMediaDescription) -> SDPMediaDescription { offered.refusedInAnswer }

    /// The accepted answer m-line without transport lines, or nil when the stream must be refused.
    private static func acceptedSection(_ offered: SDPMediaDescription, in offer: SessionDescription,
                                        capabilities: SDPLocalCapabilities) -> SDPMediaDescription? {
        guard !offered.isRejected, capabilities.mediaKinds.contains(offered.media) else { return nil }
        let proto = offered.proto.uppercased()
        let offeredFingerprints = offer.fingerprints(for: offered)
        let usesDTLS = proto.contains("TLS") || (!offeredFingerprints.isEmpty && proto.contains("SAVP"))
        var section = SDPMediaDescription(media: offered.media, port: 0, proto: offered.proto, formats: [])
        if let mid = offered.mid { section.attributes.append(.mid(mid)) }

        var security: [SDPAttribute] = []
        if usesDTLS {
            guard let fingerprint = capabilities.fingerprint, !offeredFingerprints.isEmpty else { return nil }
            security = [.fingerprint(fingerprint), .setup(SDPSetupRole.answering(offer.setup(for: offered)))]
        } else if proto.contains("SAVP") {
            // SDES (RFC 4568 §7.1.2): accept the first offered crypto line whose suite we support, same tag.
            guard let key = capabilities.sdesKeyParams,
                  let chosen = offered.cryptos.first(where: { capabilities.sdesSuites.contains($0.suite) }) else { return nil }
            security = [.crypto(SDPCrypto(tag: chosen.tag, suite: chosen.suite, keyParams: key))]
        }

        if proto.contains("SCTP") || offered.formats.contains("webrtc-datachannel") {
            guard usesDTLS else { return nil }
            section.formats = offered.formats
            section.attributes += security
            if offered.sctpPort != nil { section.attributes.append(.sctpPort(capabilities.sctpPort)) }
            for map in offered.attributes.values({ if case .sctpmap(let value) = $0 { value } else { nil } }) {
                section.attributes.append(.sctpmap(SDPSCTPMap(port: capabilities.sctpPort, protocolName: map.protocolName, streams: map.streams)))
            }
            if let size = capabilities.maxMessageSize { section.attributes.append(.maxMessageSize(size)) }
            return section
        }
        guard proto.contains("RTP/") else { return nil }

        let kept = keptFormats(offered, capabilities: capabilities)
        guard !kept.isEmpty else { return nil }
        section.formats = kept.map(\.format)
        let direction = offered.effectiveDirection(in: offer).reversed.intersection(capabilities.direction)
        section.attributes.append(.direction(direction))
        section.attributes += security
        if offered.rtcpMux && capabilities.supportsRTCPMux { section.attributes.append(.rtcpMux) }
        if offered.attributes.contains(.rtcpRsize) { section.attributes.append(.rtcpRsize) }
        for extmap in offered.extmaps where capabilities.headerExtensions.contains(extmap.uri) {
            section.attributes.append(.extmap(SDPExtmap(id: extmap.id, direction: extmap.direction?.reversed, uri: extmap.uri)))
        }
        for (format, capability) in kept {
            if offered.rtpMaps.contains(where: { String($0.payloadType) == format }), let map = offered.codec(for: format) {
                section.attributes.append(.rtpmap(map))
            }
            if let parameters = capability.parameters {
                if !parameters.isEmpty { section.attributes.append(.fmtp(SDPFormatParameters(format: format, parameters: parameters))) }
            } else if let fmtp = offered.formatParameters(for: format) {
                section.attributes.append(.fmtp(fmtp))
            }
            for feedback in offered.rtcpFeedback where feedback.format == .format(format) {
                section.attributes.append(.rtcpFeedback(feedback))
            }
        }
        for feedback in offered.rtcpFeedback where feedback.format == .all {
            section.attributes.append(.rtcpFeedback(feedback))
        }
        return section
    }

    /// Offered formats that survive, in the offer's order (RFC 3264 §6.1), with the capability that matched.
    private static func keptFormats(_ offered: SDPMediaDescription,
                                    capabilities: SDPLocalCapabilities) -> [(format: String, capability: SDPCodecCapability)] {
        var matched: [(format: String, capability: SDPCodecCapability, name: String)] = []
        for format in offered.formats {
            guard let map = offered.codec(for: format),
                  let capability = capabilities.codecs.first(where: { $0.matches(map) }) else { continue }
            matched.append((format, capability, map.encodingName.lowercased()))
        }
        let primaries = Set(matched.filter { !secondaryEncodings.contains($0.name) }.map(\.format))
        guard !primaries.isEmpty else { return [] }
        return matched.filter { entry in
            guard entry.name == "rtx" else { return true }
            // RFC 4588 §8.1: an rtx payload type is meaningful only with its associated payload type.
            guard let apt = offered.formatParameters(for: entry.format)?["apt"] else { return false }
            return primaries.contains(apt)
        }.map { ($0.format, $0.capability) }
    }

    /// This description with the `o=` version chosen against the previous one sent in the same session
    /// (RFC 3264 §8): the previous version + 1 when anything else changed, the same version when nothing did.
    /// Throws ``SDPError/Kind/offerAnswer`` when the version cannot grow any more.
    public func versioned(after previous: SessionDescription) throws(SDPError) -> SessionDescription {
        var next = self
        next.origin.sessionVersion = previous.origin.sessionVersion
        if next == previous { return next }
        guard previous.origin.sessionVersion < UInt64.max else {
            throw SDPError(.offerAnswer, line: 0, "o= session version \(previous.origin.sessionVersion) cannot be incremented (RFC 3264 §8)")
        }
        next.origin.sessionVersion = previous.origin.sessionVersion + 1
        return next
    }

    /// This description with the `o=` version incremented by one, for a re-offer that changes the session
    /// (RFC 3264 §8).
    public func bumpingVersion() throws(SDPError) -> SessionDescription {
        guard origin.sessionVersion < UInt64.max else {
            throw SDPError(.offerAnswer, line: 0, "o= session version \(origin.sessionVersion) cannot be incremented (RFC 3264 §8)")
        }
        var next = self
        next.origin.sessionVersion += 1
        return next
    }
}
