import Foundation
import Testing
import Jingle
import SDP
import XMLStream
import XMPPCore
@testable import JingleSDP

func sdp(_ lines: [String]) throws -> SessionDescription {
    try SessionDescription(parsing: (["v=0", "o=- 42 1 IN IP4 127.0.0.1", "s=-", "t=0 0"] + lines).joined(separator: "\r\n") + "\r\n")
}

func sdp(_ lines: String...) throws -> SessionDescription { try sdp(lines) }

let ice = ["a=ice-ufrag:abcd", "a=ice-pwd:0123456789abcdefghijkl"]

/// Directions are the SDP author's view; senders are absolute (XEP-0166 §7.3).
struct DirectionTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let direction: SDPDirection
        let author: JingleRole
        let senders: JingleSenders
        var testDescription: String { "a=\(direction.rawValue) by \(author.rawValue) is senders=\(senders.rawValue)" }
    }

    static let table: [Row] = [
        Row(direction: .sendrecv, author: .initiator, senders: .both),
        Row(direction: .sendrecv, author: .responder, senders: .both),
        Row(direction: .inactive, author: .initiator, senders: .none),
        Row(direction: .inactive, author: .responder, senders: .none),
        // The initiator offering to send only: only the initiator sends.
        Row(direction: .sendonly, author: .initiator, senders: .initiator),
        // The responder answering recvonly to that offer: still only the initiator sends.
        Row(direction: .recvonly, author: .responder, senders: .initiator),
        Row(direction: .recvonly, author: .initiator, senders: .responder),
        Row(direction: .sendonly, author: .responder, senders: .responder),
    ]

    @Test(arguments: table)
    func contentSenders(_ row: Row) throws {
        let offer = try sdp(["m=audio 9 RTP/AVP 0", "c=IN IP4 0.0.0.0", "a=mid:a", "a=\(row.direction.rawValue)"] + ice)
        let action: JingleWireAction = row.author == .initiator ? .sessionInitiate : .sessionAccept
        let jingle = try mapper.jingle(from: offer, context: .init(author: row.author, action: action))
        #expect(jingle.contents.first?.senders == row.senders)
        let back = try mapper.sdp(from: jingle, author: row.author)
        #expect(back.media.first?.direction == row.direction)
        // The same Jingle written by the other party reads the other way round (RFC 3264 §6.1).
        let other = try mapper.sdp(from: jingle, author: row.author.other)
        #expect(other.media.first?.direction == row.direction.reversed)
    }

    @Test(arguments: table)
    func headerExtensionSenders(_ row: Row) throws {
        let offer = try sdp(["m=video 9 RTP/AVP 96", "c=IN IP4 0.0.0.0", "a=rtpmap:96 VP8/90000",
                             "a=extmap:3/\(row.direction.rawValue) urn:example:ext", "a=extmap:4 urn:example:plain"] + ice)
        let jingle = try mapper.jingle(from: offer, context: .init(author: row.author, action: .sessionInitiate))
        let rtp = try #require(jingle.contents.first?.description as? RTPDescription)
        #expect(rtp.headerExtensions.map(\.senders) == [row.senders, nil])
        let back = try mapper.sdp(from: jingle, author: row.author)
        #expect(back.media.first?.extmaps.map(\.direction) == [row.direction, nil])
    }

    @Test func sessionLevelDirectionAppliesToEveryMLine() throws {
        let offer = try sdp(["a=sendonly", "m=audio 9 RTP/AVP 0", "c=IN IP4 0.0.0.0", "m=video 9 RTP/AVP 96", "c=IN IP4 0.0.0.0",
                             "a=rtpmap:96 VP8/90000", "a=recvonly"])
        let jingle = try mapper.jingle(from: offer, context: .init(author: .initiator, action: .sessionInitiate))
        #expect(jingle.contents.map(\.senders) == [.initiator, .responder])
    }

    @Test func noDirectionMeansNoSendersAttribute() throws {
        let offer = try sdp("m=audio 9 RTP/AVP 0", "c=IN IP4 0.0.0.0")
        let jingle = try mapper.jingle(from: offer, context: .init(author: .initiator, action: .sessionInitiate))
        #expect(jingle.contents.first?.senders == nil)
        #expect(try mapper.sdp(from: jingle, author: .initiator).media.first?.direction == nil)
    }
}

struct PayloadTypeTests {
    @Test func namelessAndRepeatedFormatParameters() throws {
        let offer = try sdp("m=audio 5000 RTP/AVP 101 96", "c=IN IP4 192.0.2.1", "a=rtpmap:101 telephone-event/8000",
                            "a=fmtp:101 0-15", "a=rtpmap:96 x-test/8000", "a=fmtp:96 a=1;b=2;a=3")
        let jingle = try mapper.jingle(from: offer, context: .init(author: .initiator, action: .sessionInitiate))
        let xml = jingle.element().serialized()
        #expect(xml.contains("<parameter name=\"\" value=\"0-15\"/>"))
        let rtp = try #require(jingle.contents.first?.description as? RTPDescription)
        #expect(rtp.payloadTypes[1].parameters.map { "\($0.name)=\($0.value ?? "")" } == ["a=1", "b=2", "a=3"])
        let back = try mapper.sdp(from: jingle, author: .initiator).serialized()
        #expect(back.contains("a=fmtp:101 0-15\r\n"))
        #expect(back.contains("a=fmtp:96 a=1;b=2;a=3\r\n"))
    }

    @Test func rtpmapPtimeMaxptimeAndChannels() throws {
        let offer = try sdp("m=audio 5000 RTP/AVP 111 0", "c=IN IP4 192.0.2.1", "a=rtpmap:111 opus/48000/2", "a=ptime:20", "a=maxptime:60")
        let jingle = try mapper.jingle(from: offer, context: .init(author: .initiator, action: .sessionInitiate))
        let rtp = try #require(jingle.contents.first?.description as? RTPDescription)
        #expect(rtp.payloadTypes.map(\.id) == [111, 0])
        #expect(rtp.payloadTypes[0].name == "opus" && rtp.payloadTypes[0].clockrate == 48000 && rtp.payloadTypes[0].channels == 2)
        // RFC 3551 static type without rtpmap: named, clock rate left implicit.
        #expect(rtp.payloadTypes[1].name == "PCMU" && rtp.payloadTypes[1].clockrate == nil)
        #expect(rtp.payloadTypes.allSatisfy { $0.ptime == 20 && $0.maxptime == 60 })
        let back = try mapper.sdp(from: jingle, author: .initiator)
        #expect(back.media[0].rtpMaps == [SDPRTPMap(payloadType: 111, encodingName: "opus", clockRate: 48000, channels: 2)])
        #expect(back.media[0].attributes.contains(.ptime(20)) && back.media[0].attributes.contains(.maxptime(60)))
    }

    @Test func rtcpFeedbackWildcardAndTRRInt() throws {
        let offer = try sdp("m=video 5000 RTP/AVPF 96 97", "c=IN IP4 192.0.2.1", "a=rtpmap:96 VP8/90000", "a=rtpmap:97 H264/90000",
                            "a=rtcp-fb:* nack", "a=rtcp-fb:* trr-int 50", "a=rtcp-fb:96 nack pli", "a=rtcp-fb:97 trr-int 100")
        let jingle = try mapper.jingle(from: offer, context: .init(author: .initiator, action: .sessionInitiate))
        let rtp = try #require(jingle.contents.first?.description as? RTPDescription)
        // XEP-0293 §3: description-level feedback applies to every payload type, as `*` does (RFC 4585 §4.2).
        #expect(rtp.rtcpFeedback == [RTCPFeedback(type: "nack")])
        #expect(rtp.rtcpFeedbackTRRInt == RTCPFeedbackTRRInt(value: 50))
        #expect(rtp.payloadTypes[0].rtcpFeedback == [RTCPFeedback(type: "nack", subtype: "pli")])
        #expect(rtp.payloadTypes[1].rtcpFeedbackTRRInt == RTCPFeedbackTRRInt(value: 100))
        let back = try mapper.sdp(from: jingle, author: .initiator).media[0]
        #expect(Set(back.rtcpFeedback) == Set(offer.media[0].rtcpFeedback))
        #expect(back.rtcpFeedback(for: "97").contains(SDPRTCPFeedback(format: .all, type: "nack")))
    }

    @Test func firstBandwidthOnly() throws {
        let offer = try sdp("m=audio 5000 RTP/AVP 0", "c=IN IP4 192.0.2.1", "b=AS:64", "b=TIAS:64000")
        let jingle = try mapper.jingle(from: offer, context: .init(author: .initiator, action: .sessionInitiate))
        #expect((jingle.contents[0].description as? RTPDescription)?.bandwidth == RTPBandwidth(type: "AS", value: "64"))
        #expect(try mapper.sdp(from: jingle, author: .initiator).media[0].bandwidths == [SDPBandwidth(type: "AS", value: 64)])
        #expect(JingleSDPMapper.droppedLines(in: offer).map(\.line) == ["b=TIAS:64000"])
    }

    @Test func sdesCryptoAndProfiles() throws {
        let offer = try fixtureSDP("sdes-offer")
        let jingle = try mapper.jingle(from: offer, context: .init(author: .initiator, action: .sessionInitiate))
        let encryption = try #require((jingle.contents[0].description as? RTPDescription)?.encryption)
        #expect(encryption.cryptos.map(\.tag) == ["1", "2", "3"])
        #expect(encryption.cryptos[1].sessionParams == "KDR=1 UNENCRYPTED_SRTCP")
        let back = try mapper.sdp(from: jingle, author: .initiator).media[0]
        #expect(back.proto == "RTP/SAVP")
        #expect(back.cryptos == offer.media[0].cryptos)
        // Without crypto or fingerprint: plain RTP/AVP whatever came in.
        let plain = try mapper.sdp(from: try mapper.jingle(from: try fixtureSDP("sip-phone-offer"),
                                                            context: .init(author: .initiator, action: .sessionInitiate)), author: .initiator)
        #expect(plain.media[0].proto == "RTP/AVP")
        // With a fingerprint: UDP/TLS/RTP/SAVPF, even from baresip's profile.
        let dtls = try mapper.sdp(from: try mapper.jingle(from: try fixtureSDP("baresip-ice-dtls-offer"),
                                                           context: .init(author: .initiator, action: .sessionInitiate)), author: .initiator)
        #expect(dtls.media[0].proto == "UDP/TLS/RTP/SAVPF")
    }

    @Test func sourcesAndGroups() throws {
        let offer = try fixtureSDP("browser-offer")
        let jingle = try mapper.jingle(from: offer, context: .init(author: .initiator, action: .sessionInitiate))
        let video = try #require(jingle.contents[1].description as? RTPDescription)
        #expect(video.sourceGroups == [RTPSourceGroup(semantics: "FID", ssrcs: [2002, 2003])])
        #expect(video.sources.map(\.ssrc) == [2002, 2003])
        #expect(video.sources[0].parameters.map(\.name) == ["cname", "msid"])
        #expect(jingle.groups == [JingleGroup(semantics: "BUNDLE", contents: ["0", "1", "2"])])
        let xml = jingle.element().serialized()
        #expect(xml.contains("<group xmlns=\"urn:xmpp:jingle:apps:grouping:0\" semantics=\"BUNDLE\">"))
    }
}

struct TransportTests {
    @Test func candidatesKeepEveryXEP0176Field() throws {
        let offer = try fixtureSDP("browser-offer")
        let jingle = try mapper.jingle(from: offer, context: .init(author: .initiator, action: .sessionInitiate))
        let transport = try #require(jingle.contents[0].transport as? ICEUDPTransport)
        #expect(transport.ufrag == "EsAw" && transport.pwd == "P2uYro0UCOQ4zxjKXaWCBui1")
        // TCP candidate dropped: 5 of 6 remain.
        #expect(transport.candidates.map(\.type) == [.host, .host, .srflx, .relay, .host])
        let mdns = transport.candidates[1]
        #expect(mdns.ip == "4c8a9f1e-0b6d-4a6e-9a8c-2f0b2c7d1e55.local", "mDNS names are copied verbatim")
        let relay = transport.candidates[3]
        #expect(relay.foundation == "2917370282" && relay.component == 1 && relay.protocol == "udp" && relay.priority == 41885439)
        #expect(relay.relAddr == "198.51.100.20" && relay.relPort == 46243 && relay.network == 1 && relay.generation == 0)
        #expect(SDPMappingExtension.find("end-of-candidates", in: transport.extensions) != nil)
        #expect(transport.fingerprints == [DTLSFingerprint(hash: "sha-256", setup: .actpass, value: "D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F")])
        let back = try mapper.sdp(from: jingle, author: .initiator)
        #expect(back.media[0].candidates[1].address == mdns.ip)
        #expect(back.media[0].endOfCandidates)
    }

    @Test func absentGenerationMeansZero() throws {
        let offer = try sdp(["m=audio 9 RTP/AVP 0", "c=IN IP4 0.0.0.0", "a=candidate:x1 1 udp 100 192.0.2.1 4000 typ host"] + ice)
        let jingle = try mapper.jingle(from: offer, context: .init(author: .initiator, action: .sessionInitiate))
        #expect((jingle.contents[0].transport as? ICEUDPTransport)?.candidates.first?.generation == 0)
        #expect(jingle.element().serialized().contains("generation=\"0\""))
    }

    @Test func foundationsVerbatimOrNumeric() throws {
        let offer = try sdp(["m=audio 9 RTP/AVP 0", "c=IN IP4 0.0.0.0", "a=candidate:c0a8+/x 1 udp 100 192.0.2.1 4000 typ host",
                             "a=candidate:77 1 udp 90 192.0.2.1 4001 typ host", "a=candidate:c0a8+/x 2 udp 99 192.0.2.1 4002 typ host"] + ice)
        let jingle = try mapper.jingle(from: offer, context: .init(author: .initiator, action: .sessionInitiate))
        #expect(try mapper.sdp(from: jingle, author: .initiator).media[0].candidates.map(\.foundation) == ["c0a8+/x", "77", "c0a8+/x"])
        let gateway = JingleSDPMapper(options: .init(foundations: .numeric))
        let numeric = try gateway.sdp(from: jingle, author: .initiator).media[0].candidates.map(\.foundation)
        #expect(numeric.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) })
        #expect(numeric[1] == "77", "numeric foundations stay as they are")
        #expect(numeric[0] == numeric[2], "equal foundations stay equal (RFC 8445 §5.1.1.3)")
        #expect(numeric[0] != numeric[1])
    }

    @Test func trickleUsesPortNineAndNullAddress() throws {
        let (jingle, mapped) = try roundTrip(try fixtureSDP("trickle-offer"), author: .initiator, action: .sessionInitiate)
        #expect((jingle.contents[0].transport as? ICEUDPTransport)?.candidates.isEmpty == true)
        #expect(mapped.media[0].port == 9)
        #expect(mapped.media[0].connections == [SDPConnection(address: "0.0.0.0")])
        #expect(mapped.attributes.contains(.iceOptions(["trickle"])))
        #expect(!mapped.media[0].endOfCandidates)
    }

    /// ICE restart (RFC 8445 §9): new credentials, no candidates yet, in a transport-info; then candidates of the
    /// next generation.
    @Test func iceRestartTransportInfo() throws {
        let restart = try sdp("a=ice-ufrag:new1", "a=ice-pwd:newpasswordnewpassword00", "m=audio 9 RTP/AVP 0", "c=IN IP4 0.0.0.0", "a=mid:voice")
        let info = try mapper.jingle(from: restart, context: .init(author: .initiator, action: .transportInfo, sid: "a73sjjvkla37jfea"))
        #expect(info.action == .transportInfo && info.sid == "a73sjjvkla37jfea")
        let transport = try #require(info.contents.first?.transport as? ICEUDPTransport)
        #expect(transport.ufrag == "new1" && transport.candidates.isEmpty && info.contents[0].description == nil)
        // XEP-0176 Example 7 (restart with a generation-1 candidate) through SDP keeps the generation.
        let (sdp07, back) = try roundTrip(try xepJingle("xep-0176-07"), author: .initiator)
        #expect(sdp07.media[0].candidates.first?.generation == 1)
        #expect((back.contents[0].transport as? ICEUDPTransport)?.candidates.first?.generation == 1)
    }

    @Test func answerMustChooseSetupRole() throws {
        let answer = try sdp(["m=audio 9 UDP/TLS/RTP/SAVPF 0", "c=IN IP4 0.0.0.0", "a=setup:actpass",
                              "a=fingerprint:sha-256 AB:CD"] + ice)
        #expect(throws: JingleSDPError.self) { try mapper.jingle(from: answer, context: .init(author: .responder, action: .sessionAccept)) }
        do {
            _ = try mapper.jingle(from: answer, context: .init(author: .responder, action: .sessionAccept))
        } catch {
            #expect(error.kind == .invalidSetupRole)
        }
        // The same description as an offer is fine, and a fingerprint in transport-info is accepted (peers that
        // start DTLS before session-accept).
        #expect(throws: Never.self) { try mapper.jingle(from: answer, context: .init(author: .initiator, action: .sessionInitiate)) }
        let early = try mapper.jingle(from: answer, context: .init(author: .responder, action: .transportInfo))
        #expect((early.contents[0].transport as? ICEUDPTransport)?.fingerprints.first?.setup == .actpass)
        let fromXEP = try mapper.sdp(from: try xepJingle("xep-0320-03"), author: .responder)
        #expect(fromXEP.media[0].fingerprints.count == 1 && fromXEP.media[0].setup == .active)
        // And Jingle -> SDP refuses an actpass answer too.
        var accept = try xepJingle("xep-0320-02")
        if var t = accept.contents[0].transport as? ICEUDPTransport {
            t.fingerprints[0].setup = .actpass
            accept.contents[0].transport = t
        }
        #expect(throws: JingleSDPError.self) { try mapper.sdp(from: accept, author: .responder) }
    }

    @Test func sessionLevelICEAndFingerprintApplyToEveryMLine() throws {
        let offer = try fixtureSDP("baresip-ice-dtls-offer")
        let jingle = try mapper.jingle(from: offer, context: .init(author: .initiator, action: .sessionInitiate))
        let transport = try #require(jingle.contents[0].transport as? ICEUDPTransport)
        #expect(transport.ufrag == "K3Q07wF")
        #expect(transport.fingerprints.map(\.hash) == ["SHA-256"] && transport.fingerprints[0].setup == .actpass)
        #expect(transport.candidates.map(\.ip) == ["192.0.2.2", "fd00::2"])
        let back = try mapper.sdp(from: jingle, author: .initiator)
        #expect(back.media[0].iceUfrag == "K3Q07wF" && back.media[0].fingerprints.count == 1)
    }

    @Test func rawUDPFromConnectionAndPort() throws {
        let offer = try sdp("c=IN IP4 192.0.2.50", "m=audio 5004 RTP/AVP 0", "a=rtcp:5009")
        let jingle = try mapper.jingle(from: offer, context: .init(author: .initiator, action: .sessionInitiate))
        let raw = try #require(jingle.contents[0].transport as? RawUDPTransport)
        #expect(raw.candidates.map { "\($0.component) \($0.ip):\($0.port)" } == ["1 192.0.2.50:5004", "2 192.0.2.50:5009"])
        let back = try mapper.sdp(from: jingle, author: .initiator).media[0]
        #expect(back.port == 5004 && back.connections == [SDPConnection(address: "192.0.2.50")])
        #expect(back.attributes.contains(.rtcp(SDPRTCPAddress(port: 5009))))
    }

    @Test func rejectedMLineKeepsItsPlace() throws {
        let answer = try fixtureSDP("directions-answer")
        let jingle = try mapper.jingle(from: answer, context: .init(author: .responder, action: .sessionAccept))
        let rejected = jingle.contents[3]
        #expect(rejected.name == "v2" && rejected.transport == nil)
        #expect(SDPMappingExtension.find("rejected", in: rejected.extensions)?[attribute: "proto"] == "UDP/TLS/RTP/SAVPF")
        let back = try mapper.sdp(from: jingle, author: .responder)
        // Bundled sections share the first one's port (RFC 8843 §7.3); the rejected one stays at 0.
        #expect(back.media.map(\.port) == [40000, 40000, 40000, 0])
        #expect(back.media[3].proto == "UDP/TLS/RTP/SAVPF" && back.media[3].formats == ["100"])
        #expect(back.media.map(\.direction) == [.sendonly, .recvonly, .inactive, nil])
        #expect(jingle.contents.map(\.senders) == [.responder, .initiator, JingleSenders.none, nil])
    }

    @Test func dataChannelBothForms() throws {
        let modern = try mapper.jingle(from: try fixtureSDP("browser-offer"), context: .init(author: .initiator, action: .sessionInitiate))
        let data = modern.contents[2]
        #expect(data.description?.element().namespace == WebRTCDataChannelDescription.namespace)
        let transport = try #require(data.transport as? ICEUDPTransport)
        let map = try SCTPMap(element: try #require(transport.extensions.first { $0.name == "sctpmap" }))
        #expect(map == SCTPMap(number: 5000))
        #expect(SDPMappingExtension.find("max-message-size", in: transport.extensions)?[attribute: "value"] == "262144")
        let modernBack = try mapper.sdp(from: modern, author: .initiator).media[2]
        #expect(modernBack.proto == "UDP/DTLS/SCTP" && modernBack.formats == ["webrtc-datachannel"])
        #expect(modernBack.sctpPort == 5000 && modernBack.maxMessageSize == 262144)

        let old = try mapper.jingle(from: try fixtureSDP("datachannel-sctpmap-offer"), context: .init(author: .initiator, action: .sessionInitiate))
        let oldMap = try SCTPMap(element: try #require((old.contents[0].transport as? ICEUDPTransport)?.extensions.first { $0.name == "sctpmap" }))
        #expect(oldMap == SCTPMap(number: 5000, protocol: "webrtc-datachannel", streams: 256))
        let oldBack = try mapper.sdp(from: old, author: .initiator).media[0]
        #expect(oldBack.proto == "DTLS/SCTP" && oldBack.formats == ["5000"])
        #expect(oldBack.attributes.contains(.sctpmap(SDPSCTPMap(port: 5000, protocolName: "webrtc-datachannel", streams: 256))))
    }

    @Test func sidIsTheOriginSessionID() throws {
        let jingle = try mapper.jingle(from: try fixtureSDP("sip-phone-offer"), context: .init(author: .initiator, action: .sessionInitiate))
        #expect(jingle.sid == "1785")
        let given = try mapper.jingle(from: try fixtureSDP("sip-phone-offer"),
                                      context: .init(author: .initiator, action: .sessionInitiate, sid: "a73sjjvkla37jfea"))
        #expect(given.sid == "a73sjjvkla37jfea")
        let reoffer = JingleSDPMapper(options: .init(sessionVersion: 7))
        let back = try reoffer.sdp(from: given, author: .initiator)
        #expect(back.origin.sessionID == "a73sjjvkla37jfea" && back.origin.sessionVersion == 7)
    }

    @Test func contentAddCreatorIsTheAuthor() throws {
        let added = try mapper.jingle(from: try sdp(["m=video 9 RTP/AVP 96", "c=IN IP4 0.0.0.0", "a=rtpmap:96 VP8/90000", "a=mid:v"] + ice),
                                      context: .init(author: .responder, action: .contentAdd))
        #expect(added.contents.first?.creator == .responder)
        let acceptedAdd = try mapper.jingle(from: try sdp(["m=video 9 RTP/AVP 96", "c=IN IP4 0.0.0.0", "a=rtpmap:96 VP8/90000", "a=mid:v"] + ice),
                                            context: .init(author: .initiator, action: .contentAccept))
        #expect(acceptedAdd.contents.first?.creator == .responder)
        let accepted = try mapper.jingle(from: try fixtureSDP("directions-answer"), context: .init(author: .responder, action: .sessionAccept))
        #expect(accepted.contents.allSatisfy { $0.creator == .initiator })
    }
}

/// What one side cannot carry, listed with the reason (the mapping's documented losses).
struct DroppedLineTests {
    @Test func browserOfferDrops() throws {
        let dropped = JingleSDPMapper.droppedLines(in: try fixtureSDP("browser-offer"))
        let lines = dropped.map(\.line)
        #expect(lines.contains("a=msid-semantic:WMS 7a3b5c1e-stream"))
        #expect(lines.contains("a=rtcp:9 IN IP4 0.0.0.0"))
        #expect(lines.contains("a=candidate:1853887674 1 tcp 1518280447 192.0.2.10 9 typ host tcptype active generation 0 network-id 1 network-cost 10"))
        #expect(lines.contains("ufrag EsAw"))
        #expect(lines.contains("network-cost 10"))
        #expect(lines.contains("a=msid:7a3b5c1e-stream 0f1e2d3c-audio-track"))
        #expect(lines.contains("a=ice-options:trickle"))
        #expect(dropped.allSatisfy { !$0.reason.isEmpty })
        let tcp = try #require(dropped.first { $0.line.contains(" tcp ") })
        #expect(tcp.reason.contains("UDP candidates only"))
        #expect(!lines.contains { $0.hasPrefix("a=rtpmap") || $0.hasPrefix("a=ssrc") || $0.hasPrefix("a=extmap") })
        // And the dropped things really are absent from the Jingle XML.
        let xml = try mapper.jingle(from: try fixtureSDP("browser-offer"), context: .init(author: .initiator, action: .sessionInitiate))
            .element().serialized()
        #expect(!xml.contains("protocol=\"tcp\"") && !xml.contains("1518280447") && !xml.contains("network-cost") && !xml.contains("msid-semantic"))
    }

    @Test func baresipDrops() throws {
        let lines = JingleSDPMapper.droppedLines(in: try fixtureSDP("baresip-offer")).map(\.line)
        #expect(lines == ["a=tool:baresip 1.0.0", "a=label:1", "a=minptime:20"])
    }

    /// The Jingle side's losses: candidate ids and payload-type-specific ptimes have no SDP form.
    @Test func jingleSideDrops() throws {
        var payload = try xepJingle("xep-0167-01")
        let (_, back) = try roundTrip(payload, author: .initiator)
        let ids = (back.contents[0].transport as? ICEUDPTransport)?.candidates.map(\.id) ?? []
        #expect(ids != ["el0747fg11", "y3s2b30v3r"], "candidate ids are generated, not carried")
        #expect(Set(ids).count == 2)
        var rtp = try #require(payload.contents[0].description as? RTPDescription)
        rtp.payloadTypes[0].ptime = 20
        payload.contents[0].description = rtp
        let (sdp, again) = try roundTrip(payload, author: .initiator)
        #expect(sdp.media[0].attributes.contains(.ptime(20)))
        // One a=ptime per m-line (RFC 8866 §6.4): it comes back on every payload type.
        #expect((again.contents[0].description as? RTPDescription)?.payloadTypes.allSatisfy { $0.ptime == 20 } == true)
    }
}

struct ErrorTests {
    struct Bad: Sendable, CustomTestStringConvertible {
        let label: String
        let lines: [String]
        let action: JingleWireAction
        let kind: JingleSDPError.Kind
        var testDescription: String { label }
    }

    static let cases: [Bad] = [
        Bad(label: "T.38 m-line", lines: ["m=image 5000 udptl t38", "c=IN IP4 192.0.2.1"], action: .sessionInitiate, kind: .unsupportedMedia),
        Bad(label: "payload type 200", lines: ["m=audio 5000 RTP/AVP 200", "c=IN IP4 192.0.2.1"], action: .sessionInitiate, kind: .invalidValue),
        Bad(label: "session-terminate", lines: ["m=audio 5000 RTP/AVP 0", "c=IN IP4 192.0.2.1"], action: .sessionTerminate, kind: .unsupportedAction),
        Bad(label: "duplicate mid", lines: ["m=audio 5000 RTP/AVP 0", "c=IN IP4 192.0.2.1", "a=mid:x", "m=audio 5002 RTP/AVP 0", "a=mid:x"],
            action: .sessionInitiate, kind: .duplicateName),
        Bad(label: "raw UDP without c=", lines: ["m=audio 5000 RTP/AVP 0"], action: .sessionInitiate, kind: .missingValue),
        Bad(label: "short ufrag", lines: ["m=audio 9 RTP/AVP 0", "a=ice-ufrag:ab", "a=ice-pwd:0123456789abcdefghijkl"],
            action: .sessionInitiate, kind: .invalidValue),
        Bad(label: "bad fingerprint", lines: ["m=audio 9 RTP/AVP 0", "a=fingerprint:sha-256 XYZ"], action: .sessionInitiate, kind: .invalidValue),
    ]

    @Test(arguments: cases)
    func sdpToJingleErrors(_ bad: Bad) throws {
        let input = try sdp(bad.lines)
        do {
            _ = try mapper.jingle(from: input, context: .init(author: .initiator, action: bad.action))
            Issue.record("expected \(bad.kind)")
        } catch {
            #expect(error.kind == bad.kind)
            #expect(!error.description.contains("\n") && error.description.count > 20)
        }
    }

    @Test func jingleToSDPErrors() throws {
        let badTag = JinglePayload(action: .sessionInitiate, sid: "s", contents: [
            JingleContent(creator: .initiator, name: "a", description: RTPDescription(media: "audio", payloadTypes: [RTPPayloadType(id: 0)],
                encryption: RTPEncryption(cryptos: [RTPCrypto(cryptoSuite: "AES_CM_128_HMAC_SHA1_80", keyParams: "inline:x", tag: "one")]))),
        ])
        #expect { try mapper.sdp(from: badTag, author: .initiator) } throws: { ($0 as? JingleSDPError)?.kind == .invalidValue }
        let noClock = JinglePayload(action: .sessionInitiate, sid: "s", contents: [
            JingleContent(creator: .initiator, name: "a", description: RTPDescription(media: "audio", payloadTypes: [RTPPayloadType(id: 99, name: "speex")])),
        ])
        #expect { try mapper.sdp(from: noClock, author: .initiator) } throws: { ($0 as? JingleSDPError)?.kind == .missingValue }
        let spacedSID = JinglePayload(action: .sessionInitiate, sid: "a b")
        #expect { try mapper.sdp(from: spacedSID, author: .initiator) } throws: { ($0 as? JingleSDPError)?.kind == .invalidValue }
        let fileTransfer = JinglePayload(action: .sessionInitiate, sid: "s", contents: [
            JingleContent(creator: .initiator, name: "f", transport: IBBTransport(blockSize: 4096, sid: "ibb1")),
        ])
        #expect { try mapper.sdp(from: fileTransfer, author: .initiator) } throws: { ($0 as? JingleSDPError)?.kind == .unsupportedMedia }
    }
}

struct JingleSideDropTests {
    @Test func listsWhatSDPCannotCarry() throws {
        var payload = try xepJingle("xep-0320-01")
        var rtp = try #require(payload.contents[0].description as? RTPDescription)
        rtp.ssrc = "1234"
        rtp.payloadTypes[0].ptime = 20
        rtp.payloadTypes[1].ptime = 30
        rtp.encryption = RTPEncryption(required: true, cryptos: [RTPCrypto(cryptoSuite: "AES_CM_128_HMAC_SHA1_80", keyParams: "inline:abc", tag: "1")])
        payload.contents[0].description = rtp
        payload.contents[0].disposition = "early-session"
        let dropped = JingleSDPMapper.droppedElements(in: payload)
        let lines = dropped.map(\.line)
        #expect(lines.contains("ssrc='1234'"))
        #expect(lines.contains("<payload-type id='97' ptime='30'/>"))
        #expect(lines.contains("<encryption required='1'/>"))
        #expect(lines.contains("disposition='early-session'"))
        #expect(lines.contains("<candidate id='el0747fg11'/>") && lines.contains("<candidate id='y3s2b30v3r'/>"))
        #expect(!lines.contains { $0.contains("fingerprint") }, "one fingerprint, nothing dropped")
        // And indeed: they are gone after SDP and back.
        let (sdp, back) = try roundTrip(payload, author: .initiator)
        let backRTP = try #require(back.contents[0].description as? RTPDescription)
        #expect(backRTP.ssrc == nil && backRTP.encryption?.required == nil && back.contents[0].disposition == nil)
        #expect(sdp.media[0].attributes.contains(.ptime(20)) && !sdp.media[0].attributes.contains(.ptime(30)))
        // The plain XEP stanza loses only its candidate ids.
        #expect(JingleSDPMapper.droppedElements(in: try xepJingle("xep-0167-01")).allSatisfy { $0.line.hasPrefix("<candidate id=") })
    }

    /// Candidate ids that SDP -> Jingle derived are derived again on the way back: nothing is lost, so nothing is
    /// reported (a gateway would otherwise warn about every candidate of every call). A changed id still is.
    @Test(arguments: ["browser-offer", "sip-phone-offer"])
    func derivedCandidateIDsAreNotReported(fixture: String) throws {
        var payload = try mapper.jingle(from: try fixtureSDP(fixture), context: .init(author: .initiator, action: .sessionInitiate))
        #expect(JingleSDPMapper.droppedElements(in: payload).filter { $0.line.hasPrefix("<candidate") }.isEmpty)
        if var ice = payload.contents[0].transport as? ICEUDPTransport {
            try #require(!ice.candidates.isEmpty)
            ice.candidates[0].id = "el0747fg11"
            payload.contents[0].transport = ice
            #expect(JingleSDPMapper.droppedElements(in: payload).map(\.line) == ["<candidate id='el0747fg11'/>"])
        } else {
            var raw = try #require(payload.contents[0].transport as? RawUDPTransport)
            raw.candidates[0].generation = 1
            payload.contents[0].transport = raw
            #expect(JingleSDPMapper.droppedElements(in: payload).map(\.line) == ["<candidate id='\(raw.candidates[0].id)' generation='1'/>"])
        }
    }
}

struct FingerprintSyntaxTests {
    @Test(arguments: [("AB", true), ("AB:cd:09", true), ("", false), ("A", false), ("AB:", false), ("AB:CD:E", false), ("ABC", false),
                      ("AB-CD", false), ("GG", false), ("AB::CD", false), ("１２", false)])
    func hexPairs(text: String, valid: Bool) {
        #expect(JingleSDPMapper.isHexPairs(text) == valid)
    }
}

/// Jingle values end up in SDP lines: a line break or a space in a token must be refused, not sent on.
struct InjectionTests {
    static func payload(name: String = "audio", ufrag: String = "abcd", encoding: String = "PCMU", parameter: String = "0-15",
                        proto: String? = nil) -> JinglePayload {
        var content = JingleContent(creator: .initiator, name: name,
            description: RTPDescription(media: "audio", payloadTypes: [RTPPayloadType(id: 96, name: encoding, clockrate: 8000,
                                                                                     parameters: [RTPParameter(name: "", value: parameter)])]),
            transport: ICEUDPTransport(ufrag: ufrag, pwd: "0123456789abcdefghijkl"))
        if let proto { content.extensions.append(SDPMappingExtension.rejected(proto: proto)) }
        return JinglePayload(action: .sessionInitiate, sid: "s1", contents: [content])
    }

    @Test(arguments: [
        payload(name: "a\r\na=evil"), payload(name: "two words"), payload(ufrag: "ab\ncd"), payload(encoding: "PCMU/8000\r\nm=video"),
        payload(parameter: "0-15\r\na=evil"), payload(proto: "RTP/AVP\r\nc=IN IP4 203.0.113.66"),
    ])
    func refused(_ payload: JinglePayload) throws {
        #expect { try mapper.sdp(from: payload, author: .initiator) } throws: { ($0 as? JingleSDPError)?.kind == .invalidValue }
    }

    @Test func plainValuesPass() throws {
        let sdp = try mapper.sdp(from: Self.payload(), author: .initiator)
        #expect(sdp.media.first?.formatParameters.first?.parameters == [SDPFormatParameter(name: nil, value: "0-15")])
    }
}

/// A Jingle payload type with a name but no clockrate still becomes an a=rtpmap where the rate is fixed.
struct MissingClockrateTests {
    func sdpLines(_ payloadTypes: String, media: String = "audio") throws -> [String] {
        let element = try XMLElement(parsing: """
        <jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'><content creator='initiator' name='a'>\
        <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='\(media)'>\(payloadTypes)</description>\
        <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='abcd' pwd='0123456789abcdefghijkl'/></content></jingle>
        """)
        let payload = try JinglePayload(element: element, registry: .sdpMapping)
        return try JingleSDPMapper().sdp(from: payload, author: .initiator).serialized().components(separatedBy: "\r\n")
    }

    @Test func opusWithoutClockrateIs48000Stereo() throws {
        // RFC 7587 §7: always opus/48000/2.
        #expect(try sdpLines("<payload-type id='111' name='opus'/>").contains("a=rtpmap:111 opus/48000/2"))
        #expect(try sdpLines("<payload-type id='111' name='OPUS' channels='1'/>").contains("a=rtpmap:111 OPUS/48000/1"))
        #expect(try sdpLines("<payload-type id='111' name='opus' clockrate='48000'/>").contains("a=rtpmap:111 opus/48000"))
        #expect(try sdpLines("<payload-type id='96' name='VP8'/>", media: "video").contains("a=rtpmap:96 VP8/90000"))
    }

    @Test func otherDynamicCodecWithoutClockrateIsAnError() throws {
        #expect(throws: JingleSDPError.self) { try sdpLines("<payload-type id='97' name='speex'/>") }
    }
}
