/// How `agent-repl serve` listens and whom it answers.
public struct ServerOptions: Sendable {
    public var host = "127.0.0.1"
    /// 0: any free port (reported once listening).
    public var port = 8000
    /// The bearer token every API request must carry; nil: none needed (loopback only).
    public var token: String?
    /// Request bodies above this are refused with 413.
    public var bodyLimit = 1 << 20
    /// After SIGTERM: how long running tasks may take to end before they are cancelled.
    public var drainGrace: Duration = .seconds(10)
    /// Whether stopping drains and shuts down the scheduler (`serve`, which owns it), or only stops
    /// answering (`/serve` in a chat, whose scheduler goes on).
    public var drainsScheduler = true

    public init() {}

    /// Whether the host is a loopback address, which may go without a token.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Why the server must not start as configured, if it must not.
    public var refusal: String? {
        if let token, token.count < 16 || token.count > 512 {
            return "The token must have 16 to 512 characters."
        }
        if token == nil, !isLoopback {
            return "Serving on \(host), which is not a loopback address, needs a bearer token that every client must send; without one anyone who can reach the address could run tools."
        }
        return nil
    }
}
