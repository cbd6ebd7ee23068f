#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A minimal DNS SRV resolver (RFC 2782) for XMPP (RFC 6120 §3.2.1) and SIP (RFC 3263 §4.2): one UDP query
/// to the first `nameserver` of /etc/resolv.conf, no recursion of our own, no TCP fallback. The message codec
/// is pure and tested; the query is blocking with a short timeout, so a missing resolver costs at most `timeout`.
public enum DNSSRV {
    public struct Record: Sendable, Hashable {
        public var priority: UInt16
        public var weight: UInt16
        public var port: Int
        public var target: String

        public init(priority: UInt16, weight: UInt16, port: Int, target: String) {
            self.priority = priority
            self.weight = weight
            self.port = port
            self.target = target
        }
    }

    public enum ParseError: Error, Sendable, Hashable {
        case truncated
        case notAResponse
        case idMismatch
        case badName
    }

    /// Looks up SRV records for `name`, ordered by priority then weight (highest weight first).
    /// Returns [] when there is no answer (the caller falls back to the domain: RFC 6120 §3.2.2, RFC 3263 §4.2).
    public static func lookup(_ name: String, timeout: Duration = .milliseconds(1500)) -> [Record] {
        guard let server = nameserver() else { return [] }
        let id = UInt16.random(in: 0...UInt16.max)
        guard let query = try? makeQuery(name: name, id: id),
              let response = exchange(query, server: server, timeout: timeout),
              let records = try? parseResponse(response, id: id) else { return [] }
        return records.sorted { ($0.priority, UInt16.max - $0.weight) < ($1.priority, UInt16.max - $1.weight) }
    }

    /// An IPv4 dotted quad or an IPv6 literal (with or without brackets): a host that needs no lookup, SRV or
    /// otherwise (RFC 3263 §4.2, RFC 6120 §4.9.3.19).
    public static func isIPLiteral(_ host: String) -> Bool {
        if host.contains(":") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.utf8.allSatisfy { (0x30...0x39).contains($0) } && Int(part)! <= 255
        }
    }

    /// RFC 1035 §4.1: header (recursion desired), one question of type SRV (33), class IN.
    public static func makeQuery(name: String, id: UInt16) throws(ParseError) -> [UInt8] {
        var out: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") {
            let bytes = Array(label.utf8)
            guard !bytes.isEmpty, bytes.count < 64 else { throw .badName }
            out.append(UInt8(bytes.count))
            out += bytes
        }
        out += [0, 0, 33, 0, 1]
        return out
    }

    /// Reads the SRV answers of a response (RFC 2782 RDATA: priority, weight, port, target).
    public static func parseResponse(_ message: [UInt8], id: UInt16) throws(ParseError) -> [Record] {
        guard message.count >= 12 else { throw .truncated }
        guard UInt16(message[0]) << 8 | UInt16(message[1]) == id else { throw .idMismatch }
        guard message[2] & 0x80 != 0 else { throw .notAResponse }
        let questions = Int(message[4]) << 8 | Int(message[5])
        let answers = Int(message[6]) << 8 | Int(message[7])
        var offset = 12
        for _ in 0..<questions {
            _ = try readName(message, &offset)
            offset += 4
        }
        var records: [Record] = []
        for _ in 0..<answers {
            _ = try readName(message, &offset)
            guard offset + 10 <= message.count else { throw .truncated }
            let type = Int(message[offset]) << 8 | Int(message[offset + 1])
            let length = Int(message[offset + 8]) << 8 | Int(message[offset + 9])
            offset += 10
            guard offset + length <= message.count else { throw .truncated }
            if type == 33, length >= 7 {
                var at = offset + 6
                let target = try readName(message, &at)
                records.append(Record(priority: UInt16(message[offset]) << 8 | UInt16(message[offset + 1]),
                                      weight: UInt16(message[offset + 2]) << 8 | UInt16(message[offset + 3]),
                                      port: Int(message[offset + 4]) << 8 | Int(message[offset + 5]),
                                      target: target))
            }
            offset += length
        }
        // RFC 2782: a single record with target "." means the service is not available.
        return records.filter { $0.target != "" && $0.target != "." }
    }

    /// A possibly compressed name (RFC 1035 §4.1.4).
    private static func readName(_ message: [UInt8], _ offset: inout Int) throws(ParseError) -> String {
        var labels: [String] = []
        var at = offset
        var jumped = false
        var hops = 0
        while true {
            guard at < message.count else { throw .truncated }
            let length = Int(message[at])
            if length == 0 {
                at += 1
                break
            }
            if length & 0xC0 == 0xC0 {
                guard at + 1 < message.count, hops < 32 else { throw .badName }
                let pointer = (length & 0x3F) << 8 | Int(message[at + 1])
                if !jumped { offset = at + 2 }
                jumped = true
                hops += 1
                at = pointer
                continue
            }
            guard at + 1 + length <= message.count else { throw .truncated }
            labels.append(String(decoding: message[(at + 1)..<(at + 1 + length)], as: UTF8.self))
            at += 1 + length
        }
        if !jumped { offset = at }
        return labels.joined(separator: ".")
    }

    private static func nameserver() -> String? {
        guard let text = try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if parts.count >= 2, parts[0] == "nameserver", !parts[1].contains(":") { return String(parts[1]) }
        }
        return nil
    }

    private static func exchange(_ query: [UInt8], server: String, timeout: Duration) -> [UInt8]? {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_DGRAM, 0)
        #endif
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout.components.seconds),
                         tv_usec: .init(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(53).bigEndian
        guard inet_pton(AF_INET, server, &address.sin_addr) == 1 else { return nil }
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, query, query.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard sent == query.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let received = recv(fd, &buffer, buffer.count, 0)
        guard received > 0 else { return nil }
        return Array(buffer.prefix(received))
    }
}
