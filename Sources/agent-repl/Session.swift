import AgentRuntime
import Foundation
import Synchronization

/// One run of agent-repl: the model, the conversation, and the loop over prompts.
final class Session: Sendable {
    let settings: Settings
    let agent: Agent
    private let debugTiming: Bool
    /// The turn Ctrl-C would cancel.
    private let currentTurn = Mutex<Task<String, any Error>?>(nil)

    init(settings: Settings, environment: [String: String], maxSteps: Int, debugTiming: Bool) {
        self.settings = settings
        self.debugTiming = debugTiming
        let model = ModelFactory.make(settings: settings, environment: environment)
        self.agent = Agent(model: model, configuration: Agent.Configuration(model: settings.model, maxSteps: maxSteps))
    }

    var banner: String {
        "agent-repl \(AgentRuntimeVersion.string) · \(agent.displayName) · /help for commands\n"
    }

    // MARK: Modes

    /// `-p TEXT`: the answer on stdout, errors on stderr; 1 when the turn fails.
    func runOneShot(_ prompt: String) async -> Int32 {
        InterruptRelay.install { [self] in cancelCurrentTurn() }
        let ok = await runTurn(prompt)
        return ok ? 0 : 1
    }

    /// The REPL on a terminal, or line by line from a pipe.
    func runInteractive() async -> Int32 {
        let interactive = isatty(0) == 1
        let reader: any LineReader = interactive
            ? EditLineReader(historyFile: Self.historyFile(), completions: SlashCommand.all.map(\.name))
            : PlainLineReader()
        InterruptRelay.install { [self] in cancelCurrentTurn() }
        if interactive { Output.out(banner) }
        defer { reader.close() }
        while true {
            guard let input = await readPrompt(reader, interactive: interactive) else { return 0 }
            let text = input.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text.hasPrefix("/") {
                if case .quit = handleCommand(text) { return 0 }
                continue
            }
            _ = await runTurn(text)
        }
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

    // MARK: Turns

    /// Runs one turn, streaming its text; errors go to stderr as sentences. Returns whether it answered.
    private func runTurn(_ prompt: String) async -> Bool {
        let renderer = TurnRenderer(debugTiming: debugTiming)
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

    // MARK: Slash commands

    enum CommandResult { case handled, quit }

    private func handleCommand(_ line: String) -> CommandResult {
        let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
        let name = parts[0]
        let argument = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        switch name {
        case "/help":
            Output.out(SlashCommand.helpText)
        case "/quit", "/exit":
            return .quit
        case "/clear":
            agent.clear()
            Output.out("Started a new conversation.\n")
        case "/model":
            if argument.isEmpty {
                Output.out("Model: \(agent.modelName) (\(agent.displayName))\n")
            } else {
                agent.modelName = argument
                Output.out("Model set to \(argument).\n")
            }
        default:
            Output.err("Unknown command \(name). Type /help for the list.\n")
        }
        return .handled
    }

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
