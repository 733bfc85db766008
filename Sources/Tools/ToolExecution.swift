import Foundation
import JSON

/// What a running executor offers its `ToolExecution`: pausing and an asynchronous stop.
/// `terminate` must eventually make the executor call `ToolExecution.finish`.
protocol ExecutionControl: Sendable {
    func pause()
    func resume()
    func terminate()
}

/// One running tool call: pause, resume or cancel it from any thread, await its result.
///
/// The result is delivered only once the tool is really over: for `exec` tools, after the child
/// is reaped and its whole process group killed. Cancelling the Swift task that awaits `result()`
/// cancels the tool. A timeout counts running time only; paused time does not use it up.
public final class ToolExecution: @unchecked Sendable {
    public let toolName: String
    /// True for preemptible `exec` tools: `pause()` stops the process group with SIGSTOP.
    public let canPause: Bool
    let timeout: Duration?

    private enum EndReason { case timedOut, cancelled }

    // All mutable state is guarded by `lock`.
    private let lock = NSLock()
    private var control: (any ExecutionControl)?
    private var finalResult: ToolResult?
    private var waiters: [CheckedContinuation<ToolResult, Never>] = []
    private var endReason: EndReason?
    private var isPaused = false
    private var runningSince: ContinuousClock.Instant?
    private var runTime: Duration = .zero
    private var watchdog: Task<Void, Never>?

    init(toolName: String, canPause: Bool, timeout: Duration?) {
        self.toolName = toolName
        self.canPause = canPause
        self.timeout = timeout
    }

    /// An execution that is over before it started (bad arguments, declined, unknown tool).
    public static func finished(toolName: String, _ result: ToolResult) -> ToolExecution {
        let execution = ToolExecution(toolName: toolName, canPause: false, timeout: nil)
        execution.finish(result)
        return execution
    }

    // MARK: Control, from any thread

    /// Stops the tool's process group (SIGSTOP). Does nothing for tools that cannot pause.
    public func pause() {
        guard canPause else { return }
        let control: (any ExecutionControl)? = lock.withLock {
            guard !isPaused, finalResult == nil else { return nil }
            isPaused = true
            if let since = runningSince {
                runTime += ContinuousClock.now - since
                runningSince = nil
            }
            return self.control
        }
        control?.pause()
    }

    /// Continues a paused tool (SIGCONT).
    public func resume() {
        guard canPause else { return }
        let control: (any ExecutionControl)? = lock.withLock {
            guard isPaused, finalResult == nil else { return nil }
            isPaused = false
            if self.control != nil { runningSince = .now }
            return self.control
        }
        control?.resume()
    }

    /// Stops the tool: SIGTERM, then SIGKILL after a grace period, to its whole group. The result
    /// (outcome `.cancelled`) arrives once it is gone.
    public func cancel() {
        end(.cancelled)
    }

    public var isFinished: Bool { lock.withLock { finalResult != nil } }
    public var isPausedNow: Bool { lock.withLock { isPaused } }

    /// Waits for the end of the tool. Cancelling the waiting task cancels the tool.
    public func result() async -> ToolResult {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready: ToolResult? = lock.withLock {
                    if let finalResult { return finalResult }
                    waiters.append(continuation)
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            self.cancel()
        }
    }

    // MARK: From the executors

    /// Connects the running executor. A pause or cancel that came earlier is applied now.
    func attach(_ control: any ExecutionControl) {
        let (pausedEarly, ended) = lock.withLock {
            self.control = control
            if !isPaused { runningSince = .now }
            return (isPaused, endReason != nil || finalResult != nil)
        }
        if ended {
            control.terminate()
            return
        }
        if pausedEarly { control.pause() }
        if let timeout { startWatchdog(timeout) }
    }

    /// Delivers the result; only the first call counts. A timeout or cancel overrides the outcome.
    func finish(_ result: ToolResult) {
        let (waiters, final): ([CheckedContinuation<ToolResult, Never>], ToolResult?) = lock.withLock {
            guard finalResult == nil else { return ([], nil) }
            var result = result
            switch endReason {
            case .timedOut?:
                result.outcome = .timedOut
                let seconds = timeout.map { String(format: "%g", Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18) } ?? "?"
                result.error = "the tool timed out after \(seconds) s and was stopped"
            case .cancelled?:
                result.outcome = .cancelled
                result.error = "the tool was cancelled"
            case nil:
                break
            }
            finalResult = result
            let w = self.waiters
            self.waiters = []
            return (w, result)
        }
        guard let final else { return }
        watchdog?.cancel()
        for waiter in waiters { waiter.resume(returning: final) }
    }

    /// True once a cancel or timeout was asked for (builtins poll it).
    var isEnding: Bool { lock.withLock { endReason != nil } }

    private func end(_ reason: EndReason) {
        let control: (any ExecutionControl)? = lock.withLock {
            guard endReason == nil, finalResult == nil else { return nil }
            endReason = reason
            return self.control
        }
        control?.terminate()
    }

    private func startWatchdog(_ timeout: Duration) {
        let task = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                let remaining: Duration? = self.lock.withLock {
                    if self.finalResult != nil { return nil }
                    var used = self.runTime
                    if let since = self.runningSince { used += ContinuousClock.now - since }
                    return timeout - used
                }
                guard let remaining else { return }
                if remaining <= .zero {
                    self.end(.timedOut)
                    return
                }
                // While paused `remaining` stays put; waking up to re-check is cheap.
                try? await Task.sleep(for: min(remaining, .seconds(1)))
            }
        }
        lock.withLock { watchdog = task }
    }
}
