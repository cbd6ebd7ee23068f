import ArgumentParser
import Foundation
import Hashes
import JingleEngine
import XMPPCore
#if canImport(Glibc)
import Glibc
#endif

/// `jingle send --serve`: answer requests (XEP-0234 §5) for the given files instead of offering them.
struct ServeOptions: ParsableArguments {
    @Flag(help: "Serve the FILEs: answer requests for them (by name or sha-256, XEP-0234 §5) instead of offering them.")
    var serve = false
    @Flag(help: "With --serve: answer requests from anyone.")
    var yes = false
    @Option(name: .customLong("accept-from"), help: ArgumentHelp("With --serve: answer requests from this JID (bare or full; repeatable).", valueName: "JID"))
    var acceptFrom: [String] = []
    @Flag(name: .customLong("keep-listening"), help: "With --serve: serve session after session until SIGINT/SIGTERM instead of exiting after one.")
    var keepListening = false

    func validate() throws {
        if !serve, yes || !acceptFrom.isEmpty || keepListening {
            throw ValidationError("--yes, --accept-from and --keep-listening go with --serve")
        }
        for j in acceptFrom { _ = try JID(j) }
    }
}

/// `jingle receive --request`: pull files from a peer (XEP-0234 §5) instead of waiting for offers.
struct RequestOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Pull the file of this name from the peer (XEP-0234 §5) instead of waiting for offers (repeatable).",
                               valueName: "NAME"))
    var request: [String] = []
    @Option(name: .customLong("request-hash"),
            help: ArgumentHelp("Pull the file with this sha-256 (hex, or sha-256:HEX; repeatable). With one --request, both must match.",
                               valueName: "HASH"))
    var requestHash: [String] = []
    @Option(help: ArgumentHelp("Account mode: the full JID to pull from (with --peer: the serving side's JID, default receiver@localhost/jingle).",
                               valueName: "JID"))
    var from: String?

    var isActive: Bool { !request.isEmpty || !requestHash.isEmpty }

    static func digest(_ text: String) throws -> [UInt8] {
        var hex = text.lowercased()
        if hex.hasPrefix("sha-256:") { hex.removeFirst("sha-256:".count) }
        guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else {
            throw ValidationError("--request-hash: expected 64 hex digits of a sha-256 (optionally sha-256:HEX), got '\(text)'")
        }
        var bytes: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            bytes.append(UInt8(hex[i..<j], radix: 16) ?? 0)
            i = j
        }
        return bytes
    }

    /// One request per name and per hash; a single name with a single hash is one request needing both.
    func requests() throws -> [FileRequest] {
        let hashes = try requestHash.map(Self.digest)
        if request.count == 1 && hashes.count == 1 { return [FileRequest(name: request[0], sha256: hashes[0])] }
        return request.map { FileRequest(name: $0) } + hashes.map { FileRequest(sha256: $0) }
    }

    func validate(keepListening: Bool, link: LinkOptions) throws {
        guard isActive else {
            if from != nil { throw ValidationError("--from goes with --request or --request-hash") }
            return
        }
        _ = try requests()
        if keepListening { throw ValidationError("--keep-listening is for waiting for offers, not with --request") }
        if link.peer == nil && link.listen == nil && from == nil { throw ValidationError("--request needs --from JID (the serving side) in account mode") }
        if let from { _ = try JID(from) }
    }
}

extension ReceiveCommand {
    /// `jingle receive --request`: one session asking for every requested file.
    func runRequest(policy: JingleFileTransfer.ReceivePolicy, options: FileTransferOptions) async throws {
        let reporter = ProgressReporter(json: ice.json)
        let session = try await link.open(role: .responder)
        let peer: JID
        if let from = pull.from { peer = try JID(from) } else if let remote = session.remote { peer = remote } else {
            throw ValidationError("--from JID is required with --jid")
        }
        let engine = JingleEngine(link: session.link, localJID: session.local)
        await engine.start()
        await engine.advertise(FileTransferOptions.features)
        let requests = try pull.requests()
        FileHandle.standardError.write(Data("receive: requesting \(requests.map(\.label).joined(separator: ", ")) from \(peer)\n".utf8))
        let results: [FileTransferResult]
        do {
            results = try await JingleFileTransfer.request(engine: engine, from: peer, requests: requests, policy: policy, options: options,
                                                           progress: { reporter.progress($0) })
        } catch {
            reporter.finishLine()
            try? await Task.sleep(for: .milliseconds(200))   // let our session-terminate reach the peer
            await engine.stop()
            await session.close()
            throw CLIError("request failed: \(error)")
        }
        reporter.finishLine()
        for r in results { reporter.summary(r, verb: "received") }
        try? await Task.sleep(for: .milliseconds(200))
        await engine.stop()
        await session.close()
    }

    /// `jingle receive --keep-listening`: session after session (connection after connection on --listen)
    /// until SIGINT/SIGTERM.
    func runKeepListening(policy: JingleFileTransfer.ReceivePolicy, options: FileTransferOptions) async throws {
        let reporter = ProgressReporter(json: ice.json)
        let nothingLost = try await TransferSessionLoop.run(link: link, command: "receive", once: false) { engine, incoming in
            do {
                let results = try await JingleFileTransfer.receive(
                    engine: engine, incoming: incoming, policy: policy, options: options, progress: { reporter.progress($0) },
                    onOffer: { offer in FileHandle.standardError.write(Data("receive: offer \(offer)\n".utf8)) })
                reporter.finishLine()
                for r in results { reporter.summary(r, verb: "received") }
                return true
            } catch {
                reporter.finishLine()
                FileHandle.standardError.write(Data("error: receive failed: \(error)\n".utf8))
                return false
            }
        }
        if !nothingLost { throw ExitCode.failure }
    }
}

extension SendCommand {
    /// `jingle send --serve`: answers requests for the FILEs.
    func runServe(options: FileTransferOptions) async throws {
        let reporter = ProgressReporter(json: ice.json)
        let policy = ServePolicy(files: files, acceptAll: serving.yes, acceptFrom: try serving.acceptFrom.map { try JID($0) })
        let hashes = ServedHashesCache()
        let names = files.map { ($0 as NSString).lastPathComponent }
        FileHandle.standardError.write(Data("send: serving \(names.joined(separator: ", "))\n".utf8))
        let nothingLost = try await TransferSessionLoop.run(link: link, command: "send", once: !serving.keepListening) { engine, incoming in
            do {
                let results = try await JingleFileTransfer.serve(
                    engine: engine, incoming: incoming, policy: policy, options: options, hashes: hashes, progress: { reporter.progress($0) },
                    onRequest: { what in FileHandle.standardError.write(Data("send: request for \(what)\n".utf8)) })
                reporter.finishLine()
                for r in results { reporter.summary(r, verb: "sent") }
                return true
            } catch {
                reporter.finishLine()
                FileHandle.standardError.write(Data("error: serving failed: \(error)\n".utf8))
                return false
            }
        }
        if !nothingLost { throw ExitCode.failure }
    }
}
