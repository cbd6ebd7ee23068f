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
/// `96`); formats written in plain decimal use the tables, any other spelling a dictionary made only for it.
struct FormatTable {
    /// Index + 1 into `rtpmaps` of the first `a=rtpmap` of each payload type (0: none).
    private var rtpmapSlots: [Int32] = []
    private var rtpmaps: [SDPRTPMap] = []
    private var fmtpSlots: [Int32] = []
    private var fmtps: [SDPFormatParameters] = []
    private var otherFmtps: [String: Int] = [:]
    private var feedbackByID: [[SDPRTCPFeedback]] = []
    private var otherFeedback: [String: [SDPRTCPFeedback]] = [:]

    /// The payload type a format string names in plain decimal (no sign, no leading zero), if 0–127.
    static func canonicalID(_ format: String) -> Int? {
        guard let id = ASCIIText.integer(format, as: UInt8.self), id <= 127, isCanonical(format, id) else { return nil }
        return Int(id)
    }

    /// True when `format` is `id` written in plain decimal (the parse already succeeded).
    static func isCanonical(_ format: String, _ id: UInt8) -> Bool {
        format.utf8.count == (id >= 100 ? 3 : id >= 10 ? 2 : 1)
    }

    mutating func addRTPMap(_ map: SDPRTPMap) {
        // Keyed by `String(payloadType)`, which is always plain decimal; above 127 no format can name it.
        guard map.payloadType <= 127 else { return }
        if rtpmapSlots.isEmpty { rtpmapSlots = Array(repeating: 0, count: 128) }
        let slot = Int(map.payloadType)
        guard rtpmapSlots[slot] == 0 else { return }
        rtpmaps.append(map)
        rtpmapSlots[slot] = Int32(rtpmaps.count)
    }

    mutating func addFormatParameters(_ fmtp: SDPFormatParameters) {
        if let id = Self.canonicalID(fmtp.format) {
            if fmtpSlots.isEmpty { fmtpSlots = Array(repeating: 0, count: 128) }
            guard fmtpSlots[id] == 0 else { return }
            fmtps.append(fmtp)
            fmtpSlots[id] = Int32(fmtps.count)
        } else if otherFmtps[fmtp.format] == nil {
            fmtps.append(fmtp)
            otherFmtps[fmtp.format] = fmtps.count - 1
        }
    }

    mutating func addFeedback(_ feedback: SDPRTCPFeedback, format: String) {
        if let id = Self.canonicalID(format) {
            if feedbackByID.isEmpty { feedbackByID = Array(repeating: [], count: 128) }
            feedbackByID[id].append(feedback)
        } else {
            otherFeedback[format, default: []].append(feedback)
        }
    }

    func rtpmap(_ id: UInt8) -> SDPRTPMap? {
        guard id <= 127, !rtpmapSlots.isEmpty else { return nil }
        let slot = rtpmapSlots[Int(id)]
        return slot == 0 ? nil : rtpmaps[Int(slot) - 1]
    }

    /// The first `a=fmtp` for the m-line format `format` (which parsed as `id`).
    func formatParameters(_ format: String, _ id: UInt8) -> SDPFormatParameters? {
        if Self.isCanonical(format, id) {
            guard !fmtpSlots.isEmpty else { return nil }
            let slot = fmtpSlots[Int(id)]
            return slot == 0 ? nil : fmtps[Int(slot) - 1]
        }
        return otherFmtps[format].map { fmtps[$0] }
    }

    /// The `a=rtcp-fb` lines for the m-line format `format`, in order.
    func forEachFeedback(_ format: String, _ id: UInt8, _ body: (SDPRTCPFeedback) -> Void) {
        if Self.isCanonical(format, id) {
            guard !feedbackByID.isEmpty else { return }
            for feedback in feedbackByID[Int(id)] { body(feedback) }
        } else {
            for feedback in otherFeedback[format] ?? [] { body(feedback) }
        }
    }
}
