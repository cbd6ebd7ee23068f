/// A set of `UInt64` values kept as sorted, disjoint, non-adjacent half-open ranges.
///
/// Used for acknowledged stream offsets (sender), received stream offsets and received packet numbers
/// (receiver). Inserts at the end — the common case — are O(1); others binary-search, O(log n) plus the
/// merge. The number of ranges is the number of holes, which loss keeps small.
struct OffsetRangeSet: Sendable {
    private(set) var ranges: [Range<UInt64>] = []

    var isEmpty: Bool { ranges.isEmpty }
    var count: Int { ranges.count }
    var first: Range<UInt64>? { ranges.first }
    var last: Range<UInt64>? { ranges.last }

    /// Index of the first range whose upper bound is >= `value` (a range ending at `value` adjoins it).
    private func firstIndex(upperAtLeast value: UInt64) -> Int {
        var low = 0
        var high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if ranges[mid].upperBound < value { low = mid + 1 } else { high = mid }
        }
        return low
    }

    mutating func insert(_ range: Range<UInt64>) {
        guard !range.isEmpty else { return }
        if let tail = ranges.last {
            if range.lowerBound > tail.upperBound {
                ranges.append(range)
                return
            }
            if range.lowerBound >= tail.lowerBound {
                ranges[ranges.count - 1] = tail.lowerBound..<max(tail.upperBound, range.upperBound)
                return
            }
        } else {
            ranges.append(range)
            return
        }
        let start = firstIndex(upperAtLeast: range.lowerBound)
        var end = start
        var lower = range.lowerBound
        var upper = range.upperBound
        while end < ranges.count, ranges[end].lowerBound <= range.upperBound {
            lower = min(lower, ranges[end].lowerBound)
            upper = max(upper, ranges[end].upperBound)
            end += 1
        }
        if start == end {
            ranges.insert(range, at: start)
        } else {
            ranges[start] = lower..<upper
            if end > start + 1 { ranges.removeSubrange((start + 1)..<end) }
        }
    }

    /// Whether inserting `range` would add a range rather than extend or merge existing ones.
    func wouldAddRange(_ range: Range<UInt64>) -> Bool {
        let index = firstIndex(upperAtLeast: range.lowerBound)
        return index == ranges.count || ranges[index].lowerBound > range.upperBound
    }

    func contains(_ value: UInt64) -> Bool {
        let index = firstIndex(upperAtLeast: value + 1)
        return index < ranges.count && ranges[index].lowerBound <= value
    }

    /// The range containing `value`, or else the first range above it.
    func range(containingOrAbove value: UInt64) -> Range<UInt64>? {
        let index = firstIndex(upperAtLeast: value + 1)
        return index < ranges.count ? ranges[index] : nil
    }

    mutating func removeFirst() {
        ranges.removeFirst()
    }

    /// Drops the lowest ranges so that at most `limit` remain.
    mutating func keepHighest(_ limit: Int) {
        if ranges.count > limit { ranges.removeFirst(ranges.count - limit) }
    }

    /// Sum of the lengths of all ranges.
    var totalLength: UInt64 {
        ranges.reduce(0) { $0 + ($1.upperBound - $1.lowerBound) }
    }
}
