import Testing
@testable import FileTransfer

/// Hostile and ordinary offered names (XEP-0234 §13).
struct FileNameTests {
    static let cases: [(offered: String, safe: String)] = [
        ("report.pdf", "report.pdf"),
        ("../../x", "x"),
        ("/etc/x", "x"),
        ("/etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("C:\\temp\\a.txt", "a.txt"),
        ("a\u{0}b", "ab"),
        ("line\nbreak\r.txt", "linebreak.txt"),
        (".bashrc", "bashrc"),
        ("...hidden", "hidden"),
        ("trailing. . .", "trailing"),
        ("photo\u{202E}gnp.exe", "photognp.exe"),    // RIGHT-TO-LEFT OVERRIDE would show "photoexe.png"
        ("  spaced name.txt  ", "spaced name.txt"),
        ("日本語のファイル.txt", "日本語のファイル.txt"),
        ("dir/", "dir"),
        ("a/b/c/d.tar.gz", "d.tar.gz"),
        ("\u{7F}del\u{85}c1", "delc1"),
    ]

    @Test(arguments: zip(cases.map(\.offered), cases.map(\.safe)))
    func sanitizeGivesTheExpectedName(_ offered: String, _ safe: String) throws {
        let result = try FileName.sanitize(offered)
        #expect(result == safe)
        #expect(!result.contains("/") && !result.contains("\\") && !result.hasPrefix("."))
    }

    @Test(arguments: ["", "..", ".", "/", "../", "\u{0}", "//..//..", " . "])
    func nothingUsableIsAnError(_ offered: String) {
        #expect(throws: FileTransferError.self) { try FileName.sanitize(offered) }
    }

    @Test func longNamesAreCutKeepingTheExtension() throws {
        let long = String(repeating: "ä", count: 300) + ".pdf"   // 604 bytes
        let safe = try FileName.sanitize(long)
        #expect(safe.utf8.count <= FileName.defaultMaxBytes)
        #expect(safe.hasSuffix(".pdf"))
        #expect(safe.hasPrefix("ääää"))
    }

    @Test func alternatives() {
        #expect(FileName.alternative("report.pdf", 1) == "report (1).pdf")
        #expect(FileName.alternative("README", 2) == "README (2)")
    }
}
