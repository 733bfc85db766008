import Foundation
import Testing
import Synchronization
import LLM
import MCPTools
import TestSupport
import Tools
@testable import REPL

/// A `Session` running `runInteractive` in-process on a `ScriptedConsole`.
final class REPLHarness: Sendable {
    /// What the session wrote in answer to one input.
    struct Reply {
        var out: String
        var err: String
        /// stdout and stderr interleaved.
        var all: String
    }

    let console: ScriptedConsole
    let session: Session
    private let ended = ExitCode()

    init(model: any ChatModel, tools: ToolCatalog = ToolCatalog(), console: ScriptedConsole = ScriptedConsole(),
         mcp: MCPServerPool? = nil, configure: (inout SessionOptions) -> Void = { _ in }) {
        var options = SessionOptions(modelName: "test-model")
        options.environment = ProcessInfo.processInfo.environment
        configure(&options)
        self.console = console
        session = Session(model: model, catalog: tools, console: console, options: options, mcp: mcp)
        Task { [session, ended] in
            let code = await session.runInteractive()
            ended.code.withLock { $0 = code }
            console.sessionEnded()
        }
    }

    /// The exit code once `runInteractive` returned.
    var exitCode: Int32? { ended.code.withLock { $0 } }

    /// Waits until the session asks for a line, or has ended.
    func waitForPrompt() async throws {
        try await console.waitUntilIdle()
    }

    /// Waits until no background job runs.
    func waitForJobs() async throws {
        try #require(await Proc.eventually { session.jobs.all.allSatisfy { $0.status != .running } }, "every job ends")
    }

    /// Types `input` at the prompt and returns what the session wrote until it next asks for a line
    /// (or ends).
    @discardableResult
    func send(_ input: LineInput) async throws -> Reply {
        try await waitForPrompt()
        let before = console.marks
        guard console.type(input) else { throw TestFailure("the session ended before \(input)") }
        try await waitForPrompt()
        return Reply(out: String(console.out.dropFirst(before.out)), err: String(console.err.dropFirst(before.err)),
                     all: String(console.all.dropFirst(before.all)))
    }

    /// Types `line` at the prompt and returns at once, while the session works on it.
    func start(_ line: String) async throws {
        try await waitForPrompt()
        guard console.type(.line(line)) else { throw TestFailure("the session ended before \(line)") }
    }

    @discardableResult
    func enter(_ line: String) async throws -> Reply {
        try await send(.line(line))
    }

    /// Ends the input (Ctrl-D) and waits for the session to return.
    func close() async throws -> Int32 {
        try await send(.endOfInput)
        return try #require(exitCode)
    }
}

/// Where the session's exit code lands.
private final class ExitCode: Sendable {
    let code = Mutex<Int32?>(nil)
}
