#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The scheduler's tunables. The defaults are chosen for LLM tool calls and measured against starting
/// every call at once (see docs/SCHEDULER.md, "Defaults and why").
public struct SchedulerConfiguration: Sendable, Equatable {
    public var strategy: Strategy
    /// Tasks that may hold a worker at once (at least 1).
    public var workers: Int
    /// MLFQ levels (at least 1); level 0 is the top.
    public var levels: Int
    /// Time slice of the top level (and of `round_robin`); level `l` above the lowest gets
    /// `baseQuantum * 2^l`.
    public var baseQuantum: Duration
    /// Time slice of the lowest MLFQ level (when there are two levels or more): long, so that the calls
    /// that sank there run one after another rather than sharing the cores (which makes them all end
    /// late), yet rotate if one of them never ends.
    public var lowestQuantum: Duration
    /// Under `mlfq`: CPU-bound tasks that may run (unpaused) at once, one per core by default; `nil`: no
    /// limit. A task is CPU-bound when its spec says so, else as learned from its tool's measured CPU
    /// time against its run time; a pausable task of a tool not measured yet counts as CPU-bound until
    /// ``cpuProbe`` of run time shows otherwise. Other tasks (I/O-bound, in-process) use the other workers.
    public var cpuSlots: Int?
    /// Run time after which a task of unknown CPU use has its CPU time read (`mlfq`).
    public var cpuProbe: Duration
    /// Run time a task may use at one level before it moves down, in quanta of that level.
    /// The lowest level has no allotment.
    public var allotmentQuanta: Int
    /// Every `boostPeriod`, the tasks that waited that long at a level that got no run time in that
    /// period (starved by the levels above) move back to the top level.
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
        baseQuantum: Duration = .milliseconds(50),
        lowestQuantum: Duration = .seconds(10),
        allotmentQuanta: Int = 1,
        cpuSlots: Int? = Self.cores,
        cpuProbe: Duration = .milliseconds(100),
        boostPeriod: Duration = .seconds(2),
        estimateSmoothing: Double = 0.5,
        defaultEstimate: Duration = .seconds(1),
        recordLimit: Int = 1000
    ) {
        self.strategy = strategy
        self.workers = max(1, workers)
        self.levels = max(1, levels)
        self.baseQuantum = max(baseQuantum, .milliseconds(1))
        self.lowestQuantum = max(lowestQuantum, .milliseconds(1))
        self.cpuSlots = cpuSlots.map { max(1, $0) }
        self.cpuProbe = max(cpuProbe, .milliseconds(1))
        self.allotmentQuanta = max(1, allotmentQuanta)
        self.boostPeriod = max(boostPeriod, .milliseconds(1))
        self.estimateSmoothing = min(1, max(0, estimateSmoothing))
        self.defaultEstimate = defaultEstimate
        self.recordLimit = max(1, recordLimit)
    }

    /// The cores of this machine: the default ``cpuSlots``.
    public static var cores: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// The time slice of `level` (also the `round_robin` slice for level 0).
    public func quantum(atLevel level: Int) -> Duration {
        if levels > 1, level >= levels - 1 { return lowestQuantum }
        return baseQuantum * (1 << min(max(level, 0), 30))
    }

    /// Run time allowed at `level` before demotion; `nil` at the lowest level.
    public func allotment(atLevel level: Int) -> Duration? {
        level >= levels - 1 ? nil : quantum(atLevel: level) * allotmentQuanta
    }
}
