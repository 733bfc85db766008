import Foundation
import Agent
import LLM
import Scheduler
import Tools

/// One session as `/sessions` and `logs` list it.
public struct StoredSession: Sendable, Equatable {
    public var id: Int64
    public var folder: String
    public var model: String
    public var api: String
    public var startedAt: Date
    /// The first prompt, cut to ``StoreLimits/titleLength``.
    public var title: String
    /// Turns recorded, whatever their end.
    public var turns: Int
    /// Input plus output tokens of the calls that reported them; nil when none did.
    public var tokens: Int?
    /// For a conversation of `agent-repl serve`'s `POST /chat`: the session id its clients send; nil otherwise.
    public var chatID: String? = nil
}

/// How a turn ended (`running` until it does; `interrupted` when its process died first).
public enum TurnState: String, Sendable, Codable, CaseIterable {
    case running, answered, failed, cancelled
    case stepLimit = "step_limit"
    case interrupted
}

/// One turn with everything recorded about it.
public struct StoredTurn: Sendable, Equatable {
    public var id: Int64
    public var sessionID: Int64
    /// The background job's number; nil for the foreground conversation.
    public var job: Int?
    public var prompt: String
    public var state: TurnState
    public var error: String?
    public var answer: String?
    public var startedAt: Date
    public var endedAt: Date?
    /// The messages the turn added to the conversation (none unless it answered).
    public var messages: [ChatMessage]
    public var modelCalls: [StoredModelCall]
    public var tasks: [StoredToolTask]
}

/// One model call of a turn.
public struct StoredModelCall: Sendable, Equatable {
    public var model: String
    public var call: ModelCall

    public init(model: String, call: ModelCall) {
        self.model = model
        self.call = call
    }
}

/// One tool task as the scheduler recorded it when it ended, with the tool's typed result.
public struct StoredToolTask: Sendable, Equatable {
    public var taskID: UInt64
    public var callID: String
    public var tool: String
    public var arguments: String
    public var state: TaskState
    public var priority: Int
    /// The MLFQ level at submission, then each change.
    public var levels: [Int]
    public var preemptions: Int
    public var wait: Duration
    public var run: Duration
    public var paused: Duration
    /// On the scheduler's clock, as `/task ID` shows them.
    public var submitted: Duration
    public var started: Duration?
    public var ended: Duration?
    public var endedAt: Date
    /// The tool's result; nil when the task was cancelled or timed out before its body returned one.
    public var result: ToolResult?

    public init(
        taskID: UInt64, callID: String, tool: String, arguments: String, state: TaskState, priority: Int, levels: [Int],
        preemptions: Int, wait: Duration, run: Duration, paused: Duration, submitted: Duration, started: Duration?,
        ended: Duration?, endedAt: Date, result: ToolResult?
    ) {
        self.taskID = taskID
        self.callID = callID
        self.tool = tool
        self.arguments = arguments
        self.state = state
        self.priority = priority
        self.levels = levels
        self.preemptions = preemptions
        self.wait = wait
        self.run = run
        self.paused = paused
        self.submitted = submitted
        self.started = started
        self.ended = ended
        self.endedAt = endedAt
        self.result = result
    }

    /// The task `record` describes, which ran `call` and returned `result`.
    public init(record: TaskRecord, call: ToolCall, result: ToolResult?, endedAt: Date) {
        self.init(
            taskID: record.id.rawValue, callID: call.id, tool: record.name, arguments: call.arguments, state: record.state,
            priority: record.priority, levels: record.levelHistory.map(\.level), preemptions: record.preemptions,
            wait: record.waitTime, run: record.runTime, paused: record.pausedTime, submitted: record.submittedAt,
            started: record.startedAt, ended: record.endedAt, endedAt: endedAt, result: result)
    }
}

/// One message that matched `logs search`.
public struct SearchHit: Sendable, Equatable {
    public var sessionID: Int64
    public var turnID: Int64
    public var role: String
    /// The matching part, terms between « and ».
    public var snippet: String
    public var at: Date
}

/// Sizes the store accepts from the file it reads (it may have been edited by hand or by another program).
public enum StoreLimits {
    public static let titleLength = 80
    /// One text field read back (a message, a tool result); longer ones are cut.
    public static let textBytes = 4 << 20
    /// Messages a resumed conversation may hold.
    public static let resumedMessages = 10_000
    /// Rows one listing returns.
    public static let listRows = 1_000
    /// Characters of a search query.
    public static let queryLength = 1_000
}
