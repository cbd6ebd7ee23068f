// Benchmarks/srtp: SRTPSession.protectRTP (in place) against raw libsrtp2 srtp_protect, same packets, same run.
// Packets: 12-byte RTP header + 160-byte payload (20 ms of G.711). Sequence numbers increase (and wrap,
// exercising the rollover counter) because libsrtp refuses to protect a repeat.
// Run: swift run -c release --scratch-path .build-release bench-srtp
// Last line: srtp: ours=<pkt/s> baseline=<pkt/s> ratio=<x>   (AES_CM_128_HMAC_SHA1_80; the GCM line precedes it)
import CSRTP
import SRTP
#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

let packets = 600_000
let chunk = 5_000
let payloadLength = 160
let packetLength = 12 + payloadLength
let template: [UInt8] = [0x80, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0xCA, 0xFE, 0xBA, 0xBE]
    + (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 31) }
@inline(__always)
func prepare(_ buffer: UnsafeMutableRawBufferPointer, _ sequence: Int) {
    template.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: packetLength) }
    buffer[2] = UInt8(truncatingIfNeeded: sequence >> 8)
    buffer[3] = UInt8(truncatingIfNeeded: sequence)
}

/// Protects `count` packets through SRTPSession, continuing the sequence from `next`.
func runOurs(_ session: SRTPSession, next: inout Int, count: Int, buffer: UnsafeMutableRawBufferPointer) -> Int {
    var bytes = 0
    for _ in 0..<count {
        prepare(buffer, next)
        next += 1
        bytes &+= try! session.protectRTP(buffer, length: packetLength)
    }
    return bytes
}

/// The same with raw srtp_protect calls.
func runBaseline(_ session: srtp_t, next: inout Int, count: Int, buffer: UnsafeMutableRawBufferPointer) -> Int {
    var bytes = 0
    var length: Int32 = 0
    for _ in 0..<count {
        prepare(buffer, next)
        next += 1
        length = Int32(packetLength)
        let status = srtp_protect(session, buffer.baseAddress, &length)
        precondition(status == srtp_err_status_ok)
        bytes &+= Int(length)
    }
    return bytes
}

func makeRawSession(_ profile: SRTPProfile, key: [UInt8], salt: [UInt8]) -> srtp_t {
    var policy = srtp_policy_t()
    switch profile {
    case .aesCM128HmacSHA1_80:
        sj_srtp_policy_aes_cm_128_hmac_sha1_80(&policy.rtp)
        sj_srtp_policy_aes_cm_128_hmac_sha1_80(&policy.rtcp)
    case .aeadAES128GCM:
        sj_srtp_policy_aes_gcm_128_16_auth(&policy.rtp)
        sj_srtp_policy_aes_gcm_128_16_auth(&policy.rtcp)
    }
    policy.ssrc.type = ssrc_any_outbound
    policy.window_size = 1024
    var material = key + salt
    var session: srtp_t?
    let created = material.withUnsafeMutableBufferPointer { pointer in
        policy.key = pointer.baseAddress
        return srtp_create(&session, &policy)
    }
    precondition(created == srtp_err_status_ok && session != nil)
    return session!
}

/// The machine is shared with other builds, so the two sides run in alternating chunks of `chunk` packets
/// (which one goes first alternates too) and each side's figure is its median chunk rate: load from other
/// processes then falls on both alike.
func compare(_ profile: SRTPProfile) -> (ours: Double, baseline: Double) {
    let key = (0..<16).map { UInt8($0 &* 7) }
    let salt = (0..<profile.saltLength).map { UInt8($0 &* 11) }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 16)
    defer { buffer.deallocate() }
    let ours = try! SRTPSession(profile: profile, key: key, salt: salt, direction: .outbound)
    let raw = makeRawSession(profile, key: key, salt: salt)
    defer { srtp_dealloc(raw) }
    var ourNext = 0
    var rawNext = 0
    var ourRates: [Double] = []
    var rawRates: [Double] = []
    let expectedBytes = chunk * (packetLength + profile.rtpOverhead)
    for round in 0..<(packets / chunk) {
        for ourTurn in round % 2 == 0 ? [false, true] : [true, false] {
            let start = now()
            if ourTurn {
                precondition(runOurs(ours, next: &ourNext, count: chunk, buffer: buffer) == expectedBytes)
                ourRates.append(Double(chunk) / (now() - start))
            } else {
                precondition(runBaseline(raw, next: &rawNext, count: chunk, buffer: buffer) == expectedBytes)
                rawRates.append(Double(chunk) / (now() - start))
            }
        }
    }
    precondition(ours.statistics.protected == packets)
    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    return (median(ourRates), median(rawRates))
}

func line(_ label: String, _ result: (ours: Double, baseline: Double)) -> String {
    "\(label): ours=\(Int(result.ours))pkt/s baseline=\(Int(result.baseline))pkt/s ratio=\((result.ours / result.baseline * 100).rounded() / 100)"
}

// A raw libsrtp user initialises the library itself (SRTPSession does it once, lazily).
precondition(srtp_init() == srtp_err_status_ok)
print("input: \(packets) RTP packets of \(packetLength) bytes each side, alternating chunks of \(chunk), median chunk rate, protect only; last line is AES_CM_128_HMAC_SHA1_80")
let gcm = compare(.aeadAES128GCM)
print(line("srtp-gcm", gcm) + "   (AEAD_AES_128_GCM)")
let cm = compare(.aesCM128HmacSHA1_80)
print(line("srtp", cm))
