import Foundation
import Synchronization
import Testing
@testable import Agent
import JSON
import LLM
import Scheduler
import Tools

/// A model that answers from a list, one completion per request, recording the requests.
private final class ScriptedModel: ChatModel, Sendable {
    let answers: [ChatCompletion]
    let requests = Mutex<[ChatRequest]>([])
    /// Yield this text, then hang until cancelled (and end with CancellationError, as the client does).
    let hangAfter: String?

    init(_ answers: [ChatCompletion], hangAfter: String? = nil) {
        self.answers = answers
        self.hangAfter = hangAfter
    }

    var displayName: String { "scripted" }

    func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        let index = requests.withLock { $0.append(request); return $0.count - 1 }
        let answer = answers[min(index, answers.count - 1)]
        let hang = hangAfter
        return AsyncThrowingStream { continuation in
            let task = Task {
                if let hang {
                    continuation.yield(.textDelta(hang))
                    while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
                    continuation.finish(throwing: CancellationError())
                    return
                }
                if let text = answer.content { continuation.yield(.textDelta(text)) }
                continuation.yield(.completed(answer))
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// Returns "result of ID" for each call, in order.
private struct EchoExecutor: ToolCallExecutor {
    func batch(turn: TurnID, events: @escaping @Sendable (TurnEvent) -> Void) -> any ToolCallBatch { RecordingBatch() }
}

/// Records the calls added; answers each with "result of ID".
final class RecordingBatch: ToolCallBatch {
    let added = Mutex<[ToolCall]>([])
    let cancelled = Mutex(false)
    func add(_ call: ToolCall) { added.withLock { $0.append(call) } }
    func results() async -> [ToolResult] { added.withLock { $0 }.map { .success("result of \($0.id)") } }
    func cancel() async { cancelled.withLock { $0 = true } }
}

@Suite struct AgentTests {
    @Test func toolResultsGoBackInCallOrderThenTheAnswerIsCommitted() async throws {
        let calls = [ToolCall(id: "a", name: "t", arguments: "{}"), ToolCall(id: "b", name: "t", arguments: "{}")]
        let model = ScriptedModel([ChatCompletion(content: nil, toolCalls: calls), ChatCompletion(content: "done")])
        let agent = Agent(model: model, configuration: .init(model: "m"), executor: EchoExecutor())
        #expect(try await agent.run(prompt: "go") == "done")
        let second = try #require(model.requests.withLock { $0.last })
        #expect(second.messages == [
            .user("go"), .assistant(content: nil, toolCalls: calls),
            .tool(callID: "a", content: "result of a"), .tool(callID: "b", content: "result of b"),
        ])
        #expect(agent.messages.count == 5)
    }

    @Test func cancellingMidStreamLeavesTheConversationAsItWas() async throws {
        let model = ScriptedModel([ChatCompletion(content: "x")], hangAfter: "partial")
        let agent = Agent(model: model, configuration: .init(model: "m"))
        let sawText = Mutex(false)
        let turn = Task { try await agent.run(prompt: "slow", events: { if case .text = $0 { sawText.withLock { $0 = true } } }) }
        while !sawText.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
        turn.cancel()
        await #expect(throws: AgentError.cancelled) { try await turn.value }
        #expect(agent.messages.isEmpty)
    }

    @Test func stepLimitStopsALoopingModel() async throws {
        let looping = ChatCompletion(content: nil, toolCalls: [ToolCall(id: "a", name: "t", arguments: "{}")])
        let model = ScriptedModel([looping])
        let agent = Agent(model: model, configuration: .init(model: "m", maxSteps: 3), executor: EchoExecutor())
        let error = await #expect(throws: AgentError.self) { try await agent.run(prompt: "loop") }
        #expect(error?.message == "Stopped after 3 model calls without a final answer (the step limit).", "no command-line flag in a library's message")
        #expect(model.requests.withLock { $0.count } == 3)
        #expect(agent.messages.isEmpty)
    }
}

/// Keeps the batches it made; each answers its calls.
final class CountingExecutor: ToolCallExecutor, Sendable {
    let batches = Mutex<[RecordingBatch]>([])
    var received: [ToolCall] { batches.withLock { $0.flatMap { $0.added.withLock { $0 } } } }
    func batch(turn: TurnID, events: @escaping @Sendable (TurnEvent) -> Void) -> any ToolCallBatch {
        let batch = RecordingBatch()
        batches.withLock { $0.append(batch) }
        return batch
    }
}

@Suite struct AgentLimitTests {
    @Test func toolCallsBeyondTheLimitAreAnsweredWithAnErrorAndTheTurnGoesOn() async throws {
        let count = AgentLimits.maxToolCallsPerMessage + 44
        let calls = (0..<count).map { ToolCall(id: "c\($0)", name: "t", arguments: "{}") }
        let model = ScriptedModel([ChatCompletion(content: nil, toolCalls: calls), ChatCompletion(content: "done")])
        let executor = CountingExecutor()
        let agent = Agent(model: model, configuration: .init(model: "m"), executor: executor)
        #expect(try await agent.run(prompt: "go") == "done")
        #expect(executor.received.map(\.id) == calls.prefix(256).map(\.id))
        let second = try #require(model.requests.withLock { $0.last })
        let toolMessages = second.messages.compactMap { message -> (String, String)? in
            if case .tool(let id, let content) = message { (id, content) } else { nil }
        }
        #expect(toolMessages.map(\.0) == calls.map(\.id))
        #expect(toolMessages[255].1 == "result of c255")
        #expect(toolMessages[256...].allSatisfy { $0.1.contains("more than 256 tool calls in one message") }, "\(toolMessages[256].1)")
    }
}
