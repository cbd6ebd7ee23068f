import DTLS
import RTP
import SRTP

extension FuzzChecker {
    /// Splits an input into datagrams: each is a 2-byte big-endian length then that many bytes (the last one
    /// takes whatever is left), so one input can carry a short exchange.
    static func datagrams(in input: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var offset = 0
        while offset < input.count, out.count < 8 {
            guard input.count - offset >= 2 else {
                out.append(Array(input[offset...]))
                break
            }
            let length = Int(input[offset]) << 8 | Int(input[offset + 1])
            let start = offset + 2
            let end = min(input.count, start + length)
            out.append(Array(input[start..<end]))
            offset = end
        }
        return out
    }

    /// Frames datagrams the way `datagrams(in:)` reads them (for seeds).
    public static func frame(_ datagrams: [[UInt8]]) -> [UInt8] {
        datagrams.flatMap { [UInt8(truncatingIfNeeded: $0.count >> 8), UInt8(truncatingIfNeeded: $0.count)] + $0 }
    }

    /// RFC 7983 §7 demultiplexing, then a DTLS endpoint and the inbound SRTP session on every datagram of their
    /// kind: each either succeeds or throws its layer's typed error. One bit of the input picks whether the DTLS
    /// endpoint is a server or a started client; endpoints are made only when a datagram needs them, since a
    /// handshake costs far more than parsing.
    func checkDatagram(_ input: [UInt8]) throws(FuzzFailure) -> String {
        guard let certificate else { throw fail("could not generate a DTLS certificate") }
        let role: DTLSRole = fnv1a(input) & 1 == 0 ? .server : .client
        var connection: DTLSConnection?
        var srtp: SRTPSession?
        var labels: [String] = []
        for datagram in Self.datagrams(in: input) {
            let kind = DatagramDemultiplexer.kind(of: datagram)
            switch kind {
            case .dtls:
                do {
                    if connection == nil {
                        let made = try DTLSConnection(role: role, certificate: certificate, mtu: 1200)
                        if role == .client { _ = try made.start(now: .now) }
                        connection = made
                    }
                    guard let connection else { continue }
                    let output = try connection.receive(datagram, now: .now)
                    for out in output.datagrams where out.count > connection.mtu {
                        throw fail("DTLS emitted a \(out.count)-byte datagram over the \(connection.mtu) MTU")
                    }
                    labels.append("dtls:ok")
                } catch let error as DTLSError {
                    labels.append("dtls:" + caseName(error))
                } catch let error as FuzzFailure {
                    throw error
                } catch {
                    throw fail("DTLSConnection threw an untyped error: \(error)")
                }
            case .rtp:
                let isRTCP = RTPPacketClass.classify(datagram) == .rtcp
                do {
                    if srtp == nil {
                        srtp = try SRTPSession(profile: .aesCM128HmacSHA1_80, key: srtpKey, salt: srtpSalt, direction: .inbound)
                    }
                    guard let srtp else { continue }
                    let clear = isRTCP ? try srtp.unprotectRTCP(datagram) : try srtp.unprotectRTP(datagram)
                    guard clear.count <= datagram.count else { throw fail("unprotect grew the packet") }
                    labels.append("srtp:ok")
                } catch let error as SRTPError {
                    labels.append("srtp:" + caseName(error))
                } catch let error as FuzzFailure {
                    throw error
                } catch {
                    throw fail("SRTPSession threw an untyped error: \(error)")
                }
            case .stun, .zrtp, .turnChannel, .unknown:
                labels.append("\(kind)")
            }
        }
        return labels.prefix(3).joined(separator: "/")
    }
}
