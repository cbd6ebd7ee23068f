/// Cuts linear PCM into fixed-length G.711 payloads: 160 samples (20 ms at 8 kHz, the RFC 3551 §4.5 default
/// packetization for PCMU/PCMA) per packet, the timestamp advancing by the samples in each (RFC 3551 §4.2).
public struct G711Packetizer: Sendable, Hashable {
    /// One payload and the media offset (in samples since the start) its RTP timestamp must carry.
    public struct Frame: Sendable, Hashable {
        public var payload: [UInt8]
        public var timestampOffset: UInt32
    }

    public let law: G711Law
    public let samplesPerPacket: Int
    private var pending: [Int16] = []
    /// Media offset of the next frame.
    public private(set) var nextTimestampOffset: UInt32 = 0

    public init(law: G711Law, samplesPerPacket: Int = 160) {
        precondition(samplesPerPacket > 0, "a packet must hold at least one sample")
        self.law = law
        self.samplesPerPacket = samplesPerPacket
    }

    /// Adds samples (mono, 8 kHz) and returns every complete frame; the remainder waits for more.
    public mutating func push(_ samples: [Int16]) -> [Frame] {
        pending.append(contentsOf: samples)
        var frames: [Frame] = []
        var start = 0
        while pending.count - start >= samplesPerPacket {
            frames.append(makeFrame(pending[start..<start + samplesPerPacket]))
            start += samplesPerPacket
        }
        pending.removeFirst(start)
        return frames
    }

    /// Emits the remaining samples padded with silence to a whole frame, or nil if none remain.
    public mutating func flush() -> Frame? {
        guard !pending.isEmpty else { return nil }
        let padded = pending + Array(repeating: 0, count: samplesPerPacket - pending.count)
        pending = []
        return makeFrame(padded[...])
    }

    private mutating func makeFrame(_ samples: ArraySlice<Int16>) -> Frame {
        let frame = Frame(payload: samples.map { law.encode($0) }, timestampOffset: nextTimestampOffset)
        nextTimestampOffset &+= UInt32(samples.count)
        return frame
    }
}

extension RTPSenderState {
    /// The RTP packet for a packetized G.711 frame, with the law's static payload type unless told otherwise.
    /// Set `marker` on the first packet of a talkspurt (RFC 3551 §4.1).
    public mutating func makePacket(
        _ frame: G711Packetizer.Frame, law: G711Law, payloadType: UInt8? = nil, marker: Bool = false
    ) -> RTPPacket {
        makePacket(
            payloadType: payloadType ?? law.payloadType, payload: frame.payload,
            timestampOffset: frame.timestampOffset, marker: marker
        )
    }
}
