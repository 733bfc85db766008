import Testing
@testable import HTTP
import JSON
@testable import LLM

private let weather = ToolDefinition(
    name: "get_weather", description: "Current weather",
    parameters: ["type": "object", "properties": ["location": ["type": "string"]], "required": ["location"]])

@Test func requestBodyEncodesEveryMessageKind() throws {
    let request = ChatRequest(model: "m", messages: [
        .system("be brief"),
        .user("weather?"),
        .assistant(content: nil, toolCalls: [ToolCall(id: "c1", name: "get_weather", arguments: #"{"location":"Oslo"}"#)]),
        .tool(callID: "c1", content: "sunny"),
        .assistant(content: "It is sunny.", toolCalls: []),
    ])
    let body = ChatRequestBody.json(for: request, stream: false)
    let expected: JSONValue = [
        "model": "m",
        "messages": [
            ["role": "system", "content": "be brief"],
            ["role": "user", "content": "weather?"],
            ["role": "assistant", "content": "", "tool_calls": [
                ["id": "c1", "type": "function", "function": ["name": "get_weather", "arguments": #"{"location":"Oslo"}"#]],
            ]],
            ["role": "tool", "tool_call_id": "c1", "content": "sunny"],
            ["role": "assistant", "content": "It is sunny."],
        ],
    ]
    #expect(body == expected)
    // The empty content is really written out, not dropped (ServerVariantTests: not null either).
    #expect(ChatRequestBody.json(for: request, stream: false).jsonString.contains(#""content":"","role":"assistant""#))
}

@Test func requestBodyWithToolsChoiceAndParallelFlag() {
    let request = ChatRequest(
        model: "m", messages: [.user("hi")], tools: [weather], toolChoice: "auto", parallelToolCalls: true)
    let body = ChatRequestBody.json(for: request, stream: true)
    #expect(body["tools"] == [["type": "function", "function": [
        "name": "get_weather", "description": "Current weather", "parameters": weather.parameters,
    ]]])
    #expect(body["tool_choice"] == "auto")
    #expect(body["parallel_tool_calls"] == true)
    #expect(body["stream"] == true)
    #expect(body["stream_options"] == ["include_usage": true])
}

@Test func optionalFieldsAreOmitted() {
    let noTools = ChatRequestBody.json(for: ChatRequest(model: "m", messages: [.user("hi")], parallelToolCalls: false), stream: false)
    #expect(noTools["tools"] == nil)
    #expect(noTools["parallel_tool_calls"] == nil)
    #expect(noTools["tool_choice"] == nil)
    #expect(noTools["stream"] == nil)
    #expect(noTools["stream_options"] == nil)
    let parallelNil = ChatRequestBody.json(for: ChatRequest(model: "m", messages: [], tools: [weather]), stream: false)
    #expect(parallelNil["parallel_tool_calls"] == nil)
}
