import Foundation
import Testing
@testable import HTTP
import JSON
@testable import LLM

/// Answers a server may send that once trapped the process or grew its memory: each is a
/// sentence now, or read the way the server meant it.
@Suite struct HostileStreamTests {
    private func chunk(_ delta: String) -> String {
        #"data: {"choices":[{"index":0,"delta":\#(delta),"finish_reason":null}]}"# + "\n\n"
    }

    @Test func aToolCallIndexOutOfRangeIsAnErrorNotATrap() {
        let bytes = Array(chunk(#"{"tool_calls":[{"index":1e30,"id":"c","function":{"name":"t","arguments":"{}"}}]}"#).utf8)
        #expect {
            try assemble(bytes)
        } throws: { error in
            (error as? ChatError)?.code == .malformedResponse && "\(error)".contains("index")
        }
    }

    @Test func aTokenCountOutOfRangeIsAnErrorNotATrap() {
        let bytes = Array((#"data: {"choices":[],"usage":{"prompt_tokens":1e300,"completion_tokens":1,"total_tokens":2}}"# + "\n\n").utf8)
        #expect {
            try assemble(bytes)
        } throws: { error in
            (error as? ChatError)?.code == .malformedResponse && "\(error)".contains("prompt_tokens")
        }
    }

    @Test(arguments: [
        (#""prompt_tokens_details":{"cached_tokens":1e300}"#, "prompt_tokens_details.cached_tokens"),
        (#""completion_tokens_details":{"reasoning_tokens":-1}"#, "completion_tokens_details.reasoning_tokens"),
        (#""prompt_tokens_details":{"cached_tokens":9007199254740993}"#, "prompt_tokens_details.cached_tokens"),
    ])
    func aDetailCountOutOfRangeIsAnErrorNamingIt(detail: String, name: String) {
        let usage = #"{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2,\#(detail)}"#
        let bytes = Array((#"data: {"choices":[],"usage":\#(usage)}"# + "\n\n").utf8)
        #expect {
            try assemble(bytes)
        } throws: { error in
            (error as? ChatError)?.code == .malformedResponse && "\(error)".contains(name)
        }
    }

    @Test func argumentsSentAsAnObjectAreThatObject() throws {
        let bytes = Array(chunk(#"{"tool_calls":[{"index":0,"id":"c","function":{"name":"weather","arguments":{"city":"Oslo"}}}]}"#).utf8)
        let call = try #require(try assemble(bytes).completion.toolCalls.first)
        #expect(try JSONValue.parse(call.arguments) == ["city": "Oslo"])
    }

    @Test func nullArgumentsAreNoArguments() throws {
        let bytes = Array(chunk(#"{"tool_calls":[{"index":0,"id":"c","function":{"name":"weather","arguments":null}}]}"#).utf8)
        let call = try #require(try assemble(bytes).completion.toolCalls.first)
        let schema: JSONValue = ["type": "object", "properties": [:]]
        #expect(try SchemaValidator.parseArguments(call.arguments, schema: schema).get() == [:])
        #expect(try SchemaValidator.parseArguments("null", schema: schema).get() == [:])
    }

    @Test func aLineLongerThanTheLimitThrowsOnceItIsLongerNotAtItsEnd() {
        var parser = SSEParser(maxEventBytes: 16)
        #expect(throws: SSEParser.LimitExceeded.self) {
            _ = try parser.feed(Array("data: 0123456789ab".utf8))  // 18 bytes, no line end yet
        }
    }

    @Test func manyDataLinesLongerTogetherThanTheLimitThrow() throws {
        var parser = SSEParser(maxEventBytes: 16)
        #expect(try parser.feed(Array("data: 01234567\n".utf8)).isEmpty)
        #expect(throws: SSEParser.LimitExceeded.self) {
            _ = try parser.feed(Array("data: 01234567\n".utf8))
        }
        var fits = SSEParser(maxEventBytes: 16)
        #expect(try fits.feed(Array("data: 0123456\ndata: 01234567\n\n".utf8)).map(\.data) == ["0123456\n01234567"])
    }

    @Test(.timeLimit(.minutes(1))) func anEventLongerThan16MiBFailsTheTurnWithASentence() async throws {
        let text = String(repeating: "a", count: 16 << 20)
        let transport = ScriptedTransport([.http(status: 200, body: [
            chunk(#"{"content":"\#(text)"}"#),
            #"data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\ndata: [DONE]\n\n",
        ])])
        let (events, error) = await drain(makeClient(transport).stream(hello))
        let eventCount = events.count  // not the events themselves: a failure would print 16 MiB
        #expect(eventCount == 0)
        let chatError = try #require(error as? ChatError)
        #expect(chatError.code == .responseTooLarge)
        #expect(chatError.message.contains("16 MiB"), "\(chatError.message)")
    }

    @Test func aJSONAnswerToAStreamingRequestIsTheWholeAnswer() async {
        let body = #"""
        {"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":null,
         "tool_calls":[{"id":"call_1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Oslo\"}"}}]},
         "finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}
        """#
        let transport = ScriptedTransport([.http(status: 200, headers: ["content-type": "application/json; charset=utf-8"], body: [body])])
        let (events, error) = await drain(makeClient(transport).stream(hello))
        #expect(error == nil)
        let call = ToolCall(id: "call_1", name: "weather", arguments: #"{"city":"Oslo"}"#)
        #expect(events == [.toolCallReady(call), .completed(ChatCompletion(
            content: nil, toolCalls: [call],
            finishReason: "tool_calls", usage: Usage(promptTokens: 3, completionTokens: 2, totalTokens: 5)))])
    }
}
