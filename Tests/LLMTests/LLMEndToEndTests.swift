import Foundation
import Testing
import TestSupport
@testable import HTTP
import JSON
@testable import LLM

/// OpenAIClient over the real libcurl transport against the loopback fake server.
@Suite struct LLMEndToEndTests {
    let key = "sk-e2e-SECRET-abcdef0123456789"

    func client(_ server: FakeOpenAIServer, retries: Int = 2, idle: Duration = .seconds(30),
                sleeps: SleepRecorder? = nil,
                onBodyChunk: (@Sendable (ContinuousClock.Instant) -> Void)? = nil) -> OpenAIClient {
        client(baseURL: server.baseURL, retries: retries, idle: idle, sleeps: sleeps, onBodyChunk: onBodyChunk)
    }

    /// A client whose retry backoff is 10 to 40 ms; with `sleeps`, waits are recorded instead of slept.
    func client(baseURL: String, retries: Int = 2, idle: Duration = .seconds(30), sleeps: SleepRecorder? = nil,
                onBodyChunk: (@Sendable (ContinuousClock.Instant) -> Void)? = nil) -> OpenAIClient {
        var policy = RetryPolicy(maxRetries: retries, initialDelay: .milliseconds(10), maxDelay: .milliseconds(40))
        if let sleeps { policy.sleep = { sleeps.record($0) } }
        return OpenAIClient(
            configuration: OpenAIConfiguration(
                baseURL: baseURL, apiKey: key, model: "fake-model", connectTimeout: .seconds(5), idleTimeout: idle,
                retryPolicy: policy, onBodyChunk: onBodyChunk),
            transport: CurlTransport())
    }

    @Test func aWholeJSONAnswerToAStreamingRequestIsTheAnswer() async throws {
        let server = try await FakeOpenAIServer.start(script: [
            ["tool_calls": [["name": "weather", "arguments": ["city": "Oslo"]]], "json_body": true],
        ])
        defer { server.stop() }
        let (events, error) = await drain(client(server).stream(hello))
        #expect(error == nil)
        let call = ToolCall(id: "call_0", name: "weather", arguments: #"{"city": "Oslo"}"#)
        #expect(events == [.toolCallReady(call), .completed(ChatCompletion(
            content: nil, toolCalls: [call],
            finishReason: "tool_calls", usage: Usage(promptTokens: 10, completionTokens: 5, totalTokens: 15)))])
        #expect(server.requestBodies().first?["stream"] == true)
    }

    /// `answer` hands each event to its caller on libcurl's own thread, as it is read: a ready call
    /// reaches the agent (and its tool's spawn) with no thread hop in between.
    @Test func answerPassesEachEventOnTheTransportsThread() async throws {
        let server = try await FakeOpenAIServer.start(script: [[
            "tool_calls": [["name": "weather", "arguments": ["city": "Oslo"]], ["name": "weather", "arguments": ["city": "Rome"]]],
        ]])
        defer { server.stop() }
        let log = ThreadedLog<ChatEvent>()
        let transport = ThreadedLog<Int>()  // libcurl's thread, where the transport reports each chunk
        let completion = try await client(server, onBodyChunk: { _ in transport.record(0) }).answer(hello, events: log.record)
        #expect(log.events == completion.toolCalls.map { .toolCallReady($0) })
        #expect(completion.toolCalls.map(\.arguments) == [#"{"city": "Oslo"}"#, #"{"city": "Rome"}"#])
        #expect(log.threads.count == 1 && log.threads == transport.threads)

        let texts = ThreadedLog<ChatEvent>()
        let server2 = try await FakeOpenAIServer.start(script: [["text": "Looking.", "pieces": 2]])
        defer { server2.stop() }
        _ = try await client(server2, onBodyChunk: { _ in transport.record(0) }).answer(hello, events: texts.record)
        #expect(texts.events == [.textDelta("Look"), .textDelta("ing.")])
        #expect(texts.threads == transport.threads)
    }

    @Test func textStreamsOverLoopback() async throws {
        let server = try await FakeOpenAIServer.start(script: [["text": "héllo 🌍 from the fake server", "pieces": 7]])
        defer { server.stop() }
        let chunks = SleepRecorder()  // reused as a thread-safe counter of chunk arrivals
        let request = ChatRequest(model: "fake-model", messages: [.system("s"), .user("hi")])
        let (events, error) = await drain(client(server, onBodyChunk: { _ in chunks.record(.zero) }).stream(request))
        #expect(error == nil)
        #expect(mergedText(events) == "héllo 🌍 from the fake server")
        #expect(events.filter { if case .textDelta = $0 { true } else { false } }.count == 7)
        #expect(events.last == .completed(ChatCompletion(
            content: "héllo 🌍 from the fake server", finishReason: "stop",
            usage: Usage(promptTokens: 10, completionTokens: 5, totalTokens: 15))))
        #expect(!chunks.sleeps.isEmpty)

        let sent = try #require(server.requests.first)
        #expect(sent["path"] == "/v1/chat/completions")
        #expect(sent["headers"]?["Authorization"] == .string("Bearer \(key)"))
        #expect(sent["headers"]?["Content-Type"] == "application/json")
        #expect(sent["body"] == ChatRequestBody.json(for: request, stream: true))
    }

    @Test func parallelToolCallsWithRepeatedIdAndName() async throws {
        let server = try await FakeOpenAIServer.start(script: [[
            "tool_calls": [
                ["name": "get_weather", "arguments": ["location": "Oslo \"north\""]],
                ["name": "read_file", "arguments": ["path": "/tmp/é"]],
            ],
            "repeat_id_and_name": true,
        ]])
        defer { server.stop() }
        let (events, error) = await drain(client(server).stream(hello))
        #expect(error == nil)
        guard case .completed(let completion)? = events.last else {
            Issue.record("no completion")
            return
        }
        #expect(completion.toolCalls.map(\.id) == ["call_0", "call_1"])
        #expect(completion.toolCalls.map(\.name) == ["get_weather", "read_file"])
        #expect(try JSONValue.parse(completion.toolCalls[0].arguments) == ["location": "Oslo \"north\""])
        #expect(try JSONValue.parse(completion.toolCalls[1].arguments) == ["path": "/tmp/é"])
        #expect(completion.finishReason == "tool_calls")
    }

    /// Also when tools are offered: these answers do not refuse streaming.
    @Test(arguments: [false, true]) func rateLimitIsRetriedHonouringRetryAfter(offeringTools: Bool) async throws {
        let server = try await FakeOpenAIServer.start(script: [
            ["status": 429, "headers": ["Retry-After": "7"], "body": ["error": ["message": "slow down"]]],
            ["status": 503, "headers": ["retry-after-ms": "1500"]],
            ["text": "after the wait"],
        ])
        defer { server.stop() }
        let sleeps = SleepRecorder()
        let (events, error) = await drain(client(server, sleeps: sleeps).stream(offeringTools ? helloWithTools : hello))
        #expect(error == nil)
        #expect(mergedText(events) == "after the wait")
        #expect(!events.contains { if case .notice = $0 { true } else { false } })
        #expect(server.requestBodies().map { $0["stream"] } == [true, true, true])
        // The server's waits, not the policy's own 10-40 ms backoff.
        #expect(sleeps.sleeps == [.seconds(7), .milliseconds(1500)])
    }

    @Test func rejectedKeyIsASentenceWithoutTheKey() async throws {
        let server = try await FakeOpenAIServer.start(script: [[
            "status": 401, "body": ["error": ["message": .string("Incorrect API key provided: \(key)"), "code": "invalid_api_key"]],
        ]])
        defer { server.stop() }
        let (_, error) = await drain(client(server).stream(hello))
        let chatError = try #require(error as? ChatError)
        #expect(chatError.code == .invalidAPIKey)
        #expect("\(chatError)" == "The API key was rejected (401). Set OPENAI_API_KEY to a valid key.")
        #expect(!"\(chatError)".contains(key) && !String(reflecting: chatError).contains(key))
        #expect(server.requests.count == 1)
    }

    @Test func connectionRefusedIsASentence() async throws {
        let (_, error) = await drain(client(baseURL: "http://127.0.0.1:1/v1", retries: 1).stream(hello))
        let chatError = try #require(error as? ChatError)
        #expect(chatError.code == .connectionRefused)
        #expect(chatError.message == "Could not connect to http://127.0.0.1:1/v1: connection refused. Is the server running?")
    }

    @Test(.timeLimit(.minutes(2))) func cancellingAHangingStreamEndsPromptly() async throws {
        let server = try await FakeOpenAIServer.start(script: [["hang": true, "hang_seconds": 60]])
        defer { server.stop() }
        let stream = client(server).stream(hello)
        let consumer = Task { await drain(stream) }
        #expect(await server.waitForLog { !$0.isEmpty })
        try await Task.sleep(for: .milliseconds(100))  // the server is now silent mid-stream

        let cancelledAt = Date().timeIntervalSince1970
        let cancelled = ContinuousClock.now
        consumer.cancel()
        let (events, _) = await consumer.value
        let consumerEnded = ContinuousClock.now - cancelled
        #expect(events.isEmpty)
        #expect(consumerEnded < .seconds(15), "the consumer ended \(consumerEnded) after the cancel; the server's hang ends after 60 s")

        // The transfer itself is gone: the server sees the connection closed, long before its hang would end.
        let ends: Set<JSONValue> = ["disconnect", "hang_ended"]
        #expect(await server.waitForLog(timeout: .seconds(90)) { $0.contains { ends.contains($0["event"] ?? .null) } })
        let end = try #require(server.log().first { ends.contains($0["event"] ?? .null) })
        #expect(end["event"] == "disconnect", "the server's hang ran its course: \(end)")
        let hangUpAfter = (end["time"]?.numberValue ?? .nan) - cancelledAt
        #expect(hangUpAfter < 15, "the server saw the hang-up \(hangUpAfter) s after the cancel")
        print("cancellation latency: consumer \(consumerEnded), server saw the hang-up \(String(format: "%.1f", hangUpAfter * 1000)) ms after the cancel")
    }

    @Test func idleTimeoutAbandonsASilentServer() async throws {
        let server = try await FakeOpenAIServer.start(script: [["hang": true]])
        defer { server.stop() }
        let (_, error) = await drain(client(server, retries: 0, idle: .milliseconds(300)).stream(hello))
        let chatError = try #require(error as? ChatError)
        #expect(chatError.code == .idleTimeout)
        #expect(chatError.message.contains("sent nothing for 0.3 s"))
    }

    /// Nor asked again without streaming when tools were offered: the server did stream.
    @Test(arguments: [false, true]) func brokenStreamAfterTextIsNotRetried(offeringTools: Bool) async throws {
        let server = try await FakeOpenAIServer.start(script: [
            ["sse": [.string(#"data: {"choices":[{"index":0,"delta":{"content":"half"},"finish_reason":null}]}"# + "\n\n")]],
            ["text": "should not be asked for"],
        ])
        defer { server.stop() }
        let (events, error) = await drain(client(server).stream(offeringTools ? helloWithTools : hello))
        #expect(events == [.textDelta("half")])
        #expect((error as? ChatError)?.code == .incompleteResponse)
        #expect(server.requests.count == 1)
    }
}
