import Foundation

/// Runs a built sample executable; SwiftPM puts it beside the test bundle in the build directory.
enum SampleRunner {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    struct NotBuilt: Error, CustomStringConvertible {
        let name: String
        var description: String { "sample executable '\(name)' not found above \(Bundle.main.bundleURL.path)" }
    }

    static func executable(_ name: String) throws -> URL {
        var directory = Bundle.main.bundleURL
        while !FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent(name).path),
              directory.pathComponents.count > 1 {
            directory.deleteLastPathComponent()
        }
        let url = directory.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else { throw NotBuilt(name: name) }
        return url
    }

    static func run(_ name: String, _ arguments: [String] = [], stdin: String? = nil, timeout: TimeInterval = 20) throws -> Result {
        let process = Process()
        process.executableURL = try executable(name)
        process.arguments = arguments
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Drain both pipes while the process runs so a large output cannot block it.
        nonisolated(unsafe) var outData = Data(), errData = Data()
        let group = DispatchGroup()
        group.enter(); DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter(); DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        group.wait()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}
