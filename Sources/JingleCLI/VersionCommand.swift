import ArgumentParser
internal import CLibXML2
internal import COpenSSL
internal import CSRTP
internal import CNice

/// Versions of SwiftJingle and of the C libraries it runs with.
enum VersionInfo {
    static let swiftJingle = "0.1.0"

    static var libraries: [(name: String, version: String)] {
        [
            ("libxml2", String(cString: sj_xmlParserVersion())),
            ("OpenSSL", String(cString: sj_OpenSSL_version_text())),
            ("libsrtp2", String(cString: srtp_get_version_string())),
            ("libnice", String(cString: sj_nice_version_text())),
            ("GLib", "\(sj_glib_major()).\(sj_glib_minor()).\(sj_glib_micro())"),
        ]
    }

    /// One "name version" line each; a library whose version text starts with its own name (OpenSSL's
    /// "OpenSSL 3.0.x …", libsrtp2's "libsrtp2 2.5.0") is not named twice.
    static var text: String {
        let lines = libraries.map { library -> String in
            library.version.hasPrefix(library.name + " ") ? library.version : "\(library.name) \(library.version)"
        }
        return (["SwiftJingle \(swiftJingle)"] + lines).joined(separator: "\n")
    }
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the versions of SwiftJingle and the C libraries in use.",
        discussion: "Examples:\n  jingle version\n  jingle --version"
    )

    func run() throws {
        print(VersionInfo.text)
    }
}
