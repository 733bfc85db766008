/// The scheduler's tunables. The defaults are chosen for LLM tool calls (see docs/SCHEDULER.md).
public struct SchedulerConfiguration: Sendable, Equatable {
    public var strategy: Strategy
    /// Tasks that may hold a worker at once (at least 1).
    public var workers: Int
    /// MLFQ levels (at least 1); level 0 is the top.
    public var levels: Int
    /// Time slice of the top level (and of `round_robin`); level `l` gets `baseQuantum * 2^l`.
    public var baseQuantum: Duration
    /// Run time a task may use at one level before it moves down, in quanta of that level.
    /// The lowest level has no allotment.
    public var allotmentQuanta: Int
    /// Every `boostPeriod` all tasks move back to the top level.
    public var boostPeriod: Duration
    /// Weight of the newest measured run time in the `sjf` moving average (0...1).
    public var estimateSmoothing: Double
    /// `sjf` estimate for a tool with neither a declared estimate nor a measurement.
    public var defaultEstimate: Duration
    /// Finished task records kept for `/tasks` and `/task ID`; also the percentile window.
    public var recordLimit: Int

    public init(
        strategy: Strategy = .mlfq,
        workers: Int = 8,
        levels: Int = 3,
        baseQuantum: Duration = .milliseconds(200),
        allotmentQuanta: Int = 2,
        boostPeriod: Duration = .seconds(2),
        estimateSmoothing: Double = 0.5,
        defaultEstimate: Duration = .seconds(1),
        recordLimit: Int = 1000
    ) {
        self.strategy = strategy
        self.workers = max(1, workers)
        self.levels = max(1, levels)
        self.baseQuantum = max(baseQuantum, .milliseconds(1))
        self.allotmentQuanta = max(1, allotmentQuanta)
        self.boostPeriod = max(boostPeriod, .milliseconds(1))
        self.estimateSmoothing = min(1, max(0, estimateSmoothing))
        self.defaultEstimate = defaultEstimate
        self.recordLimit = max(1, recordLimit)
    }

    /// The time slice of `level` (also the `round_robin` slice for level 0).
    public func quantum(atLevel level: Int) -> Duration {
        baseQuantum * (1 << min(max(level, 0), 30))
    }

    /// Run time allowed at `level` before demotion; `nil` at the lowest level.
    public func allotment(atLevel level: Int) -> Duration? {
        level >= levels - 1 ? nil : quantum(atLevel: level) * allotmentQuanta
    }
}
