/// One task's history, for `/tasks` (recent tasks) and `/task ID` (one task in full).
///
/// Times are durations since the scheduler clock's epoch; JSON shows them in milliseconds.
public struct TaskRecord: Sendable, Equatable, Encodable {
    public struct Transition: Sendable, Equatable, Encodable {
        public var state: TaskState
        public var at: Duration

        enum CodingKeys: String, CodingKey { case state, atMs = "at_ms" }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(state, forKey: .state)
            try c.encode(at.milliseconds, forKey: .atMs)
        }
    }

    public struct LevelChange: Sendable, Equatable, Encodable {
        public var level: Int
        public var at: Duration

        enum CodingKeys: String, CodingKey { case level, atMs = "at_ms" }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(level, forKey: .level)
            try c.encode(at.milliseconds, forKey: .atMs)
        }
    }

    /// Transitions kept per task; later ones are counted in ``droppedTransitions``.
    public static let transitionLimit = 64

    // Stored properties are ordered and optionals of times are sentinels so the record stays small:
    // the machine keeps one per live task and one per remembered ended task (up to `recordLimit`).
    public var id: TaskID
    public var name: String
    public var group: String?
    public var detail: String?
    public var priority: Int
    /// Current (or last) MLFQ level.
    public private(set) var level: Int
    /// The level a task entered at; `laterLevels` holds its changes (demotions, boosts).
    private let firstLevel: Int
    private var laterLevels: [LevelChange] = []
    /// Transitions after the first start and before the end (pauses and resumes). The others are
    /// implied by `submittedAt`, `startedAt` and `endedAt`: a task that waits, runs and ends stores no
    /// array (one allocation less per task; see docs/SCHEDULER.md).
    private var laterTransitions: [Transition] = []
    public private(set) var droppedTransitions = 0
    public var preemptions = 0
    /// Times are kept in nanoseconds, as the state machine keeps them (see ``Nanos``); `Nanos.min`
    /// stands for "not yet".
    private(set) var submittedNanos: Nanos
    private var startedRaw: Nanos = .min
    private var endedRaw: Nanos = .min
    var waitNanos: Nanos = 0
    var runNanos: Nanos = 0
    var pausedNanos: Nanos = 0
    /// The result (completed) or the error (failed, cancelled, timed out), as ``state`` says.
    var text: String?
    public var preemptibility: Preemptibility
    public private(set) var state: TaskState

    var startedNanos: Nanos? { startedRaw == .min ? nil : startedRaw }
    var endedNanos: Nanos? { endedRaw == .min ? nil : endedRaw }

    /// The start of the completed result (at most ``summaryLimit`` characters).
    public var result: String? { state == .completed ? text : nil }
    /// The failure's description, or why the task was cancelled or timed out.
    public var error: String? { state == .failed || state == .cancelled || state == .timedOut ? text : nil }

    public static let summaryLimit = 500

    init(id: TaskID, spec: TaskSpec, level: Int, submittedAt: Nanos) {
        self.id = id
        name = spec.name
        group = spec.group
        priority = spec.priority
        preemptibility = spec.preemptibility
        detail = spec.detail
        state = .waiting
        self.level = level
        firstLevel = level
        submittedNanos = submittedAt
    }

    public var submittedAt: Duration { .nanoseconds(submittedNanos) }
    public var startedAt: Duration? { startedNanos.map { .nanoseconds($0) } }
    public var endedAt: Duration? { endedNanos.map { .nanoseconds($0) } }
    /// Submit to first start (or to now while still waiting).
    public var waitTime: Duration { .nanoseconds(waitNanos) }
    /// Time holding a worker.
    public var runTime: Duration { .nanoseconds(runNanos) }
    /// Time spent paused (preempted) after the first start.
    public var pausedTime: Duration { .nanoseconds(pausedNanos) }

    /// Every state the task went through, with when (at most ``transitionLimit``; later pauses and
    /// resumes are counted in ``droppedTransitions``).
    public var transitions: [Transition] {
        var all = [Transition(state: .waiting, at: submittedAt)]
        if let startedAt { all.append(Transition(state: .running, at: startedAt)) }
        all += laterTransitions
        if let endedAt { all.append(Transition(state: state, at: endedAt)) }
        return all
    }

    /// The level at submission, then every change.
    public var levelHistory: [LevelChange] {
        [LevelChange(level: firstLevel, at: submittedAt)] + laterLevels
    }

    /// Submit to end, for ended tasks.
    public var turnaround: Duration? { endedNanos.map { .nanoseconds($0 - submittedNanos) } }

    /// The first start.
    mutating func start(at time: Nanos) {
        state = .running
        startedRaw = time
        waitNanos = time - submittedNanos
    }

    /// A pause or a resume after the first start.
    mutating func append(_ state: TaskState, at time: Nanos) {
        self.state = state
        // Room stays for the implied first two transitions and the end.
        if laterTransitions.count < Self.transitionLimit - 3 {
            laterTransitions.append(Transition(state: state, at: .nanoseconds(time)))
        } else {
            droppedTransitions += 1
        }
    }

    /// The end, in a final state.
    mutating func end(_ state: TaskState, at time: Nanos) {
        self.state = state
        endedRaw = time
    }

    mutating func changeLevel(to level: Int, at time: Nanos) {
        guard level != self.level else { return }
        self.level = level
        laterLevels.append(LevelChange(level: level, at: .nanoseconds(time)))
    }

    enum CodingKeys: String, CodingKey {
        case id, name, group, priority, preemptibility, detail, state, level
        case submittedMs = "submitted_ms", startedMs = "started_ms", endedMs = "ended_ms"
        case transitions, droppedTransitions = "dropped_transitions", levelHistory = "level_history"
        case waitMs = "wait_ms", runMs = "run_ms", pausedMs = "paused_ms", turnaroundMs = "turnaround_ms"
        case preemptions, result, error
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encodeIfPresent(group, forKey: .group)
        try c.encode(priority, forKey: .priority)
        try c.encode(preemptibility, forKey: .preemptibility)
        try c.encodeIfPresent(detail, forKey: .detail)
        try c.encode(state, forKey: .state)
        try c.encode(level, forKey: .level)
        try c.encode(submittedAt.milliseconds, forKey: .submittedMs)
        try c.encodeIfPresent(startedAt?.milliseconds, forKey: .startedMs)
        try c.encodeIfPresent(endedAt?.milliseconds, forKey: .endedMs)
        try c.encode(transitions, forKey: .transitions)
        try c.encode(droppedTransitions, forKey: .droppedTransitions)
        try c.encode(levelHistory, forKey: .levelHistory)
        try c.encode(waitTime.milliseconds, forKey: .waitMs)
        try c.encode(runTime.milliseconds, forKey: .runMs)
        try c.encode(pausedTime.milliseconds, forKey: .pausedMs)
        try c.encodeIfPresent(turnaround?.milliseconds, forKey: .turnaroundMs)
        try c.encode(preemptions, forKey: .preemptions)
        try c.encodeIfPresent(result, forKey: .result)
        try c.encodeIfPresent(error, forKey: .error)
    }
}

extension Duration {
    /// This duration in (fractional) milliseconds, for statistics and JSON.
    public var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    /// Whole nanoseconds, clamped to `Int64` (``Nanos``).
    var nanoseconds: Nanos {
        // From the attoseconds directly: `components` divides a 128-bit number by 10^18 (a library call
        // that showed in the profile of every event).
        let nanoseconds = attoseconds / 1_000_000_000
        return Nanos(clamping: nanoseconds)
    }
}

/// The state machine's time: nanoseconds since the clock's epoch, or a span of nanoseconds. Eight
/// bytes with inline arithmetic, where a `Duration` is sixteen and its arithmetic and comparisons are
/// calls into the standard library (they showed in the profile of every event). Events bring
/// `Duration`s in and records and actions give `Duration`s out; inside, times are `Nanos`.
typealias Nanos = Int64

extension Nanos {
    /// Saturating addition: a deadline beyond the range stays at the end of it instead of trapping.
    func adding(_ other: Nanos) -> Nanos {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// Saturating multiplication by a non-negative factor.
    func multipliedClamped(by factor: Nanos) -> Nanos {
        let (product, overflow) = multipliedReportingOverflow(by: factor)
        return overflow ? (self > 0 ? .max : .min) : product
    }
}
