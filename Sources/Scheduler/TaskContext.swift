import Synchronization

/// What a task's body gets from the scheduler: a way to be paused and resumed, and cancellation.
///
/// The scheduler sets the *desired* state (paused or not) in order, under its own lock; the context
/// then applies it with ``TaskContext/sync()``. Applying is idempotent and always applies the latest
/// desired state, so a pause and a resume performed out of order by two threads cannot leave a task
/// stopped while the scheduler counts it as running.
public final class TaskContext: Sendable {
    private struct State {
        var desiredPaused = false
        var appliedPaused = false
        var cancelled = false
        var pause: (@Sendable () -> Void)?
        var resume: (@Sendable () -> Void)?
        var cpuReading: (@Sendable () -> (cpu: Duration, waited: Duration)?)?
        var parked: [CheckedContinuation<Void, Never>] = []
        var runner: BodyRunner?
    }

    public let id: TaskID
    public let preemptibility: Preemptibility
    private let state = Mutex(State())

    init(id: TaskID, preemptibility: Preemptibility) {
        self.id = id
        self.preemptibility = preemptibility
    }

    /// For `.signals` tasks: how to pause and resume the body's work, e.g. SIGSTOP and SIGCONT of its
    /// process group. Register once the process exists; if the scheduler already paused the task, `pause`
    /// is called at once. The handlers run under the context's lock: keep them short (a `kill(2)`), and
    /// never call the scheduler from them.
    public func onPause(_ pause: @escaping @Sendable () -> Void, resume: @escaping @Sendable () -> Void) {
        state.withLock { state in
            state.pause = pause
            state.resume = resume
            state.appliedPaused = false
            if state.desiredPaused, !state.cancelled {
                pause()
                state.appliedPaused = true
            }
        }
    }

    /// How to read the CPU use of the body's work so far: the time its processes ran on a CPU, and the
    /// time they waited, runnable, for one (a busy process on a crowded machine gets little CPU but waits
    /// for it all the time; a sleeping one does neither). With it the scheduler tells a CPU-bound task from
    /// an I/O-bound one, and charges a CPU-bound one's MLFQ allotment in CPU time. Called without the
    /// context's lock, possibly under the scheduler's: keep it to a few system calls.
    public func onCPUReading(_ read: @escaping @Sendable () -> (cpu: Duration, waited: Duration)?) {
        state.withLock { $0.cpuReading = read }
    }

    /// Removes the pause handlers and the CPU reader (call when the process has ended), resuming
    /// first if paused.
    public func clearPauseHandlers() {
        state.withLock { state in
            if state.appliedPaused { state.resume?() }
            state.appliedPaused = false
            state.pause = nil
            state.resume = nil
            state.cpuReading = nil
        }
    }

    /// The CPU use so far, if the body registered a reader and its work is still there.
    func cpuReading() -> (cpu: Duration, waited: Duration)? {
        state.withLock { $0.cpuReading }?()
    }

    /// For `.cooperative` tasks: returns at once unless the scheduler paused the task; then waits until
    /// it is resumed or cancelled. Time parked here holds no worker.
    public func checkpoint() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let parked = state.withLock { state -> Bool in
                guard state.desiredPaused, !state.cancelled else { return false }
                state.parked.append(continuation)
                return true
            }
            if !parked { continuation.resume() }
        }
    }

    /// True once the scheduler cancelled the task or it timed out.
    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// True while the scheduler wants the task paused.
    public var isPaused: Bool { state.withLock { $0.desiredPaused } }

    // MARK: - Driver side

    /// Records the desired state; call under the scheduler's lock so desired states follow its order.
    func setDesiredPaused(_ paused: Bool) {
        state.withLock { $0.desiredPaused = paused }
    }

    /// Applies the desired state: calls the pause or resume handler, or wakes parked checkpoints.
    func sync() {
        let wake = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            let desired = state.desiredPaused && !state.cancelled
            if desired != state.appliedPaused, let pause = state.pause, let resume = state.resume {
                desired ? pause() : resume()
                state.appliedPaused = desired
            }
            guard !desired else { return [] }
            defer { state.parked = [] }
            return state.parked
        }
        for continuation in wake { continuation.resume() }
    }

    /// Hands over the worker running the body, so cancellation can reach its Swift task.
    func attach(_ runner: BodyRunner) {
        let cancelNow = state.withLock { state -> Bool in
            state.runner = runner
            return state.cancelled
        }
        if cancelNow { runner.cancel() }
    }

    /// Cancels the body: resumes it if paused (a stopped process must run to die; a parked checkpoint
    /// must wake), then cancels its Swift task.
    func cancel() {
        let runner = state.withLock { state -> BodyRunner? in
            state.cancelled = true
            return state.runner
        }
        sync()
        runner?.cancel()
    }
}
