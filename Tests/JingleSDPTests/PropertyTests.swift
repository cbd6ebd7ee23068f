import Testing
import Jingle
import SDP
@testable import JingleSDP
import TestServers

/// Random session descriptions inside what the mapping covers: RTP m-lines with every mapped attribute, ICE or
/// raw UDP transports, DTLS or SDES, data channels, rejected m-lines, BUNDLE, plus a few lines that are dropped
/// on purpose (TCP candidates, libwebrtc candidate tokens, a=msid).
struct DescriptionGenerator {
    var rng: SplitMix64
    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func bool() -> Bool { Bool.random(using: &rng) }
    mutating func pick<T>(_ values: [T]) -> T { values[int(0...values.count - 1)] }
    mutating func token(_ length: ClosedRange<Int> = 1...8) -> String {
        let chars = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return String((0..<int(length)).map { _ in chars[int(0...chars.count - 1)] })
    }
    mutating func hexPairs(_ count: Int) -> String {
        (0..<count).map { _ in String(format2: UInt8(truncatingIfNeeded: int(0...255))) }.joined(separator: ":")
    }
    mutating func address() -> String {
        pick(["192.0.2.\(int(1...254))", "2001:db8::\(int(1...99))", "\(token(8...8))-\(token(4...4)).local", "198.51.100.\(int(1...254))"])
    }

    mutating func candidate(component: UInt16) -> SDPCandidate {
        let type = pick([SDPCandidateType.host, .srflx, .prflx, .relay])
        var c = SDPCandidate(foundation: bool() ? String(int(1...999_999)) : token(), component: component,
                             transport: pick(["udp", "UDP"]), priority: UInt32(int(1...2_130_706_431)), address: address(),
                             port: UInt16(int(1024...65535)), type: type)
        if type != .host { c.relatedAddress = "192.0.2.\(int(1...254))"; c.relatedPort = UInt16(int(1024...65535)) }
        if bool() { c.generation = UInt32(int(0...3)) }
        if bool() { c.networkID = String(int(1...9)) }
        if int(0...4) == 0 { c.networkCost = "10" }
        return c
    }

    mutating func rtpSection(index: Int, mid: String?, dtls: Bool) -> SDPMediaDescription {
        let media = pick(["audio", "video"])
        var formats: [String] = []
        while formats.count < int(1...4) {
            let pt = String(pick([0, 8, 9, 18, int(96...127), int(96...127), int(35...95)]))
            if !formats.contains(pt) { formats.append(pt) }
        }
        var s = SDPMediaDescription(media: media, port: 9, proto: pick(["RTP/AVP", "RTP/SAVPF", "UDP/TLS/RTP/SAVPF", "RTP/AVPF"]), formats: formats)
        var a: [SDPAttribute] = []
        if let mid { a.append(.mid(mid)) }
        if bool() { a.append(.direction(pick(SDPDirection.allCases))) }
        if bool() { s.bandwidths = [SDPBandwidth(type: pick(["AS", "TIAS"]), value: UInt64(int(1...100_000)))] }
        for format in formats {
            let pt = UInt8(format)!
            if pt >= 96 || bool() {
                a.append(.rtpmap(SDPRTPMap(payloadType: pt, encodingName: token(), clockRate: UInt32(pick([8000, 16000, 48000, 90000])),
                                           channels: bool() ? nil : UInt32(int(1...2)))))
            }
            if int(0...2) == 0 {
                let parameters = (0..<int(1...3)).map { _ in
                    bool() ? SDPFormatParameter(name: token(), value: token()) : SDPFormatParameter(name: nil, value: "\(int(0...9))-\(int(10...20))")
                }
                a.append(.fmtp(SDPFormatParameters(format: format, parameters: parameters)))
            }
            if bool() { a.append(.rtcpFeedback(SDPRTCPFeedback(format: .format(format), type: pick(["nack", "ccm", "goog-remb"]), parameter: bool() ? pick(["pli", "fir"]) : nil))) }
            if int(0...4) == 0 { a.append(.rtcpFeedback(SDPRTCPFeedback(format: .format(format), type: "trr-int", parameter: String(int(1...500))))) }
        }
        if bool() { a.append(.rtcpFeedback(SDPRTCPFeedback(format: .all, type: "nack"))) }
        if int(0...3) == 0 { a.append(.rtcpFeedback(SDPRTCPFeedback(format: .all, type: "trr-int", parameter: String(int(1...500))))) }
        if bool() { a.append(.ptime(UInt32(int(10...60)))) }
        if int(0...3) == 0 { a.append(.maxptime(UInt32(int(60...120)))) }
        if bool() { a.append(.rtcpMux) }
        if bool() { a.append(.rtcpRsize) }
        if bool() { a.append(.extmapAllowMixed) }
        var ids = Set<UInt16>()
        for _ in 0..<int(0...3) {
            let id = UInt16(int(1...14))
            guard ids.insert(id).inserted else { continue }
            a.append(.extmap(SDPExtmap(id: id, direction: bool() ? nil : pick(SDPDirection.allCases), uri: "urn:example:\(token())",
                                       extensionAttributes: int(0...4) == 0 ? token() : nil)))
        }
        let ssrcs = (0..<int(0...2)).map { _ in UInt32(int(1...4_000_000_000)) }
        if ssrcs.count == 2 && ssrcs[0] != ssrcs[1] && bool() { a.append(.ssrcGroup(SDPSourceGroup(semantics: "FID", ssrcs: ssrcs))) }
        for ssrc in Set(ssrcs).sorted() {
            a.append(.ssrc(SDPSourceAttribute(ssrc: ssrc, name: "cname", value: token())))
            if bool() { a.append(.ssrc(SDPSourceAttribute(ssrc: ssrc, name: "msid", value: "\(token()) \(token())"))) }
        }
        if !dtls && int(0...3) == 0 {
            a.append(.crypto(SDPCrypto(tag: 1, suite: "AES_CM_128_HMAC_SHA1_80", keyParams: "inline:\(token(30...40))",
                                       sessionParams: bool() ? "KDR=1" : nil)))
        }
        if int(0...5) == 0 { a.append(.msid(SDPMediaStreamID(streamID: token(), trackID: token()))) }
        s.attributes = a
        return s
    }

    mutating func addICE(_ s: inout SDPMediaDescription, dtls: Bool, credentials: Bool) {
        if credentials {
            s.attributes.append(.iceUfrag(token(4...8)))
            s.attributes.append(.icePwd(token(22...26)))
        }
        if dtls {
            s.attributes.append(.fingerprint(SDPFingerprint(hashFunction: "sha-256", fingerprint: hexPairs(32))))
            s.attributes.append(.setup(pick([.actpass, .active, .passive])))
        }
        for _ in 0..<int(0...3) { s.attributes.append(.candidate(candidate(component: UInt16(int(1...2))))) }
        if int(0...5) == 0 {
            s.attributes.append(.candidate(SDPCandidate(foundation: "9", component: 1, transport: "tcp", priority: 5, address: "192.0.2.9",
                                                        port: 9, type: .host, extensions: [SDPCandidateExtension(name: "tcptype", value: "active")])))
        }
        if bool() { s.attributes.append(.endOfCandidates) }
        s.connections = [SDPConnection(address: "0.0.0.0")]
    }

    mutating func description() -> SessionDescription {
        var sdp = SessionDescription(origin: SDPOrigin(sessionID: String(int(1...999_999_999)), sessionVersion: 0))
        let sessionICE = int(0...3) == 0
        if sessionICE {
            sdp.attributes.append(.iceUfrag(token(4...8)))
            sdp.attributes.append(.icePwd(token(22...26)))
        }
        let count = int(1...4)
        var mids: [String] = []
        var hasData = false
        for index in 0..<count {
            let mid: String? = int(0...4) == 0 ? nil : "m\(index)"
            let kind = int(0...9)
            if kind == 0 && !hasData {
                hasData = true
                var s = SDPMediaDescription(media: "application", port: 9, proto: "UDP/DTLS/SCTP", formats: ["webrtc-datachannel"],
                                            attributes: mid.map { [.mid($0)] } ?? [])
                addICE(&s, dtls: true, credentials: !sessionICE)
                s.attributes.append(.sctpPort(UInt16(int(5000...5100))))
                if bool() { s.attributes.append(.maxMessageSize(UInt64(int(1...262_144)))) }
                sdp.media.append(s)
            } else if kind == 1 {
                var s = SDPMediaDescription(media: pick(["audio", "video"]), port: 0, proto: "UDP/TLS/RTP/SAVPF", formats: [String(int(96...127))])
                if let mid { s.attributes = [.mid(mid)] }
                sdp.media.append(s)
            } else {
                let dtls = bool()
                var s = rtpSection(index: index, mid: mid, dtls: dtls)
                if kind <= 3 && !sessionICE && !dtls {
                    s.port = UInt16(int(1024...65535))
                    s.connections = [SDPConnection(address: "192.0.2.\(int(1...254))")]
                    if bool() { s.attributes.append(.rtcp(SDPRTCPAddress(port: UInt16(int(1024...65535))))) }
                } else {
                    addICE(&s, dtls: dtls, credentials: !sessionICE)
                }
                sdp.media.append(s)
            }
            if let mid { mids.append(mid) }
        }
        // m-lines without a=mid are named after their media type; keep those names unique.
        let unnamed = sdp.media.filter { $0.mid == nil }.map(\.media)
        if Set(unnamed).count != unnamed.count || unnamed.contains(where: { mids.contains($0) }) {
            for i in sdp.media.indices where sdp.media[i].mid == nil { sdp.media[i].attributes.insert(.mid("x\(i)"), at: 0) }
        }
        if bool() && !mids.isEmpty { sdp.attributes.insert(.group(SDPGroup(semantics: "BUNDLE", identifiers: mids)), at: 0) }
        return sdp
    }
}

extension String {
    init(format2 byte: UInt8) {
        let digits = Array("0123456789ABCDEF")
        self = String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }
}

struct PropertyTests {
    @Test(arguments: 0..<300)
    func randomDescriptionsAreStableAfterOneNormalisation(seed: Int) throws {
        var generator = DescriptionGenerator(seed: UInt64(seed))
        let original = generator.description()
        // The generated model must be valid SDP text first.
        let parsed = try SessionDescription(parsing: original.serialized())
        let author: JingleRole = seed % 2 == 0 ? .initiator : .responder
        let action: JingleWireAction = author == .initiator ? .sessionInitiate : .contentAdd
        let first = try roundTrip(parsed, author: author, action: action)
        let second = try roundTrip(first.sdp, author: author, action: action)
        #expect(second.sdp == first.sdp, "seed \(seed): not stable\n\(first.sdp.serialized())\n---\n\(second.sdp.serialized())")
        #expect(canonical(second.jingle) == canonical(first.jingle), "seed \(seed)")
        #expect(normalizedSections(first.sdp) == normalizedSections(parsed),
                "seed \(seed): lost lines\n\(parsed.serialized())\n---\n\(first.sdp.serialized())")
    }
}
