import Foundation
import GRDB
import JSON
import LLM
import Scheduler
import Tools

/// Reading columns without trusting the file: a value of the wrong type or size reads as nil (GRDB's
/// typed subscripts stop the process on a value they cannot convert).
extension Row {
    func int64(_ column: String) -> Int64? {
        let value: DatabaseValue = self[column]
        switch value.storage {
        case .int64(let n): return n
        case .double(let d): return Int64(exactly: d)
        default: return nil
        }
    }

    func int(_ column: String) -> Int? { int64(column).flatMap { Int(exactly: $0) } }

    func double(_ column: String) -> Double? {
        let value: DatabaseValue = self[column]
        switch value.storage {
        case .int64(let n): return Double(n)
        case .double(let d): return d.isFinite ? d : nil
        default: return nil
        }
    }

    /// Text, cut to ``StoreLimits/textBytes``.
    func text(_ column: String) -> String? {
        let value: DatabaseValue = self[column]
        guard case .string(let s) = value.storage else { return nil }
        guard s.utf8.count > StoreLimits.textBytes else { return s }
        return String(decoding: s.utf8.prefix(StoreLimits.textBytes), as: UTF8.self)
    }

    func date(_ column: String) -> Date? { double(column).map(Date.init(timeIntervalSince1970:)) }

    /// Milliseconds as a duration; nil for values no duration holds.
    func duration(_ column: String) -> Duration? {
        guard let ms = double(column), abs(ms) < 1e15 else { return nil }
        return .nanoseconds(Int64(ms * 1e6))
    }

    /// A JSON column decoded as `T`; nil when absent or malformed.
    func decoded<T: Decodable>(_ type: T.Type, _ column: String) -> T? {
        guard let text = text(column) else { return nil }
        return try? JSONDecoder().decode(T.self, from: Data(text.utf8))
    }
}

enum ColumnJSON {
    static func encode<T: Encodable>(_ value: T) -> String {
        // Encoding these plain structs cannot fail; an empty object would be read back as nil.
        (try? String(decoding: JSONEncoder.sortedCompact.encode(value), as: UTF8.self)) ?? "null"
    }
}

/// `ToolCall` as stored in `messages.tool_calls`.
struct ToolCallColumn: Codable {
    var id: String
    var name: String
    var arguments: String

    init(_ call: ToolCall) {
        id = call.id
        name = call.name
        arguments = call.arguments
    }

    var call: ToolCall { ToolCall(id: id, name: name, arguments: arguments) }
}

/// `ToolResult` as stored in `tool_tasks.result` (the same fields `/task ID` shows).
struct ToolResultColumn: Codable {
    var outcome: String
    var output: String
    var error: String?
    var exitCode: Int32?
    var signal: Int32?
    var stderrTail: String?
    var httpStatus: Int?
    var cpuMs: Double?

    enum CodingKeys: String, CodingKey {
        case outcome, output, error, signal
        case exitCode = "exit_code", stderrTail = "stderr_tail", httpStatus = "http_status", cpuMs = "cpu_ms"
    }

    init(_ result: ToolResult) {
        outcome = result.outcome.rawValue
        output = result.output
        error = result.error
        exitCode = result.exitCode
        signal = result.signal
        stderrTail = result.stderrTail
        httpStatus = result.httpStatus
        cpuMs = result.cpuTime?.milliseconds
    }

    var result: ToolResult? {
        guard let outcome = ToolResult.Outcome(rawValue: outcome) else { return nil }
        var result = ToolResult(
            outcome: outcome, output: output, error: error, exitCode: exitCode, signal: signal, stderrTail: stderrTail,
            httpStatus: httpStatus)
        if let cpuMs, cpuMs.isFinite, cpuMs >= 0, cpuMs < 1e15 { result.cpuTime = .nanoseconds(Int64(cpuMs * 1e6)) }
        return result
    }
}

/// A message's columns: role, content, tool calls, tool call id, Responses output items.
struct MessageColumns {
    var role: String
    var content: String?
    var toolCalls: String?
    var toolCallID: String?
    var outputItems: String?

    init(_ message: ChatMessage) {
        switch message {
        case .system(let text): self.init(role: "system", content: text)
        case .user(let text): self.init(role: "user", content: text)
        case .assistant(let content, let calls, let items):
            self.init(
                role: "assistant", content: content,
                toolCalls: calls.isEmpty ? nil : ColumnJSON.encode(calls.map(ToolCallColumn.init)),
                outputItems: items.isEmpty ? nil : ColumnJSON.encode(items))
        case .tool(let id, let content): self.init(role: "tool", content: content, toolCallID: id)
        }
    }

    init(role: String, content: String?, toolCalls: String? = nil, toolCallID: String? = nil, outputItems: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.outputItems = outputItems
    }

    /// The message a row holds; nil for a row no message has (an unknown role).
    static func message(from row: Row) -> ChatMessage? {
        let content = row.text("content")
        switch row.text("role") {
        case "system": return .system(content ?? "")
        case "user": return .user(content ?? "")
        case "assistant":
            let calls = row.decoded([ToolCallColumn].self, "tool_calls")?.map(\.call) ?? []
            let items = row.decoded([JSONValue].self, "output_items") ?? []
            return .assistant(content: content, toolCalls: calls, outputItems: items)
        case "tool": return .tool(callID: row.text("tool_call_id") ?? "", content: content ?? "")
        default: return nil
        }
    }
}
