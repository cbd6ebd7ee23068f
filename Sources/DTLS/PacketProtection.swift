internal import COpenSSL
import Hashes

/// AES-128-GCM packet protection with keys exported from a DTLS handshake (RFC 5705), for datagrams that
/// carry their own packet number: the role DTLS-SRTP gives SRTP (RFC 5764 §4.2), here for a datagram protocol
/// that is not RTP. Per packet: the header is authenticated (AAD), the body encrypted, a 16-byte tag appended;
/// the nonce is the 12-byte IV with the packet number XORed into its last 8 bytes, as QUIC (RFC 9001 §5.3), so
/// it never repeats as long as a sender never reuses a packet number under one key.
///
/// Against DTLS records this saves 21 bytes per datagram (DTLS 1.2: 13-byte header + 8-byte explicit nonce)
/// and OpenSSL's record layer and memory BIOs on every datagram.
///
/// Each direction has its own key and IV. The cipher contexts are allocated once; `seal` and `open` each use
/// their own, so one thread may seal while another opens, but two concurrent seals (or opens) are the
/// caller's bug.
///
/// Key update: AES-128-GCM's confidentiality limit is 2^23 packets per key (RFC 9001 §6.6), which a
/// file transfer passes after ~12 GB. So the key changes every `keyUpdateInterval` packet numbers: packets
/// numbered g·2^22 … (g+1)·2^22 − 1 use key g, the exported key for g = 0 and HMAC-SHA256(exported key,
/// label ‖ g) truncated to 16 bytes after that. The packet number travels in the clear (and authenticated),
/// so both sides know the generation of every packet and nothing needs signalling.
public final class PacketProtection: @unchecked Sendable {
    public static let keyLength = 16
    public static let ivLength = 12
    public static let tagLength = 16
    /// Bytes to export for both directions: client key, server key, client IV, server IV (the order of
    /// RFC 5764 §4.2).
    public static let exportLength = 2 * (keyLength + ivLength)
    /// Packet numbers per key by default: half of the 2^23 confidentiality limit.
    public static let defaultKeyUpdateInterval: UInt64 = 1 << 22
    /// Packet numbers per key (a power of two; both sides must use the same).
    public let keyUpdateInterval: UInt64

    private let sealContext: OpaquePointer
    private let openContext: OpaquePointer
    private let sealIV: [UInt8]
    private let openIV: [UInt8]
    private let sealBaseKey: [UInt8]
    private let openBaseKey: [UInt8]
    /// The key generation each context holds now.
    private var sealGeneration: UInt64 = 0
    private var openGeneration: UInt64 = 0

    /// Takes `exported` (`exportLength` bytes from `DTLSConnection.exportKeyingMaterial`); the client seals with
    /// the client key and opens with the server's, the server the other way round.
    public init(exported: [UInt8], role: DTLSRole, keyUpdateInterval: UInt64 = PacketProtection.defaultKeyUpdateInterval) throws {
        guard keyUpdateInterval >= 256, keyUpdateInterval.nonzeroBitCount == 1 else {
            throw DTLSError.openSSL(operation: "PacketProtection", reason: "keyUpdateInterval must be a power of two of at least 256, got \(keyUpdateInterval)")
        }
        self.keyUpdateInterval = keyUpdateInterval
        guard exported.count == Self.exportLength else {
            throw DTLSError.openSSL(operation: "PacketProtection", reason: "need \(Self.exportLength) exported bytes, got \(exported.count)")
        }
        let k = Self.keyLength
        let clientKey = Array(exported[0..<k])
        let serverKey = Array(exported[k..<(2 * k)])
        let clientIV = Array(exported[(2 * k)..<(2 * k + Self.ivLength)])
        let serverIV = Array(exported[(2 * k + Self.ivLength)...])
        let (sealKey, openKey) = role == .client ? (clientKey, serverKey) : (serverKey, clientKey)
        sealBaseKey = sealKey
        openBaseKey = openKey
        sealIV = role == .client ? clientIV : serverIV
        openIV = role == .client ? serverIV : clientIV
        guard let seal = EVP_CIPHER_CTX_new() else { throw DTLSError.openSSL(operation: "EVP_CIPHER_CTX_new", reason: "") }
        guard let open = EVP_CIPHER_CTX_new() else {
            EVP_CIPHER_CTX_free(seal)
            throw DTLSError.openSSL(operation: "EVP_CIPHER_CTX_new", reason: "")
        }
        sealContext = seal
        openContext = open
        // The default GCM IV length is 12 bytes; the key is set once, the nonce per packet.
        guard EVP_EncryptInit_ex(seal, EVP_aes_128_gcm(), nil, sealKey, nil) == 1,
              EVP_DecryptInit_ex(open, EVP_aes_128_gcm(), nil, openKey, nil) == 1 else {
            throw DTLSError.openSSL(operation: "EVP_*Init_ex(aes-128-gcm)", reason: OpenSSLErrorQueue.drain())
        }
    }

    deinit {
        EVP_CIPHER_CTX_free(sealContext)
        EVP_CIPHER_CTX_free(openContext)
    }

    /// The key of `generation`: the exported key for 0, then HMAC-SHA256(exported key, label ‖ generation as
    /// 8 bytes big-endian), first 16 bytes.
    static func key(base: [UInt8], generation: UInt64) -> [UInt8] {
        guard generation > 0 else { return base }
        var data = Array("SwiftJingle PeerStream key update".utf8)
        for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: generation >> UInt64(shift))) }
        return Array(KeyedHash.hmac(.sha256, key: base, data: data).prefix(keyLength))
    }

    /// Puts the key of `packetNumber`'s generation into `context` when it holds another one. False when
    /// OpenSSL refuses (then the caller fails the packet).
    private static func select(_ context: OpaquePointer, base: [UInt8], packetNumber: UInt64, interval: UInt64, current: inout UInt64,
                               encrypt: Bool) -> Bool {
        let generation = packetNumber / interval
        guard generation != current else { return true }
        let key = Self.key(base: base, generation: generation)
        let ok = encrypt ? EVP_EncryptInit_ex(context, nil, nil, key, nil) == 1 : EVP_DecryptInit_ex(context, nil, nil, key, nil) == 1
        if ok { current = generation }
        return ok
    }

    @inline(__always)
    private static func nonce(_ iv: [UInt8], _ packetNumber: UInt64) -> (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) {
        var n = (iv[0], iv[1], iv[2], iv[3], iv[4], iv[5], iv[6], iv[7], iv[8], iv[9], iv[10], iv[11])
        let p = packetNumber
        n.4 ^= UInt8(truncatingIfNeeded: p >> 56); n.5 ^= UInt8(truncatingIfNeeded: p >> 48)
        n.6 ^= UInt8(truncatingIfNeeded: p >> 40); n.7 ^= UInt8(truncatingIfNeeded: p >> 32)
        n.8 ^= UInt8(truncatingIfNeeded: p >> 24); n.9 ^= UInt8(truncatingIfNeeded: p >> 16)
        n.10 ^= UInt8(truncatingIfNeeded: p >> 8); n.11 ^= UInt8(truncatingIfNeeded: p)
        return n
    }

    /// Writes `header` (authenticated, in the clear), `body` encrypted and the tag into `output` (at least
    /// header + body + 16 bytes); returns the length written. Fails only if OpenSSL does.
    public func seal(header: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer, packetNumber: UInt64,
                     into output: UnsafeMutableRawBufferPointer) throws -> Int {
        let total = header.count + body.count + Self.tagLength
        precondition(output.count >= total, "seal output too small")
        guard let out = output.baseAddress else { return 0 }
        if header.count > 0, let h = header.baseAddress { out.copyMemory(from: h, byteCount: header.count) }
        guard Self.select(sealContext, base: sealBaseKey, packetNumber: packetNumber, interval: keyUpdateInterval, current: &sealGeneration,
                          encrypt: true) else {
            throw DTLSError.openSSL(operation: "AES-128-GCM key update", reason: OpenSSLErrorQueue.drain())
        }
        var nonce = Self.nonce(sealIV, packetNumber)
        var length: Int32 = 0
        let ctx = sealContext
        let ok = withUnsafeBytes(of: &nonce) { n in
            EVP_EncryptInit_ex(ctx, nil, nil, nil, n.baseAddress?.assumingMemoryBound(to: UInt8.self)) == 1
                && EVP_EncryptUpdate(ctx, nil, &length, header.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(header.count)) == 1
                && (body.isEmpty || EVP_EncryptUpdate(ctx, (out + header.count).assumingMemoryBound(to: UInt8.self), &length,
                                                      body.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(body.count)) == 1)
                && EVP_EncryptFinal_ex(ctx, (out + header.count + body.count).assumingMemoryBound(to: UInt8.self), &length) == 1
                && EVP_CIPHER_CTX_ctrl(ctx, 0x10 /* EVP_CTRL_GCM_GET_TAG */, Int32(Self.tagLength), out + header.count + body.count) == 1
        }
        guard ok else { throw DTLSError.openSSL(operation: "AES-128-GCM seal", reason: OpenSSLErrorQueue.drain()) }
        return total
    }

    /// Checks and decrypts a packet of `headerLength` clear bytes + ciphertext + tag: writes the header and the
    /// plaintext body into `output` (at least `packet.count − 16` bytes) and returns their length, or nil when
    /// the packet is too short or does not authenticate (forged, corrupted, or another key).
    public func open(packet: UnsafeRawBufferPointer, headerLength: Int, packetNumber: UInt64,
                     into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard headerLength >= 0, packet.count >= headerLength + Self.tagLength,
              output.count >= packet.count - Self.tagLength,
              let input = packet.baseAddress, let out = output.baseAddress else { return nil }
        let bodyLength = packet.count - headerLength - Self.tagLength
        guard Self.select(openContext, base: openBaseKey, packetNumber: packetNumber, interval: keyUpdateInterval, current: &openGeneration,
                          encrypt: false) else {
            OpenSSLErrorQueue.clear()
            return nil
        }
        out.copyMemory(from: input, byteCount: headerLength)
        var nonce = Self.nonce(openIV, packetNumber)
        var length: Int32 = 0
        let ctx = openContext
        let tag = UnsafeMutableRawPointer(mutating: input + headerLength + bodyLength)
        let ok = withUnsafeBytes(of: &nonce) { n in
            EVP_DecryptInit_ex(ctx, nil, nil, nil, n.baseAddress?.assumingMemoryBound(to: UInt8.self)) == 1
                && EVP_DecryptUpdate(ctx, nil, &length, input.assumingMemoryBound(to: UInt8.self), Int32(headerLength)) == 1
                && (bodyLength == 0 || EVP_DecryptUpdate(ctx, (out + headerLength).assumingMemoryBound(to: UInt8.self), &length,
                                                          (input + headerLength).assumingMemoryBound(to: UInt8.self), Int32(bodyLength)) == 1)
                && EVP_CIPHER_CTX_ctrl(ctx, 0x11 /* EVP_CTRL_GCM_SET_TAG */, Int32(Self.tagLength), tag) == 1
                && EVP_DecryptFinal_ex(ctx, (out + headerLength + bodyLength).assumingMemoryBound(to: UInt8.self), &length) == 1
        }
        if !ok { OpenSSLErrorQueue.clear() }
        return ok ? headerLength + bodyLength : nil
    }
}
