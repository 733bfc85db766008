import Synchronization
import LLM

/// A model whose every answer is decided by a closure from the request; the requests are kept.
final class ScriptedModel: ChatModel {
    enum Reply: Sendable {
        case text(String)
        case calls([ToolCall])
        /// Streams this text, then waits until the turn is cancelled.
        case hang(String)
        case failure(any Error)
        /// Answers `text` once `gate` opens.
        case textAfter(Gate, String)
        /// Says `notice` (as a client that stopped streaming does), then answers `text`.
        case noticeThenText(String, String)
    }

    let respond: @Sendable (ChatRequest) -> Reply
    private let recorded = Mutex<[ChatRequest]>([])

    init(_ respond: @escaping @Sendable (ChatRequest) -> Reply) {
        self.respond = respond
    }

    /// Calls `calls` for a new prompt; once the results are in, answers "done: RESULT | RESULT".
    static func callingTools(_ calls: @escaping @Sendable (_ prompt: String) -> [ToolCall]) -> ScriptedModel {
        ScriptedModel { request in
            if !request.toolResults.isEmpty { return .text("done: " + request.toolResults.joined(separator: " | ")) }
            let wanted = calls(request.prompt)
            return wanted.isEmpty ? .text("answer to \(request.prompt)") : .calls(wanted)
        }
    }

    var displayName: String { "scripted" }
    var requests: [ChatRequest] { recorded.withLock { $0 } }

    func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        recorded.withLock { $0.append(request) }
        let reply = respond(request)
        return AsyncThrowingStream { continuation in
            let task = Task {
                switch reply {
                case .text(let text):
                    continuation.yield(.textDelta(text))
                    continuation.yield(.completed(ChatCompletion(content: text, finishReason: "stop")))
                    continuation.finish()
                case .calls(let calls):
                    continuation.yield(.completed(ChatCompletion(content: nil, toolCalls: calls, finishReason: "tool_calls")))
                    continuation.finish()
                case .hang(let text):
                    continuation.yield(.textDelta(text))
                    try? await Task.sleep(for: .seconds(86_400))  // ends early when the turn is cancelled
                    continuation.finish(throwing: CancellationError())
                case .failure(let error):
                    continuation.finish(throwing: error)
                case .noticeThenText(let notice, let text):
                    continuation.yield(.notice(notice))
                    continuation.yield(.textDelta(text))
                    continuation.yield(.completed(ChatCompletion(content: text, finishReason: "stop")))
                    continuation.finish()
                case .textAfter(let gate, let text):
                    await gate.wait()
                    if Task.isCancelled { return continuation.finish(throwing: CancellationError()) }
                    continuation.yield(.textDelta(text))
                    continuation.yield(.completed(ChatCompletion(content: text, finishReason: "stop")))
                    continuation.finish()
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

extension ChatRequest {
    /// The latest user message.
    var prompt: String {
        for message in messages.reversed() {
            if case .user(let text) = message { return text }
        }
        return ""
    }

    /// The tool results after the latest user message.
    var toolResults: [String] {
        var results: [String] = []
        for message in messages.reversed() {
            switch message {
            case .user: return results.reversed()
            case .tool(_, let content): results.append(content)
            default: continue
            }
        }
        return results.reversed()
    }
}

/// A call of `name` with these JSON arguments.
func call(_ name: String, _ arguments: String = "{}", id: String? = nil) -> ToolCall {
    ToolCall(id: id ?? "call_\(name)", name: name, arguments: arguments)
}
