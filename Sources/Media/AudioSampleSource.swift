#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import RTP

/// 8 kHz mono PCM for the sender, one 20 ms frame at a time: a continuous tone, or a WAV file looped.
struct AudioSampleSource {
    private enum Kind {
        case tone(ToneGenerator)
        case samples([Int16], position: Int)
        case silence
    }

    private var kind: Kind

    init(tone frequency: Double) {
        kind = .tone(ToneGenerator(frequency: frequency, amplitude: 8000, sampleRate: 8000))
    }

    init(silence: Void) {
        kind = .silence
    }

    /// Reads a 16-bit PCM WAV file and resamples its first channel to 8 kHz (linear interpolation: enough for
    /// a narrow-band G.711 test source).
    init(wav url: URL) throws(MediaError) {
        let bytes: [UInt8]
        do {
            bytes = try [UInt8](Data(contentsOf: url))
        } catch {
            throw .io("cannot read \(url.path): \(error)")
        }
        let audio: WAVAudio
        do {
            audio = try WAVAudio(parsing: bytes)
        } catch {
            throw .io("\(url.path): \(error)")
        }
        let channel = audio.channel(0)
        guard !channel.isEmpty else { throw .io("\(url.path) holds no samples") }
        kind = .samples(Self.resample(channel, from: Double(audio.format.sampleRate), to: 8000), position: 0)
    }

    static func resample(_ samples: [Int16], from rate: Double, to target: Double) -> [Int16] {
        guard rate != target, rate > 0 else { return samples }
        let count = max(1, Int((Double(samples.count) * target / rate).rounded(.down)))
        var out: [Int16] = []
        out.reserveCapacity(count)
        let step = rate / target
        for index in 0..<count {
            let position = Double(index) * step
            let low = min(Int(position), samples.count - 1)
            let high = min(low + 1, samples.count - 1)
            let fraction = position - Double(low)
            out.append(Int16(clamping: Int((Double(samples[low]) * (1 - fraction) + Double(samples[high]) * fraction).rounded())))
        }
        return out
    }

    mutating func nextFrame(count: Int) -> [Int16] {
        switch kind {
        case .tone(var generator):
            let frame = generator.nextFrame(count: count)
            kind = .tone(generator)
            return frame
        case .samples(let samples, var position):
            var frame: [Int16] = []
            frame.reserveCapacity(count)
            while frame.count < count {
                let take = min(count - frame.count, samples.count - position)
                frame += samples[position..<position + take]
                position = (position + take) % samples.count
            }
            kind = .samples(samples, position: position)
            return frame
        case .silence:
            return Array(repeating: 0, count: count)
        }
    }
}
