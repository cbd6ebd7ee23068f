import JingleSDP
import SDP

/// Which m-lines of a SIP offer cross to Jingle, and how the Jingle side's answer is put back into the offer's
/// shape for SIP (passthrough media).
///
/// Jingle can carry RTP streams (XEP-0167) and WebRTC data channels (XEP-0343) only. SIP phones often offer
/// more — BFCP (`m=application … UDP/BFCP`), T.38 fax (`m=image … udptl t38`), MSRP — and RFC 3264 §6 wants an
/// answer with exactly the offer's m-lines, in order, refusing a stream with port 0. So the gateway carries the
/// streams Jingle can express, and refuses the others (and any the Jingle party left out of its answer) in the
/// SIP answer, instead of failing the whole call.
struct OfferLayout: Sendable {
    /// The SIP offer.
    let offer: SessionDescription
    /// Positions in `offer.media` of the m-lines that cross to Jingle, in order.
    let carried: [Int]

    /// Refuses an offer with nothing to carry (every stream already refused, or none Jingle can express).
    init(_ offer: SessionDescription) throws(GatewayError) {
        self.offer = offer
        carried = offer.media.indices.filter { Self.isCarried(offer.media[$0]) }
        guard !carried.isEmpty else {
            let streams = offer.media.map { "m=\($0.media) \($0.port) \($0.proto)" }.joined(separator: ", ")
            throw .unsupported("no stream of the offer maps to Jingle (RTP or WebRTC data channel, not refused): \(streams)")
        }
    }

    /// Whether the m-line crosses: one Jingle can express (``JingleSDPMapper/canCarry(_:)``), not refused
    /// (port 0 and not bundle-only, RFC 8843 §6).
    static func isCarried(_ section: SDPMediaDescription) -> Bool {
        !section.isRejected && JingleSDPMapper.canCarry(section)
    }

    /// Whether some stream stays behind (what the log should mention).
    var refusesSome: Bool { carried.count < offer.media.count }

    /// The offer limited to the carried m-lines; a BUNDLE (or other) group keeps only their mids, and a group
    /// left empty is dropped (RFC 5888 §5, RFC 8843 §7.3.3).
    var carriedOffer: SessionDescription {
        JingleSDPMapper.restricted(offer, to: carried.contains)
    }

    /// The SIP answer: `answer` (the Jingle side's, mapped to SDP; its m-lines are named by `a=mid` after the
    /// contents) put into the offer's order, with every m-line that was not carried, or that the Jingle side
    /// left out, refused. `contentNames[i]` is the content the `i`-th carried m-line became.
    func answer(_ answer: SessionDescription, contentNames: [String]) -> SessionDescription {
        var named: [String: SDPMediaDescription] = [:]
        for section in answer.media { if let mid = section.mid, named[mid] == nil { named[mid] = section } }
        var out = answer
        out.media = offer.media.indices.map { index in
            if let position = carried.firstIndex(of: index), position < contentNames.count,
               let section = named[contentNames[position]] {
                return section
            }
            return Self.refused(offer.media[index], in: answer)
        }
        return out
    }

    /// Why a re-INVITE's offer cannot be answered from the current session, or nil. The re-INVITE then gets
    /// 488 and the session goes on unchanged (RFC 3261 §14.2). Refused: an offer that removes m-lines (RFC 3264
    /// §8), changes the media type of a live stream, or keeps none of the live streams — a T.38 fax switch
    /// (`m=audio` becoming `m=image … udptl t38`, or audio refused and an `m=image` added), which the Jingle
    /// side cannot follow.
    static func reofferProblem(_ offer: SessionDescription, current: SessionDescription) -> String? {
        if offer.media.count < current.media.count {
            return "the re-offer has \(offer.media.count) m-lines, the session \(current.media.count) (RFC 3264 §8: m-lines are not removed)"
        }
        var kept = 0
        for index in current.media.indices where !current.media[index].isRejected && !offer.media[index].isRejected {
            let now = current.media[index], new = offer.media[index]
            if new.media != now.media || !isCarried(new) {
                return "m-line \(index + 1) changes from m=\(now.media) \(now.proto) to m=\(new.media) \(new.proto), which the Jingle side cannot follow"
            }
            kept += 1
        }
        if kept == 0 && current.media.contains(where: { !$0.isRejected }) {
            let streams = offer.media.map { "m=\($0.media) \($0.port) \($0.proto)" }.joined(separator: ", ")
            return "the re-offer keeps none of the session's streams (\(streams)), which the Jingle side cannot follow"
        }
        return nil
    }

    /// The answer to a re-offer that passed ``reofferProblem(_:current:)``: the current session's m-line where
    /// both sides keep the stream, a refusal (port 0) everywhere else — streams the re-offer refuses, positions
    /// refused before, and m-lines it adds (RFC 3264 §8.1, §8.2).
    static func reanswer(_ offer: SessionDescription, current: SessionDescription) -> SessionDescription {
        var answer = current
        answer.media = offer.media.indices.map { index in
            if index < current.media.count, !current.media[index].isRejected, !offer.media[index].isRejected {
                return current.media[index]
            }
            return refused(offer.media[index], in: current)
        }
        return answer
    }

    /// `offered` refused in an answer built on `description`. A refused m-line has no address of its own:
    /// without a session-level c= it borrows the first m-line's, so that every m-line has a c= line in reach
    /// (RFC 8866 §5.7; some SIP stacks reject the SDP otherwise).
    static func refused(_ offered: SDPMediaDescription, in description: SessionDescription) -> SDPMediaDescription {
        var section = offered.refusedInAnswer
        if description.connection == nil, let borrowed = description.media.lazy.compactMap(\.connections.first).first {
            section.connections = [borrowed]
        }
        return section
    }

    /// A SIP answer to a Jingle offer, made something the session-accept can carry: Jingle has no refused
    /// content (a content without transport is not one), so a stream the SIP party refused (port 0) becomes
    /// an inactive one (RFC 3264 §6.1) in the BUNDLE transport of an accepted ICE stream — WebRTC callers
    /// need every offered m-line answered — or, without such a transport, is left out of the answer.
    static func jingleAcceptable(_ answer: SessionDescription, offer: SessionDescription) -> SessionDescription {
        guard answer.media.contains(where: \.isRejected) else { return answer }
        let bundle = offer.bundleGroup?.identifiers ?? []
        let carrier = answer.media.first { !$0.isRejected && $0.mid.map(bundle.contains) == true && answer.iceUfrag(for: $0) != nil }
        var out = answer
        out.media = answer.media.compactMap { section -> SDPMediaDescription? in
            guard section.isRejected else { return section }
            guard let carrier, let mid = section.mid, bundle.contains(mid), answer.iceUfrag(for: carrier) != nil,
                  answer.icePwd(for: carrier) != nil else { return nil }
            return inactive(offer.media.first { $0.mid == mid } ?? section, mid: mid, carrier: carrier, in: answer)
        }
        if let carrier, let carried = carrier.mid {
            let mids = out.media.compactMap(\.mid).filter(bundle.contains)
            out.attributes = out.attributes.map { attribute in
                guard case .group(var group) = attribute, group.semantics == "BUNDLE", group.identifiers.contains(carried) else { return attribute }
                group.identifiers = mids
                return .group(group)
            }
        }
        return out
    }

    /// `offered` answered inactive (RFC 3264 §6.1) in the BUNDLE transport of `carrier`, an accepted m-line
    /// of `description`: its port, profile and address, its ICE credentials, fingerprint and setup (from the
    /// m-line or the session level), no candidates; the offered formats and rtpmaps.
    static func inactive(_ offered: SDPMediaDescription, mid: String, carrier: SDPMediaDescription,
                         in description: SessionDescription) -> SDPMediaDescription {
        var section = SDPMediaDescription(media: offered.media, port: carrier.port, proto: carrier.proto, formats: offered.formats,
                                          connections: carrier.connections)
        section.attributes = [.mid(mid)] + offered.rtpMaps.map(SDPAttribute.rtpmap) + [.direction(.inactive), .rtcpMux]
            + (description.iceUfrag(for: carrier).map { [SDPAttribute.iceUfrag($0)] } ?? [])
            + (description.icePwd(for: carrier).map { [SDPAttribute.icePwd($0)] } ?? [])
            + description.fingerprints(for: carrier).map(SDPAttribute.fingerprint)
            + (description.setup(for: carrier).map { [SDPAttribute.setup($0)] } ?? [])
        return section
    }
}
