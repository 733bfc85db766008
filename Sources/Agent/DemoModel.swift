import Foundation
import JSON
import LLM
import Scheduler
import Tools

/// The offline stand-in for an LLM, so a newcomer without a key sees the agent loop work.
///
/// For a prompt it calls, in parallel, every offered tool whose name or description shares a word with
/// the prompt, filling required arguments from the prompt; when the results come back it answers with a
/// short summary of them. With no matching tool it answers in text. It streams word by word, and
/// reports usage as a server would, counting words as tokens (``usage(of:answer:)``), so the turn's
/// footer and `/stats` show figures offline too.
public struct DemoModel: ChatModel {
    public var displayName: String { "demo model (offline)" }
    /// Pause between streamed words, so the answer visibly streams.
    public var wordDelay: Duration

    public init(wordDelay: Duration = .milliseconds(8)) {
        self.wordDelay = wordDelay
    }

    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        let completion = Self.answer(to: request)
        let delay = wordDelay
        return AsyncThrowingStream { continuation in
            let task = Task {
                if let text = completion.content {
                    for word in Self.streamPieces(text) {
                        if Task.isCancelled { break }
                        continuation.yield(.textDelta(word))
                        if delay > .zero { try? await Task.sleep(for: delay) }
                    }
                }
                if Task.isCancelled {
                    continuation.finish(throwing: CancellationError())
                } else {
                    continuation.yield(.completed(completion))
                    continuation.finish()
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The whole answer, decided at once, with its usage.
    static func answer(to request: ChatRequest) -> ChatCompletion {
        var completion = unmeteredAnswer(to: request)
        completion.usage = usage(of: request, answer: completion)
        return completion
    }

    /// Words (runs of letters and digits) as tokens: the input is every message, tool call and tool
    /// declaration of the request; the output is the answer's text and calls. No cache, no reasoning.
    static func usage(of request: ChatRequest, answer: ChatCompletion) -> Usage {
        func count(_ text: String) -> Int {
            text.split(whereSeparator: { !($0.isLetter || $0.isNumber) }).count
        }
        func count(_ calls: [ToolCall]) -> Int {
            calls.reduce(0) { $0 + count($1.name) + count($1.arguments) }
        }
        var input = 0
        for message in request.messages {
            switch message {
            case .system(let text), .user(let text), .tool(_, let text): input += count(text)
            case .assistant(let content, let calls, _): input += count(content ?? "") + count(calls)
            }
        }
        for tool in request.tools { input += count(tool.name) + count(tool.description) + count(tool.parameters.jsonString) }
        let output = count(answer.content ?? "") + count(answer.toolCalls)
        return Usage(promptTokens: input, completionTokens: output, totalTokens: input + output)
    }

    private static func unmeteredAnswer(to request: ChatRequest) -> ChatCompletion {
        guard let userIndex = request.messages.lastIndex(where: { if case .user = $0 { return true } else { return false } }),
              case .user(let prompt) = request.messages[userIndex]
        else {
            return ChatCompletion(content: "Hello from the demo model.", finishReason: "stop")
        }
        let sinceUser = request.messages[(userIndex + 1)...]
        if sinceUser.contains(where: { if case .tool = $0 { return true } else { return false } }) {
            return ChatCompletion(content: summary(of: Array(sinceUser)), finishReason: "stop")
        }
        let calls = matchingCalls(prompt: prompt, tools: request.tools)
        if calls.isEmpty {
            return ChatCompletion(content: fallbackText(prompt: prompt, tools: request.tools), finishReason: "stop")
        }
        return ChatCompletion(content: nil, toolCalls: calls, finishReason: "tool_calls")
    }

    private static let stopWords: Set<String> = [
        "the", "and", "for", "with", "what", "that", "this", "are", "you", "your", "from", "into", "how", "can",
        "please", "show", "tell", "give", "some", "about", "all", "any", "its", "use", "get", "run", "one", "two",
        "out", "has", "have", "was", "were", "will", "would", "could", "should", "does", "did", "not", "but",
    ]

    /// Lower-cased words of at least three letters, without common filler words.
    static func words(_ text: String) -> Set<String> {
        let parts = text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) })
        return Set(parts.map(String.init).filter { $0.count >= 3 && !stopWords.contains($0) })
    }

    static func matchingCalls(prompt: String, tools: [ToolDefinition]) -> [ToolCall] {
        let promptWords = words(prompt)
        var calls: [ToolCall] = []
        for tool in tools {
            let toolWords = words(tool.name.replacingOccurrences(of: "_", with: " ") + " " + tool.description)
            guard !promptWords.isDisjoint(with: toolWords) else { continue }
            let arguments = fillArguments(schema: tool.parameters, prompt: prompt, matched: toolWords)
            calls.append(ToolCall(id: "demo_\(calls.count + 1)", name: tool.name, arguments: arguments.jsonString))
        }
        return calls
    }

    /// Required arguments filled from the prompt: paths from a path-like word, enums from their first
    /// value, numbers from a number in the prompt, other strings from the words the tool did not match.
    static func fillArguments(schema: JSONValue, prompt: String, matched toolWords: Set<String>) -> JSONValue {
        let required = schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let properties = schema["properties"]?.objectValue ?? [:]
        let tokens = prompt.split(whereSeparator: \.isWhitespace).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"'`,;:?!()")) }
        var arguments: [String: JSONValue] = [:]
        for name in required {
            let property = properties[name] ?? [:]
            if let first = property["enum"]?.arrayValue?.first {
                arguments[name] = first
                continue
            }
            switch property["type"]?.stringValue {
            case "integer":
                arguments[name] = .int(tokens.lazy.compactMap { Int64($0) }.first ?? 1)
            case "number":
                arguments[name] = .double(tokens.lazy.compactMap { Double($0) }.first ?? 1)
            case "boolean":
                arguments[name] = .bool(true)
            case "array":
                let paths = tokens.filter(looksLikePath)
                arguments[name] = .array((paths.isEmpty ? ["."] : paths).map(JSONValue.string))
            default:
                let lowered = name.lowercased()
                if let pattern = property["pattern"]?.stringValue,
                   let match = tokens.first(where: { $0.range(of: pattern, options: .regularExpression) != nil }) {
                    arguments[name] = .string(match)
                } else if ["path", "file", "dir", "folder"].contains(where: lowered.contains) {
                    arguments[name] = .string(tokens.first(where: looksLikePath) ?? ".")
                } else if ["expression", "expr"].contains(where: lowered.contains),
                          let math = prompt.range(of: #"[-+*/().0-9 ]*[0-9][-+*/().0-9 ]*"#, options: .regularExpression) {
                    arguments[name] = .string(prompt[math].trimmingCharacters(in: .whitespaces))
                } else {
                    let rest = tokens.filter { !toolWords.contains($0.lowercased()) && !$0.isEmpty }
                    arguments[name] = .string(rest.isEmpty ? prompt : rest.joined(separator: " "))
                }
            }
        }
        return .object(arguments)
    }

    private static func looksLikePath(_ token: String) -> Bool {
        (token.contains(".") || token.contains("/")) && token.count > 1 && Double(token) == nil
    }

    static func summary(of messages: [ChatMessage]) -> String {
        var names: [String: String] = [:]
        var lines: [String] = []
        for message in messages {
            switch message {
            case .assistant(_, let calls, _):
                for call in calls { names[call.id] = call.name }
            case .tool(let id, let content):
                let firstLine = content.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? "(no output)"
                let short = firstLine.count > 100 ? String(firstLine.prefix(97)) + "..." : firstLine
                lines.append("- \(names[id] ?? id): \(short)")
            default:
                break
            }
        }
        return "I ran \(lines.count) tool\(lines.count == 1 ? "" : "s") in parallel. Results:\n" + lines.joined(separator: "\n")
    }

    static func fallbackText(prompt: String, tools: [ToolDefinition]) -> String {
        let names = tools.map(\.name).sorted()
        let toolText = names.isEmpty
            ? "No tools are loaded."
            : "Mention one of my tools and I will call it: \(names.joined(separator: ", "))."
        return "This is the offline demo model, so I can't really answer \"\(prompt)\". \(toolText) Set OPENAI_API_KEY (or OPENAI_BASE_URL for a local server) to talk to a real model."
    }

    /// The answer cut into word-sized deltas, spaces kept, so joining them gives the text back.
    static func streamPieces(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        for ch in text {
            current.append(ch)
            if ch == " " || ch == "\n" {
                pieces.append(current)
                current = ""
            }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }
}
