import Agent
import HTTP
import LLM
import MCPTools
import REPL
import Scheduler
import Store
import Tools
import ArgumentParser
import Foundation
import Synchronization

@main
struct AgentREPLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent-repl",
        abstract: "A terminal chat with an LLM agent that runs tools in parallel on a preemptive scheduler.",
        usage: """
            agent-repl [<options>]
            agent-repl logs [list | show ID | search TEXT | tasks | off | on] [--json] [--db PATH]
            agent-repl serve [--host HOST] [--port PORT] [--token TOKEN] [<options>]
            """,
        discussion: """
            Environment: OPENAI_API_KEY (never a flag), OPENAI_BASE_URL, AGENT_MODEL, AGENT_API (as --api), \
            AGENT_STREAM=0 (as --no-stream), AGENT_DB (as --db); a .env file in a \
            trusted working folder fills in variables that are not set (see /trust). With no key and no --base-url a local server \
            found on loopback answers (AGENT_LOCAL_PORTS, default 11434,8080,1234,8000), else the offline demo model. Exit codes: 0 success, 1 a failed one-shot turn, 2 bad usage or configuration.
            """,
        version: AgentReplVersion.string,
        subcommands: [LogsCommand.self, ServeCommand.self])

    @OptionGroup var runtime: RuntimeOptions

    @Option(name: [.short, .customLong("prompt")], help: "Answer one prompt, print the answer on stdout, and exit.")
    var prompt: String?

    @Flag(name: .long, help: "Check every tools.d folder, print each problem, and exit (2 on any error).")
    var checkTools = false

    @Flag(name: .long, help: "Run tools declared with \"confirm\": true without asking.")
    var yes = false

    // One option type shared with the `logs` subcommands: the parser gives `--db` to the root command
    // even after a subcommand's name, and hands the same value to a subcommand's group of this type.
    @OptionGroup var database: DatabaseOption

    @Flag(name: [.customShort("c"), .long], help: "Continue the last session started in this folder.")
    var `continue` = false

    @Option(name: .long, help: ArgumentHelp("Continue session ID (see /sessions or `agent-repl logs`).", valueName: "ID"))
    var resume: Int64?

    @OptionGroup var logging: NoLogOption

    @Flag(name: .long, help: ArgumentHelp("Print how long streamed text takes from the socket to the screen.", visibility: .hidden))
    var debugTiming = false

    mutating func validate() throws {
        if `continue` && resume != nil { throw ValidationError("--continue and --resume cannot be used together.") }
        if logging.noLog && (`continue` || resume != nil) { throw ValidationError("--no-log cannot continue a session: nothing is read or written.") }
    }

    func run() throws {
        Self.setUpProcess()
        let resolved = try runtime.resolve()
        if checkTools {
            let catalog = ToolLoader.load(extraFolders: runtime.toolsDirs, environment: resolved.environment, project: resolved.trusted)
            var (report, code) = Tools.checkTools(catalog: catalog)
            let servers = catalog.mcpServers
            if !servers.isEmpty {
                // Each server is started, its tools listed, and stopped.
                let (lines, failed) = Self.runBlocking { await MCPServerPool.check(servers, environment: resolved.environment) }
                report += "\n" + lines.joined(separator: "\n")
                if failed > 0 { code = 2 }
            }
            let text = report.hasSuffix("\n") ? report : report + "\n"
            // The report quotes the files: on a terminal, without their control characters.
            Output.out(isatty(1) == 1 ? TerminalTextFilter.clean(text) : text)
            throw ExitCode(code)
        }
        let (settings, modelNote) = try runtime.findModel(resolved.settings)
        let environment = resolved.environment
        var options = SessionOptions(modelName: settings.model)
        options.modelNote = modelNote
        options.maxSteps = runtime.maxSteps
        options.autoApprove = yes
        options.environment = environment
        options.scheduler = runtime.schedulerConfiguration
        if debugTiming { options.timing = ChunkTiming() }
        options.apiName = Self.apiName(settings)
        if `continue` { options.resume = .lastInFolder }
        if let resume { options.resume = .session(resume) }
        // AGENT_DB_COMMIT_PAUSE_MS: only for the tests that kill agent-repl while it commits a turn.
        let pause = environment["AGENT_DB_COMMIT_PAUSE_MS"].flatMap { Int64($0) }.map { Duration.milliseconds(min(max($0, 0), 60_000)) }
        // The chat works without its record; only continuing a session needs the database.
        options.store = database.openForRecording(
            noLog: logging.noLog, environment: environment, commitPause: pause ?? .zero, otherwise: "This session is not recorded.")
        let console = TerminalConsole.standard(oneShot: prompt != nil, environment: environment)
        let catalog = ToolLoader.load(extraFolders: runtime.toolsDirs, environment: environment, project: resolved.trusted)
        // MCP servers start in the background: the prompt does not wait for them.
        let mcp = MCPServerPool.declared(in: catalog, environment: environment)
        mcp?.start()
        let session = Session(
            model: ModelFactory.make(settings: settings, timing: options.timing),
            catalog: catalog, console: console, options: options, mcp: mcp)
        SignalRelay.install(
            onInterrupt: { session.interrupt() },
            onTerminate: { Self.terminate(session: session, console: console, signal: $0) })
        let code = Self.runBlocking { [prompt] in
            if let prompt { return await session.runOneShot(prompt) }
            return await session.runInteractive()
        }
        console.close()
        if let mcp { Self.runBlocking { await mcp.stop() } }
        throw ExitCode(code)
    }

    /// Hardening, the no-orphan watchdog, signals and the locale: what every command's process needs.
    static func setUpProcess() {
        do {
            try ProcessHardening.apply()
        } catch {
            Output.err("Warning: \(error)\n")
        }
        do {
            try Watchdog.start()
        } catch {
            Output.err("Warning: \(error)\n")
        }
        SignalRelay.setUpMainThread()
        signal(SIGPIPE, SIG_IGN)
        if setlocale(LC_ALL, "") == nil || !String(cString: nl_langinfo(nl_item(CODESET))).uppercased().contains("UTF") {
            setlocale(LC_CTYPE, "C.UTF-8")
        }
    }

    /// The API a session records: `demo` for the demo model, else the wire API.
    static func apiName(_ settings: Settings) -> String {
        switch settings.backend {
        case .demo: "demo"
        case .endpoint, .localOrDemo: settings.api.rawValue
        }
    }

    /// SIGTERM or SIGHUP: stop every turn and job, kill their tools' process groups, save the
    /// history, restore the terminal, and exit with 128 + the signal's number.
    private static func terminate(session: Session, console: TerminalConsole, signal: Int32) -> Never {
        let done = DispatchSemaphore(value: 0)
        Task {
            await session.shutdown()
            done.signal()
        }
        _ = done.wait(timeout: .now() + 3)
        console.restoreTerminal()
        Foundation.exit(128 + signal)
    }

    /// Runs async work from this synchronous entry point, whose thread keeps SIGINT blocked.
    static func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let result = ResultBox<T>()
        Task.detached {
            let value = await body()
            result.value.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.value.withLock { $0! }
    }

    /// Like ArgumentParser's, but bad usage exits with 2 as SPEC.md promises.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is ExitCode {
                exit(withError: error)
            }
            Output.err(fullMessage(for: error) + "\n")
            Foundation.exit(2)
        }
    }
}

/// What a `runBlocking` body returned, handed from its task to the waiting thread.
private final class ResultBox<T: Sendable>: Sendable {
    let value = Mutex<T?>(nil)
}

extension Strategy: ExpressibleByArgument {}

extension WireAPI: ExpressibleByArgument {}
