import Foundation
import JSON
import LLM
import Store
import Testing
import TestSupport
import Tools

/// `serve`'s `/chat` conversations in the session database: recorded as the REPL records its own,
/// continued after a restart, and a database that cannot be used costs one warning, not the service.
@Suite("ServeSessionDatabaseTests", .serialized)
struct ServeSessionDatabaseTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("serve-db-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    @Test func aChatIsRecordedAndContinuedAfterARestart() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let fake = try await FakeOpenAIServer.start(script: [
            ["tool_calls": [["name": "now", "arguments": ["timezone": "UTC"]]], "usage": ["prompt_tokens": 21, "completion_tokens": 4, "total_tokens": 25]],
            ["text": "It is noon."],
            ["text": "You asked for the time."],
        ])
        defer { fake.stop() }
        let database = folder.appendingPathComponent("sessions.db").path
        let model = ["--base-url", fake.baseURL, "--model", "fake-model"]

        let serve = try await ServeProcess(arguments: ["--db", database], model: model, tools: ["now"])
        #expect(serve.stderr.contains("chats recorded in \(database)"))
        let first = try await serve.post("/chat", #"{"message": "what time is it?"}"#)
        #expect(first.head.status == 200, "\(String(decoding: first.body, as: UTF8.self))")
        let answer = try JSONValue.parse(first.body)
        #expect(answer["answer"] == "It is noon.")
        let chat = try #require(answer["session"]?.stringValue)
        #expect(await serve.terminate() == 0)

        // The turn as the REPL records one: prompt, answer, both model calls with their tokens, the tool task.
        let store = try SessionStore(path: database)
        let session = try #require(try store.session(chatID: chat), "the conversation is a session of the database")
        #expect(try store.session(session)?.chatID == chat)
        let turns = try store.turns(of: session)
        try #require(turns.count == 1)
        #expect(turns[0].prompt == "what time is it?")
        #expect(turns[0].state == .answered && turns[0].answer == "It is noon.")
        #expect(turns[0].modelCalls.map { $0.call.usage?.promptTokens } == [21, 10])
        #expect(turns[0].modelCalls.map(\.model) == ["fake-model", "fake-model"])
        #expect(turns[0].tasks.map(\.tool) == ["now"])
        #expect(turns[0].tasks.first?.state == .completed)
        #expect(turns[0].tasks.first?.result?.outcome == .success)
        #expect(turns[0].tasks.first?.arguments.contains("UTC") == true)
        let shown = try ServeProcess.run(["logs", "show", String(session), "--db", database], home: folder).out
        #expect(shown.contains("served: POST /chat session \(chat)"), "\(shown)")
        #expect(shown.contains("> what time is it?") && shown.contains("· now ") && shown.contains("21 in, 4 out"), "\(shown)")
        #expect(try ServeProcess.run(["logs", "tasks", "--db", database], home: folder).out.contains("now"))
        #expect(try ServeProcess.run(["logs", "--db", database], home: folder).out.contains("(serve)"))
        let listed = try JSONValue.parse(Data(ServeProcess.run(["logs", "list", "--json", "--db", database], home: folder).out.utf8))
        #expect(listed.arrayValue?.first?["chat_session"]?.stringValue == chat)

        // A new process on the same database continues the conversation: the model sees the earlier turn.
        let again = try await ServeProcess(arguments: ["--db", database], model: model, tools: ["now"])
        let second = try await again.post("/chat", #"{"message": "what did I ask?", "session": "\#(chat)"}"#)
        #expect(second.head.status == 200, "\(String(decoding: second.body, as: UTF8.self))")
        #expect(try JSONValue.parse(second.body)["session"]?.stringValue == chat)
        #expect(try JSONValue.parse(second.body)["answer"] == "You asked for the time.")
        let sent = try #require(fake.requestBodies().last?["messages"]?.arrayValue)
        try #require(sent.compactMap { $0["role"]?.stringValue } == ["user", "assistant", "tool", "assistant", "user"])
        #expect(sent.first?["content"] == "what time is it?")
        #expect(sent[1]["tool_calls"]?.arrayValue?.first?["function"]?["name"] == "now")
        #expect(sent[3]["content"] == "It is noon.")
        #expect(sent.last?["content"] == "what did I ask?")

        // Ids never given, and hostile ones, are refused; the server goes on.
        let unknown = try await again.post("/chat", #"{"message": "hi", "session": "\#(UUID().uuidString.lowercased())"}"#)
        #expect(unknown.head.status == 404)
        #expect(try JSONValue.parse(unknown.body)["field"] == "/session")
        let huge = try await again.post("/chat", #"{"message": "hi", "session": "\#(String(repeating: "7", count: 500_000))"}"#)
        #expect(huge.head.status == 422)
        #expect(try JSONValue.parse(huge.body)["field"] == "/session")
        #expect(huge.body.count < 2000, "the id is not echoed back whole")
        let odd = try await again.post("/chat", #"{"message": "hi", "session": "' OR 1=1; --\u0000\u202e"}"#)
        #expect(odd.head.status == 404)
        #expect(try await again.post("/chat", #"{"message": "hi", "session": 1}"#).head.status == 422)
        #expect(try await again.get("/healthz").head.status == 200)
        #expect(await again.terminate() == 0)

        #expect(try store.turns(of: session).count == 2)
        #expect(try store.sessions().count == 1, "refused requests leave nothing behind")
    }

    @Test func aDatabaseThatCannotBeOpenedLeavesChatsInMemoryWithOneWarning() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        // A regular file where the database's folder should be: nothing can be created beneath it.
        let blocker = folder.appendingPathComponent("not-a-folder")
        try Data("x".utf8).write(to: blocker)
        let serve = try await ServeProcess(arguments: ["--db", blocker.appendingPathComponent("agent-repl.db").path], tools: ["now"])
        let first = try await serve.post("/chat", #"{"message": "what time is it now?"}"#)
        #expect(first.head.status == 200)
        let chat = try #require(try JSONValue.parse(first.body)["session"]?.stringValue)
        #expect(try await serve.post("/chat", #"{"message": "and now?", "session": "\#(chat)"}"#).head.status == 200)
        #expect(try await serve.post("/chat", #"{"message": "hello"}"#).head.status == 200)
        let warnings = serve.stderr.components(separatedBy: "Warning").count - 1
        #expect(warnings == 1, "\(serve.stderr)")
        #expect(serve.stderr.contains("kept in memory only"))
        #expect(await serve.terminate() == 0)
    }

    /// Another process holds the write lock: each turn's record waits out the busy timeout and fails,
    /// the answers still come, and the failure is said once for all conversations.
    @Test func aLockedDatabaseCostsOneWarningNotTheAnswers() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("locked.db").path
        let serve = try await ServeProcess(arguments: ["--db", database], tools: ["now"])
        let locker = Process()
        locker.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        locker.arguments = [
            "-c", "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(120)",
            database,
        ]
        let out = Pipe()
        locker.standardOutput = out
        try locker.run()
        defer { locker.terminate() }
        #expect(String(decoding: out.fileHandleForReading.availableData, as: UTF8.self).contains("locked"))
        let first = try await serve.post("/chat", #"{"message": "hello"}"#)
        #expect(first.head.status == 200)
        let second = try await serve.post("/chat", #"{"message": "hello again"}"#)
        #expect(second.head.status == 200)
        #expect(try JSONValue.parse(first.body)["session"] != JSONValue.parse(second.body)["session"])
        let warnings = serve.stderr.components(separatedBy: "Warning").count - 1
        #expect(warnings == 1, "\(serve.stderr)")
        #expect(serve.stderr.contains("Not recorded in the session database"))
        #expect(await serve.terminate() == 0)
    }

    @Test func noLogOpensNoDatabase() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("never.db").path
        let serve = try await ServeProcess(arguments: ["--db", database, "--no-log"], tools: ["now"])
        let first = try await serve.post("/chat", #"{"message": "hello"}"#)
        #expect(first.head.status == 200)
        let chat = try #require(try JSONValue.parse(first.body)["session"]?.stringValue)
        #expect(try await serve.post("/chat", #"{"message": "again", "session": "\#(chat)"}"#).head.status == 200)
        #expect(await serve.terminate() == 0)
        #expect(!FileManager.default.fileExists(atPath: database))
        #expect(!serve.stderr.contains("Warning"), "\(serve.stderr)")
    }

    /// A conversation forgotten from memory (the least recently used beyond the limit) is read back
    /// from the database with everything the model saw, and goes on in the same session.
    @Test func aConversationForgottenFromMemoryIsReadBack() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SessionStore(path: folder.appendingPathComponent("lru.db").path)
        let server = try await ServerHarness.start(database: store, chatLimit: 1)
        let first = try await server.request("POST", "/chat", body: #"{"message": "what time is it now?"}"#)
        let chat = try #require(first.json?["session"]?.stringValue)
        let other = try await server.request("POST", "/chat", body: #"{"message": "hello"}"#)
        #expect(other.status == 200 && other.json?["session"]?.stringValue != chat)
        let again = try await server.request("POST", "/chat", body: #"{"message": "hello again", "session": "\#(chat)"}"#)
        #expect(again.status == 200, "\(again.text)")
        let session = try #require(try store.session(chatID: chat))
        let turns = try store.turns(of: session)
        try #require(turns.map(\.prompt) == ["what time is it now?", "hello again"])
        #expect(turns[0].tasks.map(\.tool) == ["now"])
        let agent = try #require(try await server.sessions.conversation(chat)?.agent)
        #expect(agent.messages == turns[0].messages + turns[1].messages)
        #expect(agent.messages.count > turns[1].messages.count, "the first turn's messages were read back")
        #expect(try store.sessions(folder: "/served").count == 2)
        try await server.stop()
    }
}
