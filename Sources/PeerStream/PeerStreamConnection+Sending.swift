extension PeerStreamConnection {
    /// Writes the next datagram that may go out now into `buffer` (at least `largestDatagramSize` bytes of
    /// the configuration) and returns its length; 0 when nothing may be sent now (see `nextDeadline`). Call
    /// until it returns 0. Order: RESET, ACK, PTO probes, PING, path MTU probe, then — within the congestion
    /// window and the pacer — lost data, FIN, new data.
    public mutating func nextDatagram(now instant: PeerStreamInstant, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= receiveLimit, "datagram buffer smaller than largestDatagramSize")
        let now = instant.nanoseconds
        switch lifecycle {
        case .timedOut:
            return 0
        case .aborted(_, let byPeer):
            guard !byPeer, resetPending, let reason = localAbortReason else { return 0 }
            resetPending = false
            return encodeReset(reason, into: buffer)
        case .open, .closed:
            break
        }
        if let deadline = ackDeadline, deadline <= now { ackNow = true }
        if (ackNow || windowUpdatePending) && !receivedPackets.isEmpty {
            return encodeAck(now: now, into: buffer)
        }
        guard case .open = lifecycle else { return 0 }
        if probesPending > 0 {
            probesPending -= 1
            return encodeProbe(now: now, into: buffer)
        }
        if pingPending {
            pingPending = false
            return encodePing(now: now, into: buffer)
        }
        // RFC 8899 §5.2: probe while the connection is in use and has an RTT (so the peer is there), one
        // probe at a time; probes stay outside the congestion window, their loss is no congestion signal.
        if rtt.hasSample, ackElicitingInFlight > 0 || hasSomethingToSend, let size = pathMTU.probeDue(now: now) {
            return encodePathMTUProbe(size: size, now: now, into: buffer)
        }
        guard hasSomethingToSend else {
            pacingBlockedUntil = nil
            return 0
        }
        // RFC 9002 §7: no ack-eliciting packet beyond the congestion window.
        guard bytesInFlight + maxDatagramSize <= congestion.congestionWindow else { return 0 }
        guard pacerAllows(now: now) else { return 0 }
        let size = encodeStreamPacket(now: now, into: buffer)
        if size > 0 {
            pacingTokens -= Double(size)
            pacingBlockedUntil = nil
        }
        return size
    }

    /// Every datagram that may go out now, each a new array (convenience over `nextDatagram`).
    public mutating func poll(now: PeerStreamInstant) -> [[UInt8]] {
        var datagrams: [[UInt8]] = []
        while true {
            let datagram = [UInt8](unsafeUninitializedCapacity: receiveLimit) { buffer, count in
                count = nextDatagram(now: now, into: UnsafeMutableRawBufferPointer(buffer))
            }
            if datagram.isEmpty { return datagrams }
            datagrams.append(datagram)
        }
    }

    // MARK: Timers

    /// When `handleTimeout` (and then polling) is next due; nil when nothing is scheduled.
    public var nextDeadline: PeerStreamInstant? {
        var deadline: Int64?
        func consider(_ candidate: Int64?) {
            guard let candidate else { return }
            deadline = min(deadline ?? candidate, candidate)
        }
        switch lifecycle {
        case .open:
            consider(ackDeadline)
            consider(lossTime ?? probeDeadline)
            consider(persistDeadline)
            consider(keepaliveDeadline)
            consider(pacingBlockedUntil)
            consider(lastReceiveTime + idleTimeout)
        case .closed:
            consider(ackDeadline)
        case .aborted, .timedOut:
            break
        }
        return deadline.map { PeerStreamInstant(nanoseconds: $0) }
    }

    /// Runs the timers that are due: delayed ACK, loss detection, probe timeout, window probe, keepalive,
    /// idle timeout. Poll afterwards.
    public mutating func handleTimeout(now instant: PeerStreamInstant) -> [PeerStreamEvent] {
        let now = instant.nanoseconds
        switch lifecycle {
        case .open:
            break
        case .closed:
            if let deadline = ackDeadline, deadline <= now { ackNow = true; ackDeadline = nil }
            return []
        case .aborted, .timedOut:
            return []
        }
        // RFC 9000 §10.1: idle timeout.
        if now >= lastReceiveTime + idleTimeout {
            lifecycle = .timedOut
            clearTimers()
            return [.timedOut]
        }
        if let deadline = ackDeadline, deadline <= now { ackNow = true; ackDeadline = nil }
        if let time = lossTime {
            if time <= now { detectLosses(now: now) }
        } else if let deadline = probeDeadline, deadline <= now {
            // RFC 9002 §6.2.4: send one or two probes; nothing is declared lost.
            ptoCount += 1
            stats.probeTimeouts += 1
            probesPending = 2
            // RFC 8899 §4.3 black hole: three probe timeouts in a row, nothing acknowledged, while sending above
            // the base size. Smaller packets (the PTO probes from now on) then show whether the path is alive.
            if ptoCount >= 3, pathMTU.blackHole(now: now) {
                stats.pathMTUBlackHoles += 1
                setDatagramSize(pathMTU.current)
            }
        }
        if let deadline = persistDeadline, deadline <= now {
            persistCount += 1
            pingPending = true
        }
        if let deadline = keepaliveDeadline, deadline <= now { pingPending = true }
        if let until = pacingBlockedUntil, until <= now { pacingBlockedUntil = nil }
        return []
    }

    /// RFC 9002 §6.2.1: armed while ack-eliciting packets are in flight, backed off by 2^pto_count.
    private var probeDeadline: Int64? {
        guard ackElicitingInFlight > 0, probesPending == 0 else { return nil }
        return lastAckElicitingSent + rtt.probeTimeout(maxAckDelay: maxAckDelay) << min(ptoCount, 16)
    }

    /// Window probe: blocked by flow control with nothing in flight, so only a PING can bring a lost window
    /// update back (the role of TCP's persist timer, RFC 9293 §3.8.6.1).
    private var persistDeadline: Int64? {
        guard ackElicitingInFlight == 0, !pingPending, retransmitHead == retransmitQueue.count,
              nextSendOffset < writeOffset, nextSendOffset >= peerMaxData else { return nil }
        return lastAckElicitingSent + rtt.probeTimeout(maxAckDelay: maxAckDelay) << min(persistCount, 6)
    }

    private var keepaliveDeadline: Int64? {
        guard let interval = keepaliveInterval, ackElicitingInFlight == 0, !pingPending else { return nil }
        return max(lastAckElicitingSent, lastReceiveTime) + interval
    }

    // MARK: Gates

    private var newDataLength: Int {
        guard nextSendOffset < peerMaxData, nextSendOffset < writeOffset else { return 0 }
        return Int(min(UInt64(payloadBudget(offset: nextSendOffset)), writeOffset - nextSendOffset, peerMaxData - nextSendOffset))
    }

    /// Payload room of the next packet if it carries data from `offset`: the header's varints grow with the
    /// packet number and the offset.
    @inline(__always)
    private func payloadBudget(offset: UInt64) -> Int {
        maxDatagramSize - PeerStreamPacket.headerLength(connectionID: connectionID, packetNumber: nextPacketNumber)
            - PeerStreamPacket.varintLength(offset)
    }

    /// Tells path MTU discovery that a PROBE of `size` bytes could not be sent at all because the local
    /// interface's MTU is smaller (EMSGSIZE with fragmentation forbidden): that size fails at once instead of
    /// after `PathMTUSearch.maxProbes` losses (RFC 8899 §4.6.2). Poll afterwards (the next probe may be due).
    public mutating func pathMTUProbeRefused(size: Int, now: PeerStreamInstant) {
        stats.pathMTUProbesRefused += 1
        pathMTU.probeRefused(size: size, now: now.nanoseconds)
    }

    /// Changes the size of the datagrams we produce (path MTU discovery); packets in flight keep theirs.
    mutating func setDatagramSize(_ size: Int) {
        maxDatagramSize = size
        congestion.setMaxDatagramSize(size)
    }

    private var finSendable: Bool {
        finPending && localFinalOffset == nextSendOffset
    }

    private var hasSomethingToSend: Bool {
        retransmitHead < retransmitQueue.count || finSendable || newDataLength > 0
    }

    /// RFC 9002 §7.7: a token bucket filled at 1.25 × cwnd / smoothed RTT, `maxBurstPackets` deep or one
    /// `pacingGranularity` of the rate, whichever is more. Before the first RTT sample, and with pacing off,
    /// bursts are bounded by the congestion window alone.
    private mutating func pacerAllows(now: Int64) -> Bool {
        guard configuration.pacing, rtt.hasSample, rtt.smoothed > 0 else {
            pacingTokens = Double(configuration.maxBurstPackets * maxDatagramSize)
            pacingLastRefill = now
            return true
        }
        let rate = 1.25 * Double(congestion.congestionWindow) / Double(rtt.smoothed)  // bytes per nanosecond
        let depth = max(Double(configuration.maxBurstPackets * maxDatagramSize), rate * Double(pacingGranularity))
        if now > pacingLastRefill {
            pacingTokens = min(depth, pacingTokens + Double(now - pacingLastRefill) * rate)
            pacingLastRefill = now
        }
        if pacingTokens >= Double(maxDatagramSize) { return true }
        let wait = ((Double(maxDatagramSize) - pacingTokens) / rate).rounded(.up)
        pacingBlockedUntil = now + max(1, Int64(min(wait, 1e12)))
        return false
    }

    // MARK: Encoding

    /// Lost data first, then the FIN, then new data.
    private mutating func encodeStreamPacket(now: Int64, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        while retransmitHead < retransmitQueue.count {
            let range = retransmitQueue[retransmitHead]
            guard let part = unacknowledgedPart(of: range) else {
                retransmitHead += 1
                continue
            }
            if part.upperBound < range.upperBound {
                retransmitQueue[retransmitHead] = part.upperBound..<range.upperBound
            } else {
                retransmitHead += 1
            }
            compactRetransmitQueue()
            return encodeData(part, retransmission: true, now: now, into: buffer)
        }
        compactRetransmitQueue()
        if finSendable { return encodeFin(now: now, into: buffer) }
        let length = newDataLength
        guard length > 0 else { return 0 }
        let range = nextSendOffset..<(nextSendOffset + UInt64(length))
        nextSendOffset = range.upperBound
        return encodeData(range, retransmission: false, now: now, into: buffer)
    }

    private mutating func compactRetransmitQueue() {
        if retransmitHead == retransmitQueue.count {
            retransmitQueue.removeAll(keepingCapacity: true)
            retransmitHead = 0
        } else if retransmitHead >= 256 && retransmitHead * 2 >= retransmitQueue.count {
            retransmitQueue.removeFirst(retransmitHead)
            retransmitHead = 0
        }
    }

    /// The first piece (at most one payload) of `range` that the peer has not acknowledged yet. Acknowledged
    /// bytes below `sendBase` may already be overwritten in the ring, so they must never be sent again.
    private func unacknowledgedPart(of range: Range<UInt64>) -> Range<UInt64>? {
        var start = max(range.lowerBound, sendBase)
        while start < range.upperBound {
            guard let acked = ackedOffsets.range(containingOrAbove: start) else {
                return start..<min(range.upperBound, start + UInt64(payloadBudget(offset: start)))
            }
            if acked.lowerBound <= start {
                start = acked.upperBound
                continue
            }
            return start..<min(range.upperBound, acked.lowerBound, start + UInt64(payloadBudget(offset: start)))
        }
        return nil
    }

    /// RFC 9002 §6.2.4: a probe carries new data when there is some, else repeats the oldest data in flight.
    private mutating func encodeProbe(now: Int64, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let length = newDataLength
        if length > 0 {
            let range = nextSendOffset..<(nextSendOffset + UInt64(length))
            nextSendOffset = range.upperBound
            return encodeData(range, retransmission: false, now: now, into: buffer)
        }
        if sentHead < sent.count, sent[sentHead].state == .inFlight {
            let oldest = sent[sentHead]
            switch oldest.kind {
            case .data:
                if let part = unacknowledgedPart(of: oldest.offset..<(oldest.offset + UInt64(oldest.length))) {
                    return encodeData(part, retransmission: true, now: now, into: buffer)
                }
            case .fin:
                if !finAcked { return encodeFin(now: now, into: buffer) }
            case .ping, .probe:
                break
            }
        }
        if finSendable { return encodeFin(now: now, into: buffer) }
        return encodePing(now: now, into: buffer)
    }

    private mutating func takePacketNumber() -> UInt64 {
        defer { nextPacketNumber += 1 }
        return nextPacketNumber
    }

    private mutating func recordSent(_ packet: SentPacket) {
        sent.append(packet)
        bytesInFlight += Int(packet.size)
        ackElicitingInFlight += 1
        lastAckElicitingSent = packet.timeSent
        stats.packetsSent += 1
    }

    /// RFC 8899 §4.1: a PROBE (a PING padded to `size`), ack-eliciting, never retransmitted.
    private mutating func encodePathMTUProbe(size: Int, now: Int64, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let pn = takePacketNumber()
        var writer = BufferWriter(buffer)
        writer.header(.probe, connectionID, pn)
        let padding = writer.reserve(size - writer.position)
        padding.initializeMemory(as: UInt8.self, repeating: 0)
        recordSent(SentPacket(packetNumber: pn, timeSent: now, offset: UInt64(size), length: 0,
                              size: 0, kind: .probe, state: .inFlight))
        pathMTU.probeSent(packetNumber: pn)
        stats.pathMTUProbesSent += 1
        return writer.position
    }

    private mutating func encodeData(_ range: Range<UInt64>, retransmission: Bool, now: Int64,
                                     into buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(range.lowerBound >= sendBase && range.upperBound <= writeOffset, "sending bytes not in the send buffer")
        let length = Int(range.upperBound - range.lowerBound)
        let pn = takePacketNumber()
        var writer = BufferWriter(buffer)
        writer.header(.data, connectionID, pn)
        writer.varint(range.lowerBound)
        sendBuffer.read(at: range.lowerBound, into: writer.reserve(length))
        recordSent(SentPacket(packetNumber: pn, timeSent: now, offset: range.lowerBound, length: Int32(length),
                              size: Int32(writer.position), kind: .data, state: .inFlight))
        stats.bytesSent += UInt64(length)
        if retransmission { stats.bytesRetransmitted += UInt64(length) }
        return writer.position
    }

    private mutating func encodeFin(now: Int64, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let final = localFinalOffset else { preconditionFailure("FIN without finish()") }
        finPending = false
        let pn = takePacketNumber()
        var writer = BufferWriter(buffer)
        writer.header(.fin, connectionID, pn)
        writer.varint(final)
        recordSent(SentPacket(packetNumber: pn, timeSent: now, offset: final, length: 0,
                              size: Int32(writer.position), kind: .fin, state: .inFlight))
        return writer.position
    }

    private mutating func encodePing(now: Int64, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let pn = takePacketNumber()
        var writer = BufferWriter(buffer)
        writer.header(.ping, connectionID, pn)
        recordSent(SentPacket(packetNumber: pn, timeSent: now, offset: 0, length: 0,
                              size: Int32(writer.position), kind: .ping, state: .inFlight))
        return writer.position
    }

    private mutating func encodeAck(now: Int64, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let ranges = receivedPackets.ranges
        let count = min(configuration.maxAckRanges, ranges.count)
        let largest = ranges[ranges.count - 1].upperBound - 1
        let delayMicros = UInt32(clamping: max(0, now - largestReceivedTime) / 1000)
        // The limit only ever grows: it is bytes read plus the whole window (RFC 9000 §4.1).
        advertisedMaxData = max(advertisedMaxData, readOffset + UInt64(receiveBuffer.capacity))
        let pn = takePacketNumber()
        var writer = BufferWriter(buffer)
        writer.header(.ack, connectionID, pn)
        writer.varint(largest)
        writer.varint(UInt64(delayMicros))
        writer.varint(advertisedMaxData)
        writer.varint(UInt64(count))
        // RFC 9000 §19.3.1: first range length, then (gap, length) pairs going down.
        let top = ranges.count - 1
        writer.varint(largest - ranges[top].lowerBound)
        var smallest = ranges[top].lowerBound
        if count > 1 {
            for index in stride(from: top - 1, through: ranges.count - count, by: -1) {
                let high = ranges[index].upperBound - 1
                writer.varint(smallest - high - 2)
                writer.varint(high - ranges[index].lowerBound)
                smallest = ranges[index].lowerBound
            }
        }
        ackNow = false
        ackDeadline = nil
        unackedElicitingCount = 0
        windowUpdatePending = false
        stats.packetsSent += 1
        return writer.position
    }

    private mutating func encodeReset(_ reason: PeerStreamAbortReason, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let pn = takePacketNumber()
        var writer = BufferWriter(buffer)
        writer.header(.reset, connectionID, pn)
        writer.u16(reason.code)
        writer.append(reason.message.utf8)
        stats.packetsSent += 1
        return writer.position
    }
}
