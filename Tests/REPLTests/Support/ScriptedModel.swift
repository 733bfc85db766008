import Synchronization
import LLM
import Scheduler

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
        /// Answers `answer` (its text, else its first call, then the whole answer), moving `clock` on by
        /// `firstToken` before the first event and by `rest` before the end. The stream is lazy, so
        /// the clock moves only when the agent asks for the next event: the times it reads are exact.
        case timed(ChatCompletion, clock: ManualSchedulerClock, firstToken: Duration, rest: Duration)
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
        if case .timed(let answer, let clock, let firstToken, let rest) = reply {
            let first: ChatEvent = answer.content.map { .textDelta($0) } ?? .toolCallReady(answer.toolCalls[0])
            let steps = StepCounter([(firstToken, first), (rest, .completed(answer))])
            return AsyncThrowingStream {
                guard let (wait, event) = steps.next() else { return nil }
                clock.advance(by: wait)
                return event
            }
        }
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
                case .timed:
                    break  // answered lazily above
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

/// The events of a `.timed` answer, handed out one at a time.
private final class StepCounter: Sendable {
    private let steps: [(Duration, ChatEvent)]
    private let position = Mutex(0)

    init(_ steps: [(Duration, ChatEvent)]) { self.steps = steps }

    func next() -> (Duration, ChatEvent)? {
        position.withLock { p in
            defer { p += 1 }
            return p < steps.count ? steps[p] : nil
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
