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

/// Runs a turn's tool calls as tasks on the session's one scheduler, one `ScheduledToolBatch` per
/// assistant message.
///
/// Each call is checked once, when it is added (unknown tool, arguments against the schema), and then
/// becomes a task at once, with its tool's priority, estimate, timeout and preemptibility, under the
/// turn's group, while the model may still be writing the next call. A `"confirm": true` tool is asked
/// about only when the batch's results are awaited, that is once the whole message has arrived, so a
/// y/N question never interleaves with the answer's streaming text; it is submitted after the answer,
/// holds no worker while it waits and uses none of the tool's timeout. A call that fails the check or is
/// declined ends at once as an error result, without a task. Cancelling kills the tools' processes.
public struct ScheduledToolExecutor: ToolCallExecutor {
    public let scheduler: ToolScheduler
    public let liveCatalog: LiveToolCatalog
    public let runner: ToolRunner
    public let confirmation: any ConfirmationProvider

    public init(scheduler: ToolScheduler, catalog: ToolCatalog, runner: ToolRunner, confirmation: any ConfirmationProvider = RefusingConfirmation()) {
        self.init(scheduler: scheduler, liveCatalog: LiveToolCatalog(catalog), runner: runner, confirmation: confirmation)
    }

    /// With a catalog that changes while the session runs (MCP servers' tools).
    public init(scheduler: ToolScheduler, liveCatalog: LiveToolCatalog, runner: ToolRunner, confirmation: any ConfirmationProvider = RefusingConfirmation()) {
        self.scheduler = scheduler
        self.liveCatalog = liveCatalog
        self.runner = runner
        self.confirmation = confirmation
    }

    /// The tools now.
    public var catalog: ToolCatalog { liveCatalog.current }

    /// The tools as the model sees them.
    public var definitions: [ToolDefinition] {
        catalog.tools.map { ToolDefinition(name: $0.name, description: $0.description, parameters: $0.parameters) }
    }

    public func batch(turn: TurnID, events: @escaping @Sendable (TurnEvent) -> Void) -> any ToolCallBatch {
        ScheduledToolBatch(executor: self, group: "turn \(turn)", background: turn.conversation != 0, events: events)
    }

    /// Submits one checked call as a task of its own, outside any turn (the HTTP API's `POST /tasks`):
    /// its tool's spec, with the priority and estimate the caller gave instead of the tool's when set.
    public func submit(
        _ invocation: ToolInvocation, group: String, priority: Int? = nil, estimate: Duration? = nil
    ) -> TaskID {
        var spec = Self.spec(for: invocation, group: group)
        if let priority { spec.priority = priority }
        if let estimate { spec.estimate = estimate }
        let call = ToolCall(id: group, name: invocation.tool.name, arguments: invocation.arguments.jsonString)
        return scheduler.submit(spec, body: body(for: invocation, call: call, events: { _ in }))
    }

    /// The task of one call. A background job's calls (`prompt &`: a conversation other than the
    /// foreground's 0) enter one priority below their tool's, so the foreground turn goes first.
    /// An MCP tool's calls share their server's lane: at most its `max_concurrency` in flight, the others
    /// wait in the scheduler.
    static func spec(for invocation: ToolInvocation, group: String, background: Bool = false) -> TaskSpec {
        let tool = invocation.tool
        var lane: Lane?
        if case .mcp(let target) = tool.runner { lane = Lane(name: "mcp:" + target.server, limit: target.maxConcurrency) }
        return TaskSpec(
            name: tool.name, group: group, priority: tool.priority + (background ? 1 : 0),
            estimate: tool.estimatedTime.map(Duration.seconds), timeout: tool.timeout.map(Duration.seconds),
            preemptibility: invocation.canPause ? .signals : .none, cpuBound: tool.cpu, detail: invocation.arguments.jsonString,
            lane: lane)
    }

    func body(for invocation: ToolInvocation, call: ToolCall, events: @escaping @Sendable (TurnEvent) -> Void) -> ToolScheduler.Body {
        { [runner, scheduler] context in
            events(.toolStarted(call, taskID: context.id.rawValue))
            let execution = runner.start(invocation, progress: { scheduler.progressed(context.id) })
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
        case .timedOut?: timedOut(tool)
        case nil: .failure("the tool's task was forgotten before its result was read", outcome: .failed)
        }
    }

    private static func timedOut(_ tool: ToolDeclaration) -> ToolResult {
        let seconds = tool.timeout.map { String(format: "%g", $0) } ?? "?"
        // An MCP tool's timeout starts again with each progress notification of its server.
        let isMCP = if case .mcp = tool.runner { true } else { false }
        let what = isMCP ? "made no progress for \(seconds) s" : "timed out after \(seconds) s"
        return .failure("the tool \(what) and was stopped", outcome: .timedOut)
    }

    static func firstLine(_ text: String) -> String {
        let line = text.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? ""
        return line.count > 80 ? String(line.prefix(77)) + "..." : line
    }
}
