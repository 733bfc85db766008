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
        usage: "agent-repl [<options>]\nagent-repl logs [list | show ID | search TEXT | tasks | off | on] [--json] [--db PATH]",
        discussion: """
            Environment: OPENAI_API_KEY (never a flag), OPENAI_BASE_URL, AGENT_MODEL, AGENT_API (as --api), \
            AGENT_STREAM=0 (as --no-stream), AGENT_DB (as --db); a .env file in a \
            trusted working folder fills in variables that are not set (see /trust). With no key and no --base-url a local server \
            found on loopback answers (AGENT_LOCAL_PORTS, default 11434,8080,1234,8000), else the offline demo model. Exit codes: 0 success, 1 a failed one-shot turn, 2 bad usage or configuration.
            """,
        version: AgentReplVersion.string,
        subcommands: [LogsCommand.self])

    @Option(name: .long, help: "OpenAI-compatible endpoint (default $OPENAI_BASE_URL or https://api.openai.com/v1).")
    var baseURL: String?

    @Option(name: .long, help: "Model name (default $AGENT_MODEL or \(Settings.defaultModel)).")
    var model: String?

    @Option(name: .long, help: ArgumentHelp("The endpoint's API: chat (Chat Completions, the default; also $AGENT_API) or responses (the Responses API).", valueName: "chat|responses"))
    var api: WireAPI?

    @Option(name: [.short, .customLong("prompt")], help: "Answer one prompt, print the answer on stdout, and exit.")
    var prompt: String?

    @Flag(name: .long, help: "Use the offline demo model.")
    var demo = false

    @Flag(name: .long, help: "Ask the model for whole answers instead of streamed ones (also $AGENT_STREAM=0; chosen automatically for a server that cannot stream tool calls).")
    var noStream = false

    @Option(name: .long, help: ArgumentHelp("Stop a turn after this many model calls.", valueName: "N"))
    var maxSteps = 12

    @Option(name: .customLong("tools-dir"), help: ArgumentHelp("Another folder of tool declarations (repeatable).", valueName: "DIR"))
    var toolsDirs: [String] = []

    @Flag(name: .long, help: "Check every tools.d folder, print each problem, and exit (2 on any error).")
    var checkTools = false

    @Flag(name: .long, help: "Run tools declared with \"confirm\": true without asking.")
    var yes = false

    @Option(name: .long, help: "Scheduling strategy: mlfq, preemptive, priority, round_robin, sjf, fifo.")
    var strategy: Strategy = .mlfq

    @Option(name: .long, help: "How many tools may run at once.")
    var workers = SchedulerConfiguration().workers

    @Option(name: .long, help: ArgumentHelp("Top-level time slice (default 0.05); levels above the lowest double it, the lowest runs 10 s slices.", valueName: "SECONDS"))
    var quantum: Double?

    // One option type shared with the `logs` subcommands: the parser gives `--db` to the root command
    // even after a subcommand's name, and hands the same value to a subcommand's group of this type.
    @OptionGroup var database: DatabaseOption

    @Flag(name: [.customShort("c"), .long], help: "Continue the last session started in this folder.")
    var `continue` = false

    @Option(name: .long, help: ArgumentHelp("Continue session ID (see /sessions or `agent-repl logs`).", valueName: "ID"))
    var resume: Int64?

    @Flag(name: .long, help: "Record nothing in the session database (also `agent-repl logs off`).")
    var noLog = false

    @Flag(name: .long, help: ArgumentHelp("Print how long streamed text takes from the socket to the screen.", visibility: .hidden))
    var debugTiming = false

    mutating func validate() throws {
        if let baseURL, !Self.isHTTP(baseURL) {
            // Not echoed: a mistyped URL may still hold a user and password.
            throw ValidationError("--base-url must be an http or https URL, such as http://127.0.0.1:8080/v1.")
        }
        if maxSteps < 1 { throw ValidationError("--max-steps must be at least 1.") }
        if workers < 1 || workers > 256 { throw ValidationError("--workers must be between 1 and 256.") }
        if let quantum, !(quantum > 0 && quantum <= 3600) { throw ValidationError("--quantum must be a number of seconds above 0.") }
        if `continue` && resume != nil { throw ValidationError("--continue and --resume cannot be used together.") }
        if noLog && (`continue` || resume != nil) { throw ValidationError("--no-log cannot continue a session: nothing is read or written.") }
    }

    /// The endpoint's scheme is http or https, whichever source named it.
    static func isHTTP(_ url: String) -> Bool {
        URL(string: url)?.scheme.map { ["http", "https"].contains($0.lowercased()) } == true
    }

    func run() throws {
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
        // The working folder's .env and tools.d only when the folder is trusted (SPEC "Trust and safety").
        let workingFolder = FileManager.default.currentDirectoryPath
        let trusted = ProjectTrust.decide(folder: workingFolder, environment: ProcessInfo.processInfo.environment)
        let environment = !trusted ? ProcessInfo.processInfo.environment : DotEnv.merged(
            into: ProcessInfo.processInfo.environment,
            file: URL(fileURLWithPath: workingFolder).appendingPathComponent(".env"))
        var settings: Settings
        do {
            settings = try Settings.resolve(
                flags: CommandLineSettings(baseURL: baseURL, model: model, demo: demo, noStream: noStream, api: api),
                environment: environment)
        } catch {
            Output.err("\(error)\n")
            throw ExitCode(2)
        }
        if checkTools {
            var (report, code) = Tools.checkTools(extraFolders: toolsDirs, environment: environment, project: trusted)
            let servers = ToolLoader.load(extraFolders: toolsDirs, environment: environment, project: trusted).mcpServers
            if !servers.isEmpty {
                // Each server is started, its tools listed, and stopped.
                let (lines, failed) = Self.runBlocking { await MCPServerPool.check(servers, environment: environment) }
                report += "\n" + lines.joined(separator: "\n")
                if failed > 0 { code = 2 }
            }
            let text = report.hasSuffix("\n") ? report : report + "\n"
            // The report quotes the files: on a terminal, without their control characters.
            Output.out(isatty(1) == 1 ? TerminalTextFilter.clean(text) : text)
            throw ExitCode(code)
        }
        if case .endpoint(let url, _) = settings.backend, !Self.isHTTP(url) {
            // Only the environment or .env can get here (the flag is checked in validate); not echoed.
            Output.err("OPENAI_BASE_URL must be an http or https URL, such as http://127.0.0.1:8080/v1.\n")
            throw ExitCode(2)
        }
        let modelNote: String?
        (settings, modelNote) = Self.runBlocking { [settings] in await ModelFactory.findLocalServer(settings) }
        var options = SessionOptions(modelName: settings.model)
        options.modelNote = modelNote
        options.maxSteps = maxSteps
        options.autoApprove = yes
        options.environment = environment
        options.scheduler.strategy = strategy
        options.scheduler.workers = workers
        if let quantum { options.scheduler.baseQuantum = .milliseconds(Int64(quantum * 1000)) }
        if debugTiming { options.timing = ChunkTiming() }
        options.apiName = Self.apiName(settings)
        if `continue` { options.resume = .lastInFolder }
        if let resume { options.resume = .session(resume) }
        if !noLog && !StoreLocation.isLoggingOff(environment: environment),
            let path = StoreLocation.databasePath(explicit: database.path, environment: environment) {
            do {
                // AGENT_DB_COMMIT_PAUSE_MS: only for the tests that kill agent-repl while it commits a turn.
                let pause = environment["AGENT_DB_COMMIT_PAUSE_MS"].flatMap { Int64($0) }.map { Duration.milliseconds(min(max($0, 0), 60_000)) }
                options.store = try SessionStore(path: path, commitPause: pause ?? .zero)
            } catch {
                // The chat works without its record; only continuing a session needs the database.
                Output.err("Warning: \(error) This session is not recorded.\n")
            }
        }
        let console = TerminalConsole.standard(oneShot: prompt != nil, environment: environment)
        let catalog = ToolLoader.load(extraFolders: toolsDirs, environment: environment, project: trusted)
        // MCP servers start in the background: the prompt does not wait for them.
        let mcp = catalog.mcpServers.isEmpty ? nil : MCPServerPool(catalog.mcpServers, environment: environment)
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

    /// The endpoint's API as a session records it.
    private static func apiName(_ settings: Settings) -> String {
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
    private static func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
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
