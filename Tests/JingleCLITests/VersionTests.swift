import Testing

struct VersionTests {
    @Test func versionNamesEveryCLibrary() throws {
        for arguments in [["--version"], ["version"]] {
            let result = try CLI.run(arguments)
            #expect(result.status == 0)
            for library in ["SwiftJingle", "libxml2 2.", "OpenSSL 3.", "libsrtp2 2.", "libnice 0.1.", "GLib 2."] {
                #expect(result.stdout.contains(library), "\(arguments): \(result.stdout)")
            }
        }
    }

    @Test func helpListsSubcommandsAndExitCodes() throws {
        let result = try CLI.run(["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE: jingle"))
        #expect(result.stdout.contains("version"))
        #expect(result.stdout.contains("Exit codes"))
    }

    @Test func unknownSubcommandIsAUsageError() throws {
        let result = try CLI.run(["frobnicate"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("Error"))
    }
}
