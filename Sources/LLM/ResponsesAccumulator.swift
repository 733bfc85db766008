import JSON

/// Assembles one answer from the Responses API's stream events, one SSE `data:` payload at a time, or
/// from one whole response object (`stream: false`, or a server that answers a stream with JSON).
///
/// Events, by their `type` (the SSE `event:` field when the payload has none):
/// - `response.output_text.delta`, `response.refusal.delta`: text, passed on as `.textDelta`.
/// - `response.output_item.added` with a `function_call` item: a call begins at its `output_index`.
/// - `response.function_call_arguments.delta` / `.done`: its arguments grow / are final.
/// - `response.output_item.done`: one whole output item (reasoning with its encrypted content, a
///   message, a function call), kept as it came. A function call is then complete: `.toolCallReady`
///   passes it on at once, once, in output order (a call waits for the calls before it).
/// - `response.completed`: the end. Its `response.output`, when not empty, is the list of items
///   (otherwise the items of `.done` events, in output order); `response.usage` gives the tokens.
/// - `response.incomplete`: the end of an answer cut short (`incomplete_details.reason`, e.g.
///   `max_output_tokens`); kept when it holds text or calls, an error when it holds neither.
/// - `response.failed` and `error`: a `ChatError` with the server's message.
/// - anything else (`response.created`, reasoning summaries, a stray `[DONE]`): ignored.
///
/// A payload that is not JSON, an `output_index` or token count that is not a whole number within
/// `StreamLimits`, and a function call without `call_id` throw a `ChatError`.
///
/// - Complexity: O(1) bookkeeping per event when calls arrive in output order (as servers send them).
public struct ResponsesAccumulator: Sendable {
    private struct PartialCall: Sendable {
        var itemID: String?
        var arguments = ""
    }

    private var text = ""
    private var sawText = false
    /// Whole items from `response.output_item.done`, by output index.
    private var doneItems: [Int: JSONValue] = [:]
    /// Function calls seen (added or done), by output index, and by item id.
    private var partialCalls: [Int: PartialCall] = [:]
    private var callsByItemID: [String: Int] = [:]
    /// Complete function calls, by output index.
    private var readyCalls: [Int: ToolCall] = [:]
    /// The output indices of the calls seen, in output order; the first `announcedCount` of them
    /// were passed on as `.toolCallReady`. (A call seen after a later one was announced goes after it.)
    private var callOrder: [Int] = []
    private var announcedCount = 0
    /// The highest output index seen, for a server that sends none.
    private var highestIndex = -1
    private var items: [JSONValue] = []
    private var toolCalls: [ToolCall] = []
    private var finishReason: String?
    private var usage: Usage?
    /// The server said the answer is over (`response.completed` or `response.incomplete`).
    public private(set) var isFinished = false

    public init() {}

    /// The whole answer; meaningful once `isFinished`.
    public var completion: ChatCompletion {
        ChatCompletion(
            content: sawText ? text : nil, toolCalls: toolCalls,
            finishReason: finishReason, usage: usage, outputItems: items)
    }

    /// Consumes one `data:` payload; `eventType` is the SSE `event:` field. Returns the events it
    /// produces for the caller.
    public mutating func consume(_ payload: String, eventType: String? = nil) throws(ChatError) -> [ChatEvent] {
        if payload == "[DONE]" || isFinished { return [] }
        guard let event = try? JSONValue.parse(payload) else {
            if eventType == "error" { throw Self.failure(.string(StreamAccumulator.excerpt(payload))) }
            throw ChatError(.malformedResponse, "The server sent a stream event that is not valid JSON: \(StreamAccumulator.excerpt(payload))")
        }
        switch event["type"]?.stringValue ?? eventType {
        case "response.output_text.delta", "response.refusal.delta":
            guard let piece = event["delta"]?.stringValue, !piece.isEmpty else { return [] }
            text += piece
            sawText = true
            return [.textDelta(piece)]
        case "response.output_item.added":
            guard let item = event["item"], item["type"]?.stringValue == "function_call" else { return [] }
            let index = try outputIndex(event) ?? nextIndex
            noteCall(at: index, itemID: item["id"]?.stringValue)
            partialCalls[index]?.arguments = item["arguments"]?.stringValue ?? ""
            return []
        case "response.function_call_arguments.delta":
            guard let index = try callIndex(event), let piece = event["delta"]?.stringValue else { return [] }
            partialCalls[index]?.arguments += piece
            return []
        case "response.function_call_arguments.done":
            guard let index = try callIndex(event), let whole = event["arguments"]?.stringValue else { return [] }
            partialCalls[index]?.arguments = whole
            return []
        case "response.output_item.done":
            guard var item = event["item"] else { return [] }
            let index = try outputIndex(event) ?? item["id"]?.stringValue.flatMap { callsByItemID[$0] } ?? nextIndex
            highestIndex = max(highestIndex, index)
            guard item["type"]?.stringValue == "function_call" else {
                doneItems[index] = item
                return []
            }
            noteCall(at: index, itemID: item["id"]?.stringValue)
            let call = try Self.toolCall(&item, arguments: partialCalls[index]?.arguments)
            doneItems[index] = item
            readyCalls[index] = call
            return announceReadyCalls()
        case "response.completed":
            return try finish(event["response"] ?? [:], incomplete: false)
        case "response.incomplete":
            return try finish(event["response"] ?? [:], incomplete: true)
        case "response.failed":
            throw Self.failure(event["response"]?["error"])
        case "error":
            throw Self.failure(event["error"] ?? event)
        default:
            return []
        }
    }

    /// Consumes a whole response object (one `application/json` body). Its `status` decides:
    /// `completed` (or none) and `incomplete` as the events of that name, `failed` (or an `error`)
    /// throws, anything else (a response still in progress) throws.
    public mutating func consumeWholeResponse(_ body: String) throws(ChatError) -> [ChatEvent] {
        guard let response = try? JSONValue.parse(body), response.objectValue != nil else {
            throw ChatError(.malformedResponse, "The server sent an answer that is not a JSON object: \(StreamAccumulator.excerpt(body))")
        }
        if let error = response["error"], error != .null { throw Self.failure(error) }
        switch response["status"]?.stringValue {
        case "completed"?, nil: return try finish(response, incomplete: false)
        case "incomplete"?: return try finish(response, incomplete: true)
        case "failed"?: throw Self.failure(response["error"])
        case let status?:
            throw ChatError(.malformedResponse, "The server sent a response whose status is '\(StreamAccumulator.excerpt(status))', not a finished answer.")
        }
    }

    // MARK: - Steps

    /// The end of the answer: the items, the usage, the text of message items when none streamed.
    private mutating func finish(_ response: JSONValue, incomplete: Bool) throws(ChatError) -> [ChatEvent] {
        if let output = response["output"]?.arrayValue, !output.isEmpty {
            items = output
        } else {
            items = doneItems.keys.sorted().map { doneItems[$0]! }
        }
        if let value = response["usage"], let usage = try Usage.parse(value, fields: .responses) { self.usage = usage }
        let streamed = Dictionary(readyCalls.values.map { ($0.id, $0.arguments) }) { first, _ in first }
        var calls: [ToolCall] = []
        for position in items.indices where items[position]["type"]?.stringValue == "function_call" {
            calls.append(try Self.toolCall(&items[position], arguments: items[position]["call_id"]?.stringValue.flatMap { streamed[$0] }))
        }
        toolCalls = calls
        var events: [ChatEvent] = []
        if !sawText {
            let whole = Self.messageText(in: items)
            if !whole.isEmpty {
                text = whole
                sawText = true
                events.append(.textDelta(whole))
            }
        }
        if incomplete {
            let reason = response["incomplete_details"]?["reason"]?.stringValue ?? "incomplete"
            guard sawText || !calls.isEmpty else {
                throw ChatError(
                    .incompleteResponse,
                    "The model stopped before it answered (the server said: \(StreamAccumulator.excerpt(reason))); the turn was not saved.")
            }
            finishReason = reason
        } else {
            finishReason = calls.isEmpty ? "stop" : "tool_calls"
        }
        isFinished = true
        return events
    }

    /// Records a function call at `index` the first time it is seen.
    private mutating func noteCall(at index: Int, itemID: String?) {
        highestIndex = max(highestIndex, index)
        guard partialCalls[index] == nil else { return }
        partialCalls[index] = PartialCall(itemID: itemID)
        if let itemID { callsByItemID[itemID] = index }
        var position = callOrder.count
        while position > announcedCount, callOrder[position - 1] > index { position -= 1 }
        callOrder.insert(index, at: position)
    }

    /// The complete calls not yet passed on, in output order, up to the first call still in progress.
    private mutating func announceReadyCalls() -> [ChatEvent] {
        var events: [ChatEvent] = []
        while announcedCount < callOrder.count, let call = readyCalls[callOrder[announcedCount]] {
            announcedCount += 1
            events.append(.toolCallReady(call))
        }
        return events
    }

    /// The output index an event names; nil when it names none; a number out of range throws.
    private func outputIndex(_ event: JSONValue) throws(ChatError) -> Int? {
        guard let value = event["output_index"], value.numberValue != nil else { return nil }
        guard let index = value.wholeNumber(in: 0...StreamLimits.maxOutputIndex) else {
            throw ChatError(
                .malformedResponse,
                "The server sent an output_index of \(StreamAccumulator.excerpt(value.jsonString)), not a whole number from 0 to \(StreamLimits.maxOutputIndex).")
        }
        return index
    }

    /// The call an arguments event is about: by output index, else by item id, else the latest call.
    private func callIndex(_ event: JSONValue) throws(ChatError) -> Int? {
        if let index = try outputIndex(event) { return partialCalls[index] == nil ? nil : index }
        if let id = event["item_id"]?.stringValue, let index = callsByItemID[id] { return index }
        return callOrder.last
    }

    /// The index after every one seen, for a server that sends none.
    private var nextIndex: Int {
        highestIndex < StreamLimits.maxOutputIndex ? highestIndex + 1 : highestIndex
    }

    // MARK: - Reading items

    /// A `function_call` item as a call; the `streamed` arguments stand in when the item has none,
    /// and are written into it, so that it goes back to the server whole.
    private static func toolCall(_ item: inout JSONValue, arguments streamed: String?) throws(ChatError) -> ToolCall {
        guard let callID = item["call_id"]?.stringValue, !callID.isEmpty else {
            throw ChatError(.malformedResponse, "The server sent a function call without a call_id: \(StreamAccumulator.excerpt(item.jsonString))")
        }
        let arguments: String
        switch item["arguments"] {
        case .string(let text)?: arguments = text
        case .null?, nil: arguments = streamed ?? ""
        case let object?: arguments = object.jsonString  // some servers send the object itself
        }
        if item["arguments"]?.stringValue == nil, case .object(var fields) = item {
            fields["arguments"] = .string(arguments)
            item = .object(fields)
        }
        return ToolCall(id: callID, name: item["name"]?.stringValue ?? "", arguments: arguments)
    }

    /// The text of the message items: their `output_text` parts, and `refusal` parts.
    private static func messageText(in items: [JSONValue]) -> String {
        var text = ""
        for item in items where item["type"]?.stringValue == "message" {
            for part in item["content"]?.arrayValue ?? [] {
                switch part["type"]?.stringValue {
                case "output_text"?: text += part["text"]?.stringValue ?? ""
                case "refusal"?: text += part["refusal"]?.stringValue ?? ""
                default: break
                }
            }
        }
        return text
    }

    /// An `error` event's or a failed response's error as a sentence with the server's message.
    private static func failure(_ error: JSONValue?) -> ChatError {
        let message = error.flatMap { $0 == .null ? nil : StreamAccumulator.errorMessage($0) } ?? "the answer failed"
        return ChatError(.streamError, "The server reported an error during the answer: \(message).")
    }
}
