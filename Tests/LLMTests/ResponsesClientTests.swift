import Foundation
import Testing
import TestSupport
@testable import HTTP
import JSON
@testable import LLM

/// ResponsesClient over the real libcurl transport against the loopback fake server, which speaks
/// the Responses API on `POST /v1/responses`.
@Suite struct ResponsesClientTests {
    let key = "sk-resp-SECRET-abcdef0123456789"

    /// A client whose retry backoff is 10 to 40 ms; with `sleeps`, waits are recorded instead of slept.
    func client(
        _ server: FakeOpenAIServer, retries: Int = 2, sleeps: SleepRecorder? = nil, streams: Bool = true,
        idle: Duration = .seconds(30), onBodyChunk: (@Sendable (ContinuousClock.Instant) -> Void)? = nil
    ) -> ResponsesClient {
        var policy = RetryPolicy(maxRetries: retries, initialDelay: .milliseconds(10), maxDelay: .milliseconds(40))
        if let sleeps { policy.sleep = { sleeps.record($0) } }
        return ResponsesClient(
            configuration: OpenAIConfiguration(
                baseURL: server.baseURL, apiKey: key, model: "fake-model", connectTimeout: .seconds(5),
                idleTimeout: idle, retryPolicy: policy, streams: streams, onBodyChunk: onBodyChunk),
            transport: CurlTransport())
    }

    let tools = [ToolDefinition(
        name: "get_weather", description: "Weather",
        parameters: ["type": "object", "properties": ["city": ["type": "string"]]])]

    /// What the fake server reports for every completed response.
    static let usage = Usage(promptTokens: 10, completionTokens: 5, totalTokens: 15, cachedPromptTokens: 4, reasoningTokens: 2)

    /// As with Chat Completions: each event reaches `answer`'s caller on libcurl's thread.
    @Test func answerPassesEachEventOnTheTransportsThread() async throws {
        let server = try await FakeOpenAIServer.start(script: [[
            "tool_calls": [["name": "get_weather", "arguments": ["city": "Oslo"]], ["name": "get_weather", "arguments": ["city": "Rome"]]],
        ]])
        defer { server.stop() }
        let log = ThreadedLog<ChatEvent>()
        let request = ChatRequest(model: "fake-model", messages: [.user("weather?")], tools: tools)
        let transport = ThreadedLog<Int>()  // libcurl's thread, where the transport reports each chunk
        let completion = try await client(server, onBodyChunk: { _ in transport.record(0) }).answer(request, events: log.record)
        #expect(completion.toolCalls.count == 2)
        #expect(log.events == completion.toolCalls.map { .toolCallReady($0) })
        #expect(log.threads.count == 1 && log.threads == transport.threads)
    }

    @Test func textStreamsAsDeltasWithTheUsageMapped() async throws {
        let server = try await FakeOpenAIServer.start(script: [["text": "héllo 🌍 from the Responses API", "pieces": 4]])
        defer { server.stop() }
        let request = ChatRequest(model: "fake-model", messages: [.system("Be brief."), .user("hi")])
        let model = client(server)
        #expect(model.displayName == "fake-model at \(server.baseURL) over the Responses API")
        let (events, error) = await drain(model.stream(request))
        #expect(error == nil)
        #expect(events.filter { if case .textDelta = $0 { true } else { false } }.count == 4)
        #expect(mergedText(events) == "héllo 🌍 from the Responses API")
        guard case .completed(let completion)? = events.last else {
            Issue.record("no completion: \(events)")
            return
        }
        #expect(completion.content == "héllo 🌍 from the Responses API")
        #expect(completion.toolCalls.isEmpty && completion.finishReason == "stop")
        #expect(completion.usage == Self.usage)
        #expect(completion.outputItems.map { $0["type"] } == ["message"])

        let sent = try #require(server.requests.first)
        #expect(sent["path"] == "/v1/responses")
        #expect(sent["headers"]?["Authorization"] == .string("Bearer \(key)"))
        let body = try #require(sent["body"])
        #expect(body == ResponsesRequestBody.json(for: request, stream: true))
        #expect(body["stream"] == true && body["store"] == false && body["include"] == ["reasoning.encrypted_content"])
        #expect(body["instructions"] == "Be brief.")
        #expect(body["input"] == [["type": "message", "role": "user", "content": "hi"]])
    }

    @Test func parallelCallsAreReadyOnceEachInOrderBeforeTheCompletion() async throws {
        let server = try await FakeOpenAIServer.start(script: [[
            "tool_calls": [
                ["id": "call_a", "name": "get_weather", "arguments": ["city": "Oslo \"north\""]],
                ["id": "call_b", "name": "get_weather", "arguments": ["city": "Zürich"]],
            ],
        ]])
        defer { server.stop() }
        let request = ChatRequest(model: "fake-model", messages: [.user("weather")], tools: tools, toolChoice: "auto", parallelToolCalls: true)
        let (events, error) = await drain(client(server).stream(request))
        #expect(error == nil)
        let ready = events.compactMap { if case .toolCallReady(let call) = $0 { call } else { nil } }
        #expect(ready.map(\.id) == ["call_a", "call_b"])
        guard case .completed(let completion)? = events.last else {
            Issue.record("no completion: \(events)")
            return
        }
        #expect(completion.toolCalls == ready)
        #expect(completion.finishReason == "tool_calls")
        #expect(try JSONValue.parse(ready[0].arguments) == ["city": "Oslo \"north\""])
        #expect(try JSONValue.parse(ready[1].arguments) == ["city": "Zürich"])

        let body = try #require(server.requestBodies().first)
        #expect(body["tools"] == [["type": "function", "name": "get_weather", "description": "Weather",
                                   "parameters": ["type": "object", "properties": ["city": ["type": "string"]]]]])
        #expect(body["tool_choice"] == "auto" && body["parallel_tool_calls"] == true)
    }

    /// The arguments come only in delta events here (neither the done items nor the completed
    /// response's items have them): they are assembled, and the items sent back carry them.
    @Test func argumentsSplitAcrossDeltaEventsAreAssembled() async throws {
        let events: [JSONValue] = [
            ["type": "response.output_item.added", "output_index": 0,
             "item": ["type": "function_call", "id": "fc_1", "call_id": "c1", "name": "get_weather", "arguments": ""]],
            ["type": "response.function_call_arguments.delta", "output_index": 0, "item_id": "fc_1", "delta": #"{"ci"#],
            ["type": "response.function_call_arguments.delta", "output_index": 0, "item_id": "fc_1", "delta": #"ty":"Os"#],
            ["type": "response.output_item.added", "output_index": 1,
             "item": ["type": "function_call", "id": "fc_2", "call_id": "c2", "name": "get_weather"]],
            ["type": "response.function_call_arguments.delta", "item_id": "fc_1", "delta": #"lo"}"#],
            ["type": "response.function_call_arguments.delta", "output_index": 1, "item_id": "fc_2", "delta": #"{"city":"Rome"}"#],
            ["type": "response.output_item.done", "output_index": 0,
             "item": ["type": "function_call", "id": "fc_1", "call_id": "c1", "name": "get_weather"]],
            ["type": "response.output_item.done", "output_index": 1,
             "item": ["type": "function_call", "id": "fc_2", "call_id": "c2", "name": "get_weather"]],
            ["type": "response.completed", "response": ["status": "completed", "output": [
                ["type": "function_call", "id": "fc_1", "call_id": "c1", "name": "get_weather"],
                ["type": "function_call", "id": "fc_2", "call_id": "c2", "name": "get_weather"],
            ]]],
        ]
        let server = try await FakeOpenAIServer.start(script: [["sse": .array(events.map { .string("data: \($0.jsonString)\n\n") })]])
        defer { server.stop() }
        let (received, error) = await drain(client(server).stream(hello))
        #expect(error == nil)
        let expected = [
            ToolCall(id: "c1", name: "get_weather", arguments: #"{"city":"Oslo"}"#),
            ToolCall(id: "c2", name: "get_weather", arguments: #"{"city":"Rome"}"#),
        ]
        #expect(received.compactMap { if case .toolCallReady(let call) = $0 { call } else { nil } } == expected)
        guard case .completed(let completion)? = received.last else {
            Issue.record("no completion: \(received)")
            return
        }
        #expect(completion.toolCalls == expected)
        #expect(completion.outputItems.map { $0["arguments"] } == [#"{"city":"Oslo"}"#, #"{"city":"Rome"}"#])
    }

    /// `store: false`: the second request carries the first answer's items as they came (reasoning
    /// with its encrypted content first, then the calls), without the server-side ids, and then the
    /// results in call order.
    @Test func reasoningAndCallsAreCarriedIntoTheNextRequestThenTheResultsInCallOrder() async throws {
        let reasoning: JSONValue = ["encrypted_content": "gAAAAB-opaque-ciphertext==", "summary": [["type": "summary_text", "text": "Two cities."]]]
        let server = try await FakeOpenAIServer.start(script: [
            ["reasoning": reasoning, "tool_calls": [
                ["id": "call_first", "name": "get_weather", "arguments": ["city": "Oslo"]],
                ["id": "call_second", "name": "get_weather", "arguments": ["city": "Rome"]],
            ]],
            ["text": "Sunny in both."],
        ])
        defer { server.stop() }
        let model = client(server)
        var messages: [ChatMessage] = [.system("Be brief."), .user("weather in Oslo and Rome")]
        let (first, firstError) = await drain(model.stream(ChatRequest(model: "", messages: messages, tools: tools)))
        #expect(firstError == nil)
        guard case .completed(let completion)? = first.last else {
            Issue.record("no completion: \(first)")
            return
        }
        // As the agent loop does: the answer, then one result per call in call order.
        messages.append(completion.message)
        for call in completion.toolCalls { messages.append(.tool(callID: call.id, content: "weather of \(call.id)")) }
        let (second, secondError) = await drain(model.stream(ChatRequest(model: "", messages: messages, tools: tools)))
        #expect(secondError == nil)
        #expect(mergedText(second) == "Sunny in both.")

        let bodies = server.requestBodies()
        try #require(bodies.count == 2)
        #expect(bodies[1]["model"] == "fake-model")
        #expect(bodies[1]["input"] == [
            ["type": "message", "role": "user", "content": "weather in Oslo and Rome"],
            ["type": "reasoning", "summary": [["type": "summary_text", "text": "Two cities."]],
             "encrypted_content": "gAAAAB-opaque-ciphertext=="],
            ["type": "function_call", "call_id": "call_first", "name": "get_weather",
             "arguments": #"{"city": "Oslo"}"#, "status": "completed"],
            ["type": "function_call", "call_id": "call_second", "name": "get_weather",
             "arguments": #"{"city": "Rome"}"#, "status": "completed"],
            ["type": "function_call_output", "call_id": "call_first", "output": "weather of call_first"],
            ["type": "function_call_output", "call_id": "call_second", "output": "weather of call_second"],
        ])
    }

    @Test func aModelThatRefusesEncryptedReasoningIsAskedWithoutItFromThenOn() async throws {
        let server = try await FakeOpenAIServer.start(script: [
            ["status": 400, "body": ["error": ["message": "Encrypted content is not supported with this model.", "param": "include"]]],
            ["text": "first"],
            ["text": "second"],
            ["status": 400, "body": ["error": ["message": "Unknown parameter: 'input[0].color'."]]],
        ])
        defer { server.stop() }
        let model = client(server)
        let (first, firstError) = await drain(model.stream(hello))
        #expect(firstError == nil && mergedText(first) == "first")
        let (second, secondError) = await drain(model.stream(hello))
        #expect(secondError == nil && mergedText(second) == "second")
        // Another 400 is the error it is, not asked again.
        let (_, third) = await drain(model.stream(hello))
        #expect((third as? ChatError)?.code == .badRequest)
        #expect(server.requestBodies().map { $0["include"] } == [["reasoning.encrypted_content"], nil, nil, nil])
    }

    @Test func anErrorEventIsASentenceWithTheServersMessage() async throws {
        let server = try await FakeOpenAIServer.start(script: [["sse": [
            "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"status\":\"in_progress\"}}\n\n",
            "event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\"The model is overloaded\",\"param\":null}\n\n",
        ]]])
        defer { server.stop() }
        let (events, error) = await drain(client(server).stream(hello))
        #expect(events.isEmpty)
        let chatError = try #require(error as? ChatError)
        #expect(chatError.code == .streamError)
        #expect(chatError.message == "The server reported an error during the answer: The model is overloaded.")
        #expect(server.requests.count == 1)
    }

    @Test func aFailedResponseIsASentenceWithTheServersMessage() async throws {
        let server = try await FakeOpenAIServer.start(script: [["sse": [
            "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"output_index\":0,\"delta\":\"Hal\"}\n\n",
            "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"Something went wrong\"}}}\n\n",
        ]]])
        defer { server.stop() }
        let (events, error) = await drain(client(server).stream(hello))
        #expect(events == [.textDelta("Hal")])
        let chatError = try #require(error as? ChatError)
        #expect(chatError.code == .streamError)
        #expect(chatError.message.contains("Something went wrong"), "\(chatError.message)")
    }

    @Test func aStreamWithoutResponseCompletedBrokeOffAndIsNotAskedAgain() async throws {
        let server = try await FakeOpenAIServer.start(script: [
            ["text": "half an answer", "drop_completed": true],
            ["text": "should not be asked for"],
        ])
        defer { server.stop() }
        let (events, error) = await drain(client(server).stream(hello))
        #expect(mergedText(events) == "half an answer")
        #expect(!events.contains { if case .completed = $0 { true } else { false } })
        let chatError = try #require(error as? ChatError)
        #expect(chatError.code == .incompleteResponse)
        #expect(chatError.message.contains("broke off before it was complete"))
        #expect(server.requests.count == 1)
    }

    @Test func rateLimitIsRetriedHonouringRetryAfter() async throws {
        let server = try await FakeOpenAIServer.start(script: [
            ["status": 429, "headers": ["Retry-After": "7"], "body": ["error": ["message": "slow down"]]],
            ["text": "after the wait"],
        ])
        defer { server.stop() }
        let sleeps = SleepRecorder()
        let (events, error) = await drain(client(server, sleeps: sleeps).stream(hello))
        #expect(error == nil)
        #expect(mergedText(events) == "after the wait")
        #expect(sleeps.sleeps == [.seconds(7)])
        #expect(server.requests.map { $0["path"] } == ["/v1/responses", "/v1/responses"])
    }

    @Test func aRejectedKeyIsASentenceWithoutTheKey() async throws {
        let server = try await FakeOpenAIServer.start(script: [[
            "status": 401, "body": ["error": ["message": .string("Incorrect API key provided: \(key)")]],
        ]])
        defer { server.stop() }
        let (_, error) = await drain(client(server).stream(hello))
        let chatError = try #require(error as? ChatError)
        #expect(chatError.code == .invalidAPIKey)
        #expect(!"\(chatError)".contains(key) && !String(reflecting: chatError).contains(key))
    }

    @Test func noStreamAsksForOneWholeResponseObject() async throws {
        let server = try await FakeOpenAIServer.start(script: [[
            "reasoning": ["encrypted_content": "opaque"],
            "text": "Calling.", "tool_calls": [["id": "call_1", "name": "get_weather", "arguments": ["city": "Oslo"]]],
        ]])
        defer { server.stop() }
        let (events, error) = await drain(client(server, streams: false).stream(hello))
        #expect(error == nil)
        #expect(server.requestBodies().first?["stream"] == false)
        #expect(events.first == .textDelta("Calling."))
        guard case .completed(let completion)? = events.last else {
            Issue.record("no completion: \(events)")
            return
        }
        #expect(completion.toolCalls == [ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city": "Oslo"}"#)])
        #expect(completion.outputItems.map { $0["type"] } == ["reasoning", "message", "function_call"])
        #expect(completion.usage == Self.usage)
    }

    /// Neither the client's idle timeout nor the server's hang ends the transfer within the wait:
    /// only the cancel can.
    @Test(.timeLimit(.minutes(3))) func cancellingAHangingStreamHangsUp() async throws {
        let server = try await FakeOpenAIServer.start(script: [["hang": true, "hang_seconds": 600]])
        defer { server.stop() }
        let consumer = Task { await drain(client(server, idle: .seconds(600)).stream(hello)) }
        #expect(await server.waitForLog { !$0.isEmpty })
        try await Task.sleep(for: .milliseconds(100))  // the server is now silent mid-stream
        consumer.cancel()
        let (events, _) = await consumer.value
        #expect(events.isEmpty)
        let ends: Set<JSONValue> = ["disconnect", "hang_ended"]
        #expect(await server.waitForLog(timeout: .seconds(90)) { $0.contains { ends.contains($0["event"] ?? .null) } })
        #expect(server.log().first { ends.contains($0["event"] ?? .null) }?["event"] == "disconnect")
    }
}
