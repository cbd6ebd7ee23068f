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
        let lastComponent = offered.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
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
        while let first = name.first, first == "." || first == " " { name.removeFirst() }
        while let last = name.last, last == "." || last == " " { name.removeLast() }
        if name.isEmpty { throw .invalidName(offered: offered, reason: "nothing usable is left of the name") }
        // 4. Length limit on a character boundary, keeping the extension when it is short.
        if name.utf8.count > maxBytes {
            var stem = name
            var ext = ""
            if let dot = name.lastIndex(of: "."), name.distance(from: dot, to: name.endIndex) <= 16 {
                stem = String(name[..<dot])
                ext = String(name[dot...])
            }
            let budget = max(1, maxBytes - ext.utf8.count)
            var cut = ""
            for character in stem {
                if cut.utf8.count + String(character).utf8.count > budget { break }
                cut.append(character)
            }
            name = cut + ext
        }
        return name
    }

    /// The n-th alternative to `name` when `name` exists already: `report (1).pdf`, `report (2).pdf`, …
    public static func alternative(_ name: String, _ n: Int) -> String {
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            return "\(name[..<dot]) (\(n))\(name[dot...])"
        }
        return "\(name) (\(n))"
    }
}
