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
    /// Free text for `/task ID`, e.g. the call's arguments.
    public var detail: String?

    public init(
        name: String,
        group: String? = nil,
        priority: Int = 1,
        estimate: Duration? = nil,
        timeout: Duration? = nil,
        preemptibility: Preemptibility = .cooperative,
        detail: String? = nil
    ) {
        self.name = name
        self.group = group
        self.priority = priority
        self.estimate = estimate
        self.timeout = timeout
        self.preemptibility = preemptibility
        self.detail = detail
    }
}

/// How a task ended. Every submitted task ends exactly once with one of these.
public enum TaskOutcome: Sendable, Equatable, Codable {
    /// The body returned this text.
    case completed(String)
    /// The body threw; the text describes the error.
    case failed(String)
    case cancelled
    case timedOut
}

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

    init(_ outcome: TaskOutcome) {
        switch outcome {
        case .completed: self = .completed
        case .failed: self = .failed
        case .cancelled: self = .cancelled
        case .timedOut: self = .timedOut
        }
    }
}
