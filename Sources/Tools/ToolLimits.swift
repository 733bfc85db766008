/// The limits of the Tools layer in one place.
public enum ToolLimits {
    /// The largest `tools.d` file read: 1 MiB. A larger file is a diagnostic; the others still load.
    public static let maxFileBytes = 1 << 20
    /// The longest `timeout` or `estimated_time` a declaration may give: a year, in seconds. Larger
    /// numbers (up to 1e308 are finite) do not fit the scheduler's `Duration`.
    public static let maxSeconds: Double = 365 * 24 * 3600
}
