import Foundation

/// Writes `size` bytes from the kernel's random source to `path` (fast even in a debug build): test files
/// whose content no code path can predict, for transfers checked by hash.
public func writeRandomFile(_ path: String, size: Int) throws {
    let random = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom"))
    defer { try? random.close() }
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? out.close() }
    var remaining = size
    while remaining > 0 {
        let chunk = try random.read(upToCount: min(remaining, 1 << 20)) ?? Data()
        try out.write(contentsOf: chunk)
        remaining -= chunk.count
    }
}
