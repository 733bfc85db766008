import Foundation
import JSON
import LLM
import MCPTools
import Testing
import TestSupport
import Tools

/// `serve` with an MCP server declared: the Python SDK's FastMCP fixture of the MCP tests (installed by
/// scripts/install-mcp) over stdio, its tools run as scheduled tasks through `POST /tasks` on 127.0.0.1.
@Suite(.serialized) struct ServerMCPTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("MCPToolsTests/Fixtures/test_server.py")

    /// The fixture as server `fx`, its calls logged to `log`; not started (the server starts it).
    static func pool(log: URL, maxConcurrency: Int) throws -> MCPServerPool {
        let python = try #require(Installed.value("PYTHON", of: "mcp"), "run scripts/install-mcp")
        let declaration = MCPServerDeclaration(
            name: "fx", transport: .stdio(argv: [python, fixture.path, "stdio"], env: ["LOG": log.path], cwd: nil),
            timeout: nil, maxConcurrency: maxConcurrency)
        return MCPServerPool([declaration], environment: ProcessInfo.processInfo.environment, backoff: { _ in .milliseconds(200) })
    }

    /// Polls until the served catalog has `tool` (the server's tools join once it is ready).
    static func waitForTool(_ server: ServerHarness, _ tool: String) async -> Bool {
        for _ in 0..<300 {
            if server.server.service.catalog.tool(named: tool) != nil { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test func postTasksRunsAnMCPToolInItsServersLaneAndGetTasksShowsTheAnswer() async throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("serve-mcp-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let pool = try Self.pool(log: log, maxConcurrency: 1)
        let server = try await ServerHarness.start(model: EchoCallingModel(), mcp: pool)
        do {
            #expect(await Self.waitForTool(server, "fx_echo"), "the MCP server's tools never joined: \(pool.formattedStatus())")

            let echo = try await server.submit(#"{"name": "echo it", "payload": {"tool": "fx_echo", "arguments": {"text": "hi there"}}}"#)
            let ended = try await server.ended(echo)
            #expect(ended["status"]?.stringValue == "completed")
            #expect(ended["result"]?.stringValue == "echo: hi there")
            #expect(ended["tool"]?.stringValue == "fx_echo")
            #expect(ended["name"]?.stringValue == "echo it")
            let listed = try await server.request("GET", "/tasks?tool=fx_echo").json
            #expect(listed?.arrayValue?.compactMap { $0["id"]?.stringValue } == [echo])

            // The schema the server published is checked: a missing argument is refused before any task.
            let bad = try await server.request("POST", "/tasks", body: #"{"name": "x", "payload": {"tool": "fx_echo", "arguments": {}}}"#)
            #expect(bad.status == 422, "\(bad.text)")
            #expect(bad.json?["field"]?.stringValue == "/payload/arguments")

            // max_concurrency 1: the server's second call waits in the scheduler until the first has ended.
            let first = try await server.submit(#"{"name": "a", "payload": {"tool": "fx_hold", "arguments": {"label": "a", "seconds": 0.3}}}"#)
            let second = try await server.submit(#"{"name": "b", "payload": {"tool": "fx_hold", "arguments": {"label": "b", "seconds": 0.3}}}"#)
            #expect(try await server.ended(first)["result"]?.stringValue == "held a")
            #expect(try await server.ended(second)["result"]?.stringValue == "held b")
            let lines = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            #expect(lines == ["start a", "end a", "start b", "end b"])

            // A chat turn is offered the MCP tool and runs it on the server's scheduler.
            let chat = try await server.request("POST", "/chat", body: #"{"message": "from chat"}"#)
            #expect(chat.status == 200, "\(chat.text)")
            #expect(chat.json?["answer"]?.stringValue == "the tool said: echo: from chat")
            #expect(try await server.request("GET", "/stats").json?["tools"]?["fx_echo"]?["count"] == 2)

            // The API document names the MCP tools that joined.
            let document = try await server.request("GET", "/openapi.json").text
            #expect(document.contains(#""fx_echo""#))
        } catch {
            try await server.stop()
            throw error
        }
        // Draining stops the servers the service owns.
        try await server.stop()
        #expect(pool.servers[0].status.state == .stopped)
    }
}

/// `agent-repl serve` as users run it, with the fixture declared in its tools.d.
@Suite("ServeProcessMCPTests", .serialized)
struct ServeProcessMCPTests {
    @Test func serveRunsToolsDsMCPServerAndSigtermStillExitsZero() async throws {
        let python = try #require(Installed.value("PYTHON", of: "mcp"), "run scripts/install-mcp")
        let declaration: JSONValue = [
            "name": "fx", "mcp": ["command": [.string(python), .string(ServerMCPTests.fixture.path), "stdio"], "env": ["LOG": "/dev/null"]],
        ]
        let serve = try await ServeProcess(tools: ["now"], files: ["fx.json": declaration.jsonString])
        // The server starts in the background: its tools are refused as unknown until it is ready.
        var id: String?
        for _ in 0..<300 where id == nil {
            let answer = try await serve.post("/tasks", #"{"name": "echo", "payload": {"tool": "fx_echo", "arguments": {"text": "served"}}}"#)
            if answer.head.status == 200 { id = try JSONValue.parse(answer.body)["task_id"]?.stringValue } else { try await Task.sleep(for: .milliseconds(100)) }
        }
        let task = try #require(id, "fx_echo never became a tool: \(serve.stderr)")
        var ended: JSONValue?
        for _ in 0..<300 {
            let object = try JSONValue.parse(await serve.get("/tasks/\(task)").body)
            if object["status"]?.stringValue == "completed" || object["status"]?.stringValue == "failed" { ended = object; break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(ended?["result"]?.stringValue == "echo: served", "\(String(describing: ended))")
        #expect(await serve.terminate() == 0, "stderr: \(serve.stderr)")
    }
}

/// Calls `fx_echo` with the user's message when it is offered, then answers with the tool's result.
private struct EchoCallingModel: ChatModel {
    var displayName: String { "echo-calling" }

    func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        let completion: ChatCompletion
        switch request.messages.last {
        case .tool(_, let content)?:
            completion = ChatCompletion(content: "the tool said: \(content)")
        case .user(let text)? where request.tools.contains(where: { $0.name == "fx_echo" }):
            let arguments: JSONValue = ["text": .string(text)]
            completion = ChatCompletion(content: nil, toolCalls: [ToolCall(id: "c1", name: "fx_echo", arguments: arguments.jsonString)])
        default:
            completion = ChatCompletion(content: "fx_echo was not offered")
        }
        return AsyncThrowingStream { continuation in
            continuation.yield(.completed(completion))
            continuation.finish()
        }
    }
}
