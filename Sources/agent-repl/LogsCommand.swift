import ArgumentParser
import Foundation
import REPL
import Store

/// `agent-repl logs`: what the session database holds, read without starting a chat.
struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Recorded sessions: list, show, search, tool tasks; switch logging off or on.",
        subcommands: [List.self, Show.self, Search.self, Tasks.self, Off.self, On.self],
        defaultSubcommand: List.self)

    struct Options: ParsableArguments {
        @Flag(name: .long, help: "Print JSON instead of text.")
        var json = false

        /// The existing database; exits 1 with a sentence when there is none.
        func open(_ database: DatabaseOption) throws -> SessionStore {
            let environment = ProcessInfo.processInfo.environment
            guard let path = StoreLocation.databasePath(explicit: database.path, environment: environment) else {
                Output.err("No session database: set HOME, XDG_DATA_HOME or AGENT_DB.\n")
                throw ExitCode(1)
            }
            guard FileManager.default.fileExists(atPath: path) else {
                Output.err("No session database at \(path) yet: nothing has been recorded.\n")
                throw ExitCode(1)
            }
            do {
                return try SessionStore(path: path)
            } catch {
                Output.err("\(error)\n")
                throw ExitCode(1)
            }
        }

        /// Text from the database on a terminal loses its control characters.
        func print(_ text: String) {
            Output.out(!json && isatty(1) == 1 ? TerminalTextFilter.clean(text) : text)
        }
    }

    /// Runs `body`, turning a `StoreError` into a sentence and exit code 1.
    static func reading(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as StoreError {
            Output.err("\(error)\n")
            throw ExitCode(1)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recent sessions, newest first.")
        @OptionGroup var database: DatabaseOption
        @OptionGroup var options: Options
        @Option(name: .long, help: "How many sessions.") var limit = 20

        func run() throws {
            let store = try options.open(database)
            try reading {
                let sessions = try store.sessions(limit: limit)
                options.print(options.json ? SessionView.sessionsJSON(sessions) : (sessions.isEmpty ? "No sessions recorded.\n" : SessionView.sessionList(sessions)))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One session: its turns, tool calls with their timings, model calls.")
        @OptionGroup var database: DatabaseOption
        @OptionGroup var options: Options
        @Argument(help: "The session's id.") var id: Int64

        func run() throws {
            let store = try options.open(database)
            try reading {
                guard let session = try store.session(id) else {
                    Output.err("No session \(id).\n")
                    throw ExitCode(1)
                }
                let turns = try store.turns(of: id)
                options.print(options.json ? SessionView.transcriptJSON(session, turns: turns) : SessionView.transcript(session, turns: turns))
            }
        }
    }

    struct Search: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Full-text search over prompts, answers and tool results, newest first.")
        @OptionGroup var database: DatabaseOption
        @OptionGroup var options: Options
        @Argument(help: "Words that must all occur.") var text: [String]
        @Option(name: .long, help: "How many matches.") var limit = 20

        func run() throws {
            let store = try options.open(database)
            try reading {
                let hits = try store.search(text.joined(separator: " "), limit: limit)
                options.print(options.json ? SessionView.searchJSON(hits) : SessionView.searchResults(hits))
            }
        }
    }

    struct Tasks: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Tool tasks across sessions: the slowest, the failed, or the most preempted.")
        @OptionGroup var database: DatabaseOption
        @OptionGroup var options: Options
        @Option(name: .long, help: "slowest, failed or preempted.") var sort: SessionStore.TaskOrder = .slowest
        @Option(name: .long, help: "How many tasks.") var limit = 20

        func run() throws {
            let store = try options.open(database)
            try reading {
                let tasks = try store.tasks(order: sort, limit: limit)
                options.print(options.json ? SessionView.tasksJSON(tasks) : SessionView.taskList(tasks))
            }
        }
    }

    struct Off: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record nothing from now on (the database is kept; delete it yourself).")
        @OptionGroup var database: DatabaseOption
        @OptionGroup var options: Options

        func run() throws {
            try LogsCommand.setLoggingOff(true, json: options.json)
        }
    }

    struct On: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record sessions again.")
        @OptionGroup var database: DatabaseOption
        @OptionGroup var options: Options

        func run() throws {
            try LogsCommand.setLoggingOff(false, json: options.json)
        }
    }

    static func setLoggingOff(_ off: Bool, json: Bool) throws {
        let environment = ProcessInfo.processInfo.environment
        do {
            try StoreLocation.setLoggingOff(off, environment: environment)
        } catch {
            Output.err("Could not switch logging \(off ? "off" : "on"): \(error.localizedDescription)\n")
            throw ExitCode(1)
        }
        let marker = StoreLocation.loggingOffMarker(environment: environment)
        Output.out(json ? "{\"logging\":\"\(off ? "off" : "on")\"}\n" : (off ? "Logging is off (\(marker)).\n" : "Logging is on.\n"))
    }
}

extension SessionStore.TaskOrder: ExpressibleByArgument {}

/// `--db PATH`, for the chat and the `logs` subcommands alike.
struct DatabaseOption: ParsableArguments {
    @Option(name: .customLong("db"), help: ArgumentHelp("The session database (default $AGENT_DB or $XDG_DATA_HOME/agent-repl/agent-repl.db).", valueName: "PATH"))
    var path: String?

    /// The database to record in; nil with `noLog` or logging off (`logs off`), or when it cannot be
    /// opened, which is said on stderr followed by `otherwise` (what happens instead).
    func openForRecording(noLog: Bool, environment: [String: String], commitPause: Duration = .zero, otherwise: String) -> SessionStore? {
        guard !noLog, !StoreLocation.isLoggingOff(environment: environment),
            let path = StoreLocation.databasePath(explicit: path, environment: environment)
        else { return nil }
        do {
            return try SessionStore(path: path, commitPause: commitPause)
        } catch {
            Output.err("Warning: \(error) \(otherwise)\n")
            return nil
        }
    }
}

/// `--no-log`, shared by the chat and `serve` (one type, so the parser hands the flag to either).
struct NoLogOption: ParsableArguments {
    @Flag(name: .long, help: "Record nothing in the session database (also `agent-repl logs off`).")
    var noLog = false
}
