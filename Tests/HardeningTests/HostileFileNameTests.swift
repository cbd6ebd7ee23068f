import FileTransfer
import Testing

/// Offered file names (XEP-0234 §13) built from combining marks, which Swift's Character-level comparisons
/// see through: the bytes on disk are what matter.
@Suite struct HostileFileNameTests {
    @Test func slashFollowedByACombiningMarkStillSeparates() throws {
        #expect(try FileName.sanitize("etc/\u{302}passwd") == "\u{302}passwd")
        #expect(try FileName.sanitize("..\\\u{301}..\\\u{301}boot.ini") == "\u{301}boot.ini")
        for name in ["../\u{302}x", "/\u{302}etc/\u{302}passwd", "a\\\u{302}b"] {
            let safe = try FileName.sanitize(name)
            #expect(!safe.unicodeScalars.contains("/") && !safe.unicodeScalars.contains("\\"), "\(name.debugDescription) -> \(safe.debugDescription)")
        }
    }

    @Test func dotFollowedByACombiningMarkIsStillALeadingDot() throws {
        #expect(try FileName.sanitize(".\u{301}hidden") == "\u{301}hidden")
        #expect(try FileName.sanitize("name .\u{301}") == "name .\u{301}")
    }

    @Test func oneHugeGraphemeIsCutBetweenScalarsNotToNothing() throws {
        let huge = "a" + String(repeating: "\u{301}", count: 300)
        let safe = try FileName.sanitize(huge)
        #expect(safe.utf8.count <= FileName.defaultMaxBytes)
        #expect(safe.unicodeScalars.first == "a")
        let withExtension = try FileName.sanitize(huge + ".pdf")
        #expect(withExtension.hasSuffix(".pdf"))
        #expect(withExtension.unicodeScalars.first == "a")
        #expect(withExtension.utf8.count <= FileName.defaultMaxBytes)
    }

    @Test func onlyCombiningMarksOverTheLimit() throws {
        let safe = try FileName.sanitize(String(repeating: "\u{301}", count: 300))
        #expect(!safe.isEmpty)
        #expect(safe.utf8.count <= FileName.defaultMaxBytes)
    }

    @Test func anExtensionOfHugeGraphemesIsNotKeptWhole() throws {
        let ext = "." + String(repeating: "e" + String(repeating: "\u{301}", count: 20), count: 8)
        let safe = try FileName.sanitize("report" + ext, maxBytes: 64)
        #expect(safe.utf8.count <= 64)
        #expect(safe.hasPrefix("report"))
    }

    @Test func nothingUsableIsAnError() throws {
        #expect(throws: FileTransferError.invalidName(offered: "../.. /", reason: "nothing usable is left of the name")) {
            try FileName.sanitize("../.. /")
        }
        // The same sanitizer serves the next name.
        #expect(try FileName.sanitize("ok.txt") == "ok.txt")
    }
}
