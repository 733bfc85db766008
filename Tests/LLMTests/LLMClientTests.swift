import Foundation
import Synchronization
import Testing
@testable import HTTP
import JSON
@testable import LLM

/// A transport that plays scripted answers and records what was sent.
final class ScriptedTransport: HTTPTransport {
    enum Answer: Sendable {
        case http(status: Int, headers: [String: String] = [:], body: [String] = [], thenFail: TransportError? = nil)
        case fail(TransportError)
    }

    private struct State {
        var answers: [Answer]
        var requests: [HTTPRequest] = []
    }

    private let state: Mutex<State>

    init(_ answers: [Answer]) { state = Mutex(State(answers: answers)) }

    var requests: [HTTPRequest] { state.withLock { $0.requests } }
    var requestCount: Int { state.withLock { $0.requests.count } }

    func send(_ request: HTTPRequest) -> HTTPResponseStream {
        let answer = state.withLock { state in
            state.requests.append(request)
            return state.answers.count > 1 ? state.answers.removeFirst() : state.answers[0]
        }
        return HTTPResponseStream(AsyncThrowingStream { continuation in
            switch answer {
            case .fail(let error):
                continuation.finish(throwing: error)
            case .http(let status, let headers, let body, let failure):
                let head = HTTPResponseHead(status: status, headers: headers)
                continuation.yield(.head(head))
                // As CurlTransport does: a body the request's consumer takes goes to it, not the stream.
                guard let consumer = request.bodyConsumer, consumer.takesBody(of: head) else {
                    for piece in body { continuation.yield(.body(Data(piece.utf8))) }
                    continuation.finish(throwing: failure)
                    return
                }
                do {
                    for piece in body where try !Data(piece.utf8).withUnsafeBytes(consumer.consume) {
                        continuation.finish()
                        return
                    }
                    continuation.finish(throwing: failure)
                } catch {
                    continuation.finish(throwing: error)
                }
            }
        })
    }
}

/// Collects the sleeps a retry policy asked for.
final class SleepRecorder: Sendable {
    private let recorded = Mutex<[Duration]>([])
    var sleeps: [Duration] { recorded.withLock { $0 } }
    func record(_ d: Duration) { recorded.withLock { $0.append(d) } }
}

let testKey = "sk-test-SECRET-0123456789abcdef"

func makeClient(
    _ transport: any HTTPTransport, baseURL: String = "https://api.example.com/v1", key: String? = testKey,
    sleeps: SleepRecorder = SleepRecorder(), maxRetries: Int = 2
) -> OpenAIClient {
    let policy = RetryPolicy(maxRetries: maxRetries, random: { 0 }, sleep: { sleeps.record($0) })
    return OpenAIClient(
        configuration: OpenAIConfiguration(baseURL: baseURL, apiKey: key, model: "gpt-test", retryPolicy: policy),
        transport: transport)
}

let hello = ChatRequest(model: "gpt-test", messages: [.user("hi")])

/// Drains a stream; returns its events and the error it ended with.
func drain(_ stream: AsyncThrowingStream<ChatEvent, any Error>) async -> ([ChatEvent], (any Error)?) {
    var events: [ChatEvent] = []
    do {
        for try await event in stream { events.append(event) }
        return (events, nil)
    } catch {
        return (events, error)
    }
}

private func sseText(_ pieces: [String]) -> [String] {
    pieces.map { #"data: {"choices":[{"index":0,"delta":{"content":"\#($0)"},"finish_reason":null}]}"# + "\n\n" }
        + [#"data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\n", "data: [DONE]\n\n"]
}

@Test func streamYieldsDeltasThenOneCompletion() async throws {
    let transport = ScriptedTransport([.http(status: 200, body: sseText(["Hel", "lo"]))])
    let (events, error) = await drain(makeClient(transport).stream(hello))
    #expect(error == nil)
    #expect(events == [.textDelta("Hel"), .textDelta("lo"), .completed(ChatCompletion(content: "Hello", finishReason: "stop"))])
    let request = try #require(transport.requests.first)
    #expect(request.url == "https://api.example.com/v1/chat/completions")
    #expect(request.headers.contains { $0 == ("Authorization", "Bearer \(testKey)") })
    #expect(request.headers.contains { $0 == ("Content-Type", "application/json") })
    #expect(try JSONValue.parse(try #require(request.body))["stream"] == true)
}

@Test func retryableStatusIsRetriedWithBackoff() async {
    let sleeps = SleepRecorder()
    let transport = ScriptedTransport([
        .http(status: 503, body: [#"{"error":{"message":"busy"}}"#]),
        .http(status: 429, headers: ["retry-after": "2"]),
        .http(status: 200, body: sseText(["ok"])),
    ])
    let (events, error) = await drain(makeClient(transport, sleeps: sleeps).stream(hello))
    #expect(error == nil)
    var answer = ChatCompletion(content: "ok", finishReason: "stop")
    answer.httpRetries = 2
    #expect(events.last == .completed(answer), "the answer says how many requests were repeated")
    #expect(sleeps.sleeps == [.milliseconds(500), .seconds(2)])
    #expect(transport.requestCount == 3)
}

@Test func rateLimitOutlastingRetriesIsASentence() async {
    let sleeps = SleepRecorder()
    let transport = ScriptedTransport([.http(status: 429)])
    let (_, error) = await drain(makeClient(transport, sleeps: sleeps).stream(hello))
    #expect(error as? ChatError == ChatError(.rateLimited, "Rate limited (429) after 2 retries; try again later.", status: 429))
    #expect(sleeps.sleeps == [.milliseconds(500), .seconds(1)])
    #expect(transport.requestCount == 3)
}

@Test func connectionErrorsAreRetried() async {
    let transport = ScriptedTransport([
        .fail(TransportError(.connectionLost, "reset")),
        .http(status: 200, body: sseText(["ok"])),
    ])
    let (events, error) = await drain(makeClient(transport).stream(hello))
    #expect(error == nil)
    #expect(events.count == 2)
}

@Test func brokenStreamAfterTextIsAnErrorNotARetry() async {
    let transport = ScriptedTransport([
        .http(status: 200, body: Array(sseText(["partial"]).prefix(1)), thenFail: TransportError(.connectionLost, "reset by peer")),
        .http(status: 200, body: sseText(["second"])),
    ])
    let (events, error) = await drain(makeClient(transport).stream(hello))
    #expect(events == [.textDelta("partial")])
    #expect((error as? ChatError)?.code == .connectionFailed)
    #expect("\(error!)".contains("broke off"))
    #expect(transport.requestCount == 1)
}

@Test func streamEndingWithoutFinishIsIncomplete() async {
    let transport = ScriptedTransport([.http(status: 200, body: Array(sseText(["partial"]).prefix(1)))])
    let (_, error) = await drain(makeClient(transport).stream(hello))
    #expect((error as? ChatError)?.code == .incompleteResponse)
}

@Test func clientErrorsAreSentencesAndNotRetried() async {
    let base = "https://api.example.com/v1"
    let cases: [(Int, String, ChatError.Code, String)] = [
        (401, #"{"error":{"message":"Incorrect API key provided: \#(testKey)","code":"invalid_api_key"}}"#, .invalidAPIKey,
         "The API key was rejected (401). Set OPENAI_API_KEY to a valid key."),
        (404, #"{"error":{"message":"The model `gpt-test` does not exist","code":"model_not_found"}}"#, .modelNotFound,
         "The model 'gpt-test' was not found at \(base) (404)."),
        (404, "<html>Not Found</html>", .endpointNotFound,
         "Nothing answers at \(base)/chat/completions (404). Check the address."),
        (400, #"{"error":{"message":"Invalid value for 'tool_choice'. Bearer \#(testKey)"}}"#, .badRequest,
         "The server rejected the request (400): Invalid value for 'tool_choice'. Bearer [redacted]."),
        (403, #"{"error":{"message":"Project does not have access"}}"#, .permissionDenied,
         "Access was denied at \(base) (403): Project does not have access. Check that the API key may use the model 'gpt-test'."),
    ]
    for (status, body, code, message) in cases {
        let transport = ScriptedTransport([.http(status: status, body: [body])])
        let (_, error) = await drain(makeClient(transport).stream(hello))
        let chatError = error as? ChatError
        #expect(chatError?.code == code)
        #expect(chatError?.message == message)
        #expect(!"\(error!)".contains("SECRET"))
        #expect(transport.requestCount == 1)
    }
}

@Test func missingKeyForRemoteEndpointFailsBeforeSending() async {
    let transport = ScriptedTransport([.http(status: 200, body: sseText(["x"]))])
    let (_, error) = await drain(makeClient(transport, key: nil).stream(hello))
    #expect((error as? ChatError)?.code == .missingAPIKey)
    #expect("\(error!)".contains("OPENAI_API_KEY"))
    #expect(transport.requestCount == 0)
}

@Test func localEndpointNeedsNoKey() async {
    let transport = ScriptedTransport([.http(status: 200, body: sseText(["x"]))])
    let (_, error) = await drain(makeClient(transport, baseURL: "http://localhost:11434/v1", key: nil).stream(hello))
    #expect(error == nil)
    #expect(!transport.requests[0].headers.contains { $0.name == "Authorization" })
}

@Test func errorEventInStreamIsThrownRedacted() async {
    let transport = ScriptedTransport([.http(status: 200, body: [
        "event: error\ndata: {\"error\":{\"message\":\"bad key \(testKey)\"}}\n\n",
    ])])
    let (_, error) = await drain(makeClient(transport).stream(hello))
    #expect((error as? ChatError)?.code == .streamError)
    #expect(!"\(error!)".contains(testKey))
}

@Test func redactionMasksKeysAndTokens() {
    let text = Redaction.redact("key \(testKey), sk-proj-abc123XYZ and Authorization: Bearer abc.def", secrets: ["my-own-secret"])
    #expect(!text.contains("SECRET") && !text.contains("abc123") && !text.contains("abc.def"))
    #expect(Redaction.redact("x my-own-secret y", secrets: ["my-own-secret"]) == "x [redacted] y")
}

@Test func displayNameNeverShowsTheKey() {
    let client = makeClient(ScriptedTransport([.fail(TransportError(.setupFailed, ""))]), baseURL: "https://user:pw@api.example.com/v1/")
    #expect(client.displayName == "gpt-test at https://api.example.com/v1")
    #expect(!client.displayName.contains(testKey))
}
