import Jingle
import SDP

/// What the mapping reads from one attribute list (session or media level), gathered in one pass.
///
/// Each `SDPMediaDescription` accessor (`mid`, `iceUfrag`, `candidates`, …) walks the whole list and copies what
/// it finds; the mapping asked for about ten of them per m-line. The values are the accessors' values: the
/// first attribute of each kind, or all of them in order for the lists.
struct AttributeScan {
    var mid: String?
    var direction: SDPDirection?
    var ufrag: String?
    var pwd: String?
    var fingerprints: [SDPFingerprint] = []
    var setup: SDPSetupRole?
    var candidates: [SDPCandidate] = []
    var endOfCandidates = false
    /// The first remote candidate of the first non-empty `a=remote-candidates` (XEP-0176 §5.3 carries one).
    var remoteCandidate: SDPRemoteCandidate?
    var groups: [SDPGroup] = []
    var extmapAllowMixed = false
    var iceLite = false

    init(_ attributes: [SDPAttribute]) {
        attributes.withUnsafeBufferPointer { attributes in
            for index in attributes.indices {
                switch attributes[index] {
                case .mid(let value): if mid == nil { mid = value }
                case .direction(let value): if direction == nil { direction = value }
                case .iceUfrag(let value): if ufrag == nil { ufrag = value }
                case .icePwd(let value): if pwd == nil { pwd = value }
                case .fingerprint(let value): fingerprints.append(value)
                case .setup(let value): if setup == nil { setup = value }
                case .candidate(let value): candidates.append(value)
                case .endOfCandidates: endOfCandidates = true
                case .remoteCandidates(let list): if remoteCandidate == nil { remoteCandidate = list.first }
                case .group(let value): groups.append(value)
                case .extmapAllowMixed: extmapAllowMixed = true
                case .iceLite: iceLite = true
                default: break
                }
            }
        }
    }
}

/// The per-payload-type attributes of an m-line (`a=rtpmap`, `a=fmtp`, `a=rtcp-fb`), found by number.
///
/// They used to be dictionaries keyed by the format string, which hashed a string per line and per lookup.
/// Keys stay exact: an `a=fmtp` or `a=rtcp-fb` applies to the m-line format spelled the same way (so `096` is not
/// `96`). Lines are kept in order with the payload type they name in plain decimal (-1 for any other
/// spelling); a browser offer has a few per m-line, searched directly, and a long list gets an index by number
/// (`index()`), so a hostile description with thousands of lines stays linear.
struct FormatTable {
    private var rtpmaps: [SDPRTPMap] = []
    private var fmtps: [SDPFormatParameters] = []
    private var fmtpIDs: [Int16] = []
    private var feedback: [SDPRTCPFeedback] = []
    private var feedbackFormats: [String] = []
    private var feedbackIDs: [Int16] = []
    /// Per payload type, position + 1 of the first line naming it (0: none); built only for long lists.
    private var firstRTPMap: [Int32] = []
    private var firstFmtp: [Int32] = []
    /// Per payload type, the feedback lines naming it, chained through `nextFeedback` (position + 1, 0 ends).
    private var firstFeedback: [Int32] = []
    private var nextFeedback: [Int32] = []
    /// Lines naming a format in another spelling, by that spelling; built only for long lists.
    private var otherFmtp: [String: Int] = [:]
    private var otherFeedback: [String: [Int]] = [:]
    private static let indexThreshold = 16

    /// The payload type a format string names in plain decimal (no sign, no leading zero), if 0–127; else -1.
    static func canonicalID(_ format: String) -> Int16 {
        guard let id = ASCIIText.integer(format, as: UInt8.self), id <= 127, isCanonical(format, id) else { return -1 }
        return Int16(id)
    }

    /// True when `format` is `id` written in plain decimal (the parse already succeeded).
    static func isCanonical(_ format: String, _ id: UInt8) -> Bool {
        format.utf8.count == (id >= 100 ? 3 : id >= 10 ? 2 : 1)
    }

    /// An `a=rtpmap`: keyed by `String(payloadType)`, always plain decimal; above 127 no format can name it.
    mutating func addRTPMap(_ map: SDPRTPMap) {
        if map.payloadType <= 127 { rtpmaps.append(map) }
    }

    mutating func addFormatParameters(_ fmtp: SDPFormatParameters) {
        fmtpIDs.append(Self.canonicalID(fmtp.format))
        fmtps.append(fmtp)
    }

    mutating func addFeedback(_ line: SDPRTCPFeedback, format: String) {
        feedbackIDs.append(Self.canonicalID(format))
        feedbackFormats.append(format)
        feedback.append(line)
    }

    /// Builds the per-number index of the lists that are long; call once all lines are added.
    mutating func index() {
        if rtpmaps.count > Self.indexThreshold {
            firstRTPMap = Array(repeating: 0, count: 128)
            for (position, map) in rtpmaps.enumerated().reversed() { firstRTPMap[Int(map.payloadType)] = Int32(position + 1) }
        }
        if fmtps.count > Self.indexThreshold {
            firstFmtp = Array(repeating: 0, count: 128)
            for (position, id) in fmtpIDs.enumerated().reversed() {
                if id >= 0 { firstFmtp[Int(id)] = Int32(position + 1) } else { otherFmtp[fmtps[position].format] = position }
            }
        }
        if feedback.count > Self.indexThreshold {
            firstFeedback = Array(repeating: 0, count: 128)
            nextFeedback = Array(repeating: 0, count: feedback.count)
            for (position, id) in feedbackIDs.enumerated().reversed() where id >= 0 {
                nextFeedback[position] = firstFeedback[Int(id)]
                firstFeedback[Int(id)] = Int32(position + 1)
            }
            for (position, id) in feedbackIDs.enumerated() where id < 0 { otherFeedback[feedbackFormats[position], default: []].append(position) }
        }
    }

    func rtpmap(_ id: UInt8) -> SDPRTPMap? {
        if !firstRTPMap.isEmpty {
            let slot = firstRTPMap[Int(id)]
            return slot == 0 ? nil : rtpmaps[Int(slot) - 1]
        }
        return rtpmaps.first { $0.payloadType == id }
    }

    /// The first `a=fmtp` for the m-line format `format` (which parsed as `id`).
    func formatParameters(_ format: String, _ id: UInt8) -> SDPFormatParameters? {
        guard Self.isCanonical(format, id) else {
            // Another spelling: only the same spelling matches.
            if !firstFmtp.isEmpty { return otherFmtp[format].map { fmtps[$0] } }
            return fmtps.first { $0.format == format }
        }
        if !firstFmtp.isEmpty {
            let slot = firstFmtp[Int(id)]
            return slot == 0 ? nil : fmtps[Int(slot) - 1]
        }
        return fmtpIDs.firstIndex(of: Int16(id)).map { fmtps[$0] }
    }

    /// The `a=rtcp-fb` lines for the m-line format `format`, in order.
    func forEachFeedback(_ format: String, _ id: UInt8, _ body: (SDPRTCPFeedback) -> Void) {
        guard Self.isCanonical(format, id) else {
            if !firstFeedback.isEmpty {
                for position in otherFeedback[format] ?? [] { body(feedback[position]) }
                return
            }
            for position in feedback.indices where feedbackIDs[position] < 0 && feedbackFormats[position] == format { body(feedback[position]) }
            return
        }
        if !firstFeedback.isEmpty {
            var slot = firstFeedback[Int(id)]
            while slot != 0 {
                body(feedback[Int(slot) - 1])
                slot = nextFeedback[Int(slot) - 1]
            }
            return
        }
        for position in feedbackIDs.indices where feedbackIDs[position] == Int16(id) { body(feedback[position]) }
    }
}
