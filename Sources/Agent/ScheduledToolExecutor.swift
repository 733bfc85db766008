import Foundation
import JSON
import LLM
import Scheduler
import Tools

/// Runs a turn's tool calls as tasks on the session's one scheduler.
///
/// Every call becomes a task with its tool's priority, estimate, timeout and preemptibility, submitted
/// in call order under the turn's group; they run as the scheduler decides, up to its worker count.
/// An unknown tool or arguments that break the tool's schema end at once as an error result, without
/// a task. Cancelling the calling task cancels the turn's whole group, which kills the tools' processes.
public struct ScheduledToolExecutor: ToolCallExecutor {
    public let scheduler: Scheduler
    public let catalog: ToolCatalog
    public let runner: ToolRunner
    public let confirmation: any ConfirmationProvider

    public init(scheduler: Scheduler, catalog: ToolCatalog, runner: ToolRunner, confirmation: any ConfirmationProvider = RefusingConfirmation()) {
        self.scheduler = scheduler
        self.catalog = catalog
        self.runner = runner
        self.confirmation = confirmation
    }

    /// The tools as the model sees them.
    public var definitions: [ToolDefinition] {
        catalog.tools.map { ToolDefinition(name: $0.name, description: $0.description, parameters: $0.parameters) }
    }

    public func execute(_ calls: [ToolCall], turn: TurnID, events: @escaping @Sendable (TurnEvent) -> Void) async -> [String] {
        let group = "turn \(turn)"
        enum Slot { case task(TaskID, ToolDeclaration), immediate(String) }
        // Submit in call order, so arrival order is the model's order (fifo relies on it). A tool that
        // wants confirmation is asked about here, before it is a task: the question holds no worker.
        var slots: [Slot] = []
        for call in calls {
            guard let tool = catalog.tool(named: call.name) else {
                slots.append(.immediate(ToolRunner.unknownTool(call.name, known: catalog.tools.map(\.name)).modelContent))
                continue
            }
            let invocation: ToolInvocation
            switch ToolRunner.invocation(of: tool, arguments: call.arguments) {
            case .success(let checked): invocation = checked
            case .failure(let invalid):
                slots.append(.immediate(invalid.result.modelContent))
                continue
            }
            if tool.confirm, !Task.isCancelled, await !confirmation.confirm(tool: tool.name, arguments: invocation.arguments.jsonString) {
                slots.append(.immediate(ToolResult.failure("the user declined to run this tool", outcome: .declined).modelContent))
                continue
            }
            if Task.isCancelled {
                slots.append(.immediate(ToolResult.failure("the tool call was cancelled", outcome: .cancelled).modelContent))
                continue
            }
            slots.append(.task(scheduler.submit(Self.spec(for: tool, call: call, group: group), body: body(for: invocation, call: call, events: events)), tool))
        }
        for (call, slot) in zip(calls, slots) {
            if case .immediate(let text) = slot { events(.toolFinished(call, ok: false, summary: Self.firstLine(text))) }
        }
        return await withTaskCancellationHandler {
            await withTaskGroup(of: (Int, String).self) { group in
                for (index, slot) in slots.enumerated() {
                    guard case .task(let id, let tool) = slot else { continue }
                    let call = calls[index]
                    group.addTask {
                        let outcome = await scheduler.outcome(of: id)
                        let text = Self.resultText(outcome, tool: tool)
                        let ok = if case .completed = outcome { true } else { false }
                        events(.toolFinished(call, ok: ok, summary: Self.firstLine(text)))
                        return (index, text)
                    }
                }
                var results = slots.map { slot -> String in
                    if case .immediate(let text) = slot { return text }
                    return ""
                }
                for await (index, text) in group { results[index] = text }
                return results
            }
        } onCancel: {
            scheduler.cancel(group: group)
        }
    }

    static func spec(for tool: ToolDeclaration, call: ToolCall, group: String) -> TaskSpec {
        let pausable: Bool
        if case .exec = tool.runner { pausable = tool.preemptible } else { pausable = false }
        return TaskSpec(
            name: tool.name, group: group, priority: tool.priority,
            estimate: tool.estimatedTime.map(Self.duration), timeout: tool.timeout.map(Self.duration),
            preemptibility: pausable ? .signals : .none, detail: call.arguments)
    }

    private func body(for invocation: ToolInvocation, call: ToolCall, events: @escaping @Sendable (TurnEvent) -> Void) -> Scheduler.Body {
        { [runner] context in
            events(.toolStarted(call, taskID: context.id.rawValue))
            let execution = runner.start(invocation)
            if execution.canPause {
                context.onPause({ execution.pause() }, resume: { execution.resume() })
            }
            let result = await execution.result()
            context.clearPauseHandlers()
            guard result.ok else { throw ToolCallFailure(text: result.modelContent) }
            return result.output
        }
    }

    static func resultText(_ outcome: TaskOutcome, tool: ToolDeclaration) -> String {
        switch outcome {
        case .completed(let output): output
        case .failed(let text): text
        case .cancelled: "error: the tool call was cancelled"
        case .timedOut: "error: the tool timed out after \(tool.timeout.map { String(format: "%g", $0) } ?? "?") s and was stopped"
        }
    }

    static func firstLine(_ text: String) -> String {
        let line = text.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? ""
        return line.count > 80 ? String(line.prefix(77)) + "..." : line
    }

    private static func duration(_ seconds: Double) -> Duration { .milliseconds(Int64((seconds * 1000).rounded())) }
}

/// A tool that ran and failed; its description is the text the model reads.
struct ToolCallFailure: Error, CustomStringConvertible {
    var text: String
    var description: String { text }
}
