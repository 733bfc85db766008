import Agent
import ArgumentParser
import Foundation
import LLM
import Scheduler

/// The options the chat and `serve` share: the model, the tools, the scheduler.
struct RuntimeOptions: ParsableArguments {
    @Option(name: .long, help: "OpenAI-compatible endpoint (default $OPENAI_BASE_URL or https://api.openai.com/v1).")
    var baseURL: String?

    @Option(name: .long, help: "Model name (default $AGENT_MODEL or \\(Settings.defaultModel)).")
    var model: String?

    @Option(name: .long, help: ArgumentHelp("The endpoint's API: chat (Chat Completions, the default; also $AGENT_API) or responses (the Responses API).", valueName: "chat|responses"))
    var api: WireAPI?

    @Flag(name: .long, help: "Use the offline demo model.")
    var demo = false

    @Flag(name: .long, help: "Ask the model for whole answers instead of streamed ones (also $AGENT_STREAM=0; chosen automatically for a server that cannot stream tool calls).")
    var noStream = false

    @Option(name: .long, help: ArgumentHelp("Stop a turn after this many model calls.", valueName: "N"))
    var maxSteps = 12

    @Option(name: .customLong("tools-dir"), help: ArgumentHelp("Another folder of tool declarations (repeatable).", valueName: "DIR"))
    var toolsDirs: [String] = []

    @Option(name: .long, help: "Scheduling strategy: mlfq, preemptive, priority, round_robin, sjf, fifo.")
    var strategy: Strategy = .mlfq

    @Option(name: .long, help: "How many tools may run at once.")
    var workers = SchedulerConfiguration().workers

    @Option(name: .long, help: ArgumentHelp("Top-level time slice (default 0.05); levels above the lowest double it, the lowest runs 10 s slices.", valueName: "SECONDS"))
    var quantum: Double?

    mutating func validate() throws {
        if let baseURL, !Self.isHTTP(baseURL) {
            // Not echoed: a mistyped URL may still hold a user and password.
            throw ValidationError("--base-url must be an http or https URL, such as http://127.0.0.1:8080/v1.")
        }
        if maxSteps < 1 { throw ValidationError("--max-steps must be at least 1.") }
        if workers < 1 || workers > 256 { throw ValidationError("--workers must be between 1 and 256.") }
        if let quantum, !(quantum > 0 && quantum <= 3600) { throw ValidationError("--quantum must be a number of seconds above 0.") }
    }

    /// The endpoint's scheme is http or https, whichever source named it.
    static func isHTTP(_ url: String) -> Bool {
        URL(string: url)?.scheme.map { ["http", "https"].contains($0.lowercased()) } == true
    }

    /// The scheduler these options ask for.
    var schedulerConfiguration: SchedulerConfiguration {
        var configuration = SchedulerConfiguration()
        configuration.strategy = strategy
        configuration.workers = workers
        if let quantum { configuration.baseQuantum = .milliseconds(Int64(quantum * 1000)) }
        return configuration
    }

    var commandLineSettings: CommandLineSettings {
        CommandLineSettings(baseURL: baseURL, model: model, demo: demo, noStream: noStream, api: api)
    }

    /// Where the settings came from: the environment (with the working folder's .env when the folder is
    /// trusted) and these options.
    struct Resolved {
        var settings: Settings
        var environment: [String: String]
        /// Whether the working folder is trusted (its .env and tools.d count).
        var trusted: Bool
    }

    /// Reads the settings; a bad one is said on stderr and exits with 2.
    func resolve() throws -> Resolved {
        // The working folder's .env and tools.d only when the folder is trusted (SPEC "Trust and safety").
        let workingFolder = FileManager.default.currentDirectoryPath
        let trusted = ProjectTrust.decide(folder: workingFolder, environment: ProcessInfo.processInfo.environment)
        let environment = !trusted ? ProcessInfo.processInfo.environment : DotEnv.merged(
            into: ProcessInfo.processInfo.environment,
            file: URL(fileURLWithPath: workingFolder).appendingPathComponent(".env"))
        do {
            let settings = try Settings.resolve(flags: commandLineSettings, environment: environment)
            return Resolved(settings: settings, environment: environment, trusted: trusted)
        } catch {
            Output.err("\(error)\n")
            throw ExitCode(2)
        }
    }

    /// Checks the endpoint and, with none set, looks for a local server.
    func findModel(_ settings: Settings) throws -> (settings: Settings, note: String?) {
        if case .endpoint(let url, _) = settings.backend, !Self.isHTTP(url) {
            // Only the environment or .env can get here (the flag is checked in validate); not echoed.
            Output.err("OPENAI_BASE_URL must be an http or https URL, such as http://127.0.0.1:8080/v1.\n")
            throw ExitCode(2)
        }
        return AgentREPLCommand.runBlocking { [settings] in await ModelFactory.findLocalServer(settings) }
    }
}
