import Foundation
import HTTP
import JSON

/// When and how long to wait before trying a failed request again.
///
/// openai-python's policy is the reference: at most 2 retries; a delay of `initialDelay` doubling per
/// retry up to `maxDelay`, multiplied by a jitter of `1 - 0.25 * random`; a `retry-after-ms` or
/// `Retry-After` header (seconds or an HTTP date) is honoured instead when it asks for more than 0 and at
/// most `maxRetryAfter`. `x-should-retry: true/false` from the server overrides the status rule.
///
/// The random source, the sleeper and the wall clock are injected so tests run without waiting.
public struct RetryPolicy: Sendable {
    public var maxRetries: Int
    public var initialDelay: Duration
    public var maxDelay: Duration
    /// The longest server-requested wait that is honoured; longer ones fall back to the backoff.
    public var maxRetryAfter: Duration
    /// A number in 0..<1 for the jitter.
    public var random: @Sendable () -> Double
    /// Waits; throws when the waiting task is cancelled.
    public var sleep: @Sendable (Duration) async throws -> Void
    /// The current date, for `Retry-After` given as an HTTP date.
    public var now: @Sendable () -> Date

    public init(
        maxRetries: Int = 2,
        initialDelay: Duration = .milliseconds(500),
        maxDelay: Duration = .seconds(8),
        maxRetryAfter: Duration = .seconds(60),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.maxRetries = maxRetries
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
        self.random = random
        self.sleep = sleep
        self.now = now
    }

    /// No retries at all.
    public static var none: RetryPolicy { RetryPolicy(maxRetries: 0) }

    /// Whether an HTTP answer is worth another try: 408, 409, 429 and 5xx, unless `x-should-retry` says
    /// otherwise. `headers` has lowercased names.
    public func shouldRetry(status: Int, headers: [String: String]) -> Bool {
        switch headers["x-should-retry"]?.lowercased() {
        case "true": return true
        case "false": return false
        default: return status == 408 || status == 409 || status == 429 || status >= 500
        }
    }

    /// The wait before retry number `retriesDone + 1`.
    public func delay(afterRetries retriesDone: Int, headers: [String: String] = [:]) -> Duration {
        if let requested = retryAfter(headers) { return requested }
        let exponent = Double(min(max(retriesDone, 0), 60))
        let backoff = min(initialDelay / .seconds(1) * pow(2, exponent), maxDelay / .seconds(1))
        let jitter = 1 - 0.25 * random()
        return .seconds(max(0, backoff * jitter))
    }

    /// The wait the server asked for, from `retry-after-ms` or `Retry-After`, when it is more than 0 and
    /// at most `maxRetryAfter`. The number is checked before it becomes a `Duration`: one too large for
    /// it (`1e300`) would trap.
    func retryAfter(_ headers: [String: String]) -> Duration? {
        let limit = maxRetryAfter / .seconds(1)
        func honoured(_ seconds: Double) -> Bool { seconds > 0 && seconds <= limit }  // false for NaN
        if let text = headers["retry-after-ms"], let ms = Double(text.trimmingCharacters(in: .whitespaces)), ms.isFinite {
            return honoured(ms / 1000) ? .milliseconds(ms) : nil
        }
        guard let text = headers["retry-after"]?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(text) { return honoured(seconds) ? .seconds(seconds) : nil }
        if let date = Self.httpDate(text) {
            let seconds = date.timeIntervalSince(now())
            return honoured(seconds) ? .seconds(seconds) : nil
        }
        return nil
    }

    /// Parses an IMF-fixdate such as "Wed, 21 Oct 2015 07:28:00 GMT".
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}
