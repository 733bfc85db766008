import Foundation
import Testing
import Tools

/// `{"mcp": ...}` entries in tools.d: what loads, and every problem with its file:line:col.
@Suite struct MCPDeclarationTests {
    static func load(_ files: [String: String]) throws -> ToolCatalog {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mcp-decl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return ToolLoader.load(folders: [ToolFolder(folder.path)], environment: ["PATH": "/usr/bin:/bin"])
    }

    @Test func stdioAndHTTPEntriesLoadWithTheirSettings() throws {
        let catalog = try Self.load([
            "git.json": #"{"mcp": {"command": ["sh", "-c", "true"], "env": {"A": "1"}}, "max_concurrency": 1, "timeout": 30, "priority": 0, "exclude": ["push"]}"#,
            "web.json": #"{"mcp": {"url": "http://127.0.0.1:8931/mcp", "headers": {"X": "y"}}, "name": "browser", "include": ["open"]}"#,
        ])
        #expect(catalog.errors.isEmpty, "\(catalog.diagnostics)")
        #expect(catalog.mcpServers.map(\.name) == ["git", "browser"])
        let git = catalog.mcpServers[0]
        #expect(git.transport == .stdio(argv: ["/bin/sh", "-c", "true"], env: ["A": "1"], cwd: nil) || git.transport == .stdio(argv: ["/usr/bin/sh", "-c", "true"], env: ["A": "1"], cwd: nil))
        #expect(git.maxConcurrency == 1 && git.timeout == 30 && git.priority == 0)
        #expect(!git.offers("push") && git.offers("log"))
        #expect(catalog.mcpServers[1].transport == .http(url: "http://127.0.0.1:8931/mcp", headers: ["X": "y"]))
        #expect(catalog.mcpServers[1].maxConcurrency == MCPServerDeclaration.defaultMaxConcurrency)
        #expect(!catalog.mcpServers[1].offers("close"))
        let tool = catalog.mcpServers[0].tool(named: "log.show", description: "d", parameters: ["type": "object"])
        #expect(tool.name == "git_log_show" && !tool.preemptible)
    }

    @Test func badEntriesAreReportedAtTheirValue() throws {
        let catalog = try Self.load([
            "a.json": "{\"mcp\": {\"command\": [\"no-such-program-here\"]}}",
            "b.json": "{\"mcp\": {\"url\": \"ftp://x\"},\n \"max_concurrency\": 0}",
            "c.json": "{\"mcp\": {\"command\": [\"sh\"], \"url\": \"http://x\"}, \"timeot\": 3}",
        ])
        #expect(catalog.mcpServers.isEmpty)
        let lines = catalog.diagnostics.map(\.description)
        #expect(lines.contains { $0.contains("a.json:1:22: MCP server 'a': program 'no-such-program-here' does not exist") }, "\(lines)")
        #expect(lines.contains { $0.contains("b.json:1:17: MCP server") && $0.contains("'url' must be a string starting with http://") }, "\(lines)")
        #expect(lines.contains { $0.contains("b.json:2:21: MCP server") && $0.contains("'max_concurrency' must be an integer >= 1") }, "\(lines)")
        #expect(lines.contains { $0.contains("c.json:1:29: MCP server 'c': 'mcp' has both 'command' and 'url'") }, "\(lines)")
        #expect(lines.contains { $0.contains("c.json:1:49: warning") && $0.contains("did you mean 'timeout'") }, "\(lines)")
    }
}
