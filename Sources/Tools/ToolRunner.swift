import Foundation
import JSON

/// Starts tool calls: checks the arguments against the tool's schema, asks for confirmation when
/// the tool wants it, then runs it with the executor of its runner (`exec`, `http`, `builtin`).
///
/// Every failure before the tool runs - bad JSON, a schema violation, a refusal - is a
/// `ToolResult` for the model, never a thrown error.
public struct ToolRunner: Sendable {
    public var environment: [String: String]
    public var confirmation: any ConfirmationProvider
    /// The folder builtins are confined to.
    public var fileRoot: URL
    /// Cap on stdout / response body / file contents handed to the model.
    public var outputLimit: Int
    /// Time between SIGTERM and SIGKILL when a tool is stopped.
    public var killGrace: Duration

    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        confirmation: any ConfirmationProvider = RefusingConfirmation(),
        fileRoot: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
        outputLimit: Int = 1 << 20,
        killGrace: Duration = .milliseconds(500)
    ) {
        self.environment = environment
        self.confirmation = confirmation
        self.fileRoot = fileRoot
        self.outputLimit = outputLimit
        self.killGrace = killGrace
    }

    /// Starts one call; returns at once. Await `result()` on the returned execution.
    public func start(_ tool: ToolDeclaration, arguments: String) -> ToolExecution {
        let parsed: JSONValue
        switch SchemaValidator.parseArguments(arguments, schema: tool.parameters) {
        case .success(let value): parsed = value
        case .failure(let error): return .finished(toolName: tool.name, .failure(error.message, outcome: .invalidArguments))
        }

        let canPause: Bool
        if case .exec = tool.runner { canPause = tool.preemptible } else { canPause = false }
        let execution = ToolExecution(toolName: tool.name, canPause: canPause, timeout: tool.timeout.map { .milliseconds(Int64($0 * 1000)) })

        if tool.confirm {
            let runner = self
            let confirmation = self.confirmation
            let argumentText = parsed.jsonString
            Task {
                let approved = await confirmation.confirm(tool: tool.name, arguments: argumentText)
                if execution.isEnding {
                    execution.finish(.failure("the tool was cancelled", outcome: .cancelled))
                } else if approved {
                    runner.launch(tool, parsed, execution)
                } else {
                    execution.finish(.failure("the user declined to run this tool", outcome: .declined))
                }
            }
        } else {
            launch(tool, parsed, execution)
        }
        return execution
    }

    /// Starts a call of the tool named by the model; an unknown name is an immediate failed result.
    public func start(toolNamed name: String, in catalog: ToolCatalog, arguments: String) -> ToolExecution {
        guard let tool = catalog.tool(named: name) else {
            return .finished(toolName: name, Self.unknownTool(name, known: catalog.tools.map(\.name)))
        }
        return start(tool, arguments: arguments)
    }

    /// Starts a call and waits for its result.
    public func run(_ tool: ToolDeclaration, arguments: String) async -> ToolResult {
        await start(tool, arguments: arguments).result()
    }

    /// The result for a call of a tool that is not declared.
    public static func unknownTool(_ name: String, known: [String]) -> ToolResult {
        let hint = didYouMean(name, known).map { " Did you mean '\($0)'?" } ?? ""
        return .failure("there is no tool named '\(name)'.\(hint) Available tools: \(known.joined(separator: ", "))", outcome: .invalidArguments)
    }

    private func launch(_ tool: ToolDeclaration, _ arguments: JSONValue, _ execution: ToolExecution) {
        switch tool.runner {
        case .exec(let argv):
            ExecExecutor.start(tool: tool, argv: argv, arguments: arguments, runner: self, execution: execution)
        case .http(let template):
            HTTPExecutor.start(tool: tool, template: template, arguments: arguments, runner: self, execution: execution)
        case .builtin(let name):
            BuiltinTools.start(name: name, arguments: arguments, root: fileRoot, outputLimit: outputLimit, execution: execution)
        }
    }
}

/// Runs `exec` tools: argv without a shell, the arguments as one JSON object on stdin.
enum ExecExecutor {
    static func start(tool: ToolDeclaration, argv: [String], arguments: JSONValue, runner: ToolRunner, execution: ToolExecution) {
        let environment = ToolEnvironment.make(base: runner.environment, passEnv: tool.passEnv, extra: tool.env)
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
        var result = ToolResult(outcome: .success, output: output, exitCode: o.exitCode, stderrTail: stderr.isEmpty ? nil : stderr)
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
