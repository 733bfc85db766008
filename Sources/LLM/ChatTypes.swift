import HTTP
import JSON

/// One function call the model asked for. `arguments` is the JSON text exactly as the model sent it.
public struct ToolCall: Sendable, Hashable {
    public var id: String
    public var name: String
    public var arguments: String

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

/// A message of the conversation, in the shapes Chat Completions accepts.
public enum ChatMessage: Sendable, Hashable {
    case system(String)
    case user(String)
    /// `outputItems`: the Responses API's output items of this answer as the server sent them
    /// (reasoning with its encrypted content, messages, function calls; a call's streamed arguments
    /// filled in when its item lacked them), which the next Responses request carries back because
    /// nothing is stored on the server; empty for Chat Completions, whose request body ignores them.
    case assistant(content: String?, toolCalls: [ToolCall], outputItems: [JSONValue] = [])
    case tool(callID: String, content: String)
}

/// A function the model may call: name, description and JSON Schema of its arguments.
public struct ToolDefinition: Sendable, Hashable {
    public var name: String
    public var description: String
    public var parameters: JSONValue

    public init(name: String, description: String, parameters: JSONValue) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }
}

/// Everything one call to the model needs.
public struct ChatRequest: Sendable, Hashable {
    public var model: String
    public var messages: [ChatMessage]
    public var tools: [ToolDefinition]
    /// `"auto"`, `"none"`, `"required"`, or nil to leave the field out.
    public var toolChoice: String?
    public var parallelToolCalls: Bool?

    public init(
        model: String, messages: [ChatMessage], tools: [ToolDefinition] = [],
        toolChoice: String? = nil, parallelToolCalls: Bool? = nil
    ) {
        self.model = model
        self.messages = messages
        self.tools = tools
        self.toolChoice = toolChoice
        self.parallelToolCalls = parallelToolCalls
    }
}

/// The tokens of one model call, as the server counted them. `prompt` is the input (Responses:
/// `input_tokens`), `completion` the output (`output_tokens`); the cached part of the input and the
/// reasoning part of the output are nil when the server does not say.
public struct Usage: Sendable, Hashable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int
    public var cachedPromptTokens: Int?
    public var reasoningTokens: Int?

    public init(promptTokens: Int, completionTokens: Int, totalTokens: Int, cachedPromptTokens: Int? = nil, reasoningTokens: Int? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = totalTokens
        self.cachedPromptTokens = cachedPromptTokens
        self.reasoningTokens = reasoningTokens
    }
}

/// The model's whole answer to one request: text, tool calls, or both.
public struct ChatCompletion: Sendable, Hashable {
    public var content: String?
    public var toolCalls: [ToolCall]
    public var finishReason: String?
    public var usage: Usage?
    /// The Responses API's output items, as they came (see `ChatMessage.assistant`); empty otherwise.
    public var outputItems: [JSONValue]
    /// Requests the client repeated (per `RetryPolicy`) before this answer came.
    public var httpRetries = 0

    public init(
        content: String?, toolCalls: [ToolCall] = [], finishReason: String? = nil, usage: Usage? = nil,
        outputItems: [JSONValue] = []
    ) {
        self.content = content
        self.toolCalls = toolCalls
        self.finishReason = finishReason
        self.usage = usage
        self.outputItems = outputItems
    }

    /// The assistant message to append to the conversation.
    public var message: ChatMessage { .assistant(content: content, toolCalls: toolCalls, outputItems: outputItems) }
}

/// What a streaming call yields: text as it arrives, then the whole answer once.
public enum ChatEvent: Sendable, Hashable {
    case textDelta(String)
    case completed(ChatCompletion)
    /// A sentence for the user about how the session goes on from here (e.g. that answers no longer
    /// stream); sent once, before the text of the answer it concerns.
    case notice(String)
    /// One tool call is complete in the stream (its arguments will not grow), sent as soon as that is
    /// known, before `.completed`, in call order. A consumer may start the call at once; `.completed`
    /// still lists every call. A model that cannot tell early sends none.
    case toolCallReady(ToolCall)
}

/// Anything that answers chat requests: the libcurl client for a real endpoint, or the offline demo model.
public protocol ChatModel: Sendable {
    /// Shown in the banner and by `/model`, e.g. "gpt-4o-mini at https://api.openai.com/v1".
    var displayName: String { get }
    /// Streams one answer. The stream ends with exactly one `.completed`, or throws.
    /// Cancelling the consuming task cancels the request at once.
    func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error>
    /// The same answer, its events but `.completed` passed to `events` in order as each is known, on
    /// the thread that learned it (the HTTP transport's, for the OpenAI clients: a ready tool call can
    /// start there, with no thread hop), all before it returns the completion. Cancelling the calling
    /// task cancels the request at once. The default reads `stream` on the caller's task.
    func answer(_ request: ChatRequest, events: @escaping @Sendable (ChatEvent) -> Void) async throws -> ChatCompletion
}

extension ChatModel {
    public func answer(_ request: ChatRequest, events: @escaping @Sendable (ChatEvent) -> Void) async throws -> ChatCompletion {
        var completion: ChatCompletion?
        for try await event in stream(request) {
            if case .completed(let whole) = event { completion = whole } else { events(event) }
        }
        guard let completion else {
            // Also how a stream whose consumer was cancelled ends: silently.
            try Task.checkCancellation()
            throw ChatError(.incompleteResponse, "The model's answer ended before it was complete.")
        }
        return completion
    }
}
