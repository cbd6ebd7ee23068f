@testable import SDP
import TestServers

/// Builds random but valid session descriptions: every value follows the grammar the parser accepts,
/// so `parse(serialize(model)) == model` must hold for each of them.
struct ModelGenerator {
    var rng: SplitMix64

    private static let tokenCharacters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._+!#$%&'^`{|}~")
    private static let textCharacters = Array("abc XYZ 019 :;=/-_.,@<>()[]\"'*é☎ü")
    /// Names the parser types; `.other` must avoid them or it would re-parse as the typed case.
    private static let typedNames: Set<String> = [
        "rtpmap", "fmtp", "rtcp-fb", "extmap", "extmap-allow-mixed", "ssrc", "ssrc-group", "group", "mid",
        "candidate", "end-of-candidates", "remote-candidates", "ice-ufrag", "ice-pwd", "ice-options", "ice-lite",
        "fingerprint", "setup", "crypto", "rtcp", "rtcp-mux", "rtcp-rsize", "ptime", "maxptime", "sendrecv",
        "sendonly", "recvonly", "inactive", "sctp-port", "max-message-size", "sctpmap", "msid", "msid-semantic",
    ]

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func bool() -> Bool { Bool.random(using: &rng) }
    mutating func maybe<T>(_ make: (inout ModelGenerator) -> T) -> T? { bool() ? make(&self) : nil }
    mutating func many<T>(_ range: ClosedRange<Int>, _ make: (inout ModelGenerator) -> T) -> [T] {
        (0..<int(range)).map { _ in make(&self) }
    }
    mutating func u16() -> UInt16 { UInt16.random(in: 0...UInt16.max, using: &rng) }
    mutating func u32() -> UInt32 { UInt32.random(in: 0...UInt32.max, using: &rng) }
    mutating func u64() -> UInt64 { bool() ? UInt64.random(in: 0...UInt64.max, using: &rng) : UInt64(int(0...100)) }

    mutating func token(_ length: ClosedRange<Int> = 1...10) -> String {
        String((0..<int(length)).map { _ in Self.tokenCharacters.randomElement(using: &rng)! })
    }
    /// Free text for `s=`, `i=`, `.other` values: anything but CR, LF and NUL, spaces included.
    mutating func text(_ length: ClosedRange<Int> = 0...20) -> String {
        String((0..<int(length)).map { _ in Self.textCharacters.randomElement(using: &rng)! })
    }
    /// Tokens joined by single spaces (values whose ends the parser trims).
    mutating func words(_ count: ClosedRange<Int> = 1...3) -> String {
        many(count) { $0.token() }.joined(separator: " ")
    }
    mutating func digits() -> String { String(int(0...999_999)) }
    mutating func typedTime() -> String { String(int(0...9999)) + ["", "d", "h", "m", "s"].randomElement(using: &rng)! }
    mutating func direction() -> SDPDirection { SDPDirection.allCases.randomElement(using: &rng)! }
    mutating func connection() -> SDPConnection {
        SDPConnection(networkType: "IN", addressType: bool() ? "IP4" : "IP6", address: token() + (bool() ? "/127" : ""))
    }
    mutating func bandwidth() -> SDPBandwidth { SDPBandwidth(type: token(1...4), value: u64()) }

    mutating func candidate() -> SDPCandidate {
        let types: [SDPCandidateType] = [.host, .srflx, .prflx, .relay, .other("x" + token(1...5))]
        var extensionNames = ["generation", "network-id", "network-cost", "ufrag", "tcptype"]
        extensionNames.append("x-" + token(1...4))
        return SDPCandidate(
            foundation: token(1...32), component: u16(), transport: ["udp", "UDP", "tcp", token(1...4)].randomElement(using: &rng)!,
            priority: u32(), address: bool() ? token() + ".local" : token(), port: u16(),
            type: types.randomElement(using: &rng)!, relatedAddress: maybe { $0.token() }, relatedPort: maybe { $0.u16() },
            extensions: many(0...4) { generator in
                SDPCandidateExtension(name: extensionNames.randomElement(using: &generator.rng)!, value: generator.token())
            })
    }

    mutating func attribute() -> SDPAttribute {
        switch int(0...33) {
        case 0: return .rtpmap(SDPRTPMap(payloadType: UInt8(int(0...127)), encodingName: token(), clockRate: u32(), channels: maybe { $0.u32() }))
        case 1:
            return .fmtp(SDPFormatParameters(format: digits(), parameters: many(0...4) { generator in
                generator.bool()
                    ? SDPFormatParameter(name: generator.token(), value: generator.bool() ? generator.token() : "")
                    : SDPFormatParameter(name: nil, value: generator.token())
            }))
        case 2:
            let format: SDPFormatSelector = bool() ? .all : .format(digits())
            if bool() { return .rtcpFeedback(SDPRTCPFeedback(format: format, type: "trr-int", parameter: digits())) }
            return .rtcpFeedback(SDPRTCPFeedback(format: format, type: ["nack", "ccm", "goog-remb", "ack"].randomElement(using: &rng)!,
                                                 parameter: maybe { $0.words() }))
        case 3: return .extmap(SDPExtmap(id: u16(), direction: maybe { $0.direction() }, uri: "urn:" + token(), extensionAttributes: maybe { $0.words() }))
        case 4: return .extmapAllowMixed
        case 5: return .ssrc(SDPSourceAttribute(ssrc: u32(), name: token(), value: maybe { $0.bool() ? $0.words() : "" }))
        case 6: return .ssrcGroup(SDPSourceGroup(semantics: token(), ssrcs: many(0...4) { $0.u32() }))
        case 7: return .group(SDPGroup(semantics: token(), identifiers: many(0...4) { $0.token() }))
        case 8: return .mid(token())
        case 9: return .candidate(candidate())
        case 10: return .endOfCandidates
        case 11: return .remoteCandidates(many(1...3) { SDPRemoteCandidate(component: $0.u16(), address: $0.token(), port: $0.u16()) })
        case 12: return .iceUfrag(token())
        case 13: return .icePwd(token(22...32))
        case 14: return .iceOptions(many(1...3) { $0.token() })
        case 15: return .iceLite
        case 16: return .fingerprint(SDPFingerprint(hashFunction: token(), fingerprint: "AB:CD:" + token()))
        case 17: return .setup(SDPSetupRole.allCases.randomElement(using: &rng)!)
        case 18: return .crypto(SDPCrypto(tag: UInt32(int(0...999_999_999)), suite: token(), keyParams: "inline:" + token(),
                                          sessionParams: maybe { $0.words() }))
        case 19: return .rtcp(SDPRTCPAddress(port: u16(), connection: maybe { $0.connection() }))
        case 20: return .rtcpMux
        case 21: return .rtcpRsize
        case 22: return .ptime(u32())
        case 23: return .maxptime(u32())
        case 24: return .direction(direction())
        case 25: return .sctpPort(u16())
        case 26: return .maxMessageSize(u64())
        case 27: return .sctpmap(SDPSCTPMap(port: u16(), protocolName: token(), streams: maybe { $0.u32() }))
        case 28: return .msid(SDPMediaStreamID(streamID: token(), trackID: maybe { $0.token() }))
        case 29: return .msidSemantic(SDPMsidSemantic(semantic: token(), identifiers: many(0...3) { $0.token() }))
        default:
            var name = token()
            while Self.typedNames.contains(name) { name = token() }
            return .other(name: name, value: maybe { $0.text() })
        }
    }

    mutating func media() -> SDPMediaDescription {
        SDPMediaDescription(
            media: ["audio", "video", "application", token()].randomElement(using: &rng)!, port: u16(),
            numberOfPorts: maybe { $0.u16() },
            proto: ["RTP/AVP", "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP", token()].randomElement(using: &rng)!,
            formats: many(0...5) { $0.digits() }, information: maybe { $0.text() }, connections: many(0...2) { $0.connection() },
            bandwidths: many(0...2) { $0.bandwidth() }, encryptionKey: maybe { $0.text() }, attributes: many(0...15) { $0.attribute() })
    }

    mutating func session() -> SessionDescription {
        SessionDescription(
            origin: SDPOrigin(username: token(), sessionID: token(), sessionVersion: u64(), networkType: "IN",
                              addressType: bool() ? "IP4" : "IP6", address: token()),
            sessionName: text(), information: maybe { $0.text() }, uri: maybe { $0.text() },
            emails: many(0...2) { $0.text() }, phones: many(0...2) { $0.text() }, connection: maybe { $0.connection() },
            bandwidths: many(0...2) { $0.bandwidth() },
            timing: many(1...3) { generator in
                SDPTiming(start: generator.u64(), stop: generator.u64(), repeats: generator.many(0...2) { g in
                    SDPRepeatTimes(interval: g.typedTime(), activeDuration: g.typedTime(), offsets: g.many(1...3) { $0.typedTime() })
                })
            },
            timeZones: many(0...2) { SDPTimeZoneAdjustment(adjustmentTime: $0.u64(), offset: ($0.bool() ? "-" : "") + $0.typedTime()) },
            encryptionKey: maybe { $0.text() }, attributes: many(0...8) { $0.attribute() }, media: many(0...4) { $0.media() })
    }
}
