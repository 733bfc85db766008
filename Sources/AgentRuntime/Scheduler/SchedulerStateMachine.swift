import Collections

/// The scheduler's decisions as a value: one `mutating func` per event, each returning the actions
/// the driver must perform. No locks, clocks or tasks inside; time comes in as `now`, a duration since
/// the clock's epoch (a `now` earlier than one already seen counts as the latest one seen).
///
/// Structures:
/// - `tasks`: every live (not yet ended) task by id, with its place: waiting, running or paused.
/// - `running`: the ids holding a worker, in start order (at most `workers` of them, see below).
/// - `ready`: a ``ReadyQueue`` (min-heap, lazy deletion) of the waiting and paused tasks, best first
///   under the current strategy.
/// - ended tasks leave `tasks` and their ``TaskRecord`` goes to a bounded ring, `ended`.
///
/// Invariants (checked by ``checkInvariants()``):
/// - every live task is in exactly one place: running (in `running`) or ready (one live key in `ready`);
/// - `running.count <= workers`, unless every running task is non-preemptible (after `setWorkers`
///   shrank the pool: such tasks cannot be paused and keep their worker until they end);
/// - no task ends twice: `finish` is emitted once per task, and events about ended tasks do nothing.
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
        /// Report the task's outcome to whoever waits; exactly once per task.
        case finish(TaskID, TaskOutcome)
        /// Call ``advance(to:)`` at this time.
        case armTimer(at: Duration)
    }

    enum Place: Sendable, Equatable { case waiting, running, paused }

    struct Entry: Sendable {
        var spec: TaskSpec
        var arrival: UInt64
        var place: Place = .waiting
        var level: Int
        /// Run time used at the current level (MLFQ allotment).
        var usedAtLevel: Duration = .zero
        /// When the current run slice began (valid while running).
        var sliceStart: Duration = .zero
        /// When the current slice ends (MLFQ quantum or allotment, round-robin slice), if it does.
        var sliceEnd: Duration?
        /// Token of the task's live key in `ready`.
        var readyToken: UInt64 = 0
        /// Tie-break order in `ready`.
        var readyOrder: UInt64
        /// When the task last became ready (for paused time).
        var readySince: Duration
        var record: TaskRecord

        var preemptible: Bool { spec.preemptibility != .none }
        var timeoutDeadline: Duration? {
            guard place == .running, let timeout = spec.timeout else { return nil }
            return sliceStart + (timeout - record.runTime)
        }
    }

    public private(set) var configuration: SchedulerConfiguration
    private var tasks: [TaskID: Entry] = [:]
    private var running: [TaskID] = []
    private var ready = ReadyQueue()
    private var readyCount = 0
    private var pausedCount = 0
    private var belowTop = 0
    private var nextID: UInt64 = 1
    private var nextToken: UInt64 = 1
    private var now: Duration = .zero
    private var armedAt: Duration?
    private var nextBoostAt: Duration
    private var estimates: [String: Duration] = [:]
    private var totals: StatsAccumulator
    private var ended: Deque<TaskRecord> = []

    public init(configuration: SchedulerConfiguration = SchedulerConfiguration(), now: Duration = .zero) {
        self.configuration = configuration
        self.now = now
        self.nextBoostAt = now + configuration.boostPeriod
        self.totals = StatsAccumulator(windowLimit: configuration.recordLimit)
    }

    // MARK: - Events

    /// A new task arrives. It enters the ready queue (MLFQ level = its priority, clamped) and starts
    /// at once if a worker is free or it may preempt a running task.
    public mutating func submit(_ spec: TaskSpec, now: Duration) -> (TaskID, [Action]) {
        advanceNow(now)
        let id = TaskID(nextID)
        nextID += 1
        let level = min(max(spec.priority, 0), configuration.levels - 1)
        let arrival = takeToken()
        var record = TaskRecord(
            id: id, name: spec.name, group: spec.group, priority: spec.priority,
            preemptibility: spec.preemptibility, detail: spec.detail, state: .waiting, level: level,
            submittedAt: self.now, transitions: [], levelHistory: [.init(level: level, at: self.now)])
        record.transitions.append(.init(state: .waiting, at: self.now))
        let entry = Entry(spec: spec, arrival: arrival, level: level, readyOrder: arrival, readySince: self.now, record: record)
        tasks[id] = entry
        if level > 0 { noteBelowTop(+1) }
        totals.submitted += 1
        enqueue(id)
        var actions: [Action] = []
        dispatch(&actions)
        finishEvent(&actions)
        return (id, actions)
    }

    /// The task's body returned (`.success`) or threw (`.failure` with the error's description).
    /// Ignored if the task already ended (cancelled or timed out meanwhile).
    public mutating func finished(_ id: TaskID, result: Result<String, TaskFailure>, now: Duration) -> [Action] {
        advanceNow(now)
        guard tasks[id] != nil else { return [] }
        var actions: [Action] = []
        let outcome: TaskOutcome
        switch result {
        case .success(let text): outcome = .completed(text)
        case .failure(let failure): outcome = .failed(failure.message)
        }
        end(id, outcome: outcome, stopBody: false, &actions)
        dispatch(&actions)
        finishEvent(&actions)
        return actions
    }

    /// The running task's slice is over (MLFQ or round robin). Its run time is charged; under MLFQ it
    /// moves down a level once its allotment there is used up. If a task of the same or a better rank
    /// waits, it is paused and goes to the back of its queue; otherwise it gets a new slice.
    public mutating func quantumExpired(_ id: TaskID, now: Duration) -> [Action] {
        advanceNow(now)
        var actions: [Action] = []
        expireSlice(id, &actions)
        dispatch(&actions)
        finishEvent(&actions)
        return actions
    }

    /// The task ran for its whole timeout: it ends as timed out.
    public mutating func timeout(_ id: TaskID, now: Duration) -> [Action] {
        advanceNow(now)
        guard tasks[id] != nil else { return [] }
        var actions: [Action] = []
        end(id, outcome: .timedOut, stopBody: true, &actions)
        dispatch(&actions)
        finishEvent(&actions)
        return actions
    }

    /// MLFQ priority boost: every task moves to the top level with a fresh allotment.
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
        guard tasks[id] != nil else { return [] }
        var actions: [Action] = []
        end(id, outcome: .cancelled, stopBody: true, &actions)
        dispatch(&actions)
        finishEvent(&actions)
        return actions
    }

    /// Cancels every live task of `group`, in id order.
    /// - Complexity: O(n log n) in the number of live tasks.
    public mutating func cancel(group: String, now: Duration) -> [Action] {
        advanceNow(now)
        var actions: [Action] = []
        for id in tasks.filter({ $0.value.spec.group == group }).keys.sorted() {
            end(id, outcome: .cancelled, stopBody: true, &actions)
        }
        dispatch(&actions)
        finishEvent(&actions)
        return actions
    }

    /// Fires every deadline due at `now`: timeouts, slice ends, the boost.
    public mutating func advance(to now: Duration) -> [Action] {
        advanceNow(now)
        if let armed = armedAt, armed <= self.now { armedAt = nil }
        var actions: [Action] = []
        for id in running where tasks[id]?.timeoutDeadline.map({ $0 <= self.now }) == true {
            end(id, outcome: .timedOut, stopBody: true, &actions)
        }
        for id in running where tasks[id]?.sliceEnd.map({ $0 <= self.now }) == true {
            expireSlice(id, &actions)
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
        for id in running { charge(id) }
        configuration.strategy = strategy
        if let quantum { configuration.baseQuantum = max(quantum, .milliseconds(1)) }
        if strategy == .mlfq { nextBoostAt = self.now + configuration.boostPeriod }
        for id in running { tasks[id]!.sliceEnd = sliceEnd(for: tasks[id]!) }
        resortReady()
        var actions: [Action] = []
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
        var earliest: Duration?
        func consider(_ d: Duration?) {
            if let d, earliest.map({ d < $0 }) ?? true { earliest = d }
        }
        for id in running {
            consider(tasks[id]?.sliceEnd)
            consider(tasks[id]?.timeoutDeadline)
        }
        if configuration.strategy == .mlfq, belowTop > 0 { consider(nextBoostAt) }
        return earliest
    }

    /// A snapshot of the counters. - Complexity: O(w log w) for the percentile windows.
    public func stats() -> SchedulerStats {
        var levels = (0..<configuration.levels).map {
            SchedulerStats.Level(level: $0, quantumMs: configuration.quantum(atLevel: $0).milliseconds, queued: 0, running: 0)
        }
        var queued = 0
        for entry in tasks.values {
            if entry.place == .running {
                levels[entry.level].running += 1
            } else {
                levels[entry.level].queued += 1
            }
            if entry.place == .waiting { queued += 1 }
        }
        var tools: [String: SchedulerStats.Tool] = [:]
        for (name, t) in totals.tools {
            tools[name] = .init(count: t.count, avgMs: StatsAccumulator.mean(t.runSum, t.runCount), p95Ms: StatsAccumulator.p95(t.window))
        }
        return SchedulerStats(
            strategy: configuration.strategy, workers: configuration.workers,
            quantumMs: configuration.baseQuantum.milliseconds, boostPeriodMs: configuration.boostPeriod.milliseconds,
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
        if let entry = tasks[id] { return liveRecord(entry, now: max(now, self.now)) }
        return ended.last(where: { $0.id == id })
    }

    /// The most recent tasks, newest first: live ones, then ended ones.
    public func records(limit: Int, now: Duration) -> [TaskRecord] {
        let live = tasks.values.map { liveRecord($0, now: max(now, self.now)) }.sorted { $0.id > $1.id }
        return Array((live + ended.reversed()).prefix(max(0, limit)))
    }

    /// The `sjf` estimate for a task named `name` declaring `declared`.
    public func estimate(forTool name: String, declared: Duration?) -> Duration {
        estimates[name] ?? declared ?? configuration.defaultEstimate
    }

    /// Ids of the tasks holding a worker, in start order.
    public var runningTasks: [TaskID] { running }

    /// Tasks not yet ended.
    public var liveCount: Int { tasks.count }

    /// The place of a live task, or `nil` once it ended.
    public func state(of id: TaskID) -> TaskState? { tasks[id]?.record.state }

    /// The MLFQ level of a live task.
    public func level(of id: TaskID) -> Int? { tasks[id]?.level }

    /// Checks the structural invariants; returns a description of the first broken one.
    public func checkInvariants() -> String? {
        var readyLive = 0
        var paused = 0
        var below = 0
        for (id, entry) in tasks {
            let inRunning = running.filter { $0 == id }.count
            if entry.place == .running {
                if inRunning != 1 { return "task \(id) running but in running list \(inRunning) times" }
            } else {
                if inRunning != 0 { return "task \(id) ready but in running list" }
                readyLive += 1
                if entry.place == .paused { paused += 1 }
            }
            if entry.level > 0 { below += 1 }
            if entry.level < 0 || entry.level >= configuration.levels { return "task \(id) level \(entry.level) out of range" }
            if let allotment = configuration.allotment(atLevel: entry.level), entry.usedAtLevel > allotment {
                return "task \(id) used \(entry.usedAtLevel) above its allotment \(allotment)"
            }
            if entry.record.state != TaskState(place: entry.place) { return "task \(id) record state \(entry.record.state) vs \(entry.place)" }
        }
        if running.count != Set(running).count { return "duplicate ids in running" }
        if running.contains(where: { tasks[$0] == nil }) { return "ended task still running" }
        if readyLive != readyCount { return "ready count \(readyCount) but \(readyLive) ready tasks" }
        if paused != pausedCount { return "paused count \(pausedCount) but \(paused) paused tasks" }
        if below != belowTop { return "below-top count \(belowTop) but \(below)" }
        if running.count > configuration.workers, running.contains(where: { tasks[$0]!.preemptible }) {
            return "\(running.count) running with \(configuration.workers) workers"
        }
        let ended = totals.completed + totals.failed + totals.cancelled + totals.timedOut
        if totals.submitted != ended + tasks.count { return "submitted \(totals.submitted) != ended \(ended) + live \(tasks.count)" }
        // Every ready task is reachable from the heap: copy and drain it.
        var heap = ready
        var seen = Set<TaskID>()
        while let key = heap.best(isLive: { Self.isLive($0, in: tasks) }) {
            heap.removeBest()
            if !seen.insert(key.id).inserted { return "task \(key.id) has two live keys" }
        }
        if seen.count != readyCount { return "heap holds \(seen.count) live keys for \(readyCount) ready tasks" }
        return nil
    }

    // MARK: - Internals

    private mutating func advanceNow(_ time: Duration) {
        if time > now { now = time }
    }

    private mutating func takeToken() -> UInt64 {
        defer { nextToken += 1 }
        return nextToken
    }

    private mutating func noteBelowTop(_ delta: Int) {
        if belowTop == 0, delta > 0, nextBoostAt < now { nextBoostAt = now + configuration.boostPeriod }
        belowTop += delta
    }

    private func rank(_ entry: Entry) -> Int64 {
        switch configuration.strategy {
        case .mlfq: Int64(entry.level)
        case .preemptive, .priority: Int64(clamping: entry.spec.priority)
        case .sjf: estimate(forTool: entry.spec.name, declared: entry.spec.estimate).nanoseconds
        case .roundRobin, .fifo: 0
        }
    }

    /// Time-slicing strategies queue a re-queued task behind its peers; the others keep arrival order.
    private var requeuesAtTail: Bool {
        configuration.strategy == .mlfq || configuration.strategy == .roundRobin
    }

    private static func isLive(_ key: ReadyQueue.Key, in tasks: [TaskID: Entry]) -> Bool {
        guard let entry = tasks[key.id] else { return false }
        return entry.place != .running && entry.readyToken == key.token
    }

    /// The best ready task's key (dropping stale keys).
    private mutating func bestReady() -> ReadyQueue.Key? {
        let tasks = self.tasks
        return ready.best { Self.isLive($0, in: tasks) }
    }

    private func key(for id: TaskID, _ entry: Entry) -> ReadyQueue.Key {
        ReadyQueue.Key(rank: rank(entry), order: entry.readyOrder, token: entry.readyToken, id: id)
    }

    /// Puts a waiting or paused task into `ready` with a fresh token.
    private mutating func enqueue(_ id: TaskID) {
        let token = takeToken()
        tasks[id]!.readyToken = token
        tasks[id]!.readySince = now
        if requeuesAtTail { tasks[id]!.readyOrder = token }
        ready.insert(key(for: id, tasks[id]!))
        readyCount += 1
    }

    /// Re-ranks every ready task (after a strategy change or a boost).
    /// - Complexity: O(n) in the live tasks.
    private mutating func resortReady() {
        var keys: [ReadyQueue.Key] = []
        keys.reserveCapacity(readyCount)
        for (id, entry) in tasks where entry.place != .running {
            keys.append(key(for: id, entry))
        }
        ready.rebuild(keys)
    }

    /// The slice end for a task starting a slice now, under the current strategy.
    private func sliceEnd(for entry: Entry) -> Duration? {
        switch configuration.strategy {
        case .mlfq:
            var slice = configuration.quantum(atLevel: entry.level)
            if let allotment = configuration.allotment(atLevel: entry.level) {
                slice = min(slice, allotment - entry.usedAtLevel)
            }
            return now + slice
        case .roundRobin:
            return now + configuration.baseQuantum
        case .preemptive, .priority, .sjf, .fifo:
            return nil
        }
    }

    /// Charges the running task's current slice up to now and starts a new accounting slice.
    private mutating func charge(_ id: TaskID) {
        guard var entry = tasks[id], entry.place == .running else { return }
        let ran = now - entry.sliceStart
        entry.record.runTime += ran
        if configuration.strategy == .mlfq { entry.usedAtLevel += ran }
        entry.sliceStart = now
        tasks[id] = entry
        if configuration.strategy == .mlfq { demoteIfAllotmentUsed(id) }
    }

    /// MLFQ rule 4: a task that used its allotment at a level moves down one level.
    private mutating func demoteIfAllotmentUsed(_ id: TaskID) {
        guard var entry = tasks[id], let allotment = configuration.allotment(atLevel: entry.level),
              entry.usedAtLevel >= allotment else { return }
        if entry.level == 0 { noteBelowTop(+1) }
        entry.level += 1
        entry.usedAtLevel = .zero
        entry.record.level = entry.level
        entry.record.levelHistory.append(.init(level: entry.level, at: now))
        totals.demotions += 1
        tasks[id] = entry
    }

    private mutating func expireSlice(_ id: TaskID, _ actions: inout [Action]) {
        guard let entry = tasks[id], entry.place == .running, entry.sliceEnd != nil else { return }
        charge(id)
        let current = tasks[id]!
        if current.preemptible, let best = bestReady(), best.rank <= rank(current) {
            preempt(id, &actions)
        } else {
            tasks[id]!.sliceEnd = sliceEnd(for: current)
        }
    }

    /// Gives a worker to a ready task.
    private mutating func run(_ id: TaskID, _ actions: inout [Action]) {
        var entry = tasks[id]!
        readyCount -= 1
        switch entry.place {
        case .waiting:
            entry.record.startedAt = now
            entry.record.waitTime = now - entry.record.submittedAt
            totals.recordStart(wait: entry.record.waitTime)
            actions.append(.start(id))
        case .paused:
            entry.record.pausedTime += now - entry.readySince
            pausedCount -= 1
            actions.append(.resume(id))
        case .running:
            preconditionFailure("task \(id) is already running")
        }
        entry.place = .running
        entry.sliceStart = now
        entry.record.append(.running, at: now)
        tasks[id] = entry
        tasks[id]!.sliceEnd = sliceEnd(for: entry)
        running.append(id)
    }

    /// Takes the worker from a running preemptible task; it waits in `ready` as paused.
    private mutating func preempt(_ id: TaskID, _ actions: inout [Action]) {
        charge(id)
        running.removeAll { $0 == id }
        tasks[id]!.place = .paused
        tasks[id]!.sliceEnd = nil
        tasks[id]!.record.preemptions += 1
        tasks[id]!.record.append(.paused, at: now)
        pausedCount += 1
        totals.preemptions += 1
        enqueue(id)
        actions.append(.pause(id))
    }

    /// The running task to pause first: worst rank, then the latest started.
    private func worstRunning(preemptibleOnly: Bool) -> TaskID? {
        var worst: (id: TaskID, rank: Int64)?
        for id in running {
            let entry = tasks[id]!
            guard !preemptibleOnly || entry.preemptible else { continue }
            let r = rank(entry)
            if worst == nil || r >= worst!.rank { worst = (id, r) }
        }
        return worst?.id
    }

    /// Fills free workers from `ready`, then (for `mlfq` and `preemptive`) lets a better-ranked ready
    /// task take the worker of the worst-ranked running preemptible task.
    private mutating func dispatch(_ actions: inout [Action]) {
        while let best = bestReady() {
            if running.count < configuration.workers {
                ready.removeBest()
                run(best.id, &actions)
                continue
            }
            guard configuration.strategy == .mlfq || configuration.strategy == .preemptive,
                  let victim = worstRunning(preemptibleOnly: true),
                  rank(tasks[victim]!) > best.rank else { break }
            ready.removeBest()
            preempt(victim, &actions)
            run(best.id, &actions)
        }
        let tasks = self.tasks
        ready.compact(liveCount: readyCount) { Self.isLive($0, in: tasks) }
    }

    private mutating func applyBoost() {
        guard configuration.strategy == .mlfq else { return }
        for id in running { charge(id) }
        var moved = false
        for id in Array(tasks.keys) {
            var entry = tasks[id]!
            if entry.level != 0 {
                entry.level = 0
                entry.record.level = 0
                entry.record.levelHistory.append(.init(level: 0, at: now))
                moved = true
            }
            entry.usedAtLevel = .zero
            tasks[id] = entry
        }
        belowTop = 0
        for id in running { tasks[id]!.sliceEnd = sliceEnd(for: tasks[id]!) }
        if moved { totals.boosts += 1 }
        nextBoostAt = now + configuration.boostPeriod
        resortReady()
    }

    /// Ends a live task exactly once: removes it from its place, records it, emits `finish`.
    private mutating func end(_ id: TaskID, outcome: TaskOutcome, stopBody: Bool, _ actions: inout [Action]) {
        guard var entry = tasks[id] else { return }
        switch entry.place {
        case .running:
            charge(id)
            entry = tasks[id]!
            running.removeAll { $0 == id }
        case .paused:
            entry.record.pausedTime += now - entry.readySince
            pausedCount -= 1
            readyCount -= 1
        case .waiting:
            entry.record.waitTime = now - entry.record.submittedAt
            readyCount -= 1
        }
        if stopBody, entry.place != .waiting { actions.append(.cancel(id)) }
        tasks[id] = nil
        if entry.level > 0 { belowTop -= 1 }
        entry.record.endedAt = now
        entry.record.append(TaskState(outcome), at: now)
        switch outcome {
        case .completed(let text): entry.record.result = String(text.prefix(TaskRecord.summaryLimit))
        case .failed(let message): entry.record.error = message
        case .cancelled: entry.record.error = "cancelled"
        case .timedOut: entry.record.error = "timed out after \(entry.spec.timeout.map { "\($0.milliseconds) ms" } ?? "its timeout") of run time"
        }
        if entry.record.startedAt != nil, case .completed = outcome { learn(entry) }
        if entry.record.startedAt != nil, case .failed = outcome { learn(entry) }
        totals.recordEnd(entry.record, outcome: outcome)
        if ended.count >= configuration.recordLimit { ended.removeFirst() }
        ended.append(entry.record)
        actions.append(.finish(id, outcome))
    }

    /// `sjf`: exponentially weighted moving average of measured run times per tool name.
    private mutating func learn(_ entry: Entry) {
        let measured = entry.record.runTime
        if let previous = estimates[entry.spec.name] {
            let a = configuration.estimateSmoothing
            estimates[entry.spec.name] = measured * a + previous * (1 - a)
        } else {
            estimates[entry.spec.name] = measured
        }
    }

    private func liveRecord(_ entry: Entry, now: Duration) -> TaskRecord {
        var record = entry.record
        switch entry.place {
        case .running: record.runTime += now - entry.sliceStart
        case .paused: record.pausedTime += now - entry.readySince
        case .waiting: record.waitTime = now - record.submittedAt
        }
        return record
    }

    /// Emits `armTimer` when the earliest deadline is earlier than the armed timer.
    private mutating func finishEvent(_ actions: inout [Action]) {
        guard let deadline = nextDeadline else { return }
        if armedAt.map({ deadline < $0 }) ?? true {
            armedAt = deadline
            actions.append(.armTimer(at: deadline))
        }
    }
}

/// A body's error, carried as its description.
public struct TaskFailure: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
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
