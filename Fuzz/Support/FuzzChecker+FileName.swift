import FileTransfer

extension FuzzChecker {
    static let fileNameLimit = 64

    /// XEP-0234 §13: whatever a peer offers, the name we create is one safe path component within the limit,
    /// never hidden, never empty, and sanitizing it again changes nothing.
    func checkFileName(_ input: [UInt8]) throws(FuzzFailure) -> String {
        let offered = String(decoding: input, as: UTF8.self)
        let name: String
        do throws(FileTransferError) {
            name = try FileName.sanitize(offered, maxBytes: Self.fileNameLimit)
        } catch {
            return caseName(error)
        }
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first, let last = scalars.last else { throw fail("empty name from \(Array(offered.utf8).prefix(64))") }
        if name.utf8.count > Self.fileNameLimit { throw fail("name of \(name.utf8.count) bytes over the \(Self.fileNameLimit)-byte limit") }
        if first == "." || first == " " || last == "." || last == " " { throw fail("name starts or ends with a dot or space: \(name.debugDescription)") }
        for scalar in scalars {
            let category = scalar.properties.generalCategory
            if scalar == "/" || scalar == "\\" || category == .control || category == .format {
                throw fail("name keeps U+\(String(scalar.value, radix: 16)): \(name.debugDescription)")
            }
        }
        let again: String
        do throws(FileTransferError) {
            again = try FileName.sanitize(name, maxBytes: Self.fileNameLimit)
        } catch {
            throw fail("a sanitized name is refused: \(name.debugDescription)")
        }
        guard again == name else { throw fail("not idempotent: \(name.debugDescription) -> \(again.debugDescription)") }
        return name.contains(".") ? "ok.ext" : "ok"
    }
}
