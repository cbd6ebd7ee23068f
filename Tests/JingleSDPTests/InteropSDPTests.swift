import Foundation
import Testing
import Jingle
import SDP
import XMLStream
import XMPPCore
@testable import JingleSDP

/// Session descriptions in the shape real implementations put on the wire (written for this corpus after the
/// output of each stack, not copied from one): parse, serialise, map to Jingle and back, and answer.
struct InteropSDPTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let fixture: String
        /// Who wrote it: an offer is the initiator's session-initiate, an answer the responder's session-accept.
        var author: JingleRole = .initiator
        var action: JingleWireAction = .sessionInitiate
        /// Text each of which must be named by some dropped line (`JingleSDPMapper.droppedLines`).
        var dropped: [String] = []
        /// Per m-line, the direction our RFC 3264 answer must take, or nil for a refused m-line (port 0).
        /// nil for the whole list: the fixture is itself an answer, nothing to answer.
        var answer: [SDPDirection?]? = nil
        var testDescription: String { fixture }
    }

    static let cases: [Case] = [
        // libwebrtc unified plan: BUNDLE, rtx/red/ulpfec/flexfec, transport-cc, rtcp-rsize, mDNS host, TCP candidate.
        Case(fixture: "chrome-unified-plan",
             dropped: ["a=msid-semantic", "a=msid:", "tcptype active", "network-cost 10", "a=rtcp:9"],
             answer: [.sendrecv, nil]),
        // Firefox: session-level fingerprint, extmap directions, rid/simulcast, end-of-candidates, IPv6 host.
        Case(fixture: "firefox-offer",
             dropped: ["a=msid-semantic:WMS *", "a=rid:hi send", "a=rid:lo send", "a=simulcast:send hi;lo", "tcptype active"],
             answer: [.sendrecv, nil]),
        // Safari (libwebrtc with a recvonly transceiver per kind).
        Case(fixture: "safari-offer", dropped: ["a=msid-semantic"], answer: [.sendonly, nil]),
        // aiortc as answerer: several fingerprints, a=setup:active, a=rtcp:9 beside rtcp-mux.
        Case(fixture: "aiortc-answer", author: .responder, action: .sessionAccept, dropped: ["a=msid-semantic:WMS *", "a=rtcp:9"]),
        // Asterisk chan_pjsip, plain RTP: G722 first, telephone-event 0-16, a=rtcp:<port>, ptime/maxptime.
        Case(fixture: "asterisk-avp", answer: [.sendrecv]),
        // Asterisk with SDES: two crypto lines, lifetime and MKI in key-params.
        Case(fixture: "asterisk-sdes", answer: [.sendrecv]),
        // FreeSWITCH: RTP/SAVP, no rtcp-mux, a=rtcp with address, opus fmtp with spaces after ';'.
        Case(fixture: "freeswitch-savp", answer: [.sendrecv]),
        // baresip over IPv6 with AVPF, rtcp-fb:*, b=AS.
        Case(fixture: "baresip-ipv6", dropped: ["a=label:1"], answer: [.sendrecv]),
        // Linphone: session-level ice-lite and ICE credentials, rtcp-xr, two components without rtcp-mux.
        Case(fixture: "linphone-ice-lite", dropped: ["a=rtcp-xr", "a=record:off", "a=rtcp:7079"], answer: [.sendrecv]),
        // rtpengine (Kamailio): a=rtcp with address, relay candidates with raddr 0.0.0.0.
        Case(fixture: "rtpengine-offer", dropped: ["a=rtcp:30449"], answer: [.sendrecv]),
        // Janus: session-level fingerprint and BUNDLE, msid-semantic WMS janus, mslabel/label ssrc lines.
        Case(fixture: "janus-offer", dropped: ["WMS janus", "a=msid:janus janusa0"], answer: [.recvonly, nil]),
        // Jitsi Videobridge: audio/video/data, rtcp:1, goog-remb, legacy ssrc lines.
        Case(fixture: "jitsi-jvb-offer", dropped: ["a=msid-semantic", "a=rtcp:1"], answer: [.sendrecv, nil, nil]),
        // Unusual but legal: FQDN c=/o=/candidate, b=TIAS, non-zero t=, x- attributes, two c= per media,
        // IPv6 media, ufrag with '+' and '/', upper-case hash name, TCP candidates of each tcptype, trailing space.
        Case(fixture: "odd-but-legal",
             dropped: ["i=A session", "b=AS:256", "a=x-vendor-flag:on", "a=tool:odd-gw 1.0", "b=TIAS:64000",
                       "a=x-custom-codec-hint", "tcptype active", "tcptype passive", "tcptype so"],
             answer: [.sendrecv, .inactive, .sendrecv]),
    ]

    // MARK: - SDP alone

    @Test(arguments: cases)
    func parseSerializeReparse(_ c: Case) throws {
        let text = try fixtureText(c.fixture, "sdp", subdirectory: "Fixtures/interop")
        let parsed = try SessionDescription(parsing: text)
        #expect(!parsed.media.isEmpty)
        let written = parsed.serialized()
        #expect(try SessionDescription(parsing: written) == parsed)
        // Canonical output is a fixed point, and always CRLF (RFC 8866 §5).
        #expect(try SessionDescription(parsing: written).serialized() == written)
        #expect(!written.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        // Every a= line of the input survives as an attribute (typed or verbatim), none is invented.
        let inputAttributes = text.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("a=") }.count
        let modelAttributes = parsed.attributes.count + parsed.media.map(\.attributes.count).reduce(0, +)
        #expect(modelAttributes == inputAttributes)
    }

    /// LF-only and CRLF input parse to the same model.
    @Test(arguments: cases)
    func lineEndingsDoNotMatter(_ c: Case) throws {
        let text = try fixtureText(c.fixture, "sdp", subdirectory: "Fixtures/interop")
        let lf = text.replacingOccurrences(of: "\r\n", with: "\n")
        let crlf = lf.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try SessionDescription(parsing: lf) == SessionDescription(parsing: crlf))
    }

    // MARK: - SDP -> Jingle -> SDP

    @Test(arguments: cases)
    func mapsToJingleAndBackLosingOnlyWhatIsListed(_ c: Case) throws {
        let original = try SessionDescription(parsing: try fixtureText(c.fixture, "sdp", subdirectory: "Fixtures/interop"))
        let (jingle, mapped) = try roundTrip(original, author: c.author, action: c.action)
        #expect(jingle.contents.count == original.media.count)
        // The table of the mapping: every line not listed as dropped comes back (order normalised).
        #expect(rtcpNormalized(mapped) == rtcpNormalized(original))
        #expect(mapped.groups == original.groups)
        #expect(mapped.origin.sessionID == original.origin.sessionID)
        // What cannot be expressed is reported, not silently lost.
        let dropped = JingleSDPMapper.droppedLines(in: original).map(\.line)
        for expected in c.dropped {
            #expect(dropped.contains { $0.contains(expected) }, "'\(expected)' should be reported as dropped; got \(dropped)")
        }
        // Stable after one normalisation.
        let again = try roundTrip(mapped, author: c.author, action: c.action)
        #expect(again.sdp == mapped)
    }

    /// Payload type ids, clock rates and fmtp survive into `<payload-type/>` exactly (XEP-0167 §"Mapping to SDP").
    @Test(arguments: cases)
    func payloadTypesKeepTheirIDs(_ c: Case) throws {
        let original = try SessionDescription(parsing: try fixtureText(c.fixture, "sdp", subdirectory: "Fixtures/interop"))
        let jingle = try mapper.jingle(from: original, context: .init(author: c.author, action: c.action))
        for (section, content) in zip(original.media, jingle.contents) where section.proto.uppercased().contains("RTP") {
            let rtp = try #require(content.description as? RTPDescription)
            #expect(rtp.media == section.media)
            #expect(rtp.payloadTypes.map { String($0.id) } == section.formats)
            for pt in rtp.payloadTypes {
                // Static payload types without a=rtpmap (RFC 3551) stay nameless in Jingle too.
                if let map = section.rtpMaps.first(where: { $0.payloadType == pt.id }) {
                    #expect(pt.name?.lowercased() == map.encodingName.lowercased())
                    #expect(pt.clockrate == map.clockRate)
                }
            }
        }
    }

    /// ``normalizedSections(_:)`` with `a=rtcp:<port> IN IP4 <addr>` written as `a=rtcp:<port>` when `<addr>` is
    /// the media's own connection address: RFC 3605 §2.1 makes the two equal, and the mapping writes the short
    /// form (FreeSWITCH and rtpengine write the long one).
    func rtcpNormalized(_ sdp: SessionDescription) -> [[String]] {
        zip(sdp.media, normalizedSections(sdp)).map { section, lines in
            guard let c = sdp.connection(for: section) else { return lines }
            return lines.map { line in
                let suffix = " \(c.networkType) \(c.addressType) \(c.address)"
                return line.hasPrefix("a=rtcp:") && line.hasSuffix(suffix) ? String(line.dropLast(suffix.count)) : line
            }.sorted()
        }
    }

    // MARK: - RFC 3264 answer with our capabilities

    static let local = SDPLocalCapabilities(
        codecs: [SDPCodecCapability(name: "PCMU", clockRate: 8000), SDPCodecCapability(name: "PCMA", clockRate: 8000),
                 SDPCodecCapability(name: "opus", clockRate: 48000, channels: 2),
                 SDPCodecCapability(name: "telephone-event", clockRate: 8000),
                 SDPCodecCapability(name: "telephone-event", clockRate: 48000)],
        mediaKinds: ["audio"], iceUfrag: "lOcL", icePwd: "localpassword0123456789",
        candidates: [SDPCandidate(foundation: "1", component: 1, priority: 2_130_706_431, address: "127.0.0.1", port: 40_000, type: .host)],
        fingerprint: SDPFingerprint(hashFunction: "sha-256", fingerprint: Array(repeating: "AB", count: 32).joined(separator: ":")),
        sdesKeyParams: "inline:MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkw")

    @Test(arguments: cases.filter { $0.answer != nil })
    func answersWithOurCapabilities(_ c: Case) throws {
        let offer = try SessionDescription(parsing: try fixtureText(c.fixture, "sdp", subdirectory: "Fixtures/interop"))
        let answer = try SessionDescription.answer(to: offer, capabilities: Self.local, origin: SDPOrigin(sessionID: "1", sessionVersion: 1))
        let expected = try #require(c.answer)
        #expect(answer.media.count == offer.media.count, "RFC 3264 §6: one m-line per offered m-line")
        #expect(answer.media.map { $0.port == 0 ? nil : $0.direction } == expected)
        for (offered, answered) in zip(offer.media, answer.media) {
            #expect(answered.media == offered.media)
            #expect(answered.mid == offered.mid)
            guard answered.port != 0 else { continue }
            // Formats: a subsequence of the offered ones, same numbers, same rtpmap (RFC 3264 §6.1).
            var rest = offered.formats[...]
            for format in answered.formats {
                guard let at = rest.firstIndex(of: format) else { Issue.record("\(format) not offered or out of order"); break }
                rest = rest[rest.index(after: at)...]
                #expect(answered.codec(for: format) == offered.codec(for: format))
            }
            let names = Set(answered.formats.compactMap { answered.codec(for: $0)?.encodingName.lowercased() })
            #expect(!names.isEmpty && names.isSubset(of: ["pcmu", "pcma", "opus", "telephone-event"]))
            // DTMF follows when offered at a rate we support (RFC 4733 §7.1.1).
            let offeredDTMF = offered.rtpMaps.contains { $0.encodingName == "telephone-event" && [8000, 48000].contains($0.clockRate) }
            #expect(names.contains("telephone-event") == offeredDTMF)
            let proto = offered.proto.uppercased()
            if proto.contains("TLS") || !offer.fingerprints(for: offered).isEmpty {
                #expect(answered.setup == SDPSetupRole.answering(offer.setup(for: offered)))
                #expect(answered.setup != .actpass, "RFC 5763 §5: the answerer picks a role")
            } else if proto.contains("SAVP") {
                let tag = try #require(answered.cryptos.first?.tag)
                #expect(offered.cryptos.map(\.tag).contains(tag), "RFC 4568 §7.1.2: the answer keeps the chosen tag")
            }
            if offer.iceUfrag(for: offered) != nil { #expect(answer.iceUfrag(for: answered) == "lOcL") }
            #expect(answered.rtcpMux == offered.rtcpMux)
        }
        // The answer maps to a session-accept and back without loss, as the responder wrote it.
        let (accept, back) = try roundTrip(answer, author: .responder, action: .sessionAccept)
        #expect(normalizedSections(back) == normalizedSections(answer))
        for content in accept.contents {
            guard let ice = content.transport.flatMap(JingleSDPMapper.iceTransport) else { continue }
            #expect(ice.fingerprints.allSatisfy { $0.setup != .actpass })
        }
    }

    // MARK: - Decisions on leniency

    /// RFC 8866 §5.3 makes `s=` mandatory; a few old SIP devices leave it out. We stay strict: the line carries
    /// nothing a gateway needs, but accepting it would also make `serialize(parse(x))` add a line the peer never
    /// sent. The typed error is pinned here so that a change of policy is deliberate.
    @Test func missingSessionNameIsATypedError() throws {
        let text = try fixtureText("missing-s", "sdp", subdirectory: "Fixtures/interop")
        #expect(throws: SDPError(.missingLine, line: 0, "missing 's=' line (RFC 8866 §5.3)")) {
            try SessionDescription(parsing: text)
        }
    }

    /// `s= ` (a single space, as RFC 8866 §5.3 suggests for "no name"), trailing spaces and FQDNs are accepted.
    @Test func oddButLegalDetails() throws {
        let sdp = try SessionDescription(parsing: try fixtureText("odd-but-legal", "sdp", subdirectory: "Fixtures/interop"))
        #expect(sdp.sessionName == " ")
        #expect(sdp.timing == [SDPTiming(start: 3_911_000_000, stop: 3_911_003_600)])
        #expect(sdp.connection?.address == "media-gw.example.net")
        #expect(sdp.origin.address == "media-gw.example.net")
        #expect(sdp.media[0].connections.count == 2)
        #expect(sdp.media[0].bandwidths == [SDPBandwidth(type: "AS", value: 80), SDPBandwidth(type: "TIAS", value: 64000)])
        #expect(sdp.media[1].connections.first?.addressType == "IP6")
        #expect(sdp.media[2].iceUfrag == "a+b/c9")
        #expect(sdp.media[2].candidates.map(\.address).contains("host-7.example.net"))
        #expect(sdp.media[2].candidates.compactMap(\.tcpType).count == 3)
        // The trailing space after 'PCMU/8000 ' does not become part of the encoding name.
        #expect(sdp.media[0].codec(for: "0")?.encodingName == "PCMU")
        // Jingle keeps the FQDN verbatim in <candidate ip> and the ufrag with '+' and '/'.
        let jingle = try mapper.jingle(from: sdp, context: .init(author: .initiator, action: .sessionInitiate))
        let ice = try #require(jingle.contents[2].transport.flatMap(JingleSDPMapper.iceTransport))
        #expect(ice.ufrag == "a+b/c9")
        #expect(ice.candidates.map(\.ip).contains("host-7.example.net"))
        #expect(ice.candidates.map(\.ip).contains("2001:db8::92"))
        // The first b= line of a media section travels as <bandwidth/>.
        let rtp = try #require(jingle.contents[0].description as? RTPDescription)
        #expect(rtp.bandwidth?.type == "AS")
    }

    /// SDES key-params with lifetime and MKI travel verbatim in `<crypto key-params>` (XEP-0167 §7).
    @Test func sdesLifetimeAndMKISurvive() throws {
        let sdp = try SessionDescription(parsing: try fixtureText("asterisk-sdes", "sdp", subdirectory: "Fixtures/interop"))
        let jingle = try mapper.jingle(from: sdp, context: .init(author: .initiator, action: .sessionInitiate))
        let rtp = try #require(jingle.contents.first?.description as? RTPDescription)
        let crypto = try #require(rtp.encryption?.cryptos)
        #expect(crypto.map(\.keyParams) == sdp.media[0].cryptos.map(\.keyParams))
        #expect(crypto.first?.keyParams.hasSuffix("|2^20|1:4") == true)
    }

    /// Session-level ICE-lite (Linphone) is carried so that the peer knows it must be controlling (RFC 8445 §6.1.1).
    @Test func iceLiteAtSessionLevelSurvives() throws {
        let sdp = try SessionDescription(parsing: try fixtureText("linphone-ice-lite", "sdp", subdirectory: "Fixtures/interop"))
        let (_, back) = try roundTrip(sdp, author: .initiator, action: .sessionInitiate)
        #expect(back.attributes.contains(.iceLite) || back.media.allSatisfy { $0.attributes.contains(.iceLite) })
        #expect(back.media[0].candidates.map(\.component).sorted() == [1, 2])
    }
}
