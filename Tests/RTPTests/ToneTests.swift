import Testing
import RTP

@Test func frameByFrameGenerationIsPhaseContinuous() {
    var whole = ToneGenerator(frequency: 440, amplitude: 10000, sampleRate: 8000)
    var framed = whole
    let once = whole.nextFrame(count: 8000)
    var pieces: [Int16] = []
    for size in [160, 160, 37, 1, 1000, 6642] { pieces += framed.nextFrame(count: size) }
    #expect(pieces.count == once.count)
    // Same samples whatever the framing (so no phase jumps at frame boundaries).
    let maxDifference = zip(once, pieces).map { abs(Int($0) - Int($1)) }.max() ?? 0
    #expect(maxDifference <= 1)
    // Peak near the amplitude, never above it.
    #expect(once.map { abs(Int($0)) }.max() ?? 0 <= 10000)
    #expect(once.map { abs(Int($0)) }.max() ?? 0 >= 9990)
    // A sample-to-sample step never exceeds what a 440 Hz sine allows: 2π·440/8000·A ≈ 3456.
    #expect(zip(pieces, pieces.dropFirst()).allSatisfy { abs(Int($0) - Int($1)) <= 3460 })
}

struct ToneCase: Sendable, CustomTestStringConvertible {
    let frequency: Double
    let sampleRate: Double
    var testDescription: String { "\(Int(frequency)) Hz at \(Int(sampleRate))" }
}

let toneCases: [ToneCase] = [
    ToneCase(frequency: 440, sampleRate: 8000), ToneCase(frequency: 880, sampleRate: 8000),
    ToneCase(frequency: 440, sampleRate: 16000), ToneCase(frequency: 880, sampleRate: 48000),
    ToneCase(frequency: 1000, sampleRate: 8000), ToneCase(frequency: 697, sampleRate: 8000),
]

@Test(arguments: toneCases)
func goertzelFindsTheTone(_ tone: ToneCase) {
    var generator = ToneGenerator(frequency: tone.frequency, amplitude: 8000, sampleRate: tone.sampleRate)
    let samples = generator.nextFrame(count: Int(tone.sampleRate / 4))
    if tone.frequency == 440 || tone.frequency == 880 {
        #expect(Goertzel.dominantFrequency(in: samples, sampleRate: tone.sampleRate, candidates: [440, 880]) == tone.frequency)
    }
    let scanned = Goertzel.dominantFrequency(in: samples, sampleRate: tone.sampleRate, range: 100...3900, step: 5)
    #expect(scanned.map { abs($0 - tone.frequency) <= 3 } == true, "scanned \(String(describing: scanned))")
    // A pure sine of amplitude A at its own frequency gives about A².
    let power = Goertzel.normalizedPower(of: samples, frequency: tone.frequency, sampleRate: tone.sampleRate)
    #expect(abs(power - 8000 * 8000) / (8000 * 8000) < 0.02)
}

struct DiscriminationCase: Sendable, CustomTestStringConvertible {
    let frequency: Double
    let law: G711Law?
    var testDescription: String { "\(Int(frequency)) Hz via \(law.map { "\($0)" } ?? "linear")" }
}

@Test(arguments: [440.0, 880.0].flatMap { frequency in [nil, G711Law.muLaw, .aLaw].map { DiscriminationCase(frequency: frequency, law: $0) } })
func discriminates440From880EvenThroughG711(_ testCase: DiscriminationCase) {
    var generator = ToneGenerator(frequency: testCase.frequency, amplitude: 3000, sampleRate: 8000)
    var samples = generator.nextFrame(count: 4000)
    if let law = testCase.law { samples = law.decode(law.encode(samples)) }
    let other = testCase.frequency == 440 ? 880.0 : 440.0
    #expect(Goertzel.dominantFrequency(in: samples, sampleRate: 8000, candidates: [440, 880]) == testCase.frequency)
    let wanted = Goertzel.normalizedPower(of: samples, frequency: testCase.frequency, sampleRate: 8000)
    let unwanted = Goertzel.normalizedPower(of: samples, frequency: other, sampleRate: 8000)
    // Quantization noise keeps the other tone at least 30 dB down.
    #expect(wanted > 1000 * unwanted)
}

@Test func silenceAndEmptyInput() {
    #expect(Goertzel.dominantFrequency(in: [], sampleRate: 8000, candidates: [440]) == nil)
    #expect(Goertzel.normalizedPower(of: Array(repeating: 0, count: 800), frequency: 440, sampleRate: 8000) == 0)
    var generator = ToneGenerator(frequency: 440, amplitude: 0)
    #expect(generator.nextFrame(count: 160).allSatisfy { $0 == 0 })
}

@Test func amplitudeAboveFullScaleClampsInsteadOfTrapping() {
    var generator = ToneGenerator(frequency: 1000, amplitude: 8000)
    generator.amplitude = 1e9
    let samples = generator.nextFrame(count: 80)
    #expect(samples.contains(.max) && samples.contains(.min))
}
