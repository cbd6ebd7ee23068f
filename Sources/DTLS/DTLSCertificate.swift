internal import COpenSSL
public import Hashes

/// A self-signed ECDSA P-256 certificate and its private key, made fresh for a session.
///
/// DTLS-SRTP does not use certificate authorities: each side signals the fingerprint of its certificate out of
/// band and checks the peer's against it (RFC 5763 §5, RFC 8827 §6.5). P-256 with ECDSA is what every WebRTC
/// and Jingle implementation accepts (RFC 8827 §6.5 makes it mandatory to implement).
///
/// Immutable after creation; OpenSSL reference-counts the key and certificate when a connection uses them, so
/// one certificate may be shared by connections on different tasks.
public final class DTLSCertificate: @unchecked Sendable {
    /// `X509 *`, owned.
    let certificate: OpaquePointer
    /// `EVP_PKEY *`, owned.
    let privateKey: OpaquePointer
    /// The certificate in DER, which is what fingerprints hash (RFC 8122 §5).
    public let derBytes: [UInt8]

    private init(certificate: OpaquePointer, privateKey: OpaquePointer, derBytes: [UInt8]) {
        self.certificate = certificate
        self.privateKey = privateKey
        self.derBytes = derBytes
    }

    deinit {
        X509_free(certificate)
        EVP_PKEY_free(privateKey)
    }

    /// Generates a key pair and a self-signed certificate: random 64-bit serial, random common name (so the
    /// certificate identifies nobody), valid from a day ago (peers' clocks drift) for `validityDays`.
    public static func generate(validityDays: Int = 30) throws -> DTLSCertificate {
        OpenSSLErrorQueue.clear()
        guard let key = sj_EVP_EC_gen("P-256") else {
            throw DTLSError.openSSL(operation: "EVP_EC_gen", reason: OpenSSLErrorQueue.drain())
        }
        guard let x509 = X509_new() else {
            EVP_PKEY_free(key)
            throw DTLSError.openSSL(operation: "X509_new", reason: OpenSSLErrorQueue.drain())
        }
        func fail(_ operation: String) -> DTLSError {
            X509_free(x509)
            EVP_PKEY_free(key)
            return DTLSError.openSSL(operation: operation, reason: OpenSSLErrorQueue.drain())
        }
        guard X509_set_version(x509, 2) == 1 else { throw fail("X509_set_version") }  // 2 means v3

        var serial = SecureRandom.bytes(8)
        serial[0] = (serial[0] & 0x7F) | 0x01  // positive and non-zero (RFC 5280 §4.1.2.2)
        guard let serialNumber = BN_bin2bn(serial, Int32(serial.count), nil) else { throw fail("BN_bin2bn") }
        let serialSet = BN_to_ASN1_INTEGER(serialNumber, X509_get_serialNumber(x509)) != nil
        BN_free(serialNumber)
        guard serialSet else { throw fail("BN_to_ASN1_INTEGER") }

        guard X509_gmtime_adj(X509_getm_notBefore(x509), -86_400) != nil,
              X509_gmtime_adj(X509_getm_notAfter(x509), max(1, validityDays) * 86_400) != nil
        else { throw fail("X509_gmtime_adj") }

        let commonName = Array(SecureRandom.bytes(8).hexString.utf8)
        guard let name = X509_get_subject_name(x509),
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonName, Int32(commonName.count), -1, 0) == 1,
              X509_set_issuer_name(x509, name) == 1
        else { throw fail("X509_NAME_add_entry_by_txt") }

        guard X509_set_pubkey(x509, key) == 1 else { throw fail("X509_set_pubkey") }
        guard X509_sign(x509, key, EVP_sha256()) > 0 else { throw fail("X509_sign") }
        guard let der = derEncoding(of: x509) else { throw fail("i2d_X509") }
        return DTLSCertificate(certificate: x509, privateKey: key, derBytes: der)
    }

    /// The fingerprint to signal for this certificate (RFC 8122 §5); SHA-256 is what RFC 8827 §6.5 expects.
    public func fingerprint(_ algorithm: HashAlgorithm = .sha256) -> DTLSFingerprint {
        DTLSFingerprint(algorithm: algorithm, bytes: Digest.hash(algorithm, derBytes))
    }

    /// DER encoding of an `X509 *`.
    static func derEncoding(of x509: OpaquePointer) -> [UInt8]? {
        let length = i2d_X509(x509, nil)
        guard length > 0 else { return nil }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_X509(x509, &cursor)
        }
        return written == length ? der : nil
    }
}
