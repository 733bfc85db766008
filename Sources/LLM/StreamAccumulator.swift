import HTTP
import JSON

/// Assembles the answer from Chat Completions stream chunks, one SSE `data:` payload at a time.
///
/// Text deltas are concatenated. Tool-call fragments are assembled by their `index`: id, type and name
/// are taken from the first fragment that carries them and never concatenated (some servers repeat them
/// in every fragment); `arguments` fragments are concatenated. `null` content and arguments are
/// tolerated. The usage chunk of `stream_options.include_usage` (with `choices: []`) is recorded. An
/// `{"error": ...}` payload or a payload that is not JSON throws a `ChatError`.
public struct StreamAccumulator: Sendable {
    private struct PartialCall: Sendable {
        var id = ""
        var name = ""
        var arguments = ""
    }

    private var text = ""
    private var sawText = false
    private var calls: [Int: PartialCall] = [:]
    public private(set) var finishReason: String?
    public private(set) var usage: Usage?

    public init() {}

    /// Consumes one `data:` payload (not `[DONE]`); returns the events it produces for the caller.
    public mutating func consume(_ payload: String) throws(ChatError) -> [ChatEvent] {
        let chunk: JSONValue
        do {
            chunk = try JSONValue.parse(payload)
        } catch {
            throw ChatError(.malformedResponse, "The server sent a stream event that is not valid JSON: \(Self.excerpt(payload))")
        }
        if let error = chunk["error"], error != .null {
            throw ChatError(.streamError, "The server reported an error during the answer: \(Self.errorMessage(error)).")
        }
        if let usage = chunk["usage"].flatMap(Self.usage(from:)) { self.usage = usage }
        guard let choice = chunk["choices"]?.arrayValue?.first(where: { ($0["index"]?.numberValue ?? 0) == 0 }) else {
            return []
        }
        var events: [ChatEvent] = []
        if let delta = choice["delta"] ?? choice["message"] {
            for key in ["content", "refusal"] {
                if let piece = delta[key]?.stringValue, !piece.isEmpty {
                    text += piece
                    sawText = true
                    events.append(.textDelta(piece))
                }
            }
            for (position, fragment) in (delta["tool_calls"]?.arrayValue ?? []).enumerated() {
                mergeToolCall(fragment, position: position)
            }
        }
        if let reason = choice["finish_reason"]?.stringValue { finishReason = reason }
        return events
    }

    /// The answer assembled so far, tool calls in index order.
    public var completion: ChatCompletion {
        let toolCalls = calls.keys.sorted().map { index in
            let call = calls[index]!
            return ToolCall(id: call.id, name: call.name, arguments: call.arguments)
        }
        return ChatCompletion(content: sawText ? text : nil, toolCalls: toolCalls, finishReason: finishReason, usage: usage)
    }

    /// Merges one tool-call fragment into the call it belongs to.
    private mutating func mergeToolCall(_ fragment: JSONValue, position: Int) {
        let id = fragment["id"]?.stringValue ?? ""
        let index: Int
        if let explicit = fragment["index"]?.numberValue {
            index = Int(explicit)
        } else if !id.isEmpty, let known = calls.first(where: { $0.value.id == id })?.key {
            index = known  // servers that omit `index` but repeat the id
        } else if !id.isEmpty {
            index = (calls.keys.max() ?? -1) + 1
        } else {
            index = calls.keys.max() ?? position
        }
        var call = calls[index] ?? PartialCall()
        if call.id.isEmpty, !id.isEmpty { call.id = id }
        if let function = fragment["function"] {
            if call.name.isEmpty, let name = function["name"]?.stringValue, !name.isEmpty { call.name = name }
            if let piece = function["arguments"]?.stringValue { call.arguments += piece }
        }
        calls[index] = call
    }

    static func usage(from value: JSONValue) -> Usage? {
        guard let prompt = value["prompt_tokens"]?.numberValue, let completion = value["completion_tokens"]?.numberValue
        else { return nil }
        let total = value["total_tokens"]?.numberValue ?? prompt + completion
        return Usage(promptTokens: Int(prompt), completionTokens: Int(completion), totalTokens: Int(total))
    }

    /// The human part of an OpenAI-style error object (`{"message": ..., "code": ...}`) or a plain string.
    static func errorMessage(_ error: JSONValue) -> String {
        if let text = error.stringValue { return text }
        if let message = error["message"]?.stringValue, !message.isEmpty { return message }
        return excerpt(error.jsonString)
    }

    static func excerpt(_ text: String, limit: Int = 200) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }
}
