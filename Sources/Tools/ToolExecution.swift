import Synchronization

/// What a running executor offers its `ToolExecution`: pausing and an asynchronous stop.
/// `terminate` must eventually make the executor call `ToolExecution.finish`.
protocol ExecutionControl: Sendable {
    func pause()
    func resume()
    func terminate()
    /// CPU time and time waiting for a CPU so far, where there is a process to ask.
    func cpuReading() -> (cpu: Duration, waited: Duration)?
}

/// Stops a tool that runs as a Swift task (builtins, http requests) by cancelling the task.
private struct TaskControl: ExecutionControl {
    let task: Task<Void, Never>
    func pause() {}
    func resume() {}
    func terminate() { task.cancel() }
    func cpuReading() -> (cpu: Duration, waited: Duration)? { nil }
}

/// One running tool call, as a handle: pause, resume or terminate it from any thread, await its result.
///
/// The result is delivered only once the tool is really over: for `exec` tools, after the child is
/// reaped and its whole process group killed. Cancelling the Swift task that awaits `result()`
/// terminates the tool. The handle keeps no time: timeouts belong to the scheduler, which terminates.
public final class ToolExecution: Sendable {
    public let toolName: String
    /// True for preemptible `exec` tools: `pause()` stops the process group with SIGSTOP.
    public let canPause: Bool

    private struct State {
        var control: (any ExecutionControl)?
        var finalResult: ToolResult?
        var waiters: [CheckedContinuation<ToolResult, Never>] = []
        var terminated = false
    }

    private let state = Mutex(State())

    init(toolName: String, canPause: Bool) {
        self.toolName = toolName
        self.canPause = canPause
    }

    // MARK: Control, from any thread

    /// Stops the tool's process group (SIGSTOP). Does nothing for tools that cannot pause. Whether a
    /// task should be paused is the scheduler's to know (its `TaskContext`); this only passes it on.
    public func pause() {
        if canPause { liveControl()?.pause() }
    }

    /// Continues a paused tool (SIGCONT).
    public func resume() {
        if canPause { liveControl()?.resume() }
    }

    /// The CPU time of the tool's processes so far, and the time they were runnable but waited for a
    /// CPU (exec tools, while they run); nil for in-process tools.
    public func cpuReading() -> (cpu: Duration, waited: Duration)? {
        liveControl()?.cpuReading()
    }

    private func liveControl() -> (any ExecutionControl)? {
        state.withLock { $0.finalResult == nil ? $0.control : nil }
    }

    /// Stops the tool: SIGTERM, then SIGKILL after a grace period, to its whole group (a builtin's or
    /// an http request's task is cancelled). The result, outcome `.cancelled`, arrives once it is gone.
    public func terminate() {
        let control: (any ExecutionControl)? = state.withLock { state in
            guard !state.terminated, state.finalResult == nil else { return nil }
            state.terminated = true
            return state.control
        }
        control?.terminate()
    }

    public var isFinished: Bool { state.withLock { $0.finalResult != nil } }

    /// Waits for the end of the tool. Cancelling the waiting task terminates the tool.
    public func result() async -> ToolResult {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready: ToolResult? = state.withLock { state in
                    if let finalResult = state.finalResult { return finalResult }
                    state.waiters.append(continuation)
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            self.terminate()
        }
    }

    // MARK: From the executors

    /// Runs an in-process tool (a builtin, an http request) as a Swift task that `terminate()` cancels.
    /// Its cancellation is a `.cancelled` result; any other thrown error a failed one, in `describe`'s words.
    func runTask(_ work: @escaping @Sendable () async throws -> ToolResult, describe: @escaping @Sendable (any Error) -> String) {
        let task = Task {
            let result: ToolResult
            do {
                result = try await work()
            } catch is CancellationError {
                result = .failure("the tool was cancelled", outcome: .cancelled)
            } catch {
                result = .failure(describe(error))
            }
            finish(result)
        }
        attach(TaskControl(task: task))
    }

    /// Connects the running executor (before the execution is handed out). A terminate that came
    /// earlier is applied now.
    func attach(_ control: any ExecutionControl) {
        let ended = state.withLock { state in
            state.control = control
            return state.terminated || state.finalResult != nil
        }
        if ended { control.terminate() }
    }

    /// Delivers the result; only the first call counts. After `terminate()` the outcome is `.cancelled`.
    func finish(_ result: ToolResult) {
        let (waiters, final): ([CheckedContinuation<ToolResult, Never>], ToolResult?) = state.withLock { state in
            guard state.finalResult == nil else { return ([], nil) }
            var result = result
            if state.terminated {
                result.outcome = .cancelled
                result.error = "the tool was cancelled"
            }
            state.finalResult = result
            defer { state.waiters = [] }
            return (state.waiters, result)
        }
        guard let final else { return }
        for waiter in waiters { waiter.resume(returning: final) }
    }
}
