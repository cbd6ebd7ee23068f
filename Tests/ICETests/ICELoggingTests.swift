import ICE
import Logging
import Synchronization
import Testing

/// Collects log records in memory.
struct CapturingLogHandler: LogHandler {
    final class Store: Sendable {
        let records = Mutex<[(Logger.Level, String, String)]>([])
    }
    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let domain = event.metadata?["domain"].map { "\($0)" } ?? ""
        store.records.withLock { $0.append((event.level, event.message.description, domain)) }
    }
}

@Suite("libnice logging into swift-log", .serialized)
struct ICELoggingTests {
    @Test("with debugLogging, libnice's GLib debug output arrives in the swift-log logger")
    func libniceDebugRouted() async throws {
        let store = CapturingLogHandler.Store()
        let previous = ICEAgent.libniceLogger
        ICEAgent.libniceLogger = Logger(label: "test.libnice") { _ in CapturingLogHandler(store: store) }
        defer { ICEAgent.libniceLogger = previous }

        var configuration = loopbackConfiguration(.controlling)
        configuration.debugLogging = true
        let agent = try ICEAgent(configuration: configuration)
        let stream = try await agent.addStream()
        try await agent.gatherCandidates(stream: stream)
        await agent.close()

        let records = store.records.withLock { $0 }
        // libnice reports the gathering it just did (agent.c: "starting candidate gathering").
        #expect(records.contains { $0.0 == .debug && $0.1.contains("gathering") && $0.2.hasPrefix("libnice") })
    }
}
