internal import COpenSSL

/// OpenSSL reports failures through a per-thread queue of error codes; this drains it into text.
enum OpenSSLErrorQueue {
    /// Returns and clears the queued errors, most recent last, joined by "; ".
    static func drain() -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            reasons.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return reasons.isEmpty ? "no OpenSSL error queued" : reasons.joined(separator: "; ")
    }

    static func clear() { ERR_clear_error() }
}
