import Agent
import HTTP
import LLM
import MCPTools
import Scheduler
import Store
import Server
import Tools
import Foundation
import Synchronization

/// One run of agent-repl: the model, the tools, the one scheduler, the conversation and its
/// background jobs, and the loop over prompts read from a `Console`.
public final class Session: Sendable {
    let agent: Agent
    let scheduler: ToolScheduler
    let catalog: ToolCatalog
    let jobs = BackgroundJobs()
    /// Every model call and tool step of the session, foreground and background, for `/stats`.
    let usage = ModelUsageLedger()
    private let model: any ChatModel
    private let console: any Console
    private let executor: ScheduledToolExecutor
    private let agentConfiguration: Agent.Configuration
    private let nextConversation = Mutex(1)
    /// The scheduler's clock, which `/serve` needs for the tasks' dates.
    private let schedulerClock = ContinuousSchedulerClock()
    /// `/serve`: the HTTP server over this session's scheduler, while it runs.
    private let served = Mutex<(server: AgentServer, port: Int, running: Task<Void, Never>)?>(nil)
    private let options: SessionOptions
    /// The console's question, when there is one to ask (not with `--yes`, nor without a terminal).
    private let gate: ConfirmationGate?
    /// The turn Ctrl-C would cancel.
    private let currentTurn = Mutex<Task<String, any Error>?>(nil)
    /// Records the conversation in the session database; nil when logging is off.
    let recorder: SessionRecorder?
    /// The MCP servers of tools.d, started in the background (nil: none declared).
    private let mcp: MCPServerPool?

    /// `mcp`: the servers `catalog.mcpServers` declares, already starting; their tools join as each is ready.
    public init(model: any ChatModel, catalog: ToolCatalog, console: any Console, options: SessionOptions, mcp: MCPServerPool? = nil) {
        self.mcp = mcp
        self.model = model
        self.catalog = catalog
        self.console = console
        self.options = options
        scheduler = ToolScheduler(configuration: options.scheduler, clock: schedulerClock, runnableThreads: SystemLoad.runnable)
        let confirmation: any ConfirmationProvider
        if options.autoApprove {
            gate = nil
            confirmation = AutoApproval()
        } else if console.canConfirm {
            let gate = ConfirmationGate(console)
            self.gate = gate
            confirmation = gate
        } else {
            gate = nil
            confirmation = RefusingConfirmation()
        }
        var runner = ToolRunner(environment: options.environment, fileRoot: options.workingFolder)
        runner.mcp = mcp
        let live = LiveToolCatalog(catalog)
        mcp?.follow(adding: catalog) { live.replace(with: $0) }
        executor = ScheduledToolExecutor(scheduler: scheduler, liveCatalog: live, runner: runner, confirmation: confirmation)
        var configuration = Agent.Configuration(
            model: options.modelName, tools: executor.definitions, maxSteps: options.maxSteps, dispatchesEarly: options.dispatchesEarly)
        if mcp != nil { configuration.liveTools = { [executor] in executor.definitions } }
        agentConfiguration = configuration
        agent = Agent(id: 0, model: model, configuration: agentConfiguration, executor: executor, clock: options.clock)
        if let store = options.store {
            recorder = SessionRecorder(
                store: store, folder: options.workingFolder.path, api: options.apiName, scheduler: scheduler,
                warn: { [console] in console.showError("Warning: \($0)\n") })
        } else {
            recorder = nil
        }
    }

    public var banner: String {
        "agent-repl \(AgentReplVersion.string) · \(modelDescription) · \(executor.catalog.tools.count) tools · "
            + "\(options.scheduler.strategy.rawValue) on \(options.scheduler.workers) workers · /help for commands\n"
    }

    /// The model as the banner and `/model` show it.
    private var modelDescription: String {
        if model is DemoModel { return "demo model (offline; set OPENAI_API_KEY or --base-url, or start a local server, for a real one)" }
        return model.displayName + (options.modelNote.map { " (\($0))" } ?? "")
    }

    // MARK: Modes

    /// `-p TEXT`: the answer on stdout, progress and errors on stderr; 1 when the turn fails.
    public func runOneShot(_ prompt: String) async -> Int32 {
        guard startRecording(showingLastExchange: false) else { return 2 }
        reportToolProblems()
        await waitForMCPServers()
        let ok = await runTurn(prompt)
        return ok ? 0 : 1
    }

    /// The REPL on a terminal, or line by line from a pipe; returns the exit code.
    public func runInteractive() async -> Int32 {
        let interactive = console.isInteractive
        if interactive { console.write(banner) }
        guard startRecording(showingLastExchange: true) else { return 2 }
        reportToolProblems()
        // Only a person at a prompt is kept from waiting: piped prompts get every server's tools.
        if !interactive { await waitForMCPServers() }
        while true {
            announceEndedJobs()
            guard let input = await readPrompt(interactive: interactive) else { break }
            let text = input.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text.hasPrefix("/") {
                if case .quit = await handleCommand(text) { break }
                continue
            }
            if text.hasSuffix(" &") || text == "&" {
                startJob(String(text.dropLast()).trimmingCharacters(in: .whitespaces))
                continue
            }
            _ = await runTurn(text)
        }
        // Without a terminal, input ends before background jobs do: let them finish and say how.
        if !interactive {
            await jobs.waitForAll()
            announceEndedJobs()
        }
        return 0
    }

    /// Ctrl-C during a turn: cancels it and its tools; the conversation stays as it was before it.
    public func interrupt() {
        currentTurn.withLock { $0?.cancel() }
    }

    /// Stops the running turn and every background job, and kills every tool's process group
    /// (SIGTERM, SIGHUP). Returns when no tool runs any more.
    public func shutdown() async {
        await stopServing()
        interrupt()
        for job in jobs.all { jobs.cancel(job.number) }
        await scheduler.shutdown()
        await mcp?.stop()
    }

    /// Readies the session database (learned estimates, interrupted turns) and continues the session
    /// asked for; false when that session cannot be continued.
    private func startRecording(showingLastExchange: Bool) -> Bool {
        guard let recorder else {
            if options.resume != nil {
                console.showError("Cannot continue a session: logging to the session database is off.\n")
                return false
            }
            return true
        }
        recorder.prepare()
        switch options.resume {
        case nil:
            return true
        case .lastInFolder:
            let last: StoredSession?
            do {
                last = try recorder.store.sessions(folder: options.workingFolder.path, limit: 1).first
            } catch {
                console.showError("\(error)\n")
                return false
            }
            guard let last else {
                console.showError("No earlier session in this folder to continue.\n")
                return false
            }
            return resume(last.id, showingLastExchange: showingLastExchange)
        case .session(let id):
            return resume(id, showingLastExchange: showingLastExchange)
        }
    }

    /// Continues session `id`: its conversation replaces the current one, and later turns are added to it.
    @discardableResult
    private func resume(_ id: Int64, showingLastExchange: Bool) -> Bool {
        guard let recorder else {
            console.showError("Logging to the session database is off: there are no sessions to resume.\n")
            return false
        }
        let session: StoredSession
        let messages: [ChatMessage]
        do {
            guard let found = try recorder.store.session(id) else {
                console.showError("No session \(id). /sessions lists the recent ones.\n")
                return false
            }
            session = found
            messages = try recorder.store.conversation(of: id)
        } catch {
            console.showError("\(error)\n")
            return false
        }
        agent.restore(messages)
        recorder.continueSession(id)
        guard showingLastExchange else { return true }
        // On a terminal with the conversation; from a pipe on stderr, where stdout carries only answers.
        let text = "Resumed session \(id) (\(SessionView.turns(session.turns))): \(session.title)\n" + (SessionView.lastExchange(messages) ?? "")
        if console.isInteractive { console.show(text) } else { console.showError(text) }
        return true
    }

    /// One prompt, joining lines that end in a backslash; nil at end of input.
    private func readPrompt(interactive: Bool) async -> String? {
        var lines: [String] = []
        while true {
            let prompt = !interactive ? "" : (lines.isEmpty ? "> " : "… ")
            switch await console.readLine(prompt: prompt) {
            case .endOfInput:
                if interactive { console.write("\n") }
                return lines.isEmpty ? nil : lines.joined(separator: "\n")
            case .interrupted:
                console.write("^C\n")
                lines = []
            case .line(let line):
                if line.hasSuffix("\\") {
                    lines.append(String(line.dropLast()))
                } else {
                    lines.append(line)
                    return lines.joined(separator: "\n")
                }
            }
        }
    }

    /// Waits until each MCP server is ready or failed (each within its start timeout); reports failures.
    private func waitForMCPServers() async {
        guard let mcp else { return }
        await mcp.waitUntilSettled()
        for server in mcp.servers {
            if case .failed(let reason) = server.status.state { console.showError("MCP server '\(server.declaration.name)' did not start: \(reason)\n") }
        }
    }

    private func reportToolProblems() {
        for diagnostic in catalog.diagnostics { console.showError("\(diagnostic)\n") }
    }

    // MARK: Turns

    /// Runs one turn, streaming its text; errors go to stderr as sentences, then the turn's footer
    /// (tokens and time) when the model answered at all. Returns whether the turn answered.
    private func runTurn(_ prompt: String) async -> Bool {
        let renderer = TurnRenderer(
            console: console, stats: { [scheduler] in scheduler.stats },
            quiet: { [gate] in gate?.isAsking ?? false }, timing: options.timing)
        let meter = TurnMeter(clock: options.clock, ledger: usage)
        let earlier = agent.messages.count
        let recording = recorder?.beginTurn(prompt: prompt, model: agent.modelName)
        let task = Task { [agent] in
            try await agent.run(prompt: prompt, events: { event in
                meter.observe(event)
                recording?.observe(event)
                renderer.handle(event)
            })
        }
        currentTurn.withLock { $0 = task }
        let result = await task.result
        currentTurn.withLock { $0 = nil }
        recording?.finish(result, describeError: ErrorHint.message(for:), messages: Array(agent.messages.dropFirst(earlier)))
        let summary = meter.finish()
        renderer.finish()
        switch result {
        case .success:
            break
        case .failure(let error as AgentError) where error.code == .cancelled:
            console.writeError("Cancelled; the conversation is as it was before this prompt.\n")
        case .failure(let error):
            console.showError("Error: \(ErrorHint.message(for: error))\n")
        }
        if let footer = ModelUsageView.footer(summary) { renderer.footer(footer) }
        if case .success = result { return true }
        return false
    }

    private func startJob(_ prompt: String) {
        guard !prompt.isEmpty else {
            console.writeError("Nothing to run in the background: write the prompt before the &.\n")
            return
        }
        let id = newConversationID()
        var configuration = agentConfiguration
        configuration.model = agent.modelName
        let jobAgent = Agent(id: id, model: model, configuration: configuration, executor: executor, clock: options.clock)
        // Jobs start only from this loop, so the number is still free when the job starts.
        let recording = recorder?.beginTurn(prompt: prompt, model: configuration.model, job: jobs.nextNumber)
        let number = jobs.start(
            prompt: prompt, agent: jobAgent, meter: TurnMeter(clock: options.clock, ledger: usage), observer: recording,
            describeError: ErrorHint.message(for:))
        console.write("[\(number)] started in the background: \(prompt)\n")
    }

    private func announceEndedJobs() {
        for job in jobs.takeEnded() {
            for notice in job.notices { console.showError("· \(notice)\n") }
            switch job.status {
            case .done(let answer):
                console.show("[\(job.number)] done: \(job.prompt)\n\(answer)\n")
            case .failed(let message):
                console.showError("[\(job.number)] failed: \(job.prompt)\n  \(message)\n")
            case .cancelled:
                console.write("[\(job.number)] cancelled: \(job.prompt)\n")
            case .running:
                break
            }
            if let footer = job.cost.flatMap(ModelUsageView.footer) { console.writeError(console.painted("[\(job.number)] " + footer, "2") + "\n") }
        }
    }

    // MARK: Slash commands

    enum CommandResult { case handled, quit }

    private func handleCommand(_ line: String) async -> CommandResult {
        let parts = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let name = parts[0]
        let arguments = Array(parts.dropFirst())
        switch name {
        case "/help":
            console.write(SlashCommand.helpText)
        case "/quit", "/exit":
            return .quit
        case "/clear":
            agent.clear()
            recorder?.startNewSession()
            console.write("Started a new conversation.\n")
        case "/sessions":
            sessionsCommand()
        case "/resume":
            guard let raw = arguments.first, let id = Int64(raw) else {
                console.writeError("Usage: /resume ID (the ids are in /sessions)\n")
                break
            }
            resume(id, showingLastExchange: true)
        case "/model":
            if let newModel = arguments.first {
                agent.modelName = newModel
                console.write("Model set to \(newModel).\n")
            } else {
                console.write("Model: \(agent.modelName) (\(modelDescription))\n")
            }
        case "/stats":
            if arguments.first == "json" {
                console.write(SchedulerView.statsJSON(scheduler.stats, model: usage.usage))
            } else if arguments.isEmpty {
                console.write(SchedulerView.statsTable(scheduler.stats) + "\n" + ModelUsageView.table(usage.usage))
            } else {
                console.writeError("Usage: /stats [json]\n")
            }
        case "/tasks":
            console.show(SchedulerView.taskList(scheduler.records(limit: Int(arguments.first ?? "") ?? 20)))
        case "/task":
            guard let raw = arguments.first, let number = UInt64(raw) else {
                console.writeError("Usage: /task ID (the ids are in /tasks)\n")
                break
            }
            if let record = scheduler.record(TaskID(number)) {
                console.show(SchedulerView.taskDetail(record, result: scheduler.endedOutcome(of: TaskID(number))?.value))
            } else {
                console.writeError("No task \(number). /tasks lists the recent ones.\n")
            }
        case "/strategy":
            strategyCommand(arguments)
        case "/workers":
            if let raw = arguments.first {
                guard let n = Int(raw), n >= 1, n <= 256 else {
                    console.writeError("Usage: /workers [N] with N from 1 to 256\n")
                    break
                }
                scheduler.setWorkers(n)
                console.write("Workers: \(n).\n")
            } else {
                console.write("Workers: \(scheduler.configuration.workers).\n")
            }
        case "/tools":
            let current = executor.catalog
            let waiting = (mcp?.servers ?? []).filter { $0.status.state != .ready }
                .map { "\($0.declaration.name)_*  mcp      server \($0.status.state)" }
            console.show(current.tools.isEmpty && waiting.isEmpty
                ? "No tools loaded. Put tool declarations in ./tools.d (see README).\n"
                : ([current.formattedList()] + waiting).joined(separator: "\n") + "\n")
        case "/mcp":
            console.show((mcp?.formattedStatus() ?? "No MCP servers declared. Add {\"mcp\": ...} files to tools.d (see README).") + "\n")
        case "/jobs":
            let all = jobs.all
            if all.isEmpty { console.write("No background jobs. End a prompt with & to start one.\n") }
            for job in all { console.write("[\(job.number)] \(job.status.label.padding(toLength: 9, withPad: " ", startingAt: 0)) \(job.prompt)\n") }
        case "/cancel":
            cancelCommand(arguments)
        case "/trust":
            trustCommand()
        case "/serve":
            await serveCommand(arguments)
        default:
            console.writeError("Unknown command \(name). Type /help for the list.\n")
        }
        return .handled
    }

    private func sessionsCommand() {
        guard let recorder else {
            console.writeError("Logging to the session database is off: no sessions are recorded.\n")
            return
        }
        do {
            let sessions = try recorder.store.sessions(limit: 20)
            console.show(sessions.isEmpty ? "No sessions recorded yet.\n" : SessionView.sessionList(sessions, current: recorder.sessionID))
        } catch {
            console.showError("\(error)\n")
        }
    }

    /// `/serve [PORT]` serves this session's scheduler over HTTP on loopback (a browser watches the
    /// queue live at `/`); `/serve stop` stops it. The session's tasks stay: stopping the server
    /// does not drain its scheduler.
    private func serveCommand(_ arguments: [String]) async {
        if arguments.first == "stop" {
            if await stopServing() { console.write("Stopped serving.\n") } else { console.write("Not serving.\n") }
            return
        }
        if let port = served.withLock({ $0?.port }) {
            console.write("Serving at http://127.0.0.1:\(port)/ (/serve stop stops it).\n")
            return
        }
        guard arguments.count <= 1, let port = arguments.first.map({ Int($0) }) ?? 8000, (0...65535).contains(port) else {
            console.writeError("Usage: /serve [PORT] (default 8000; 0 picks a free one), or /serve stop\n")
            return
        }
        // The session's tools as they change (its MCP servers' join when ready); the session owns the servers.
        let service = TaskService(
            scheduler: scheduler, clock: schedulerClock, liveCatalog: executor.liveCatalog, runner: executor.runner, model: model,
            modelName: agent.modelName)
        let maxSteps = options.maxSteps
        // Its chats stay in memory: the database holds this session, recorded by the REPL itself.
        let sessions = ChatSessions { [self] _ in service.makeAgent(conversation: newConversationID(), maxSteps: maxSteps) }
        var serverOptions = ServerOptions()
        serverOptions.port = port
        serverOptions.drainsScheduler = false
        let server = AgentServer(service: service, sessions: sessions, options: serverOptions)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let failure = Mutex<String?>(nil)
        let running = Task {
            do {
                try await server.run { continuation.yield($0) }
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
            continuation.finish()
        }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next() else {
            console.writeError("Could not serve on port \(port): \(failure.withLock { $0 } ?? "the server stopped").\n")
            return
        }
        served.withLock { $0 = (server, bound, running) }
        console.write("Serving this session's scheduler at http://127.0.0.1:\(bound)/ (dashboard; the API at /docs).\n")
    }

    /// A conversation number no other has: background jobs and `/serve`'s chats (the foreground is 0).
    private func newConversationID() -> Int {
        nextConversation.withLock { n -> Int in
            defer { n += 1 }
            return n
        }
    }

    /// Stops `/serve`'s server, if one runs; whether one did.
    @discardableResult
    private func stopServing() async -> Bool {
        guard let (server, _, running) = served.withLock({ current in defer { current = nil }; return current }) else { return false }
        await server.stop()
        await running.value
        return true
    }

    /// Adds the working folder to the trusted folders; its tools.d and .env are read at the next start.
    private func trustCommand() {
        let folder = options.workingFolder.path
        let environment = options.environment
        let list = FolderTrust.listFile(environment: environment)
        if FolderTrust.isTrusted(folder, environment: environment) {
            console.write("This folder is already trusted (\(list)).\n")
            return
        }
        do {
            try FolderTrust.trust(folder, environment: environment)
        } catch {
            console.writeError("Could not add this folder to \(list): \(error.localizedDescription)\n")
            return
        }
        let files = FolderTrust.projectFiles(in: folder, environment: environment)
        let next = files.isEmpty
            ? "A tools.d or .env put here will be read from the next start."
            : "Its \(files.description) will be read from the next start."
        console.write("Trusted \(folder) (added to \(list)). \(next)\n")
    }

    private func strategyCommand(_ arguments: [String]) {
        guard let raw = arguments.first else {
            let c = scheduler.configuration
            console.write("Strategy: \(c.strategy.rawValue), base quantum \(SchedulerView.ms(c.baseQuantum.milliseconds)). "
                + "Choices: \(Strategy.allCases.map(\.rawValue).joined(separator: ", ")).\n")
            return
        }
        guard let strategy = Strategy(rawValue: raw) else {
            console.writeError("Unknown strategy '\(raw)'. Choices: \(Strategy.allCases.map(\.rawValue).joined(separator: ", ")).\n")
            return
        }
        var quantum: Duration?
        if arguments.count > 1 {
            guard let seconds = Double(arguments[1]), seconds > 0, seconds <= 3600 else {
                console.writeError("The slice is in seconds, e.g. /strategy round_robin 0.1\n")
                return
            }
            quantum = .milliseconds(Int64(seconds * 1000))
        }
        scheduler.setStrategy(strategy, quantum: quantum)
        console.write("Strategy: \(strategy.rawValue)" + (quantum.map { ", base quantum \(SchedulerView.ms($0.milliseconds))" } ?? "") + ".\n")
    }

    private func cancelCommand(_ arguments: [String]) {
        let running = jobs.all.filter { $0.status == .running }
        let number: Int
        if let raw = arguments.first {
            guard let n = Int(raw.hasPrefix("%") ? String(raw.dropFirst()) : raw) else {
                console.writeError("Usage: /cancel [JOB] (the numbers are in /jobs)\n")
                return
            }
            number = n
        } else if running.count == 1 {
            number = running[0].number
        } else {
            console.writeError(running.isEmpty ? "Nothing is running in the background.\n" : "Several jobs run; say which: /cancel N (see /jobs).\n")
            return
        }
        if jobs.cancel(number) {
            console.write("[\(number)] cancelling.\n")
        } else {
            console.writeError("No running job \(number). /jobs lists them.\n")
        }
    }
}
