import TestServers
import DTLS
import Foundation
import ICE
import SecureTransport

/// `--peer`: the far end of SecureTransportTests' two-process test. It is the ICE-controlled agent, the DTLS
/// server (`a=setup:passive`) and the receiver. Protocol, one JSON object per line:
///   peer → stdout  {"ufrag","pwd","fingerprint","candidates":[a=candidate values]}
///   stdin → peer   the same fields of the other side, plus "size" and "seed"
///   peer → stdout  {"received":N,"mismatch":offset or -1}   after the sender's FIN and its own FIN, then it exits
struct PeerDescription: Codable {
    var ufrag: String
    var pwd: String
    var fingerprint: String
    var candidates: [String]
    var size: Int?
    var seed: UInt64?
}

struct PeerResult: Codable {
    var received: Int
    var mismatch: Int
}

enum PeerMode {
    static func run() async throws {
        let side = try await Side.make(.controlled)
        let certificate = try DTLSCertificate.generate()
        try await side.agent.gatherCandidates(stream: side.stream)
        try await side.log.waitForGathering()
        let credentials = try await side.agent.localCredentials(stream: side.stream)
        let candidates = try await side.agent.localCandidates(stream: side.stream)
        let mine = PeerDescription(
            ufrag: credentials.ufrag, pwd: credentials.pwd, fingerprint: certificate.fingerprint().attributeValue,
            candidates: candidates.map(\.sdpAttributeValue))
        say(String(decoding: try JSONEncoder().encode(mine), as: UTF8.self))
        guard let line = readLine(), let theirs = try? JSONDecoder().decode(PeerDescription.self, from: Data(line.utf8)),
              let size = theirs.size, let seed = theirs.seed
        else { throw BenchError("peer: expected the other side's description on stdin") }
        try await side.agent.setRemoteCredentials(ICECredentials(ufrag: theirs.ufrag, pwd: theirs.pwd), stream: side.stream)
        try await side.agent.addRemoteCandidates(try theirs.candidates.map { try ICECandidate(sdp: $0) }, stream: side.stream)
        try await side.agent.endOfRemoteCandidates(stream: side.stream)
        var configuration = SecureStreamConfiguration()
        configuration.transport.initialRetransmissionTimeout = .milliseconds(100)
        let stream = try await SecureStream.connect(
            agent: side.agent, stream: side.stream, role: .server, certificate: certificate,
            remoteFingerprint: try DTLSFingerprint(attributeValue: theirs.fingerprint), configuration: configuration)
        var offset = 0
        var mismatch = -1
        while let chunk = try await stream.read(max: 1 << 20) {
            if mismatch < 0 {
                let start = offset - offset % 8
                let expected = Pattern.bytes(offset: start, count: offset - start + chunk.count, seed: seed)
                if !expected[(offset - start)...].elementsEqual(chunk) { mismatch = offset }
            }
            offset += chunk.count
        }
        _ = size
        // Our direction ends cleanly too, so the other side reads to its end before we close.
        try await stream.finish()
        say(String(decoding: try JSONEncoder().encode(PeerResult(received: offset, mismatch: mismatch)), as: UTF8.self))
        stream.close()
        await side.close()
    }
}
