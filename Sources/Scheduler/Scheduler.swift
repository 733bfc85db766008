import Collections
import Synchronization

/// Runs task bodies as a ``SchedulerStateMachine`` decides: the thin driver around it.
///
/// Each call takes the lock, feeds one event with the clock's time to the state machine, turns the
/// actions into effects, unlocks, and then performs the effects: starting bodies (in worker loops,
/// see ``runBodies(first:runner:)``),
/// pausing and resuming them through their ``TaskContext``, cancelling them, resuming whoever awaits an
/// outcome, and arming one timer task that calls back at the machine's next deadline.
public final class Scheduler<Value: TaskResult>: Sendable {
    /// A task's work: it returns its typed value; it should stop soon once its context is cancelled.
    public typealias Body = @Sendable (TaskContext) async -> Value
    public typealias Outcome = TaskOutcome<Value>
    public typealias Action = SchedulerStateMachine.Action

    /// Who awaits a task's outcome, or the scheduler's idleness. Unsafe (unchecked) continuations: each is
    /// resumed exactly once by construction (taken out of `waiters` or `idleWaiters` under the lock, then
    /// resumed), the scheduler's tests await every one of them, and the checked kind costs an allocation
    /// per wait and, being of a library with a resilient layout, a generic-metadata lookup for every copy
    /// and destroy (about 5% of the no-op benchmark's profile).
    private typealias Waiter = UnsafeContinuation<Outcome?, Never>
    private typealias IdleWaiter = UnsafeContinuation<Void, Never>

    /// A live task's body: submitted and not started yet, or started (its body's context).
    private enum LiveBody {
        case pending(Body, Preemptibility)
        case started(TaskContext)

        var context: TaskContext? {
            if case .started(let context) = self { context } else { nil }
        }
    }

    private struct State {
        var machine: SchedulerStateMachine
        /// Bodies of live tasks (one map, indexed by the sequential id: no hashing).
        var bodies = TaskIDMap<LiveBody>()
        var waiters: [TaskID: [Waiter]] = [:]
        var idleWaiters: [IdleWaiter] = []
        var timer: Task<Void, Never>?
        /// Counts the machine's `armTimer` actions: an arming performed after a newer one was prepared
        /// is stale and skipped (see ``arm(_:)``).
        var timerArmings: UInt64 = 0
        var isShutDown = false
        /// The machine's actions for the event being handled: one buffer, reused (no array per event).
        var actions: [Action] = []
    }

    /// What to do once the lock is released.
    private typealias Start = (id: TaskID, context: TaskContext, body: Body)

    private struct Effects {
        /// The bodies to start: the first inline (a body's end usually starts exactly one, which then needs
        /// no array), any others in `moreStarts`.
        var firstStart: Start?
        var moreStarts: [Start] = []
        var syncs: [TaskContext] = []
        var cancels: [TaskContext] = []
        var outcomes: [(Waiter, Outcome)] = []
        var idle: [IdleWaiter] = []
        var measures: [TaskContext] = []
        var sampleLoad = false
        /// The timer to arm, and which arming it is (``State/timerArmings``).
        var timer: (deadline: Duration, arming: UInt64)?
    }

    private let state: AdaptiveLock<State>
    /// Full outcomes of recently ended tasks, for ``outcome(of:)`` after the end, under a lock of their
    /// own: asking for the outcome of a task that ended does not contend with the scheduler's events.
    /// Written under `state`'s lock too (always taken first), when the task ends.
    private let recent = AdaptiveLock(RecentOutcomes())

    private struct RecentOutcomes {
        var outcomes = TaskIDMap<Outcome>()
        var order: Deque<TaskID> = []
    }
    private let clock: any SchedulerClock
    private let runnableThreads: (@Sendable () -> Int?)?

    /// - Parameter runnableThreads: reads how many threads the machine has runnable (``SystemLoad/runnable()``
    ///   in the product); with it, the core limit grows while busy work outside shares the cores (see
    ///   ``SchedulerStateMachine/observedLoad(runnable:now:)``). nil: the limit stays as configured.
    public init(
        configuration: SchedulerConfiguration = SchedulerConfiguration(), clock: some SchedulerClock = .continuous,
        runnableThreads: (@Sendable () -> Int?)? = nil
    ) {
        self.clock = clock
        self.runnableThreads = runnableThreads
        var machine = SchedulerStateMachine(configuration: configuration, now: clock.now)
        if runnableThreads != nil { machine.sampleLoad(every: SystemLoad.samplePeriod) }
        state = AdaptiveLock(State(machine: machine))
    }

    deinit {
        state.withLock { $0.timer?.cancel() }
    }

    // MARK: - Tasks

    /// Queues a task. The body's value is the outcome, `.completed` or `.failed` as the value says.
    /// After ``shutdown()`` the task is cancelled at once.
    ///
    /// - Parameter startsOnCaller: when the task can start at once, its body begins on the caller's
    ///   thread and runs there up to its first suspension before `submit` returns (`Task.immediate`):
    ///   no hop to another thread between the submission and the body's first statement. For bodies
    ///   that suspend soon, such as a tool call's (spawn the process, then await it); a body that never
    ///   suspends would run to its end inside `submit`. Otherwise, and by default, the body starts on a
    ///   new Swift task.
    @discardableResult
    public func submit(_ spec: TaskSpec, startsOnCaller: Bool = false, body: @escaping Body) -> TaskID {
        var effects = Effects()
        let id = process(nil, into: &effects) { state, now, actions in submit(spec, body, waiter: nil, in: &state, now: now, actions: &actions) }
        perform(effects, firstStartsOnCaller: startsOnCaller)
        return id
    }

    private func submit(
        _ spec: TaskSpec, _ body: @escaping Body, waiter: Waiter?, in state: inout State, now: Duration,
        actions: inout [Action]
    ) -> TaskID {
        let id = state.machine.submit(spec, now: now, into: &actions)
        state.bodies[id] = .pending(body, spec.preemptibility)
        if let waiter { state.waiters[id, default: []].append(waiter) }
        if state.isShutDown { actions += state.machine.cancel(id, now: now) }
        return id
    }

    /// Waits until the task ends and returns how (also after it ended, while it is among the
    /// ``SchedulerConfiguration/recordLimit`` most recent); nil for a task unknown or too old to
    /// remember. Does not cancel the task if the caller is cancelled: use ``cancel(_:)``.
    public func outcome(of id: TaskID) async -> Outcome? {
        // Fast path: a task that already ended needs no continuation (and no suspension), nor the
        // scheduler's lock.
        if let known = endedOutcome(of: id) { return known }
        return await withUnsafeContinuation { (continuation: Waiter) in
            let known: Outcome?? = state.withLock { state in
                if state.machine.state(of: id) != nil {
                    state.waiters[id, default: []].append(continuation)
                    return nil
                }
                return .some(endedOutcome(of: id))
            }
            if let known { continuation.resume(returning: known) }
        }
    }

    /// The outcome of a task that ended, while it is among the most recent; nil while it is live.
    public func endedOutcome(of id: TaskID) -> Outcome? {
        recent.withLock { $0.outcomes[id] }
    }

    /// Submits and waits for the outcome.
    public func run(_ spec: TaskSpec, body: @escaping Body) async -> Outcome {
        let outcome = await withUnsafeContinuation { (continuation: Waiter) -> Void in
            handle { (state: inout State, now: Duration, actions: inout [Action]) -> TaskID in
                submit(spec, body, waiter: continuation, in: &state, now: now, actions: &actions)
            }
        }
        // The waiter was registered with the submission, before the task could end.
        return outcome!
    }

    /// Cancels a task (ignored once it ended).
    public func cancel(_ id: TaskID) {
        handle { state, now, actions in actions += state.machine.cancel(id, now: now) }
    }

    /// The running task made progress (an MCP server's progress notification): its timeout starts again.
    public func progressed(_ id: TaskID) {
        handle { state, now, actions in actions += state.machine.progressed(id, now: now) }
    }

    /// Cancels every live task of a group (one turn's tool calls).
    public func cancel(group: String) {
        handle { state, now, actions in actions += state.machine.cancel(group: group, now: now) }
    }

    /// Waits until no task is live.
    public func waitUntilIdle() async {
        await withUnsafeContinuation { (continuation: IdleWaiter) in
            let idle = state.withLock { state -> Bool in
                if state.machine.liveCount == 0 { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    /// Cancels every live task and every later submission; waits until all have ended.
    public func shutdown() async {
        handle { state, now, actions in
            state.isShutDown = true
            for id in state.machine.records(limit: .max, now: now).filter({ !$0.state.isFinal }).map(\.id) {
                actions += state.machine.cancel(id, now: now)
            }
        }
        await waitUntilIdle()
    }

    // MARK: - Settings

    /// Switches the strategy (and the base quantum, if given) while tasks run.
    public func setStrategy(_ strategy: Strategy, quantum: Duration? = nil) {
        handle { state, now, actions in actions += state.machine.setStrategy(strategy, quantum: quantum, now: now) }
    }

    /// Changes the number of workers (at least 1) while tasks run.
    public func setWorkers(_ workers: Int) {
        handle { state, now, actions in actions += state.machine.setWorkers(workers, now: now) }
    }

    public var configuration: SchedulerConfiguration {
        state.withLock { $0.machine.configuration }
    }

    /// The `sjf` estimates learned so far, by tool name (``SchedulerStateMachine/learnedEstimates``).
    public var learnedEstimates: [String: Duration] {
        state.withLock { $0.machine.learnedEstimates }
    }

    /// Estimates learned in an earlier run (``SchedulerStateMachine/loadEstimates(_:)``).
    public func loadEstimates(_ estimates: [String: Duration]) {
        state.withLock { $0.machine.loadEstimates(estimates) }
    }

    // MARK: - Statistics

    /// Tasks submitted and not ended yet (waiting, running or paused): a cheap bound check, without the
    /// percentiles ``stats`` computes.
    public var liveCount: Int {
        state.withLock { $0.machine.liveCount }
    }

    /// A snapshot of the counters and queues.
    public var stats: SchedulerStats {
        state.withLock { $0.machine.stats() }
    }

    /// The most recent tasks, newest first.
    public func records(limit: Int = 50) -> [TaskRecord] {
        state.withLock { $0.machine.records(limit: limit, now: clock.now) }
    }

    /// One task's record, live or recently ended.
    public func record(_ id: TaskID) -> TaskRecord? {
        state.withLock { $0.machine.record(id, now: clock.now) }
    }

    // MARK: - Driving the state machine

    /// An event: it changes the state at a time and appends the machine's actions.
    private typealias Event<R> = (inout State, Duration, inout [Action]) -> R

    @discardableResult
    private func handle<R>(_ event: Event<R>) -> R {
        var effects = Effects()
        let result = process(nil, into: &effects, event)
        perform(effects)
        return result
    }

    /// Feeds one event under the lock and adds to `effects` what to perform once it is released.
    /// `returned` is the body's value when the event is that body's end.
    private func process<R>(_ returned: (TaskID, Value)?, into effects: inout Effects, _ event: Event<R>) -> R {
        // Read outside the lock to keep it short; the machine treats a time older than one it has
        // seen as that time.
        let now = clock.now
        let result = state.withLock { state in
            var actions: [Action] = []
            swap(&actions, &state.actions)
            actions.removeAll(keepingCapacity: true)
            let result = event(&state, now, &actions)
            prepare(actions, returned: returned, in: &state, effects: &effects)
            swap(&actions, &state.actions)
            return result
        }
        return result
    }

    /// Applies the actions to the driver's bookkeeping (under the lock) and collects the effects.
    private func prepare(_ actions: [Action], returned: (TaskID, Value)?, in state: inout State, effects: inout Effects) {
        for action in actions {
            switch action {
            case .start(let id):
                guard case .pending(let body, let preemptibility) = state.bodies[id] else { continue }
                let context = TaskContext(id: id, preemptibility: preemptibility)
                state.bodies[id] = .started(context)
                if effects.firstStart == nil { effects.firstStart = (id, context, body) } else { effects.moreStarts.append((id, context, body)) }
            case .pause(let id):
                guard let context = state.bodies[id]?.context else { continue }
                context.setDesiredPaused(true)
                effects.syncs.append(context)
            case .resume(let id):
                guard let context = state.bodies[id]?.context else { continue }
                context.setDesiredPaused(false)
                effects.syncs.append(context)
            case .cancel(let id):
                guard let context = state.bodies[id]?.context else { continue }
                effects.cancels.append(context)
            case .finish(let id, let end):
                let outcome: Outcome
                switch end {
                case .cancelled: outcome = .cancelled
                case .timedOut: outcome = .timedOut
                case .completed, .failed:
                    // Only a body's own end completes or fails a task, and it comes with its value.
                    guard let (returnedID, value) = returned, returnedID == id else { preconditionFailure("task \(id) ended without its value") }
                    outcome = end == .completed ? .completed(value) : .failed(value)
                }
                state.bodies[id] = nil
                for waiter in state.waiters.isEmpty ? [] : state.waiters.removeValue(forKey: id) ?? [] {
                    effects.outcomes.append((waiter, outcome))
                }
                remember(outcome, of: id, limit: state.machine.configuration.recordLimit)
            case .measureCPU(let id):
                guard let context = state.bodies[id]?.context else { continue }
                effects.measures.append(context)
            case .sampleLoad:
                effects.sampleLoad = true
            case .armTimer(let deadline):
                state.timerArmings &+= 1
                effects.timer = (deadline, state.timerArmings)
            }
        }
        if state.machine.liveCount == 0, !state.idleWaiters.isEmpty {
            effects.idle = state.idleWaiters
            state.idleWaiters = []
        }
    }

    /// Called under `state`'s lock, when the task ends (so a task is live or remembered, never neither).
    private func remember(_ outcome: Outcome, of id: TaskID, limit: Int) {
        recent.withLock { recent in
            if recent.order.count >= limit, let oldest = recent.order.popFirst() {
                recent.outcomes[oldest] = nil
            }
            recent.order.append(id)
            recent.outcomes[id] = outcome
        }
    }

    /// - Parameter firstStartsOnCaller: the first body to start begins on this thread (see
    ///   ``submit(_:startsOnCaller:body:)``).
    private func perform(_ effects: Effects, firstStartsOnCaller: Bool = false) {
        for context in effects.cancels { context.cancel() }
        for context in effects.syncs { context.sync() }
        if let first = effects.firstStart { spawnWorker(first, onCaller: firstStartsOnCaller) }
        for start in effects.moreStarts { spawnWorker(start) }
        // After the starts: making a timer task and cancelling the old one (each may wake a thread)
        // does not delay a tool's spawn. Its deadline, a slice's end or a boost, is milliseconds away.
        if let timer = effects.timer { arm(timer) }
        for (continuation, outcome) in effects.outcomes { continuation.resume(returning: outcome) }
        for continuation in effects.idle { continuation.resume() }
        // Read outside the lock (a few system calls each), then reported as one event each.
        for context in effects.measures {
            let demand = context.cpuReading().map { $0.cpu + $0.waited }
            handle { state, now, actions in actions += state.machine.measuredCPU(context.id, demand: demand, now: now) }
        }
        if effects.sampleLoad {
            let runnable = runnableThreads?()
            handle { state, now, actions in actions += state.machine.observedLoad(runnable: runnable, now: now) }
        }
    }

    /// Replaces the timer task with one that calls back at `timer.deadline`, unless a newer arming was
    /// prepared meanwhile (its own `perform` arms it).
    private func arm(_ timer: (deadline: Duration, arming: UInt64)) {
        state.withLock { state in
            guard state.timerArmings == timer.arming else { return }
            state.timer?.cancel()
            state.timer = Task { [weak self, clock] in
                do { try await clock.sleep(until: timer.deadline) } catch { return }
                self?.handle { state, now, actions in
                    // A slice that ends charges a CPU-bound task its CPU time (a few system calls each).
                    let bodies = state.bodies
                    actions += state.machine.advance(to: now) { bodies[$0]?.context?.cpuReading()?.cpu }
                }
            }
        }
    }

    // MARK: - Workers

    /// Runs a started body on a new Swift task, which then keeps running the bodies started when its
    /// body finishes (see ``runBodies(first:runner:)``). `onCaller`: the task begins on this thread,
    /// up to the body's first suspension (a cancel meanwhile is applied when the task is attached).
    private func spawnWorker(_ start: Start, onCaller: Bool = false) {
        let runner = BodyRunner()
        let work: @Sendable () async -> Void = { [self] in await runBodies(first: start, runner: runner) }
        runner.attach(onCaller ? Task.immediate(operation: work) : Task(operation: work))
    }

    /// A worker loop: runs a body, reports its end, and if that event started another body, runs that
    /// one too on the same Swift task (any further started bodies get new tasks). This saves a `Task`
    /// creation and a thread hop per body when bodies are short.
    ///
    /// The loop stops when its Swift task was cancelled. That happens only through ``TaskContext/cancel()``
    /// of the body it runs, i.e. after the machine ended that body (cancel or timeout) and already gave
    /// its worker to another task: the `finished` event is then ignored and starts nothing, so a body that
    /// ignores cancellation never holds a worker, and a cancelled Swift task never runs another body.
    private func runBodies(first: Start, runner: BodyRunner) async {
        var next: Start? = first
        while let (id, context, body) = next {
            context.attach(runner)
            let value = await body(context)
            // Ignored by the machine if the task was cancelled or timed out meanwhile.
            var effects = Effects()
            process((id, value), into: &effects) { state, now, actions in
                state.machine.finished(id, succeeded: value.succeeded, summary: value.summary, cpuTime: value.cpuTime, now: now, into: &actions)
            }
            next = Task.isCancelled ? nil : effects.firstStart.take()
            perform(effects)
        }
    }
}

/// The Swift task of a worker loop, as the ``TaskContext`` of the body it runs sees it: cancelling it
/// cancels the body. A cancel that arrives before the task is attached is applied on attaching.
final class BodyRunner: Sendable {
    private let state = Mutex<(task: Task<Void, Never>?, cancelled: Bool)>((nil, false))

    func attach(_ task: Task<Void, Never>) {
        let cancelNow = state.withLock { state -> Bool in
            state.task = task
            return state.cancelled
        }
        if cancelNow { task.cancel() }
    }

    func cancel() {
        let task = state.withLock { state -> Task<Void, Never>? in
            state.cancelled = true
            return state.task
        }
        task?.cancel()
    }
}
