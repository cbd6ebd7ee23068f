import Testing
import CSRTP

/// libsrtp2 is linked and usable: one RTP packet protected and unprotected with AES_CM_128_HMAC_SHA1_80.
@Test func srtpProtectUnprotectRoundTrip() throws {
    #expect(srtp_init() == srtp_err_status_ok)
    var key: [UInt8] = (0..<30).map { UInt8($0 &* 7 &+ 1) }   // 16-byte master key + 14-byte salt
    func makeSession(_ direction: srtp_ssrc_type_t) -> srtp_t? {
        var policy = srtp_policy_t()
        sj_srtp_policy_aes_cm_128_hmac_sha1_80(&policy.rtp)
        sj_srtp_policy_aes_cm_128_hmac_sha1_80(&policy.rtcp)
        policy.ssrc.type = direction
        policy.window_size = 128
        var session: srtp_t?
        let status = key.withUnsafeMutableBufferPointer { k in
            policy.key = k.baseAddress
            return srtp_create(&session, &policy)
        }
        #expect(status == srtp_err_status_ok)
        return session
    }
    let sender = try #require(makeSession(ssrc_any_outbound))
    let receiver = try #require(makeSession(ssrc_any_inbound))
    defer { srtp_dealloc(sender); srtp_dealloc(receiver) }

    // 12-byte RTP header (V=2, PT=0, seq=1, ts=160, SSRC=0x11223344) + 160 bytes of payload.
    let header: [UInt8] = [0x80, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xA0, 0x11, 0x22, 0x33, 0x44]
    let plain = header + (0..<160).map { UInt8($0) }
    var buffer = plain + [UInt8](repeating: 0, count: Int(SRTP_MAX_TRAILER_LEN))
    var length = Int32(plain.count)
    #expect(srtp_protect(sender, &buffer, &length) == srtp_err_status_ok)
    #expect(Int(length) == plain.count + 10)                 // 80-bit auth tag
    #expect(Array(buffer[12..<Int(length) - 10]) != Array(plain[12...]))   // payload encrypted

    var tampered = buffer
    tampered[20] ^= 1
    var tamperedLength = length
    #expect(srtp_unprotect(receiver, &tampered, &tamperedLength) == srtp_err_status_auth_fail)

    #expect(srtp_unprotect(receiver, &buffer, &length) == srtp_err_status_ok)
    #expect(Array(buffer[0..<Int(length)]) == plain)
}
