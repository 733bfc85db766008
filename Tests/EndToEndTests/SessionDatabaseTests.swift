import Foundation
import GRDB
import Testing
import TestSupport
import JSON
import Store

/// The session database through the built binary: what a turn leaves in the file, continuing a
/// session, logging switched off, two processes at once, and kill -9 at three moments of a turn,
/// each followed by a start that continues the session.
@Suite(.timeLimit(.minutes(2))) struct SessionDatabaseTests {
    static let key = "sk-live-ZZ9-plural-Z-alpha-0042"

    private func agent(_ server: FakeOpenAIServer?, _ extra: [String: String] = [:]) throws -> AgentProcess {
        var environment = ["OPENAI_API_KEY": Self.key]
        if let server { environment["OPENAI_BASE_URL"] = server.baseURL }
        return try AgentProcess(environment: environment.merging(extra) { $1 })
    }

    /// `$XDG_DATA_HOME/agent-repl/agent-repl.db`, where a user's sessions go unless told otherwise.
    private func defaultDatabase(_ process: AgentProcess) -> String {
        process.environment["XDG_DATA_HOME"]! + "/agent-repl/agent-repl.db"
    }

    /// The user messages' texts of each request the server received.
    private func prompts(_ server: FakeOpenAIServer) -> [[String]] {
        server.requestBodies().map { body in
            (body["messages"]?.arrayValue ?? []).filter { $0["role"] == "user" }.compactMap { $0["content"]?.stringValue }
        }
    }

    private func integrity(_ path: String) throws -> String? {
        try DatabaseQueue(path: path).read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
    }

    @Test func aTurnIsRecordedWithItsToolTaskModelCallsAndIsSearchable() async throws {
        let server = try await FakeOpenAIServer.start(script: [
            toolCalls([("work", ["id": "w1", "seconds": 0.2])]),
            ["text": "The work is done.", "usage": ["prompt_tokens": 300, "completion_tokens": 4, "total_tokens": 304]],
        ])
        let process = try agent(server)
        let tools = try TestTools(in: process.workingFolder)
        let run = try await process.run(["--tools-dir", tools.folder.path, "-p", "please do the work"])
        #expect(run.status == 0, "\(run.stderr)")
        let store = try SessionStore(path: defaultDatabase(process))
        let session = try #require(try store.sessions().first)
        #expect(session.folder == process.workingFolder.path && session.title == "please do the work" && session.turns == 1)
        let turn = try #require(try store.turns(of: session.id).first)
        #expect(turn.state == .answered && turn.answer == "The work is done.")
        #expect(turn.messages.count == 4, "user, assistant's call, tool result, answer")
        #expect(turn.modelCalls.count == 2 && turn.modelCalls.last?.call.usage?.promptTokens == 300)
        let task = try #require(turn.tasks.first)
        #expect(task.tool == "work" && task.state == .completed && task.result?.output == "done w1\n" && task.run >= .milliseconds(200))
        #expect(try store.estimates()["work"] != nil, "the learned sjf estimate is kept")

        let search = try await process.run(["logs", "search", "done", "w1", "--json"])
        let hits = try JSONValue.parse(search.stdout).arrayValue ?? []
        #expect(hits.map { $0["role"] } == ["tool"], "\(search.stdout) \(search.stderr)")
        let show = try await process.run(["logs", "show", String(session.id), "--json"])
        let shown = try JSONValue.parse(show.stdout)
        #expect(shown["turns"]?.arrayValue?.first?["tool_tasks"]?.arrayValue?.first?["result"]?["output"] == "done w1\n", "\(show.stdout)")
        let tasks = try await process.run(["logs", "tasks", "--json"])
        #expect(try JSONValue.parse(tasks.stdout).arrayValue?.first?["tool"] == "work")
        let list = try await process.run(["logs"])
        #expect(list.stdout.contains("please do the work") && list.stdout.contains("1 turn, 319 tokens"), "\(list.stdout)")
    }

    @Test func aModelCallsHTTPRetriesAreRecorded() async throws {
        let server = try await FakeOpenAIServer.start(script: [
            ["status": 503, "headers": ["Retry-After": "0"], "body": ["error": ["message": "busy"]]],
            text("Fine now."),
        ])
        let process = try agent(server)
        let run = try await process.run(["-p", "hello"])
        #expect(run.status == 0 && run.stdout == "Fine now.\n", "\(run.stderr)")
        let again = try await process.run(["-p", "again"])
        #expect(again.status == 0)
        let calls = try SessionStore(path: defaultDatabase(process)).sessions().reversed().map { session in
            try SessionStore(path: defaultDatabase(process)).turns(of: session.id).flatMap(\.modelCalls).map(\.call.httpRetries)
        }
        #expect(calls == [[1], [0]])
        let shown = try await process.run(["logs", "show", "1"])
        #expect(shown.stdout.contains(", 1 retries"), "\(shown.stdout)")
    }

    @Test func theKeyAndWithheldValuesNeverReachTheFile() async throws {
        let withheld = "ghp_WITHHELD_value_4242"
        // A hostile server echoes the key in an error, then a tool prints its whole environment.
        let server = try await FakeOpenAIServer.start(script: [
            ["status": 400, "body": ["error": ["message": .string("bad request from \(Self.key)")]]],
            toolCalls([("env", [:])]),
            text("Here is what I saw."),
        ])
        let process = try agent(server, ["GITHUB_TOKEN": withheld])
        let tools = process.workingFolder.appendingPathComponent("env-tools.d")
        try FileManager.default.createDirectory(at: tools, withIntermediateDirectories: true)
        try #"{"name": "env", "description": "prints the environment", "parameters": {"type": "object"}, "exec": ["/usr/bin/env"]}"#
            .write(to: tools.appendingPathComponent("env.json"), atomically: true, encoding: .utf8)
        let run = try await process.run(["--tools-dir", tools.path], stdin: "first\nsecond\n")
        #expect(run.status == 0, "\(run.stderr)")
        let path = defaultDatabase(process)
        let store = try SessionStore(path: path)
        let turns = try store.turns(of: 1)
        #expect(turns.map(\.state) == [.failed, .answered], "\(run.stderr)")
        #expect(turns[1].tasks.first?.result?.output.contains("PATH=") == true, "the tool ran and its output is stored")
        var bytes = Data()
        for suffix in ["", "-wal", "-shm", "-journal"] {
            if let data = FileManager.default.contents(atPath: path + suffix) { bytes.append(data) }
        }
        #expect(bytes.count > 0)
        #expect(bytes.range(of: Data(Self.key.utf8)) == nil, "the API key is in the database file")
        #expect(bytes.range(of: Data(withheld.utf8)) == nil, "a withheld value is in the database file")
    }

    @Test func noLogAndLogsOffWriteNothing() async throws {
        let process = try agent(nil)
        let path = defaultDatabase(process)
        let quiet = try await process.run(["--demo", "--no-log"], stdin: "hello\n")
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(!FileManager.default.fileExists(atPath: (path as NSString).deletingLastPathComponent), "not even the folder")

        let off = try await process.run(["logs", "off"])
        #expect(off.status == 0 && off.stdout.hasPrefix("Logging is off"), "\(off.stderr)")
        _ = try await process.run(["--demo"], stdin: "hello\n")
        #expect(!FileManager.default.fileExists(atPath: path))
        let cannot = try await process.run(["--demo", "-c"], stdin: "hello\n")
        #expect(cannot.status == 2 && cannot.stderr.contains("logging to the session database is off"), "\(cannot.stderr)")

        _ = try await process.run(["logs", "on"])
        _ = try await process.run(["--demo"], stdin: "hello\n")
        #expect(FileManager.default.fileExists(atPath: path))
    }

    @Test func continueResumeAndClearChooseTheConversationSent() async throws {
        let server = try await FakeOpenAIServer.start(script: [text("Noted.")])
        let process = try agent(server)
        let first = try await process.run(["-p", "remember the word heron"])
        #expect(first.status == 0, "\(first.stderr)")
        let next = try await process.run(["-c"], stdin: "which word?\n/clear\nfresh start\n/sessions\n/resume 1\nand again?\n")
        #expect(next.status == 0, "\(next.stderr)")
        #expect(next.stderr.contains("Resumed session 1 (1 turn): remember the word heron\n> remember the word heron\nNoted.\n"), "\(next.stderr)")
        #expect(prompts(server) == [
            ["remember the word heron"],
            ["remember the word heron", "which word?"],
            ["fresh start"],
            ["remember the word heron", "which word?", "and again?"],
        ])
        #expect(next.stdout.contains("*2 "), "/sessions marks the current session: \(next.stdout)")
        let other = try await process.run(["--resume", "99"], stdin: "x\n")
        #expect(other.status == 2 && other.stderr.contains("No session 99"), "\(other.stderr)")
        let store = try SessionStore(path: defaultDatabase(process))
        #expect(try store.sessions().map(\.turns) == [1, 3])
    }

    @Test func aBackgroundJobsTurnIsRecordedApartFromTheConversation() async throws {
        let process = try agent(nil)
        let run = try await process.run(["--demo"], stdin: "in the background &\nin the foreground\n")
        #expect(run.status == 0, "\(run.stderr)")
        let store = try SessionStore(path: defaultDatabase(process))
        let turns = try store.turns(of: 1)
        #expect(Set(turns.map { "\($0.job.map(String.init) ?? "-") \($0.prompt) \($0.state.rawValue)" })
            == ["1 in the background answered", "- in the foreground answered"])
        #expect(turns.allSatisfy { $0.messages.count == 2 })
        #expect(try store.conversation(of: 1).count == 2, "a job's messages are not the foreground conversation's")
    }

    @Test func dbAndAgentDBChooseTheFileForTheChatAndTheLogs() async throws {
        let process = try agent(nil)
        let flag = process.workingFolder.appendingPathComponent("by-flag.db").path
        let byEnvironment = process.workingFolder.appendingPathComponent("by-env.db").path
        _ = try await process.run(["--demo", "--db", flag, "-p", "kept by the flag"])
        var withEnvironment = process
        withEnvironment.environment["AGENT_DB"] = byEnvironment
        _ = try await withEnvironment.run(["--demo", "-p", "kept by the environment"])
        #expect(!FileManager.default.fileExists(atPath: defaultDatabase(process)))
        let listed = try await process.run(["logs", "list", "--db", flag, "--json"])
        #expect(try JSONValue.parse(listed.stdout).arrayValue?.map { $0["title"] } == ["kept by the flag"], "\(listed.stderr)")
        let found = try await withEnvironment.run(["logs", "search", "environment", "--json"])
        #expect(try JSONValue.parse(found.stdout).arrayValue?.count == 2, "\(found.stderr)")
        let missing = try await process.run(["logs", "--db", process.workingFolder.appendingPathComponent("none.db").path])
        #expect(missing.status == 1 && missing.stderr.contains("nothing has been recorded"))
    }

    @Test func twoProcessesWriteAtOnce() async throws {
        let process = try agent(nil)
        let prompts = (1...12).map { "prompt \($0)\n" }.joined()
        async let a = process.run(["--demo"], stdin: prompts)
        async let b = process.run(["--demo"], stdin: prompts)
        let (ra, rb) = try await (a, b)
        #expect(ra.status == 0 && rb.status == 0)
        #expect(!ra.stderr.contains("Warning") && !rb.stderr.contains("Warning"), "\(ra.stderr)\(rb.stderr)")
        let store = try SessionStore(path: defaultDatabase(process))
        let sessions = try store.sessions()
        #expect(sessions.map(\.turns) == [12, 12])
        for session in sessions {
            let turns = try store.turns(of: session.id)
            #expect(turns.allSatisfy { $0.state == .answered && $0.messages.count == 2 })
            #expect(turns.map(\.prompt) == (1...12).map { "prompt \($0)" })
        }
    }

    /// Kills agent-repl once `moment` says so, then continues the session in a new process: the
    /// file is intact, the killed turn is marked interrupted and left out of the conversation.
    private func killThenContinue(
        script: JSONValue, environment: [String: String] = [:], tools: Bool = false,
        moment: (FakeOpenAIServer, AgentProcess, TestTools?) async throws -> Void
    ) async throws {
        let server = try await FakeOpenAIServer.start(script: script)
        let process = try agent(server, environment)
        let testTools = tools ? try TestTools(in: process.workingFolder) : nil
        let running = try process.launch(testTools.map { ["--tools-dir", $0.folder.path] } ?? [])
        running.send("first answered\n")
        #expect(await server.waitForLog { log in log.filter { $0["method"] != nil }.count >= 1 })
        // The first turn commits before the second prompt is read.
        var waited = 0
        while waited < 3000, (try? SessionStore(path: defaultDatabase(process)).turns(of: 1).first?.state) != .answered {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        running.send("killed one\n")
        try await moment(server, process, testTools)
        kill(running.pid, SIGKILL)
        _ = await running.finish()
        for pid in testTools?.entries().map(\.pid) ?? [] { kill(pid, SIGKILL) }

        let path = defaultDatabase(process)
        #expect(try integrity(path) == "ok")
        let after = try await FakeOpenAIServer.start(script: [text("Back again.")])
        var resumed = process
        resumed.environment["OPENAI_BASE_URL"] = after.baseURL
        resumed.environment["AGENT_DB_COMMIT_PAUSE_MS"] = nil
        let run = try await resumed.run(["-c"], stdin: "continued\n")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("Back again."))
        #expect(prompts(after) == [["first answered", "continued"]], "the killed turn is not in the conversation")
        let turns = try SessionStore(path: path).turns(of: 1)
        #expect(turns.map(\.state) == [.answered, .interrupted, .answered])
        #expect(turns.map(\.messages.count) == [2, 0, 2], "the killed turn left no half of its messages")
        #expect(try integrity(path) == "ok")
    }

    @Test func killedDuringAToolTheNextStartResumesCleanly() async throws {
        try await killThenContinue(
            script: [text("One."), toolCalls([("work", ["id": "long", "seconds": 60])]), text("never")], tools: true
        ) { _, _, tools in
            let started = try await tools?.startedPIDs(count: 1)
            #expect(started?.count == 1)
        }
    }

    @Test func killedDuringAStreamTheNextStartResumesCleanly() async throws {
        try await killThenContinue(script: [text("One."), ["hang": true]]) { server, _, _ in
            #expect(await server.waitForLog { log in log.filter { $0["method"] != nil }.count >= 2 })
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    @Test func killedDuringTheCommitTheNextStartResumesCleanly() async throws {
        // The turn's end waits 3 s inside its transaction (rows inserted, not committed): while another
        // connection cannot take the write lock after the second answer came, agent-repl is committing.
        try await killThenContinue(script: [text("One."), text("Two.")], environment: ["AGENT_DB_COMMIT_PAUSE_MS": "3000"]) { server, process, _ in
            #expect(await server.waitForLog { log in log.filter { $0["method"] != nil }.count >= 2 })
            var configuration = Configuration()
            configuration.busyMode = .immediateError
            let probe = try DatabaseQueue(path: defaultDatabase(process), configuration: configuration)
            var locked = false
            for _ in 0..<1000 where !locked {
                do {
                    try await probe.writeWithoutTransaction { db in
                        try db.execute(sql: "BEGIN IMMEDIATE")
                        try db.execute(sql: "ROLLBACK")
                    }
                    try await Task.sleep(for: .milliseconds(20))
                } catch {
                    locked = true
                }
            }
            #expect(locked, "the turn's end holds the write lock")
        }
    }
}
