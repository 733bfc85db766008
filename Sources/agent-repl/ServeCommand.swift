import Agent
import ArgumentParser
import Foundation
import MCPTools
import Scheduler
import Server
import Store
import Tools

/// `agent-repl serve`: the same runtime (model, tools, scheduler) as an HTTP service.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the scheduler over HTTP: the REST API, live events (/events), a dashboard (/), the API document (/docs).",
        discussion: """
            On a loopback address no token is needed unless one is set; on any other address a bearer token is required \
            (--token or $AGENT_REPL_TOKEN, at least 16 characters). SIGTERM or Ctrl-C: no new tasks, running ones may end \
            within --grace seconds, then the rest are cancelled; exit code 0.
            """)

    @OptionGroup var runtime: RuntimeOptions

    // The same option types as the chat's: the parser hands `--db` and `--no-log` to both.
    @OptionGroup var database: DatabaseOption

    @OptionGroup var logging: NoLogOption

    @Option(name: .long, help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on (0: any free port).")
    var port = 8000

    @Option(name: .long, help: "Bearer token every API request must carry (default $AGENT_REPL_TOKEN).")
    var token: String?

    @Option(name: .customLong("max-queued"), help: ArgumentHelp("Tasks not yet ended beyond which POST /tasks answers 429.", valueName: "N"))
    var maxQueued = 1000

    @Option(name: .long, help: ArgumentHelp("Seconds running tasks may take to end after SIGTERM.", valueName: "SECONDS"))
    var grace = 10.0

    func validate() throws {
        if !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535.") }
        if !(1...1_000_000).contains(maxQueued) { throw ValidationError("--max-queued must be between 1 and 1000000.") }
        if !(grace >= 0 && grace <= 3600) { throw ValidationError("--grace must be a number of seconds from 0 to 3600.") }
    }

    func run() throws {
        AgentREPLCommand.setUpProcess()
        // The server's signals (SIGTERM, SIGINT) are taken by its own handler, on any thread.
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
        let resolved = try runtime.resolve()
        let (settings, modelNote) = try runtime.findModel(resolved.settings)
        var options = ServerOptions()
        options.host = host
        options.port = port
        options.token = token ?? resolved.environment["AGENT_REPL_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        options.drainGrace = .milliseconds(Int64(grace * 1000))
        if let refusal = options.refusal {
            Output.err("agent-repl serve: \(refusal) Set one with --token or AGENT_REPL_TOKEN.\n")
            throw ExitCode(2)
        }
        let clock = ContinuousSchedulerClock()
        let catalog = ToolLoader.load(extraFolders: runtime.toolsDirs, environment: resolved.environment, project: resolved.trusted)
        for diagnostic in catalog.diagnostics { Output.err("\(diagnostic)\n") }
        // tools.d's MCP servers start in the background with the server; their tools join as each is ready.
        let mcp = MCPServerPool.declared(in: catalog, environment: resolved.environment)
        let service = TaskService(
            scheduler: ToolScheduler(configuration: runtime.schedulerConfiguration, clock: clock, runnableThreads: SystemLoad.runnable),
            clock: clock, catalog: catalog,
            runner: ToolRunner(environment: resolved.environment, fileRoot: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)),
            mcp: mcp,
            model: ModelFactory.make(settings: settings, timing: nil), modelName: settings.model, maxLiveTasks: maxQueued)
        // Each /chat conversation is a session in the database (continued after a restart); without
        // one, they are kept in memory.
        let store = database.openForRecording(
            noLog: logging.noLog, environment: resolved.environment, otherwise: "Conversations of /chat are kept in memory only.")
        let archive = store.map { store in
            ChatArchive(
                store: store, folder: FileManager.default.currentDirectoryPath, api: AgentREPLCommand.apiName(settings),
                scheduler: service.scheduler, warn: { Output.err("Warning: \($0)\n") })
        }
        archive?.prepare()
        let maxSteps = runtime.maxSteps
        let sessions = ChatSessions(archive: archive) { [service] number in service.makeAgent(conversation: number, maxSteps: maxSteps) }
        let server = AgentServer(service: service, sessions: sessions, options: options)
        let model = service.model.displayName + (modelNote.map { " (\($0))" } ?? "")
        let code = AgentREPLCommand.runBlocking { [host] in
            do {
                try await server.run(handlesSignals: true) { port in
                    let shown = host.contains(":") ? "[\(host)]" : host
                    let recording = store.map { " · chats recorded in \($0.path)" } ?? ""
                    Output.err("agent-repl serve: http://\(shown):\(port)/ · \(model) · \(catalog.tools.count) tools\(mcp.map { " + \($0.servers.count) MCP servers" } ?? "")\(recording)\n")
                }
                return Int32(0)
            } catch {
                Output.err("agent-repl serve: \(error)\n")
                return Int32(1)
            }
        }
        throw ExitCode(code)
    }
}
