import Collections
import JSON

/// A snapshot of the scheduler's state and counters, for `/stats` and `/stats json`.
///
/// Times are milliseconds. Averages cover every ended task; percentiles cover the most recent ones
/// (``SchedulerConfiguration/recordLimit`` tasks, 200 per tool).
public struct SchedulerStats: Sendable, Equatable {
    public struct Level: Sendable, Equatable {
        public var level: Int
        public var quantumMs: Double
        /// Tasks at this level that hold no worker (waiting or paused).
        public var queued: Int
        /// Tasks at this level that hold a worker.
        public var running: Int
    }

    public struct Tool: Sendable, Equatable {
        /// Ended calls of this tool.
        public var count: Int
        /// Mean run time (time holding a worker) of the ended calls that ran.
        public var avgMs: Double
        public var p95Ms: Double
        /// Whether the tool's measured calls were CPU-bound; nil until one was measured.
        public var cpuBound: Bool? = nil
    }

    public var strategy: Strategy
    public var workers: Int
    public var quantumMs: Double
    public var boostPeriodMs: Double
    /// Running tasks that may be CPU-bound at once (`mlfq`); nil: no limit.
    public var cpuSlots: Int?
    /// Running tasks counted as CPU-bound (declared, measured, or not measured yet).
    public var cpuBoundRunning: Int
    public var levels: [Level]
    public var running: Int
    public var paused: Int
    /// Tasks waiting for their first start.
    public var queued: Int
    public var submitted: Int
    public var completed: Int
    public var failed: Int
    public var cancelled: Int
    public var timedOut: Int
    public var preemptions: Int
    public var demotions: Int
    public var boosts: Int
    public var avgWaitMs: Double
    public var p95WaitMs: Double
    public var avgTurnaroundMs: Double
    public var p95TurnaroundMs: Double
    public var tools: [String: Tool]

    /// Tasks that ended, whatever the outcome.
    public var ended: Int { completed + failed + cancelled + timedOut }

    /// The `/stats json` object (and `GET /stats`'s scheduler keys): every key is written, `cpu_slots`
    /// and a tool's `cpu_bound` as `null` when unknown. Built as a value and written by `JSONWriter`:
    /// `GET /stats` spent most of its time in Foundation's `JSONEncoder` (docs/BENCHMARKS.md).
    public var json: [String: JSONValue] {
        [
            "strategy": .string(strategy.rawValue), "workers": .int(Int64(workers)), "quantum_ms": .double(quantumMs),
            "boost_period_ms": .double(boostPeriodMs), "cpu_slots": cpuSlots.map { .int(Int64($0)) } ?? .null,
            "cpu_bound_running": .int(Int64(cpuBoundRunning)),
            "levels": .array(levels.map { level in
                [
                    "level": .int(Int64(level.level)), "quantum_ms": .double(level.quantumMs), "queued": .int(Int64(level.queued)),
                    "running": .int(Int64(level.running)),
                ]
            }),
            "running": .int(Int64(running)), "paused": .int(Int64(paused)), "queued": .int(Int64(queued)),
            "submitted": .int(Int64(submitted)), "completed": .int(Int64(completed)), "failed": .int(Int64(failed)),
            "cancelled": .int(Int64(cancelled)), "timed_out": .int(Int64(timedOut)), "preemptions": .int(Int64(preemptions)),
            "demotions": .int(Int64(demotions)), "boosts": .int(Int64(boosts)),
            "avg_wait_ms": .double(avgWaitMs), "p95_wait_ms": .double(p95WaitMs),
            "avg_turnaround_ms": .double(avgTurnaroundMs), "p95_turnaround_ms": .double(p95TurnaroundMs),
            "tools": .object(tools.mapValues { tool in
                [
                    "count": .int(Int64(tool.count)), "avg_ms": .double(tool.avgMs), "p95_ms": .double(tool.p95Ms),
                    "cpu_bound": tool.cpuBound.map(JSONValue.bool) ?? .null,
                ]
            }),
        ]
    }
}

/// Running totals behind ``SchedulerStats``, with bounded sample windows.
struct StatsAccumulator: Sendable {
    struct ToolTotals: Sendable {
        var count = 0
        var runSum: Nanos = 0
        var runCount = 0
        var window = Deque<Nanos>()
        /// The learned `sjf` estimate: a moving average of the run times of completed and failed runs.
        var estimate: Nanos?
    }

    static let toolWindow = 200

    var submitted = 0
    var completed = 0
    var failed = 0
    var cancelled = 0
    var timedOut = 0
    var preemptions = 0
    var demotions = 0
    var boosts = 0
    var waitSum: Nanos = 0
    var waitCount = 0
    var turnaroundSum: Nanos = 0
    var turnaroundCount = 0
    var waitWindow = Deque<Nanos>()
    var turnaroundWindow = Deque<Nanos>()
    /// Per tool name.
    var tools: [String: ToolTotals] = [:]
    let windowLimit: Int

    init(windowLimit: Int) { self.windowLimit = windowLimit }

    mutating func recordStart(wait: Nanos) {
        waitSum = waitSum.adding(wait)
        waitCount += 1
        Self.push(wait, into: &waitWindow, limit: windowLimit)
    }

    /// Counts an ended task; `smoothing` weighs its run time into its tool's `sjf` estimate.
    mutating func recordEnd(_ record: TaskRecord, outcome: TaskEnd, smoothing: Double) {
        switch outcome {
        case .completed: completed += 1
        case .failed: failed += 1
        case .cancelled: cancelled += 1
        case .timedOut: timedOut += 1
        }
        if let ended = record.endedNanos {
            let turnaround = ended - record.submittedNanos
            turnaroundSum = turnaroundSum.adding(turnaround)
            turnaroundCount += 1
            Self.push(turnaround, into: &turnaroundWindow, limit: windowLimit)
        }
        // In place, with one lookup: copying the totals out and back would copy the window on every push.
        let learns = outcome == .completed || outcome == .failed
        Self.add(record, learning: learns, smoothing: smoothing, to: &tools[record.name, default: ToolTotals()])
    }

    private static func add(_ record: TaskRecord, learning: Bool, smoothing: Double, to tool: inout ToolTotals) {
        tool.count += 1
        guard record.startedNanos != nil else { return }
        let run = record.runNanos
        tool.runSum = tool.runSum.adding(run)
        tool.runCount += 1
        push(run, into: &tool.window, limit: toolWindow)
        if learning {
            tool.estimate = tool.estimate.map { previous in
                // Between the two; only times near Nanos.max could round up to 2^63, which Int64 cannot hold.
                let mixed = Double(run) * smoothing + Double(previous) * (1 - smoothing)
                return mixed < 0x1p63 ? Nanos(mixed) : .max
            } ?? run
        }
    }

    private static func push(_ value: Nanos, into window: inout Deque<Nanos>, limit: Int) {
        if window.count >= limit { window.removeFirst() }
        window.append(value)
    }

    static func mean(_ sum: Nanos, _ count: Int) -> Double {
        count == 0 ? 0 : Double(sum) / 1e6 / Double(count)
    }

    /// The nearest-rank 95th percentile of `window`, in milliseconds.
    /// - Complexity: O(n log n).
    static func p95(_ window: Deque<Nanos>) -> Double {
        NearestRank.percentile(window.sorted(), 0.95).map { Double($0) / 1e6 } ?? 0
    }
}
