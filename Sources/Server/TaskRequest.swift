import Foundation
import JSON
import LLM
import Tools

/// A `POST /tasks` body, checked: what to run, at which priority.
///
/// The original service's bodies are accepted as they are (`name`, `payload`, `priority`, `task_type`,
/// `estimated_time`; other keys are ignored), with the checks it lacked: the priority within
/// ``TaskRequest/priorities`` (it queued others, which then never ran), a positive estimate, and a
/// function name for `function_call` tasks.
public struct TaskRequest: Sendable {
    public enum Work: Sendable {
        /// One model request offering one function; the task's result is the model's answer.
        case functionCall(FunctionCall)
        /// A declared tool with checked arguments, run as a scheduled task.
        case tool(ToolInvocation)
    }

    public struct FunctionCall: Sendable {
        public var function: ToolDefinition
        public var content: String
        /// The model the client named; the server's own model answers (it is kept for the record).
        public var requestedModel: String?
    }

    public var name: String
    public var priority: Int
    public var estimate: Duration?
    public var work: Work

    public var taskType: String {
        switch work {
        case .functionCall: "function_call"
        case .tool: "tool"
        }
    }

    /// 0 is the highest, as in the original and tools.d.
    public static let priorities = 0...9
    public static let defaultPriority = 1
    /// Lengths in Unicode scalars, as JSON Schema's `maxLength` counts them (the document says the same).
    public static let nameLimit = 200
    /// Small enough that any string within it fits the body limit even written as `\uXXXX` escapes
    /// (12 bytes per scalar beyond the BMP): too long is then 422 with the field, not 413.
    public static let contentLimit = 65_536
    /// `estimated_time` in seconds: above 0, at most a day.
    public static let estimateLimit = 86_400.0

    /// Reads a body; throws a ``Problem`` naming the field at fault.
    public static func parse(_ body: [UInt8], catalog: ToolCatalog) throws(Problem) -> TaskRequest {
        let object = try Problem.jsonObject(body)

        guard let name = object["name"]?.stringValue else { throw Problem.invalid("/name", "name is required: a string.") }
        guard !name.isEmpty, name.unicodeScalars.count <= nameLimit else {
            throw Problem.invalid("/name", "name must have 1 to \(nameLimit) characters (Unicode scalars).")
        }
        var priority = defaultPriority
        if let raw = object["priority"], raw != .null {
            guard let p = raw.wholeNumber(in: priorities) else {
                throw Problem.invalid("/priority", "priority must be a whole number from \(priorities.lowerBound) (highest) to \(priorities.upperBound).")
            }
            priority = p
        }
        var estimate: Duration?
        if let raw = object["estimated_time"], raw != .null {
            guard let seconds = raw.numberValue, seconds > 0, seconds <= estimateLimit else {
                throw Problem.invalid("/estimated_time", "estimated_time must be a number of seconds above 0 and at most \(Int(estimateLimit)).")
            }
            estimate = .milliseconds(Int64((seconds * 1000).rounded()))
        }
        let payload: [String: JSONValue]
        switch object["payload"] {
        case nil, .null?: payload = [:]
        case .object(let members)?: payload = members
        default: throw Problem.invalid("/payload", "payload must be a JSON object.")
        }
        let taskType: String
        switch object["task_type"] {
        case nil, .null?: taskType = payload["tool"] != nil ? "tool" : "function_call"
        case .string(let type)?: taskType = type
        default: throw Problem.invalid("/task_type", "task_type must be \"function_call\" or \"tool\".")
        }
        let work: Work
        switch taskType {
        case "function_call": work = .functionCall(try functionCall(payload))
        case "tool": work = .tool(try toolInvocation(payload, catalog: catalog))
        default: throw Problem.invalid("/task_type", "task_type must be \"function_call\" or \"tool\", not \"\(taskType.prefix(40))\".")
        }
        return TaskRequest(name: name, priority: priority, estimate: estimate, work: work)
    }

    /// Rejects payload keys the task type does not read: a misspelt key is an error, not ignored.
    private static func onlyKnownKeys(_ payload: [String: JSONValue], _ known: Set<String>) throws(Problem) {
        if let unknown = payload.keys.sorted().first(where: { !known.contains($0) }) {
            throw Problem.invalid("/payload/\(unknown.prefix(64))", "payload has no field \"\(unknown.prefix(64))\"; it takes \(known.sorted().joined(separator: ", ")).")
        }
    }

    private static func functionCall(_ payload: [String: JSONValue]) throws(Problem) -> FunctionCall {
        try onlyKnownKeys(payload, ["function_name", "parameters", "content", "description", "model"])
        guard let name = payload["function_name"]?.stringValue, !name.isEmpty else {
            throw Problem.invalid("/payload/function_name", "A function_call task needs payload.function_name: the function offered to the model.")
        }
        guard name.count <= 64, name.utf8.allSatisfy({ $0 < 128 && (isalnum(Int32($0)) != 0 || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")) }) else {
            throw Problem.invalid("/payload/function_name", "payload.function_name must have 1 to 64 letters, digits, '_' or '-'.")
        }
        var parameters: JSONValue = ["type": "object", "properties": [:]]
        switch payload["parameters"] {
        case nil, .null?: break
        case .object(let schema)?: parameters = .object(schema)
        default: throw Problem.invalid("/payload/parameters", "payload.parameters must be a JSON Schema object.")
        }
        var content = ""
        switch payload["content"] {
        case nil, .null?: break
        case .string(let text)?:
            guard text.unicodeScalars.count <= contentLimit else {
                throw Problem.invalid("/payload/content", "payload.content must have at most \(contentLimit) characters.")
            }
            content = text
        default: throw Problem.invalid("/payload/content", "payload.content must be a string.")
        }
        let description = try optionalString(payload, "description") ?? "Called with the arguments the request needs."
        return FunctionCall(
            function: ToolDefinition(name: name, description: String(description.prefix(1000)), parameters: parameters),
            content: content, requestedModel: try optionalString(payload, "model"))
    }

    private static func optionalString(_ payload: [String: JSONValue], _ key: String) throws(Problem) -> String? {
        switch payload[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw Problem.invalid("/payload/\(key)", "payload.\(key) must be a string.")
        }
    }

    private static func toolInvocation(_ payload: [String: JSONValue], catalog: ToolCatalog) throws(Problem) -> ToolInvocation {
        try onlyKnownKeys(payload, ["tool", "arguments"])
        guard let name = payload["tool"]?.stringValue else {
            throw Problem.invalid("/payload/tool", "A tool task needs payload.tool: the name of a declared tool.")
        }
        guard let tool = catalog.tool(named: name) else {
            let known = catalog.tools.map(\.name).sorted().joined(separator: ", ")
            throw Problem.invalid("/payload/tool", "Unknown tool \"\(name.prefix(64))\"; the tools are: \(known).")
        }
        guard !tool.confirm else {
            throw Problem.invalid("/payload/tool", "The tool \"\(tool.name)\" asks for a confirmation before each run, which no one can give over HTTP.")
        }
        let arguments: JSONValue
        switch payload["arguments"] {
        case nil: arguments = [:]
        case .object(let members)?: arguments = .object(members)
        default: throw Problem.invalid("/payload/arguments", "payload.arguments must be a JSON object.")
        }
        switch ToolRunner.invocation(of: tool, argumentsValue: arguments) {
        case .success(let invocation): return invocation
        case .failure(let invalid):
            throw Problem.invalid("/payload/arguments", invalid.result.error ?? "The arguments do not match the tool's schema.")
        }
    }
}
