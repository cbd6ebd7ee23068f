/// An RFC 4733 telephone-event payload (§2.3): event code, end bit, volume and duration.
public struct TelephoneEvent: Sendable, Hashable {
    /// Event code (RFC 4733 §3.2: 0–9 digits, 10 `*`, 11 `#`, 12–15 A–D, 16 flash).
    public var event: UInt8
    /// Set on the packets that end the event (§2.5.1.4).
    public var isEnd: Bool
    /// Power level in -dBm0, 0–63 (6 bits).
    public var volume: UInt8
    /// Duration so far in timestamp units, counted from the event's timestamp.
    public var duration: UInt16

    public init(event: UInt8, isEnd: Bool = false, volume: UInt8 = 10, duration: UInt16) {
        self.event = event
        self.isEnd = isEnd
        self.volume = volume
        self.duration = duration
    }

    public static let payloadLength = 4

    /// Parses the 4-byte payload; extra bytes are refused, since several events per packet need the
    /// redundancy format of RFC 2198 which this target does not handle.
    public init(parsing payload: [UInt8]) throws(RTPError) {
        guard payload.count >= Self.payloadLength else {
            throw .truncated(needed: Self.payloadLength, available: payload.count)
        }
        guard payload.count == Self.payloadLength else {
            throw .unsupported("telephone-event payload of \(payload.count) bytes (RFC 2198 redundancy)")
        }
        event = payload[0]
        isEnd = payload[1] & 0x80 != 0
        // The R bit (0x40) is reserved: ignored on receipt (§2.3).
        volume = payload[1] & 0x3F
        duration = UInt16(payload[2]) << 8 | UInt16(payload[3])
    }

    public func serialized() throws(RTPError) -> [UInt8] {
        guard volume <= 63 else { throw .fieldOutOfRange(field: "volume", value: Int(volume)) }
        return [event, (isEnd ? 0x80 : 0) | volume, UInt8(duration >> 8), UInt8(duration & 0xFF)]
    }

    /// The event code of a DTMF key (RFC 4733 §3.2, Table 7), nil for other characters.
    public static func dtmfEvent(for key: Character) -> UInt8? {
        switch key {
        case "0"..."9": key.asciiValue.map { $0 - 48 }
        case "*": 10
        case "#": 11
        case "A"..."D": key.asciiValue.map { $0 - 65 + 12 }
        case "a"..."d": key.asciiValue.map { $0 - 97 + 12 }
        default: nil
        }
    }
}

/// One packet of a telephone event as it should be sent.
public struct TelephoneEventPacket: Sendable, Hashable {
    public var event: TelephoneEvent
    /// Set on the first packet of the event only (RFC 4733 §2.5.1.2).
    public var marker: Bool
    /// When to send it, in timestamp units after the event starts. Every packet of the event carries the
    /// event's start timestamp in its RTP header (§2.5.1.2); only the duration grows.
    public var sendOffset: UInt32

    public init(event: TelephoneEvent, marker: Bool, sendOffset: UInt32) {
        self.event = event
        self.marker = marker
        self.sendOffset = sendOffset
    }
}

extension TelephoneEvent {
    /// The packets that signal one DTMF key (RFC 4733 §2.5.1): a first packet with the marker bit, an update
    /// every `interval` with the duration so far, then the final duration three times with the E bit
    /// (§2.5.1.4 asks for the end packet to be sent three times). Each is sent with a new sequence number.
    ///
    /// - Parameters:
    ///   - key: `0`–`9`, `*`, `#`, `A`–`D`.
    ///   - duration: total length in timestamp units (800 = 100 ms at 8 kHz); must fit 16 bits, since longer
    ///     events need segmenting (§2.5.1.3), which is not implemented.
    ///   - interval: time between packets in timestamp units (160 = 20 ms at 8 kHz).
    ///   - volume: the power level in -dBm0, 0–63 (RFC 4733 §2.3.4).
    public static func dtmfPackets(
        key: Character, duration: UInt32, interval: UInt32 = 160, volume: UInt8 = 10
    ) throws(RTPError) -> [TelephoneEventPacket] {
        guard let code = dtmfEvent(for: key) else { throw .unsupported("DTMF key \(key)") }
        guard volume <= 63 else { throw .fieldOutOfRange(field: "volume", value: Int(volume)) }
        guard interval > 0 else { throw .fieldOutOfRange(field: "interval", value: 0) }
        guard duration > 0 else { throw .fieldOutOfRange(field: "duration", value: 0) }
        guard duration <= UInt32(UInt16.max) else {
            throw .unsupported("telephone events longer than 65535 timestamp units (RFC 4733 §2.5.1.3 segmentation)")
        }
        var packets: [TelephoneEventPacket] = []
        var elapsed = interval
        while elapsed < duration {
            packets.append(TelephoneEventPacket(
                event: TelephoneEvent(event: code, volume: volume, duration: UInt16(elapsed)),
                marker: packets.isEmpty, sendOffset: elapsed
            ))
            elapsed += interval
        }
        let end = TelephoneEvent(event: code, isEnd: true, volume: volume, duration: UInt16(duration))
        for _ in 0..<3 {
            packets.append(TelephoneEventPacket(event: end, marker: packets.isEmpty, sendOffset: duration))
        }
        return packets
    }
}

extension RTPSenderState {
    /// RTP packets for a DTMF key starting at media offset `eventStart`: all share the event's timestamp and
    /// take consecutive sequence numbers (RFC 4733 §2.5.1). `payloadType` is the negotiated
    /// telephone-event type.
    public mutating func makeDTMFPackets(
        key: Character, payloadType: UInt8, eventStart: UInt32, duration: UInt32, interval: UInt32 = 160,
        volume: UInt8 = 10
    ) throws(RTPError) -> [RTPPacket] {
        let plan = try TelephoneEvent.dtmfPackets(key: key, duration: duration, interval: interval, volume: volume)
        var packets: [RTPPacket] = []
        for step in plan {
            packets.append(makePacket(
                payloadType: payloadType, payload: try step.event.serialized(), timestampOffset: eventStart,
                marker: step.marker
            ))
        }
        return packets
    }
}
