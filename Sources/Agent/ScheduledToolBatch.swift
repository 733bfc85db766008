import Synchronization
import LLM
import Scheduler
import Tools

/// The tool calls of one assistant message on the session's scheduler (see `ScheduledToolExecutor`).
///
/// `add` runs as calls arrive, on the thread the model reports them on (the HTTP transport's, while
/// the answer streams) or on the agent's task after it; `results` and `cancel` run on the agent's
/// task after the message, when no `add` can come any more. A call's slot: a task submitted at once, a checked call waiting to
/// be confirmed (asked in `results`), or a result known without a task (failed check, declined,
/// cancelled).
final class ScheduledToolBatch: ToolCallBatch {
    private enum Slot {
        case task(TaskID, ToolDeclaration, BodyGate)
        case awaitingConfirmation(ToolInvocation)
        case immediate(ToolResult)
    }

    private struct State {
        var calls: [ToolCall] = []
        var slots: [Slot] = []
        var cancelled = false
    }

    private let executor: ScheduledToolExecutor
    private let group: String
    private let background: Bool
    private let events: @Sendable (TurnEvent) -> Void
    private let state = Mutex(State())

    init(executor: ScheduledToolExecutor, group: String, background: Bool, events: @escaping @Sendable (TurnEvent) -> Void) {
        self.executor = executor
        self.group = group
        self.background = background
        self.events = events
    }

    func add(_ call: ToolCall) {
        let slot = check(call)
        if case .immediate(let result) = slot { finished(call, result) }
        state.withLock { state in
            state.calls.append(call)
            state.slots.append(slot)
        }
    }

    func results() async -> [ToolResult] {
        let scheduler = executor.scheduler
        return await withTaskCancellationHandler {
            await confirmWaitingCalls()
            let (calls, slots) = state.withLock { ($0.calls, $0.slots) }
            return await withTaskGroup(of: (Int, ToolResult).self) { group in
                var results: [ToolResult?] = []
                for (index, slot) in slots.enumerated() {
                    switch slot {
                    case .immediate(let result):
                        results.append(result)
                    case .awaitingConfirmation:
                        results.append(Self.cancelledResult)  // confirmWaitingCalls leaves none
                    case .task(let id, let tool, _):
                        results.append(nil)
                        let call = calls[index]
                        group.addTask { [self] in
                            let result = ScheduledToolExecutor.result(of: await scheduler.outcome(of: id), tool: tool)
                            finished(call, result)
                            return (index, result)
                        }
                    }
                }
                for await (index, result) in group { results[index] = result }
                // A cancelled task's outcome comes at once; its tool is gone a moment later.
                if Task.isCancelled { await closeGates() }
                return results.map { $0 ?? Self.cancelledResult }
            }
        } onCancel: {
            scheduler.cancel(group: group)
        }
    }

    func cancel() async {
        let (calls, slots) = state.withLock { state in
            state.cancelled = true
            return (state.calls, state.slots)
        }
        executor.scheduler.cancel(group: group)
        for (call, slot) in zip(calls, slots) {
            guard case .task(let id, let tool, _) = slot else { continue }
            finished(call, ScheduledToolExecutor.result(of: await executor.scheduler.outcome(of: id), tool: tool))
        }
        await closeGates()
    }

    /// Waits until every body that started has ended (its tool's process group killed and reaped) and
    /// keeps those that have not started from starting.
    private func closeGates() async {
        for slot in state.withLock({ $0.slots }) {
            if case .task(_, _, let gate) = slot { await gate.close() }
        }
    }

    /// Checks one call; submits it unless its tool wants a confirmation first.
    private func check(_ call: ToolCall) -> Slot {
        let catalog = executor.catalog
        guard let tool = catalog.tool(named: call.name) else {
            return .immediate(ToolRunner.unknownTool(call.name, known: catalog.tools.map(\.name)))
        }
        let invocation: ToolInvocation
        switch ToolRunner.invocation(of: tool, arguments: call.arguments) {
        case .success(let checked): invocation = checked
        case .failure(let invalid): return .immediate(invalid.result)
        }
        if tool.confirm { return .awaitingConfirmation(invocation) }
        return submit(invocation, call: call)
    }

    private func submit(_ invocation: ToolInvocation, call: ToolCall) -> Slot {
        if Task.isCancelled || state.withLock({ $0.cancelled }) { return .immediate(Self.cancelledResult) }
        let spec = ScheduledToolExecutor.spec(for: invocation, group: group, background: background)
        let gate = BodyGate()
        let body = executor.body(for: invocation, call: call, events: events)
        // The body starts on this thread when a worker is free: the tool's process is spawned before
        // `submit` returns, without waiting for another thread to pick the task up. (On the HTTP
        // transport's thread there is no task: its cancellation is the batch's `cancelled`.)
        let id = executor.scheduler.submit(spec, startsOnCaller: true) { context in
            guard gate.enter() else { return Self.cancelledResult }
            defer { gate.leave() }
            return await body(context)
        }
        return .task(id, invocation.tool, gate)
    }

    /// Asks about the calls whose tool wants it, in call order, and submits those the user allows.
    private func confirmWaitingCalls() async {
        let (calls, slots) = state.withLock { ($0.calls, $0.slots) }
        for (index, slot) in slots.enumerated() {
            guard case .awaitingConfirmation(let invocation) = slot else { continue }
            let call = calls[index]
            var allowed = false
            if !Task.isCancelled {
                allowed = await executor.confirmation.confirm(tool: invocation.tool.name, arguments: invocation.arguments.jsonString)
            }
            let decided: Slot = allowed
                ? submit(invocation, call: call)
                : .immediate(Task.isCancelled ? Self.cancelledResult : .failure("the user declined to run this tool", outcome: .declined))
            if case .immediate(let result) = decided { finished(call, result) }
            state.withLock { $0.slots[index] = decided }
        }
    }

    private func finished(_ call: ToolCall, _ result: ToolResult) {
        events(.toolFinished(call, ok: result.ok, summary: ScheduledToolExecutor.firstLine(result.ok ? result.output : result.modelContent)))
    }

    private static let cancelledResult = ToolResult.failure("the tool call was cancelled", outcome: .cancelled)
}

/// Whether a task's body runs, so that stopping a batch can wait for its tools to be gone: the
/// scheduler reports a cancelled task at once, while its body is still terminating the tool.
private final class BodyGate: Sendable {
    private enum Phase { case waiting, running, ended, closed }
    private struct State {
        var phase = Phase.waiting
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    /// The body begins; false when the gate was closed first (the body must not start its tool).
    func enter() -> Bool {
        state.withLock { state in
            guard state.phase == .waiting else { return false }
            state.phase = .running
            return true
        }
    }

    /// The body has ended.
    func leave() {
        let waiters = state.withLock { state in
            state.phase = .ended
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Keeps a body that has not begun from beginning; waits for one that runs to end.
    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let mustWait = state.withLock { state in
                switch state.phase {
                case .waiting, .closed:
                    state.phase = .closed
                    return false
                case .ended:
                    return false
                case .running:
                    state.waiters.append(continuation)
                    return true
                }
            }
            if !mustWait { continuation.resume() }
        }
    }
}
