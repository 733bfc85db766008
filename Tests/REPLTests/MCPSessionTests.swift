import Foundation
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
}
