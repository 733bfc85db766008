import Testing
@testable import HTTP
import JSON
@testable import LLM

@Test func completionBecomesAssistantMessage() {
    let call = ToolCall(id: "c1", name: "now", arguments: "{}")
    let completion = ChatCompletion(content: nil, toolCalls: [call], finishReason: "tool_calls")
    #expect(completion.message == .assistant(content: nil, toolCalls: [call]))
}
