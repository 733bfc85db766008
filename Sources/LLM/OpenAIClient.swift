import Foundation
import HTTP
import JSON
import Synchronization

/// A `ChatModel` for an OpenAI-compatible Chat Completions endpoint.
///
/// Streams with SSE (or asks for whole answers when `configuration.streams` is false, or after the
/// server refused to stream tool calls: `StreamingFallback`), retries per `RetryPolicy` until the first
/// event reaches the caller, and turns every failure into a `ChatError` whose sentence never holds the
/// API key (`OpenAIEndpoint`, shared with `ResponsesClient`). A whole JSON answer goes through the same
/// `StreamAccumulator`, limits and checks as a stream.
public struct OpenAIClient: ChatModel {
    public var configuration: OpenAIConfiguration { endpoint.configuration }
    private let endpoint: OpenAIEndpoint
    private let fallback = StreamingFallback()

    public init(configuration: OpenAIConfiguration, transport: any HTTPTransport = CurlTransport()) {
        endpoint = OpenAIEndpoint(configuration: configuration, transport: transport, path: "/chat/completions")
    }

    /// "gpt-4o-mini at https://api.openai.com/v1".
    public var displayName: String { endpoint.displayName }

    /// One answer: `.textDelta` as text arrives (all at once for a whole answer), perhaps one `.notice`
    /// first, `.toolCallReady` for each tool call as soon as it is whole in the stream (see
    /// `StreamAccumulator`), each passed to `events` on the transport's thread as it is read.
    public func answer(_ request: ChatRequest, events: @escaping @Sendable (ChatEvent) -> Void) async throws -> ChatCompletion {
        try await endpoint.answer { try await reply(to: request, emit: events) }
    }

    /// `answer`'s events, then exactly one `.completed`. Terminating the stream (or cancelling its
    /// consumer) cancels the HTTP transfer at once.
    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        endpoint.stream { emit in try await answer(request, events: emit) }
    }

    // MARK: - Streaming or not

    /// Streams when it may; repeats a request that offers tools without streaming when the server
    /// refused to stream it, and remembers that for the model.
    private func reply(to request: ChatRequest, emit: @escaping @Sendable (ChatEvent) -> Void) async throws -> ChatCompletion {
        let model = endpoint.model(of: request)
        guard configuration.streams, fallback.streams(model) else {
            return try await completion(request, streaming: false, emit: emit)
        }
        do {
            return try await completion(request, streaming: true, emit: emit)
        } catch is StreamingFallback.Refusal {
            // The events wait until the answer is whole, so the notice comes before its text and
            // only when asking without streaming worked.
            let held = HeldEvents()
            let completion = try await completion(request, streaming: false, emit: held.append)
            if fallback.stopStreaming(model) {
                emit(.notice(Redaction.redact(StreamingFallback.notice(baseURL: configuration.displayBaseURL, model: model), secrets: endpoint.secrets)))
            }
            held.events.forEach(emit)
            return completion
        }
    }

    /// Sends `request` once (with retries) and reads the answer, an SSE stream or one JSON body,
    /// whichever the server sent. With `streaming` and tools offered, a refusal to stream throws
    /// `StreamingFallback.Refusal`.
    private func completion(
        _ request: ChatRequest, streaming: Bool, emit: @escaping @Sendable (ChatEvent) -> Void
    ) async throws -> ChatCompletion {
        let body = ChatRequestBody.data(for: endpoint.resolved(request), stream: streaming)
        let mayRefuse = streaming && !request.tools.isEmpty
        let events = StreamedEvents<ChatStreamReader>(emit: emit)
        return try await endpoint.send(body, model: endpoint.model(of: request), refusalPossible: mayRefuse, events: events) { head, parts in
            if OpenAIEndpoint.isJSON(head) {
                // A server that cannot stream (some cannot with tools) may answer with the whole completion.
                let text = try await endpoint.wholeBody(&parts)
                if mayRefuse, text.allSatisfy(\.isWhitespace) { throw StreamingFallback.Refusal() }
                var accumulator = StreamAccumulator()
                try accumulator.consumeWholeAnswer(text).forEach(events.pass)
                return accumulator.completion
            }
            var reader = try await endpoint.readEvents(&parts, events)
            if mayRefuse && !reader.sawEvent { throw StreamingFallback.Refusal() }
            guard reader.sawDone || reader.accumulator.finishReason != nil else { throw endpoint.brokeOff() }
            // A stream that ended with [DONE] but no finish_reason: its calls are whole now.
            reader.accumulator.finishCalls().forEach(events.pass)
            return reader.accumulator.completion
        }
    }
}

/// A Chat Completions event stream: chunks for the accumulator, until `[DONE]`; an `error` event fails
/// the answer.
struct ChatStreamReader: AnswerEventReader {
    var accumulator = StreamAccumulator()
    private(set) var sawEvent = false
    private(set) var sawDone = false

    mutating func read(_ event: SSEEvent) throws -> (events: [ChatEvent], more: Bool) {
        sawEvent = true
        if event.isDone {
            sawDone = true
            return ([], false)
        }
        if event.event == "error" {
            let message = (try? JSONValue.parse(event.data)).map { StreamAccumulator.errorMessage($0["error"] ?? $0) }
            throw ChatError(.streamError, "The server reported an error during the answer: \(message ?? event.data).")
        }
        return (try accumulator.consume(event.data), true)
    }
}

/// Events kept back until an answer is whole.
private final class HeldEvents: Sendable {
    private let held = Mutex<[ChatEvent]>([])
    var events: [ChatEvent] { held.withLock { $0 } }
    func append(_ event: ChatEvent) { held.withLock { $0.append(event) } }
}
