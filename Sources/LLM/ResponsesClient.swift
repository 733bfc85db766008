import Foundation
import HTTP
import JSON

/// A `ChatModel` for the Responses API (`POST <base>/responses`), OpenAI's API for its newest models.
///
/// Streams its events (or asks for one whole response object when `configuration.streams` is
/// false) and assembles them with `ResponsesAccumulator`; a stream that ends without
/// `response.completed` (or `response.incomplete`) is an error. Sending, retries until the first
/// event reaches the caller, limits, cancellation and error sentences are `OpenAIEndpoint`'s, the
/// same as `OpenAIClient`'s. The answer's output items travel in `ChatCompletion.outputItems` into
/// the conversation, and `ResponsesRequestBody` sends them back with the next request.
///
/// Every request asks for `reasoning.encrypted_content`, which a model that does not reason may
/// refuse: a 400 answer whose message names encrypted content is asked again at once without it, and
/// that model is asked without it for the rest of the session.
public struct ResponsesClient: ChatModel {
    public var configuration: OpenAIConfiguration { endpoint.configuration }
    private let endpoint: OpenAIEndpoint
    /// The models that refused `include: ["reasoning.encrypted_content"]`.
    private let withoutEncryptedReasoning = ModelSet()

    public init(configuration: OpenAIConfiguration, transport: any HTTPTransport = CurlTransport()) {
        endpoint = OpenAIEndpoint(configuration: configuration, transport: transport, path: "/responses")
    }

    /// "gpt-5-mini at https://api.openai.com/v1 over the Responses API".
    public var displayName: String { endpoint.displayName + " over the Responses API" }

    /// One answer: `.textDelta` as text arrives, `.toolCallReady` as each call is complete, each
    /// passed to `events` on the transport's thread as it is read.
    public func answer(_ request: ChatRequest, events: @escaping @Sendable (ChatEvent) -> Void) async throws -> ChatCompletion {
        try await endpoint.answer { try await reply(to: request, emit: events) }
    }

    /// `answer`'s events, then exactly one `.completed`. Terminating the stream (or cancelling its
    /// consumer) cancels the HTTP transfer at once.
    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        endpoint.stream { emit in try await answer(request, events: emit) }
    }

    private func reply(to request: ChatRequest, emit: @escaping @Sendable (ChatEvent) -> Void) async throws -> ChatCompletion {
        let model = endpoint.model(of: request)
        guard !withoutEncryptedReasoning.contains(model) else {
            return try await reply(to: request, includeReasoning: false, emit: emit)
        }
        do {
            return try await reply(to: request, includeReasoning: true, emit: emit)
        } catch let error as ChatError where Self.refusesEncryptedReasoning(error) {
            withoutEncryptedReasoning.insert(model)
            return try await reply(to: request, includeReasoning: false, emit: emit)
        }
    }

    /// A 400 whose message is about encrypted content (OpenAI's models without reasoning).
    private static func refusesEncryptedReasoning(_ error: ChatError) -> Bool {
        let message = error.message.lowercased()
        return error.status == 400 && (message.contains("encrypted content") || message.contains("encrypted_content"))
    }

    private func reply(
        to request: ChatRequest, includeReasoning: Bool, emit: @escaping @Sendable (ChatEvent) -> Void
    ) async throws -> ChatCompletion {
        let body = ResponsesRequestBody.data(for: endpoint.resolved(request), stream: configuration.streams, includeReasoning: includeReasoning)
        let events = StreamedEvents<ResponsesAccumulator>(emit: emit)
        return try await endpoint.send(body, model: endpoint.model(of: request), events: events) { head, parts in
            if OpenAIEndpoint.isJSON(head) {
                var accumulator = ResponsesAccumulator()
                try accumulator.consumeWholeResponse(try await endpoint.wholeBody(&parts)).forEach(events.pass)
                return accumulator.completion
            }
            let accumulator = try await endpoint.readEvents(&parts, events)
            guard accumulator.isFinished else { throw endpoint.brokeOff() }
            return accumulator.completion
        }
    }
}

extension ResponsesAccumulator: AnswerEventReader {
    mutating func read(_ event: SSEEvent) throws -> (events: [ChatEvent], more: Bool) {
        (try consume(event.data, eventType: event.event), !isFinished)
    }
}
