/// Loss-based congestion control as RFC 9002 §7 and Appendix B: slow start, congestion avoidance, one window
/// reduction per recovery period, persistent congestion. Loss is signalled by the SACK-driven detector of the
/// connection (packet threshold 3, time threshold 9/8 RTT).
struct NewRenoController: Sendable {
    private(set) var maxDatagramSize: Int
    private(set) var minimumWindow: Int
    let minimumWindowPackets: Int
    let lossReductionFactor: Double
    private(set) var congestionWindow: Int
    private(set) var slowStartThreshold = Int.max
    /// RFC 9002 §7.3.2: packets sent before this time do not trigger another reduction.
    private var recoveryStartTime: Int64?
    private var bytesAckedInAvoidance = 0
    private(set) var congestionEvents = 0

    init(maxDatagramSize: Int, initialWindowPackets: Int, minimumWindowPackets: Int, lossReductionFactor: Double) {
        self.maxDatagramSize = maxDatagramSize
        self.minimumWindowPackets = minimumWindowPackets
        self.minimumWindow = minimumWindowPackets * maxDatagramSize
        self.lossReductionFactor = lossReductionFactor
        self.congestionWindow = initialWindowPackets * maxDatagramSize
    }

    var inSlowStart: Bool { congestionWindow < slowStartThreshold }

    private func inRecovery(sentTime: Int64) -> Bool {
        guard let start = recoveryStartTime else { return false }
        return sentTime <= start
    }

    /// RFC 9002 §7.3.1/§7.3.3 (OnPacketAcked). `bytesInFlightBefore` is the flight when the ACK arrived: the
    /// window only grows while it is actually used (RFC 9002 §7.8, under-utilisation), so a flow-control-blocked
    /// or application-limited sender does not inflate it.
    mutating func onPacketAcked(size: Int, sentTime: Int64, bytesInFlightBefore: Int) {
        if inRecovery(sentTime: sentTime) { return }
        if bytesInFlightBefore * 2 < congestionWindow { return }
        if inSlowStart {
            congestionWindow += size
        } else {
            bytesAckedInAvoidance += size
            if bytesAckedInAvoidance >= congestionWindow {
                bytesAckedInAvoidance -= congestionWindow
                congestionWindow += maxDatagramSize
            }
        }
    }

    /// RFC 9002 §7.3.2 (OnCongestionEvent).
    mutating func onCongestionEvent(sentTime: Int64, now: Int64) {
        if inRecovery(sentTime: sentTime) { return }
        recoveryStartTime = now
        congestionEvents += 1
        slowStartThreshold = max(Int(Double(congestionWindow) * lossReductionFactor), minimumWindow)
        congestionWindow = slowStartThreshold
        bytesAckedInAvoidance = 0
    }

    /// RFC 9002 §7.6.2: collapse to the minimum window; slow start rebuilds it.
    mutating func onPersistentCongestion(now: Int64) {
        congestionWindow = minimumWindow
        recoveryStartTime = now
        bytesAckedInAvoidance = 0
    }

    /// The datagram size changed (path MTU discovery, RFC 8899 §5): the window stays in bytes (RFC 9000 §14.4
    /// leaves it so), its floor and the avoidance increment follow the new size.
    mutating func setMaxDatagramSize(_ size: Int) {
        maxDatagramSize = size
        minimumWindow = minimumWindowPackets * size
        congestionWindow = max(congestionWindow, minimumWindow)
        slowStartThreshold = slowStartThreshold == .max ? .max : max(slowStartThreshold, minimumWindow)
    }
}
