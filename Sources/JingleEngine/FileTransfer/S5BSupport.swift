import Hashes
import Jingle
import XMPPCore

/// The I/O-free pieces of SOCKS5 bytestreams (XEP-0260 over XEP-0065): the destination address, the SOCKS5
/// messages of a direct connection (RFC 1928 with the XEP-0065 §5.3.2 profile) and the nomination rule.
/// `S5BSocket` and `JingleFileTransfer.s5bEstablish` carry them out, with XEP-0065 proxies from S5BProxy.swift.
public enum S5B {
    /// XEP-0260 §2.2 / XEP-0065 §5.3.2: SHA-1 (lower-case hex) of sid + the full JID of the party that
    /// offered the candidate + the full JID of the party that connects to it. For the initiator's
    /// candidates that is sid + initiator + responder; for the responder's, sid + responder + initiator.
    public static func dstaddr(sid: String, requester: JID, target: JID) -> String {
        let digest = Digest.hash(.sha1, Array((sid + requester.description + target.description).utf8))
        return digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    public enum SOCKS5Error: Error, Sendable, Hashable, CustomStringConvertible {
        case truncated
        case notSOCKS5(UInt8)
        case noAcceptableMethod
        case unsupportedCommand(UInt8)
        case unsupportedAddressType(UInt8)
        case wrongDestination(String)
        case refused(UInt8)

        public var description: String {
            switch self {
            case .truncated: "SOCKS5 message cut short"
            case .notSOCKS5(let v): "not SOCKS5 (version \(v), RFC 1928 §3)"
            case .noAcceptableMethod: "the SOCKS5 peer offers no 'no authentication' method (XEP-0065 §5.3.1)"
            case .unsupportedCommand(let c): "SOCKS5 command \(c) is not CONNECT"
            case .unsupportedAddressType(let t): "SOCKS5 address type \(t) is not a domain name (XEP-0065 §5.3.2)"
            case .wrongDestination(let d): "SOCKS5 destination \(d) does not match this session's dstaddr"
            case .refused(let code): "the SOCKS5 server refused the connection (reply \(code), RFC 1928 §6)"
            }
        }
    }

    /// RFC 1928 §3: version 5, one method, 0 = no authentication (the only one XEP-0065 §5.3.1 uses).
    public static let greeting: [UInt8] = [5, 1, 0]

    /// The server's method choice for a client greeting: no authentication, or an error.
    public static func methodSelection(for greeting: [UInt8]) throws(SOCKS5Error) -> [UInt8] {
        guard greeting.count >= 2 else { throw .truncated }
        guard greeting[0] == 5 else { throw .notSOCKS5(greeting[0]) }
        let count = Int(greeting[1])
        guard greeting.count >= 2 + count else { throw .truncated }
        guard greeting[2..<(2 + count)].contains(0) else { throw .noAcceptableMethod }
        return [5, 0]
    }

    /// XEP-0065 §5.3.2: CONNECT to the domain name `dstaddr`, port 0.
    public static func connectRequest(dstaddr: String) -> [UInt8] {
        let name = Array(dstaddr.utf8)
        return [5, 1, 0, 3, UInt8(truncatingIfNeeded: name.count)] + name + [0, 0]
    }

    /// Checks a CONNECT request against the expected dstaddr; returns its length in bytes.
    public static func parseConnectRequest(_ bytes: [UInt8], expecting dstaddr: String) throws(SOCKS5Error) -> Int {
        guard bytes.count >= 5 else { throw .truncated }
        guard bytes[0] == 5 else { throw .notSOCKS5(bytes[0]) }
        guard bytes[1] == 1 else { throw .unsupportedCommand(bytes[1]) }
        guard bytes[3] == 3 else { throw .unsupportedAddressType(bytes[3]) }
        let length = Int(bytes[4])
        guard bytes.count >= 5 + length + 2 else { throw .truncated }
        let name = String(decoding: bytes[5..<(5 + length)], as: UTF8.self)
        guard name == dstaddr else { throw .wrongDestination(name) }
        return 5 + length + 2
    }

    /// RFC 1928 §6: success, echoing the domain name (XEP-0065 §5.3.3).
    public static func connectReply(dstaddr: String) -> [UInt8] {
        let name = Array(dstaddr.utf8)
        return [5, 0, 0, 3, UInt8(truncatingIfNeeded: name.count)] + name + [0, 0]
    }

    /// Checks the server's reply to our CONNECT; returns its length in bytes.
    public static func parseConnectReply(_ bytes: [UInt8]) throws(SOCKS5Error) -> Int {
        guard bytes.count >= 5 else { throw .truncated }
        guard bytes[0] == 5 else { throw .notSOCKS5(bytes[0]) }
        guard bytes[1] == 0 else { throw .refused(bytes[1]) }
        let length: Int
        switch bytes[3] {
        case 1: length = 4 + 2   // IPv4 address + port, after the 4-byte header
        case 3: length = 1 + Int(bytes[4]) + 2
        case 4: length = 16 + 2
        default: throw .unsupportedAddressType(bytes[3])
        }
        guard bytes.count >= 4 + length else { throw .truncated }
        return 4 + length
    }

    /// One side's outcome: the candidate (of the other side) it connected to, or none.
    public struct Used: Sendable, Hashable {
        public var cid: String
        public var priority: UInt32
        public init(cid: String, priority: UInt32) {
            self.cid = cid
            self.priority = priority
        }
    }

    public enum Nomination: Sendable, Hashable {
        /// The initiator's connection to a responder candidate carries the bytes.
        case initiatorsConnection(cid: String)
        /// The responder's connection to an initiator candidate carries the bytes.
        case respondersConnection(cid: String)
        /// Neither side connected: fall back (IBB) or end the session.
        case none
    }

    /// XEP-0260 §2.4: when both sides connected, the candidate with the higher priority wins; on equal
    /// priority the initiator's choice (the candidate it connected to) wins.
    public static func nominate(initiatorUsed: Used?, responderUsed: Used?) -> Nomination {
        switch (initiatorUsed, responderUsed) {
        case (nil, nil): .none
        case (let i?, nil): .initiatorsConnection(cid: i.cid)
        case (nil, let r?): .respondersConnection(cid: r.cid)
        case (let i?, let r?): r.priority > i.priority ? .respondersConnection(cid: r.cid) : .initiatorsConnection(cid: i.cid)
        }
    }

    /// XEP-0260 §2.2: direct candidate priority, type preference 126 (direct) as in XEP-0260 Table 1.
    public static func priority(for type: S5BCandidate.CandidateType, local: UInt32 = 0) -> UInt32 {
        let preference: UInt32 = switch type {
        case .direct: 126
        case .assisted: 120
        case .tunnel: 110
        case .proxy: 10
        }
        return preference << 16 | (local & 0xFFFF)
    }
}
