import Foundation
import Testing
import XMLStream
import XMPPCore
@testable import Jingle

/// Fixture access through the test bundle (never the source tree at run time).
enum Fixtures {
    static func url(_ name: String, subdirectory: String = "Fixtures/xep-examples") -> URL? {
        let base = (name as NSString).deletingPathExtension
        let ext = (name as NSString).pathExtension
        return Bundle.module.url(forResource: base, withExtension: ext, subdirectory: subdirectory)
    }

    static func text(_ name: String) throws -> String {
        guard let url = url(name) else { throw FixtureError.missing(name) }
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// `file<TAB>caption` rows of INDEX.tsv.
    static func index() throws -> [(file: String, caption: String)] {
        try text("INDEX.tsv").split(separator: "\n").dropFirst().compactMap { line in
            let parts = line.split(separator: "\t", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        }
    }
}

enum FixtureError: Error { case missing(String) }

extension XMLElement {
    /// The element as a parser of pretty-printed XML would compare it: whitespace-only text between elements
    /// dropped, and indentation around the text of text-only elements (e.g. a fingerprint on its own line) trimmed.
    func normalizedForComparison() -> XMLElement {
        var copy = trimmingWhitespaceText()
        copy.children = copy.children.map { node in
            switch node {
            case .element(let e): .element(e.normalizedForComparison())
            case .text(let t): .text(t.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        return copy
    }
}

/// Builds a JID from a literal the test controls.
func jid(_ s: String) -> JID {
    do { return try JID(s) } catch { fatalError("bad test JID \(s): \(error)") }
}
