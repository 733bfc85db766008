import Foundation
import HTTP
import JSON
import MCPTools
import Testing
import TestSupport
import Tools
@testable import REPL

/// MCP servers in an interactive session: the prompt does not wait for them; their tools join when ready.
@Suite struct MCPSessionTests {
    @Test func aSlowServerStartsInTheBackgroundAndItsToolsJoinWhenItIsReady() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let python = try #require(Installed.value("PYTHON", of: "mcp"), "run scripts/install-mcp")
        let fixture = root.appendingPathComponent("Tests/MCPToolsTests/Fixtures/test_server.py").path
        // Two seconds before the server even starts.
        let slow = MCPServerDeclaration(
            name: "fx", transport: .stdio(argv: ["/bin/sh", "-c", "sleep 2; exec \"$0\" \"$@\"", python, fixture, "stdio"], env: [:], cwd: nil))
        let pool = MCPServerPool([slow], environment: ProcessInfo.processInfo.environment)
        pool.start()
        let repl = REPLHarness(model: ScriptedModel { .text("answer to \($0.prompt)") }, mcp: pool)

        let starting = try await repl.enter("/tools").out
        #expect(starting.contains("fx_*  mcp      server starting"), "\(starting)")
        #expect(try await repl.enter("/mcp").out.contains("fx  starting  0 tools"))
        #expect(try await repl.enter("hello").out.contains("answer to hello"))  // the prompt did not wait

        await pool.waitUntilSettled()
        let ready = try await repl.enter("/tools").out
        #expect(ready.contains("fx_echo") && !ready.contains("server starting"), "\(ready)")
        #expect(try await repl.enter("/mcp").out.contains("fx  ready"))
        await pool.stop()
    }

    /// `/serve` serves the session's tools as they are: its MCP servers' included, on the session's servers.
    @Test func slashServeRunsTheSessionsMCPTools() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let python = try #require(Installed.value("PYTHON", of: "mcp"), "run scripts/install-mcp")
        let fixture = root.appendingPathComponent("Tests/MCPToolsTests/Fixtures/test_server.py").path
        let declaration = MCPServerDeclaration(name: "fx", transport: .stdio(argv: [python, fixture, "stdio"], env: ["LOG": "/dev/null"], cwd: nil))
        let pool = MCPServerPool([declaration], environment: ProcessInfo.processInfo.environment)
        pool.start()
        let repl = REPLHarness(model: ScriptedModel { .text("answer to \($0.prompt)") }, mcp: pool)
        await pool.waitUntilSettled()
        let started = try await repl.enter("/serve 0").out
        let port = try #require(started.firstMatch(of: /127\.0\.0\.1:(\d+)\//).map { String($0.1) })
        let body = #"{"name": "echo", "payload": {"tool": "fx_echo", "arguments": {"text": "via /serve"}}}"#
        let posted = try await CurlTransport().fetch(
            HTTPRequest(url: "http://127.0.0.1:\(port)/tasks", method: "POST", headers: [("Content-Type", "application/json")], body: Data(body.utf8)),
            limit: 1 << 20)
        let id = try #require(try JSONValue.parse(posted.body)["task_id"]?.stringValue, "\(String(decoding: posted.body, as: UTF8.self))")
        var task: JSONValue = .null
        for _ in 0..<300 {
            task = try JSONValue.parse(try await CurlTransport().fetch(HTTPRequest(url: "http://127.0.0.1:\(port)/tasks/\(id)"), limit: 1 << 20).body)
            if task["status"] == "completed" || task["status"] == "failed" { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(task["result"] == "echo: via /serve", "\(task)")
        #expect(try await repl.enter("/serve stop").out == "Stopped serving.\n")
        // The session owns its servers: stopping the server left them running.
        #expect(pool.servers[0].status.state == .ready)
        await pool.stop()
    }
}
