internal import CSRTP

/// libsrtp must be initialised once per process before any session exists; a global `let` is initialised
/// lazily and exactly once, even when several threads get here together.
///
/// When other code in the process has already called `srtp_init`, libsrtp 2.5 answers a second call with
/// `bad_param` (its debug module is already registered) while the library is fully initialised, so that
/// status counts as success.
private let libraryStatus: UInt32 = {
    let status = srtp_init()
    return status == srtp_err_status_bad_param ? srtp_err_status_ok.rawValue : status.rawValue
}()

/// One direction of SRTP/SRTCP protection with one master key (RFC 3711) over libsrtp2.
///
/// Outbound sessions protect, inbound sessions unprotect, for any SSRC (libsrtp's `ssrc_any_*` templates).
/// Failed authentication and replays are dropped, counted in `statistics` and thrown as typed errors.
///
/// The in-place methods work on a caller's buffer and do not allocate; the packet occupies the first `length`
/// bytes and the buffer must have `trailerCapacity` bytes to spare after it (libsrtp documents that it may
/// write up to `SRTP_MAX_TRAILER_LEN` bytes past the packet).
///
/// Owned by one task: not `Sendable`. Frees the libsrtp session in `deinit`.
public final class SRTPSession {
    public let profile: SRTPProfile
    public let direction: SRTPDirection
    /// Exclusivity is not checked at run time: the session belongs to one task (it is not `Sendable`), and the
    /// check cost about as much as the rest of the wrapper on the per-packet path.
    @exclusivity(unchecked) public private(set) var statistics = SRTPStatistics()

    /// `srtp_t`, owned.
    private let session: OpaquePointer

    /// Spare bytes the in-place buffer needs after the packet: libsrtp's `SRTP_MAX_TRAILER_LEN` (tag plus the
    /// largest MKI) and the 4-byte SRTCP index.
    public static let trailerCapacity = 16 + 128 + 4

    /// Creates a session from a master key and salt (RFC 3711 §8.2).
    /// - Parameters:
    ///   - profile: the protection profile (RFC 5764 §4.1.2) the keys are for.
    ///   - key: the master key, `profile.keyLength` bytes.
    ///   - salt: the master salt, `profile.saltLength` bytes.
    ///   - direction: `.outbound` to protect what we send, `.inbound` to unprotect what we receive.
    ///   - replayWindowSize: packets remembered for replay detection (RFC 3711 §3.3.2: at least 64).
    public init(profile: SRTPProfile, key: [UInt8], salt: [UInt8], direction: SRTPDirection, replayWindowSize: Int = 1024) throws {
        guard libraryStatus == srtp_err_status_ok.rawValue else {
            throw SRTPError.libsrtp(operation: "srtp_init", status: libraryStatus)
        }
        guard key.count == profile.keyLength else {
            throw SRTPError.invalidKeyLength(expected: profile.keyLength, actual: key.count)
        }
        guard salt.count == profile.saltLength else {
            throw SRTPError.invalidSaltLength(expected: profile.saltLength, actual: salt.count)
        }
        guard (64...32_768).contains(replayWindowSize) else {
            throw SRTPError.unsupported("replay window of \(replayWindowSize) packets (libsrtp takes 64...32768)")
        }
        var policy = srtp_policy_t()
        switch profile {
        case .aesCM128HmacSHA1_80:
            sj_srtp_policy_aes_cm_128_hmac_sha1_80(&policy.rtp)
            sj_srtp_policy_aes_cm_128_hmac_sha1_80(&policy.rtcp)
        case .aeadAES128GCM:
            sj_srtp_policy_aes_gcm_128_16_auth(&policy.rtp)
            sj_srtp_policy_aes_gcm_128_16_auth(&policy.rtcp)
        }
        policy.ssrc.type = direction == .outbound ? ssrc_any_outbound : ssrc_any_inbound
        policy.window_size = UInt(replayWindowSize)
        policy.allow_repeat_tx = 0
        policy.next = nil
        // libsrtp takes the master key and salt concatenated, and derives session keys from them in
        // srtp_create, keeping no reference to this buffer.
        var material = key + salt
        var created: OpaquePointer?
        let status = material.withUnsafeMutableBufferPointer { buffer in
            policy.key = buffer.baseAddress
            return srtp_create(&created, &policy)
        }
        for index in material.indices { material[index] = 0 }
        guard status == srtp_err_status_ok, let created else {
            throw SRTPError.libsrtp(operation: "srtp_create", status: status.rawValue)
        }
        self.session = created
        self.profile = profile
        self.direction = direction
    }

    /// An outbound session with our key and an inbound one with the peer's, as DTLS-SRTP (RFC 5764 §4.2) and
    /// SDES (RFC 4568 §6.1) hand them out.
    public static func pair(
        profile: SRTPProfile, localKey: [UInt8], localSalt: [UInt8], remoteKey: [UInt8], remoteSalt: [UInt8]
    ) throws -> (outbound: SRTPSession, inbound: SRTPSession) {
        (
            try SRTPSession(profile: profile, key: localKey, salt: localSalt, direction: .outbound),
            try SRTPSession(profile: profile, key: remoteKey, salt: remoteSalt, direction: .inbound)
        )
    }

    deinit {
        srtp_dealloc(session)
    }

    // MARK: - In place, no allocation

    /// Encrypts and authenticates the RTP packet in `buffer[0..<length]`; returns the SRTP length.
    public func protectRTP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws -> Int {
        guard direction == .outbound else { throw SRTPError.wrongDirection }
        try checkCapacity(buffer, length: length)
        if let problem = Self.rtpHeaderProblem(buffer, length: length) { throw malformed(problem) }
        return try run(buffer, length: length, operation: "srtp_protect") { srtp_protect($0, $1, $2) }
    }

    /// Authenticates and decrypts the SRTP packet in `buffer[0..<length]`; returns the RTP length.
    public func unprotectRTP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws -> Int {
        guard direction == .inbound else { throw SRTPError.wrongDirection }
        guard length >= 0, length <= buffer.count else { throw malformed("length \(length) outside the buffer") }
        if let problem = Self.rtpHeaderProblem(buffer, length: length) { throw malformed(problem) }
        guard length >= 12 + profile.rtpOverhead else { throw malformed("shorter than header and tag") }
        return try run(buffer, length: length, operation: "srtp_unprotect") { srtp_unprotect($0, $1, $2) }
    }

    /// Encrypts and authenticates the RTCP compound packet in `buffer[0..<length]` (RFC 3711 §3.4).
    public func protectRTCP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws -> Int {
        guard direction == .outbound else { throw SRTPError.wrongDirection }
        try checkCapacity(buffer, length: length)
        if let problem = Self.rtcpHeaderProblem(buffer, length: length) { throw malformed(problem) }
        return try run(buffer, length: length, operation: "srtp_protect_rtcp") { srtp_protect_rtcp($0, $1, $2) }
    }

    /// Authenticates and decrypts the SRTCP packet in `buffer[0..<length]`.
    public func unprotectRTCP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws -> Int {
        guard direction == .inbound else { throw SRTPError.wrongDirection }
        guard length >= 0, length <= buffer.count else { throw malformed("length \(length) outside the buffer") }
        if let problem = Self.rtcpHeaderProblem(buffer, length: length) { throw malformed(problem) }
        guard length >= 8 + profile.rtcpOverhead else { throw malformed("shorter than header, index and tag") }
        return try run(buffer, length: length, operation: "srtp_unprotect_rtcp") { srtp_unprotect_rtcp($0, $1, $2) }
    }

    // MARK: - Arrays

    public func protectRTP(_ packet: [UInt8]) throws -> [UInt8] {
        try transform(packet, extra: Self.trailerCapacity) { try protectRTP($0, length: $1) }
    }

    public func unprotectRTP(_ packet: [UInt8]) throws -> [UInt8] {
        try transform(packet, extra: 0) { try unprotectRTP($0, length: $1) }
    }

    public func protectRTCP(_ packet: [UInt8]) throws -> [UInt8] {
        try transform(packet, extra: Self.trailerCapacity) { try protectRTCP($0, length: $1) }
    }

    public func unprotectRTCP(_ packet: [UInt8]) throws -> [UInt8] {
        try transform(packet, extra: 0) { try unprotectRTCP($0, length: $1) }
    }

    // MARK: - Internals

    private func transform(
        _ packet: [UInt8], extra: Int, _ body: (UnsafeMutableRawBufferPointer, Int) throws -> Int
    ) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: packet.count + extra)
        buffer.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: packet, count: packet.count) }
        let length = try buffer.withUnsafeMutableBytes { try body($0, packet.count) }
        buffer.removeLast(buffer.count - length)
        return buffer
    }

    @inline(__always)
    private func checkCapacity(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws {
        guard length >= 0, length <= Int(Int32.max) - Self.trailerCapacity else {
            throw malformed("length \(length)")
        }
        guard buffer.count >= length + Self.trailerCapacity else {
            throw SRTPError.bufferTooSmall(needed: length + Self.trailerCapacity, capacity: buffer.count)
        }
    }

    private func malformed(_ reason: String) -> SRTPError {
        statistics.malformed += 1
        return .malformedPacket(reason)
    }

    @inline(__always)
    private func run(
        _ buffer: UnsafeMutableRawBufferPointer, length: Int, operation: String,
        _ call: (OpaquePointer, UnsafeMutableRawPointer, UnsafeMutablePointer<Int32>) -> srtp_err_status_t
    ) throws -> Int {
        var newLength = Int32(length)
        let status = call(session, buffer.baseAddress!, &newLength)
        if status == srtp_err_status_ok {
            if direction == .outbound { statistics.protected += 1 } else { statistics.unprotected += 1 }
            return Int(newLength)
        }
        switch status {
        case srtp_err_status_auth_fail:
            statistics.authFailures += 1
            throw SRTPError.authenticationFailed
        case srtp_err_status_replay_fail, srtp_err_status_replay_old:
            statistics.replays += 1
            throw SRTPError.replay
        case srtp_err_status_bad_param, srtp_err_status_parse_err:
            throw malformed("\(operation) rejected the packet (status \(status.rawValue))")
        default:
            throw SRTPError.libsrtp(operation: operation, status: status.rawValue)
        }
    }

    /// RFC 3550 §5.1: version 2, 12-byte fixed header, CSRC list and extension inside the packet.
    @inline(__always)
    static func rtpHeaderProblem(_ buffer: UnsafeMutableRawBufferPointer, length: Int) -> String? {
        guard length >= 12, length <= buffer.count else { return "shorter than the 12-byte RTP header" }
        let first = buffer[0]
        guard first >> 6 == 2 else { return "RTP version \(first >> 6)" }
        var header = 12 + Int(first & 0x0F) * 4
        if first & 0x10 != 0 {
            guard length >= header + 4 else { return "header extension beyond the packet" }
            header += 4 + (Int(buffer[header + 2]) << 8 | Int(buffer[header + 3])) * 4
        }
        guard header <= length else { return "header of \(header) bytes in a \(length)-byte packet" }
        return nil
    }

    /// RFC 3550 §6.4: version 2, at least the 8-byte header of the first packet of the compound.
    @inline(__always)
    static func rtcpHeaderProblem(_ buffer: UnsafeMutableRawBufferPointer, length: Int) -> String? {
        guard length >= 8, length <= buffer.count else { return "shorter than the 8-byte RTCP header" }
        guard buffer[0] >> 6 == 2 else { return "RTCP version \(buffer[0] >> 6)" }
        return nil
    }
}
