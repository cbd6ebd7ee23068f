#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// Address rules of the gateway: `sip:(.+)@127.0.0.1 -> \1@localhost`. A rule is written in the SIP -> XMPP
/// direction; the reverse direction is derived from it when the replacement is a plain `\N` template (the
/// usual `user@domain` swap), so one rule serves both ways (draft-ietf-stox-core §5 address mapping).
public struct GatewayAddressMap: Sendable {
    public struct Rule: Sendable, CustomStringConvertible {
        public let pattern: String
        public let replacement: String
        public var description: String { "\(pattern) -> \(replacement)" }

        /// Parses `PATTERN -> REPLACEMENT`.
        public init(_ text: String) throws(GatewayError) {
            let parts = text.split(separator: "->", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw .invalidRule(text, "expected 'PATTERN -> REPLACEMENT'") }
            let pattern = String(parts[0].trimmingBlanks), replacement = String(parts[1].trimmingBlanks)
            guard !pattern.isEmpty, !replacement.isEmpty else { throw .invalidRule(text, "empty pattern or replacement") }
            guard Self.regex(pattern) != nil else { throw .invalidRule(text, "pattern is not a regular expression") }
            self.pattern = pattern
            self.replacement = replacement
        }

        /// `pattern` as a case-insensitive regular expression that must match all of the input, matching by
        /// Unicode scalar as ICU does (the standard library's Regex, so no Foundation is needed).
        static func regex(_ pattern: String) -> Regex<AnyRegexOutput>? {
            (try? Regex("^(?:" + pattern + ")$"))?.ignoresCase().matchingSemantics(.unicodeScalar)
        }

        /// The captures (0: the whole match) of `pattern` on all of `input`; nil when it does not match.
        /// Compiled patterns are kept (compiling costs ~50 µs, matching ~2 µs, and every call applies rules);
        /// a Regex is not Sendable, so it is only ever used under the cache's lock.
        static func captures(pattern: String, in input: String) -> [String?]? {
            compiledRules.withLock { cache -> [String?]? in
                let regex: Regex<AnyRegexOutput>
                if let cached = cache[pattern] {
                    regex = cached
                } else {
                    guard let compiled = Self.regex(pattern) else { return nil }
                    if cache.count < 256 { cache[pattern] = compiled }
                    regex = compiled
                }
                guard let match = try? regex.wholeMatch(in: input) else { return nil }
                return match.output.map { $0.substring.map(String.init) }
            }
        }

        /// Applies `pattern` to `input` (anchored); nil when it does not match.
        static func apply(pattern: String, template: String, to input: String) -> String? {
            guard let output = captures(pattern: pattern, in: input) else { return nil }
            var out = ""
            var chars = template[...]
            while let c = chars.first {
                chars = chars.dropFirst()
                if c == "\\", let d = chars.first, let n = d.wholeNumberValue {
                    chars = chars.dropFirst()
                    if n < output.count, let captured = output[n] { out += captured }
                } else {
                    out.append(c)
                }
            }
            return out
        }

        /// `c` as a literal in a pattern: regex metacharacters get a backslash.
        static func escaped(_ c: Character) -> String {
            "\\^$.|?*+()[]{}/".contains(c) ? "\\" + String(c) : String(c)
        }

        /// The reverse rule: the replacement becomes the pattern (its `\N` turn into capture groups) and the
        /// pattern's capture groups become `\N` in order. Works for the literal-plus-groups rules gateways use.
        func reversed() -> (pattern: String, template: String)? {
            var revPattern = ""
            var chars = replacement[...]
            var groups: [Int] = []
            while let c = chars.first {
                chars = chars.dropFirst()
                if c == "\\", let d = chars.first, let n = d.wholeNumberValue {
                    chars = chars.dropFirst()
                    groups.append(n)
                    revPattern += "(.+)"
                } else {
                    revPattern += Self.escaped(c)
                }
            }
            // Rebuild the template from the forward pattern: each top-level group `( … )` becomes `\k`.
            var template = ""
            var depth = 0
            var groupIndex = 0
            var escaped = false
            for c in pattern {
                if escaped { if depth == 0 { template.append(c) }; escaped = false; continue }
                switch c {
                case "\\": escaped = true
                case "(":
                    if depth == 0 {
                        groupIndex += 1
                        guard let position = groups.firstIndex(of: groupIndex) else { return nil }
                        template += "\\\(position + 1)"
                    }
                    depth += 1
                case ")": depth -= 1
                case "^", "$": break
                default: if depth == 0 { template.append(c) }
                }
            }
            return (revPattern, template)
        }
    }

    /// SIP -> XMPP rules.
    public var rules: [Rule]
    /// XMPP -> SIP rules (`(.+)@jingle.localhost -> sip:\1@127.0.0.1:5070`); when empty the SIP -> XMPP
    /// rules are used backwards.
    public var reverseRules: [Rule]

    public init(rules: [Rule], reverseRules: [Rule] = []) {
        self.rules = rules
        self.reverseRules = reverseRules
    }

    /// `sip:alice@127.0.0.1` -> `alice@localhost` (first matching rule).
    public func jid(forSIP uri: String) -> String? {
        for rule in rules {
            if let out = Rule.apply(pattern: rule.pattern, template: rule.replacement, to: uri) { return out }
        }
        return nil
    }

    /// `alice@localhost` -> `sip:alice@127.0.0.1` (first rule whose reverse matches).
    public func sipURI(forJID jid: String) -> String? {
        for rule in reverseRules {
            if let out = Rule.apply(pattern: rule.pattern, template: rule.replacement, to: jid) { return out }
        }
        for rule in rules {
            guard let reverse = rule.reversed() else { continue }
            if let out = Rule.apply(pattern: reverse.pattern, template: reverse.template, to: jid) { return out }
        }
        return nil
    }
}

public enum GatewayError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidRule(String, String)
    case noMapping(String)
    case invalidSDP(String)
    case unsupported(String)
    /// Options that cannot work together (e.g. anchored media on a wildcard address without --media-address).
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .invalidRule(let rule, let why): "invalid --map rule '\(rule)': \(why)"
        case .noMapping(let address): "no --map rule matches '\(address)'"
        case .invalidSDP(let why): "cannot map the session description: \(why)"
        case .unsupported(let what): "unsupported: \(what)"
        case .invalidConfiguration(let what): what
        }
    }
}

/// Compiled rule patterns, by pattern text (see `GatewayAddressMap.Rule.captures`).
private let compiledRules = Mutex<[String: Regex<AnyRegexOutput>]>([:])

extension Substring {
    /// Without leading and trailing spaces and tabs.
    var trimmingBlanks: Substring {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else { return "" }
        return self[first...last]
    }
}
