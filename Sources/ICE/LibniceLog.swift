internal import CNice
import Logging

/// Routes libnice's GLib log domains into swift-log. libnice logs through `g_log` with domain "libnice"
/// (debug output only after `nice_debug_enable(TRUE)`); GLib's default handler would print to stdout.
enum LibniceLog {
    static let logger = Logger(label: "swiftjingle.ice.libnice")

    /// Installs the handler once per process; warnings and errors always flow, debug only once enabled.
    static let installed: Void = {
        let levels = G_LOG_LEVEL_MASK.rawValue | G_LOG_FLAG_FATAL.rawValue | G_LOG_FLAG_RECURSION.rawValue
        for domain in ["libnice", "libnice-stun", "libnice-pseudotcp", "libnice-socket"] {
            g_log_set_handler(domain, GLogLevelFlags(rawValue: levels), { domain, level, message, _ in
                let text = message.map { String(cString: $0) } ?? ""
                let source = domain.map { String(cString: $0) } ?? "libnice"
                let flags = level.rawValue
                let swiftLevel: Logger.Level
                if flags & (G_LOG_LEVEL_ERROR.rawValue | G_LOG_LEVEL_CRITICAL.rawValue) != 0 {
                    swiftLevel = .error
                } else if flags & G_LOG_LEVEL_WARNING.rawValue != 0 {
                    swiftLevel = .warning
                } else if flags & (G_LOG_LEVEL_MESSAGE.rawValue | G_LOG_LEVEL_INFO.rawValue) != 0 {
                    swiftLevel = .info
                } else {
                    swiftLevel = .debug
                }
                LibniceLog.logger.log(level: swiftLevel, "\(text)", metadata: ["domain": "\(source)"])
            }, nil)
        }
    }()

    /// Turns on libnice's debug output (process-wide; libnice has no per-agent switch).
    static let debugEnabled: Void = {
        _ = installed
        nice_debug_enable(1)
    }()
}
