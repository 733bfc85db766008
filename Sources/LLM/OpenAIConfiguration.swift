import Foundation
import HTTP
import JSON

/// Where and how `OpenAIClient` (Chat Completions) or `ResponsesClient` (the Responses API) talks to
/// an OpenAI-compatible endpoint.
public struct OpenAIConfiguration: Sendable {
    public static let defaultBaseURL = "https://api.openai.com/v1"

    /// The API root without a trailing slash, e.g. "https://api.openai.com/v1"; requests go to
    /// `<baseURL>/chat/completions` or `<baseURL>/responses`.
    public let baseURL: String
    /// Sent as `Authorization: Bearer <key>`; may be nil for a local server. Never printed.
    public var apiKey: String?
    /// The model used when a request names none.
    public var model: String
    /// How long connecting may take.
    public var connectTimeout: Duration
    /// How long the server may stay silent, before its first byte and between chunks.
    public var idleTimeout: Duration
    public var retryPolicy: RetryPolicy
    /// Whether requests ask for a streamed answer (SSE). When false (`--no-stream`, `AGENT_STREAM=0`)
    /// every request asks for one whole JSON answer; when true the client still stops streaming for a
    /// model whose server cannot stream tool calls (see `StreamingFallback`).
    public var streams: Bool
    /// Debug probe: called on the transport's thread with the arrival time of every body chunk.
    public var onBodyChunk: (@Sendable (ContinuousClock.Instant) -> Void)?

    public init(
        baseURL: String = OpenAIConfiguration.defaultBaseURL,
        apiKey: String?,
        model: String,
        connectTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(180),
        retryPolicy: RetryPolicy = RetryPolicy(),
        streams: Bool = true,
        onBodyChunk: (@Sendable (ContinuousClock.Instant) -> Void)? = nil
    ) {
        self.baseURL = Self.trimmingTrailingSlashes(baseURL)
        self.apiKey = apiKey
        self.model = model
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.retryPolicy = retryPolicy
        self.streams = streams
        self.onBodyChunk = onBodyChunk
    }

    /// `url` without trailing slashes: the form every base URL is kept in.
    public static func trimmingTrailingSlashes(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    /// The base URL as shown to users: without its user and password.
    public var displayBaseURL: String { Self.withoutCredentials(baseURL) }

    /// `url` without the user and password before its host (`https://user:secret@host/v1` →
    /// `https://host/v1`), whether or not the rest of it parses: credentials are never shown.
    public static func withoutCredentials(_ url: String) -> String {
        url.replacing(#/^(?<scheme>[A-Za-z][A-Za-z0-9+.\-]*:\/\/)[^\/?#]*@/#) { "\($0.scheme)" }
    }

    /// The password in the base URL, if any (masked wherever a server or library repeats it).
    var urlPassword: String? {
        URLComponents(string: baseURL)?.password.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A server on this machine or the local network, which usually needs no key.
    public var isLocalEndpoint: Bool {
        guard let host = URLComponents(string: baseURL)?.host?.lowercased() else { return false }
        return host == "localhost" || host == "::1" || host == "[::1]" || host == "0.0.0.0"
            || host.hasPrefix("127.") || host.hasSuffix(".local") || host.hasSuffix(".localhost")
    }
}
