import Collections

/// The scheduler's decisions as a value: one `mutating func` per event, each returning the actions
/// the driver must perform. No locks, clocks or tasks inside; time comes in as `now`, a duration since
/// the clock's epoch (a `now` earlier than one already seen counts as the latest one seen).
///
/// Structures:
/// - `tasks`: every live (not yet ended) task, with its place: waiting, running or paused. A
///   ``TaskTable``: entries sit in reusable slots of one array (changed in place, never copied) with an
///   index from id to slot; inside the machine tasks are named by slot, so the per-event work costs no
///   hashing and no copying of an entry's strings and arrays.
/// - `running`: the slots of the tasks holding a worker, in start order (at most `workers` of them,
///   see below).
/// - `ready`: a ``ReadyQueue`` (min-heap, lazy deletion) of the waiting and paused tasks, best first
///   under the current strategy.
/// - ended tasks leave `tasks` and their ``TaskRecord`` goes to a bounded ring, `ended`.
///
/// Invariants (checked by ``checkInvariants()``):
/// - every live task is in exactly one place: running (in `running`) or ready (one live key in `ready`);
/// - `running.count <= workers`, unless every running task is non-preemptible (after `setWorkers`
///   shrank the pool: such tasks cannot be paused and keep their worker until they end);
/// - no task ends twice: `finish` is emitted once per task, and events about ended tasks do nothing.
/// - lanes (``Lane``): a task whose lane is full is *held*: waiting, but in no ready queue until a
///   task of its lane ends; a lane never has more than its limit of tasks ready-unstarted or started.
///
/// Timers: the machine keeps the deadlines itself (slice ends, timeouts, the next boost) and emits
/// ``Action/armTimer(at:)`` when the earliest one is earlier than the timer already armed; the driver
/// then calls ``advance(to:)`` at that time, which fires whatever is due.
public struct SchedulerStateMachine: Sendable {
    /// What the driver must do, in order, after the event.
    public enum Action: Sendable, Equatable {
        /// Run the task's body for the first time.
        case start(TaskID)
        /// Pause the running body (SIGSTOP its process group, or park it at its next checkpoint).
        case pause(TaskID)
        /// Resume a paused body.
        case resume(TaskID)
        /// Stop a started body: resume it first if paused, then cancel its Swift task.
        case cancel(TaskID)
        /// Report how the task ended to whoever waits; exactly once per task.
        case finish(TaskID, TaskEnd)
        /// Call ``advance(to:)`` at this time.
        case armTimer(at: Duration)
        /// Read the running task's CPU demand so far (time on a CPU plus time waiting for one) and report
        /// it with ``measuredCPU(_:demand:now:)``.
        case measureCPU(TaskID)
        /// Read how many threads the machine has runnable right now and report it with
        /// ``observedLoad(runnable:now:)`` (only after ``sampleLoad(every:)`` turned sampling on).
        case sampleLoad
    }

    enum Place: Sendable, Equatable { case waiting, running, paused }

    /// What the machine knows of a task's CPU use. All but `light` hold one of the `cpuSlots` while running.
    enum CPUUse: UInt8, Sendable {
        /// I/O-bound or in-process: needs a worker, not a core.
        case light
        /// Keeps a core busy.
        case heavy
        /// Not measured yet (a pausable task of a tool without measurements): treated as heavy, and its
        /// CPU time is read once it has run for `cpuProbe`.
        case unknown
        /// Its CPU time was asked for (``Action/measureCPU(_:)``); treated as heavy until it comes.
        case probing

        var holdsCore: Bool { self != .light }
        /// The queue of `ready` it waits in.
        var queue: Int { holdsCore ? 1 : 0 }
    }

    /// What the machine reads on every event about a live task. Plain values only (no strings or
    /// arrays), so reading one costs no reference counting; its ``TaskRecord`` sits beside it in the table.
    struct Entry: Sendable {
        // Optional times are stored as sentinels (`Nanos.max`: none) and the one-byte fields last, so
        // an entry is 112 bytes instead of 168: less memory to fill when many tasks are queued.
        var id: TaskID
        var priority: Int
        var submittedAt: Nanos
        private var timeoutRaw: Nanos
        /// The spec's declared estimate (`sjf`).
        private var estimateRaw: Nanos
        var level: Int
        /// Run time used at the current level (MLFQ allotment).
        var usedAtLevel: Nanos = 0
        /// When the current run slice began (valid while running).
        var sliceStart: Nanos = 0
        /// When the current slice ends (MLFQ quantum or allotment, round-robin slice), if it does.
        private var sliceEndRaw: Nanos = .max
        /// Token of the task's live key in `ready`.
        var readyToken: UInt64 = 0
        /// Tie-break order in `ready`.
        var readyOrder: UInt64
        /// When the task last became ready (for paused time).
        var readySince: Nanos
        /// Time holding a worker up to `sliceStart` (the record's `runTime` is set from it when read).
        var runTime: Nanos = 0
        var preemptible: Bool
        var place: Place = .waiting
        var cpu: CPUUse
        /// The spec said whether it is CPU-bound: measurements do not change `cpu`.
        var cpuDeclared: Bool
        /// The task's CPU time when it entered its level (0 at the start: a new process), `-1` if unknown;
        /// a CPU-bound task's MLFQ allotment is charged in CPU time from it (see ``expireSlice``).
        var cpuAtLevelStart: Nanos = 0

        init(id: TaskID, priority: Int, preemptible: Bool, cpu: CPUUse, cpuDeclared: Bool, timeout: Nanos?, estimate: Nanos?,
             level: Int, order: UInt64, now: Nanos) {
            self.id = id
            self.priority = priority
            self.preemptible = preemptible
            self.cpu = cpu
            self.cpuDeclared = cpuDeclared
            timeoutRaw = timeout ?? .max
            estimateRaw = estimate ?? .max
            submittedAt = now
            self.level = level
            readyOrder = order
            readySince = now
        }

        var timeout: Nanos? { timeoutRaw == .max ? nil : timeoutRaw }
        var declaredEstimate: Nanos? { estimateRaw == .max ? nil : estimateRaw }
        var sliceEnd: Nanos? {
            get { sliceEndRaw == .max ? nil : sliceEndRaw }
            set { sliceEndRaw = newValue ?? .max }
        }

        var timeoutDeadline: Nanos? { timeout.flatMap(whenRunTime) }

        /// When a running task's run time reaches `target`; nil while it is not running.
        func whenRunTime(reaches target: Nanos) -> Nanos? {
            guard place == .running else { return nil }
            return (sliceStart - runTime).adding(target)
        }

        /// Run time up to `now` (valid while running).
        func runTime(at now: Nanos) -> Nanos { runTime + (place == .running ? now - sliceStart : 0) }

        /// The timeout ends `length` of run time after `now` (progress was reported).
        mutating func restartTimeout(length: Nanos, at now: Nanos) {
            timeoutRaw = runTime(at: now).adding(length)
        }
    }

    public private(set) var configuration: SchedulerConfiguration {
        didSet { times = Times(configuration) }
    }
    /// The configuration's times in nanoseconds, computed once per configuration change.
    private var times: Times
    private var tasks = TaskTable()
    /// Slots of the running tasks, in start order.
    private var running: [TaskTable.Slot] = []
    /// The ready tasks in two queues, by ``CPUUse/queue``: `[0]` light ones (they need a worker only),
    /// `[1]` the ones that need a core too; ``dispatch(_:)`` looks at the best of each.
    private var ready = [ReadyQueue(), ReadyQueue()]
    private var readyCount = 0
    /// Running tasks that hold a core (``CPUUse/holdsCore``).
    private var coresHeld = 0
    /// Per level, the last time a task of that level held a worker (for the boost).
    private var levelServedAt: [Nanos]
    private var pausedCount = 0
    private var belowTop = 0
    /// Running tasks below the top MLFQ level: while there are none, no ready task can preempt under
    /// `mlfq` (its rank is its level), and `dispatch` skips looking for a victim.
    private var runningBelowTop = 0
    private var nextID: UInt64 = 1
    private var nextToken: UInt64 = 1
    private var now: Nanos = 0
    private var armedAt: Nanos?
    /// The earliest deadline that appeared during the current event (the slice and timeout of a task
    /// that started or resumed, the boost once a task left the top level); see ``finishEvent(_:onlyNew:)``.
    private var newEarliest: Nanos?
    private var nextBoostAt: Nanos
    private var totals: StatsAccumulator
    /// Per tool name, whether its measured calls were CPU-bound (see ``learnCPU(_:cpu:run:_:)``).
    private var cpuLearned: [String: Bool] = [:]
    /// The first CPU reading (and the run time then) of running tasks being measured, by slot.
    private var probeBase: [TaskTable.Slot: (cpu: Nanos, run: Nanos)] = [:]
    private var ended: Deque<TaskRecord> = []
    /// Cores lent to the core limit for busy threads outside the scheduler (see ``observedLoad(runnable:now:)``).
    private var outsideBusy = 0
    /// The latest outside-load samples, oldest first (at most ``loadSampleCount``).
    private var loadSamples: [Int] = []
    /// How often the load is sampled while CPU-bound tasks run; nil: never.
    private var loadSamplePeriod: Nanos?
    private var nextLoadSampleAt: Nanos?
    /// Lanes with live tasks, by name (see ``Lane``).
    private var lanes: [String: LaneState] = [:]
    /// The lane of each live task that has one, and whether it is held; empty when no task has a lane,
    /// which is all the other tasks' events look at.
    private var laneOf: [TaskTable.Slot: (lane: String, held: Bool)] = [:]
    /// The timeout length of tasks that reported progress (their timeout restarts at each report).
    private var timeoutLength: [TaskTable.Slot: Nanos] = [:]

    struct LaneState: Sendable {
        var limit: Int
        /// Tasks of the lane that are ready-unstarted, running or paused.
        var admitted = 0
        /// Held tasks in arrival order (let in by rank, then arrival).
        var held: Deque<TaskTable.Slot> = []
    }

    public init(configuration: SchedulerConfiguration = SchedulerConfiguration(), now: Duration = .zero) {
        self.configuration = configuration
        self.times = Times(configuration)
        self.now = now.nanoseconds
        self.nextBoostAt = self.now.adding(times.boostPeriod)
        self.levelServedAt = Array(repeating: self.now, count: configuration.levels)
        self.totals = StatsAccumulator(windowLimit: configuration.recordLimit)
        // The ring of ended records is allocated once (up to 2^17 records; pages are touched only as it
        // fills): growing it copies every record into fresh memory, a tenth of the time per task when
        // 100k tasks end.
        ended.reserveCapacity(min(configuration.recordLimit, 1 << 17))
    }

    // MARK: - Events

    /// A new task arrives. It enters the ready queue (MLFQ level = its priority, clamped) and starts
    /// at once if a worker is free or it may preempt a running task.
    public mutating func submit(_ spec: TaskSpec, now: Duration) -> (TaskID, [Action]) {
        var actions: [Action] = []
        let id = submit(spec, now: now, into: &actions)
        return (id, actions)
    }

    /// ``submit(_:now:)`` appending its actions to `actions` (a driver reuses one buffer: no array per event).
    public mutating func submit(_ spec: TaskSpec, now: Duration, into actions: inout [Action]) -> TaskID {
        advanceNow(now)
        let id = TaskID(nextID)
        nextID += 1
        let level = min(max(spec.priority, 0), configuration.levels - 1)
        let entry = Entry(
            id: id, priority: spec.priority, preemptible: spec.preemptibility != .none,
            cpu: cpuUse(of: spec), cpuDeclared: spec.cpuBound != nil, timeout: spec.timeout?.nanoseconds,
            estimate: spec.estimate?.nanoseconds, level: level, order: takeToken(), now: self.now)
        let slot = tasks.insert(entry, TaskRecord(id: id, spec: spec, level: level, submittedAt: self.now))
        if level > 0 { noteBelowTop(+1) }
        totals.submitted += 1
        if let lane = spec.lane { enterLane(slot, lane) } else { enqueue(slot) }
        dispatch(&actions)
        finishEvent(&actions, onlyNew: true)
        return id
    }

    /// The task's body returned a value that `succeeded` (the task is completed) or not (failed);
    /// `summary` is the start of its output or its error, for the task's record.
    /// Ignored if the task already ended (cancelled or timed out meanwhile).
    /// `cpuTime`, when known, is the CPU time the body's work used: it teaches the machine whether the tool is
    /// CPU-bound.
    public mutating func finished(_ id: TaskID, succeeded: Bool, summary: String, cpuTime: Duration? = nil, now: Duration) -> [Action] {
        var actions: [Action] = []
        finished(id, succeeded: succeeded, summary: summary, cpuTime: cpuTime, now: now, into: &actions)
        return actions
    }

    /// ``finished(_:succeeded:summary:cpuTime:now:)`` appending its actions to `actions`.
    public mutating func finished(
        _ id: TaskID, succeeded: Bool, summary: String, cpuTime: Duration? = nil, now: Duration, into actions: inout [Action]
    ) {
        advanceNow(now)
        guard let slot = tasks.slot(of: id) else { return }
        // Learned once the task gave back its core, so what is learned cannot pause a task for its sake.
        var measured: (name: String, run: Nanos)?
        if cpuTime != nil, tasks[slot].place == .running, case let run = tasks[slot].runTime(at: self.now), run >= Self.shortestTelling,
           case let name = tasks[record: slot].name, run >= Self.longTelling || cpuLearned[name] == nil {
            measured = (name, run)
        }
        end(slot, outcome: succeeded ? .completed : .failed, summary: summary, stopBody: false, &actions)
        if let measured, let cpuTime { learnCPU(measured.name, cpu: cpuTime.nanoseconds, run: measured.run, &actions) }
        dispatch(&actions)
        finishEvent(&actions, onlyNew: true)
    }

    /// The running task's slice is over (MLFQ or round robin). Its run time is charged; under MLFQ it
    /// moves down a level once its allotment there is used up. If a task of the same or a better rank
    /// waits, it is paused and goes to the back of its queue; otherwise it gets a new slice.
    /// `cpuTime` reads a task's CPU time so far (`nil`: not known); see ``expireSlice(_:cpuTime:_:)``.
    public mutating func quantumExpired(_ id: TaskID, now: Duration, cpuTime: (TaskID) -> Duration? = { _ in nil }) -> [Action] {
        advanceNow(now)
        var actions: [Action] = []
        if let slot = tasks.slot(of: id) { expireSlice(slot, cpuTime: cpuTime, &actions) }
        dispatch(&actions)
        finishEvent(&actions)
        return actions
    }

    /// The task ran for its whole timeout: it ends as timed out.
    public mutating func timeout(_ id: TaskID, now: Duration) -> [Action] {
        advanceNow(now)
        guard let slot = tasks.slot(of: id) else { return [] }
        var actions: [Action] = []
        end(slot, outcome: .timedOut, summary: nil, stopBody: true, &actions)
        dispatch(&actions)
        finishEvent(&actions)
        return actions
    }

    /// The running task reported progress: its timeout, if it has one, starts again (a timeout then
    /// means run time without progress). Ignored for a task that is not running.
    public mutating func progressed(_ id: TaskID, now: Duration) -> [Action] {
        advanceNow(now)
        guard let slot = tasks.slot(of: id), tasks[slot].place == .running, let timeout = tasks[slot].timeout else { return [] }
        let length = timeoutLength[slot] ?? timeout
        timeoutLength[slot] = length
        tasks[slot].restartTimeout(length: length, at: self.now)
        var actions: [Action] = []
        finishEvent(&actions)
        return actions
    }

    /// The CPU demand of a running task so far (time on a CPU plus time runnable but waiting for one), as
    /// asked for by ``Action/measureCPU(_:)`` (`nil`: it could not be read). The first answer (after
    /// `cpuProbe` of run time) is a baseline: a process's start-up (an interpreter loading) burns CPU
    /// whatever the tool then does. Then every `cpuProbe` of run time it is read again: the first window
    /// with a demand under 10% of it makes the task, and its tool from now on, I/O-bound (it gives its
    /// core back at once); after ``probeWindows`` windows the last one decides. (An undecided task
    /// already counts as CPU-bound, so deciding that late costs nothing.)
    public mutating func measuredCPU(_ id: TaskID, demand: Duration?, now: Duration) -> [Action] {
        advanceNow(now)
        var actions: [Action] = []
        guard let slot = tasks.slot(of: id), tasks[slot].cpu == .probing else { return [] }
        let run = tasks[slot].runTime(at: self.now)
        if let cpu = demand?.nanoseconds {
            // The window since the baseline, if there is one yet.
            let window = probeBase[slot].map { (cpu: max(0, cpu - $0.cpu), run: max(1, run - $0.run)) }
            if let window, Double(window.cpu) < Double(window.run) * Self.ioBoundShare
                || run >= times.cpuProbe.multipliedClamped(by: Self.probeWindows) {
                probeBase[slot] = nil
                learnCPU(tasks[record: slot].name, cpu: window.cpu, run: window.run, &actions)
            } else {
                probeBase[slot] = (cpu, run)
                tasks[slot].cpu = .unknown
                noteDeadline(probeDeadline(slot))
            }
        } else {
            probeBase[slot] = nil
        }
        // Learning set every undecided task of the tool; this one stays heavy if nothing was learned.
        if tasks[slot].cpu == .probing { tasks[slot].cpu = .heavy }
        dispatch(&actions)
        finishEvent(&actions)
        return actions
    }

    /// Turns sampling of the machine's load on (every `period` while CPU-bound tasks run) or off (nil).
    /// The driver answers each ``Action/sampleLoad`` with ``observedLoad(runnable:now:)``.
    public mutating func sampleLoad(every period: Duration?) {
        loadSamplePeriod = period.map { max($0, .milliseconds(1)).nanoseconds }
        if period == nil { forgetLoad() }
    }

    /// The machine had `runnable` threads runnable (`/proc/loadavg`'s fourth field, the reader
    /// included) while CPU-bound tasks ran.
    ///
    /// Threads beyond this scheduler's CPU-bound tasks and the reader are busy work from outside (another
    /// build, a test suite). The kernel shares the cores among all runnable threads alike, so with the
    /// core limit at one per core each of ours gets less than a core, and under heavy outside load the
    /// queue's long calls end later than had every call been started at once. So when the outside
    /// threads (the median of the last ``loadSampleCount`` samples) outnumber the configured limit, the
    /// limit grows by the excess, by at most half the configured limit (at least 1); it shrinks back
    /// when they go. Up to the limit's worth of outside work lends nothing, and the cap is half: more
    /// cost the short calls more than it gave the long ones (docs/SCHEDULER.md, measured). A tool with
    /// several busy threads of its own counts as outside load too, which the cap bounds.
    public mutating func observedLoad(runnable: Int?, now: Duration) -> [Action] {
        advanceNow(now)
        var actions: [Action] = []
        guard configuration.strategy == .mlfq, let slots = configuration.cpuSlots, let period = loadSamplePeriod else { return [] }
        if let runnable, coresHeld > 0 {
            loadSamples.append(max(0, runnable - 1 - coresHeld))
            if loadSamples.count > Self.loadSampleCount { loadSamples.removeFirst() }
            outsideBusy = min(max(0, loadSamples.sorted()[loadSamples.count / 2] - slots), max(1, slots / 2))
            fitCores(&actions)
            dispatch(&actions)
        }
        if coresHeld > 0 {
            nextLoadSampleAt = self.now.adding(period)
            noteDeadline(nextLoadSampleAt)
        } else {
            forgetLoad()
        }
        finishEvent(&actions)
        return actions
    }

    /// Samples of the outside load the lent cores follow.
    static let loadSampleCount = 5

    private mutating func forgetLoad() {
        loadSamples = []
        outsideBusy = 0
        nextLoadSampleAt = nil
    }

    /// MLFQ priority boost: the tasks that waited a whole boost period at a level that got no run time in
    /// that period move to the top level with a fresh allotment.
    public mutating func boost(now: Duration) -> [Action] {
        advanceNow(now)
        var actions: [Action] = []
        applyBoost()
        dispatch(&actions)
        finishEvent(&actions)
        return actions
    }

    /// Cancels one task; ignored if it already ended.
    public mutating func cancel(_ id: TaskID, now: Duration) -> [Action] {
        advanceNow(now)
        guard let slot = tasks.slot(of: id) else { return [] }
        var actions: [Action] = []
        end(slot, outcome: .cancelled, summary: nil, stopBody: true, &actions)
        dispatch(&actions)
        finishEvent(&actions)
        return actions
    }

    /// Cancels every live task of `group`, in id order.
    /// - Complexity: O(n log n) in the number of live tasks.
    public mutating func cancel(group: String, now: Duration) -> [Action] {
        advanceNow(now)
        var actions: [Action] = []
        // Ending a task frees its slot but reuses none, so the collected slots stay valid.
        let members = tasks.slots.filter { tasks[record: $0].group == group }.sorted { tasks[$0].id < tasks[$1].id }
        for slot in members {
            end(slot, outcome: .cancelled, summary: nil, stopBody: true, &actions)
        }
        dispatch(&actions)
        finishEvent(&actions)
        return actions
    }

    /// Fires every deadline due at `now`: timeouts, slice ends, the boost. `cpuTime` reads a task's CPU
    /// time so far, for the slices that end (`nil`: not known); see ``expireSlice(_:cpuTime:_:)``.
    public mutating func advance(to now: Duration, cpuTime: (TaskID) -> Duration? = { _ in nil }) -> [Action] {
        advanceNow(now)
        if let armed = armedAt, armed <= self.now { armedAt = nil }
        var actions: [Action] = []
        // Each loop walks a copy of `running`; ending or preempting a task touches only its own slot.
        for slot in running where tasks[slot].timeoutDeadline.map({ $0 <= self.now }) == true {
            end(slot, outcome: .timedOut, summary: nil, stopBody: true, &actions)
        }
        for slot in running where tasks[slot].sliceEnd.map({ $0 <= self.now }) == true {
            expireSlice(slot, cpuTime: cpuTime, &actions)
        }
        for slot in running where probeDeadline(slot).map({ $0 <= self.now }) == true {
            tasks[slot].cpu = .probing
            actions.append(.measureCPU(tasks[slot].id))
        }
        if let at = nextLoadSampleAt, at <= self.now {
            // Armed again by `observedLoad` while CPU-bound tasks still run.
            nextLoadSampleAt = nil
            actions.append(.sampleLoad)
        }
        if configuration.strategy == .mlfq, belowTop > 0, nextBoostAt <= self.now {
            applyBoost()
        }
        dispatch(&actions)
        finishEvent(&actions)
        return actions
    }

    /// Switches the strategy (and the base quantum, if given) while tasks run: nothing is lost, the
    /// ready tasks are re-sorted, running tasks get slices as the new strategy requires, and a task that
    /// now outranks a running one may preempt it.
    public mutating func setStrategy(_ strategy: Strategy, quantum: Duration? = nil, now: Duration) -> [Action] {
        advanceNow(now)
        for slot in running { charge(slot) }
        configuration.strategy = strategy
        if let quantum { configuration.baseQuantum = max(quantum, .milliseconds(1)) }
        if strategy == .mlfq { nextBoostAt = self.now.adding(times.boostPeriod) }
        for slot in running { tasks[slot].sliceEnd = sliceEnd(for: tasks[slot]) }
        resortReady()
        var actions: [Action] = []
        fitCores(&actions)
        dispatch(&actions)
        finishEvent(&actions)
        return actions
    }

    /// Changes the number of workers (at least 1). Growing starts waiting tasks; shrinking pauses the
    /// worst-ranked preemptible running tasks until the rest fit.
    public mutating func setWorkers(_ workers: Int, now: Duration) -> [Action] {
        advanceNow(now)
        configuration.workers = max(1, workers)
        var actions: [Action] = []
        while running.count > configuration.workers, let victim = worstRunning(preemptibleOnly: true) {
            preempt(victim, &actions)
        }
        dispatch(&actions)
        finishEvent(&actions)
        return actions
    }

    // MARK: - Queries

    /// The earliest pending deadline, if any.
    public var nextDeadline: Duration? {
        earliestDeadline.map { .nanoseconds($0) }
    }

    private var earliestDeadline: Nanos? {
        var earliest: Nanos?
        func consider(_ d: Nanos?) {
            if let d, earliest.map({ d < $0 }) ?? true { earliest = d }
        }
        for slot in running {
            consider(tasks[slot].sliceEnd)
            consider(tasks[slot].timeoutDeadline)
            consider(probeDeadline(slot))
        }
        if configuration.strategy == .mlfq, belowTop > 0 { consider(nextBoostAt) }
        consider(nextLoadSampleAt)
        return earliest
    }

    /// A snapshot of the counters. - Complexity: O(w log w) for the percentile windows.
    public func stats() -> SchedulerStats {
        var levels = (0..<configuration.levels).map {
            SchedulerStats.Level(level: $0, quantumMs: configuration.quantum(atLevel: $0).milliseconds, queued: 0, running: 0)
        }
        var queued = 0
        for slot in tasks.slots {
            let entry = tasks[slot]
            if entry.place == .running {
                levels[entry.level].running += 1
            } else {
                levels[entry.level].queued += 1
            }
            if entry.place == .waiting { queued += 1 }
        }
        var tools: [String: SchedulerStats.Tool] = [:]
        for (name, t) in totals.tools where t.count > 0 {
            tools[name] = .init(
                count: t.count, avgMs: StatsAccumulator.mean(t.runSum, t.runCount), p95Ms: StatsAccumulator.p95(t.window),
                cpuBound: cpuLearned[name])
        }
        return SchedulerStats(
            strategy: configuration.strategy, workers: configuration.workers,
            quantumMs: configuration.baseQuantum.milliseconds, boostPeriodMs: configuration.boostPeriod.milliseconds,
            cpuSlots: coreLimit == .max ? nil : coreLimit, cpuBoundRunning: coresHeld,
            levels: levels, running: running.count, paused: pausedCount, queued: queued,
            submitted: totals.submitted, completed: totals.completed, failed: totals.failed,
            cancelled: totals.cancelled, timedOut: totals.timedOut, preemptions: totals.preemptions,
            demotions: totals.demotions, boosts: totals.boosts,
            avgWaitMs: StatsAccumulator.mean(totals.waitSum, totals.waitCount),
            p95WaitMs: StatsAccumulator.p95(totals.waitWindow),
            avgTurnaroundMs: StatsAccumulator.mean(totals.turnaroundSum, totals.turnaroundCount),
            p95TurnaroundMs: StatsAccumulator.p95(totals.turnaroundWindow),
            tools: tools)
    }

    /// The record of a live or recently ended task, with times brought up to `now`.
    public func record(_ id: TaskID, now: Duration) -> TaskRecord? {
        if let slot = tasks.slot(of: id) { return liveRecord(slot, now: max(now.nanoseconds, self.now)) }
        return ended.last(where: { $0.id == id })
    }

    /// The most recent tasks, newest first: live ones, then ended ones.
    public func records(limit: Int, now: Duration) -> [TaskRecord] {
        let limit = max(0, limit)
        let now = max(now.nanoseconds, self.now)
        // Records only for the tasks returned: `GET /tasks?limit=1` under a long queue reads one.
        let newestLive = tasks.slots.sorted { tasks[$0].id > tasks[$1].id }.prefix(limit)
        return newestLive.map { liveRecord($0, now: now) } + ended.suffix(limit - newestLive.count).reversed()
    }

    /// The `sjf` estimate for a task named `name` declaring `declared`.
    public func estimate(forTool name: String, declared: Duration?) -> Duration {
        .nanoseconds(estimate(forTool: name, declared: declared?.nanoseconds))
    }

    /// The `sjf` estimates learned from measured runs, by tool name (to keep them across runs).
    public var learnedEstimates: [String: Duration] {
        totals.tools.compactMapValues { $0.estimate.map { .nanoseconds($0) } }
    }

    /// Takes estimates learned in an earlier run for the tools that have none yet, so the first call
    /// of a known tool is ranked by its history; negative values are ignored.
    public mutating func loadEstimates(_ estimates: [String: Duration]) {
        for (name, estimate) in estimates where estimate >= .zero && totals.tools[name]?.estimate == nil {
            totals.tools[name, default: StatsAccumulator.ToolTotals()].estimate = estimate.nanoseconds
        }
    }

    /// The learned estimate, else the declared one, else the default: what `sjf` ranks by.
    private func estimate(forTool name: String, declared: Nanos?) -> Nanos {
        totals.tools[name]?.estimate ?? declared ?? times.defaultEstimate
    }

    /// Ids of the tasks holding a worker, in start order.
    public var runningTasks: [TaskID] { running.map { tasks[$0].id } }

    /// Tasks not yet ended.
    public var liveCount: Int { tasks.count }

    /// The place of a live task, or `nil` once it ended.
    public func state(of id: TaskID) -> TaskState? { tasks.slot(of: id).map { TaskState(place: tasks[$0].place) } }

    /// The MLFQ level of a live task.
    public func level(of id: TaskID) -> Int? { tasks.slot(of: id).map { tasks[$0].level } }

    /// Checks the structural invariants; returns a description of the first broken one.
    public func checkInvariants() -> String? {
        var readyLive = 0
        var paused = 0
        var below = 0
        for slot in tasks.slots {
            let entry = tasks[slot]
            let id = entry.id
            if tasks.slot(of: id) != slot { return "task \(id) in slot \(slot) but indexed elsewhere" }
            let inRunning = running.filter { $0 == slot }.count
            if entry.place == .running {
                if inRunning != 1 { return "task \(id) running but in running list \(inRunning) times" }
            } else {
                if inRunning != 0 { return "task \(id) ready but in running list" }
                if laneOf[slot]?.held == true {
                    if entry.place != .waiting { return "held task \(id) is \(entry.place)" }
                } else {
                    readyLive += 1
                }
                if entry.place == .paused { paused += 1 }
            }
            if entry.level > 0 { below += 1 }
            if entry.level < 0 || entry.level >= configuration.levels { return "task \(id) level \(entry.level) out of range" }
            if let allotment = times.allotments[entry.level], entry.usedAtLevel > allotment {
                return "task \(id) used \(entry.usedAtLevel) ns above its allotment \(allotment) ns"
            }
            let record = tasks[record: slot]
            if record.state != TaskState(place: entry.place) { return "task \(id) record state \(record.state) vs \(entry.place)" }
            if record.id != id { return "task \(id) has the record of task \(record.id)" }
        }
        if running.count != Set(running).count { return "duplicate ids in running" }
        if running.contains(where: { !tasks.isOccupied($0) }) { return "ended task still running" }
        if readyLive != readyCount { return "ready count \(readyCount) but \(readyLive) ready tasks" }
        if paused != pausedCount { return "paused count \(pausedCount) but \(paused) paused tasks" }
        if below != belowTop { return "below-top count \(belowTop) but \(below)" }
        let runningBelow = running.filter { tasks[$0].level > 0 }.count
        if runningBelow != runningBelowTop { return "running below-top count \(runningBelowTop) but \(runningBelow)" }
        if running.count > configuration.workers, running.contains(where: { tasks[$0].preemptible }) {
            return "\(running.count) running with \(configuration.workers) workers"
        }
        let holding = running.filter { tasks[$0].cpu.holdsCore }
        if holding.count != coresHeld { return "cores held \(coresHeld) but \(holding.count) running tasks hold one" }
        if coresHeld > coreLimit, holding.contains(where: { tasks[$0].preemptible }) {
            return "\(coresHeld) running tasks hold a core with \(coreLimit) cores"
        }
        if tasks.slots.contains(where: { tasks[$0].place != .running && tasks[$0].cpu == .probing }) {
            return "a task not running waits for its CPU time"
        }
        for slot in probeBase.keys where !tasks.isOccupied(slot) || ![.unknown, .probing].contains(tasks[slot].cpu) {
            return "a CPU baseline kept for slot \(slot), which holds no task being measured"
        }
        let ended = totals.completed + totals.failed + totals.cancelled + totals.timedOut
        if totals.submitted != ended + tasks.count { return "submitted \(totals.submitted) != ended \(ended) + live \(tasks.count)" }
        // Every ready task is reachable from its heap: copy and drain them.
        var seen = Set<TaskID>()
        for queue in ready.indices {
            var heap = ready[queue]
            while let key = heap.front {
                heap.removeBest()
                guard Self.isLive(key, in: tasks) else { continue }
                if tasks[key.slot].id != key.id { return "key of task \(key.id) points to slot \(key.slot) of task \(tasks[key.slot].id)" }
                if !seen.insert(key.id).inserted { return "task \(key.id) has two live keys" }
                if tasks[key.slot].cpu.queue != queue { return "task \(key.id) waits in the wrong queue" }
            }
        }
        if seen.count != readyCount { return "heap holds \(seen.count) live keys for \(readyCount) ready tasks" }
        if let problem = checkLaneInvariants() { return problem }
        if let deadline = earliestDeadline {
            guard let armedAt else { return "deadline \(deadline) ns but no timer armed" }
            if deadline < armedAt { return "deadline \(deadline) ns before the armed timer \(armedAt) ns" }
        }
        return nil
    }

    // MARK: - Internals

    private mutating func advanceNow(_ time: Duration) {
        let time = time.nanoseconds
        if time > now { now = time }
    }

    private mutating func takeToken() -> UInt64 {
        defer { nextToken += 1 }
        return nextToken
    }

    private mutating func noteBelowTop(_ delta: Int) {
        if belowTop == 0, delta > 0 {
            if nextBoostAt < now { nextBoostAt = now.adding(times.boostPeriod) }
            if configuration.strategy == .mlfq { noteDeadline(nextBoostAt) }
        }
        belowTop += delta
    }

    private func rank(_ slot: TaskTable.Slot) -> Int64 {
        switch configuration.strategy {
        case .mlfq: Int64(tasks[slot].level)
        case .preemptive, .priority: Int64(clamping: tasks[slot].priority)
        case .sjf: estimate(forTool: tasks[record: slot].name, declared: tasks[slot].declaredEstimate)
        case .roundRobin, .fifo: 0
        }
    }

    /// Time-slicing strategies queue a re-queued task behind its peers; the others keep arrival order.
    private var requeuesAtTail: Bool {
        configuration.strategy == .mlfq || configuration.strategy == .roundRobin
    }

    /// A key is live while its slot holds a task that is not running and carries the key's token
    /// (tokens are never reused, so a key cannot come alive again when its slot is reused).
    private static func isLive(_ key: ReadyQueue.Key, in tasks: TaskTable) -> Bool {
        guard tasks.isOccupied(key.slot) else { return false }
        return tasks[key.slot].place != .running && tasks[key.slot].readyToken == key.token
    }

    /// The best key of one ready queue (dropping stale keys).
    /// A loop, not a closure over `tasks`: a closure would need a copy of the table (retaining and
    /// releasing its arrays on every event) while `ready` is being changed.
    private mutating func bestReady(_ queue: Int) -> ReadyQueue.Key? {
        while let front = ready[queue].front {
            if Self.isLive(front, in: tasks) { return front }
            ready[queue].removeBest()
        }
        return nil
    }

    /// The best ready task of both queues.
    private mutating func bestReady() -> ReadyQueue.Key? {
        Self.better(bestReady(0), bestReady(1))
    }

    /// The better of two keys, either of which may be missing.
    private static func better(_ a: ReadyQueue.Key?, _ b: ReadyQueue.Key?) -> ReadyQueue.Key? {
        guard let a, let b else { return a ?? b }
        return min(a, b)
    }

    private func key(for slot: TaskTable.Slot) -> ReadyQueue.Key {
        let entry = tasks[slot]
        return ReadyQueue.Key(rank: rank(slot), order: entry.readyOrder, token: entry.readyToken, id: entry.id, slot: slot)
    }

    /// Puts a waiting or paused task into `ready` with a fresh token. Under the time-slicing strategies it
    /// goes to the back of its level, unless `keepOrder` (a task paused for a better-ranked one keeps its
    /// place: the lowest level then serves its tasks in order instead of sharing the cores among them).
    private mutating func enqueue(_ slot: TaskTable.Slot, keepOrder: Bool = false) {
        let token = takeToken()
        tasks[slot].readyToken = token
        tasks[slot].readySince = now
        if requeuesAtTail, !keepOrder { tasks[slot].readyOrder = token }
        ready[tasks[slot].cpu.queue].insert(key(for: slot))
        readyCount += 1
    }

    /// Re-ranks every ready task (after a strategy change or a boost).
    /// - Complexity: O(n) in the live tasks.
    private mutating func resortReady() {
        var keys: [[ReadyQueue.Key]] = [[], []]
        for slot in tasks.slots where tasks[slot].place != .running && !isHeld(slot) {
            keys[tasks[slot].cpu.queue].append(key(for: slot))
        }
        for queue in ready.indices { ready[queue].rebuild(keys[queue]) }
    }

    /// When a running task of unknown CPU use is to have its CPU time read; never while there is no core
    /// limit (nothing would change).
    private func probeDeadline(_ slot: TaskTable.Slot) -> Nanos? {
        guard coreLimit != .max, tasks[slot].cpu == .unknown else { return nil }
        return tasks[slot].whenRunTime(reaches: (probeBase[slot]?.run ?? 0).adding(times.cpuProbe))
    }

    /// Under `mlfq`, the running tasks that may hold a core at once: the configured limit, plus the
    /// cores lent for busy threads outside (``observedLoad(runnable:now:)``).
    private var coreLimit: Int {
        configuration.strategy == .mlfq ? configuration.cpuSlots.map { $0 + outsideBusy } ?? .max : .max
    }

    /// The shortest slice granted for the rest of an allotment charged in CPU time (each slice end of a
    /// CPU-bound task reads `/proc`: a few per call, not hundreds).
    static let minimumSlice: Nanos = 10_000_000

    /// Run time below which a task's CPU time says little (interpreter start-up, a short burst).
    static let shortestTelling: Nanos = 50_000_000
    /// Run time from which a finished call's CPU time overrides what its tool's earlier calls taught (a
    /// shorter one's share is mostly its start-up).
    static let longTelling: Nanos = 1_000_000_000
    /// CPU time windows of `cpuProbe` read at most, after the baseline, while a task's use is unknown.
    static let probeWindows: Int64 = 10
    /// Share of its run time a CPU-bound task spends on a CPU, at least. A CPU-bound task sharing a core
    /// with other work gets less than all of it; I/O-bound tools use a few percent.
    static let cpuBoundShare = 0.25
    /// Share under which a task is I/O-bound. Between the two, what was learned stays (an unmeasured tool
    /// is taken as CPU-bound): a CPU-bound tool measured on a crowded machine does not flip back and forth.
    static let ioBoundShare = 0.1

    /// What a new task's CPU use is taken to be: declared, else learned for its tool, else light for
    /// in-process and unpausable tasks and unknown (to be measured) for pausable ones.
    private func cpuUse(of spec: TaskSpec) -> CPUUse {
        if let declared = spec.cpuBound { return declared ? .heavy : .light }
        if !cpuLearned.isEmpty, let learned = cpuLearned[spec.name] { return learned ? .heavy : .light }
        return spec.preemptibility == .signals ? .unknown : .light
    }

    /// Learns from `cpu` ns of CPU over `run` ns of run time whether the tool `name` is CPU-bound. When
    /// that changes what is known, every live task of the tool that declared nothing is re-classified
    /// (waiting ones move to the other queue; running ones take or give back a core).
    private mutating func learnCPU(_ name: String, cpu: Nanos, run: Nanos, _ actions: inout [Action]) {
        let share = Double(cpu) / Double(max(run, 1))
        let bound = share >= Self.cpuBoundShare || (share >= Self.ioBoundShare && cpuLearned[name] != false)
        guard cpuLearned[name] != bound else { return }
        cpuLearned[name] = bound
        let use: CPUUse = bound ? .heavy : .light
        for slot in tasks.slots where !tasks[slot].cpuDeclared && tasks[slot].cpu != use && tasks[record: slot].name == name {
            let before = tasks[slot].cpu
            tasks[slot].cpu = use
            if !probeBase.isEmpty { probeBase[slot] = nil }
            if tasks[slot].place == .running {
                coresHeld += (use.holdsCore ? 1 : 0) - (before.holdsCore ? 1 : 0)
            } else if before.queue != use.queue, !isHeld(slot) {  // a held task enters its queue when let in
                // A key in the other queue; the old one is stale (its token is no longer the task's).
                let token = takeToken()
                tasks[slot].readyToken = token
                ready[use.queue].insert(key(for: slot))
            }
        }
        fitCores(&actions)
    }

    /// Pauses the worst-ranked running tasks that hold a core until the rest fit in ``coreLimit``.
    private mutating func fitCores(_ actions: inout [Action]) {
        while coresHeld > coreLimit, let victim = worstRunning(preemptibleOnly: true, holdingCore: true) {
            preempt(victim, keepOrder: true, &actions)
        }
    }

    /// The slice end for a task starting a slice now, under the current strategy.
    private func sliceEnd(for entry: Entry) -> Nanos? {
        switch configuration.strategy {
        case .mlfq:
            var slice = times.quanta[entry.level]
            if let allotment = times.allotments[entry.level] {
                slice = min(slice, max(allotment - entry.usedAtLevel, Self.minimumSlice))
            }
            return now.adding(slice)
        case .roundRobin:
            return now.adding(times.baseQuantum)
        case .preemptive, .priority, .sjf, .fifo:
            return nil
        }
    }

    /// Charges the running task's current slice up to now and starts a new accounting slice. With
    /// `cpuNow` (the task's CPU time now) the MLFQ allotment is charged the CPU time used at the level.
    private mutating func charge(_ slot: TaskTable.Slot, cpuNow: Nanos? = nil) {
        guard tasks[slot].place == .running else { return }
        levelServedAt[tasks[slot].level] = now
        let ran = now - tasks[slot].sliceStart
        tasks[slot].runTime += ran
        if configuration.strategy == .mlfq {
            if let cpuNow {
                // CPU time never exceeds the time held, so this only lowers what wall time charged.
                tasks[slot].usedAtLevel = min(tasks[slot].usedAtLevel + ran, max(0, cpuNow - tasks[slot].cpuAtLevelStart))
            } else {
                tasks[slot].usedAtLevel += ran
            }
        }
        tasks[slot].sliceStart = now
        if configuration.strategy == .mlfq { demoteIfAllotmentUsed(slot, cpuNow: cpuNow) }
    }

    /// MLFQ rule 4: a task that used its allotment at a level moves down one level.
    private mutating func demoteIfAllotmentUsed(_ slot: TaskTable.Slot, cpuNow: Nanos?) {
        guard let allotment = times.allotments[tasks[slot].level],
              tasks[slot].usedAtLevel >= allotment else { return }
        // The next level is charged from here, in CPU time only if the CPU time now is known.
        tasks[slot].cpuAtLevelStart = cpuNow ?? -1
        if tasks[slot].level == 0 {
            noteBelowTop(+1)
            runningBelowTop += 1  // only running tasks are charged
        }
        tasks[slot].level += 1
        tasks[slot].usedAtLevel = 0
        let level = tasks[slot].level
        tasks[record: slot].changeLevel(to: level, at: now)
        totals.demotions += 1
    }

    /// A slice ends. Under MLFQ a task that holds a core is charged the CPU time it used at its level, when
    /// `cpuTime` can tell it, rather than the time it held a worker: on a machine whose cores other work
    /// shares, a short call gets a fraction of a core, and charged in wall time it would sink to the
    /// lowest level (and wait there behind the long calls) before it used its allotment. A task charged
    /// less than its allotment gets a new slice for the rest (at least `minimumSlice`).
    private mutating func expireSlice(_ slot: TaskTable.Slot, cpuTime: (TaskID) -> Duration?, _ actions: inout [Action]) {
        guard tasks[slot].place == .running, tasks[slot].sliceEnd != nil else { return }
        var cpuNow: Nanos?
        if configuration.strategy == .mlfq, tasks[slot].cpu.holdsCore, times.allotments[tasks[slot].level] != nil,
           tasks[slot].cpuAtLevelStart >= 0, let cpu = cpuTime(tasks[slot].id) {
            cpuNow = cpu.nanoseconds
        }
        charge(slot, cpuNow: cpuNow)
        if tasks[slot].preemptible, let best = bestReady(), best.rank <= rank(slot) {
            preempt(slot, &actions)
        } else {
            tasks[slot].sliceEnd = sliceEnd(for: tasks[slot])
        }
    }

    /// Gives a worker to a ready task.
    private mutating func run(_ slot: TaskTable.Slot, _ actions: inout [Action]) {
        let id = tasks[slot].id
        readyCount -= 1
        switch tasks[slot].place {
        case .waiting:
            tasks[record: slot].start(at: now)
            totals.recordStart(wait: tasks[record: slot].waitNanos)
            actions.append(.start(id))
        case .paused:
            tasks[record: slot].pausedNanos += now - tasks[slot].readySince
            tasks[record: slot].append(.running, at: now)
            pausedCount -= 1
            actions.append(.resume(id))
        case .running:
            preconditionFailure("task \(id) is already running")
        }
        tasks[slot].place = .running
        if tasks[slot].level > 0 { runningBelowTop += 1 }
        if tasks[slot].cpu.holdsCore {
            coresHeld += 1
            if let period = loadSamplePeriod, nextLoadSampleAt == nil, coreLimit != .max {
                nextLoadSampleAt = now.adding(period)
                noteDeadline(nextLoadSampleAt)
            }
        }
        tasks[slot].sliceStart = now
        tasks[slot].sliceEnd = sliceEnd(for: tasks[slot])
        noteDeadline(tasks[slot].sliceEnd)
        noteDeadline(tasks[slot].timeoutDeadline)
        noteDeadline(probeDeadline(slot))
        running.append(slot)
    }

    private mutating func noteDeadline(_ deadline: Nanos?) {
        if let deadline, newEarliest.map({ deadline < $0 }) ?? true { newEarliest = deadline }
    }

    /// Takes the worker from a running preemptible task; it waits in `ready` as paused (see
    /// ``enqueue(_:keepOrder:)`` for its place).
    private mutating func preempt(_ slot: TaskTable.Slot, keepOrder: Bool = false, _ actions: inout [Action]) {
        charge(slot)
        running.removeAll { $0 == slot }
        if tasks[slot].level > 0 { runningBelowTop -= 1 }
        if tasks[slot].cpu.holdsCore { coresHeld -= 1 }
        // A CPU time asked for now would count the pause: asked again once it runs (the answer is ignored).
        if tasks[slot].cpu == .probing { tasks[slot].cpu = .unknown }
        tasks[slot].place = .paused
        tasks[slot].sliceEnd = nil
        tasks[record: slot].preemptions += 1
        tasks[record: slot].append(.paused, at: now)
        pausedCount += 1
        totals.preemptions += 1
        enqueue(slot, keepOrder: keepOrder)
        actions.append(.pause(tasks[slot].id))
    }

    /// The running task to pause first (among those holding a core, if `holdingCore`): worst rank, then
    /// the latest started.
    private func worstRunning(preemptibleOnly: Bool, holdingCore: Bool = false) -> TaskTable.Slot? {
        var worst: (slot: TaskTable.Slot, rank: Int64)?
        for slot in running {
            guard !preemptibleOnly || tasks[slot].preemptible, !holdingCore || tasks[slot].cpu.holdsCore else { continue }
            let r = rank(slot)
            if worst == nil || r >= worst!.rank { worst = (slot, r) }
        }
        return worst?.slot
    }

    /// Fills free workers from `ready`, best first; a task that needs a core takes one only while fewer
    /// than ``coreLimit`` are held. Then (for `mlfq` and `preemptive`) a better-ranked ready task takes
    /// the worker (and core) of the worst-ranked running preemptible task (that holds a core). When the
    /// best task of one queue cannot start, the best of the other may (an I/O-bound call does not wait
    /// for a core).
    private mutating func dispatch(_ actions: inout [Action]) {
        while true {
            let light = bestReady(0), heavy = bestReady(1)
            guard let first = Self.better(light, heavy) else { break }
            if admit(first, &actions) { continue }
            let second = first == light ? heavy : light
            if let second, admit(second, &actions) { continue }
            break
        }
        for queue in ready.indices where ready[queue].needsCompaction(liveCount: readyCount) {
            let tasks = self.tasks
            ready[queue].compact(liveCount: readyCount) { Self.isLive($0, in: tasks) }
        }
    }

    /// Starts the ready task of `key` (the best of its queue) if a worker and, when it needs one, a core
    /// are free, or if it may preempt a worse-ranked running task; false if it must wait.
    private mutating func admit(_ key: ReadyQueue.Key, _ actions: inout [Action]) -> Bool {
        let queue = tasks[key.slot].cpu.queue
        let coreFree = !tasks[key.slot].cpu.holdsCore || coresHeld < coreLimit
        if running.count < configuration.workers, coreFree {
            ready[queue].removeBest()
            run(key.slot, &actions)
            return true
        }
        guard configuration.strategy == .mlfq ? runningBelowTop > 0 : configuration.strategy == .preemptive,
              let victim = worstRunning(preemptibleOnly: true, holdingCore: !coreFree),
              rank(victim) > key.rank else { return false }
        ready[queue].removeBest()
        preempt(victim, keepOrder: true, &actions)
        run(key.slot, &actions)
        return true
    }

    /// The boost lifts starved tasks only: a ready task below the top that waited at least a boost period
    /// at a level where no task ran in that period (the levels above kept every worker or core). Tasks
    /// that ran, and tasks waiting their turn at a level that is being served, stay where they are: lifting
    /// those only makes them share the cores with the short calls the top level is for.
    private mutating func applyBoost() {
        guard configuration.strategy == .mlfq else { return }
        for slot in running { charge(slot) }
        let since = now - times.boostPeriod
        var moved = false
        for slot in tasks.slots where tasks[slot].place != .running && tasks[slot].level > 0 {
            guard tasks[slot].readySince <= since, levelServedAt[tasks[slot].level] <= since else { continue }
            tasks[slot].level = 0
            tasks[slot].usedAtLevel = 0
            tasks[slot].cpuAtLevelStart = -1
            tasks[record: slot].changeLevel(to: 0, at: now)
            belowTop -= 1
            moved = true
        }
        if moved {
            totals.boosts += 1
            resortReady()
        }
        nextBoostAt = now.adding(times.boostPeriod)
    }

    /// Ends a live task exactly once: removes it from its place, records it, emits `finish`.
    private mutating func end(_ slot: TaskTable.Slot, outcome: TaskEnd, summary: String?, stopBody: Bool, _ actions: inout [Action]) {
        guard tasks.isOccupied(slot) else { return }
        let wasHeld = !laneOf.isEmpty && leaveLane(slot)
        if !timeoutLength.isEmpty { timeoutLength[slot] = nil }
        switch tasks[slot].place {
        case .running:
            charge(slot)
            running.removeAll { $0 == slot }
            if tasks[slot].level > 0 { runningBelowTop -= 1 }
            if tasks[slot].cpu.holdsCore { coresHeld -= 1 }
        case .paused:
            tasks[record: slot].pausedNanos += now - tasks[slot].readySince
            pausedCount -= 1
            readyCount -= 1
        case .waiting:
            tasks[record: slot].waitNanos = now - tasks[slot].submittedAt
            if !wasHeld { readyCount -= 1 }
        }
        let entry = tasks[slot]
        if !probeBase.isEmpty { probeBase[slot] = nil }
        var record = tasks.remove(slot)
        let id = entry.id
        record.runNanos = entry.runTime
        if stopBody, entry.place != .waiting { actions.append(.cancel(id)) }
        if entry.level > 0 { belowTop -= 1 }
        record.end(TaskState(outcome), at: now)
        // No more UTF-8 bytes than the limit: no more characters either, nothing to cut.
        let text = summary.map { $0.utf8.count <= TaskRecord.summaryLimit ? $0 : String($0.prefix(TaskRecord.summaryLimit)) }
        switch outcome {
        case .completed, .failed: record.text = text
        case .cancelled: record.text = "cancelled"
        case .timedOut: record.text = "timed out after \(entry.timeout.map { "\(Duration.nanoseconds($0).milliseconds) ms" } ?? "its timeout") of run time"
        }
        totals.recordEnd(record, outcome: outcome, smoothing: configuration.estimateSmoothing)
        if ended.count >= configuration.recordLimit { ended.removeFirst() }
        ended.append(record)
        actions.append(.finish(id, outcome))
    }

    // MARK: - Lanes

    /// A new task of a lane: ready if the lane has room, else held.
    private mutating func enterLane(_ slot: TaskTable.Slot, _ lane: Lane) {
        var state = lanes[lane.name] ?? LaneState(limit: lane.limit)
        let held = state.admitted >= state.limit
        if held { state.held.append(slot) } else { state.admitted += 1 }
        lanes[lane.name] = state
        laneOf[slot] = (lane.name, held)
        if !held { enqueue(slot) }
    }

    /// A task of a lane ends: a held one leaves its queue; an admitted one makes room for the held task
    /// that ranks first (by the strategy's rank, the priority under mlfq; then arrival).
    /// - Returns: whether the task was held (it is in no ready queue).
    /// - Complexity: O(h) in the lane's held tasks.
    private mutating func leaveLane(_ slot: TaskTable.Slot) -> Bool {
        guard let (name, held) = laneOf.removeValue(forKey: slot), var state = lanes[name] else { return false }
        var next: TaskTable.Slot?
        if held {
            state.held.removeAll { $0 == slot }
        } else if let first = state.held.indices.min(by: { rank(state.held[$0]) < rank(state.held[$1]) }) {
            next = state.held.remove(at: first)  // `min` keeps the earliest of equal ranks
        } else {
            state.admitted -= 1
        }
        lanes[name] = state.admitted == 0 && state.held.isEmpty ? nil : state
        if let next {
            laneOf[next] = (name, false)
            enqueue(next)
        }
        return held
    }

    private func isHeld(_ slot: TaskTable.Slot) -> Bool {
        !laneOf.isEmpty && laneOf[slot]?.held == true
    }

    /// Every lane counts its admitted tasks right and holds tasks only while full.
    private func checkLaneInvariants() -> String? {
        var admitted: [String: Int] = [:]
        var held: [String: Int] = [:]
        for (slot, member) in laneOf {
            guard tasks.isOccupied(slot) else { return "an ended task is still in lane \(member.lane)" }
            if member.held { held[member.lane, default: 0] += 1 } else { admitted[member.lane, default: 0] += 1 }
        }
        for (name, state) in lanes {
            if state.admitted != admitted[name, default: 0] { return "lane \(name) counts \(state.admitted) admitted tasks, has \(admitted[name, default: 0])" }
            if state.held.count != held[name, default: 0] { return "lane \(name) queues \(state.held.count) held tasks, has \(held[name, default: 0])" }
            if state.admitted > state.limit { return "lane \(name) has \(state.admitted) tasks admitted, limit \(state.limit)" }
            if !state.held.isEmpty, state.admitted < state.limit { return "lane \(name) holds tasks with room for them" }
            if state.admitted == 0, state.held.isEmpty { return "lane \(name) is empty but kept" }
        }
        if Set(laneOf.values.map(\.lane)) != Set(lanes.keys) { return "a lane without its state" }
        for slot in timeoutLength.keys where !tasks.isOccupied(slot) { return "a timeout length kept for an ended task" }
        return nil
    }

    private func liveRecord(_ slot: TaskTable.Slot, now: Nanos) -> TaskRecord {
        let entry = tasks[slot]
        var record = tasks[record: slot]
        record.runNanos = entry.runTime
        switch entry.place {
        case .running: record.runNanos += now - entry.sliceStart
        case .paused: record.pausedNanos += now - entry.readySince
        case .waiting: record.waitNanos = now - entry.submittedAt
        }
        return record
    }

    /// Emits `armTimer` when the earliest deadline is earlier than the armed timer.
    ///
    /// `onlyNew` (for `submit` and `finished`, the events of every task): while a timer is armed, no
    /// deadline that existed when it was armed is earlier than it, and those events only remove
    /// deadlines or add new ones (noted in `newEarliest`), so the new ones are all that can be earlier;
    /// the scan of every running task is skipped. Other events scan.
    private mutating func finishEvent(_ actions: inout [Action], onlyNew: Bool = false) {
        defer { newEarliest = nil }
        guard let deadline = onlyNew && armedAt != nil ? newEarliest : earliestDeadline else { return }
        if armedAt.map({ deadline < $0 }) ?? true {
            armedAt = deadline
            actions.append(.armTimer(at: .nanoseconds(deadline)))
        }
    }
}

/// The configuration's times in nanoseconds: ``SchedulerConfiguration/quantum(atLevel:)`` and
/// ``SchedulerConfiguration/allotment(atLevel:)`` for every level, the round-robin slice, the boost
/// period and the default `sjf` estimate.
private struct Times: Sendable {
    var quanta: [Nanos]
    var allotments: [Nanos?]
    var baseQuantum: Nanos
    var boostPeriod: Nanos
    var defaultEstimate: Nanos
    var cpuProbe: Nanos

    init(_ configuration: SchedulerConfiguration) {
        quanta = (0..<configuration.levels).map { configuration.quantum(atLevel: $0).nanoseconds }
        allotments = (0..<configuration.levels).map { configuration.allotment(atLevel: $0)?.nanoseconds }
        baseQuantum = configuration.baseQuantum.nanoseconds
        boostPeriod = configuration.boostPeriod.nanoseconds
        defaultEstimate = configuration.defaultEstimate.nanoseconds
        cpuProbe = configuration.cpuProbe.nanoseconds
    }
}

extension TaskState {
    init(place: SchedulerStateMachine.Place) {
        switch place {
        case .waiting: self = .waiting
        case .running: self = .running
        case .paused: self = .paused
        }
    }
}
