import ArgumentParser
import Foundation
import XMLStream

/// A one-line error for the user, with an optional hint; exits 1.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var hint: String?

    init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    var description: String { hint.map { "\(message) (hint: \($0))" } ?? message }
}

/// An address given on the command line: `host:port`, `[IPv6]:port` (RFC 3986 §3.2.2 brackets), or a
/// name. The one parser for every HOST:PORT option; a malformed address is a usage error (exit 64).
struct HostPort: Sendable, Hashable, CustomStringConvertible {
    var host: String
    var port: Int

    /// - Parameter anyPort: allow port 0 (a listener that takes whatever port is free).
    init(_ text: String, option: String, anyPort: Bool = false) throws(ValidationError) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ValidationError("\(option) '\(text)': expected [IPv6-address]:port, e.g. [::1]:5222")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else if let colon = text.lastIndex(of: ":") {
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            // An IPv6 literal's own colons make "::1:5222" ambiguous: the brackets are required.
            guard !hostPart.contains(":") else {
                throw ValidationError("\(option) '\(text)': put an IPv6 address in brackets, e.g. [::1]:5222")
            }
        } else {
            throw ValidationError("\(option) '\(text)': expected host:port, e.g. 127.0.0.1:5222 or [::1]:5222")
        }
        guard !hostPart.isEmpty, !hostPart.contains(where: \.isWhitespace), portPart.allSatisfy(\.isASCII),
              let port = Int(portPart), (anyPort ? 0 : 1)...65535 ~= port else {
            throw ValidationError("\(option) '\(text)': expected host:port with a port from \(anyPort ? 0 : 1) to 65535")
        }
        self.host = String(hostPart)
        self.port = port
    }

    /// The port for APIs that take a `UInt16` (validated to fit above).
    var port16: UInt16 { UInt16(port) }

    var description: String { Self.described(host: host, port: port) }

    /// `host:port`, with brackets around an IPv6 literal.
    static func described(host: String, port: Int) -> String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Reads a whole file, or standard input for "-".
func readInput(_ path: String) throws -> String {
    if path == "-" {
        return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
    }
    return try String(contentsOfFile: path, encoding: .utf8)
}

/// A tiny JSON writer for machine-readable output (stable key order, proper escaping).
enum JSONLine: CustomStringConvertible {
    case string(String)
    case number(Int)
    case double(Double)
    case bool(Bool)
    case array([JSONLine])
    case object([String: JSONLine])
    case null

    var description: String {
        switch self {
        case .string(let s): return Self.quote(s)
        case .number(let n): return String(n)
        case .double(let d): return d.isFinite ? String(d) : "null"
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let items): return "[" + items.map(\.description).joined(separator: ",") + "]"
        case .object(let fields):
            return "{" + fields.keys.sorted().map { Self.quote($0) + ":" + fields[$0]!.description }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}

/// Indented XML for people: elements whose children are all elements get one per line.
enum PrettyXML {
    static func format(_ element: XMLElement) -> String {
        var out = ""
        write(element.trimmingWhitespaceText(), indent: 0, inherited: "", into: &out)
        if out.hasSuffix("\n") { out.removeLast() }
        return out
    }

    private static func write(_ element: XMLElement, indent: Int, inherited: String, into out: inout String) {
        let pad = String(repeating: "  ", count: indent)
        let onlyElements = !element.children.isEmpty && element.children.allSatisfy { if case .element = $0 { true } else { false } }
        guard onlyElements else {
            out += pad + element.serialized(defaultNamespace: inherited) + "\n"
            return
        }
        var open = element
        open.children = []
        let tag = open.serialized(defaultNamespace: inherited)   // "<name .../>"
        out += pad + String(tag.dropLast(2)) + ">\n"
        for child in element.elements { write(child, indent: indent + 1, inherited: element.namespace, into: &out) }
        out += pad + "</\(element.name)>\n"
    }
}
