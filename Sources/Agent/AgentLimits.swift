/// The limits of the agent loop in one place.
public enum AgentLimits {
    /// The most tool calls run from one assistant message; each call beyond it is answered with an
    /// error result, and the turn goes on.
    public static let maxToolCallsPerMessage = 256
}
