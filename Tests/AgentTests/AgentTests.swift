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
    func execute(_ calls: [ToolCall], turn: TurnID, events: @escaping @Sendable (TurnEvent) -> Void) async -> [ToolResult] {
        calls.map { .success("result of \($0.id)") }
    }
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
        await #expect(throws: AgentError.self) { try await agent.run(prompt: "loop") }
        #expect(model.requests.withLock { $0.count } == 3)
        #expect(agent.messages.isEmpty)
    }
}
