import HTTP
import JSON
/// A failure of a call to the model, as a sentence a user can act on, with a code programs can match.
///
/// The message never holds the API key: every message that may carry text from the server goes through
/// `redacting(_:)` before it leaves the client.
public struct ChatError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// No key is configured for an endpoint that needs one.
        case missingAPIKey
        /// 401.
        case invalidAPIKey
        /// 403.
        case permissionDenied
        /// 404 naming the model.
        case modelNotFound
        /// 404 for the endpoint itself: a wrong base URL.
        case endpointNotFound
        /// 400 and other 4xx answers: the server's own message.
        case badRequest
        /// 429 that outlasted its retries.
        case rateLimited
        /// 5xx that outlasted its retries.
        case serverError
        case connectionRefused
        case hostNotFound
        /// No connection within the connect timeout.
        case connectTimeout
        /// No byte from the server within the idle timeout.
        case idleTimeout
        /// TLS handshake or certificate failure.
        case tlsFailure
        /// Any other transport failure, including a stream that broke off.
        case connectionFailed
        /// The stream ended before the answer was complete.
        case incompleteResponse
        /// The server sent something that is not the expected JSON.
        case malformedResponse
        /// One event or one whole answer was larger than `StreamLimits.maxEventBytes`.
        case responseTooLarge
        /// The server reported an error inside the stream (`{"error": ...}` as an event).
        case streamError
    }

    public var code: Code
    public var message: String
    /// The HTTP status, when the error came from one.
    public var status: Int?

    public init(_ code: Code, _ message: String, status: Int? = nil) {
        self.code = code
        self.message = message
        self.status = status
    }

    public var description: String { message }

    /// The same error with `secrets` and anything shaped like an API key or bearer token masked.
    public func redacting(_ secrets: [String]) -> ChatError {
        var copy = self
        copy.message = Redaction.redact(message, secrets: secrets)
        return copy
    }
}

/// Masks API keys in text that may have come from a server or a library.
public enum Redaction {
    public static let mask = "[redacted]"

    /// Replaces every occurrence of each secret, then `sk-…` key shapes and `Bearer …` tokens.
    public static func redact(_ text: String, secrets: [String]) -> String {
        var out = text
        for secret in secrets where secret.count >= 4 {
            out = out.replacing(secret, with: mask)
        }
        out = out.replacing(#/sk-[A-Za-z0-9_\-*.]{4,}/#, with: mask)
        out = out.replacing(#/(?i)bearer\s+[^\s"',]*[^\s"',.]/#, with: "Bearer \(mask)")
        return out
    }
}
