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
    /// The model asked for these calls; they are about to be scheduled. With streaming dispatch a call
    /// comes in an event of its own as soon as it is whole, while the answer's text may still stream.
    case toolCallsRequested([ToolCall])
    /// One call started running (after waiting in the queue).
    case toolStarted(ToolCall, taskID: UInt64?)
    /// One call ended; `ok` is false for failures, timeouts, refusals and cancellations.
    case toolFinished(ToolCall, ok: Bool, summary: String)
    /// One call to the model answered: its usage and times (after its text, before its tools run).
    case modelCallEnded(ModelCall)
}

/// Runs tool calls: one `ToolCallBatch` per assistant message.
public protocol ToolCallExecutor: Sendable {
    /// A new, empty batch for the calls of one assistant message of `turn`.
    func batch(turn: TurnID, events: @escaping @Sendable (TurnEvent) -> Void) -> any ToolCallBatch
}

/// The tool calls of one assistant message, taken one at a time as the message streams.
public protocol ToolCallBatch: Sendable {
    /// Takes the message's next call (calls come in call order) and starts it if it may run now;
    /// never waits. Checking it happens here; a call the executor must ask the user about waits for
    /// `results()`.
    func add(_ call: ToolCall)
    /// Waits for every call added and returns one result per call, in the order added. Failures come
    /// back as results that describe the error; this never throws. Cancelling the calling task cancels
    /// every call of the batch.
    func results() async -> [ToolResult]
    /// Stops every call added (the message broke off or the turn was cancelled while it streamed) and
    /// returns once they have ended: an exec tool's processes are gone.
    func cancel() async
}

extension ToolCallExecutor {
    /// Runs the calls of a whole message: adds them in order, then waits for their results.
    public func execute(_ calls: [ToolCall], turn: TurnID, events: @escaping @Sendable (TurnEvent) -> Void) async -> [ToolResult] {
        let batch = batch(turn: turn, events: events)
        for call in calls { batch.add(call) }
        return await batch.results()
    }
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

/// Told about a turn as it goes and when it ends (the session database records turns this way).
public protocol TurnObserver: Sendable {
    func observe(_ event: TurnEvent)
    /// The turn ended as `result` says (`describeError` words a failure); `messages` are those it added
    /// to the conversation.
    func finish(_ result: Result<String, any Error>, describeError: (any Error) -> String, messages: [ChatMessage])
}
