import Foundation
import Testing

/// The SendFile sample: a real transfer between two in-process engines, checked by its own summary.
@Suite("Samples: SendFile")
struct SendFileTests {
    static func value(_ prefix: String, in output: String) -> String? {
        output.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    @Test func sendsAGeneratedFileAndVerifiesIt() throws {
        let result = try SampleRunner.run("SendFile", ["--size", "1048577"])   // not a multiple of any chunk size
        #expect(result.status == 0, "stderr: \(result.stderr)\nstdout: \(result.stdout)")
        #expect(result.stdout.contains("peer link: sender@localhost/sample -> receiver@localhost/sample on 127.0.0.1:"))
        #expect(result.stdout.contains("offer: sample.bin (1048577 bytes) from sender@localhost/sample"))
        #expect(result.stdout.contains("received sample.bin: 1.0 MiB, confirmed by the receiver: yes"))
        let original = try #require(Self.value("sha-256 original: ", in: result.stdout))
        let received = try #require(Self.value("sha-256 received: ", in: result.stdout))
        #expect(original.count == 64 && original.allSatisfy(\.isHexDigit))
        #expect(received == original)
        #expect(result.stdout.contains("result: ok, 1048577 bytes, hash verified"))
    }

    @Test func sendsAGivenFile() throws {
        let path = NSTemporaryDirectory() + "sendfile-\(UUID().uuidString).txt"
        let text = String(repeating: "Jingle file transfer, XEP-0234.\n", count: 5000)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try SampleRunner.run("SendFile", [path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let name = URL(fileURLWithPath: path).lastPathComponent
        #expect(result.stdout.contains("offer: \(name) (\(text.utf8.count) bytes)"))
        #expect(result.stdout.contains("result: ok, \(text.utf8.count) bytes, hash verified"))
        // The original is left alone.
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
    }

    @Test(arguments: [
        (["--size"], Int32(64), "--size needs"),
        (["--size", "0"], Int32(64), "--size needs"),
        (["--bogus"], Int32(64), "unknown option"),
        (["a", "b"], Int32(64), "too many arguments"),
        (["/nonexistent/file"], Int32(1), "cannot read /nonexistent/file"),
    ])
    func rejectsBadInvocations(arguments: [String], status: Int32, message: String) throws {
        let result = try SampleRunner.run("SendFile", arguments)
        #expect(result.status == status)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
