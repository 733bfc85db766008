import JSON
import LLM
import Scheduler
import Tools
/// What happens during a turn, in order, for the live view.
public enum TurnEvent: Sendable {
    /// A piece of the model's answer text, as it streams.
    case text(String)
    /// A sentence from the model client for the user, said once (e.g. that answers no longer stream).
    case notice(String)
    /// The model asked for these calls; they are about to be scheduled.
    case toolCallsRequested([ToolCall])
    /// One call started running (after waiting in the queue).
    case toolStarted(ToolCall, taskID: UInt64?)
    /// One call ended; `ok` is false for failures, timeouts, refusals and cancellations.
    case toolFinished(ToolCall, ok: Bool, summary: String)
    /// One call to the model answered: its usage and times (after its text, before its tools run).
    case modelCallEnded(ModelCall)
}

/// Runs the tool calls of one assistant message.
public protocol ToolCallExecutor: Sendable {
    /// Runs `calls` (concurrently where the executor can) and returns one result per call, in the
    /// calls' order. Failures come back as results that describe the error; this never throws.
    /// Cancelling the calling task cancels every call of the turn.
    func execute(_ calls: [ToolCall], turn: TurnID, events: @escaping @Sendable (TurnEvent) -> Void) async -> [ToolResult]
}

/// Identifies one turn of one conversation: the group its tool tasks belong to.
public struct TurnID: Sendable, Hashable, CustomStringConvertible {
    public var conversation: Int
    public var turn: Int
    public init(conversation: Int, turn: Int) {
        self.conversation = conversation
        self.turn = turn
    }
    public var description: String { "\(conversation).\(turn)" }
}
