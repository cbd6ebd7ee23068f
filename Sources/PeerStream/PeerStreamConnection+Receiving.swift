extension PeerStreamConnection {
    /// Feeds one datagram from the peer. A malformed or protocol-violating datagram throws and is ignored
    /// (nothing changes but `statistics.packetsRejected`).
    public mutating func receive(_ datagram: [UInt8], now: PeerStreamInstant) throws(PeerStreamError) -> [PeerStreamEvent] {
        let result = datagram.withUnsafeBytes { raw in
            Result { () throws(PeerStreamError) -> [PeerStreamEvent] in try receive(raw, now: now) }
        }
        return try result.get()
    }

    public mutating func receive(_ datagram: UnsafeRawBufferPointer, now instant: PeerStreamInstant) throws(PeerStreamError) -> [PeerStreamEvent] {
        let now = instant.nanoseconds
        var events: [PeerStreamEvent] = []
        do {
            let view = try PacketView.parse(datagram, connectionID: connectionID, maxDatagramSize: receiveLimit)
            switch lifecycle {
            case .open, .closed:
                try apply(view, datagram, now: now, events: &events)
            case .aborted(_, let byPeer):
                // RFC 9000 §10.2.1 in spirit: answer a peer that keeps talking with our RESET again, a few times.
                if !byPeer, resetBudget > 0 { resetPending = true; resetBudget -= 1 }
            case .timedOut:
                break
            }
        } catch {
            stats.packetsRejected += 1
            throw error
        }
        stats.packetsReceived += 1
        return events
    }

    /// Validates the packet against the connection's state, then applies it. Every check that can throw comes
    /// before the first mutation, so a rejected packet leaves no trace.
    private mutating func apply(_ view: PacketView, _ datagram: UnsafeRawBufferPointer, now: Int64,
                                events: inout [PeerStreamEvent]) throws(PeerStreamError) {
        switch view {
        case .data(let pn, let offset, let payload):
            let end = offset + UInt64(payload.count)
            guard end <= advertisedMaxData else { throw .flowControlViolation(limit: advertisedMaxData, end: end) }
            if let final = peerFinalOffset, end > final { throw .finalOffsetViolation(finalOffset: final, offending: end) }
            // Bound the book-keeping a peer can make us keep, not only the bytes.
            if offset > contiguousEnd, receivedOffsets.count >= maxReceiveGaps,
               receivedOffsets.wouldAddRange(offset..<end) {
                throw .tooManyGaps(limit: maxReceiveGaps)
            }
            lastReceiveTime = now
            recordPacket(pn, ackEliciting: true, now: now)
            stats.bytesReceived += UInt64(payload.count)
            acceptData(offset: offset, bytes: UnsafeRawBufferPointer(rebasing: datagram[payload]), events: &events)

        case .fin(let pn, let final):
            if let known = peerFinalOffset, known != final { throw .finalOffsetViolation(finalOffset: known, offending: final) }
            let highest = max(contiguousEnd, receivedOffsets.last?.upperBound ?? 0)
            guard highest <= final else { throw .finalOffsetViolation(finalOffset: final, offending: highest) }
            guard final <= advertisedMaxData else { throw .flowControlViolation(limit: advertisedMaxData, end: final) }
            lastReceiveTime = now
            recordPacket(pn, ackEliciting: true, now: now)
            // Acknowledge a FIN at once: it is the last packet the peer waits on to close.
            ackNow = true
            peerFinalOffset = final
            checkPeerFinished(events: &events)

        case .ping(let pn), .probe(let pn, _):
            lastReceiveTime = now
            recordPacket(pn, ackEliciting: true, now: now)
            // A PING is a keepalive or a window probe, a PROBE tests a datagram size (RFC 8899 §4.1): the
            // peer waits for the answer.
            ackNow = true

        case .ack(let pn, let ack):
            guard ack.largestAcknowledged < nextPacketNumber else { throw .ackOfUnsentPacket(ack.largestAcknowledged) }
            lastReceiveTime = now
            recordPacket(pn, ackEliciting: false, now: now)
            processAck(ack, now: now, events: &events)

        case .reset(_, let code, let reason):
            let abortReason = PeerStreamAbortReason(code: code, message: reason)
            lifecycle = .aborted(abortReason, byPeer: true)
            clearTimers()
            events.append(.aborted(abortReason))
        }
    }

    /// Notes a packet number for the next ACK and decides when that ACK goes out (RFC 9000 §13.2.1).
    private mutating func recordPacket(_ pn: UInt64, ackEliciting: Bool, now: Int64) {
        if receivedPackets.contains(pn) {
            if ackEliciting { stats.duplicatePacketsReceived += 1 }
            return
        }
        // RFC 9000 §13.2.1: below the largest received, or above it with a gap (packet 0 is the first).
        let outOfOrder = largestReceived.map { pn < $0 || pn > $0 + 1 } ?? (pn > 0)
        receivedPackets.insert(pn..<(pn + 1))
        receivedPackets.keepHighest(4 * configuration.maxAckRanges)
        if largestReceived.map({ pn > $0 }) ?? true {
            largestReceived = pn
            largestReceivedTime = now
        }
        guard ackEliciting else { return }
        if outOfOrder { ackNow = true }
        unackedElicitingCount += 1
        if unackedElicitingCount >= configuration.ackElicitingThreshold {
            ackNow = true
        } else if ackDeadline == nil {
            ackDeadline = now + maxAckDelay
        }
    }

    /// Places payload into the receive ring and advances the in-order end.
    private mutating func acceptData(offset: UInt64, bytes: UnsafeRawBufferPointer, events: inout [PeerStreamEvent]) {
        let end = offset + UInt64(bytes.count)
        // Bytes below contiguousEnd are already here, and below readOffset their ring slots may hold newer
        // data: never write them again.
        let start = max(offset, contiguousEnd)
        guard start < end else { return }
        receiveBuffer.write(at: start, from: UnsafeRawBufferPointer(rebasing: bytes[Int(start - offset)...]))
        receivedOffsets.insert(start..<end)
        if let first = receivedOffsets.first, first.lowerBound <= contiguousEnd {
            contiguousEnd = first.upperBound
            receivedOffsets.removeFirst()
            events.append(.readable)
            checkPeerFinished(events: &events)
        }
    }

    private mutating func checkPeerFinished(events: inout [PeerStreamEvent]) {
        guard !peerFinishedReported, let final = peerFinalOffset, contiguousEnd == final else { return }
        peerFinishedReported = true
        events.append(.finished)
        checkClosed(events: &events)
    }

    mutating func checkClosed(events: inout [PeerStreamEvent]) {
        guard case .open = lifecycle, let final = localFinalOffset, finAcked, sendBase >= final,
              peerFinishedReported else { return }
        lifecycle = .closed
        clearTimers()
        events.append(.closed)
    }

    // MARK: ACK processing (RFC 9002 §6, §7)

    private mutating func processAck(_ ack: PeerStreamAck, now: Int64, events: inout [PeerStreamEvent]) {
        if ack.maxData > peerMaxData {
            peerMaxData = ack.maxData
            persistCount = 0
        }
        let inFlightBefore = bytesInFlight
        var anyNewlyAcked = false
        var largestNewlyAckedSentTime: Int64?
        let ranges = ack.ranges

        // Outstanding holes below the previous largest acknowledged: either acknowledged now or still waiting.
        if !holes.isEmpty {
            var kept = 0
            var r = ranges.count - 1
            for h in 0..<holes.count {
                let slot = holes[h]
                let index = slot - sentSlotBase
                let pn = sent[index].packetNumber
                while r >= 0 && ranges[r].upperBound < pn { r -= 1 }
                if r >= 0 && ranges[r].lowerBound <= pn {
                    onPacketAcked(index: index, inFlightBefore: inFlightBefore, now: now)
                    anyNewlyAcked = true
                } else {
                    holes[kept] = slot
                    kept += 1
                }
            }
            holes.removeLast(holes.count - kept)
        }

        // Packets above the previous largest acknowledged: each is visited once, then is acknowledged or a hole.
        if largestAcked.map({ ack.largestAcknowledged > $0 }) ?? true {
            var r = ranges.count - 1
            while scanSlot - sentSlotBase < sent.count {
                let index = scanSlot - sentSlotBase
                let pn = sent[index].packetNumber
                if pn > ack.largestAcknowledged { break }
                while r >= 0 && ranges[r].upperBound < pn { r -= 1 }
                if r >= 0 && ranges[r].lowerBound <= pn {
                    if pn == ack.largestAcknowledged { largestNewlyAckedSentTime = sent[index].timeSent }
                    onPacketAcked(index: index, inFlightBefore: inFlightBefore, now: now)
                    anyNewlyAcked = true
                } else {
                    holes.append(scanSlot)
                }
                scanSlot += 1
            }
            largestAcked = ack.largestAcknowledged
        }

        // RFC 9002 §5.1: sample only when the largest acknowledged is newly acknowledged.
        if let sentTime = largestNewlyAckedSentTime {
            if firstRTTSampleTime == nil { firstRTTSampleTime = now }
            let ackDelay = min(Int64(ack.ackDelayMicroseconds) * 1000, maxAckDelay)
            rtt.addSample(latestRTT: now - sentTime, ackDelay: ackDelay)
        }
        if anyNewlyAcked { ptoCount = 0 }

        while let first = ackedOffsets.first, first.lowerBound <= sendBase {
            sendBase = max(sendBase, first.upperBound)
            ackedOffsets.removeFirst()
        }
        // Acknowledged bytes are never sent again: their ring segments can go.
        sendBuffer.discard(below: sendBase)
        detectLosses(now: now)
        if writeBlocked && sendBufferSpace > 0 {
            writeBlocked = false
            events.append(.writable)
        }
        checkClosed(events: &events)
    }

    private mutating func onPacketAcked(index: Int, inFlightBefore: Int, now: Int64) {
        let packet = sent[index]
        sent[index].state = .acked
        bytesInFlight -= Int(packet.size)
        ackElicitingInFlight -= 1
        switch packet.kind {
        case .data: ackedOffsets.insert(packet.offset..<(packet.offset + UInt64(packet.length)))
        case .fin: finAcked = true
        case .ping: break
        case .probe:
            // RFC 8899 §5.2: an acknowledged probe confirms its size; probes are outside congestion control.
            stats.pathMTUProbesAcknowledged += 1
            if let size = pathMTU.probeAcknowledged(packetNumber: packet.packetNumber, size: Int(packet.offset), now: now) {
                setDatagramSize(size)
            }
            return
        }
        congestion.onPacketAcked(size: Int(packet.size), sentTime: packet.timeSent, bytesInFlightBefore: inFlightBefore)
    }

    /// RFC 9002 §6.1: packet threshold 3, time threshold 9/8 RTT. Holes are ordered by packet number and
    /// send time, so the lost ones are a prefix; the first survivor arms the loss timer.
    mutating func detectLosses(now: Int64) {
        lossTime = nil
        guard let largest = largestAcked else { return }
        let delay = rtt.lossDelay
        // RFC 9002 §7.6.1: persistent congestion = losses spanning 3 × (PTO without backoff) with nothing
        // acknowledged in between, all sent after the first RTT sample.
        let persistentSpan = 3 * rtt.probeTimeout(maxAckDelay: maxAckDelay)
        var persistent = false
        var runStart: Int64?
        var previousSlot: Int?
        var lost = 0
        var largestLostSentTime: Int64?
        for slot in holes {
            let index = slot - sentSlotBase
            let packet = sent[index]
            guard largest >= packet.packetNumber + 3 || packet.timeSent <= now - delay else {
                lossTime = packet.timeSent + delay
                break
            }
            markLost(index: index, now: now)
            lost += 1
            // RFC 8899 §3: a lost probe says the size is too large, nothing about congestion.
            if packet.kind == .probe { continue }
            largestLostSentTime = packet.timeSent
            if let previous = previousSlot, anyAcknowledged(between: previous, and: slot) { runStart = nil }
            if let sampleTime = firstRTTSampleTime, packet.timeSent > sampleTime {
                let start = runStart ?? packet.timeSent
                runStart = start
                if packet.timeSent - start > persistentSpan { persistent = true }
            } else {
                runStart = nil
            }
            previousSlot = slot
        }
        if lost > 0 { holes.removeFirst(lost) }
        if let sentTime = largestLostSentTime {
            congestion.onCongestionEvent(sentTime: sentTime, now: now)
        }
        if persistent {
            congestion.onPersistentCongestion(now: now)
            stats.persistentCongestionEvents += 1
        }
        compactSent()
    }

    /// Whether a packet sent between two slots was acknowledged. Each pair of consecutive lost holes is
    /// looked at once, so the scans add up to at most the packets sent.
    private func anyAcknowledged(between first: Int, and second: Int) -> Bool {
        var slot = first + 1
        while slot < second {
            if sent[slot - sentSlotBase].state == .acked { return true }
            slot += 1
        }
        return false
    }

    private mutating func markLost(index: Int, now: Int64) {
        let packet = sent[index]
        sent[index].state = .lost
        bytesInFlight -= Int(packet.size)
        ackElicitingInFlight -= 1
        switch packet.kind {
        case .data: retransmitQueue.append(packet.offset..<(packet.offset + UInt64(packet.length)))
        case .fin: if !finAcked { finPending = true }
        case .ping: break
        case .probe:
            stats.pathMTUProbesLost += 1
            pathMTU.probeLost(packetNumber: packet.packetNumber, size: Int(packet.offset), now: now)
            return
        }
        stats.packetsLost += 1
    }

    /// Drops book-keeping of packets that are settled (acknowledged or lost) from the front.
    private mutating func compactSent() {
        let scanIndex = scanSlot - sentSlotBase
        while sentHead < scanIndex && sent[sentHead].state != .inFlight { sentHead += 1 }
        if sentHead >= 1024 && sentHead * 2 >= sent.count {
            sent.removeFirst(sentHead)
            sentSlotBase += sentHead
            sentHead = 0
        }
    }
}
