extension Duration {
    /// Whole milliseconds, rounded toward zero, clamped to `Int`; for C timeouts.
    public var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, overflowAdding) = ms.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        return overflowAdding ? .max : Int(total)
    }

    /// The duration in seconds, as a `Double`; for arithmetic and messages.
    public var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
