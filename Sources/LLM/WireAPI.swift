/// Which of OpenAI's two APIs a session speaks to its endpoint.
public enum WireAPI: String, Sendable, CaseIterable {
    /// Chat Completions (`POST /chat/completions`): `OpenAIClient`. Every OpenAI-compatible server has it.
    case chat
    /// The Responses API (`POST /responses`): `ResponsesClient`. Reasoning models keep their reasoning
    /// across tool calls only here.
    case responses
}
