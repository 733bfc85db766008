import Foundation
import JSON

/// A built-in tool's own description and parameter schema, used when a declaration omits them.
public struct BuiltinDefinition: Sendable {
    public var name: String
    public var description: String
    public var parameters: JSONValue
}

/// Tools that run inside the REPL: file access confined to a root folder, the time, and a
/// cooperative sleep. They run as Swift tasks; cancelling the execution cancels the task. File work
/// runs on a thread of its own (``OwnThread``), never on the cooperative pool.
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

    static func start(
        name: String, arguments: JSONValue, root: URL, resolution: FileSandbox.Resolution, outputLimit: Int, execution: ToolExecution
    ) {
        // `now` neither blocks nor waits: its result is ready before the call returns, without a Swift
        // task of its own and a hop to it (the scheduler's no-op under `POST /tasks`).
        if name == "now" {
            do {
                execution.finish(.success(try now(arguments)))
            } catch {
                execution.finish(.failure(String(describing: error)))
            }
            return
        }
        execution.runTask({
            .success(try await run(name: name, arguments, root: root, resolution: resolution, outputLimit: outputLimit))
        }, describe: { String(describing: $0) })
    }

    /// The current time in the zone asked for, else the machine's.
    static func now(_ args: JSONValue) throws(Failure) -> String {
        var zone = TimeZone.current
        if let name = args["timezone"]?.stringValue {
            guard let z = TimeZone(identifier: name) else {
                throw Failure(description: "unknown time zone '\(name)'; use an IANA name such as Europe/Paris")
            }
            zone = z
        }
        return "\(timestamp(Date(), in: zone)) (\(args["timezone"]?.stringValue ?? zone.identifier))"
    }

    /// `2026-12-01T03:07:29+01:00 Tuesday` (`Z` for UTC; seconds in the offset when it has some): what
    /// `DateFormatter` wrote with `yyyy-MM-dd'T'HH:mm:ssXXXXX EEEE` in `en_US_POSIX`, written by hand. A
    /// formatter made per call was a sixth of the server's time under `POST /tasks` of `now`
    /// (docs/BENCHMARKS.md), and one shared between threads is not `Sendable`.
    static func timestamp(_ date: Date, in zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        func two(_ n: Int?) -> String { let n = n ?? 0; return n < 10 ? "0\(n)" : "\(n)" }
        let year = String(c.year ?? 0)
        var text = String(repeating: "0", count: max(0, 4 - year.count)) + year
        text += "-\(two(c.month))-\(two(c.day))T\(two(c.hour)):\(two(c.minute)):\(two(c.second))"
        let offset = zone.secondsFromGMT(for: date)
        if offset == 0 {
            text += "Z"
        } else {
            let size = abs(offset)
            text += (offset < 0 ? "-" : "+") + two(size / 3600) + ":" + two(size / 60 % 60)
            if size % 60 != 0 { text += ":" + two(size % 60) }
        }
        let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        return text + " " + weekdays[((c.weekday ?? 1) - 1 + 7) % 7]
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func run(
        name: String, _ args: JSONValue, root: URL, resolution: FileSandbox.Resolution, outputLimit: Int
    ) async throws -> String {
        // Made on the file work's thread: even the root's real path is a blocking look-up.
        let sandbox = { @Sendable in FileSandbox(root: root, resolution: resolution) }
        switch name {
        // File work blocks (a slow disk, a network file system): it runs on a thread of its own,
        // and every open goes through the sandbox (FileSandbox: beneath the root, regular files only).
        case "read_file":
            let shown = args["path"]?.stringValue ?? ""
            let requested = args["max_bytes"]?.numberValue ?? Double(outputLimit)
            let limit = requested >= 1 && requested < Double(outputLimit) ? Int(requested) : outputLimit
            return try await OwnThread.run(name: "read_file") { cancellation in
                let file = try sandbox().openForReading(shown)
                let bytes = try file.read(upTo: limit + 1, cancellation: cancellation)
                var text = String(decoding: bytes.prefix(limit), as: UTF8.self)
                if bytes.count > limit { text += "\n[file cut: showing the first \(limit) bytes]" }
                return text
            }

        case "write_file":
            let shown = args["path"]?.stringValue ?? ""
            let content = Array((args["content"]?.stringValue ?? "").utf8)
            let append = args["append"]?.boolValue == true
            return try await OwnThread.run(name: "write_file") { cancellation in
                let file = try sandbox().openForWriting(shown, append: append)
                do {
                    try file.write(content, cancellation: cancellation)
                } catch let refusal as FileSandbox.Refusal {
                    throw Failure(description: "cannot write '\(shown)': \(refusal)")
                }
                return append ? "appended \(content.count) bytes to \(shown)" : "wrote \(content.count) bytes to \(shown)"
            }

        case "list_dir":
            let shown = args["path"]?.stringValue ?? "."
            return try await OwnThread.run(name: "list_dir") { cancellation in
                let folder = try sandbox().openFolder(shown)
                let names = try folder.entries(cancellation: cancellation)
                return names.isEmpty ? "(empty folder)" : names.joined(separator: "\n")
            }

        case "sleep":
            let seconds = args["seconds"]?.numberValue ?? 0
            // A declaration may replace the schema's bounds: 1e300 must not reach Int64(_:), which traps.
            guard (0...3600).contains(seconds) else {
                throw Failure(description: "'seconds' must be from 0 to 3600, got \(String(format: "%g", seconds))")
            }
            try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            return "slept \(String(format: "%g", seconds)) s"

        default:
            throw Failure(description: "unknown builtin '\(name)'")
        }
    }
}
