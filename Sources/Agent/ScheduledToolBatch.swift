import Synchronization
import LLM
import Scheduler
import Tools

/// The tool calls of one assistant message on the session's scheduler (see `ScheduledToolExecutor`).
///
/// `add` runs on the agent's task as calls arrive, `results` and `cancel` after the message; the lock
/// only makes the state `Sendable`. A call's slot: a task submitted at once, a checked call waiting to
/// be confirmed (asked in `results`), or a result known without a task (failed check, declined,
/// cancelled).
final class ScheduledToolBatch: ToolCallBatch {
    private enum Slot {
        case task(TaskID, ToolDeclaration)
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
                    case .task(let id, let tool):
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
            guard case .task(let id, let tool) = slot else { continue }
            // The outcome comes once the tool is over: its process group killed and reaped.
            finished(call, ScheduledToolExecutor.result(of: await executor.scheduler.outcome(of: id), tool: tool))
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
        let id = executor.scheduler.submit(spec, body: executor.body(for: invocation, call: call, events: events))
        return .task(id, invocation.tool)
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
