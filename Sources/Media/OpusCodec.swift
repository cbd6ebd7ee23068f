internal import CLibOpus

/// Opus (RFC 6716) over libopus for a call's audio: 48 kHz mono, 20 ms frames (960 samples), sent as
/// `opus/48000/2` as RFC 7587 §7 asks whatever the channel count (a mono stream decodes fine as stereo).
///
/// The call's audio path runs at 8 kHz (tone, WAV and recording), so frames are brought to 48 kHz by linear
/// interpolation before encoding and back to 8 kHz by averaging each 6 samples after decoding.
final class OpusEncoder {
    static let sampleRate: Int32 = 48000
    /// 20 ms at 48 kHz (RFC 7587 §4.1: the RTP clock is 48 kHz).
    static let frameSamples = 960

    private let encoder: OpaquePointer
    private var previous: Int16 = 0

    init(bitrate: Int32 = 32000) throws(MediaError) {
        var error: Int32 = 0
        guard let encoder = opus_encoder_create(Self.sampleRate, 1, sj_OPUS_APPLICATION_VOIP, &error), error == sj_OPUS_OK else {
            throw .unsupported("libopus encoder: \(String(cString: opus_strerror(error)))")
        }
        self.encoder = encoder
        _ = sj_opus_set_bitrate(encoder, bitrate)
        // RFC 7587 §3.3: in-band FEC lets a receiver rebuild a lost frame from the next one.
        _ = sj_opus_set_inband_fec(encoder, 1)
        _ = sj_opus_set_packet_loss_perc(encoder, 5)
    }

    deinit { opus_encoder_destroy(encoder) }

    /// Encodes one 20 ms frame of 8 kHz samples (160).
    func encode(narrowband samples: [Int16]) throws(MediaError) -> [UInt8] {
        let wide = Self.upsample(samples, from: previous)
        previous = samples.last ?? previous
        return try encode(wide)
    }

    /// Encodes one 20 ms frame of 48 kHz samples (960).
    func encode(_ samples: [Int16]) throws(MediaError) -> [UInt8] {
        guard samples.count == Self.frameSamples else {
            preconditionFailure("an Opus frame here is 960 samples, got \(samples.count)")
        }
        // RFC 6716 §3.2.1: one frame of a single code is at most 1275 bytes.
        var output = [UInt8](repeating: 0, count: 1276)
        let written = samples.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                // Both buffers are ours and non-empty (960 and 1276 elements), so they have addresses.
                opus_encode(encoder, input.baseAddress!, Int32(Self.frameSamples), out.baseAddress!, Int32(out.count))
            }
        }
        guard written > 0 else { throw .unsupported("libopus encode: \(String(cString: opus_strerror(written)))") }
        return Array(output.prefix(Int(written)))
    }

    /// 8 kHz → 48 kHz: each input sample becomes 6, interpolated linearly from the one before.
    static func upsample(_ samples: [Int16], from previous: Int16) -> [Int16] {
        var out: [Int16] = []
        out.reserveCapacity(samples.count * 6)
        var last = Int32(previous)
        for sample in samples {
            let next = Int32(sample)
            for step in 1...6 { out.append(Int16(last + (next - last) * Int32(step) / 6)) }
            last = next
        }
        return out
    }
}

final class OpusDecoder {
    private let decoder: OpaquePointer

    init() throws(MediaError) {
        var error: Int32 = 0
        guard let decoder = opus_decoder_create(OpusEncoder.sampleRate, 1, &error), error == sj_OPUS_OK else {
            throw .unsupported("libopus decoder: \(String(cString: opus_strerror(error)))")
        }
        self.decoder = decoder
    }

    deinit { opus_decoder_destroy(decoder) }

    /// Decodes one packet to 48 kHz samples; nil asks for packet loss concealment of one 20 ms frame.
    /// A packet libopus refuses (peer data) throws.
    func decode(_ packet: [UInt8]?) throws(MediaError) -> [Int16] {
        if let packet, packet.isEmpty { throw .io("empty Opus packet (RFC 6716 §3.1 needs at least the TOC byte)") }
        // RFC 6716 §3.2.1: a packet holds at most 120 ms (5760 samples at 48 kHz).
        var output = [Int16](repeating: 0, count: 5760)
        let count: Int32 = output.withUnsafeMutableBufferPointer { out in
            // `out` is our own 5760-sample buffer, so it has an address.
            let destination = out.baseAddress!
            if let packet {
                return packet.withUnsafeBufferPointer { input in
                    opus_decode(decoder, input.baseAddress, Int32(input.count), destination, Int32(out.count), 0)
                }
            }
            return opus_decode(decoder, nil, 0, destination, Int32(OpusEncoder.frameSamples), 0)
        }
        guard count >= 0 else { throw .io("Opus packet refused: \(String(cString: opus_strerror(count)))") }
        return Array(output.prefix(Int(count)))
    }

    /// Decodes to 8 kHz: the mean of each 6 samples (a box filter before decimation keeps most aliasing out).
    func decodeNarrowband(_ packet: [UInt8]?) throws(MediaError) -> [Int16] {
        Self.downsample(try decode(packet))
    }

    static func downsample(_ samples: [Int16]) -> [Int16] {
        stride(from: 0, to: samples.count - samples.count % 6, by: 6).map { start in
            Int16(samples[start..<start + 6].reduce(Int32(0)) { $0 + Int32($1) } / 6)
        }
    }
}
