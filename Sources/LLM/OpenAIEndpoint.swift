import Foundation
import HTTP
import JSON
import Synchronization

/// What the two OpenAI clients (`OpenAIClient` for Chat Completions, `ResponsesClient` for the
/// Responses API) share, in one copy: the stream handed to the caller, sending a request with
/// retries per `RetryPolicy` until the first event reaches the caller, reading SSE events or one
/// whole JSON body within `StreamLimits`, and turning every failure into a `ChatError` sentence
/// without the API key.
struct OpenAIEndpoint: Sendable {
    let configuration: OpenAIConfiguration
    let transport: any HTTPTransport
    /// Below the base URL: "/chat/completions" or "/responses".
    let path: String

    /// "gpt-4o-mini at https://api.openai.com/v1".
    var displayName: String {
        Redaction.redact("\(configuration.model) at \(configuration.displayBaseURL)", secrets: secrets)
    }

    // MARK: - The caller's answer

    /// Runs `body`, which answers one request: its retries (however many requests it sends) are
    /// counted into the completion, and its errors reach the caller as `publicError` makes them.
    func answer(_ body: () async throws -> ChatCompletion) async throws -> ChatCompletion {
        do {
            let retries = RetryCount()
            var completion = try await Self.$retryCount.withValue(retries) { try await body() }
            completion.httpRetries = retries.value
            return completion
        } catch {
            throw publicError(error)
        }
    }

    /// `answer` as a stream, run on a task of its own: what it emits goes to the caller as it comes,
    /// then its completion as `.completed`. Terminating the stream (or cancelling its consumer) cancels
    /// the task and with it the HTTP transfer.
    func stream(
        _ answer: @escaping @Sendable (_ emit: @escaping @Sendable (ChatEvent) -> Void) async throws -> ChatCompletion
    ) -> AsyncThrowingStream<ChatEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<ChatEvent, any Error>.makeStream()
        let task = Task {
            do {
                continuation.yield(.completed(try await answer { continuation.yield($0) }))
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    // MARK: - Sending and retrying

    /// Counts the retries of the answer `stream` is producing (however many requests it sends), for
    /// `ChatCompletion.httpRetries`.
    @TaskLocal static var retryCount: RetryCount?

    /// Sends `body` and hands a 2xx answer's head and body to `consume`; a streamed body goes to
    /// `events` on the transport's thread as it arrives (see `readEvents`). HTTP answers the policy
    /// calls retryable and transport failures are retried, but only while nothing has been delivered
    /// to the caller. With `refusalPossible`, an error answer saying streaming is not supported throws
    /// `StreamingFallback.Refusal` at once, without retries.
    func send<T, Reader>(
        _ body: Data, model: String, refusalPossible: Bool = false, events: StreamedEvents<Reader>,
        consume: (HTTPResponseHead, inout HTTPResponseStream.Iterator) async throws -> T
    ) async throws -> T {
        if (configuration.apiKey ?? "").isEmpty && !configuration.isLocalEndpoint {
            throw ChatError(
                .missingAPIKey,
                "No API key is set for \(configuration.displayBaseURL). Set OPENAI_API_KEY (or put it in .env).")
        }
        let policy = configuration.retryPolicy
        var request = httpRequest(body)
        request.bodyConsumer = events
        var retries = 0
        while true {
            try Task.checkCancellation()
            var parts = transport.send(request).makeAsyncIterator()
            do {
                let head = try await parts.head()
                if (200..<300).contains(head.status) {
                    return try await consume(head, &parts)
                }
                let (errorBody, _) = try await parts.collectBody(limit: Self.errorBodyLimit)
                if refusalPossible, StreamingFallback.saysStreamingIsUnsupported(status: head.status, body: errorBody) {
                    throw StreamingFallback.Refusal()
                }
                if retries < policy.maxRetries, policy.shouldRetry(status: head.status, headers: head.headers) {
                    try await policy.sleep(policy.delay(afterRetries: retries, headers: head.headers))
                    retries += 1
                    Self.retryCount?.increment()
                    continue
                }
                throw httpError(head, body: errorBody, model: model, retries: retries)
            } catch let error as TransportError {
                try Task.checkCancellation()
                guard !events.hasDelivered, retries < policy.maxRetries else {
                    throw transportFailure(error, delivered: events.hasDelivered)
                }
                try await policy.sleep(policy.delay(afterRetries: retries))
                retries += 1
                Self.retryCount?.increment()
            }
        }
    }

    private func httpRequest(_ body: Data) -> HTTPRequest {
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/json"),
            ("Accept", "text/event-stream, application/json"),
        ]
        if let key = configuration.apiKey, !key.isEmpty { headers.append(("Authorization", "Bearer \(key)")) }
        return HTTPRequest(
            url: configuration.baseURL + path, method: "POST", headers: headers, body: body,
            settings: HTTPSettings(connectTimeout: configuration.connectTimeout, idleTimeout: configuration.idleTimeout),
            onBodyChunk: configuration.onBodyChunk)
    }

    /// How much of an error answer's body is read for its message; the transfer stops there.
    private static let errorBodyLimit = 1 << 20

    // MARK: - Reading an answer

    static func isJSON(_ head: HTTPResponseHead) -> Bool {
        (head.headers["content-type"] ?? "").lowercased().hasPrefix("application/json")
    }

    /// The rest of the body as text: one whole JSON answer, at most `StreamLimits.maxEventBytes`.
    func wholeBody(_ parts: inout HTTPResponseStream.Iterator) async throws -> String {
        let (whole, isTruncated) = try await parts.collectBody(limit: StreamLimits.maxEventBytes)
        if isTruncated { throw tooLarge(.answer) }
        return String(decoding: whole, as: UTF8.self)
    }

    /// Waits for the end of a body that `events` took (it reads the events as they arrive) and returns
    /// what its reader made of them. An event over `StreamLimits.maxEventBytes` has stopped the transfer
    /// and throws. Whatever ends this, `events` emits nothing afterwards.
    func readEvents<Reader>(_ parts: inout HTTPResponseStream.Iterator, _ events: StreamedEvents<Reader>) async throws -> Reader {
        defer { events.close() }
        do {
            while try await parts.next() != nil {}  // only the end: the body is `events`'s
            return try events.finish()
        } catch is SSEParser.LimitExceeded {
            throw tooLarge(.streamEvent)
        }
    }

    // MARK: - Errors a user reads

    var secrets: [String] { [configuration.apiKey, configuration.urlPassword].compactMap { $0 } }

    func resolved(_ request: ChatRequest) -> ChatRequest {
        var request = request
        if request.model.isEmpty { request.model = configuration.model }
        return request
    }

    func model(of request: ChatRequest) -> String {
        request.model.isEmpty ? configuration.model : request.model
    }

    /// A stream that ended before the server said the answer was complete.
    func brokeOff() -> ChatError {
        ChatError(
            .incompleteResponse,
            "The answer from \(configuration.displayBaseURL) broke off before it was complete; the turn was not saved.")
    }

    /// What is over the limit: one streamed event (a server streams in small events: this is not a
    /// long answer) or a whole answer sent as one JSON body.
    enum Oversized { case streamEvent, answer }

    func tooLarge(_ what: Oversized) -> ChatError {
        let limit = "agent-repl's limit of \(StreamLimits.maxEventBytes >> 20) MiB"
        let sent = switch what {
        case .streamEvent: "one stream event larger than \(limit) (answers normally stream in small events)"
        case .answer: "an answer larger than \(limit) in one piece"
        }
        let next = what == .answer ? "ask again for a shorter answer" : "you can ask again"
        return ChatError(
            .responseTooLarge,
            "The server at \(configuration.displayBaseURL) sent \(sent), so the answer was abandoned. This turn was dropped; the conversation before it is kept: \(next).")
    }

    /// Cancellation stays a `CancellationError`; everything else becomes a redacted `ChatError`.
    func publicError(_ error: any Error) -> any Error {
        switch error {
        case is CancellationError: return error
        case let error as ChatError: return error.redacting(secrets)
        case let error as TransportError: return transportFailure(error, delivered: false).redacting(secrets)
        default:
            return ChatError(.connectionFailed, "The request to \(configuration.displayBaseURL) failed: \(error).").redacting(secrets)
        }
    }

    private func transportFailure(_ error: TransportError, delivered: Bool) -> ChatError {
        let base = configuration.displayBaseURL
        switch error.code {
        case .connectionRefused:
            return ChatError(.connectionRefused, "Could not connect to \(base): connection refused. Is the server running?")
        case .hostNotFound:
            return ChatError(.hostNotFound, "Could not find the host of \(base). Check the address and the network.")
        case .connectTimeout:
            return ChatError(.connectTimeout, "Could not connect to \(base) within \(Self.seconds(configuration.connectTimeout)). Check the network and the address.")
        case .idleTimeout:
            return ChatError(.idleTimeout, "The server at \(base) sent nothing for \(Self.seconds(configuration.idleTimeout)); the request was abandoned.")
        case .tlsFailure:
            return ChatError(.tlsFailure, "A secure connection to \(base) failed: \(error.detail).")
        case .connectionLost where delivered:
            return ChatError(.connectionFailed, "The connection to \(base) broke off during the answer (\(error.detail)); the turn was not saved.")
        case .connectionLost, .bodyTooLarge, .setupFailed:
            return ChatError(.connectionFailed, "The request to \(base) failed: \(error.detail).")
        }
    }

    private func httpError(_ head: HTTPResponseHead, body: Data, model: String, retries: Int) -> ChatError {
        let base = configuration.displayBaseURL
        let status = head.status
        let json = try? JSONValue.parse(body)
        let error = json?["error"] ?? json
        var message = error.map(StreamAccumulator.errorMessage) ?? ""
        if json == nil { message = StreamAccumulator.excerpt(String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) }
        let serverCode = error?["code"]?.stringValue ?? ""
        let detail = message.isEmpty ? "" : ": \(message)"
        let afterRetries = retries == 1 ? "after 1 retry" : "after \(retries) retries"
        switch status {
        case 401:
            if (configuration.apiKey ?? "").isEmpty {
                return ChatError(.missingAPIKey, "The server at \(base) needs an API key (401). Set OPENAI_API_KEY.", status: status)
            }
            return ChatError(.invalidAPIKey, "The API key was rejected (401). Set OPENAI_API_KEY to a valid key.", status: status)
        case 403:
            return ChatError(.permissionDenied, "Access was denied at \(base) (403)\(detail). Check that the API key may use the model '\(model)'.", status: status)
        case 404 where serverCode == "model_not_found" || message.lowercased().contains("model") || message.contains(model):
            return ChatError(.modelNotFound, "The model '\(model)' was not found at \(base) (404).", status: status)
        case 404:
            return ChatError(.endpointNotFound, "Nothing answers at \(base)\(path) (404). Check the address.", status: status)
        case 429 where serverCode == "insufficient_quota":
            return ChatError(.rateLimited, "The account of this API key has no quota left (429)\(detail).", status: status)
        case 429:
            return ChatError(.rateLimited, "Rate limited (429) \(afterRetries); try again later.", status: status)
        case 500...:
            return ChatError(.serverError, "The server at \(base) failed (\(status)) \(afterRetries); try again later\(detail.isEmpty ? "" : " (\(message))").", status: status)
        default:
            return ChatError(.badRequest, "The server rejected the request (\(status))\(detail).", status: status)
        }
    }

    private static func seconds(_ duration: Duration) -> String {
        let value = duration / .seconds(1)
        return value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
    }
}

/// The retries of one answer (``OpenAIEndpoint/retryCount``).
final class RetryCount: Sendable {
    private let count = Atomic(0)
    var value: Int { count.load(ordering: .relaxed) }
    func increment() { count.add(1, ordering: .relaxed) }
}
