/// RTT estimation as RFC 9002 §5 (the RFC 6298 filter with QUIC's ack-delay handling), in nanoseconds.
struct RTTEstimator: Sendable {
    /// RFC 9002 §6.1.2 kGranularity.
    static let granularity: Int64 = 1_000_000

    private(set) var smoothed: Int64
    private(set) var variance: Int64
    private(set) var minimum: Int64 = 0
    private(set) var latest: Int64 = 0
    private(set) var hasSample = false

    init(initialRTT: Int64) {
        // RFC 9002 §5.3: before the first sample, smoothed_rtt = kInitialRtt and rttvar = kInitialRtt / 2.
        smoothed = initialRTT
        variance = initialRTT / 2
    }

    /// RFC 9002 §5.3, with the ack delay already capped at max_ack_delay by the caller.
    mutating func addSample(latestRTT: Int64, ackDelay: Int64) {
        let sample = max(latestRTT, 0)
        latest = sample
        guard hasSample else {
            hasSample = true
            minimum = sample
            smoothed = sample
            variance = sample / 2
            return
        }
        minimum = min(minimum, sample)
        // Subtract the peer's ack delay only when that does not take the sample below min_rtt.
        var adjusted = sample
        if sample >= minimum + ackDelay { adjusted = sample - ackDelay }
        variance = (3 * variance + abs(smoothed - adjusted)) / 4
        smoothed = (7 * smoothed + adjusted) / 8
    }

    /// RFC 9002 §6.2.1: smoothed_rtt + max(4 * rttvar, kGranularity) + max_ack_delay.
    func probeTimeout(maxAckDelay: Int64) -> Int64 {
        smoothed + max(4 * variance, Self.granularity) + maxAckDelay
    }

    /// RFC 9002 §6.1.2: max(kTimeThreshold * max(smoothed_rtt, latest_rtt), kGranularity), kTimeThreshold = 9/8.
    var lossDelay: Int64 {
        max(max(smoothed, latest) * 9 / 8, Self.granularity)
    }
}
