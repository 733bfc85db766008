import LLM

/// One answered call to the model, as the agent loop measured it (`TurnEvent.modelCallEnded`).
public struct ModelCall: Sendable, Equatable {
    /// The tokens as the server counted them; nil when it sent no usage (then they are unknown, not zero).
    public var usage: Usage?
    /// From the start of the request to the end of the answer.
    public var duration: Duration
    /// From the start of the request to the first text or tool call of the answer; nil when the
    /// answer had neither.
    public var timeToFirstToken: Duration?
    /// Requests the client repeated before the answer came (rate limits, 5xx, connection errors).
    public var httpRetries: Int

    public init(usage: Usage?, duration: Duration, timeToFirstToken: Duration?, httpRetries: Int = 0) {
        self.usage = usage
        self.duration = duration
        self.timeToFirstToken = timeToFirstToken
        self.httpRetries = httpRetries
    }
}
