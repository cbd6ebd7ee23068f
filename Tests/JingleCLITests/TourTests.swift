import Foundation
import Testing

/// README.md's quick tour, run as written by scripts/tour against the built `jingle`: keeps README true.
@Suite("README tour", .serialized)
struct TourTests {
    @Test(.timeLimit(.minutes(3))) func everyTourCommandDoesWhatREADMESays() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [repository.appendingPathComponent("scripts/tour").path, "--bin", CLI.executable.deletingLastPathComponent().path]
        let log = NSTemporaryDirectory() + "tour-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: log) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(150)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try handle.close()
        let output = try String(contentsOfFile: log, encoding: .utf8)
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(!output.contains("FAIL"), "\(output)")
        #expect(output.contains("tour: all "), "\(output)")
        // Every section of the tour ran.
        for section in ["Send a file with no server at all", "Through your own XMPP server", "Check an account", "Place a call",
                        "a call between two SDP endpoints", "Convert SDP and Jingle", "SIP<->XMPP gateway", "Every README tour command was run"] {
            #expect(output.contains(section), "\(section)")
        }
    }
}
