import HTTP
import JSON

/// Assembles the answer from Chat Completions stream chunks, one SSE `data:` payload at a time.
///
/// Text deltas are concatenated. Tool-call fragments are assembled by their `index`: id, type and name
/// are taken from the first fragment that carries them and never concatenated (some servers repeat them
/// in every fragment); `arguments` fragments are concatenated. `null` content and arguments are
/// tolerated; `arguments` sent as a JSON object (not as text) are that object's JSON text. The usage
/// chunk of `stream_options.include_usage` (with `choices: []`) is recorded. An `{"error": ...}`
/// payload, a payload that is not JSON, and a tool-call index or token count that is not a whole
/// number within `StreamLimits` throw a `ChatError`. A whole non-streaming answer (`message` instead
/// of `delta`) is consumed the same way, as one payload (`consumeWholeAnswer`).
public struct StreamAccumulator: Sendable {
    private struct PartialCall: Sendable {
        var id = ""
        var name = ""
        var arguments = ""
    }

    private var text = ""
    private var sawText = false
    private var calls: [Int: PartialCall] = [:]
    /// A choice with a delta, a message or a finish reason arrived.
    private var sawChoice = false
    public private(set) var finishReason: String?
    public private(set) var usage: Usage?

    public init() {}

    /// Consumes one `data:` payload (not `[DONE]`); returns the events it produces for the caller.
    public mutating func consume(_ payload: String) throws(ChatError) -> [ChatEvent] {
        guard let chunk = try? JSONValue.parse(payload) else {
            throw ChatError(.malformedResponse, "The server sent a stream event that is not valid JSON: \(Self.excerpt(payload))")
        }
        return try consume(chunk, whole: false)
    }

    /// Consumes a whole non-streaming answer (`chat.completion`, one `application/json` body): the
    /// same rules as a chunk, except that each entry of `message.tool_calls` is a whole call of its
    /// own (at its position, unless it names an `index`). An empty answer, one that is not JSON, and
    /// one that holds no choice with a message or finish reason throw.
    public mutating func consumeWholeAnswer(_ body: String) throws(ChatError) -> [ChatEvent] {
        if body.allSatisfy(\.isWhitespace) {
            throw ChatError(.malformedResponse, "The server sent an empty answer.")
        }
        guard let answer = try? JSONValue.parse(body) else {
            throw ChatError(.malformedResponse, "The server sent an answer that is not valid JSON: \(Self.excerpt(body))")
        }
        let events = try consume(answer, whole: true)
        guard sawChoice else {
            throw ChatError(.malformedResponse, "The server sent an answer without a message (no choices[0].message): \(Self.excerpt(body))")
        }
        return events
    }

    private mutating func consume(_ chunk: JSONValue, whole: Bool) throws(ChatError) -> [ChatEvent] {
        if let error = chunk["error"], error != .null {
            throw ChatError(.streamError, "The server reported an error during the answer: \(Self.errorMessage(error)).")
        }
        if let value = chunk["usage"], let usage = try Usage.parse(value, fields: .chatCompletions) { self.usage = usage }
        guard let choice = chunk["choices"]?.arrayValue?.first(where: { ($0["index"]?.numberValue ?? 0) == 0 }) else {
            return []
        }
        var events: [ChatEvent] = []
        if let delta = choice["delta"] ?? choice["message"] {
            sawChoice = true
            for key in ["content", "refusal"] {
                if let piece = delta[key]?.stringValue, !piece.isEmpty {
                    text += piece
                    sawText = true
                    events.append(.textDelta(piece))
                }
            }
            for (position, fragment) in (delta["tool_calls"]?.arrayValue ?? []).enumerated() {
                try mergeToolCall(fragment, position: position, inWholeAnswer: whole)
            }
        }
        if let reason = choice["finish_reason"]?.stringValue {
            finishReason = reason
            sawChoice = true
        }
        return events
    }

    /// The answer assembled so far, tool calls in index order.
    ///
    /// Every call gets an id of its own, as the tool results must name their call: a call sent without
    /// one becomes `call_<index>`, and one whose id an earlier call of the message already has (some
    /// servers number every call "0") gets `_<index>` added. The server only ever sees these ids back.
    public var completion: ChatCompletion {
        var taken = Set<String>()
        let toolCalls = calls.keys.sorted().map { index in
            let call = calls[index]!
            var id = call.id.isEmpty ? "call_\(index)" : call.id
            while taken.contains(id) { id += "_\(index)" }
            taken.insert(id)
            return ToolCall(id: id, name: call.name, arguments: call.arguments)
        }
        return ChatCompletion(content: sawText ? text : nil, toolCalls: toolCalls, finishReason: finishReason, usage: usage)
    }

    /// Merges one tool-call fragment into the call it belongs to; in a whole answer a fragment
    /// without an `index` is the call at its `position`.
    private mutating func mergeToolCall(_ fragment: JSONValue, position: Int, inWholeAnswer: Bool) throws(ChatError) {
        let id = fragment["id"]?.stringValue ?? ""
        let index: Int
        if let explicit = fragment["index"], explicit.numberValue != nil {
            guard let whole = explicit.wholeNumber(in: 0...StreamLimits.maxToolCallIndex) else {
                throw ChatError(
                    .malformedResponse,
                    "The server sent a tool call whose index is \(Self.excerpt(explicit.jsonString)), not a whole number from 0 to \(StreamLimits.maxToolCallIndex).")
            }
            index = whole
        } else if inWholeAnswer {
            index = position
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
            switch function["arguments"] {
            case .string(let piece)?: call.arguments += piece
            case .null?, nil: break
            case let whole?: call.arguments += whole.jsonString  // some servers send the object itself
            }
        }
        calls[index] = call
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
