import Foundation
import Testing
@testable import HTTP
import JSON
@testable import LLM

/// The Responses client's reading of hostile or unusual streams, and its request body, without a
/// network: scripted transport answers.
@Suite struct ResponsesStreamTests {
    private func responsesClient(_ transport: any HTTPTransport) -> ResponsesClient {
        let policy = RetryPolicy(maxRetries: 2, random: { 0 }, sleep: { _ in })
        return ResponsesClient(
            configuration: OpenAIConfiguration(baseURL: "https://api.example.com/v1", apiKey: testKey, model: "gpt-test", retryPolicy: policy),
            transport: transport)
    }

    private func event(_ payload: JSONValue) -> String { "data: \(payload.jsonString)\n\n" }

    private let completed: JSONValue = ["type": "response.completed", "response": ["status": "completed", "output": []]]

    private func run(_ body: [String]) async -> ([ChatEvent], (any Error)?) {
        await drain(responsesClient(ScriptedTransport([.http(status: 200, headers: ["content-type": "text/event-stream"], body: body)])).stream(hello))
    }

    /// An output index out of range (an error, not a trap), and a call the results could not name.
    @Test(arguments: [
        ("output_index", ["type": "response.output_item.added", "output_index": 1e300,
                          "item": ["type": "function_call", "call_id": "c", "name": "t"]] as JSONValue),
        ("call_id", ["type": "response.output_item.done", "output_index": 0,
                     "item": ["type": "function_call", "name": "t", "arguments": "{}"]] as JSONValue),
    ])
    func aMalformedEventIsASentenceNamingTheField(field: String, payload: JSONValue) async throws {
        let (_, error) = await run([event(payload)])
        let chatError = try #require(error as? ChatError)
        #expect(chatError.code == .malformedResponse && chatError.message.contains(field), "\(chatError)")
    }

    @Test func aTokenCountOutOfRangeIsAnErrorNotATrap() async throws {
        let (_, error) = await run([event([
            "type": "response.completed",
            "response": ["status": "completed", "output": [], "usage": [
                "input_tokens": 3, "output_tokens": 1, "output_tokens_details": ["reasoning_tokens": 1e300]]],
        ])])
        let chatError = try #require(error as? ChatError)
        #expect(chatError.code == .malformedResponse)
        #expect(chatError.message.contains("output_tokens_details.reasoning_tokens"), "\(chatError)")
    }

    @Test func unknownEventTypesAreIgnored() async throws {
        let (events, error) = await run([
            event(["type": "response.created", "response": ["status": "in_progress"]]),
            event(["type": "response.something_new", "output_index": 1e300, "delta": 12]),
            "event: response.output_text.delta\ndata: {\"delta\":\"typed by the event line\"}\n\n",
            event(["no_type": true]),
            ": a comment\n\n",
            event(["type": "response.reasoning_summary_text.delta", "delta": "not for the user"]),
            event(completed),
        ])
        #expect(error == nil)
        #expect(events == [.textDelta("typed by the event line"), .completed(ChatCompletion(content: "typed by the event line", finishReason: "stop"))])
    }

    @Test func aPayloadThatIsNotJSONIsASentenceAndAnErrorEventsTextIsTheMessage() async throws {
        let (_, error) = await run(["data: {not json\n\n"])
        #expect((error as? ChatError)?.code == .malformedResponse)
        let (_, plain) = await run(["event: error\ndata: upstream overloaded\n\n"])
        #expect(plain as? ChatError == ChatError(.streamError, "The server reported an error during the answer: upstream overloaded."))
    }

    @Test func aCallIsReadyOnlyAfterTheCallsBeforeIt() async throws {
        func call(_ index: Int64, _ id: String) -> JSONValue {
            ["type": "function_call", "id": .string("fc_\(id)"), "call_id": .string(id), "name": "t", "arguments": "{}"]
        }
        let (events, error) = await run([
            event(["type": "response.output_item.added", "output_index": 0, "item": call(0, "a")]),
            event(["type": "response.output_item.added", "output_index": 1, "item": call(1, "b")]),
            event(["type": "response.output_item.done", "output_index": 1, "item": call(1, "b")]),
            event(["type": "response.output_item.done", "output_index": 0, "item": call(0, "a")]),
            event(["type": "response.output_item.done", "output_index": 0, "item": call(0, "a")]),
            event(completed),
        ])
        #expect(error == nil)
        let ready = events.compactMap { if case .toolCallReady(let c) = $0 { c.id } else { nil } }
        #expect(ready == ["a", "b"])
    }

    @Test func anIncompleteAnswerWithTextIsKeptAndWithoutAnythingIsAnError() async throws {
        let incomplete: JSONValue = ["type": "response.incomplete", "response": [
            "status": "incomplete", "incomplete_details": ["reason": "max_output_tokens"], "output": []]]
        let (kept, keptError) = await run([event(["type": "response.output_text.delta", "delta": "Partial"]), event(incomplete)])
        #expect(keptError == nil)
        #expect(kept.last == .completed(ChatCompletion(content: "Partial", finishReason: "max_output_tokens")))
        let (_, error) = await run([event(incomplete)])
        let chatError = try #require(error as? ChatError)
        #expect(chatError.code == .incompleteResponse && chatError.message.contains("max_output_tokens"), "\(chatError)")
    }

    @Test(.timeLimit(.minutes(1))) func anEventLongerThan16MiBFailsTheTurnWithASentence() async throws {
        let text = String(repeating: "a", count: 16 << 20)
        let (events, error) = await run([
            event(["type": "response.output_text.delta", "delta": .string(text)]), event(completed),
        ])
        let eventCount = events.count  // not the events themselves: a failure would print 16 MiB
        #expect(eventCount == 0)
        let chatError = try #require(error as? ChatError)
        #expect(chatError.code == .responseTooLarge && chatError.message.contains("16 MiB"), "\(chatError.message)")
    }

    @Test(.timeLimit(.minutes(1))) func aWholeResponseLargerThan16MiBFailsTheTurnWithASentence() async throws {
        let body = #"{"status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":""# + String(repeating: "a", count: 16 << 20) + #""}]}]}"#
        let transport = ScriptedTransport([.http(status: 200, headers: ["content-type": "application/json"], body: [body])])
        let (events, error) = await drain(responsesClient(transport).stream(hello))
        let eventCount = events.count
        #expect(eventCount == 0)
        #expect((error as? ChatError)?.code == .responseTooLarge)
    }

    @Test func aConnectionLostBeforeAnyEventIsRetriedButNotAfterOne() async throws {
        let retried = ScriptedTransport([
            .fail(TransportError(.connectionLost, "reset")),
            .http(status: 200, body: [event(["type": "response.output_text.delta", "delta": "ok"]), event(completed)]),
        ])
        let (events, error) = await drain(responsesClient(retried).stream(hello))
        #expect(error == nil && mergedText(events) == "ok")
        #expect(retried.requestCount == 2)
        #expect(retried.requests.first?.url == "https://api.example.com/v1/responses")

        let notRetried = ScriptedTransport([.http(
            status: 200, body: [event(["type": "response.output_text.delta", "delta": "half"])],
            thenFail: TransportError(.connectionLost, "reset"))])
        let (partial, partialError) = await drain(responsesClient(notRetried).stream(hello))
        #expect(partial == [.textDelta("half")])
        #expect((partialError as? ChatError)?.code == .connectionFailed)
        #expect(notRetried.requestCount == 1)
    }

    @Test func theRequestBodyFromAConversationWithoutOutputItems() {
        let request = ChatRequest(
            model: "m",
            messages: [
                .system("one"), .system("two"), .user("hi"),
                .assistant(content: "Let me look.", toolCalls: [ToolCall(id: "c1", name: "t", arguments: "{}")]),
                .tool(callID: "c1", content: "result"),
                .system("later"),
            ],
            toolChoice: "none")
        let body = ResponsesRequestBody.json(for: request, stream: false)
        #expect(body["instructions"] == "one\n\ntwo")
        #expect(body["stream"] == false && body["store"] == false)
        #expect(body["tools"] == nil && body["parallel_tool_calls"] == nil && body["tool_choice"] == "none")
        #expect(body["input"] == [
            ["type": "message", "role": "user", "content": "hi"],
            ["type": "message", "role": "assistant", "content": [["type": "output_text", "text": "Let me look."]]],
            ["type": "function_call", "call_id": "c1", "name": "t", "arguments": "{}"],
            ["type": "function_call_output", "call_id": "c1", "output": "result"],
            ["type": "message", "role": "system", "content": "later"],
        ])
    }

    @Test func theChatCompletionsBodyIgnoresOutputItems() {
        let plain = ChatMessage.assistant(content: "x", toolCalls: [])
        let withItems = ChatMessage.assistant(content: "x", toolCalls: [], outputItems: [["type": "reasoning", "encrypted_content": "e"]])
        #expect(ChatRequestBody.json(for: withItems) == ChatRequestBody.json(for: plain))
    }
}
