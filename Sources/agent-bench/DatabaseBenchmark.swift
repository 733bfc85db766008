import Agent
import Foundation
import GRDB
import JSON
import LLM
import Scheduler
import Store
import TestSupport
import Tools

/// The session database's costs: the time a recorded turn adds, `logs search` over 10,000 sessions of
/// 20 messages, and launch to prompt with that database, each beside the same work without it.
struct DatabaseBenchmark: Benchmark {
    let title = "Session database"

    func run(quick: Bool) async throws -> ReportSection {
        let sessions = quick ? 2_000 : 10_000
        let folder = try BenchPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("sessions.db").path
        let store = try SessionStore(path: path)
        let fillStart = ContinuousClock.now
        try Self.fill(store, sessions: sessions)
        let fillTime = ContinuousClock.now - fillStart
        let size = ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) / 1_000_000

        let turnTable = try await turns(store: store, count: quick ? 50 : 200)
        let searchTable = try searches(store: store, path: path, quick: quick)
        let (binary, note) = try StartupBenchmark.releaseBinary()
        let launchTable = try launch(binary: binary, database: path, runs: quick ? 5 : 15)
        let commandTable = try commands(binary: binary, database: path, runs: quick ? 5 : 15)
        return ReportSection(
            title: title,
            text: """
            A database of \(sessions) sessions of 20 messages each (one turn each; 20-40 words a message drawn from 5,000 made-up words; the word `common` in one message in ten; \(size) MB, filled through `SessionStore` in \(fmt(fillTime.seconds, 1)) s), in WAL mode with synchronous=NORMAL, then: \
            (1) turns through `Agent` + `ScheduledToolExecutor` + `Scheduler` (an in-process scripted model: a call of the `now` builtin, then a text answer), alternately recorded by a `SessionRecorder` into that database (the `running` row, the tool task, the end with 4 messages and 2 model calls in one transaction, waiting for every write) and not recorded at all; \
            (2) `SessionStore.search` (FTS5, the newest 20 matches) beside the same words found with `LIKE '%word%'` over the messages (the baseline: no index); \
            (3) the release binary (\(note)) from launch to its first prompt on a pseudo-terminal (`Benchmarks/db_startup.py`, `--demo`) with that database beside `--no-log` (no database opened), alternated; and `agent-repl logs search` as a whole process beside `agent-repl --version`.
            """,
            tables: [turnTable, searchTable, launchTable, commandTable])
    }

    // MARK: The database

    private static func fill(_ store: SessionStore, sessions: Int) throws {
        var random = SplitMix64(seed: 42)
        let vocabulary = (0..<5_000).map { i in "w\(i)x" + String(UnicodeScalar(UInt8(97 + i % 26))) }
        var n = 0
        for s in 0..<sessions {
            let id = try store.createSession(folder: "/home/user/project\(s % 50)", model: "gpt-test", api: "chat", firstPrompt: "session \(s)")
            let turn = try store.beginTurn(session: id, prompt: "session \(s)")
            var messages: [ChatMessage] = []
            for m in 0..<20 {
                n += 1
                var words = (0..<(20 + Int(random.next() % 21))).map { _ in vocabulary[Int(random.next() % 5_000)] }
                if n % 10 == 0 { words.append("common") }
                let text = words.joined(separator: " ")
                messages.append(m % 2 == 0 ? .user(text) : .assistant(content: text, toolCalls: []))
            }
            try store.endTurn(turn, state: .answered, answer: nil, messages: messages, modelCalls: [])
        }
    }

    // MARK: (1) A turn

    private func turns(store: SessionStore, count: Int) async throws -> MarkdownTable {
        let folder = try BenchPaths.temporaryFolder().appendingPathComponent("tools.d")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try (["name": "now", "builtin": "now", "priority": 0] as JSONValue).jsonString
            .write(to: folder.appendingPathComponent("now.json"), atomically: true, encoding: .utf8)
        let catalog = ToolLoader.load(folders: [ToolFolder(folder.path)])
        let scheduler = ToolScheduler(configuration: SchedulerConfiguration(strategy: .mlfq, workers: 8))
        let executor = ScheduledToolExecutor(scheduler: scheduler, catalog: catalog, runner: ToolRunner())
        let configuration = Agent.Configuration(model: "scripted", tools: executor.definitions)
        let recorder = SessionRecorder(store: store, folder: "/bench", api: "chat", scheduler: scheduler, warn: { FileHandle.standardError.write(Data("\($0)\n".utf8)) })

        /// One turn; with `recorded`, also the recorder's own time (its calls on the turn's path, and the wait for the task's write).
        func turn(recorded: Bool) async throws -> (total: Double, recorder: Double) {
            let agent = Agent(model: NowModel(), configuration: configuration, executor: executor)
            let start = ContinuousClock.now
            var recorderTime = Duration.zero
            var t = ContinuousClock.now
            let recording = recorded ? recorder.beginTurn(prompt: "What time is it?", model: "scripted") : nil
            recorderTime += ContinuousClock.now - t
            let result: Result<String, any Error>
            do {
                result = .success(try await agent.run(prompt: "What time is it?") { recording?.observe($0) })
            } catch {
                result = .failure(error)
            }
            t = ContinuousClock.now
            recording?.finish(result, describeError: { "\($0)" }, messages: agent.messages)
            if recorded { recorder.flush() }
            recorderTime += ContinuousClock.now - t
            let total = ContinuousClock.now - start
            guard case .success("It is now.") = result else { throw BenchFailure("the turn went wrong: \(result)") }
            return (total.ms, recorderTime.ms)
        }

        for _ in 0..<5 {
            _ = try await turn(recorded: true)
            _ = try await turn(recorded: false)
        }
        var with: [(total: Double, recorder: Double)] = []
        var without: [Double] = []
        for _ in 0..<count {
            with.append(try await turn(recorded: true))
            without.append(try await turn(recorded: false).total)
        }
        await scheduler.shutdown()
        var table = MarkdownTable(
            headers: ["turn", "median (ms)", "p90 (ms)", "target"],
            caption: "(1) Time per turn, \(count) of each, alternated, after 5 warm-ups of each")
        table.add("recorded: the recorder's own time (begin, task write waited for, end transaction)", fmt(median(with.map(\.recorder)), 3), fmt(percentile(with.map(\.recorder), 0.9), 3), "≤ 1 ms added")
        table.add("recorded: whole turn", fmt(median(with.map(\.total)), 3), fmt(percentile(with.map(\.total), 0.9), 3), "")
        table.add("baseline: the same turn, not recorded", fmt(median(without), 3), fmt(percentile(without, 0.9), 3), "")
        table.add("difference of the medians", fmt(median(with.map(\.total)) - median(without), 3), "", "")
        return table
    }

    // MARK: (2) Search

    private func searches(store: SessionStore, path: String, quick: Bool) throws -> MarkdownTable {
        let queue = try DatabaseQueue(path: path)
        let queries: [(String, [String])] = [
            ("one word in 1 message of 10 (`common`)", ["common"]),
            ("one word (`w1234xm`)", ["w1234xm"]),
            ("two words (`w17xr w4242xe`)", ["w17xr", "w4242xe"]),
            ("a word found nowhere", ["absentword"]),
        ]
        let repeats = quick ? 5 : 21
        var table = MarkdownTable(
            headers: ["query", "matches (FTS5)", "`logs search`: FTS5 (ms, median)", "baseline: LIKE scan (ms, median)", "target"],
            caption: "(2) Search, median of \(repeats) runs each")
        for (label, words) in queries {
            var fts: [Double] = []
            var like: [Double] = []
            var found = 0
            for _ in 0..<repeats {
                let t = ContinuousClock.now
                found = try store.search(words.joined(separator: " "), limit: 20).count
                fts.append((ContinuousClock.now - t).ms)
                let u = ContinuousClock.now
                _ = try queue.read { db in
                    try Row.fetchAll(
                        db, sql: "SELECT id FROM messages WHERE " + words.map { _ in "content LIKE ?" }.joined(separator: " AND ") + " LIMIT 20",
                        arguments: StatementArguments(words.map { "%\($0)%" }))
                }
                like.append((ContinuousClock.now - u).ms)
            }
            table.add(label, String(found), fmt(median(fts), 2), fmt(median(like), 2), "≤ 50 ms")
        }
        return table
    }

    // MARK: (3) Start-up

    private func launch(binary: URL, database: String, runs: Int) throws -> MarkdownTable {
        let data = try BenchPython.output([BenchPaths.file("Benchmarks/db_startup.py").path, binary.path, database, String(runs)])
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw BenchFailure("db_startup.py printed \(String(decoding: data, as: UTF8.self))")
        }
        func value(_ key: String) -> String { (json[key] as? Double).map { fmt($0, 1) } ?? "n/a" }
        var table = MarkdownTable(headers: ["launch → first prompt (`--demo`, pty)", "median (ms)", "target"], caption: "(3) Start-up, \(runs) runs each, alternated")
        table.add("with the database of this section", value("with_db_ms"), "≤ 50 ms")
        table.add("baseline: `--no-log` (no database opened)", value("no_log_ms"), "")
        return table
    }

    private func commands(binary: URL, database: String, runs: Int) throws -> MarkdownTable {
        func time(_ arguments: [String]) throws -> Double {
            let process = Process()
            process.executableURL = binary
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            let start = ContinuousClock.now
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw BenchFailure("agent-repl \(arguments) exited \(process.terminationStatus)") }
            return (ContinuousClock.now - start).ms
        }
        var search: [Double] = []
        var version: [Double] = []
        for _ in 0..<runs {
            search.append(try time(["logs", "search", "w1234xm", "--db", database]))
            version.append(try time(["--version"]))
        }
        var table = MarkdownTable(headers: ["process", "median (ms)", "target"], caption: "The whole `logs search` command, \(runs) runs each, alternated")
        table.add("`agent-repl logs search w1234xm --db …`", fmt(median(search), 1), "≤ 50 ms")
        table.add("baseline: `agent-repl --version` (process start alone)", fmt(median(version), 1), "")
        return table
    }
}

/// Answers with a call of `now`, then, once the tool's result is in, with text.
private struct NowModel: ChatModel {
    var displayName: String { "scripted" }

    func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        let answered = if case .tool? = request.messages.last { true } else { false }
        let usage = Usage(promptTokens: 100, completionTokens: 5, totalTokens: 105)
        return AsyncThrowingStream { continuation in
            continuation.yield(.completed(answered
                ? ChatCompletion(content: "It is now.", usage: usage)
                : ChatCompletion(content: nil, toolCalls: [ToolCall(id: "call_0", name: "now", arguments: "{}")], usage: usage)))
            continuation.finish()
        }
    }
}
