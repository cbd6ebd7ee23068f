internal import CNice
import Logging
import Synchronization

/// Routes libnice's GLib log domains into swift-log. libnice logs through `g_log` with domain "libnice"
/// (debug output only after `nice_debug_enable(TRUE)`); GLib's default handler would print to stdout.
enum LibniceLog {
    /// Where libnice's messages go; replaceable (process-wide, like libnice's own log switch).
    static let current = Mutex(Logger(label: "swiftjingle.ice.libnice"))

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
                let logger = LibniceLog.current.withLock { $0 }
                logger.log(level: swiftLevel, "\(text)", metadata: ["domain": "\(source)"])
            }, nil)
        }
    }()

    /// How many live agents asked for debug output; libnice's switch is process-wide, so it is on while
    /// at least one such agent exists.
    private static let debugUsers = Mutex(0)

    static func retainDebug() {
        _ = installed
        debugUsers.withLock { count in
            if count == 0 { nice_debug_enable(1) }
            count += 1
        }
    }

    static func releaseDebug() {
        debugUsers.withLock { count in
            guard count > 0 else { return }
            count -= 1
            if count == 0 { nice_debug_disable(1) }
        }
    }
}
