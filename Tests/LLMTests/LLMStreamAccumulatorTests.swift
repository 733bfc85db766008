import Foundation
import Testing
@testable import HTTP
import JSON
@testable import LLM

/// Runs SSE bytes through the parser and the accumulator, as the client does.
func assemble(_ bytes: [UInt8], cuts: [Int] = []) throws -> (events: [ChatEvent], completion: ChatCompletion) {
    try assemble(try parseSSE(bytes, cuts: cuts))
}

func assemble(_ sseEvents: [SSEEvent]) throws -> (events: [ChatEvent], completion: ChatCompletion) {
    var accumulator = StreamAccumulator()
    var events: [ChatEvent] = []
    for event in sseEvents where !event.isDone {
        events += try accumulator.consume(event.data)
    }
    return (events, accumulator.completion)
}

/// Assembles `bytes` split at every byte boundary. The accumulator only sees whole events, so each
/// distinct event sequence the parser produces is assembled once (JSON decoding is slow in debug builds).
func assembleAtEveryCut(_ bytes: [UInt8], check: ([ChatEvent], ChatCompletion, Int) -> Void) throws {
    var assembled: [[SSEEvent]: ([ChatEvent], ChatCompletion)] = [:]
    for cut in 0...bytes.count {
        let sseEvents = try parseSSE(bytes, cuts: [cut])
        if assembled[sseEvents] == nil { assembled[sseEvents] = try assemble(sseEvents) }
        let (events, completion) = assembled[sseEvents]!
        check(events, completion, cut)
    }
    // And the worst case: one byte per chunk.
    let (events, completion) = try assemble(bytes, cuts: Array(1..<bytes.count))
    check(events, completion, -1)
}

/// Joins text deltas, so differently split streams compare equal.
func mergedText(_ events: [ChatEvent]) -> String {
    events.map { if case .textDelta(let t) = $0 { t } else { "" } }.joined()
}

func sse(_ payloads: [String], lineEnd: String = "\n") -> [UInt8] {
    Array((payloads.map { "data: \($0)\(lineEnd)\(lineEnd)" }.joined() + "data: [DONE]\(lineEnd)\(lineEnd)").utf8)
}

private func chunk(_ delta: String, finish: String? = nil) -> String {
    let reason = finish.map { "\"\($0)\"" } ?? "null"
    return #"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":\#(delta),"finish_reason":\#(reason)}]}"#
}

private let usageChunk = #"{"id":"c","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}"#

private let textStream = [
    chunk(#"{"role":"assistant","content":""}"#),
    chunk(#"{"content":"hé"}"#),
    chunk(#"{"content":"llo 🌍"}"#),
    chunk(#"{"content":null}"#),
    chunk("{}", finish: "stop"),
    usageChunk,
]

private let toolStream = [
    chunk(#"{"role":"assistant","content":null}"#),
    chunk(#"{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]}"#),
    chunk(#"{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"read_file","arguments":null}}]}"#),
    chunk(#"{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"q\":\"say \\\"hi\\\"\""}}]}"#),
    chunk(#"{"tool_calls":[{"index":1,"id":"call_b","function":{"name":"read_file","arguments":"{\"path\":\"é🌍\"}"}}]}"#),
    chunk(#"{"tool_calls":[{"index":0,"function":{"arguments":"}"}}]}"#),
    chunk("{}", finish: "tool_calls"),
    usageChunk,
]

@Test(arguments: ["\n", "\r\n"])
func textStreamAssembledAtEveryByteBoundary(lineEnd: String) throws {
    try assembleAtEveryCut(sse(textStream, lineEnd: lineEnd)) { events, completion, cut in
        #expect(mergedText(events) == "héllo 🌍", "cut at \(cut)")
        #expect(completion == ChatCompletion(
            content: "héllo 🌍", finishReason: "stop", usage: Usage(promptTokens: 10, completionTokens: 5, totalTokens: 15)))
    }
}

@Test(arguments: ["\n", "\r\n"])
func parallelToolCallsWithRepeatedIdAndNameAtEveryByteBoundary(lineEnd: String) throws {
    try assembleAtEveryCut(sse(toolStream, lineEnd: lineEnd)) { events, completion, cut in
        #expect(mergedText(events).isEmpty, "tool calls yield no text")
        // The first call's arguments come after the second call's header: both are ready only at the end.
        #expect(events == completion.toolCalls.map { .toolCallReady($0) })
        #expect(completion.content == nil)
        #expect(completion.finishReason == "tool_calls")
        #expect(completion.toolCalls == [
            ToolCall(id: "call_a", name: "get_weather", arguments: #"{"q":"say \"hi\""}"#),
            ToolCall(id: "call_b", name: "read_file", arguments: #"{"path":"é🌍"}"#),
        ])
    }
}

@Test func toolCallArgumentsParseAsJSON() throws {
    let (_, completion) = try assemble(sse(toolStream), cuts: [])
    let arguments = try JSONValue.parse(completion.toolCalls[0].arguments)
    #expect(arguments["q"] == "say \"hi\"")
}

@Test func toolCallsWithoutIndexAreKeptApartById() throws {
    let stream = [
        chunk(#"{"tool_calls":[{"id":"x","function":{"name":"a","arguments":"{}"}},{"id":"y","function":{"name":"b","arguments":"{}"}}]}"#),
        chunk("{}", finish: "tool_calls"),
    ]
    let (_, completion) = try assemble(sse(stream))
    #expect(completion.toolCalls.map(\.name) == ["a", "b"])
}

@Test func errorObjectInStreamThrows() {
    let bytes = sse([chunk(#"{"content":"Hi"}"#), #"{"error":{"message":"overloaded","type":"server_error"}}"#])
    #expect(throws: ChatError.self) { try assemble(bytes) }
    do {
        _ = try assemble(bytes)
    } catch {
        #expect((error as? ChatError)?.code == .streamError)
        #expect("\(error)".contains("overloaded"))
    }
}

@Test func malformedJSONIsAClearError() {
    var accumulator = StreamAccumulator()
    #expect {
        _ = try accumulator.consume(#"{"choices":[{"delta":{"content":"unterminated"#)
    } throws: { error in
        (error as? ChatError)?.code == .malformedResponse && "\(error)".contains("not valid JSON")
    }
}

@Test func nonStreamingBodyIsAccepted() throws {
    var accumulator = StreamAccumulator()
    _ = try accumulator.consume(#"""
        {"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"now","arguments":"{}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}
        """#)
    #expect(accumulator.completion == ChatCompletion(
        content: nil, toolCalls: [ToolCall(id: "c1", name: "now", arguments: "{}")], finishReason: "tool_calls",
        usage: Usage(promptTokens: 1, completionTokens: 2, totalTokens: 3)))
}
