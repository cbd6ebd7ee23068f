import ArgumentParser
import Foundation
import Jingle
import JingleEngine
import XMPPCore
#if canImport(Glibc)
import Glibc
#endif

/// `jingle receive`: waits for a file offer (XEP-0234) and receives it, keeping a file only when its hash
/// matches.
struct ReceiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receive",
        abstract: "Receive files sent with Jingle file transfer (XEP-0234) into a directory.",
        discussion: """
        Nothing is accepted without consent: give --yes, or --accept-from JID (repeatable); other offers are \
        declined. Offered names are reduced to a safe base name inside --dir; bytes go into NAME.part, which \
        becomes NAME only after the sha-256 matches (a mismatch deletes it and ends the session with \
        media-error). An existing file is never overwritten: the new one is saved as "NAME (1)" etc. \
        --resume continues a NAME.part left by an interrupted receive (XEP-0234 §7 range).

        One session is handled, then the command exits. With --keep-listening sessions are handled until \
        SIGINT/SIGTERM; on --listen every new connection is accepted (several at once are served side by \
        side). A summary line follows on standard error.

        --request NAME (or --request-hash HASH) pulls a file instead (XEP-0234 §5): the peer, running \
        `jingle send --serve FILE...`, sends it if it serves a file of that name or hash; everything else \
        (sanitised name in --dir, NAME.part, hash check, --resume, --max-size, progress) is as for an \
        offer. Reach the peer with --peer ADDR:PORT (its --listen) or, with an account, --from JID.

        Exit status: 0 only when every offered (or requested) file was received and verified, 1 otherwise \
        (declined, refused, too large, hash mismatch, transport failure, no space left on device), 64 on a \
        usage error. With --keep-listening: 0 when every session succeeded and none was cut short by the \
        signal (nothing lost), 1 otherwise.

        Examples:
          jingle receive --listen 127.0.0.1:5299 --dir ~/Downloads --yes
          jingle receive --jid bob@example.org --password-file pw --dir in --accept-from alice@example.org
          jingle receive --listen 127.0.0.1:5299 --dir in --yes --resume --max-size 10G
          jingle receive --listen 127.0.0.1:5299 --dir in --yes --keep-listening
          jingle receive --request report.pdf --peer 127.0.0.1:5299 --dir in
          jingle receive --request-hash sha-256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 --from alice@example.org/laptop --jid bob@example.org --password-file pw --dir in
        """
    )

    @Option(help: ArgumentHelp("Where received files go.", valueName: "DIR"))
    var dir: String
    @Flag(help: "Accept every offer.")
    var yes = false
    @Option(name: .customLong("accept-from"), help: ArgumentHelp("Accept offers from this JID (bare or full; repeatable).", valueName: "JID"))
    var acceptFrom: [String] = []
    @Option(name: .customLong("max-size"), help: ArgumentHelp("Decline files larger than this (bytes, or with K/M/G/T).", valueName: "SIZE"))
    var maxSize: String?
    @Flag(help: "Continue NAME.part files from an interrupted receive.")
    var resume = false
    @Flag(name: .customLong("keep-listening"), help: "Handle sessions until interrupted instead of exiting after one.")
    var keepListening = false
    @OptionGroup var pull: RequestOptions
    @OptionGroup var link: LinkOptions
    @OptionGroup var ice: ICEOptions

    func validate() throws {
        try link.validate(defaultLocal: "receiver@localhost/jingle", serverless: pull.isActive ? "--peer" : "--listen")
        try pull.validate(keepListening: keepListening, link: link)
        try ice.validate()
        if let maxSize { _ = try Self.parseSize(maxSize) }
        for j in acceptFrom { _ = try JID(j) }
    }

    static func parseSize(_ text: String) throws -> UInt64 {
        let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = text.uppercased()
        if digits.hasSuffix("IB") { digits.removeLast(2) } else if digits.hasSuffix("B") { digits.removeLast() }
        var scale: UInt64 = 1
        if let last = digits.last, let unit = units[last] { scale = unit; digits.removeLast() }
        guard let value = UInt64(digits), value <= UInt64.max / scale else { throw ValidationError("--max-size: expected a size like 500M, got '\(text)'") }
        return value * scale
    }

    func run() async throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw CLIError("\(dir) is not a directory", hint: "create it first")
        }
        let options = try ice.transferOptions()
        let policy = JingleFileTransfer.ReceivePolicy(directory: dir, acceptAll: yes, acceptFrom: try acceptFrom.map { try JID($0) },
                                                      maxSize: try maxSize.map(Self.parseSize), resume: resume)
        if pull.isActive { return try await runRequest(policy: policy, options: options) }
        if keepListening { return try await runKeepListening(policy: policy, options: options) }
        let reporter = ProgressReporter(json: ice.json)
        let session = try await link.open(role: .responder)
        if link.listen == nil { FileHandle.standardError.write(Data("receive: logged in as \(session.local), waiting for offers\n".utf8)) }
        let engine = JingleEngine(link: session.link, localJID: session.local)
        await engine.start()
        await engine.advertise(FileTransferOptions.features)
        var failures = 0
        for await incoming in engine.incomingSessions {
            do {
                let results = try await JingleFileTransfer.receive(
                    engine: engine, incoming: incoming, policy: policy, options: options, progress: { reporter.progress($0) },
                    onOffer: { offer in FileHandle.standardError.write(Data("receive: offer \(offer)\n".utf8)) })
                reporter.finishLine()
                for r in results { reporter.summary(r, verb: "received") }
            } catch {
                reporter.finishLine()
                failures += 1
                FileHandle.standardError.write(Data("error: receive failed: \(error)\n".utf8))
            }
            if !keepListening { break }
        }
        try? await Task.sleep(for: .milliseconds(200))
        await engine.stop()
        await session.close()
        if failures > 0 { throw ExitCode.failure }
    }
}
