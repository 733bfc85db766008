import Foundation
import Testing
import TestSupport
@testable import HTTP
import JSON
@testable import LLM

/// A request that offers a tool with `tool_choice: "auto"`, as the agent loop sends.
let helloWithTools = ChatRequest(
    model: "fake-model", messages: [.user("hi")],
    tools: [ToolDefinition(name: "weather", description: "Weather", parameters: ["type": "object"])],
    toolChoice: "auto", parallelToolCalls: true)

/// Whole (non-streaming) answers and the fallback to them, over the real libcurl transport against
/// the loopback fake server.
@Suite struct NonStreamingTests {
    let withTools = helloWithTools
    let usage = Usage(promptTokens: 10, completionTokens: 5, totalTokens: 15)

    func client(_ server: FakeOpenAIServer, streams: Bool = true, sleeps: SleepRecorder = SleepRecorder()) -> OpenAIClient {
        let policy = RetryPolicy(maxRetries: 2, random: { 0 }, sleep: { sleeps.record($0) })
        return OpenAIClient(
            configuration: OpenAIConfiguration(
                baseURL: server.baseURL, apiKey: "sk-nostream-0123456789", model: "fake-model",
                connectTimeout: .seconds(5), idleTimeout: .seconds(30), retryPolicy: policy, streams: streams),
            transport: CurlTransport())
    }

    func notice(_ server: FakeOpenAIServer) -> ChatEvent {
        .notice(StreamingFallback.notice(baseURL: server.baseURL, model: "fake-model"))
    }

    // MARK: - Whole answers

    @Test func aWholeAnswerWithText() async throws {
        let server = try await FakeOpenAIServer.start(script: [["text": "Hello, whole."]])
        defer { server.stop() }
        let (events, error) = await drain(client(server, streams: false).stream(withTools))
        #expect(error == nil)
        #expect(events == [
            .textDelta("Hello, whole."),
            .completed(ChatCompletion(content: "Hello, whole.", finishReason: "stop", usage: usage)),
        ])
        let body = try #require(server.requestBodies().first)
        #expect(body["stream"] == nil && body["stream_options"] == nil)
        #expect(body == ChatRequestBody.json(for: withTools, stream: false))
    }

    @Test func aWholeAnswerWithTwoParallelToolCalls() async throws {
        let server = try await FakeOpenAIServer.start(script: [[
            "tool_calls": [
                ["name": "weather", "arguments": ["city": "Oslo"]],
                ["name": "read_file", "arguments": ["path": "/tmp/é"]],
            ],
        ]])
        defer { server.stop() }
        let (events, error) = await drain(client(server, streams: false).stream(withTools))
        #expect(error == nil)
        guard case .completed(let completion)? = events.last, events.count == 3 else {
            Issue.record("expected two ready calls and one completion, got \(events)")
            return
        }
        try #require(completion.toolCalls.count == 2)
        #expect(events.dropLast() == completion.toolCalls.map { .toolCallReady($0) }, "every call at once, in order")
        #expect(completion.toolCalls.map(\.id) == ["call_0", "call_1"])
        #expect(completion.toolCalls.map(\.name) == ["weather", "read_file"])
        #expect(try JSONValue.parse(completion.toolCalls[0].arguments) == ["city": "Oslo"])
        #expect(try JSONValue.parse(completion.toolCalls[1].arguments) == ["path": "/tmp/é"])
        #expect(completion.finishReason == "tool_calls" && completion.usage == usage)
        #expect(server.requestBodies().first?["stream"] == nil)
    }

    // MARK: - Falling back

    /// What a server that cannot stream tool calls answers a streamed request.
    enum Refusal: String, CaseIterable, Sendable {
        case emptyBody, emptyJSONBody, onlyComments, badRequestSaysNotSupported, serverErrorSaysUnsupported

        var response: JSONValue {
            switch self {
            case .emptyBody: ["empty": true]
            case .emptyJSONBody: ["empty": true, "content_type": "application/json"]
            case .onlyComments: ["raw_body": ": keep-alive\n\n\n: still nothing\n"]
            case .badRequestSaysNotSupported:
                ["status": 400, "body": ["error": ["message": "Streaming is not supported with tools", "code": 400]]]
            case .serverErrorSaysUnsupported:
                ["status": 500, "body": ["detail": "Unsupported: stream=True with tool_choice auto"]]
            }
        }
    }

    @Test(arguments: Refusal.allCases)
    func aRefusedStreamIsAskedAgainWholeOnceAndTheModelStaysWhole(_ refusal: Refusal) async throws {
        let server = try await FakeOpenAIServer.start(script: [refusal.response, ["text": "first, whole"], ["text": "second, whole"]])
        defer { server.stop() }
        let sleeps = SleepRecorder()
        let client = client(server, sleeps: sleeps)

        let (first, firstError) = await drain(client.stream(withTools))
        #expect(firstError == nil)
        #expect(first == [
            notice(server),
            .textDelta("first, whole"),
            .completed(ChatCompletion(content: "first, whole", finishReason: "stop", usage: usage)),
        ])
        // The next request goes out whole at once, and says nothing more.
        let (second, secondError) = await drain(client.stream(withTools))
        #expect(secondError == nil)
        #expect(second == [
            .textDelta("second, whole"),
            .completed(ChatCompletion(content: "second, whole", finishReason: "stop", usage: usage)),
        ])
        let streamed = server.requestBodies().map { $0["stream"] }
        #expect(streamed == [true, nil, nil])
        #expect(sleeps.sleeps.isEmpty, "a refusal is not retried with backoff")
        #expect(server.requestBodies().dropFirst().first == ChatRequestBody.json(for: withTools, stream: false))
    }

    @Test func anotherModelOfTheSameEndpointStillStreams() async throws {
        let server = try await FakeOpenAIServer.start(script: [["empty": true], ["text": "whole"], ["text": "streamed"]])
        defer { server.stop() }
        let client = client(server)
        _ = await drain(client.stream(withTools))
        var other = withTools
        other.model = "other-model"
        let (events, error) = await drain(client.stream(other))
        #expect(error == nil)
        #expect(mergedText(events) == "streamed")
        #expect(server.requestBodies().map { $0["stream"] } == [true, nil, true])
    }

    @Test func withoutToolsAnEmptyAnswerIsStillABrokenStream() async throws {
        let server = try await FakeOpenAIServer.start(script: [["empty": true], ["text": "not asked for"]])
        defer { server.stop() }
        let (events, error) = await drain(client(server).stream(hello))
        #expect(events.isEmpty)
        #expect((error as? ChatError)?.code == .incompleteResponse)
        #expect(server.requests.count == 1)
    }

    @Test func whenTheWholeAnswerFailsTooNothingIsRemembered() async throws {
        let server = try await FakeOpenAIServer.start(script: [
            ["empty": true],
            ["status": 400, "body": ["error": ["message": "tools are broken too"]]],
            ["text": "streamed after all"],
        ])
        defer { server.stop() }
        let client = client(server)
        let (events, error) = await drain(client.stream(withTools))
        #expect(events.isEmpty)
        let chatError = try #require(error as? ChatError)
        #expect(chatError.code == .badRequest && chatError.message.contains("tools are broken too"))
        let (again, _) = await drain(client.stream(withTools))
        #expect(mergedText(again) == "streamed after all")
        #expect(server.requestBodies().map { $0["stream"] } == [true, nil, true])
    }

    // MARK: - Hostile whole answers

    func wholeAnswer(_ body: String, repeat count: Int = 1) async throws -> FakeOpenAIServer {
        try await FakeOpenAIServer.start(script: [["raw_body": .string(body), "repeat": .int(Int64(count)), "content_type": "application/json"]])
    }

    @Test(.timeLimit(.minutes(1))) func aHugeWholeAnswerIsASentence() async throws {
        let server = try await wholeAnswer(String(repeating: "a", count: 1 << 20), repeat: 17)
        defer { server.stop() }
        let (events, error) = await drain(client(server, streams: false).stream(withTools))
        #expect(events.isEmpty)
        let chatError = try #require(error as? ChatError)
        #expect(chatError.code == .responseTooLarge)
        #expect(chatError.message.contains("an answer larger than agent-repl's limit of 16 MiB in one piece"), "\(chatError.message)")
    }

    /// Whole answers that are no answer: the body, the error's code, the start of its sentence.
    static let badWholeAnswers: [(String, ChatError.Code, String)] = [
        (#"{"choices": [{"index": 0, "message": {"content": "cut"#, .malformedResponse,
         #"The server sent an answer that is not valid JSON: {"choices""#),
        (" \n", .malformedResponse, "The server sent an empty answer."),
        (#"{"object": "chat.completion", "choices": []}"#, .malformedResponse,
         "The server sent an answer without a message (no choices[0].message)"),
        (#"{"error": {"message": "the model crashed"}}"#, .streamError,
         "The server reported an error during the answer: the model crashed."),
    ]

    @Test(arguments: badWholeAnswers)
    func aBadWholeAnswerIsASentence(_ body: String, code: ChatError.Code, sentence: String) async throws {
        let server = try await wholeAnswer(body)
        defer { server.stop() }
        let (events, error) = await drain(client(server, streams: false).stream(withTools))
        #expect(events.isEmpty)
        let chatError = try #require(error as? ChatError)
        #expect(chatError.code == code)
        #expect(chatError.message.hasPrefix(sentence), "\(chatError.message)")
    }

    @Test func argumentsThatAreNotTextReachTheToolCallChecksAsTheirJSON() async throws {
        let server = try await wholeAnswer(#"""
            {"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
              "tool_calls": [{"type": "function", "function": {"name": "weather", "arguments": 42}},
                             {"type": "function", "function": {"name": "weather", "arguments": {"city": "Oslo"}}},
                             {"type": "function", "function": {"name": "weather", "arguments": null}}]}}]}
            """#)
        defer { server.stop() }
        let (events, error) = await drain(client(server, streams: false).stream(withTools))
        #expect(error == nil)
        guard case .completed(let completion)? = events.last else {
            Issue.record("no completion: \(events)")
            return
        }
        // Three calls without ids or indexes are three calls, at their positions.
        try #require(completion.toolCalls.map(\.arguments) == ["42", #"{"city":"Oslo"}"#, ""])
        #expect(completion.content == nil)
        let schema: JSONValue = ["type": "object", "properties": ["city": ["type": "string"]]]
        #expect((try? SchemaValidator.parseArguments("42", schema: schema).get()) == nil, "42 is not an object")
        #expect(try SchemaValidator.parseArguments(completion.toolCalls[1].arguments, schema: schema).get() == ["city": "Oslo"])
    }

    @Test func nullContentWithoutCallsIsAnEmptyAnswerAsWhenStreamed() async throws {
        let server = try await wholeAnswer(#"{"choices": [{"index": 0, "message": {"role": "assistant", "content": null}, "finish_reason": "stop"}]}"#)
        defer { server.stop() }
        let (events, error) = await drain(client(server, streams: false).stream(withTools))
        #expect(error == nil)
        #expect(events == [.completed(ChatCompletion(content: nil, finishReason: "stop"))])
    }
}
