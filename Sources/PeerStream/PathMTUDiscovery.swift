/// Datagram Packetization Layer PMTU Discovery (RFC 8899), the search part; the connection sends the probes
/// and reports what became of them.
///
/// Sizes are PeerStream datagram sizes. The base size (`maxDatagramSize`) is assumed to work (RFC 8899
/// §5.1.2 BASE_PLPMTU; for SecureStream the 1200-byte ICE budget). The search probes the largest allowed size
/// first (most paths carry a full Ethernet frame), then halves the interval between the largest confirmed and
/// the smallest failed size (RFC 8899 §5.3.2 leaves the method open) until it is narrower than
/// `granularity`. A size fails after `maxProbes` lost probes (RFC 8899 §5.1.2 MAX_PROBES = 3). After the
/// search, or after a black hole sent the size back to the base (§4.3), it probes again after the raise
/// interval (§5.1.1 PMTU_RAISE_TIMER).
public enum PathMTUSearch {
    /// A size fails after this many lost probes (RFC 8899 §5.1.2 MAX_PROBES).
    public static let maxProbes = 3
    /// The search stops once the largest confirmed and the smallest failed size are closer than this.
    public static let granularity = 16
}

struct PathMTUDiscovery: Sendable {
    enum Phase: Sendable, Equatable {
        case disabled
        /// Probing; `probeSize` is the next (or outstanding) probe.
        case searching
        /// Nothing to probe until `raiseAt` (nil: the largest allowed size is in use).
        case complete
    }

    static let maxProbes = PathMTUSearch.maxProbes
    static let granularity = PathMTUSearch.granularity

    let base: Int
    let limit: Int
    let raiseInterval: Int64
    private(set) var phase: Phase
    /// The confirmed size in use (PLPMTU).
    private(set) var current: Int
    /// Largest size confirmed / smallest size known to fail minus one, in this search.
    private var low: Int
    private var high: Int
    private(set) var probeSize: Int
    /// The packet number of the probe in flight, if any.
    private(set) var outstanding: UInt64?
    private var failures = 0
    private(set) var raiseAt: Int64?

    init(base: Int, limit: Int?, raiseInterval: Int64) {
        self.base = base
        self.limit = max(base, limit ?? base)
        self.raiseInterval = raiseInterval
        current = base
        low = base
        high = self.limit
        probeSize = self.limit
        phase = self.limit > base ? .searching : .disabled
    }

    /// The size of the probe to send now, if one is due (none while one is in flight).
    mutating func probeDue(now: Int64) -> Int? {
        switch phase {
        case .disabled:
            return nil
        case .complete:
            guard let at = raiseAt, now >= at else { return nil }
            startSearch()
        case .searching:
            break
        }
        return outstanding == nil ? probeSize : nil
    }

    mutating func probeSent(packetNumber: UInt64) {
        outstanding = packetNumber
    }

    /// A probe of `size` was acknowledged; returns the new size in use when it grew.
    mutating func probeAcknowledged(packetNumber: UInt64, size: Int, now: Int64) -> Int? {
        if outstanding == packetNumber { outstanding = nil }
        guard phase == .searching, size == probeSize else { return nil }
        failures = 0
        low = size
        let grew = size > current ? size : nil
        current = max(current, size)
        advance(now: now)
        return grew
    }

    /// A probe was declared lost: not congestion (RFC 8899 §3), but after `maxProbes` the size fails.
    mutating func probeLost(packetNumber: UInt64, size: Int, now: Int64) {
        if outstanding == packetNumber { outstanding = nil }
        guard phase == .searching, size == probeSize else { return }
        failures += 1
        guard failures >= Self.maxProbes else { return }
        failures = 0
        high = size - 1
        advance(now: now)
    }

    /// The driver could not even send a probe of `size`: the local interface's MTU is smaller (EMSGSIZE with
    /// fragmentation forbidden, RFC 8899 §4.6.2 treats such local knowledge like a PTB message). The size fails
    /// at once; the probe packet itself is later declared lost and ignored then.
    mutating func probeRefused(size: Int, now: Int64) {
        guard phase == .searching, size == probeSize else { return }
        outstanding = nil
        failures = 0
        high = size - 1
        advance(now: now)
    }

    /// RFC 8899 §4.3: packets of the size in use keep getting lost while smaller ones are not: back to the
    /// base size, search again after the raise interval. Returns true when the size fell.
    mutating func blackHole(now: Int64) -> Bool {
        guard phase != .disabled, current > base else { return false }
        current = base
        phase = .complete
        outstanding = nil
        failures = 0
        raiseAt = now + raiseInterval
        return true
    }

    private mutating func startSearch() {
        phase = .searching
        low = current
        high = limit
        probeSize = limit
        failures = 0
        raiseAt = nil
    }

    private mutating func advance(now: Int64) {
        if low >= limit {
            phase = .complete
            raiseAt = nil
        } else if high - low < Self.granularity {
            phase = .complete
            raiseAt = now + raiseInterval
        } else {
            probeSize = (low + high + 1) / 2
        }
    }
}
