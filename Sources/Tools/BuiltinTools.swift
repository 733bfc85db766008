import Foundation
import JSON

/// A built-in tool's own description and parameter schema, used when a declaration omits them.
public struct BuiltinDefinition: Sendable {
    public var name: String
    public var description: String
    public var parameters: JSONValue
}

/// Tools that run inside the REPL: file access confined to a root folder, the time, and a
/// cooperative sleep. They run as Swift tasks; cancelling the execution cancels the task.
public enum BuiltinTools {
    public static let definitions: [BuiltinDefinition] = [
        BuiltinDefinition(
            name: "read_file", description: "Read a text file inside the working folder.",
            parameters: [
                "type": "object",
                "properties": [
                    "path": ["type": "string", "description": "path relative to the working folder"],
                    "max_bytes": ["type": "integer", "minimum": 1, "description": "read at most this many bytes"],
                ],
                "required": ["path"], "additionalProperties": false,
            ]),
        BuiltinDefinition(
            name: "write_file", description: "Write (or append to) a text file inside the working folder.",
            parameters: [
                "type": "object",
                "properties": [
                    "path": ["type": "string", "description": "path relative to the working folder"],
                    "content": ["type": "string"],
                    "append": ["type": "boolean", "description": "append instead of replacing"],
                ],
                "required": ["path", "content"], "additionalProperties": false,
            ]),
        BuiltinDefinition(
            name: "list_dir", description: "List the entries of a folder inside the working folder (folders end in '/').",
            parameters: [
                "type": "object",
                "properties": ["path": ["type": "string", "description": "folder relative to the working folder; default '.'"]],
                "additionalProperties": false,
            ]),
        BuiltinDefinition(
            name: "now", description: "The current date and time, optionally in a given time zone.",
            parameters: [
                "type": "object",
                "properties": ["timezone": ["type": "string", "description": "IANA name such as Europe/Paris; default the local zone"]],
                "additionalProperties": false,
            ]),
        BuiltinDefinition(
            name: "sleep", description: "Wait for a number of seconds, then return.",
            parameters: [
                "type": "object",
                "properties": ["seconds": ["type": "number", "minimum": 0, "maximum": 3600]],
                "required": ["seconds"], "additionalProperties": false,
            ]),
    ]

    public static var names: [String] { definitions.map(\.name) }

    public static func definition(named name: String) -> BuiltinDefinition? {
        definitions.first { $0.name == name }
    }

    /// A declaration for a builtin with its own description and schema.
    public static func declaration(_ name: String) -> ToolDeclaration? {
        definition(named: name).map {
            ToolDeclaration(name: $0.name, description: $0.description, parameters: $0.parameters, runner: .builtin($0.name))
        }
    }

    static func start(name: String, arguments: JSONValue, root: URL, outputLimit: Int, execution: ToolExecution) {
        let task = Task {
            let result: ToolResult
            do {
                result = .success(try await run(name: name, arguments, sandbox: FileSandbox(root: root), outputLimit: outputLimit))
            } catch is CancellationError {
                result = .failure("the tool was cancelled", outcome: .cancelled)
            } catch {
                result = .failure(String(describing: error))
            }
            execution.finish(result)
        }
        execution.attach(TaskControl(task: task))
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func run(name: String, _ args: JSONValue, sandbox: FileSandbox, outputLimit: Int) async throws -> String {
        switch name {
        case "read_file":
            let path = try sandbox.existing(args["path"]?.stringValue ?? "")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                throw Failure(description: "'\(args["path"]?.stringValue ?? "")' is a folder; use list_dir")
            }
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw Failure(description: "cannot read '\(sandbox.display(path))'")
            }
            defer { try? handle.close() }
            let limit = min(outputLimit, Int(args["max_bytes"]?.numberValue ?? Double(outputLimit)))
            let data = try handle.read(upToCount: limit + 1) ?? Data()
            var text = String(decoding: data.prefix(limit), as: UTF8.self)
            if data.count > limit { text += "\n[file cut: showing the first \(limit) bytes]" }
            return text

        case "write_file":
            let shown = args["path"]?.stringValue ?? ""
            let path = try sandbox.writable(shown)
            let content = Data((args["content"]?.stringValue ?? "").utf8)
            if args["append"]?.boolValue == true, let handle = FileHandle(forWritingAtPath: path) {
                defer { try? handle.close() }
                try handle.seekToEnd()
                try handle.write(contentsOf: content)
                return "appended \(content.count) bytes to \(shown)"
            }
            do {
                try content.write(to: URL(fileURLWithPath: path))
            } catch {
                throw Failure(description: "cannot write '\(shown)': \(error.localizedDescription)")
            }
            return "wrote \(content.count) bytes to \(shown)"

        case "list_dir":
            let path = try sandbox.existing(args["path"]?.stringValue ?? ".")
            let fm = FileManager.default
            guard let names = try? fm.contentsOfDirectory(atPath: path) else {
                throw Failure(description: "'\(args["path"]?.stringValue ?? ".")' is not a folder")
            }
            let lines = names.sorted().map { entry -> String in
                var isDirectory: ObjCBool = false
                _ = fm.fileExists(atPath: (path as NSString).appendingPathComponent(entry), isDirectory: &isDirectory)
                return isDirectory.boolValue ? entry + "/" : entry
            }
            return lines.isEmpty ? "(empty folder)" : lines.joined(separator: "\n")

        case "now":
            var zone = TimeZone.current
            if let name = args["timezone"]?.stringValue {
                guard let z = TimeZone(identifier: name) else {
                    throw Failure(description: "unknown time zone '\(name)'; use an IANA name such as Europe/Paris")
                }
                zone = z
            }
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = zone
            formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ssXXXXX EEEE"
            return "\(formatter.string(from: Date())) (\(args["timezone"]?.stringValue ?? zone.identifier))"

        case "sleep":
            let seconds = args["seconds"]?.numberValue ?? 0
            try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            return "slept \(String(format: "%g", seconds)) s"

        default:
            throw Failure(description: "unknown builtin '\(name)'")
        }
    }
}
