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
public struct ResponsesClient: ChatModel {
    public var configuration: OpenAIConfiguration { endpoint.configuration }
    private let endpoint: OpenAIEndpoint

    public init(configuration: OpenAIConfiguration, transport: any HTTPTransport = CurlTransport()) {
        endpoint = OpenAIEndpoint(configuration: configuration, transport: transport, path: "/responses")
    }

    /// "gpt-5-mini at https://api.openai.com/v1".
    public var displayName: String { endpoint.displayName }

    /// Streams one answer: `.textDelta` as text arrives, `.toolCallReady` as each call is complete,
    /// then exactly one `.completed`. Terminating the stream (or cancelling its consumer) cancels the
    /// HTTP transfer at once.
    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        endpoint.stream { emit in try await answer(request, emit: emit) }
    }

    private func answer(_ request: ChatRequest, emit: @escaping @Sendable (ChatEvent) -> Void) async throws -> ChatCompletion {
        let body = ResponsesRequestBody.data(for: endpoint.resolved(request), stream: configuration.streams)
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
