import Foundation
import Synchronization
import JSON
import LLM
import Scheduler
import Tools

/// Why a turn ended without an answer.
public struct AgentError: Error, CustomStringConvertible, Equatable {
    public enum Code: Sendable, Equatable { case stepLimit, cancelled, inconsistentAnswer }
    public var code: Code
    public var message: String
    public var description: String { message }

    static func stepLimit(_ n: Int) -> AgentError {
        AgentError(code: .stepLimit, message: "Stopped after \(n) model calls without a final answer (the step limit).")
    }
    static let cancelled = AgentError(code: .cancelled, message: "Cancelled.")
    static let inconsistentAnswer = AgentError(
        code: .inconsistentAnswer,
        message: "The model's answer listed other tool calls at its end than it had reported while streaming; the calls were stopped and the turn was not saved.")
}

/// One conversation with the model: its messages and the loop that runs a turn.
///
/// A turn works on a copy of the messages and commits it only when the model has answered in text,
/// so a cancelled or failed turn leaves the conversation exactly as it was before.
public final class Agent: Sendable {
    public struct Configuration: Sendable {
        public var model: String
        public var tools: [ToolDefinition]
        public var systemPrompt: String?
        public var maxSteps: Int
        public var parallelToolCalls: Bool
        /// Starts each tool call as soon as the model's answer reports it whole (`ChatEvent.toolCallReady`),
        /// while the answer still streams; when false, every call waits for the end of the answer (the
        /// benchmark's baseline).
        public var dispatchesEarly: Bool
        /// When set, the tools offered at each step are read from here instead of `tools` (MCP servers'
        /// tools join and change while the session runs).
        public var liveTools: (@Sendable () -> [ToolDefinition])?

        public init(
            model: String, tools: [ToolDefinition] = [], systemPrompt: String? = nil, maxSteps: Int = 12, parallelToolCalls: Bool = true,
            dispatchesEarly: Bool = true
        ) {
            self.model = model
            self.tools = tools
            self.systemPrompt = systemPrompt
            self.maxSteps = maxSteps
            self.parallelToolCalls = parallelToolCalls
            self.dispatchesEarly = dispatchesEarly
        }
    }

    private struct State {
        var configuration: Configuration
        var messages: [ChatMessage] = []
        var turns = 0
    }

    public let id: Int
    private let chatModel: any ChatModel
    private let executor: (any ToolCallExecutor)?
    private let state: Mutex<State>
    /// Times each model call (`TurnEvent.modelCallEnded`).
    private let clock: any SchedulerClock

    public init(
        id: Int = 0, model: any ChatModel, configuration: Configuration, executor: (any ToolCallExecutor)? = nil,
        clock: any SchedulerClock = ContinuousSchedulerClock()
    ) {
        self.id = id
        self.chatModel = model
        self.executor = executor
        self.clock = clock
        self.state = Mutex(State(configuration: configuration))
    }

    public var messages: [ChatMessage] { state.withLock { $0.messages } }
    public var modelName: String {
        get { state.withLock { $0.configuration.model } }
        set { state.withLock { $0.configuration.model = newValue } }
    }
    public var displayName: String { chatModel.displayName }

    /// Forgets the conversation.
    public func clear() { state.withLock { $0.messages = [] } }

    /// Continues an earlier conversation: `messages` replace the current ones.
    public func restore(_ messages: [ChatMessage]) { state.withLock { $0.messages = messages } }

    /// Runs one turn: asks the model, runs the tools it calls, and repeats until it answers in text.
    /// Each call the answer reports whole (`ChatEvent.toolCallReady`) starts at once, while the answer
    /// still streams (unless `dispatchesEarly` is false); the rest start when it ends.
    /// - Returns: the answer text.
    /// - Throws: the model's error, `AgentError.stepLimit`, `AgentError.cancelled`, or
    ///   `AgentError.inconsistentAnswer`; the calls the broken answer started are stopped first, and the
    ///   conversation is unchanged.
    public func run(prompt: String, events: @escaping @Sendable (TurnEvent) -> Void = { _ in }) async throws -> String {
        let (configuration, history, turnNumber) = state.withLock { s -> (Configuration, [ChatMessage], Int) in
            s.turns += 1
            return (s.configuration, s.messages, s.turns)
        }
        let turn = TurnID(conversation: id, turn: turnNumber)
        var working = history
        if working.isEmpty, let system = configuration.systemPrompt { working.append(.system(system)) }
        working.append(.user(prompt))

        for _ in 1...max(1, configuration.maxSteps) {
            try checkCancellation()
            let tools = configuration.liveTools?() ?? configuration.tools
            let request = ChatRequest(
                model: configuration.model, messages: working, tools: tools,
                toolChoice: tools.isEmpty ? nil : "auto",
                parallelToolCalls: tools.isEmpty ? nil : configuration.parallelToolCalls)
            let limit = AgentLimits.maxToolCallsPerMessage
            let progress = AnswerProgress()
            let completion: ChatCompletion
            do {
                // On the thread the model reports the call on (the HTTP transport's, for a real one).
                completion = try await collect(request, progress: progress, events: events) { call in
                    guard configuration.dispatchesEarly, let executor = self.executor else { return }
                    let calls = progress.state.withLock { state -> (any ToolCallBatch)? in
                        guard state.started.count < limit else { return nil }
                        let calls = state.batch ?? executor.batch(turn: turn, events: events)
                        state.batch = calls
                        state.started.append(call)
                        return calls
                    }
                    guard let calls else { return }
                    events(.toolCallsRequested([call]))
                    calls.add(call)
                }
                guard completion.toolCalls.starts(with: progress.state.withLock({ $0.started })) else { throw AgentError.inconsistentAnswer }
            } catch {
                // A broken or cancelled answer: the calls it started stop, and the turn is not saved.
                // (The model reports nothing more once its answer has returned or thrown.)
                await progress.state.withLock({ $0.batch })?.cancel()
                throw error
            }
            let (batch, started) = progress.state.withLock { ($0.batch, $0.started) }
            working.append(completion.message)
            guard !completion.toolCalls.isEmpty, let executor else {
                try checkCancellation()
                state.withLock { $0.messages = working }
                return completion.content ?? ""
            }
            let calls = batch ?? executor.batch(turn: turn, events: events)
            // The calls not started while the answer streamed (those beyond the limit included, for the
            // live view and the turn's meter) are requested now.
            let rest = Array(completion.toolCalls.dropFirst(started.count))
            if !rest.isEmpty { events(.toolCallsRequested(rest)) }
            for call in completion.toolCalls.prefix(limit).dropFirst(started.count) { calls.add(call) }
            // Calls beyond the limit are not run; each gets an error result, so the model can ask again.
            let overflow = completion.toolCalls.dropFirst(limit).map { call in
                events(.toolFinished(call, ok: false, summary: "not run: more than \(limit) tool calls in one message"))
                return ToolResult.failure(
                    "not run: the message asked for more than \(limit) tool calls in one message; only the first \(limit) ran. Ask for the rest in a later message.",
                    outcome: .invalidArguments)
            }
            let results = await calls.results() + overflow
            try checkCancellation()
            for (call, result) in zip(completion.toolCalls, results) {
                working.append(.tool(callID: call.id, content: result.modelContent))
            }
        }
        throw AgentError.stepLimit(configuration.maxSteps)
    }

    /// Reads one answer, passing its text to `events` and each call reported whole to `ready` as they
    /// come (on the model's thread), and ends with `.modelCallEnded`: the answer's usage, its duration
    /// and its time to first token (its first text or tool call).
    private func collect(
        _ request: ChatRequest, progress: AnswerProgress, events: @escaping @Sendable (TurnEvent) -> Void,
        ready: @escaping @Sendable (ToolCall) -> Void
    ) async throws -> ChatCompletion {
        let clock = self.clock
        let started = clock.now
        let completion: ChatCompletion
        do {
            completion = try await chatModel.answer(request) { event in
                switch event {
                case .textDelta(let text):
                    if !text.isEmpty { progress.firstToken(at: clock.now - started) }
                    events(.text(text))
                case .notice(let text):
                    events(.notice(text))
                case .toolCallReady(let call):
                    progress.firstToken(at: clock.now - started)
                    ready(call)
                case .completed:
                    break  // returned, never passed
                }
            }
        } catch {
            // A cancelled turn may surface as the model's own CancellationError.
            try checkCancellation()
            if error is CancellationError { throw AgentError.cancelled }
            throw error
        }
        try checkCancellation()
        if !(completion.content ?? "").isEmpty || !completion.toolCalls.isEmpty { progress.firstToken(at: clock.now - started) }
        events(.modelCallEnded(ModelCall(
            usage: completion.usage, duration: clock.now - started, timeToFirstToken: progress.state.withLock { $0.firstToken },
            httpRetries: completion.httpRetries)))
        return completion
    }

    private func checkCancellation() throws {
        if Task.isCancelled { throw AgentError.cancelled }
    }
}

/// What one answer has reported so far: written on the thread the model reports on (the HTTP
/// transport's, for a real model), read by the turn once the answer has returned.
private final class AnswerProgress: Sendable {
    struct State {
        /// The message's calls, made when its first call is reported.
        var batch: (any ToolCallBatch)?
        /// The calls started while the answer streamed, in call order (at most the per-message limit).
        var started: [ToolCall] = []
        var firstToken: Duration?
    }

    let state = Mutex(State())

    /// The first text or tool call came `elapsed` after the request (later ones change nothing).
    func firstToken(at elapsed: Duration) {
        state.withLock { state in
            if state.firstToken == nil { state.firstToken = elapsed }
        }
    }
}
