// SendFile: one file from one Jingle engine to another, in one process, over the serverless peer link.
//
//   sender engine  --XMPPPeerLink (TCP, 127.0.0.1)-->  receiver engine     Jingle signalling (XEP-0166), no server
//   session-initiate with one XEP-0234 file offer, ICE-UDP transport (XEP-0176), DTLS fingerprint (XEP-0320)
//   session-accept, ICE connectivity checks, DTLS handshake, the file's bytes over an encrypted reliable stream
//   session-info <checksum/> (XEP-0234 §8.1) -> the receiver keeps the file only if its SHA-256 matches
//   session-info <received/> (XEP-0234 §8.2) -> session-terminate
//
// Only the public API of the JingleEngine, XMPPLink, XMPPCore, ICE, FileTransfer and Hashes libraries is used.
import FileTransfer
import Foundation
import Hashes
import ICE
import JingleEngine
import XMPPCore
import XMPPLink

let usage = """
    usage: SendFile [FILE] [--size BYTES]

    Starts two Jingle engines joined by a serverless peer link on 127.0.0.1, sends FILE (or, without FILE,
    a generated file of --size bytes, default 4194304) from one to the other with XEP-0234 over ICE-UDP and
    DTLS, and checks that the received copy has the same SHA-256 as the original.

    examples:
      SendFile
      SendFile --size 67108864
      SendFile ~/Pictures/photo.jpg
    """

struct UsageError: Error, CustomStringConvertible { let description: String }
struct SampleError: Error, CustomStringConvertible { let description: String }

func parse(_ arguments: [String]) throws -> (file: String?, size: Int) {
    var file: String?
    var size = 4 << 20
    var rest = arguments[...]
    while let argument = rest.popFirst() {
        if argument == "--size" {
            guard let value = rest.popFirst(), let bytes = Int(value), bytes > 0 else {
                throw UsageError(description: "--size needs a positive number of bytes")
            }
            size = bytes
        } else if argument.hasPrefix("-") {
            throw UsageError(description: "unknown option \(argument)")
        } else if file == nil {
            file = argument
        } else {
            throw UsageError(description: "too many arguments")
        }
    }
    return (file, size)
}

/// SHA-256 of a whole file, read in 1 MiB pieces.
func sha256(ofFile path: String) throws -> [UInt8] {
    guard let handle = FileHandle(forReadingAtPath: path) else { throw SampleError(description: "cannot read \(path)") }
    defer { try? handle.close() }
    var digest = Digest(.sha256)
    while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { digest.update(chunk) }
    return digest.finalize()
}

func megabytes(_ bytes: UInt64) -> String { String(format: "%.1f MiB", Double(bytes) / Double(1 << 20)) }

func run(file: String?, size: Int) async throws {
    let work = NSTemporaryDirectory() + "SendFile-\(UUID().uuidString)"
    let inbox = work + "/inbox"
    try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: work) }

    // The file to send: the one given, or random bytes (incompressible, like most real files).
    let source: String
    if let file {
        guard FileManager.default.isReadableFile(atPath: file) else { throw SampleError(description: "cannot read \(file)") }
        source = file
    } else {
        source = work + "/sample.bin"
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size)
        while bytes.count < size { bytes += SecureRandom.bytes(min(1 << 20, size - bytes.count)) }
        guard FileManager.default.createFile(atPath: source, contents: Data(bytes)) else {
            throw SampleError(description: "cannot write \(source)")
        }
    }
    let original = try sha256(ofFile: source)

    // 1. The serverless peer link: the receiver listens, the sender connects (each side names its JID).
    let senderJID = try JID("sender@localhost/sample"), receiverJID = try JID("receiver@localhost/sample")
    let listener = try await XMPPPeerLink.listen(local: receiverJID, host: "127.0.0.1", port: 0)
    async let accepted = listener.accept()
    let senderLink = try await XMPPPeerLink.connect(local: senderJID, remote: receiverJID, host: "127.0.0.1", port: listener.port)
    let receiverLink = try await accepted
    print("peer link: \(senderJID) -> \(receiverJID) on 127.0.0.1:\(listener.port)")

    // 2. One Jingle engine per side, advertising file transfer (XEP-0030 features).
    let sender = JingleEngine(link: senderLink, localJID: senderJID)
    let receiver = JingleEngine(link: receiverLink, localJID: receiverJID)
    await sender.start()
    await receiver.start()
    await sender.advertise(FileTransferOptions.features)
    await receiver.advertise(FileTransferOptions.features)

    // ICE host candidates on loopback only: the sample never touches another interface.
    let options = FileTransferOptions(ice: ICEConfiguration(localAddresses: ["127.0.0.1"]), connectTimeout: .seconds(15))

    // 3. The receiver takes the first incoming session, accepting from the sender only (consent, XEP-0234 §13).
    let policy = JingleFileTransfer.ReceivePolicy(directory: inbox, acceptFrom: [senderJID])
    let sessions = receiver.incomingSessions
    let receiving = Task { () throws -> [FileTransferResult] in
        for await incoming in sessions {
            return try await JingleFileTransfer.receive(engine: receiver, incoming: incoming, policy: policy, options: options,
                                                        onOffer: { offer in print("offer: \(offer)") })
        }
        throw SampleError(description: "the receiver saw no session")
    }

    // 4. The sender offers the file and waits for the receiver's <received/>.
    let sent: [FileTransferResult]
    let received: [FileTransferResult]
    do {
        sent = try await JingleFileTransfer.send(engine: sender, to: receiverJID, paths: [source], options: options)
        received = try await receiving.value
    } catch {
        receiving.cancel()
        await sender.stop(); await receiver.stop()
        await senderLink.close(); await receiverLink.close()
        throw SampleError(description: "transfer failed: \(error)")
    }
    await sender.stop(); await receiver.stop()
    await senderLink.close(); await receiverLink.close()

    guard let out = sent.first, let into = received.first, let path = into.path else {
        throw SampleError(description: "no transfer result")
    }
    let rate = out.seconds > 0 ? Double(out.transferred) / out.seconds / 1e6 : 0
    print(String(format: "sent %@: %@ in %.2f s, %.1f MB/s", out.name, megabytes(out.size), out.seconds, rate))
    print("received \(into.name): \(megabytes(into.size)), confirmed by the receiver: \(out.verified ? "yes" : "no")")

    // 5. Independent of the protocol's own check: hash what landed on disk and compare with the original.
    let copy = try sha256(ofFile: path)
    print("sha-256 original: \(original.hexString)")
    print("sha-256 received: \(copy.hexString)")
    guard copy == original, into.sha256 == original, out.verified, into.verified else {
        throw SampleError(description: "the received file differs from the original")
    }
    print("result: ok, \(into.size) bytes, hash verified")
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}
let parsed: (file: String?, size: Int)
do {
    parsed = try parse(arguments)
} catch {
    FileHandle.standardError.write(Data("error: \(error) (hint: SendFile --help)\n".utf8))
    exit(64)
}
do {
    try await run(file: parsed.file, size: parsed.size)
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
