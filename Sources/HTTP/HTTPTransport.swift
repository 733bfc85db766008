import Foundation

/// One HTTP request as the chat client needs it: a POST with headers and a body, and its time limits.
public struct HTTPRequest: Sendable {
    public var url: String
    public var method: String
    /// Header names and values, in order.
    public var headers: [(name: String, value: String)]
    public var body: Data
    /// How long connecting (DNS, TCP, TLS) may take.
    public var connectTimeout: Duration
    /// How long the server may send nothing at all before the transfer is abandoned.
    public var idleTimeout: Duration
    /// Called on the transport's thread with the arrival time of each body chunk (a latency probe).
    public var onBodyChunk: (@Sendable (ContinuousClock.Instant) -> Void)?

    public init(
        url: String, method: String = "POST", headers: [(name: String, value: String)] = [], body: Data = Data(),
        connectTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(180),
        onBodyChunk: (@Sendable (ContinuousClock.Instant) -> Void)? = nil
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.onBodyChunk = onBodyChunk
    }
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
        /// The request could not be set up (bad URL, library failure).
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

/// Sends HTTP requests and streams their answers; the chat client's only way to the network.
///
/// Terminating the returned stream (the consumer's task is cancelled, or it stops iterating) must
/// cancel the transfer at once. A transport throws `TransportError` for network failures; HTTP error
/// statuses are ordinary answers.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) -> AsyncThrowingStream<HTTPResponsePart, any Error>
}
