import Foundation
import JSON

/// One tool as declared in a `tools.d` file, with its defaults applied and its paths resolved.
public struct ToolDeclaration: Sendable {
    /// How a call of the tool is carried out.
    public enum Runner: Sendable, Equatable {
        /// argv, no shell; `argv[0]` is an absolute path after loading.
        case exec([String])
        case http(HTTPRequestTemplate)
        /// The name of a built-in tool (`read_file`, `now`, ...).
        case builtin(String)
        /// A tool of an MCP server (declared by the server's `{"mcp": ...}` entry, listed by the server).
        case mcp(MCPToolTarget)

        /// `exec`, `http`, `builtin` or `mcp`.
        public var kind: String {
            switch self {
            case .exec: return "exec"
            case .http: return "http"
            case .builtin: return "builtin"
            case .mcp: return "mcp"
            }
        }
    }

    public var name: String
    public var description: String
    /// A JSON Schema object for the arguments.
    public var parameters: JSONValue
    public var runner: Runner
    /// 0 is the highest.
    public var priority: Int
    /// Seconds, for shortest-job-first until measured run times replace it.
    public var estimatedTime: Double?
    /// Seconds of running (paused time excluded) before the tool is killed.
    public var timeout: Double?
    /// Whether the scheduler may pause it (SIGSTOP/SIGCONT); only `exec` tools can be paused.
    public var preemptible: Bool
    /// Whether a call keeps a core busy (`"cpu"`); `nil`: the scheduler measures it.
    public var cpu: Bool?
    /// Ask the user before each run.
    public var confirm: Bool
    /// Extra environment variables for `exec` tools.
    public var env: [String: String]
    /// Absolute working folder for `exec` tools; nil means the REPL's own.
    public var cwd: String?
    /// Secret-looking variables the tool may see anyway.
    public var passEnv: [String]
    /// Where the tool was declared (nil for tools made in code).
    public var source: SourceLocation?

    public init(
        name: String, description: String, parameters: JSONValue = ["type": "object", "properties": [:]],
        runner: Runner, priority: Int = 1, estimatedTime: Double? = nil, timeout: Double? = nil,
        preemptible: Bool? = nil, cpu: Bool? = nil, confirm: Bool = false, env: [String: String] = [:], cwd: String? = nil,
        passEnv: [String] = [], source: SourceLocation? = nil
    ) {
        self.name = name
        self.description = description
        self.parameters = parameters
        self.runner = runner
        self.priority = priority
        self.estimatedTime = estimatedTime
        self.timeout = timeout
        if case .exec = runner { self.preemptible = preemptible ?? true } else { self.preemptible = preemptible ?? false }
        self.cpu = cpu
        self.confirm = confirm
        self.env = env
        self.cwd = cwd
        self.passEnv = passEnv
        self.source = source
    }
}

/// An `http` runner: `{param}` placeholders in the URL (URL-encoded) and body, `${ENV}` in headers.
public struct HTTPRequestTemplate: Sendable, Equatable {
    public var method: String
    public var url: String
    public var headers: [String: String]
    /// A JSON value whose strings may hold `{param}` placeholders, or nil for no body.
    public var body: JSONValue?

    public init(method: String = "GET", url: String, headers: [String: String] = [:], body: JSONValue? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// A file and, where known, the line and column in it.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The path as shown to the user (`tools.d/weather.json`).
    public var file: String
    public var position: SourcePosition?

    public init(file: String, position: SourcePosition? = nil) {
        self.file = file
        self.position = position
    }

    public var description: String {
        position.map { "\(file):\($0.line):\($0.column)" } ?? file
    }
}

/// A problem found while loading tool declarations.
public struct ToolDiagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var severity: Severity
    public var location: SourceLocation
    public var message: String

    public init(_ severity: Severity, _ location: SourceLocation, _ message: String) {
        self.severity = severity
        self.location = location
        self.message = message
    }

    /// `tools.d/bad.json:3:14: invalid JSON: expected ',' or '}'`; warnings say `warning:`.
    public var description: String {
        severity == .warning ? "\(location): warning: \(message)" : "\(location): \(message)"
    }
}
