import Foundation
import Testing
@testable import HTTP
import JSON
@testable import LLM

/// The ways OpenAI-compatible servers differ from OpenAI, each as a recorded stream (or request) and
/// what agent-repl makes of it. docs/COMPATIBILITY.md lists them with the servers each was seen on;
/// keep the two in step.
@Suite struct ServerVariantTests {
    private static func chunk(_ delta: String, finish: String? = nil, extra: String = "") -> String {
        let reason = finish.map { "\"\($0)\"" } ?? "null"
        return #"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":\#(delta),"finish_reason":\#(reason)}]\#(extra)}"#
    }

    /// llama-cpp-python: id, type and name repeated in every fragment, and a legacy `function_call`
    /// beside `tool_calls`. One call, its name once, its arguments whole.
    @Test func idsAndNamesRepeatedInEveryFragmentAndALegacyFunctionCall() throws {
        let stream = [
            Self.chunk(#"{"role":"assistant","content":null,"function_call":{"name":"weather","arguments":"{\"city\""},"tool_calls":[{"index":0,"id":"call_x","type":"function","function":{"name":"weather","arguments":"{\"city\""}}]}"#),
            Self.chunk(#"{"function_call":{"name":"weather","arguments":": \"Oslo\"}"},"tool_calls":[{"index":0,"id":"call_x","type":"function","function":{"name":"weather","arguments":": \"Oslo\"}"}}]}"#),
            Self.chunk("{}", finish: "tool_calls"),
        ]
        let completion = try assemble(sse(stream)).completion
        #expect(completion.toolCalls == [ToolCall(id: "call_x", name: "weather", arguments: #"{"city": "Oslo"}"#)])
    }

    /// Servers that number every call "0", or send no id: each call still gets an id of its own, so
    /// the results can name their call.
    @Test func idsThatRepeatOrAreMissingAreMadeUnique() throws {
        let stream = [
            Self.chunk(#"{"tool_calls":[{"index":0,"id":"0","type":"function","function":{"name":"a","arguments":"{}"}}]}"#),
            Self.chunk(#"{"tool_calls":[{"index":1,"id":"0","type":"function","function":{"name":"b","arguments":"{}"}}]}"#),
            Self.chunk(#"{"tool_calls":[{"index":2,"type":"function","function":{"name":"c","arguments":"{}"}}]}"#),
            Self.chunk("{}", finish: "tool_calls"),
        ]
        let calls = try assemble(sse(stream)).completion.toolCalls
        #expect(calls.map(\.id) == ["0", "0_1", "call_2"])
        #expect(calls.map(\.name) == ["a", "b", "c"])
    }

    /// `arguments: null` (a call with no parameters) is no arguments: the tool-call checks read "" as {}.
    @Test func nullArgumentsAreAnEmptyObjectToTheChecks() throws {
        let stream = [Self.chunk(#"{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"now","arguments":null}}]}"#, finish: "tool_calls")]
        let call = try #require(try assemble(sse(stream)).completion.toolCalls.first)
        #expect(call.arguments == "")
        #expect(try SchemaValidator.parseArguments(call.arguments, schema: ["type": "object"]).get() == [:])
    }

    /// llama.cpp's server: `timings` in the chunks and the usage with `prompt_tokens_details`; extra
    /// fields are ignored, the cached count is kept.
    @Test func llamaCppTimingsAndUsageDetails() throws {
        let stream = [
            Self.chunk(#"{"role":"assistant","content":"Hi"}"#, extra: #","timings":{"prompt_n":3,"predicted_per_second":41.5}"#),
            Self.chunk("{}", finish: "stop", extra: #","usage":{"prompt_tokens":12,"completion_tokens":1,"total_tokens":13,"prompt_tokens_details":{"cached_tokens":8}},"timings":{"predicted_n":1}"#),
        ]
        let completion = try assemble(sse(stream)).completion
        #expect(completion.content == "Hi")
        #expect(completion.usage == Usage(promptTokens: 12, completionTokens: 1, totalTokens: 13, cachedPromptTokens: 8))
    }

    /// OpenAI's reasoning models: the reasoning part of the output is kept.
    @Test func reasoningTokensAreKept() throws {
        let stream = [
            Self.chunk(#"{"content":"ok"}"#, finish: "stop"),
            #"{"id":"c","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":40,"total_tokens":45,"completion_tokens_details":{"reasoning_tokens":32},"prompt_tokens_details":{"cached_tokens":0}}}"#,
        ]
        #expect(try assemble(sse(stream)).completion.usage == Usage(promptTokens: 5, completionTokens: 40, totalTokens: 45, cachedPromptTokens: 0, reasoningTokens: 32))
    }

    /// Hostile counts in the details are an error, not a trap.
    @Test func aHugeDetailCountIsAnError() {
        let stream = [#"{"id":"c","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":1e300}}}"#]
        #expect(throws: ChatError.self) { try assemble(sse(stream)) }
    }

    /// Servers that report `finish_reason: "stop"` for an answer with tool calls: the calls count.
    @Test func toolCallsWithFinishReasonStop() throws {
        let stream = [Self.chunk(#"{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"now","arguments":"{}"}}]}"#, finish: "stop")]
        #expect(try assemble(sse(stream)).completion.toolCalls.map(\.name) == ["now"])
    }

    /// What is sent: an assistant message that is only tool calls carries `"content": ""`, not null
    /// (llama-cpp-python's server answers 422 to null).
    @Test func anAssistantMessageOfOnlyToolCallsIsSentWithEmptyContent() throws {
        let request = ChatRequest(model: "m", messages: [
            .user("hi"),
            .assistant(content: nil, toolCalls: [ToolCall(id: "0_1", name: "now", arguments: "")]),
            .tool(callID: "0_1", content: "12:00"),
        ])
        let messages = try #require(ChatRequestBody.json(for: request, stream: true)["messages"]?.arrayValue)
        #expect(messages[1]["content"] == "")
        #expect(messages[1]["tool_calls"]?.arrayValue?.first?["id"] == "0_1")
        #expect(messages[2]["tool_call_id"] == "0_1")
    }
}
