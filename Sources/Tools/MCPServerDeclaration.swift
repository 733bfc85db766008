import Foundation
import JSON

/// One MCP server as declared in a `tools.d` file (`{"mcp": {...}}`): how to reach it, and what its
/// tools get from the scheduler. Its tools are known only once it runs (`tools/list`).
public struct MCPServerDeclaration: Sendable, Equatable {
    public enum Transport: Sendable, Equatable {
        /// A subprocess speaking JSON-RPC lines on stdin/stdout; `argv[0]` is an absolute path after loading.
        case stdio(argv: [String], env: [String: String], cwd: String?)
        /// Streamable HTTP: JSON-RPC posted to one URL, answers as JSON or server-sent events.
        case http(url: String, headers: [String: String])
    }

    /// The prefix of its tools' names (`NAME_tool`); the file's name by default.
    public var name: String
    public var transport: Transport
    public var priority: Int
    /// Seconds of running without progress before a call is stopped.
    public var timeout: Double?
    /// Calls in flight to this server at once; the others wait in the scheduler.
    public var maxConcurrency: Int
    public var confirm: Bool
    /// Only these of its tools (nil: all), minus `exclude`.
    public var include: [String]?
    public var exclude: [String]
    /// Secret-looking variables the server may see anyway.
    public var passEnv: [String]
    public var source: SourceLocation?

    public static let defaultMaxConcurrency = 4

    public init(
        name: String, transport: Transport, priority: Int = 1, timeout: Double? = nil, maxConcurrency: Int = Self.defaultMaxConcurrency,
        confirm: Bool = false, include: [String]? = nil, exclude: [String] = [], passEnv: [String] = [], source: SourceLocation? = nil
    ) {
        self.name = name
        self.transport = transport
        self.priority = priority
        self.timeout = timeout
        self.maxConcurrency = max(1, maxConcurrency)
        self.confirm = confirm
        self.include = include
        self.exclude = exclude
        self.passEnv = passEnv
        self.source = source
    }

    /// Whether the server's tool `tool` is offered to the model.
    public func offers(_ tool: String) -> Bool {
        (include.map { $0.contains(tool) } ?? true) && !exclude.contains(tool)
    }

    /// The name the model calls a server's tool by: `prefix_tool`, cut to the 64 characters allowed,
    /// with anything but letters, digits, '_' and '-' replaced by '_'.
    public func toolName(_ tool: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
        return String(String((name + "_" + tool).map { allowed.contains($0) ? $0 : "_" }).prefix(64))
    }

    /// The declaration of one of its tools, as the scheduler and the model see it.
    public func tool(named tool: String, description: String, parameters: JSONValue) -> ToolDeclaration {
        ToolDeclaration(
            name: toolName(tool), description: description, parameters: parameters,
            runner: .mcp(MCPToolTarget(server: name, tool: tool, maxConcurrency: maxConcurrency)),
            priority: priority, timeout: timeout, preemptible: false, confirm: confirm, source: source)
    }
}

/// A tool of an MCP server: which server, its own name there, and the server's limit on calls in flight.
public struct MCPToolTarget: Sendable, Equatable {
    public var server: String
    public var tool: String
    public var maxConcurrency: Int

    public init(server: String, tool: String, maxConcurrency: Int) {
        self.server = server
        self.tool = tool
        self.maxConcurrency = maxConcurrency
    }
}

/// Makes MCP tool calls; the MCP layer above implements it, `ToolRunner` hands it the calls.
public protocol MCPToolCaller: Sendable {
    /// Calls `target` and returns its result; `progress` is called for each progress notification.
    /// Cancelling the calling task cancels the request (`notifications/cancelled`).
    func call(_ target: MCPToolTarget, arguments: JSONValue, progress: @escaping @Sendable () -> Void) async -> ToolResult
}
