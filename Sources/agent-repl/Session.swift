import Agent
import HTTP
import JSON
import LLM
import Scheduler
import Tools
import Foundation
import Synchronization

/// What the command line asked of a session.
struct SessionOptions: Sendable {
    var maxSteps = 12
    var debugTiming = false
    var toolFolders: [String] = []
    var scheduler = SchedulerConfiguration()
    var autoApprove = false
}

/// One run of agent-repl: the model, the tools, the one scheduler, the conversation and its
/// background jobs, and the loop over prompts.
final class Session: Sendable {
    let agent: Agent
    let scheduler: ToolScheduler
    let catalog: ToolCatalog
    private let model: any ChatModel
    private let executor: ScheduledToolExecutor
    private let agentConfiguration: Agent.Configuration
    private let jobs = BackgroundJobs()
    private let nextConversation = Mutex(1)
    private let options: SessionOptions
    private let timing: ChunkTiming?
    private let confirmation: ConfirmationGate
    /// The turn Ctrl-C would cancel.
    private let currentTurn = Mutex<Task<String, any Error>?>(nil)

    init(settings: Settings, environment: [String: String], options: SessionOptions) {
        self.options = options
        let timing = options.debugTiming ? ChunkTiming() : nil
        self.timing = timing
        var onBodyChunk: (@Sendable (ContinuousClock.Instant) -> Void)?
        if let timing { onBodyChunk = { timing.record($0) } }
        model = ModelFactory.make(settings: settings, onBodyChunk: onBodyChunk)
        scheduler = ToolScheduler(configuration: options.scheduler)
        catalog = ToolLoader.load(extraFolders: options.toolFolders, environment: environment)
        confirmation = ConfirmationGate(Confirmations.standard(autoApprove: options.autoApprove))
        let runner = ToolRunner(environment: environment)
        executor = ScheduledToolExecutor(scheduler: scheduler, catalog: catalog, runner: runner, confirmation: confirmation)
        agentConfiguration = Agent.Configuration(model: settings.model, tools: executor.definitions, maxSteps: options.maxSteps)
        agent = Agent(id: 0, model: model, configuration: agentConfiguration, executor: executor)
    }

    var banner: String {
        "agent-repl \(AgentReplVersion.string) · \(model.displayName) · \(catalog.tools.count) tools · "
            + "\(options.scheduler.strategy.rawValue) on \(options.scheduler.workers) workers · /help for commands\n"
    }

    // MARK: Modes

    /// `-p TEXT`: the answer on stdout, progress and errors on stderr; 1 when the turn fails.
    func runOneShot(_ prompt: String) async -> Int32 {
        reportToolProblems()
        SignalRelay.install(onInterrupt: { [self] in cancelCurrentTurn() }, onTerminate: { [self] in terminate(signal: $0, reader: nil) })
        let ok = await runTurn(prompt)
        return ok ? 0 : 1
    }

    /// The REPL on a terminal, or line by line from a pipe.
    func runInteractive() async -> Int32 {
        let interactive = isatty(0) == 1
        let reader: any LineReader = interactive
            ? EditLineReader(historyFile: Self.historyFile(), completions: SlashCommand.all.map(\.name))
            : PlainLineReader()
        SignalRelay.install(onInterrupt: { [self] in cancelCurrentTurn() }, onTerminate: { [self] in terminate(signal: $0, reader: reader) })
        if interactive { Output.out(banner) }
        reportToolProblems()
        defer { reader.close() }
        while true {
            announceEndedJobs()
            guard let input = await readPrompt(reader, interactive: interactive) else { break }
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

    /// One prompt, joining lines that end in a backslash; nil at end of input.
    private func readPrompt(_ reader: any LineReader, interactive: Bool) async -> String? {
        var lines: [String] = []
        while true {
            let prompt = !interactive ? "" : (lines.isEmpty ? "> " : "… ")
            switch await reader.read(prompt: prompt) {
            case .endOfInput:
                if interactive { Output.out("\n") }
                return lines.isEmpty ? nil : lines.joined(separator: "\n")
            case .interrupted:
                Output.out("^C\n")
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

    private func reportToolProblems() {
        for diagnostic in catalog.diagnostics { Output.err("\(diagnostic)\n") }
    }

    // MARK: Turns

    /// Runs one turn, streaming its text; errors go to stderr as sentences. Returns whether it answered.
    private func runTurn(_ prompt: String) async -> Bool {
        let renderer = TurnRenderer(
            style: .detect(), stats: { [scheduler] in scheduler.stats },
            quiet: { [confirmation] in confirmation.isAsking }, timing: timing)
        let task = Task { [agent] in
            try await agent.run(prompt: prompt, events: { renderer.handle($0) })
        }
        currentTurn.withLock { $0 = task }
        let result = await task.result
        currentTurn.withLock { $0 = nil }
        renderer.finish()
        switch result {
        case .success:
            return true
        case .failure(let error as AgentError) where error.code == .cancelled:
            Output.err("Cancelled; the conversation is as it was before this prompt.\n")
            return false
        case .failure(let error):
            Output.err("Error: \(error)\n")
            return false
        }
    }

    private func cancelCurrentTurn() {
        currentTurn.withLock { $0?.cancel() }
    }

    /// SIGTERM or SIGHUP: stop every turn and job, kill their tools' process groups, save the
    /// history, restore the terminal, and exit with 128 + the signal's number.
    private func terminate(signal: Int32, reader: (any LineReader)?) {
        cancelCurrentTurn()
        for job in jobs.all { jobs.cancel(job.number) }
        let done = DispatchSemaphore(value: 0)
        Task { [scheduler] in
            await scheduler.shutdown()
            done.signal()
        }
        _ = done.wait(timeout: .now() + 3)
        reader?.close()
        reader?.restoreTerminal()
        exit(128 + signal)
    }

    private func startJob(_ prompt: String) {
        guard !prompt.isEmpty else {
            Output.err("Nothing to run in the background: write the prompt before the &.\n")
            return
        }
        let id = nextConversation.withLock { n -> Int in
            defer { n += 1 }
            return n
        }
        var configuration = agentConfiguration
        configuration.model = agent.modelName
        let jobAgent = Agent(id: id, model: model, configuration: configuration, executor: executor)
        let number = jobs.start(prompt: prompt, agent: jobAgent)
        Output.out("[\(number)] started in the background: \(prompt)\n")
    }

    private func announceEndedJobs() {
        for job in jobs.takeEnded() {
            switch job.status {
            case .done(let answer):
                Output.out("[\(job.number)] done: \(job.prompt)\n\(answer)\n")
            case .failed(let message):
                Output.err("[\(job.number)] failed: \(job.prompt)\n  \(message)\n")
            case .cancelled:
                Output.out("[\(job.number)] cancelled: \(job.prompt)\n")
            case .running:
                break
            }
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
            Output.out(SlashCommand.helpText)
        case "/quit", "/exit":
            return .quit
        case "/clear":
            agent.clear()
            Output.out("Started a new conversation.\n")
        case "/model":
            if let newModel = arguments.first {
                agent.modelName = newModel
                Output.out("Model set to \(newModel).\n")
            } else {
                Output.out("Model: \(agent.modelName) (\(model.displayName))\n")
            }
        case "/stats":
            if arguments.first == "json" {
                Output.out(SchedulerView.statsJSON(scheduler.stats))
            } else if arguments.isEmpty {
                Output.out(SchedulerView.statsTable(scheduler.stats))
            } else {
                Output.err("Usage: /stats [json]\n")
            }
        case "/tasks":
            Output.out(SchedulerView.taskList(scheduler.records(limit: Int(arguments.first ?? "") ?? 20)))
        case "/task":
            guard let raw = arguments.first, let number = UInt64(raw) else {
                Output.err("Usage: /task ID (the ids are in /tasks)\n")
                break
            }
            if let record = scheduler.record(TaskID(number)) {
                Output.out(SchedulerView.taskDetail(record, result: scheduler.endedOutcome(of: TaskID(number))?.value))
            } else {
                Output.err("No task \(number). /tasks lists the recent ones.\n")
            }
        case "/strategy":
            strategyCommand(arguments)
        case "/workers":
            if let raw = arguments.first {
                guard let n = Int(raw), n >= 1, n <= 256 else {
                    Output.err("Usage: /workers [N] with N from 1 to 256\n")
                    break
                }
                scheduler.setWorkers(n)
                Output.out("Workers: \(n).\n")
            } else {
                Output.out("Workers: \(scheduler.configuration.workers).\n")
            }
        case "/tools":
            Output.out(catalog.tools.isEmpty ? "No tools loaded. Put tool declarations in ./tools.d (see README).\n" : Self.endingLine(catalog.formattedList()))
        case "/jobs":
            let all = jobs.all
            if all.isEmpty { Output.out("No background jobs. End a prompt with & to start one.\n") }
            for job in all { Output.out("[\(job.number)] \(job.status.label.padding(toLength: 9, withPad: " ", startingAt: 0)) \(job.prompt)\n") }
        case "/cancel":
            cancelCommand(arguments)
        default:
            Output.err("Unknown command \(name). Type /help for the list.\n")
        }
        return .handled
    }

    private func strategyCommand(_ arguments: [String]) {
        guard let raw = arguments.first else {
            let c = scheduler.configuration
            Output.out("Strategy: \(c.strategy.rawValue), base quantum \(SchedulerView.ms(c.baseQuantum.milliseconds)). "
                + "Choices: \(Strategy.allCases.map(\.rawValue).joined(separator: ", ")).\n")
            return
        }
        guard let strategy = Strategy(rawValue: raw) else {
            Output.err("Unknown strategy '\(raw)'. Choices: \(Strategy.allCases.map(\.rawValue).joined(separator: ", ")).\n")
            return
        }
        var quantum: Duration?
        if arguments.count > 1 {
            guard let seconds = Double(arguments[1]), seconds > 0, seconds <= 3600 else {
                Output.err("The slice is in seconds, e.g. /strategy round_robin 0.1\n")
                return
            }
            quantum = .milliseconds(Int64(seconds * 1000))
        }
        scheduler.setStrategy(strategy, quantum: quantum)
        Output.out("Strategy: \(strategy.rawValue)" + (quantum.map { ", base quantum \(SchedulerView.ms($0.milliseconds))" } ?? "") + ".\n")
    }

    private func cancelCommand(_ arguments: [String]) {
        let running = jobs.all.filter { $0.status == .running }
        let number: Int
        if let raw = arguments.first {
            guard let n = Int(raw.hasPrefix("%") ? String(raw.dropFirst()) : raw) else {
                Output.err("Usage: /cancel [JOB] (the numbers are in /jobs)\n")
                return
            }
            number = n
        } else if running.count == 1 {
            number = running[0].number
        } else {
            Output.err(running.isEmpty ? "Nothing is running in the background.\n" : "Several jobs run; say which: /cancel N (see /jobs).\n")
            return
        }
        if jobs.cancel(number) {
            Output.out("[\(number)] cancelling.\n")
        } else {
            Output.err("No running job \(number). /jobs lists them.\n")
        }
    }

    static func endingLine(_ text: String) -> String { text.hasSuffix("\n") ? text : text + "\n" }

    /// `$XDG_DATA_HOME/agent-repl/history`, or `~/.local/share/agent-repl/history`.
    static func historyFile() -> URL? {
        let env = ProcessInfo.processInfo.environment
        let base: URL
        if let xdg = env["XDG_DATA_HOME"], !xdg.isEmpty {
            base = URL(fileURLWithPath: xdg)
        } else if let home = env["HOME"], !home.isEmpty {
            base = URL(fileURLWithPath: home).appendingPathComponent(".local/share")
        } else {
            return nil
        }
        return base.appendingPathComponent("agent-repl/history")
    }
}

/// Knows when a y/N question owns the terminal, so the status line keeps out of its way.
final class ConfirmationGate: ConfirmationProvider {
    private let inner: any ConfirmationProvider
    private let asking = Mutex(0)

    init(_ inner: any ConfirmationProvider) {
        self.inner = inner
    }

    var isAsking: Bool { asking.withLock { $0 > 0 } }

    func confirm(tool: String, arguments: String) async -> Bool {
        asking.withLock { $0 += 1 }
        Output.err("\r\u{1b}[2K")
        defer { asking.withLock { $0 -= 1 } }
        return await inner.confirm(tool: tool, arguments: arguments)
    }
}
