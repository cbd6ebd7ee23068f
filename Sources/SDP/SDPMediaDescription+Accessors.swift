// Read-only views over the attribute lists. They never reorder or drop anything; they exist so that the
// Jingle mapping and the offer/answer code read as the RFCs do.

extension Sequence<SDPAttribute> {
    /// The values of one typed case, in order: `attributes.values { if case .mid(let m) = $0 { m } else { nil } }`.
    func values<T>(_ extract: (SDPAttribute) -> T?) -> [T] { compactMap(extract) }
    /// The first value of one typed case, without collecting the others.
    func firstValue<T>(_ extract: (SDPAttribute) -> T?) -> T? {
        for attribute in self { if let value = extract(attribute) { return value } }
        return nil
    }

    var mid: String? { firstValue { if case .mid(let value) = $0 { value } else { nil } } }
    var direction: SDPDirection? { firstValue { if case .direction(let value) = $0 { value } else { nil } } }
    var iceUfrag: String? { firstValue { if case .iceUfrag(let value) = $0 { value } else { nil } } }
    var icePwd: String? { firstValue { if case .icePwd(let value) = $0 { value } else { nil } } }
    var fingerprints: [SDPFingerprint] { values { if case .fingerprint(let value) = $0 { value } else { nil } } }
    var setup: SDPSetupRole? { firstValue { if case .setup(let value) = $0 { value } else { nil } } }
    func contains(name: String) -> Bool { contains { $0.name == name } }
}

extension SDPMediaDescription {
    /// The answer m-line that refuses this offered one: port 0, the offered formats (at least one must stay),
    /// the mid and nothing else (RFC 3264 §6, RFC 8843 §7.3.3).
    public var refusedInAnswer: SDPMediaDescription {
        var section = SDPMediaDescription(media: media, port: 0, proto: proto, formats: formats)
        if let mid { section.attributes.append(.mid(mid)) }
        return section
    }

    /// `a=mid` (RFC 5888 §4).
    public var mid: String? { attributes.mid }
    /// The media-level direction attribute, if any; see ``effectiveDirection(in:)`` for the inherited one.
    public var direction: SDPDirection? { attributes.direction }
    /// `a=ice-ufrag` at media level.
    public var iceUfrag: String? { attributes.iceUfrag }
    /// `a=ice-pwd` at media level.
    public var icePwd: String? { attributes.icePwd }
    /// `a=fingerprint` lines at media level (several hash functions may be offered, RFC 8122 §5).
    public var fingerprints: [SDPFingerprint] { attributes.fingerprints }
    /// `a=setup` at media level.
    public var setup: SDPSetupRole? { attributes.setup }
    /// `a=rtpmap` lines in order.
    public var rtpMaps: [SDPRTPMap] { attributes.values { if case .rtpmap(let value) = $0 { value } else { nil } } }
    /// `a=fmtp` lines in order.
    public var formatParameters: [SDPFormatParameters] { attributes.values { if case .fmtp(let value) = $0 { value } else { nil } } }
    /// `a=rtcp-fb` lines in order, `*` ones included.
    public var rtcpFeedback: [SDPRTCPFeedback] { attributes.values { if case .rtcpFeedback(let value) = $0 { value } else { nil } } }
    /// `a=extmap` lines in order.
    public var extmaps: [SDPExtmap] { attributes.values { if case .extmap(let value) = $0 { value } else { nil } } }
    /// `a=candidate` lines in order.
    public var candidates: [SDPCandidate] { attributes.values { if case .candidate(let value) = $0 { value } else { nil } } }
    /// `a=crypto` lines in order (RFC 4568 §5.1: the offerer's preference order).
    public var cryptos: [SDPCrypto] { attributes.values { if case .crypto(let value) = $0 { value } else { nil } } }
    /// `a=ssrc` lines in order.
    public var sources: [SDPSourceAttribute] { attributes.values { if case .ssrc(let value) = $0 { value } else { nil } } }
    /// `a=ssrc-group` lines in order.
    public var sourceGroups: [SDPSourceGroup] { attributes.values { if case .ssrcGroup(let value) = $0 { value } else { nil } } }
    /// `a=sctp-port` (RFC 8841 §5.1).
    public var sctpPort: UInt16? { attributes.firstValue { if case .sctpPort(let value) = $0 { value } else { nil } } }
    /// `a=max-message-size` (RFC 8841 §6.1).
    public var maxMessageSize: UInt64? { attributes.firstValue { if case .maxMessageSize(let value) = $0 { value } else { nil } } }
    /// True when `a=rtcp-mux` is present (RFC 5761 §5.1.1).
    public var rtcpMux: Bool { attributes.contains(.rtcpMux) }
    /// True when `a=end-of-candidates` is present (RFC 8840 §8.2).
    public var endOfCandidates: Bool { attributes.contains(.endOfCandidates) }
    /// True for `a=bundle-only` (RFC 8843 §6): port 0 then does not mean rejected.
    public var bundleOnly: Bool { attributes.contains(name: "bundle-only") }
    /// True when the stream is rejected or disabled: port 0 without `a=bundle-only` (RFC 3264 §6, RFC 8843 §6).
    public var isRejected: Bool { port == 0 && !bundleOnly }

    /// The direction that applies to this section: its own attribute, else the session's, else `sendrecv`
    /// (RFC 3264 §5.1, RFC 8866 §6.7).
    public func effectiveDirection(in session: SessionDescription) -> SDPDirection {
        direction ?? session.attributes.direction ?? .sendrecv
    }

    /// The `a=rtpmap` for a format, or the static assignment of RFC 3551 §6 for payload types 0–34 without one.
    public func codec(for format: String) -> SDPRTPMap? {
        if let map = rtpMaps.first(where: { String($0.payloadType) == format }) { return map }
        guard let payloadType: UInt8 = parseUnsigned(Substring(format)) else { return nil }
        return StaticPayloadTypes.codec(payloadType)
    }

    /// The `a=fmtp` for a format.
    public func formatParameters(for format: String) -> SDPFormatParameters? {
        formatParameters.first { $0.format == format }
    }

    /// The `a=rtcp-fb` lines that apply to a format: its own and the `*` ones (RFC 4585 §4.2), in order.
    public func rtcpFeedback(for format: String) -> [SDPRTCPFeedback] {
        rtcpFeedback.filter { feedback in
            switch feedback.format {
            case .all: true
            case .format(let value): value == format
            }
        }
    }
}

extension SessionDescription {
    /// `a=group` lines at session level (RFC 5888 §5).
    public var groups: [SDPGroup] { attributes.values { if case .group(let value) = $0 { value } else { nil } } }
    /// The first `a=group:BUNDLE` (RFC 8843 §7).
    public var bundleGroup: SDPGroup? { groups.first { $0.semantics == "BUNDLE" } }
    /// The media section with this `a=mid`.
    public func media(withMID mid: String) -> SDPMediaDescription? { media.first { $0.mid == mid } }
    /// ICE ufrag for a media section: its own, else the session's (RFC 8839 §5.4).
    public func iceUfrag(for section: SDPMediaDescription) -> String? { section.iceUfrag ?? attributes.iceUfrag }
    /// ICE password for a media section: its own, else the session's (RFC 8839 §5.4).
    public func icePwd(for section: SDPMediaDescription) -> String? { section.icePwd ?? attributes.icePwd }
    /// Fingerprints for a media section: its own, else the session's (RFC 8122 §5).
    public func fingerprints(for section: SDPMediaDescription) -> [SDPFingerprint] {
        let own = section.fingerprints
        return own.isEmpty ? attributes.fingerprints : own
    }
    /// `a=setup` for a media section: its own, else the session's (RFC 4145 §4).
    public func setup(for section: SDPMediaDescription) -> SDPSetupRole? { section.setup ?? attributes.setup }
    /// The connection data for a media section: its first own `c=`, else the session's (RFC 8866 §5.7).
    public func connection(for section: SDPMediaDescription) -> SDPConnection? { section.connections.first ?? connection }
}

/// RFC 3551 §6 Table 4 and 5: payload types with a static meaning, for m= lines that carry no rtpmap.
enum StaticPayloadTypes {
    static func codec(_ payloadType: UInt8) -> SDPRTPMap? {
        let entry: (String, UInt32, UInt32?)? = switch payloadType {
        case 0: ("PCMU", 8000, 1)
        case 3: ("GSM", 8000, 1)
        case 4: ("G723", 8000, 1)
        case 5: ("DVI4", 8000, 1)
        case 6: ("DVI4", 16000, 1)
        case 7: ("LPC", 8000, 1)
        case 8: ("PCMA", 8000, 1)
        case 9: ("G722", 8000, 1)
        case 10: ("L16", 44100, 2)
        case 11: ("L16", 44100, 1)
        case 12: ("QCELP", 8000, 1)
        case 13: ("CN", 8000, 1)
        case 14: ("MPA", 90000, nil)
        case 15: ("G728", 8000, 1)
        case 16: ("DVI4", 11025, 1)
        case 17: ("DVI4", 22050, 1)
        case 18: ("G729", 8000, 1)
        case 25: ("CelB", 90000, nil)
        case 26: ("JPEG", 90000, nil)
        case 28: ("nv", 90000, nil)
        case 31: ("H261", 90000, nil)
        case 32: ("MPV", 90000, nil)
        case 33: ("MP2T", 90000, nil)
        case 34: ("H263", 90000, nil)
        default: nil
        }
        return entry.map { SDPRTPMap(payloadType: payloadType, encodingName: $0.0, clockRate: $0.1, channels: $0.2) }
    }
}
