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
///
/// Ready calls (`ChatEvent.toolCallReady`), each reported exactly once, in index order: when a fragment
/// with an index above every index seen so far arrives, the calls below it are ready, from index 0 up
/// without a gap, as long as each has a name and arguments that already parse as one whole JSON value
/// (a server that interleaves fragments of several calls sends the next call's header before the last
/// arguments; its calls are then reported at the end). At `finish_reason`, at the end of the stream
/// (`finishCalls`) and for a whole answer, every call not yet reported is ready. A ready call never
/// changes: a later fragment of it that repeats its id or name is ignored, whitespace in its arguments
/// is dropped, and any other argument text throws, so `.completed` lists the calls exactly as reported.
public struct StreamAccumulator: Sendable {
    private struct PartialCall: Sendable {
        var id = ""
        var name = ""
        var arguments = ""
        /// Reported as `.toolCallReady`; the call no longer changes.
        var isReady = false
    }

    private var text = ""
    private var sawText = false
    private var calls: [Int: PartialCall] = [:]
    /// Calls 0..<readyPrefix were reported early, before the end of the answer.
    private var readyPrefix = 0
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
        return events + finishCalls()
    }

    /// Reports every call not reported yet, in index order: the answer is over (its `finish_reason`,
    /// the end of the stream, or a whole answer).
    public mutating func finishCalls() -> [ChatEvent] {
        var events: [ChatEvent] = []
        for (index, call) in resolvedCalls() where !calls[index]!.isReady {
            calls[index]!.isReady = true
            events.append(.toolCallReady(call))
        }
        return events
    }

    /// Reports the calls below `highest` (the highest index seen), from the first not yet reported,
    /// while there is no gap and each is whole.
    private mutating func reportCalls(below highest: Int) -> [ChatEvent] {
        var events: [ChatEvent] = []
        while readyPrefix < highest, let call = calls[readyPrefix], !call.isReady, Self.isWhole(call) {
            calls[readyPrefix]!.isReady = true
            // Its id depends only on the calls before it, all reported and fixed: `.completed` agrees.
            if let resolved = resolvedCalls().first(where: { $0.index == readyPrefix }) {
                events.append(.toolCallReady(resolved.call))
            }
            readyPrefix += 1
        }
        return events
    }

    /// The calls in index order, each with the id it is known by: its own, "call_INDEX" when the server
    /// sent none, and made unique (servers that send ids like "0" may repeat them).
    private func resolvedCalls() -> [(index: Int, call: ToolCall)] {
        var taken = Set<String>()
        return calls.keys.sorted().map { index in
            let call = calls[index]!
            var id = call.id.isEmpty ? "call_\(index)" : call.id
            while taken.contains(id) { id += "_\(index)" }
            taken.insert(id)
            return (index, ToolCall(id: id, name: call.name, arguments: call.arguments))
        }
    }

    /// A call is whole when it has a name and its arguments are one JSON value: any further text but
    /// whitespace would make them invalid, so a well-behaved server sends none.
    private static func isWhole(_ call: PartialCall) -> Bool {
        !call.name.isEmpty && (try? JSONValue.parse(call.arguments)) != nil
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
            let highestBefore = calls.keys.max() ?? -1
            for (position, fragment) in (delta["tool_calls"]?.arrayValue ?? []).enumerated() {
                try mergeToolCall(fragment, position: position, inWholeAnswer: whole)
            }
            if !whole, let highest = calls.keys.max(), highest > highestBefore {
                events += reportCalls(below: highest)
            }
        }
        if let reason = choice["finish_reason"]?.stringValue {
            finishReason = reason
            sawChoice = true
            if !whole { events += finishCalls() }
        }
        return events
    }

    /// The answer assembled so far, tool calls in index order.
    ///
    /// Every call gets an id of its own, as the tool results must name their call: a call sent without
    /// one becomes `call_<index>`, and one whose id an earlier call of the message already has (some
    /// servers number every call "0") gets `_<index>` added. The server only ever sees these ids back.
    public var completion: ChatCompletion {
        let toolCalls = resolvedCalls().map(\.call)
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
        // A ready call keeps the id and name it was reported with.
        if call.id.isEmpty, !id.isEmpty, !call.isReady { call.id = id }
        if let function = fragment["function"] {
            if call.name.isEmpty, !call.isReady, let name = function["name"]?.stringValue, !name.isEmpty { call.name = name }
            let piece: String? = switch function["arguments"] {
            case .string(let piece)?: piece
            case .null?, nil: nil
            case let whole?: whole.jsonString  // some servers send the object itself
            }
            if let piece, !piece.isEmpty {
                if !call.isReady {
                    call.arguments += piece
                } else if !piece.allSatisfy(\.isWhitespace) {
                    throw ChatError(
                        .malformedResponse,
                        "The server sent more arguments for the tool call '\(call.name)' (index \(index)) after it was complete: \(Self.excerpt(piece)).")
                }
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
