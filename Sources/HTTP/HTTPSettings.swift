/// How a transfer connects: redirects and time limits. The transport applies these, and its fixed
/// proxy and TLS policy, in one place (`CurlTransport`'s `configure`).
///
/// Fixed policy, not settable:
/// - Proxies: libcurl reads `http_proxy`, `https_proxy`/`HTTPS_PROXY`, `all_proxy`/`ALL_PROXY` and
///   `no_proxy`/`NO_PROXY` from the environment itself (not upper-case `HTTP_PROXY`, by libcurl's design).
///   Nothing here overrides them; put `127.0.0.1,localhost` in `no_proxy` to keep loopback servers direct.
/// - TLS: the peer's certificate and host name are verified against the system's CA store.
/// - Schemes: only `http` and `https`, for the first request and for every redirect.
/// - The user agent is `agent-repl/<version>`.
public struct HTTPSettings: Sendable, Hashable {
    /// Whether 3xx answers with a Location are followed.
    public var followRedirects: Bool
    /// How many redirects are followed before the transfer fails.
    public var maxRedirects: Int
    /// How long connecting (DNS, TCP, TLS) may take.
    public var connectTimeout: Duration
    /// How long the server may send nothing at all before the transfer is abandoned; nil: no limit
    /// (the caller owns time and cancels).
    public var idleTimeout: Duration?

    public init(followRedirects: Bool = false, maxRedirects: Int = 5, connectTimeout: Duration = .seconds(10), idleTimeout: Duration? = nil) {
        self.followRedirects = followRedirects
        self.maxRedirects = maxRedirects
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
    }
}
