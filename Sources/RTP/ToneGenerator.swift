#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A sine tone as 16-bit PCM, continuous in phase from one frame to the next so that frames joined end to end
/// carry no clicks.
public struct ToneGenerator: Sendable, Hashable {
    public var frequency: Double
    /// Peak amplitude, 0...32767.
    public var amplitude: Double
    public let sampleRate: Double
    /// Current phase in cycles, in 0..<1 (kept in cycles rather than radians so it never loses precision).
    public private(set) var phase: Double

    public init(frequency: Double, amplitude: Double = 8000, sampleRate: Double = 8000, phase: Double = 0) {
        self.frequency = frequency
        self.amplitude = min(max(amplitude, 0), Double(Int16.max))
        self.sampleRate = sampleRate
        self.phase = phase
    }

    /// The next `count` samples (one channel).
    public mutating func nextFrame(count: Int) -> [Int16] {
        var samples: [Int16] = []
        samples.reserveCapacity(count)
        let increment = frequency / sampleRate
        for _ in 0..<max(0, count) {
            let value = (amplitude * sin(2 * Double.pi * phase)).rounded()
            // Clamped so that an amplitude set above full scale (or NaN parameters) cannot trap.
            samples.append(value.isFinite ? Int16(max(-32768, min(32767, value))) : 0)
            phase += increment
            phase -= phase.rounded(.down)
            if !phase.isFinite { phase = 0 }
        }
        return samples
    }
}

/// The Goertzel algorithm: the power of one frequency in a block of samples, cheaper than a full DFT when only
/// a few frequencies matter (as in DTMF or checking that a recording carries a test tone).
public enum Goertzel {
    /// Power at `frequency` (squared magnitude of the DFT term at that frequency), for samples at `sampleRate`.
    public static func power(of samples: [Int16], frequency: Double, sampleRate: Double) -> Double {
        let coefficient = 2 * cos(2 * Double.pi * frequency / sampleRate)
        var previous = 0.0
        var beforePrevious = 0.0
        for sample in samples {
            let current = Double(sample) + coefficient * previous - beforePrevious
            beforePrevious = previous
            previous = current
        }
        return previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious
    }

    /// The power scaled by the block length so that a sine of amplitude A at exactly `frequency` gives about A²
    /// (its DFT term has magnitude A·N/2), comparable across block lengths.
    public static func normalizedPower(of samples: [Int16], frequency: Double, sampleRate: Double) -> Double {
        guard !samples.isEmpty else { return 0 }
        let n = Double(samples.count)
        return 4 * power(of: samples, frequency: frequency, sampleRate: sampleRate) / (n * n)
    }

    /// The candidate with the most power, or nil if there are no samples or candidates.
    public static func dominantFrequency(
        in samples: [Int16], sampleRate: Double, candidates: [Double]
    ) -> Double? {
        guard !samples.isEmpty else { return nil }
        var best: (frequency: Double, power: Double)?
        for frequency in candidates {
            let power = power(of: samples, frequency: frequency, sampleRate: sampleRate)
            if best.map({ power > $0.power }) ?? true { best = (frequency, power) }
        }
        return best?.frequency
    }

    /// Scans `range` in steps of `step` Hz and returns the frequency with the most power.
    public static func dominantFrequency(
        in samples: [Int16], sampleRate: Double, range: ClosedRange<Double> = 50...3950, step: Double = 10
    ) -> Double? {
        guard step > 0 else { return nil }
        return dominantFrequency(
            in: samples, sampleRate: sampleRate, candidates: Array(stride(from: range.lowerBound, through: range.upperBound, by: step))
        )
    }
}
