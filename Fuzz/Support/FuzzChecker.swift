import DTLS
import Hashes
import Jingle
import RTP
import SDP
import SRTP
import XMLStream
import XMPPCore

/// Runs one target's property on inputs. Holds what is expensive to make once (a DTLS certificate); every
/// input otherwise starts from fresh parser and connection objects, so a result depends on the input alone.
public final class FuzzChecker {
    public let target: FuzzTarget
    let certificate: DTLSCertificate?
    let srtpKey: [UInt8] = Array(0..<16)
    let srtpSalt: [UInt8] = Array(16..<30)
    /// Fixed-key packet protection for the peerstream target: the client side seals, the server side opens.
    let protection: (PacketProtection, PacketProtection)?

    public init(target: FuzzTarget) {
        self.target = target
        // Generating a key pair cannot fail on a working OpenSSL; if it does, the datagram target says so
        // on every input rather than silently testing less.
        certificate = target == .datagram ? try? DTLSCertificate.generate() : nil
        let exported = (0..<PacketProtection.exportLength).map { UInt8($0 * 7 & 0xFF) }
        if target == .peerstream, let sealer = try? PacketProtection(exported: exported, role: .client),
           let opener = try? PacketProtection(exported: exported, role: .server) {
            protection = (sealer, opener)
        } else {
            protection = nil
        }
    }

    /// Checks the property on one input; returns a short outcome label (used to keep inputs that reached a
    /// new outcome in the corpus) or throws the violation.
    @discardableResult
    public func check(_ input: [UInt8]) throws(FuzzFailure) -> String {
        switch target {
        case .xml: try checkXML(input)
        case .jid: try checkJID(input)
        case .sdp: try checkSDP(input)
        case .jingle: try checkJingle(input)
        case .rtp: try checkRTP(input)
        case .datagram: try checkDatagram(input)
        case .filename: try checkFileName(input)
        case .sip: try checkSIP(input)
        case .peerstream: try checkPeerStream(input)
        }
    }

    func fail(_ message: String) -> FuzzFailure { FuzzFailure(target, message) }
}

/// The enum case name of an error, without its payload or message: outcomes that differ only in a message or
/// position count as one (so the corpus keeps inputs that reach new kinds of outcome, not new messages).
func caseName(_ value: Any) -> String {
    let mirror = Mirror(reflecting: value)
    if mirror.displayStyle == .enum, let label = mirror.children.first?.label { return label }
    return String(String(describing: value).prefix { $0 != "(" && $0 != ":" }.prefix(40))
}

/// Cheap deterministic hash of an input (FNV-1a), to derive chunkings and choices from the input itself.
func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    return hash
}
