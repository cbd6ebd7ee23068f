import Foundation
import Testing

/// The EchoCall sample: a real call to an echoing engine; the tone bursts must come back, promptly.
@Suite("Samples: EchoCall")
struct EchoCallTests {
    @Test func echoesToneBurstsAndMeasuresTheRoundTrip() throws {
        let result = try SampleRunner.run("EchoCall", ["--seconds", "2"])
        #expect(result.status == 0, "stderr: \(result.stderr)\nstdout: \(result.stdout)")
        let out = result.stdout
        #expect(out.contains("peer link: caller@localhost/echo -> echo@localhost/echo"))
        #expect(out.contains("echo: accepted the call from caller@localhost/echo"))
        #expect(out.contains("DTLS-SRTP keys in place"))
        // 2 s of frames, a burst every 200 ms: 10 bursts, each listed with its frequency in turn.
        #expect(out.contains("burst 1: 600 Hz back after "))
        #expect(out.contains("burst 2: 800 Hz back after "))
        let line = try #require(out.split(separator: "\n").first { $0.hasPrefix("round trip: ") })
        let numbers = line.split(whereSeparator: { !"0123456789.".contains($0) }).compactMap { Double($0) }
        // "round trip: E of 10 tone bursts echoed; min A ms, median B ms, max C ms"
        try #require(numbers.count == 5, "\(line)")
        let (echoed, sent, minimum, median, maximum) = (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4])
        #expect(sent == 10)
        #expect(echoed >= 8 && echoed <= sent)
        #expect(minimum > 0 && minimum <= median && median <= maximum)
        // Loopback: well under the 200 ms between bursts even on a busy machine.
        #expect(median < 150, "\(line)")
        // The echo sent back what it received, and the caller received it.
        #expect(out.contains("result: ok"))
        let echoLine = try #require(out.split(separator: "\n").first { $0.hasPrefix("echo: received ") })
        let echoCounts = echoLine.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        #expect(echoCounts.count == 2 && echoCounts[0] > 0 && echoCounts[1] > 0, "\(echoLine)")
    }

    @Test(arguments: [["--seconds"], ["--seconds", "0"], ["--what"]])
    func rejectsBadInvocations(arguments: [String]) throws {
        let result = try SampleRunner.run("EchoCall", arguments)
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("error: "))
        #expect(result.stdout.isEmpty)
    }
}
