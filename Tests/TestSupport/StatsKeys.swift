/// The `/stats json` keys that SPEC.md and the README document, checked by the scheduler's, the
/// session's and the binary's tests alike.
public enum StatsKeys {
    /// The scheduler's own keys (`SchedulerStats`).
    public static let scheduler: [String] = [
        "strategy", "workers", "quantum_ms", "boost_period_ms", "cpu_slots", "cpu_bound_running", "levels", "running", "paused", "queued",
        "submitted", "completed", "failed", "cancelled", "timed_out", "preemptions", "demotions", "boosts",
        "avg_wait_ms", "p95_wait_ms", "avg_turnaround_ms", "p95_turnaround_ms", "tools",
    ]
    /// Every top-level key of a session's `/stats json`: the scheduler's and the model's.
    public static let top: [String] = scheduler + ["model"]
    /// Keys of each element of `levels`.
    public static let level: Set<String> = ["level", "quantum_ms", "queued", "running"]
    /// Keys of each tool in `tools`.
    public static let tool: Set<String> = ["count", "avg_ms", "p95_ms", "cpu_bound"]
    /// Keys of `model`: the session's model calls, tokens by kind, time in the model and in tools,
    /// time to first token.
    public static let model: Set<String> = [
        "calls", "calls_without_usage", "input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens",
        "model_seconds", "tool_seconds", "ttft_p50_ms", "ttft_p95_ms",
    ]
}
