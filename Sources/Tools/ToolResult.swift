import JSON
/// How one tool call ended: what the model reads, and what the scheduler counts.
public struct ToolResult: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        case success
        /// The tool ran and failed: non-zero exit, HTTP error status, builtin error, spawn failure.
        case failed
        case timedOut = "timed_out"
        case cancelled
        /// The user said no to a `confirm: true` tool.
        case declined
        /// The arguments were not JSON or broke the tool's schema; nothing ran.
        case invalidArguments = "invalid_arguments"
    }

    public var outcome: Outcome
    /// Standard output, response body or builtin output; capped, with a note when cut.
    public var output: String
    /// A sentence for the model when the call did not succeed.
    public var error: String?
    public var exitCode: Int32?
    /// The signal that ended the tool's process, when one did (exec tools).
    public var signal: Int32?
    /// The last few KiB of standard error (exec tools).
    public var stderrTail: String?
    /// The response status (http tools).
    public var httpStatus: Int?
    /// CPU time the tool's processes used (exec tools: the reaped child and the descendants it reaped).
    public var cpuTime: Duration?

    public init(
        outcome: Outcome, output: String = "", error: String? = nil, exitCode: Int32? = nil, signal: Int32? = nil,
        stderrTail: String? = nil, httpStatus: Int? = nil
    ) {
        self.outcome = outcome
        self.output = output
        self.error = error
        self.exitCode = exitCode
        self.signal = signal
        self.stderrTail = stderrTail
        self.httpStatus = httpStatus
    }

    public var ok: Bool { outcome == .success }

    public static func success(_ output: String) -> ToolResult { ToolResult(outcome: .success, output: output) }

    public static func failure(_ error: String, outcome: Outcome = .failed) -> ToolResult {
        ToolResult(outcome: outcome, error: error)
    }

    /// The text of the `tool` message sent back to the model.
    public var modelContent: String {
        if ok { return output }
        var parts = ["error: \(error ?? "the tool failed")"]
        if let stderr = stderrTail?.trimmingTrailingWhitespace(), !stderr.isEmpty { parts.append("stderr:\n\(stderr)") }
        if !output.isEmpty { parts.append("output:\n\(output)") }
        return parts.joined(separator: "\n")
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var s = Substring(self)
        while let last = s.last, last.isWhitespace { s.removeLast() }
        return String(s)
    }
}
