import Foundation
import HTTP
import JSON

/// Starts tool calls with the executor of their runner (`exec`, `http`, `builtin`).
///
/// A call is checked once, by ``invocation(of:arguments:)``: the parsed, schema-checked arguments are
/// what the executor gets. A call that fails the check is a `ToolResult` for the model
/// (`.invalidArguments`), never a thrown error. Asking the user (`"confirm": true`) and timeouts
/// belong to the caller: the agent asks before it submits a call, the scheduler owns time.
public struct ToolRunner: Sendable {
    public var environment: [String: String] {
        get { environmentBase.all }
        set { environmentBase = ToolEnvironment.Base(newValue) }
    }
    /// `environment` with its secrets sorted out once.
    private(set) var environmentBase: ToolEnvironment.Base
    /// The folder builtins are confined to.
    public var fileRoot: URL
    /// Cap on stdout / response body / file contents handed to the model.
    public var outputLimit: Int
    /// Time between SIGTERM and SIGKILL when a tool is stopped.
    public var killGrace: Duration
    /// How `http` tools reach the network.
    public var transport: any HTTPTransport
    /// Who makes `mcp` tools' calls (the session's MCP servers); nil: such calls fail.
    public var mcp: (any MCPToolCaller)?
    /// How builtins resolve paths beneath `fileRoot`; tests choose `.walk` to exercise the fallback.
    var fileResolution: FileSandbox.Resolution = .openat2

    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        fileRoot: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
        outputLimit: Int = 1 << 20,
        killGrace: Duration = .milliseconds(500),
        transport: any HTTPTransport = CurlTransport()
    ) {
        environmentBase = ToolEnvironment.Base(environment)
        self.fileRoot = fileRoot
        self.outputLimit = outputLimit
        self.killGrace = killGrace
        self.transport = transport
    }

    /// Parses and checks a call's arguments (text from the model) against the tool's schema.
    /// - Returns: the call ready to start, or the `.invalidArguments` result the model reads.
    public static func invocation(of tool: ToolDeclaration, arguments: String) -> Result<ToolInvocation, InvalidCall> {
        invocation(of: tool, SchemaValidator.parseArguments(arguments, schema: tool.parameters))
    }

    /// The same check for arguments that are already a value (an HTTP request's JSON object).
    public static func invocation(of tool: ToolDeclaration, argumentsValue: JSONValue) -> Result<ToolInvocation, InvalidCall> {
        invocation(of: tool, SchemaValidator.checkArguments(argumentsValue, schema: tool.parameters))
    }

    private static func invocation(of tool: ToolDeclaration, _ checked: Result<JSONValue, SchemaValidator.ArgumentError>) -> Result<ToolInvocation, InvalidCall> {
        switch checked {
        case .success(let value): .success(ToolInvocation(tool: tool, arguments: value))
        case .failure(let error): .failure(InvalidCall(result: .failure(error.message, outcome: .invalidArguments)))
        }
    }

    /// Starts one checked call; returns at once. Await `result()` on the returned execution.
    /// `progress` is called when the tool reports progress (MCP progress notifications).
    public func start(_ invocation: ToolInvocation, progress: @escaping @Sendable () -> Void = {}) -> ToolExecution {
        let tool = invocation.tool
        let execution = ToolExecution(toolName: tool.name, canPause: invocation.canPause)
        switch tool.runner {
        case .exec(let argv):
            ExecExecutor.start(tool: tool, argv: argv, arguments: invocation.arguments, runner: self, execution: execution)
        case .http(let template):
            HTTPExecutor.start(tool: tool, template: template, arguments: invocation.arguments, runner: self, execution: execution)
        case .builtin(let name):
            BuiltinTools.start(
                name: name, arguments: invocation.arguments, root: fileRoot, resolution: fileResolution,
                outputLimit: outputLimit, execution: execution)
        case .mcp(let target):
            let caller = mcp
            let arguments = invocation.arguments
            execution.runTask({
                guard let caller else { return .failure("MCP server '\(target.server)' is not running") }
                let result = await caller.call(target, arguments: arguments, progress: progress)
                try Task.checkCancellation()
                return result
            }, describe: { "\($0)" })
        }
        return execution
    }

    /// Checks, starts and waits for one call (tests and benchmarks; the agent goes through the scheduler).
    public func run(_ tool: ToolDeclaration, arguments: String) async -> ToolResult {
        switch Self.invocation(of: tool, arguments: arguments) {
        case .success(let invocation): await start(invocation).result()
        case .failure(let invalid): invalid.result
        }
    }

    /// The result for a call of a tool that is not declared.
    public static func unknownTool(_ name: String, known: [String]) -> ToolResult {
        let hint = didYouMean(name, known).map { " Did you mean '\($0)'?" } ?? ""
        return .failure("there is no tool named '\(name)'.\(hint) Available tools: \(known.joined(separator: ", "))", outcome: .invalidArguments)
    }
}

/// A call whose arguments parsed and matched the tool's schema: what an executor gets.
public struct ToolInvocation: Sendable {
    public let tool: ToolDeclaration
    public let arguments: JSONValue

    /// True for preemptible `exec` tools: their process group can be stopped and continued.
    public var canPause: Bool {
        if case .exec = tool.runner { tool.preemptible } else { false }
    }
}

/// A call that cannot start: its arguments are not JSON or break the tool's schema.
public struct InvalidCall: Error, Sendable {
    /// The `.invalidArguments` result the model reads.
    public var result: ToolResult
}

/// Runs `exec` tools: argv without a shell, the arguments as one JSON object on stdin.
enum ExecExecutor {
    static func start(tool: ToolDeclaration, argv: [String], arguments: JSONValue, runner: ToolRunner, execution: ToolExecution) {
        let environment = runner.environmentBase.make(passEnv: tool.passEnv, extra: tool.env)
        let limit = runner.outputLimit
        do {
            let child = try ChildProcess.spawn(
                argv: argv, environment: environment, workingDirectory: tool.cwd,
                input: Array((arguments.jsonString + "\n").utf8), outputLimit: limit, killGrace: runner.killGrace
            ) { outcome in
                execution.finish(result(outcome, limit: limit))
            }
            execution.attach(child)
        } catch {
            execution.finish(.failure(error.description))
        }
    }

    static func result(_ o: ChildProcess.Outcome, limit: Int) -> ToolResult {
        var output = String(decoding: o.stdout, as: UTF8.self)
        if o.stdoutTotal > o.stdout.count {
            output += "\n[output cut: showing the first \(o.stdout.count) of \(o.stdoutTotal) bytes]"
        }
        let stderr = String(decoding: o.stderrTail, as: UTF8.self)
        var result = ToolResult(outcome: .success, output: output, exitCode: o.exitCode, signal: o.signal, stderrTail: stderr.isEmpty ? nil : stderr)
        result.cpuTime = o.cpuTime
        if let signal = o.signal {
            result.outcome = .failed
            result.error = "the tool was killed by signal \(signal)"
        } else if let code = o.exitCode, code != 0 {
            result.outcome = .failed
            let lastLine = stderr.split(separator: "\n").last.map { ": \($0)" } ?? ""
            result.error = "the tool exited with status \(code)\(lastLine)"
        }
        return result
    }
}
