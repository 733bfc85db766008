import Foundation
import HTTP
import JSON

/// The JSON body of a Chat Completions request.
public enum ChatRequestBody {
    /// The body as a JSON value. `stream` adds `"stream": true` and asks for the usage chunk.
    public static func json(for request: ChatRequest, stream: Bool) -> JSONValue {
        var body: [String: JSONValue] = [
            "model": .string(request.model),
            "messages": .array(request.messages.map(json(for:))),
        ]
        if !request.tools.isEmpty {
            body["tools"] = .array(request.tools.map { tool in
                [
                    "type": "function",
                    "function": [
                        "name": .string(tool.name),
                        "description": .string(tool.description),
                        "parameters": tool.parameters,
                    ],
                ]
            })
            if let parallel = request.parallelToolCalls { body["parallel_tool_calls"] = .bool(parallel) }
        }
        if let choice = request.toolChoice { body["tool_choice"] = .string(choice) }
        if stream {
            body["stream"] = true
            body["stream_options"] = ["include_usage": true]
        }
        return .object(body)
    }

    /// The body as compact UTF-8 JSON bytes, keys sorted.
    public static func data(for request: ChatRequest, stream: Bool) -> Data {
        Data(json(for: request, stream: stream).jsonString.utf8)
    }

    static func json(for message: ChatMessage) -> JSONValue {
        switch message {
        case .system(let text):
            return ["role": "system", "content": .string(text)]
        case .user(let text):
            return ["role": "user", "content": .string(text)]
        case .assistant(let content, let toolCalls, _):  // output items are the Responses API's
            // "" rather than null when the message is only tool calls: llama-cpp-python's server answers
            // 422 to null, and every server tried takes "" (docs/COMPATIBILITY.md).
            var object: [String: JSONValue] = ["role": "assistant", "content": .string(content ?? "")]
            if !toolCalls.isEmpty {
                object["tool_calls"] = .array(toolCalls.map { call in
                    [
                        "id": .string(call.id),
                        "type": "function",
                        "function": ["name": .string(call.name), "arguments": .string(call.arguments)],
                    ]
                })
            }
            return .object(object)
        case .tool(let callID, let content):
            return ["role": "tool", "tool_call_id": .string(callID), "content": .string(content)]
        }
    }
}
