import Foundation
import GRDB
import Agent
import LLM
import Scheduler
import Tools

/// The SQLite file every session, turn, message, model call and tool task is kept in, shared by
/// every agent-repl process of the user (WAL, so readers never wait for a writer, and a busy timeout,
/// so two writers take turns instead of failing).
///
/// A turn is written twice: a `running` row when it starts (so a process killed meanwhile leaves a
/// trace, marked `interrupted` by the next start), and its end with its messages and model calls in
/// one transaction. Tool tasks are written as each ends. The file is created readable by its owner only.
public final class SessionStore: Sendable {
    public let path: String
    private let pool: DatabasePool
    let now: @Sendable () -> Date
    private let processID: Int32
    /// How long a turn's end waits inside its transaction before committing: zero except in the tests
    /// that kill the process during the commit.
    private let commitPause: Duration

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    /// - Parameter commitPause: how long a turn's end waits before its commit (tests of a kill then).
    public convenience init(path: String, now: @escaping @Sendable () -> Date = { Date() }, commitPause: Duration = .zero) throws {
        try self.init(path: path, schemaVersion: nil, now: now, commitPause: commitPause)
    }

    /// `schemaVersion`: migrate only up to this version (tests of upgrades); nil for all.
    init(path: String, schemaVersion: String?, now: @escaping @Sendable () -> Date = { Date() }, commitPause: Duration = .zero) throws {
        self.path = path
        self.now = now
        self.commitPause = commitPause
        processID = getpid()
        do {
            try Self.createPrivately(path)
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            // WAL with synchronous=NORMAL: a killed process loses nothing it committed; only a power
            // cut may lose the last transactions, never the file's consistency.
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
            pool = try Self.oneProcessAtATime(in: path) {
                let pool = try DatabasePool(path: path, configuration: configuration)
                if let schemaVersion {
                    try StoreSchema.migrator.migrate(pool, upTo: schemaVersion)
                } else {
                    try StoreSchema.migrator.migrate(pool)
                }
                return pool
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.open, "Could not open the session database \(path): \(Self.describe(error))")
        }
    }

    /// The folder (0700) and an empty file (0600) before SQLite creates them with the umask's modes.
    private static func createPrivately(_ path: String) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if !FileManager.default.fileExists(atPath: folder) {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        if fd < 0 { throw StoreError(.open, "Could not create the session database \(path): \(String(cString: strerror(errno))).") }
        close(fd)
    }

    /// Runs `body` (opening the file in WAL mode and migrating it) while no other process does: two
    /// processes opening a new file at once both saw no schema and both created it, and the second failed
    /// ("table sessions already exists": GRDB reads the applied migrations outside the transaction that
    /// applies them), or switching to WAL failed at once with "database is locked". The lock is `flock`
    /// on the file's folder, not on the file: closing any descriptor of the database would drop SQLite's
    /// own locks in this process.
    private static func oneProcessAtATime<T>(in path: String, _ body: () throws -> T) throws -> T {
        let folder = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else { return try body() }
        defer { close(folder) }
        while flock(folder, LOCK_EX) != 0 && errno == EINTR {}
        defer { flock(folder, LOCK_UN) }
        return try body()
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
        return "\(error)"
    }

    /// The schema versions applied to the file, oldest first.
    public func appliedVersions() throws -> [String] {
        try read { db in try StoreSchema.migrator.appliedMigrations(db) }
    }

    // MARK: Writing

    /// A new session; its title is the first prompt's start. `chatID`: the id `serve`'s clients continue
    /// it by (`POST /chat`), stored with it in the same transaction.
    public func createSession(folder: String, model: String, api: String, firstPrompt: String, chatID: String? = nil) throws -> Int64 {
        try write { db in
            try db.execute(
                sql: "INSERT INTO sessions (folder, model, api, started_at, title) VALUES (?, ?, ?, ?, ?)",
                arguments: [folder, model, api, now().timeIntervalSince1970, Self.title(firstPrompt)])
            let id = db.lastInsertedRowID
            if let chatID {
                try db.execute(sql: "INSERT INTO served_chats (chat_id, session_id) VALUES (?, ?)", arguments: [chatID, id])
            }
            return id
        }
    }

    static func title(_ prompt: String) -> String {
        let line = prompt.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return line.count > StoreLimits.titleLength ? String(line.prefix(StoreLimits.titleLength - 1)) + "…" : line
    }

    /// A turn that starts now, as `running`; returns its id.
    public func beginTurn(session: Int64, job: Int? = nil, prompt: String) throws -> Int64 {
        try write { db in
            try db.execute(
                sql: "INSERT INTO turns (session_id, job, prompt, state, started_at, pid) VALUES (?, ?, ?, 'running', ?, ?)",
                arguments: [session, job, prompt, now().timeIntervalSince1970, Int64(processID)])
            return db.lastInsertedRowID
        }
    }

    /// The end of turn `id`, in one transaction: its outcome, the messages it added to the
    /// conversation, and its model calls.
    public func endTurn(
        _ id: Int64, state: TurnState, error: String? = nil, answer: String? = nil, messages: [ChatMessage], modelCalls: [StoredModelCall]
    ) throws {
        try write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT session_id, job FROM turns WHERE id = ?", arguments: [id]),
                let session = row.int64("session_id")
            else { throw StoreError(.notFound, "No turn \(id) in the session database.") }
            let job = row.int64("job")
            try db.execute(
                sql: "UPDATE turns SET state = ?, error = ?, answer = ?, ended_at = ? WHERE id = ?",
                arguments: [state.rawValue, error, answer, now().timeIntervalSince1970, id])
            let insertMessage = try db.cachedStatement(sql: """
                INSERT INTO messages (session_id, turn_id, job, role, content, tool_calls, tool_call_id, output_items)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for message in messages {
                let c = MessageColumns(message)
                try insertMessage.execute(arguments: [session, id, job, c.role, c.content, c.toolCalls, c.toolCallID, c.outputItems])
            }
            let insertCall = try db.cachedStatement(sql: """
                INSERT INTO model_calls (turn_id, model, prompt_tokens, completion_tokens, total_tokens, cached_prompt_tokens,
                  reasoning_tokens, ttft_ms, duration_ms, http_retries) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for stored in modelCalls {
                let usage = stored.call.usage
                try insertCall.execute(arguments: [
                    id, stored.model, usage?.promptTokens, usage?.completionTokens, usage?.totalTokens, usage?.cachedPromptTokens,
                    usage?.reasoningTokens, stored.call.timeToFirstToken?.milliseconds, stored.call.duration.milliseconds,
                    stored.call.httpRetries,
                ])
            }
            if commitPause > .zero { Thread.sleep(forTimeInterval: Double(commitPause.components.seconds) + Double(commitPause.components.attoseconds) / 1e18) }
        }
    }

    /// One tool task that ended during turn `turn`, with its tool's learned `sjf` estimate.
    public func recordTask(_ task: StoredToolTask, turn: Int64, estimate: Duration? = nil) throws {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO tool_tasks (turn_id, task_id, call_id, tool, arguments, state, priority, levels, preemptions,
                      wait_ms, run_ms, paused_ms, submitted_ms, started_ms, ended_ms, ended_at, result)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    turn, Int64(clamping: task.taskID), task.callID, task.tool, task.arguments, task.state.rawValue, task.priority,
                    ColumnJSON.encode(task.levels), task.preemptions, task.wait.milliseconds, task.run.milliseconds,
                    task.paused.milliseconds, task.submitted.milliseconds, task.started?.milliseconds, task.ended?.milliseconds,
                    task.endedAt.timeIntervalSince1970, task.result.map { ColumnJSON.encode(ToolResultColumn($0)) },
                ])
            if let estimate { try Self.saveEstimate(estimate, tool: task.tool, at: now(), in: db) }
        }
    }

    /// Stores learned `sjf` estimates by tool name (replacing earlier ones).
    public func saveEstimates(_ estimates: [String: Duration]) throws {
        try write { db in
            for (tool, estimate) in estimates { try Self.saveEstimate(estimate, tool: tool, at: now(), in: db) }
        }
    }

    private static func saveEstimate(_ estimate: Duration, tool: String, at date: Date, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO tool_estimates (tool, estimate_ns, updated_at) VALUES (?, ?, ?)
                ON CONFLICT(tool) DO UPDATE SET estimate_ns = excluded.estimate_ns, updated_at = excluded.updated_at
                """,
            arguments: [tool, estimate.storedNanoseconds, date.timeIntervalSince1970])
    }

    /// Marks `running` turns whose process is gone as `interrupted`; returns how many.
    /// - Parameter isAlive: whether a process id still runs (injected for tests).
    @discardableResult
    public func markInterruptedTurns(isAlive: (Int32) -> Bool = SessionStore.processIsAlive) throws -> Int {
        let running = try read { db in
            try Row.fetchAll(db, sql: "SELECT id, pid FROM turns WHERE state = 'running'")
                .compactMap { row -> (Int64, Int32)? in
                    guard let id = row.int64("id") else { return nil }
                    return (id, row.int64("pid").flatMap { Int32(exactly: $0) } ?? 0)
                }
        }
        let dead = running.filter { $0.1 != processID && ($0.1 <= 0 || !isAlive($0.1)) }.map(\.0)
        if dead.isEmpty { return 0 }
        try write { db in
            for id in dead {
                try db.execute(
                    sql: "UPDATE turns SET state = 'interrupted', ended_at = ? WHERE id = ? AND state = 'running'",
                    arguments: [now().timeIntervalSince1970, id])
            }
        }
        return dead.count
    }

    public static func processIsAlive(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    // MARK: Reading

    /// Recent sessions, newest first, those of `folder` only when given.
    public func sessions(folder: String? = nil, limit: Int = 20) throws -> [StoredSession] {
        try read { db in
            let filter = folder == nil ? "" : "WHERE s.folder = ?"
            let arguments: StatementArguments = folder.map { [$0, Self.clampLimit(limit)] } ?? [Self.clampLimit(limit)]
            return try Row.fetchAll(db, sql: Self.sessionSelect + " \(filter) ORDER BY s.id DESC LIMIT ?", arguments: arguments)
                .compactMap(Self.session)
        }
    }

    /// Session `id`, or nil.
    public func session(_ id: Int64) throws -> StoredSession? {
        try read { db in
            try Row.fetchOne(db, sql: Self.sessionSelect + " WHERE s.id = ?", arguments: [id]).flatMap(Self.session)
        }
    }

    /// The session `serve` recorded for the chat id `chatID`, or nil.
    public func session(chatID: String) throws -> Int64? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT session_id FROM served_chats WHERE chat_id = ?", arguments: [chatID])?.int64("session_id")
        }
    }

    private static let sessionSelect = """
        SELECT s.*, (SELECT COUNT(*) FROM turns t WHERE t.session_id = s.id) AS turn_count,
          (SELECT c.chat_id FROM served_chats c WHERE c.session_id = s.id) AS chat_id,
          (SELECT TOTAL(m.prompt_tokens) + TOTAL(m.completion_tokens) FROM model_calls m JOIN turns t ON t.id = m.turn_id
             WHERE t.session_id = s.id) AS tokens,
          (SELECT COUNT(m.prompt_tokens) FROM model_calls m JOIN turns t ON t.id = m.turn_id WHERE t.session_id = s.id) AS reported
        FROM sessions s
        """

    private static func session(_ row: Row) -> StoredSession? {
        guard let id = row.int64("id") else { return nil }
        let tokens = (row.int("reported") ?? 0) == 0 ? nil : row.double("tokens").flatMap { $0 < 1e18 ? Int(exactly: $0.rounded()) : nil }
        return StoredSession(
            id: id, folder: row.text("folder") ?? "", model: row.text("model") ?? "", api: row.text("api") ?? "",
            startedAt: row.date("started_at") ?? Date(timeIntervalSince1970: 0), title: row.text("title") ?? "",
            turns: row.int("turn_count") ?? 0, tokens: tokens, chatID: row.text("chat_id"))
    }

    private static func clampLimit(_ limit: Int) -> Int { min(max(limit, 0), StoreLimits.listRows) }

    /// The foreground conversation of session `id`, as the model saw it, oldest first.
    /// - Throws: `StoreError` `.tooLarge` beyond ``StoreLimits/resumedMessages`` messages.
    public func conversation(of id: Int64) throws -> [ChatMessage] {
        try read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM messages WHERE session_id = ? AND job IS NULL ORDER BY id LIMIT ?",
                arguments: [id, StoreLimits.resumedMessages + 1])
            if rows.count > StoreLimits.resumedMessages {
                throw StoreError(.tooLarge, "Session \(id) has more than \(StoreLimits.resumedMessages) messages, too many to resume.")
            }
            return rows.compactMap(MessageColumns.message)
        }
    }

    /// Every turn of session `id`, oldest first, with its messages, model calls and tool tasks.
    public func turns(of id: Int64, limit: Int = StoreLimits.listRows) throws -> [StoredTurn] {
        try read { db in
            let turnRows = try Row.fetchAll(
                db, sql: "SELECT * FROM turns WHERE session_id = ? ORDER BY id LIMIT ?", arguments: [id, Self.clampLimit(limit)])
            return try turnRows.compactMap { row -> StoredTurn? in
                guard let turnID = row.int64("id") else { return nil }
                let messages = try Row.fetchAll(
                    db, sql: "SELECT * FROM messages WHERE turn_id = ? ORDER BY id LIMIT ?", arguments: [turnID, StoreLimits.listRows])
                let calls = try Row.fetchAll(db, sql: "SELECT * FROM model_calls WHERE turn_id = ? ORDER BY id LIMIT ?", arguments: [turnID, StoreLimits.listRows])
                let tasks = try Row.fetchAll(db, sql: "SELECT * FROM tool_tasks WHERE turn_id = ? ORDER BY id LIMIT ?", arguments: [turnID, StoreLimits.listRows])
                return StoredTurn(
                    id: turnID, sessionID: id, job: row.int("job"), prompt: row.text("prompt") ?? "",
                    state: row.text("state").flatMap(TurnState.init(rawValue:)) ?? .interrupted, error: row.text("error"),
                    answer: row.text("answer"), startedAt: row.date("started_at") ?? Date(timeIntervalSince1970: 0),
                    endedAt: row.date("ended_at"), messages: messages.compactMap(MessageColumns.message),
                    modelCalls: calls.map(Self.modelCall), tasks: tasks.compactMap(Self.task))
            }
        }
    }

    private static func modelCall(_ row: Row) -> StoredModelCall {
        var usage: Usage?
        if let prompt = row.int("prompt_tokens"), let completion = row.int("completion_tokens") {
            usage = Usage(
                promptTokens: prompt, completionTokens: completion, totalTokens: row.int("total_tokens") ?? prompt &+ completion,
                cachedPromptTokens: row.int("cached_prompt_tokens"), reasoningTokens: row.int("reasoning_tokens"))
        }
        return StoredModelCall(
            model: row.text("model") ?? "",
            call: ModelCall(
                usage: usage, duration: row.duration("duration_ms") ?? .zero, timeToFirstToken: row.duration("ttft_ms"),
                httpRetries: row.int("http_retries") ?? 0))
    }

    private static func task(_ row: Row) -> StoredToolTask? {
        guard let id = row.int64("task_id"), let taskID = UInt64(exactly: id), let state = row.text("state").flatMap(TaskState.init(rawValue:))
        else { return nil }
        return StoredToolTask(
            taskID: taskID, callID: row.text("call_id") ?? "", tool: row.text("tool") ?? "", arguments: row.text("arguments") ?? "",
            state: state, priority: row.int("priority") ?? 0, levels: row.decoded([Int].self, "levels") ?? [],
            preemptions: row.int("preemptions") ?? 0, wait: row.duration("wait_ms") ?? .zero, run: row.duration("run_ms") ?? .zero,
            paused: row.duration("paused_ms") ?? .zero, submitted: row.duration("submitted_ms") ?? .zero,
            started: row.duration("started_ms"), ended: row.duration("ended_ms"),
            endedAt: row.date("ended_at") ?? Date(timeIntervalSince1970: 0),
            result: row.decoded(ToolResultColumn.self, "result")?.result)
    }

    /// Which tool tasks `logs tasks` lists first.
    public enum TaskOrder: String, Sendable, CaseIterable {
        case slowest, failed, preempted
    }

    /// Tool tasks across sessions, with the session each ran in.
    public func tasks(order: TaskOrder, limit: Int = 20) throws -> [(session: Int64, task: StoredToolTask)] {
        let clause = switch order {
        case .slowest: "ORDER BY k.run_ms DESC"
        case .failed: "WHERE k.state <> 'completed' OR json_extract(k.result, '$.outcome') <> 'success' ORDER BY k.id DESC"
        case .preempted: "WHERE k.preemptions > 0 ORDER BY k.preemptions DESC, k.id DESC"
        }
        return try read { db in
            try Row.fetchAll(
                db, sql: "SELECT k.*, t.session_id FROM tool_tasks k JOIN turns t ON t.id = k.turn_id \(clause) LIMIT ?",
                arguments: [Self.clampLimit(limit)]
            ).compactMap { row in
                guard let session = row.int64("session_id"), let task = Self.task(row) else { return nil }
                return (session, task)
            }
        }
    }

    /// Messages (prompts, answers, tool results) holding every word of `text`, newest first. FTS5 walks
    /// its index in rowid order and stops after `limit` (ranking by relevance would score every match:
    /// 27 ms for a word in one message of ten over 200,000 messages, docs/BENCHMARKS.md).
    public func search(_ text: String, limit: Int = 20) throws -> [SearchHit] {
        guard text.count <= StoreLimits.queryLength else {
            throw StoreError(.tooLarge, "The search text is longer than \(StoreLimits.queryLength) characters.")
        }
        guard let query = Self.matchQuery(text) else { return [] }
        return try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    WITH hits AS (
                      SELECT rowid AS id, snippet(messages_search, 0, '«', '»', '…', 16) AS snippet FROM messages_search
                      WHERE messages_search MATCH ? ORDER BY rowid DESC LIMIT ?)
                    SELECT m.session_id, m.turn_id, m.role, hits.snippet, t.started_at
                    FROM hits JOIN messages m ON m.id = hits.id JOIN turns t ON t.id = m.turn_id ORDER BY hits.id DESC
                    """,
                arguments: [query, Self.clampLimit(limit)]
            ).compactMap { row in
                guard let session = row.int64("session_id"), let turn = row.int64("turn_id") else { return nil }
                return SearchHit(
                    sessionID: session, turnID: turn, role: row.text("role") ?? "", snippet: row.text("snippet") ?? "",
                    at: row.date("started_at") ?? Date(timeIntervalSince1970: 0))
            }
        }
    }

    /// Each word as an FTS5 string (quotes doubled, control characters dropped: FTS5 ends a string at
    /// a NUL), so no word is read as query syntax; nil for no words.
    static func matchQuery(_ text: String) -> String? {
        let visible = String(String.UnicodeScalarView(text.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) || $0 == " " }))
        let words = visible.split(whereSeparator: { $0.isWhitespace }).map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        return words.isEmpty ? nil : words.joined(separator: " ")
    }

    /// The learned `sjf` estimates, by tool name (values outside 0 ns to a day are skipped).
    public func estimates() throws -> [String: Duration] {
        try read { db in
            var result: [String: Duration] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT tool, estimate_ns FROM tool_estimates LIMIT ?", arguments: [StoreLimits.listRows]) {
                guard let tool = row.text("tool"), let ns = row.int64("estimate_ns"), ns >= 0, ns <= 86_400 * 1_000_000_000 else { continue }
                result[tool] = .nanoseconds(ns)
            }
            return result
        }
    }

    // MARK: Transactions

    /// One IMMEDIATE transaction: it takes the write lock at its start, so a second process waits
    /// (busy timeout) instead of failing when its read would have to become a write.
    private func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                var value: T?
                try db.inTransaction(.immediate) {
                    value = try body(db)
                    return .commit
                }
                guard let value else { throw StoreError(.write, "The transaction ended without its value.") }
                return value
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.write, "Could not write to the session database \(path): \(Self.describe(error))")
        }
    }

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.read, "Could not read the session database \(path): \(Self.describe(error))")
        }
    }
}

extension Duration {
    /// Whole nanoseconds, saturating at Int64's ends.
    var storedNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflow2 ? (seconds < 0 ? .min : .max) : sum
    }
}
