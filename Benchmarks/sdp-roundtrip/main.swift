// Benchmarks/sdp-roundtrip: SDP text -> SessionDescription -> Jingle -> XML text -> XML element -> Jingle -> SDP
// text, against python sdp-transform's parse + write of the same text, in the same run.
// Run: swift build -c release --scratch-path .build-release --product bench-sdp-roundtrip && .build-release/release/bench-sdp-roundtrip
// Last line: sdp-roundtrip: ours=<N>roundtrips/s baseline=<N>roundtrips/s ratio=<x>
import Foundation
import Jingle
import JingleSDP
import SDP
import XMLStream
#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// A browser offer with two m-lines (audio + video), BUNDLE, rtx/red/ulpfec, DTLS, trickle ICE: about 40 lines.
let offer = [
    "v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0 1", "a=extmap-allow-mixed",
    "m=audio 50123 UDP/TLS/RTP/SAVPF 111 0 126", "c=IN IP4 203.0.113.7",
    "a=candidate:1467250027 1 udp 2122260223 192.0.2.10 46243 typ host generation 0 network-id 1",
    "a=candidate:2917370282 1 udp 41885439 203.0.113.7 50123 typ relay raddr 198.51.100.20 rport 46243 generation 0 network-id 1",
    "a=ice-ufrag:EsAw", "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1",
    "a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F",
    "a=setup:actpass", "a=mid:0", "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "a=sendrecv", "a=rtcp-mux", "a=rtpmap:111 opus/48000/2", "a=rtcp-fb:111 transport-cc", "a=fmtp:111 minptime=10;useinbandfec=1",
    "a=rtpmap:0 PCMU/8000", "a=rtpmap:126 telephone-event/8000", "a=fmtp:126 0-15",
    "a=ssrc:1001 cname:k5Ot8UpyZgqYzVjH",
    "m=video 50123 UDP/TLS/RTP/SAVPF 96 97 116 118", "c=IN IP4 203.0.113.7",
    "a=ice-ufrag:EsAw", "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1",
    "a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F",
    "a=setup:actpass", "a=mid:1", "a=extmap:5/sendonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay", "a=sendrecv",
    "a=rtcp-mux", "a=rtpmap:96 VP8/90000", "a=rtcp-fb:96 nack pli", "a=rtpmap:97 rtx/90000",
    "a=fmtp:97 apt=96", "a=rtpmap:116 red/90000", "a=rtpmap:118 ulpfec/90000", "a=rtcp-fb:* nack",
    "a=ssrc-group:FID 2002 2003", "a=ssrc:2002 cname:k5Ot8UpyZgqYzVjH", "a=ssrc:2003 cname:k5Ot8UpyZgqYzVjH",
].joined(separator: "\r\n") + "\r\n"

let mapper = JingleSDPMapper()
let context = JingleSDPMapper.Context(author: .initiator, action: .sessionInitiate)

@inline(never)
func roundTrip(_ text: String) throws -> String {
    let sdp = try SessionDescription(parsing: text)
    let xml = try mapper.jingle(from: sdp, context: context).element().serialized()
    let payload = try JinglePayload(element: try XMLElement(parsing: xml), registry: .sdpMapping)
    return try mapper.sdp(from: payload, author: .initiator).serialized()
}

func runOurs(seconds: Double) throws -> Double {
    var count = 0, bytes = 0
    let start = now()
    var elapsed = 0.0
    repeat {
        for _ in 0..<200 { bytes &+= try roundTrip(offer).utf8.count }
        count += 200
        elapsed = now() - start
    } while elapsed < seconds
    if bytes == 0 { print("(no output)") }
    return Double(count) / elapsed
}

/// python sdp-transform parse + write of the same text, timed inside python so process start-up is excluded.
func runBaseline(seconds: Double) throws -> Double {
    let venv = ProcessInfo.processInfo.environment["SWIFTJINGLE_VENV"] ?? NSHomeDirectory() + "/.cache/swiftjingle-venv"
    let python = venv + "/bin/python"
    guard FileManager.default.isExecutableFile(atPath: python) else {
        throw BenchError("baseline needs the venv at \(venv) with sdp_transform (scripts/bootstrap makes it)")
    }
    let script = """
    import sys, time
    try:
        import sdp_transform
    except ImportError:
        sys.stderr.write("sdp_transform is not installed in the venv\\n"); sys.exit(2)
    text = sys.stdin.read()
    assert sdp_transform.write(sdp_transform.parse(text))
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(100):
            sdp_transform.write(sdp_transform.parse(text))
        n += 100
        elapsed = time.perf_counter() - start
        if elapsed >= \(seconds):
            break
    print(n / elapsed)
    """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = ["-c", script]
    let input = Pipe(), output = Pipe(), errors = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    input.fileHandleForWriting.write(Data(offer.utf8))
    try input.fileHandleForWriting.close()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    let err = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0, let rate = Double(String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
        throw BenchError("python baseline failed (exit \(process.terminationStatus)): \(String(decoding: err, as: UTF8.self))")
    }
    return rate
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// `--stages`: time each step of the round trip separately, to see where the time goes.
if CommandLine.arguments.contains("--stages") {
    let sdp = try! SessionDescription(parsing: offer)
    let payload = try! mapper.jingle(from: sdp, context: context)
    let element = payload.element()
    let xml = element.serialized()
    let parsedElement = try! XMLElement(parsing: xml)
    let parsed = try! JinglePayload(element: parsedElement, registry: .sdpMapping)
    let back = try! mapper.sdp(from: parsed, author: .initiator)
    let environment = ProcessInfo.processInfo.environment
    func time(_ name: String, _ body: () -> Void) {
        // SDP_STAGE_ITERATIONS lowers the count for runs under valgrind (instruction counts do not depend on load);
        // SDP_STAGE runs one stage only (Benchmarks/sdp-roundtrip/instructions.sh).
        if let only = environment["SDP_STAGE"], only != name { return }
        let n = environment["SDP_STAGE_ITERATIONS"].flatMap { Int($0) } ?? 2000
        let t = now()
        for _ in 0..<n { body() }
        print(name, Int((now() - t) / Double(n) * 1e6), "us")
    }
    time("sdp parse") { _ = try! SessionDescription(parsing: offer) }
    time("to jingle") { _ = try! mapper.jingle(from: sdp, context: context) }
    time("element()") { _ = payload.element() }
    time("xml serialize") { _ = element.serialized() }
    time("xml parse") { _ = try! XMLElement(parsing: xml) }
    time("jingle parse") { _ = try! JinglePayload(element: parsedElement, registry: .sdpMapping) }
    time("to sdp") { _ = try! mapper.sdp(from: parsed, author: .initiator) }
    time("sdp serialize") { _ = back.serialized() }
    exit(0)
}
do {
    // Correctness first: the round trip must be stable, or the rate means nothing.
    let once = try roundTrip(offer)
    guard try roundTrip(once) == once else { throw BenchError("round trip is not stable") }
    print("input: \(offer.split(separator: "\r\n").count) SDP lines, Jingle XML \(try mapper.jingle(from: try SessionDescription(parsing: offer), context: context).element().serialized().utf8.count) bytes")
    _ = try runOurs(seconds: 0.3)
    // Alternate the two in short rounds and keep each one's best, so load from other processes on the shared
    // machine hits both alike.
    var ours = 0.0, baseline = 0.0
    for _ in 0..<3 {
        ours = max(ours, try runOurs(seconds: 1))
        baseline = max(baseline, try runBaseline(seconds: 1))
    }
    print("sdp-roundtrip: ours=\(Int(ours))roundtrips/s baseline=\(Int(baseline))roundtrips/s ratio=\(String(format: "%.1f", ours / baseline))")
} catch {
    FileHandle.standardError.write(Data("sdp-roundtrip: error: \(error)\n".utf8))
    exit(1)
}
