/// The `/stats json` keys that SPEC.md and the README document (SPEC's `model` is not implemented yet),
/// checked by the scheduler's, the session's and the binary's tests alike.
public enum StatsKeys {
    public static let top: [String] = [
        "strategy", "workers", "quantum_ms", "boost_period_ms", "cpu_slots", "cpu_bound_running", "levels", "running", "paused", "queued",
        "submitted", "completed", "failed", "cancelled", "timed_out", "preemptions", "demotions", "boosts",
        "avg_wait_ms", "p95_wait_ms", "avg_turnaround_ms", "p95_turnaround_ms", "tools",
    ]
    /// Keys of each element of `levels`.
    public static let level: Set<String> = ["level", "quantum_ms", "queued", "running"]
    /// Keys of each tool in `tools`.
    public static let tool: Set<String> = ["count", "avg_ms", "p95_ms", "cpu_bound"]
}
