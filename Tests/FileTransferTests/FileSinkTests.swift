import Foundation
import Testing
import Hashes
@testable import FileTransfer

/// The receiving side: `.part` files, verification, no overwrite, resume, limits, a full disk.
struct FileSinkTests {
    /// A fresh directory per test, removed afterwards.
    final class TempDir {
        let path: String
        init() {
            path = NSTemporaryDirectory() + "sj-sink-" + UUID().uuidString
            try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        var contents: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
    }

    static func pattern(_ count: Int, seed: UInt8 = 1) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    @Test func receivesVerifiesAndRenames() throws {
        let dir = TempDir()
        let data = Self.pattern(100_000)
        let sink = try FileSink(directory: dir.path, offeredName: "../../evil/report.bin", expectedSize: UInt64(data.count))
        for chunk in stride(from: 0, to: data.count, by: 7000) { try sink.write(Array(data[chunk..<min(chunk + 7000, data.count)])) }
        #expect(dir.contents == ["report.bin.part"])
        let path = try sink.finish(expectedHash: Digest.hash(.sha256, data))
        #expect(path == dir.path + "/report.bin")
        #expect(dir.contents == ["report.bin"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(data))
    }

    @Test func zeroByteFile() throws {
        let dir = TempDir()
        let sink = try FileSink(directory: dir.path, offeredName: "empty", expectedSize: 0)
        try sink.finish(expectedHash: Digest.hash(.sha256, []))
        #expect(dir.contents == ["empty"])
    }

    @Test func hashMismatchKeepsNothing() throws {
        let dir = TempDir()
        let data = Self.pattern(5000)
        let sink = try FileSink(directory: dir.path, offeredName: "x.bin", expectedSize: 5000)
        try sink.write(data)
        var wrong = Digest.hash(.sha256, data)
        wrong[0] ^= 0xFF
        #expect(throws: FileTransferError.hashMismatch(algorithm: .sha256, expected: wrong, actual: Digest.hash(.sha256, data))) {
            try sink.finish(expectedHash: wrong)
        }
        #expect(dir.contents.isEmpty)
    }

    /// A sender that names only sha-1 (or sha-512): the `.part` is read back and hashed with it; a wrong one
    /// still keeps nothing.
    @Test(arguments: [HashAlgorithm.sha1, .sha512])
    func hashOfAnotherAlgorithmIsCheckedFromThePart(_ algorithm: HashAlgorithm) throws {
        let dir = TempDir()
        let data = Self.pattern(200_000, seed: 9)
        let sink = try FileSink(directory: dir.path, offeredName: "a.bin", expectedSize: UInt64(data.count))
        try sink.write(data)
        let path = try sink.finish(expectedHash: Digest.hash(algorithm, data), algorithm: algorithm)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(data))
        #expect(sink.currentDigest == Digest.hash(.sha256, data), "the running sha-256 is still that of the file")

        let other = TempDir()
        let bad = try FileSink(directory: other.path, offeredName: "b.bin", expectedSize: UInt64(data.count))
        try bad.write(data)
        var wrong = Digest.hash(algorithm, data)
        wrong[wrong.count - 1] ^= 1
        #expect(throws: FileTransferError.hashMismatch(algorithm: algorithm, expected: wrong, actual: Digest.hash(algorithm, data))) {
            try bad.finish(expectedHash: wrong, algorithm: algorithm)
        }
        #expect(other.contents.isEmpty)
    }

    @Test func moreBytesThanOfferedIsRefused() throws {
        let dir = TempDir()
        let sink = try FileSink(directory: dir.path, offeredName: "x", expectedSize: 10)
        try sink.write(Self.pattern(8))
        #expect(throws: FileTransferError.sizeMismatch(expected: 10, received: 13)) { try sink.write(Self.pattern(5)) }
        #expect(throws: FileTransferError.sizeMismatch(expected: 10, received: 8)) { try sink.finish(expectedHash: []) }
    }

    @Test func offersOverTheLimitAreRefusedBeforeAnythingIsWritten() throws {
        let dir = TempDir()
        let oneTerabyte: UInt64 = 1 << 40
        #expect(throws: FileTransferError.tooLarge(size: oneTerabyte, limit: 1 << 30)) {
            try FileSink(directory: dir.path, offeredName: "huge", expectedSize: oneTerabyte, maxSize: 1 << 30)
        }
        #expect(dir.contents.isEmpty)
    }

    @Test func anExistingFileIsNeverOverwritten() throws {
        let dir = TempDir()
        try Data("precious".utf8).write(to: URL(fileURLWithPath: dir.path + "/a.txt"))
        for expected in ["a (1).txt", "a (2).txt"] {
            let data = Self.pattern(10)
            let sink = try FileSink(directory: dir.path, offeredName: "a.txt", expectedSize: 10)
            try sink.write(data)
            #expect(try sink.finish(expectedHash: Digest.hash(.sha256, data)) == dir.path + "/" + expected)
        }
        #expect(try String(contentsOfFile: dir.path + "/a.txt", encoding: .utf8) == "precious")
        #expect(dir.contents == ["a (1).txt", "a (2).txt", "a.txt"])
    }

    @Test func aPlantedSymlinkIsNotFollowed() throws {
        let dir = TempDir()
        let outside = TempDir()
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/x.part", withDestinationPath: outside.path + "/target")
        #expect(throws: FileTransferError.self) { try FileSink(directory: dir.path, offeredName: "x", expectedSize: 1) }
        #expect(outside.contents.isEmpty)
    }

    @Test func resumeContinuesAndVerifiesTheWholeFile() throws {
        let dir = TempDir()
        let data = Self.pattern(300_000)
        do {
            let first = try FileSink(directory: dir.path, offeredName: "big.bin", expectedSize: 300_000)
            try first.write(Array(data[0..<123_456]))
            first.abort(keepPartial: true)   // receiver killed halfway
        }
        #expect(dir.contents == ["big.bin.part"])
        let second = try FileSink(directory: dir.path, offeredName: "big.bin", expectedSize: 300_000, resume: true)
        #expect(second.resumeOffset == 123_456)
        try second.write(Array(data[123_456...]))
        try second.finish(expectedHash: Digest.hash(.sha256, data))
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.path + "/big.bin")) == Data(data))
    }

    @Test func missingDirectory() {
        #expect(throws: FileTransferError.notADirectory("/nonexistent/dir")) {
            try FileSink(directory: "/nonexistent/dir", offeredName: "x", expectedSize: 1)
        }
    }

    /// A real full disk: a 256 KiB tmpfs mounted for the test (the tests run as root, as CI does).
    @Test func diskFullAbortsCleanlyAndKeepsThePartForResume() throws {
        let dir = TempDir()
        #expect(getuid() == 0, "this test mounts a tmpfs and needs root, as CI has")
        #expect(Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir.path]) == 0)
        defer { _ = Self.run("/bin/umount", [dir.path]) }
        let sink = try FileSink(directory: dir.path, offeredName: "big", expectedSize: 1 << 20)
        var failure: FileTransferError?
        do {
            for _ in 0..<64 { try sink.write(Self.pattern(16 << 10)) }
        } catch {
            failure = error
        }
        guard case .diskFull(let part, let received)? = failure else {
            Issue.record("expected diskFull, got \(String(describing: failure))"); return
        }
        #expect(part == dir.path + "/big.part")
        #expect(received > 0 && received <= 256 << 10)
        sink.abort(keepPartial: true)
        #expect(dir.contents == ["big.part"])
    }

    static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

struct FileSourceTests {
    @Test func readsRangesAndHashesWhileReading() throws {
        let dir = FileSinkTests.TempDir()
        let data = FileSinkTests.pattern(200_000)
        let path = dir.path + "/src.bin"
        try Data(data).write(to: URL(fileURLWithPath: path))
        let whole = try FileSource(path: path)
        var read: [UInt8] = []
        while case let chunk = try whole.read(max: 65_536), !chunk.isEmpty { read += chunk }
        #expect(read == data)
        #expect(whole.digestOfDelivered == Digest.hash(.sha256, data))
        #expect(try FileSource.hash(path: path) == Digest.hash(.sha256, data))

        let tail = try FileSource(path: path, offset: 150_000)
        var rest: [UInt8] = []
        while case let chunk = try tail.read(), !chunk.isEmpty { rest += chunk }
        #expect(rest == Array(data[150_000...]))

        let middle = try FileSource(path: path, offset: 10, length: 20)
        #expect(try middle.read() == Array(data[10..<30]))
        #expect(try middle.read().isEmpty)

        #expect(throws: FileTransferError.invalidRange(offset: 300_000, length: nil, size: 200_000)) { try FileSource(path: path, offset: 300_000) }
        #expect(throws: FileTransferError.invalidRange(offset: 100, length: 199_950, size: 200_000)) { try FileSource(path: path, offset: 100, length: 199_950) }
    }

    @Test func describeGivesNameSizeAndHash() throws {
        let dir = FileSinkTests.TempDir()
        let path = dir.path + "/notes.txt"
        try Data("hello".utf8).write(to: URL(fileURLWithPath: path))
        let description = try FileSource.describe(path: path, withHash: true)
        #expect(description.name == "notes.txt" && description.size == 5)
        #expect(description.hashes[.sha256] == Digest.hash(.sha256, Array("hello".utf8)))
        #expect(description.modified != nil)
    }

    @Test func directoriesAndMissingFilesAreRefused() {
        #expect(throws: FileTransferError.self) { try FileSource(path: "/tmp") }
        #expect(throws: FileTransferError.self) { try FileSource(path: "/nonexistent/file") }
    }
}
