import Foundation
import HTTP
import JSON

/// Where and how `OpenAIClient` talks to an OpenAI-compatible Chat Completions endpoint.
public struct OpenAIConfiguration: Sendable {
    public static let defaultBaseURL = "https://api.openai.com/v1"

    /// The API root without a trailing slash, e.g. "https://api.openai.com/v1"; requests go to
    /// `<baseURL>/chat/completions`.
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
    /// Debug probe: called on the transport's thread with the arrival time of every body chunk.
    public var onBodyChunk: (@Sendable (ContinuousClock.Instant) -> Void)?

    public init(
        baseURL: String = OpenAIConfiguration.defaultBaseURL,
        apiKey: String?,
        model: String,
        connectTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(180),
        retryPolicy: RetryPolicy = RetryPolicy(),
        onBodyChunk: (@Sendable (ContinuousClock.Instant) -> Void)? = nil
    ) {
        self.baseURL = Self.trimmingTrailingSlashes(baseURL)
        self.apiKey = apiKey
        self.model = model
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.retryPolicy = retryPolicy
        self.onBodyChunk = onBodyChunk
    }

    /// `url` without trailing slashes: the form every base URL is kept in.
    public static func trimmingTrailingSlashes(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    /// The base URL as shown to users.
    public var displayBaseURL: String {
        var url = baseURL
        // Credentials in the URL itself (https://user:secret@host) are never shown.
        if var components = URLComponents(string: url), components.user != nil || components.password != nil {
            components.user = nil
            components.password = nil
            url = components.string ?? url
        }
        return url
    }

    public var chatCompletionsURL: String { baseURL + "/chat/completions" }

    /// A server on this machine or the local network, which usually needs no key.
    public var isLocalEndpoint: Bool {
        guard let host = URLComponents(string: baseURL)?.host?.lowercased() else { return false }
        return host == "localhost" || host == "::1" || host == "[::1]" || host == "0.0.0.0"
            || host.hasPrefix("127.") || host.hasSuffix(".local") || host.hasSuffix(".localhost")
    }
}
