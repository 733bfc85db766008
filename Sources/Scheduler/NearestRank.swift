/// Percentiles by the nearest-rank method, as `/stats` reports them: the `q` percentile of n sorted
/// values is the value at rank ⌈q·n⌉ (1-based), so it is always one of the samples.
public enum NearestRank {
    /// The `q` percentile (0 < q ≤ 1) of `sorted`, which must be in ascending order; nil when empty.
    /// - Complexity: O(1).
    public static func percentile<Value>(_ sorted: [Value], _ q: Double) -> Value? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((Double(sorted.count) * q).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}
