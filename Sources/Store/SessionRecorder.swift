import Foundation
import Synchronization
import Agent
import LLM
import Scheduler
import Tools

/// What the front end writes about its conversation as it goes: the session (created with its first
/// prompt), each turn (`running` at its start, its end in one transaction), and each tool task as it
/// ends. Writes run in order on one serial queue of their own; a tool task's write is not waited for,
/// so a busy database (another process writing) never holds up the turn's tools. A turn's start and
/// end wait for their write, between turns.
public final class SessionRecorder: Sendable {
    public let store: SessionStore
    private let folder: String
    private let api: String
    /// The id `serve`'s clients continue the conversation by, stored with the session it creates.
    private let chatID: String?
    private let scheduler: ToolScheduler
    private let queue = DispatchQueue(label: "agent-repl.store")
    private let currentSession = Mutex<Int64?>(nil)
    private let warned = Mutex(false)
    private let warn: @Sendable (String) -> Void

    /// - Parameters:
    ///   - chatID: for a conversation of `serve`'s `POST /chat`, the id its clients hold.
    ///   - warn: told the first failed write's sentence (later ones are not repeated).
    public init(
        store: SessionStore, folder: String, api: String, chatID: String? = nil, scheduler: ToolScheduler,
        warn: @escaping @Sendable (String) -> Void
    ) {
        self.store = store
        self.folder = folder
        self.api = api
        self.chatID = chatID
        self.scheduler = scheduler
        self.warn = warn
    }

    /// The session the next turn is written to; nil until the first prompt of a new one.
    public var sessionID: Int64? { currentSession.withLock { $0 } }

    /// The next turn starts a new session (`/clear`).
    public func startNewSession() { currentSession.withLock { $0 = nil } }

    /// The next turns continue session `id` (`--resume`, `/resume`).
    public func continueSession(_ id: Int64) { currentSession.withLock { $0 = id } }

    /// Loads the learned `sjf` estimates into the scheduler and marks turns whose process died as
    /// interrupted.
    public func prepare() {
        perform {
            scheduler.loadEstimates(try store.estimates())
            try store.markInterruptedTurns()
        }
    }

    /// A foreground turn (`job` nil) or a background job's turn starts: its `running` row is written
    /// (and the session's, on its first prompt). Nil when the write failed (the turn then goes unrecorded).
    public func beginTurn(prompt: String, model: String, job: Int? = nil) -> TurnRecording? {
        perform { () -> TurnRecording in
            let session = try currentSession.withLock { current -> Int64 in
                if let current { return current }
                let id = try store.createSession(folder: folder, model: model, api: api, firstPrompt: prompt, chatID: chatID)
                current = id
                return id
            }
            let turn = try store.beginTurn(session: session, job: job, prompt: prompt)
            return TurnRecording(recorder: self, turn: turn, model: model)
        }
    }

    /// Runs `body` on the store's queue and waits for it; a failure is reported (once) and gives nil.
    @discardableResult
    func perform<T>(_ body: () throws -> T) -> T? {
        queue.sync {
            do {
                return try body()
            } catch {
                report(error)
                return nil
            }
        }
    }

    /// Runs `body` on the store's queue without waiting.
    func performLater(_ body: @escaping @Sendable () throws -> Void) {
        queue.async { [self] in
            do { try body() } catch { report(error) }
        }
    }

    /// Returns when every write queued so far is done.
    public func flush() { queue.sync {} }

    private func report(_ error: any Error) {
        let first = warned.withLock { warned in
            defer { warned = true }
            return !warned
        }
        if first { warn("Not recorded in the session database: \(error). Later failures are not shown.") }
    }

    fileprivate func recordTask(taskID: UInt64, call: ToolCall, turn: Int64, endedAt: Date) {
        let id = TaskID(taskID)
        guard let record = scheduler.record(id) else { return }
        let result: ToolResult? = switch scheduler.endedOutcome(of: id) {
        case .completed(let value)?, .failed(let value)?: value
        default: nil
        }
        let estimate = scheduler.learnedEstimates[record.name]
        let task = StoredToolTask(record: record, call: call, result: result, endedAt: endedAt)
        performLater { [store] in try store.recordTask(task, turn: turn, estimate: estimate) }
    }
}

/// One turn being recorded: it reads the turn's events (model calls, tool tasks) and writes its end.
public final class TurnRecording: TurnObserver {
    private struct State {
        var modelCalls: [StoredModelCall] = []
        /// The scheduler task of each started call, by call id.
        var tasks: [String: UInt64] = [:]
    }
    private let recorder: SessionRecorder
    public let turn: Int64
    private let model: String
    private let state = Mutex(State())

    fileprivate init(recorder: SessionRecorder, turn: Int64, model: String) {
        self.recorder = recorder
        self.turn = turn
        self.model = model
    }

    /// One event of the turn: a model call is kept for the turn's end; a tool task that ended is written now.
    public func observe(_ event: TurnEvent) {
        switch event {
        case .modelCallEnded(let call):
            state.withLock { $0.modelCalls.append(StoredModelCall(model: model, call: call)) }
        case .toolStarted(let call, let taskID?):
            state.withLock { $0.tasks[call.id] = taskID }
        case .toolFinished(let call, _, _):
            guard let taskID = state.withLock({ $0.tasks.removeValue(forKey: call.id) }) else { return }
            recorder.recordTask(taskID: taskID, call: call, turn: turn, endedAt: recorder.store.now())
        case .text, .notice, .toolCallsRequested, .toolStarted:
            break
        }
    }

    public func finish(_ result: Result<String, any Error>, describeError: (any Error) -> String, messages: [ChatMessage]) {
        switch result {
        case .success(let answer): finish(.answered, answer: answer, messages: messages)
        case .failure(let error as AgentError) where error.code == .cancelled: finish(.cancelled, error: error.message, messages: messages)
        case .failure(let error as AgentError) where error.code == .stepLimit: finish(.stepLimit, error: error.message, messages: messages)
        case .failure(let error): finish(.failed, error: describeError(error), messages: messages)
        }
    }

    /// The turn ended: its outcome, the messages it added to the conversation, and its model calls,
    /// in one transaction (after the tool tasks queued before it).
    public func finish(_ state: TurnState, error: String? = nil, answer: String? = nil, messages: [ChatMessage]) {
        let calls = self.state.withLock { $0.modelCalls }
        recorder.perform {
            try recorder.store.endTurn(turn, state: state, error: error, answer: answer, messages: messages, modelCalls: calls)
        }
    }
}
