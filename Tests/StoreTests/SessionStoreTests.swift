import Foundation
import GRDB
import Testing
import Agent
import JSON
import LLM
import Scheduler
import Tools
@testable import Store

/// The store on a real file in a temporary folder: every stored kind read back as written, the
/// schema's migrations, interrupted turns, and values a hand-edited file may hold.
@Suite struct SessionStoreTests {
    let folder: URL
    var path: String { folder.appendingPathComponent("sessions.db").path }

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    static let clock: @Sendable () -> Date = { Date(timeIntervalSince1970: 1_800_000_000.5) }

    static let call = ToolCall(id: "call_1", name: "grep", arguments: #"{"pattern":"é\"x"}"#)
    static let messages: [ChatMessage] = [
        .system("be brief"),
        .user("find x\nin the files"),
        .assistant(content: nil, toolCalls: [call, ToolCall(id: "call_2", name: "ls", arguments: "{}")], outputItems: [["type": "reasoning", "encrypted_content": "abc"]]),
        .tool(callID: "call_1", content: "a.txt: x"),
        .tool(callID: "call_2", content: ""),
        .assistant(content: "x is in a.txt", toolCalls: []),
    ]
    static let modelCalls = [
        StoredModelCall(model: "m1", call: ModelCall(
            usage: Usage(promptTokens: 1_000, completionTokens: 20, totalTokens: 1_020, cachedPromptTokens: 512, reasoningTokens: 7),
            duration: .milliseconds(1_500), timeToFirstToken: .milliseconds(250), httpRetries: 2)),
        StoredModelCall(model: "m1", call: ModelCall(usage: nil, duration: .milliseconds(40), timeToFirstToken: nil)),
    ]
    static func task(result: ToolResult?) -> StoredToolTask {
        StoredToolTask(
            taskID: 42, callID: "call_1", tool: "grep", arguments: call.arguments, state: result == nil ? .timedOut : .failed, priority: 2,
            levels: [0, 1, 2, 0], preemptions: 3, wait: .milliseconds(5), run: .milliseconds(1_250), paused: .milliseconds(300),
            submitted: .milliseconds(10), started: .milliseconds(15), ended: .milliseconds(1_565), endedAt: Date(timeIntervalSince1970: 1_800_000_001.25),
            result: result)
    }
    static var fullResult: ToolResult {
        var result = ToolResult(outcome: .failed, output: "partial", error: "exit 2", exitCode: 2, signal: 9, stderrTail: "boom", httpStatus: 503)
        result.cpuTime = .milliseconds(120)
        return result
    }

    @Test func everyStoredKindReadsBackAsWritten() throws {
        let store = try SessionStore(path: path, now: Self.clock)
        let session = try store.createSession(folder: "/work/p", model: "m1", api: "responses", firstPrompt: "find x\nin the files")
        let turn = try store.beginTurn(session: session, prompt: "find x\nin the files")
        try store.recordTask(Self.task(result: Self.fullResult), turn: turn, estimate: .milliseconds(700))
        try store.recordTask(Self.task(result: nil), turn: turn)
        try store.endTurn(turn, state: .answered, answer: "x is in a.txt", messages: Self.messages, modelCalls: Self.modelCalls)
        let job = try store.beginTurn(session: session, job: 3, prompt: "later &")
        try store.endTurn(job, state: .failed, error: "HTTP 500", messages: [], modelCalls: [])

        let reopened = try SessionStore(path: path, now: Self.clock)
        let stored = try #require(try reopened.session(session))
        #expect(stored == StoredSession(
            id: session, folder: "/work/p", model: "m1", api: "responses", startedAt: Self.clock(), title: "find x", turns: 2, tokens: 1_020))
        let turns = try reopened.turns(of: session)
        #expect(turns.count == 2)
        #expect(turns[0] == StoredTurn(
            id: turn, sessionID: session, job: nil, prompt: "find x\nin the files", state: .answered, error: nil, answer: "x is in a.txt",
            startedAt: Self.clock(), endedAt: Self.clock(), messages: Self.messages, modelCalls: Self.modelCalls,
            tasks: [Self.task(result: Self.fullResult), Self.task(result: nil)]))
        #expect(turns[1].job == 3 && turns[1].state == .failed && turns[1].error == "HTTP 500")
        #expect(try reopened.conversation(of: session) == Self.messages)
        #expect(try reopened.estimates() == ["grep": .milliseconds(700)])
        #expect(try reopened.tasks(order: .preempted).map(\.task.taskID) == [42, 42])
        #expect(try reopened.tasks(order: .failed).count == 2, "a failed result and a timed-out task")
    }

    /// `serve`'s `/chat` conversations: the client's id is stored with the session, found again by it,
    /// and never given to two sessions; other sessions have none.
    @Test func aServedChatIsFoundByItsID() throws {
        do {
            let v2 = try SessionStore(path: path, schemaVersion: "v2-search")
            _ = try v2.createSession(folder: "/p", model: "m", api: "chat", firstPrompt: "from the REPL")
        }
        let store = try SessionStore(path: path)
        let served = try store.createSession(folder: "/p", model: "m", api: "chat", firstPrompt: "from serve", chatID: "c-1")
        #expect(try store.session(chatID: "c-1") == served)
        #expect(try store.session(chatID: "c-2") == nil)
        #expect(try store.session(served)?.chatID == "c-1")
        #expect(try store.sessions().map(\.chatID) == ["c-1", nil])
        #expect(throws: StoreError.self) { try store.createSession(folder: "/p", model: "m", api: "chat", firstPrompt: "again", chatID: "c-1") }
        #expect(try store.sessions().count == 2, "the refused session was not created either")
    }

    @Test func aNewFileGetsEverySchemaVersion() throws {
        let store = try SessionStore(path: path)
        #expect(try store.appliedVersions() == StoreSchema.versions)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600, "the conversation is readable by its owner only")
    }

    @Test func aFileOfTheFirstSchemaIsUpgradedAndItsMessagesBecomeSearchable() throws {
        do {
            let v1 = try SessionStore(path: path, schemaVersion: StoreSchema.firstVersion)
            #expect(try v1.appliedVersions() == [StoreSchema.firstVersion])
            let session = try v1.createSession(folder: "/p", model: "m", api: "chat", firstPrompt: "old prompt")
            let turn = try v1.beginTurn(session: session, prompt: "old prompt")
            try v1.endTurn(turn, state: .answered, answer: "an aardvark", messages: [.user("old prompt"), .assistant(content: "an aardvark", toolCalls: [])], modelCalls: [])
        }
        let store = try SessionStore(path: path)
        #expect(try store.appliedVersions() == StoreSchema.versions)
        #expect(try store.search("aardvark").map(\.role) == ["assistant"])
        #expect(try store.conversation(of: 1).count == 2)
    }

    @Test func searchFindsEveryWordAndTreatsQuerySyntaxAsText() throws {
        let store = try SessionStore(path: path)
        let session = try store.createSession(folder: "/p", model: "m", api: "chat", firstPrompt: "p")
        let turn = try store.beginTurn(session: session, prompt: "p")
        try store.endTurn(turn, state: .answered, messages: [
            .user("where is the config"), .tool(callID: "c", content: "config found in NEAR(x) \"quoted\" OR *"), .assistant(content: "the config is here", toolCalls: []),
        ], modelCalls: [])
        #expect(try store.search("config found").map(\.role) == ["tool"])
        #expect(try store.search("config").map(\.role) == ["assistant", "tool", "user"], "newest first")
        #expect(try store.search("nothing-like-this").isEmpty)
        for hostile in ["\"", "NEAR(", "OR", "*", "a\" OR \"b", ")", "-x", "^", "{}", "'; DROP TABLE messages; --", "\u{0}"] {
            _ = try store.search(hostile)
        }
        #expect(try store.search("\"quoted\"").count == 1)
        #expect(try store.search("   ").isEmpty)
        #expect(throws: StoreError.self) { try store.search(String(repeating: "a ", count: 1_000)) }
        #expect(try store.turns(of: session).count == 1, "the table is still there")
    }

    @Test func runningTurnsOfDeadProcessesAreMarkedInterrupted() throws {
        let store = try SessionStore(path: path)
        let session = try store.createSession(folder: "/p", model: "m", api: "chat", firstPrompt: "p")
        let dead = try store.beginTurn(session: session, prompt: "killed")
        let alive = try store.beginTurn(session: session, prompt: "still running elsewhere")
        let own = try store.beginTurn(session: session, prompt: "this process's")
        try raw { db in
            try db.execute(sql: "UPDATE turns SET pid = 999001 WHERE id = ?", arguments: [dead])
            try db.execute(sql: "UPDATE turns SET pid = 999002 WHERE id = ?", arguments: [alive])
        }
        #expect(try store.markInterruptedTurns(isAlive: { $0 == 999002 }) == 1)
        let states = Dictionary(uniqueKeysWithValues: try store.turns(of: session).map { ($0.id, $0.state) })
        #expect(states == [dead: .interrupted, alive: .running, own: .running])
        #expect(try store.markInterruptedTurns(isAlive: { $0 == 999002 }) == 0)
    }

    @Test func hostileValuesInTheFileReadAsMissingNotAsACrash() throws {
        let store = try SessionStore(path: path)
        let session = try store.createSession(folder: "/p", model: "m", api: "chat", firstPrompt: "p")
        let turn = try store.beginTurn(session: session, prompt: "p")
        try store.recordTask(Self.task(result: Self.fullResult), turn: turn, estimate: .seconds(1))
        try store.endTurn(turn, state: .answered, messages: Self.messages, modelCalls: Self.modelCalls)
        let huge = String(repeating: "x", count: StoreLimits.textBytes + 10)
        try raw { db in
            try db.execute(sql: "UPDATE model_calls SET prompt_tokens = 1e300, duration_ms = 'soon', ttft_ms = 1e300")
            try db.execute(sql: "UPDATE tool_tasks SET task_id = -5 WHERE id = 1")
            try db.execute(sql: "INSERT INTO tool_tasks SELECT NULL, turn_id, 7, call_id, tool, arguments, 'exploded', priority, levels, preemptions, wait_ms, run_ms, paused_ms, submitted_ms, started_ms, ended_ms, ended_at, result FROM tool_tasks")
            try db.execute(sql: "INSERT INTO tool_tasks SELECT NULL, turn_id, 8, call_id, tool, arguments, 'completed', 1e300, '[1e400, \"x\"]', x'00ff', 1e308, -1e308, 0, 0, NULL, NULL, 'when', '{\"outcome\": \"nope\"}' FROM tool_tasks WHERE task_id = 7")
            try db.execute(sql: "UPDATE messages SET tool_calls = '{not json', output_items = '[' WHERE role = 'assistant'")
            try db.execute(sql: "UPDATE messages SET content = ? WHERE role = 'system'", arguments: [huge])
            try db.execute(sql: "UPDATE messages SET role = 'wizard' WHERE role = 'tool' AND tool_call_id = 'call_2'")
            try db.execute(sql: "UPDATE turns SET state = 'dancing', started_at = 'yesterday', job = 1e300")
            try db.execute(sql: "UPDATE sessions SET started_at = x'00', title = x'0102'")
            try db.execute(sql: "INSERT INTO tool_estimates VALUES ('neg', -5, 0), ('huge', 9223372036854775807, 0), ('text', 'fast', 0), ('real', 1e300, 0)")
        }
        let turns = try store.turns(of: session)
        let read = try #require(turns.first)
        #expect(read.state == .interrupted, "an unknown state reads as interrupted")
        #expect(read.job == nil)
        #expect(read.modelCalls.first?.call.usage == nil)
        #expect(read.modelCalls.first?.call.duration == .zero)
        #expect(read.tasks.map(\.taskID) == [8], "a negative id and an unknown state are skipped")
        #expect(read.tasks.first?.result == nil && read.tasks.first?.levels == [])
        #expect(read.messages.count == Self.messages.count - 1, "the unknown role is skipped")
        #expect(read.tasks.first?.priority == 0 && read.tasks.first?.wait == .zero && read.tasks.first?.endedAt == Date(timeIntervalSince1970: 0))
        if case .system(let text) = read.messages[0] { #expect(text.utf8.count == StoreLimits.textBytes) } else { Issue.record("system first") }
        if case .assistant(_, let calls, let items) = read.messages[2] { #expect(calls.isEmpty && items.isEmpty) } else { Issue.record("assistant second") }
        #expect(try store.session(session)?.title == "")
        #expect(try store.estimates() == ["grep": .seconds(1)])
        _ = try store.sessions()
        _ = try store.tasks(order: .slowest)
    }

    @Test func aRecorderStartingUpLoadsTheLearnedEstimatesIntoItsScheduler() async throws {
        let store = try SessionStore(path: path)
        try store.saveEstimates(["grep": .milliseconds(50), "curl": .seconds(2)])
        let scheduler = ToolScheduler(configuration: SchedulerConfiguration(strategy: .sjf, workers: 1))
        let recorder = SessionRecorder(store: store, folder: "/p", api: "chat", scheduler: scheduler, warn: { Issue.record("\($0)") })
        #expect(scheduler.learnedEstimates.isEmpty)
        recorder.prepare()
        #expect(scheduler.learnedEstimates == ["grep": .milliseconds(50), "curl": .seconds(2)])
        await scheduler.shutdown()
    }

    @Test func tooLongAConversationIsRefusedWhole() throws {
        let store = try SessionStore(path: path)
        let session = try store.createSession(folder: "/p", model: "m", api: "chat", firstPrompt: "p")
        let turn = try store.beginTurn(session: session, prompt: "p")
        try store.endTurn(turn, state: .answered, messages: Array(repeating: .user("hi"), count: StoreLimits.resumedMessages + 1), modelCalls: [])
        #expect(throws: StoreError.self) { try store.conversation(of: session) }
    }

    @Test func titlesAreTheFirstLineCut() {
        #expect(SessionStore.title("one\ntwo") == "one")
        #expect(SessionStore.title(String(repeating: "é", count: 200)).count == StoreLimits.titleLength)
    }

    /// Changes the file directly, as another program could.
    private func raw(_ body: (Database) throws -> Void) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write(body)
    }
}
