import Foundation

/// One HTTP request: any method, headers, an optional body, how to connect, and an optional cap on the body.
public struct HTTPRequest: Sendable {
    public var url: String
    /// Any method, as sent. "HEAD" asks for the head only.
    public var method: String
    /// Header names and values, in order.
    public var headers: [(name: String, value: String)]
    /// Sent as is, with its Content-Length; nil sends no body.
    public var body: Data?
    public var settings: HTTPSettings
    /// The most body bytes the transport delivers. When the server sends more, the transport delivers
    /// exactly this many, stops the transfer (the rest is never downloaded) and ends the answer with
    /// `TransportError(.bodyTooLarge)`. nil: no cap. `fetch(_:limit:)` sets it.
    public var maxBodyBytes: Int?
    /// Called on the transport's thread with the arrival time of each body chunk (a latency probe).
    public var onBodyChunk: (@Sendable (ContinuousClock.Instant) -> Void)?
    /// Takes the body on the transport's own thread, when it wants it (see ``HTTPBodyConsumer``).
    public var bodyConsumer: (any HTTPBodyConsumer)?

    public init(
        url: String, method: String = "GET", headers: [(name: String, value: String)] = [], body: Data? = nil,
        settings: HTTPSettings = HTTPSettings(), maxBodyBytes: Int? = nil,
        onBodyChunk: (@Sendable (ContinuousClock.Instant) -> Void)? = nil, bodyConsumer: (any HTTPBodyConsumer)? = nil
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.settings = settings
        self.maxBodyBytes = maxBodyBytes
        self.onBodyChunk = onBodyChunk
        self.bodyConsumer = bodyConsumer
    }
}

/// Reads an answer's body on the transport's own thread, chunk by chunk as it arrives, instead of
/// the response stream: for a reader that must act on a byte the moment it comes (the model client
/// cuts its event stream here, so that a tool call complete in the stream starts without waiting for
/// another thread to be scheduled).
///
/// The response stream still yields the head; then, for a body the consumer took, no `.body` parts:
/// it ends when the body ends or as soon as `consume` wants no more, and fails with what `consume`
/// threw. `maxBodyBytes` does not apply to a taken body (the consumer keeps its own limits).
public protocol HTTPBodyConsumer: Sendable {
    /// Whether this answer's body goes to `consume`; asked once per answer, with its head, before
    /// any of its body.
    func takesBody(of head: HTTPResponseHead) -> Bool
    /// One chunk of a taken body, in order, on the transport's thread (every transfer of the process
    /// waits meanwhile: do little). Returns false once it wants no more: the stream ends at once, and
    /// the transfer is stopped if more comes. A throw stops the transfer and fails the stream with it.
    func consume(_ chunk: UnsafeRawBufferPointer) throws -> Bool
}

/// The status line and headers of an answer. Header names are lowercased; a repeated header keeps its last value.
public struct HTTPResponseHead: Sendable, Hashable {
    public var status: Int
    public var headers: [String: String]

    public init(status: Int, headers: [String: String] = [:]) {
        self.status = status
        self.headers = headers
    }
}

/// What a transfer yields: the head exactly once and first, then body bytes as they arrive.
public enum HTTPResponsePart: Sendable, Hashable {
    case head(HTTPResponseHead)
    case body(Data)
}

/// A whole answer, read by `fetch(_:limit:)` up to a byte limit.
public struct HTTPResponse: Sendable, Hashable {
    public var head: HTTPResponseHead
    /// The body, at most the limit's worth of bytes.
    public var body: Data
    /// True when the server had more to send than the limit: `body` is its beginning.
    public var isTruncated: Bool

    public init(head: HTTPResponseHead, body: Data, isTruncated: Bool = false) {
        self.head = head
        self.body = body
        self.isTruncated = isTruncated
    }
}

/// A failure to exchange bytes with the server (as opposed to an HTTP error status).
public struct TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        case connectionRefused
        case hostNotFound
        case connectTimeout
        case idleTimeout
        case tlsFailure
        /// The connection broke or closed early.
        case connectionLost
        /// The body was longer than the request's `maxBodyBytes`; the transfer was stopped there.
        case bodyTooLarge
        /// The request could not be set up (bad URL, unsupported scheme, library failure).
        case setupFailed
    }

    public var code: Code
    /// The library's own explanation, for logs and the rare unmapped case.
    public var detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { detail }
}

/// Sends HTTP requests; the one way to the network for the model client and the `http` tools.
///
/// `send` streams an answer; ending it early (see ``HTTPResponseStream``) must cancel the transfer at
/// once. A transport throws `TransportError` for network failures; HTTP error statuses are ordinary
/// answers.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) -> HTTPResponseStream
}

extension HTTPTransport {
    /// Sends `request` and reads the whole answer, keeping at most `limit` body bytes. The transfer stops
    /// as soon as the body passes the limit (the rest is not downloaded); the response says it was cut.
    /// Cancelling the calling task cancels the transfer and throws `CancellationError`.
    public func fetch(_ request: HTTPRequest, limit: Int) async throws -> HTTPResponse {
        var limited = request
        limited.maxBodyBytes = limit
        var parts = send(limited).makeAsyncIterator()
        let head = try await parts.head()
        let (body, isTruncated) = try await parts.collectBody(limit: limit)
        return HTTPResponse(head: head, body: body, isTruncated: isTruncated)
    }
}
