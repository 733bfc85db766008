import Foundation
import JSON
import LLM
import Scheduler
import Tools

/// The one scheduler of a session: its tasks are tool calls, their value the whole `ToolResult`.
public typealias ToolScheduler = Scheduler<ToolResult>

extension ToolResult: TaskResult {
    public var succeeded: Bool { ok }
    public var summary: String { ok ? output : modelContent }
}

/// Runs a turn's tool calls as tasks on the session's one scheduler.
///
/// Each call is checked once here (unknown tool, arguments against the schema), then, for a
/// `"confirm": true` tool, the user is asked; only then does it become a task, with its tool's priority,
/// estimate, timeout and preemptibility, submitted in call order under the turn's group. So a waiting
/// question holds no worker and uses none of the tool's timeout. A call that fails the check or is
/// declined ends at once as an error result, without a task. Cancelling the calling task cancels the
/// turn's whole group, which kills the tools' processes.
public struct ScheduledToolExecutor: ToolCallExecutor {
    public let scheduler: ToolScheduler
    public let catalog: ToolCatalog
    public let runner: ToolRunner
    public let confirmation: any ConfirmationProvider

    public init(scheduler: ToolScheduler, catalog: ToolCatalog, runner: ToolRunner, confirmation: any ConfirmationProvider = RefusingConfirmation()) {
        self.scheduler = scheduler
        self.catalog = catalog
        self.runner = runner
        self.confirmation = confirmation
    }

    /// The tools as the model sees them.
    public var definitions: [ToolDefinition] {
        catalog.tools.map { ToolDefinition(name: $0.name, description: $0.description, parameters: $0.parameters) }
    }

    private enum Slot {
        case task(TaskID, ToolDeclaration)
        case immediate(ToolResult)
    }

    public func execute(_ calls: [ToolCall], turn: TurnID, events: @escaping @Sendable (TurnEvent) -> Void) async -> [ToolResult] {
        let group = "turn \(turn)"
        // Submit in call order, so arrival order is the model's order (fifo relies on it).
        var slots: [Slot] = []
        for call in calls {
            let slot = await prepare(call, group: group, background: turn.conversation != 0, events: events)
            if case .immediate(let result) = slot { events(.toolFinished(call, ok: false, summary: Self.firstLine(result.modelContent))) }
            slots.append(slot)
        }
        return await withTaskCancellationHandler {
            await withTaskGroup(of: (Int, ToolResult).self) { group in
                var results: [ToolResult?] = []
                for (index, slot) in slots.enumerated() {
                    switch slot {
                    case .immediate(let result):
                        results.append(result)
                    case .task(let id, let tool):
                        results.append(nil)
                        let call = calls[index]
                        group.addTask {
                            let result = Self.result(of: await scheduler.outcome(of: id), tool: tool)
                            events(.toolFinished(call, ok: result.ok, summary: Self.firstLine(result.ok ? result.output : result.modelContent)))
                            return (index, result)
                        }
                    }
                }
                for await (index, result) in group { results[index] = result }
                return results.map { $0 ?? .failure("the tool call was cancelled", outcome: .cancelled) }
            }
        } onCancel: {
            scheduler.cancel(group: group)
        }
    }

    /// Checks one call and asks about it when its tool wants that; submits it if it may run.
    private func prepare(_ call: ToolCall, group: String, background: Bool, events: @escaping @Sendable (TurnEvent) -> Void) async -> Slot {
        guard let tool = catalog.tool(named: call.name) else {
            return .immediate(ToolRunner.unknownTool(call.name, known: catalog.tools.map(\.name)))
        }
        let invocation: ToolInvocation
        switch ToolRunner.invocation(of: tool, arguments: call.arguments) {
        case .success(let checked): invocation = checked
        case .failure(let invalid): return .immediate(invalid.result)
        }
        if tool.confirm, !Task.isCancelled, await !confirmation.confirm(tool: tool.name, arguments: invocation.arguments.jsonString) {
            return .immediate(.failure("the user declined to run this tool", outcome: .declined))
        }
        if Task.isCancelled { return .immediate(.failure("the tool call was cancelled", outcome: .cancelled)) }
        let spec = Self.spec(for: invocation, group: group, background: background)
        return .task(scheduler.submit(spec, body: body(for: invocation, call: call, events: events)), tool)
    }

    /// The task of one call. A background job's calls (`prompt &`: a conversation other than the
    /// foreground's 0) enter one priority below their tool's, so the foreground turn goes first.
    static func spec(for invocation: ToolInvocation, group: String, background: Bool = false) -> TaskSpec {
        let tool = invocation.tool
        return TaskSpec(
            name: tool.name, group: group, priority: tool.priority + (background ? 1 : 0),
            estimate: tool.estimatedTime.map(Duration.seconds), timeout: tool.timeout.map(Duration.seconds),
            preemptibility: invocation.canPause ? .signals : .none, cpuBound: tool.cpu, detail: invocation.arguments.jsonString)
    }

    private func body(for invocation: ToolInvocation, call: ToolCall, events: @escaping @Sendable (TurnEvent) -> Void) -> ToolScheduler.Body {
        { [runner] context in
            events(.toolStarted(call, taskID: context.id.rawValue))
            let execution = runner.start(invocation)
            if execution.canPause {
                context.onPause({ execution.pause() }, resume: { execution.resume() })
                context.onCPUReading { execution.cpuReading() }
            }
            // Cancelling this body (the scheduler's cancel or timeout) terminates the tool.
            let result = await execution.result()
            context.clearPauseHandlers()
            return result
        }
    }

    /// The tool's result as the model reads it, whatever way its task ended.
    static func result(of outcome: ToolScheduler.Outcome?, tool: ToolDeclaration) -> ToolResult {
        switch outcome {
        case .completed(let result)?, .failed(let result)?: result
        case .cancelled?: .failure("the tool call was cancelled", outcome: .cancelled)
        case .timedOut?: .failure("the tool timed out after \(tool.timeout.map { String(format: "%g", $0) } ?? "?") s and was stopped", outcome: .timedOut)
        case nil: .failure("the tool's task was forgotten before its result was read", outcome: .failed)
        }
    }

    static func firstLine(_ text: String) -> String {
        let line = text.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? ""
        return line.count > 80 ? String(line.prefix(77)) + "..." : line
    }
}
