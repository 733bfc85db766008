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

    /// Streams one answer: `.textDelta` as text arrives, `.toolCallReady` as each call is complete,
    /// then exactly one `.completed`. Terminating the stream (or cancelling its consumer) cancels the
    /// HTTP transfer at once.
    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        endpoint.stream { emit in try await answer(request, emit: emit) }
    }

    private func answer(_ request: ChatRequest, emit: @escaping @Sendable (ChatEvent) -> Void) async throws -> ChatCompletion {
        let model = endpoint.model(of: request)
        guard !withoutEncryptedReasoning.contains(model) else {
            return try await answer(request, includeReasoning: false, emit: emit)
        }
        do {
            return try await answer(request, includeReasoning: true, emit: emit)
        } catch let error as ChatError where Self.refusesEncryptedReasoning(error) {
            withoutEncryptedReasoning.insert(model)
            return try await answer(request, includeReasoning: false, emit: emit)
        }
    }

    /// A 400 whose message is about encrypted content (OpenAI's models without reasoning).
    private static func refusesEncryptedReasoning(_ error: ChatError) -> Bool {
        let message = error.message.lowercased()
        return error.status == 400 && (message.contains("encrypted content") || message.contains("encrypted_content"))
    }

    private func answer(
        _ request: ChatRequest, includeReasoning: Bool, emit: @escaping @Sendable (ChatEvent) -> Void
    ) async throws -> ChatCompletion {
        let body = ResponsesRequestBody.data(for: endpoint.resolved(request), stream: configuration.streams, includeReasoning: includeReasoning)
        let delivered = DeliveryFlag()
        return try await endpoint.send(body, model: endpoint.model(of: request), delivered: delivered) { head, parts in
            var accumulator = ResponsesAccumulator()
            func pass(_ events: [ChatEvent]) {
                for event in events {
                    delivered.set()
                    emit(event)
                }
            }
            if OpenAIEndpoint.isJSON(head) {
                pass(try accumulator.consumeWholeResponse(try await endpoint.wholeBody(&parts)))
                return accumulator.completion
            }
            try await endpoint.readEvents(&parts) { event in
                pass(try accumulator.consume(event.data, eventType: event.event))
                return !accumulator.isFinished
            }
            guard accumulator.isFinished else { throw endpoint.brokeOff() }
            return accumulator.completion
        }
    }
}
