/// A scheduler-assigned task number, unique within one ``Scheduler``; shown by `/tasks` and `/task ID`.
public struct TaskID: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (lhs: TaskID, rhs: TaskID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}

/// The scheduling policy; the raw values are the names `/strategy` and `--strategy` accept.
public enum Strategy: String, Sendable, CaseIterable, Codable {
    /// Multilevel feedback queue (OSTEP ch. 8): levels, quanta, allotments, periodic boost.
    case mlfq
    /// Strict priority; a waiting task of better priority pauses a running preemptible one.
    case preemptive
    /// Strict priority without preemption.
    case priority
    /// Time slices over all runnable tasks when they outnumber the workers.
    case roundRobin = "round_robin"
    /// Shortest estimate first (declared estimate, then a moving average of measured run times).
    case sjf
    /// Arrival order.
    case fifo
}

/// How a running task can be paused to free its worker.
public enum Preemptibility: String, Sendable, Codable, CaseIterable {
    /// A subprocess-backed task: its body registers pause/resume handlers with
    /// ``TaskContext/onPause(_:resume:)`` (SIGSTOP/SIGCONT of the process group).
    case signals
    /// An in-process task: it parks at its next `await context.checkpoint()`.
    case cooperative
    /// Never paused: it keeps its worker until it ends.
    case none
}

/// What to run: one tool call.
public struct TaskSpec: Sendable {
    /// The tool's name; statistics and learned estimates are kept per name.
    public var name: String
    /// The group the task belongs to, e.g. one agent turn; ``Scheduler/cancel(group:)`` ends them all.
    public var group: String?
    /// 0 is the highest; under `mlfq` also the entry level (clamped to the lowest level).
    public var priority: Int
    /// Declared run time, used by `sjf` until run times of this tool were measured.
    public var estimate: Duration?
    /// Maximum run time (time holding a worker; waiting and paused time do not count).
    public var timeout: Duration?
    public var preemptibility: Preemptibility
    /// Whether the task keeps a core busy (`"cpu"` in tools.d); `nil`: learned from measurements.
    public var cpuBound: Bool?
    /// Free text for `/task ID`, e.g. the call's arguments.
    public var detail: String?
    /// A limit on how many tasks of this lane are started and not ended at once (the calls in flight to
    /// one MCP server); the others wait in the scheduler, let in by rank, then arrival. nil: no limit.
    public var lane: Lane?

    public init(
        name: String,
        group: String? = nil,
        priority: Int = 1,
        estimate: Duration? = nil,
        timeout: Duration? = nil,
        preemptibility: Preemptibility = .cooperative,
        cpuBound: Bool? = nil,
        detail: String? = nil,
        lane: Lane? = nil
    ) {
        self.name = name
        self.group = group
        self.priority = priority
        self.estimate = estimate
        self.timeout = timeout
        self.preemptibility = preemptibility
        self.cpuBound = cpuBound
        self.detail = detail
        self.lane = lane
    }
}

/// Tasks that share a limit on how many of them run (or are paused) at once.
public struct Lane: Sendable, Hashable {
    public var name: String
    /// At least 1. The limit of the lane's first live task holds while any of its tasks is live.
    public var limit: Int

    public init(name: String, limit: Int) {
        self.name = name
        self.limit = max(1, limit)
    }
}

/// What a task's body returns: a typed value that says whether the task did its job.
///
/// The scheduler hands the value back whole in ``TaskOutcome`` (for tools: the `ToolResult` with its
/// exit status, stderr tail, HTTP status), counts the task as completed or failed by ``succeeded``,
/// and keeps ``summary`` (cut to ``TaskRecord/summaryLimit``) in the task's record.
public protocol TaskResult: Sendable {
    /// True: the task counts as completed; false: as failed.
    var succeeded: Bool { get }
    /// The start of the output when it succeeded, else the error, for `/tasks` and `/task ID`.
    var summary: String { get }
    /// CPU time the body's work used (a tool's processes), when known: with the run time it tells the
    /// scheduler whether the tool is CPU-bound.
    var cpuTime: Duration? { get }
}

extension TaskResult {
    public var cpuTime: Duration? { nil }
}

/// How a task ended, as the state machine sees it: the final states.
public enum TaskEnd: Sendable, Equatable {
    case completed, failed, cancelled, timedOut
}

/// How a task ended, with its body's value. Every submitted task ends exactly once with one of these.
public enum TaskOutcome<Value: TaskResult>: Sendable {
    /// The body returned a value that succeeded.
    case completed(Value)
    /// The body returned a value that did not succeed (a tool's non-zero exit, an HTTP error, ...).
    case failed(Value)
    /// Cancelled before its body returned (the body's later value, if any, is dropped).
    case cancelled
    /// Ran for its whole timeout and was stopped.
    case timedOut

    /// The body's value, when it returned before the task ended.
    public var value: Value? {
        switch self {
        case .completed(let value), .failed(let value): value
        case .cancelled, .timedOut: nil
        }
    }
}

extension TaskOutcome: Equatable where Value: Equatable {}

/// Where a task is in its life; the last four are final.
public enum TaskState: String, Sendable, Codable, CaseIterable {
    case waiting, running, paused, completed, failed, cancelled
    case timedOut = "timed_out"

    public var isFinal: Bool {
        switch self {
        case .waiting, .running, .paused: false
        case .completed, .failed, .cancelled, .timedOut: true
        }
    }

    init(_ outcome: TaskEnd) {
        switch outcome {
        case .completed: self = .completed
        case .failed: self = .failed
        case .cancelled: self = .cancelled
        case .timedOut: self = .timedOut
        }
    }
}
