import Foundation
import JSON

/// The JSON body of a Responses API request (`POST /responses`).
///
/// Nothing is stored on the server (`store: false`), so `input` carries the whole conversation: the
/// leading system messages become `instructions`; a user message a `message` item; an assistant
/// answer from this API its output items as they came (reasoning items with their encrypted
/// content, which `include` asks for, messages, function calls) except their `id`, which names an
/// item the server did not keep and is refused when sent back; an assistant message without them
/// (from another model) a `message` item and `function_call` items; a tool result a
/// `function_call_output` item with its `call_id`.
public enum ResponsesRequestBody {
    /// `includeReasoning`: ask for `reasoning.encrypted_content` (false for a model that refused it).
    public static func json(for request: ChatRequest, stream: Bool, includeReasoning: Bool = true) -> JSONValue {
        var messages = request.messages[...]
        var instructions: [String] = []
        while case .system(let text)? = messages.first {
            instructions.append(text)
            messages.removeFirst()
        }
        var body: [String: JSONValue] = [
            "model": .string(request.model),
            "input": .array(messages.flatMap(items(for:))),
            "stream": .bool(stream),
            "store": false,
        ]
        if includeReasoning { body["include"] = ["reasoning.encrypted_content"] }
        if !instructions.isEmpty { body["instructions"] = .string(instructions.joined(separator: "\n\n")) }
        if !request.tools.isEmpty {
            body["tools"] = .array(request.tools.map { tool in
                [
                    "type": "function",
                    "name": .string(tool.name),
                    "description": .string(tool.description),
                    "parameters": tool.parameters,
                ]
            })
            if let parallel = request.parallelToolCalls { body["parallel_tool_calls"] = .bool(parallel) }
        }
        if let choice = request.toolChoice { body["tool_choice"] = .string(choice) }
        return .object(body)
    }

    /// The body as compact UTF-8 JSON bytes, keys sorted.
    public static func data(for request: ChatRequest, stream: Bool, includeReasoning: Bool = true) -> Data {
        Data(json(for: request, stream: stream, includeReasoning: includeReasoning).jsonString.utf8)
    }

    static func items(for message: ChatMessage) -> [JSONValue] {
        switch message {
        case .system(let text):
            return [["type": "message", "role": "system", "content": .string(text)]]
        case .user(let text):
            return [["type": "message", "role": "user", "content": .string(text)]]
        case .assistant(_, _, let outputItems) where !outputItems.isEmpty:
            return outputItems.map { item in
                guard case .object(var fields) = item else { return item }
                fields["id"] = nil
                return .object(fields)
            }
        case .assistant(let content, let toolCalls, _):
            var items: [JSONValue] = []
            if let content, !content.isEmpty {
                items.append([
                    "type": "message", "role": "assistant",
                    "content": [["type": "output_text", "text": .string(content)]],
                ])
            }
            for call in toolCalls {
                items.append([
                    "type": "function_call", "call_id": .string(call.id), "name": .string(call.name),
                    "arguments": .string(call.arguments),
                ])
            }
            return items
        case .tool(let callID, let content):
            return [["type": "function_call_output", "call_id": .string(callID), "output": .string(content)]]
        }
    }
}
