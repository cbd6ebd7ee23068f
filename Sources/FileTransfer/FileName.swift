/// Turning a file name offered by a peer (XEP-0234 `<name/>`) into one that is safe to create.
///
/// XEP-0234 §13 (Security Considerations): the name comes from the network and must not let the
/// sender choose where the file lands. The rules, applied in order:
/// 1. only the last path component is kept (both `/` and `\` separate components), so `../../x`,
///    `/etc/x` and `C:\x` all become `x`;
/// 2. control characters (C0, DEL, C1), NUL, and the bidirectional-override and other format characters
///    that can disguise an extension are removed;
/// 3. leading dots and spaces are removed (no hidden files, no `..`), as are trailing dots and spaces;
/// 4. the result is cut to `maxBytes` of UTF-8 on a character boundary, keeping a short extension;
/// 5. an empty result is an error: nothing is guessed.
public enum FileName {
    /// The longest name most Linux file systems accept (NAME_MAX), less room for `.part` and a ` (N)`.
    public static let defaultMaxBytes = 200

    public static func sanitize(_ offered: String, maxBytes: Int = defaultMaxBytes) throws(FileTransferError) -> String {
        // 1. Last path component.
        // Split on scalars, not Characters: "/" followed by a combining mark is one Character that is not "/",
        // yet its "/" byte still separates path components on disk.
        let lastComponent = offered.unicodeScalars.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "/" || $0 == "\\" })
            .last.map { String(String.UnicodeScalarView($0)) } ?? ""
        // 2. Characters that must never reach the file system or fool a reader.
        var scalars = String.UnicodeScalarView()
        for scalar in lastComponent.unicodeScalars {
            let category = scalar.properties.generalCategory
            if category == .control || category == .format || category == .lineSeparator
                || category == .paragraphSeparator || category == .surrogate || category == .unassigned {
                continue
            }
            scalars.append(scalar)
        }
        var name = String(scalars)
        // 3. No hidden files, no "." or "..", no trailing dots or spaces.
        // On scalars too: "." followed by a combining mark is still a leading dot on disk.
        name = trimmingDotsAndSpaces(name)
        if name.isEmpty { throw .invalidName(offered: offered, reason: "nothing usable is left of the name") }
        // 4. Length limit on a character boundary, keeping the extension when it is short.
        if name.utf8.count > maxBytes {
            var stem = name
            var ext = ""
            if let dot = name.lastIndex(of: "."), name.distance(from: dot, to: name.endIndex) <= 16,
               name[dot...].utf8.count <= maxBytes / 2 {
                stem = String(name[..<dot])
                ext = String(name[dot...])
            }
            let budget = max(1, maxBytes - ext.utf8.count)
            var cut = ""
            for character in stem {
                if cut.utf8.count + String(character).utf8.count > budget { break }
                cut.append(character)
            }
            if cut.isEmpty {
                // The first Character alone is over the budget (a base letter with hundreds of combining marks):
                // cut between its scalars rather than leave only the extension, which would be a hidden file.
                var scalars = String.UnicodeScalarView()
                for scalar in stem.unicodeScalars {
                    if String(scalars).utf8.count + String(scalar).utf8.count > budget { break }
                    scalars.append(scalar)
                }
                cut = String(scalars)
            }
            name = trimmingDotsAndSpaces(cut + ext)
            if name.isEmpty { throw .invalidName(offered: offered, reason: "nothing usable is left of the name") }
        }
        return name
    }

    /// Rule 3, on Unicode scalars.
    private static func trimmingDotsAndSpaces(_ name: String) -> String {
        var scalars = Substring(name).unicodeScalars
        while let first = scalars.first, first == "." || first == " " { scalars.removeFirst() }
        while let last = scalars.last, last == "." || last == " " { scalars.removeLast() }
        return String(scalars)
    }

    /// The n-th alternative to `name` when `name` exists already: `report (1).pdf`, `report (2).pdf`, …
    public static func alternative(_ name: String, _ n: Int) -> String {
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            return "\(name[..<dot]) (\(n))\(name[dot...])"
        }
        return "\(name) (\(n))"
    }
}
