import Foundation
import JSON
import Testing
import TestSupport

/// agent-repl with an MCP server from tools.d (the FastMCP fixture of MCPToolsTests, over stdio):
/// the fake model calls two of its tools and one exec tool in one message.
@Suite(.timeLimit(.minutes(2))) struct MCPEndToEndTests {
    static func python() throws -> String {
        try #require(Installed.value("PYTHON", of: "mcp"), "run scripts/install-mcp")
    }

    @Test func twoCallsToAServerWithMaxConcurrencyOneRunInTurnWhileAnExecToolOverlapsThem() async throws {
        let server = try FakeOpenAIServer(script: [
            toolCalls([
                ("fx_hold", ["label": "a", "seconds": 0.8]),
                ("fx_hold", ["label": "b", "seconds": 0.8]),
                ("wait", [:]),
            ]),
            text("All three are done."),
        ])
        defer { server.stop() }
        let process = try AgentProcess(environment: ["OPENAI_API_KEY": "sk-test-secret", "OPENAI_BASE_URL": server.baseURL])
        let folder = process.workingFolder.appendingPathComponent("mcp-tools")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let log = process.workingFolder.appendingPathComponent("calls.log")
        let fixture = Paths.packageRoot.appendingPathComponent("Tests/MCPToolsTests/Fixtures/test_server.py").path
        let entry: JSONValue = [
            "mcp": ["command": [.string(try Self.python()), .string(fixture), "stdio"], "env": ["LOG": .string(log.path)]],
            "max_concurrency": 1,
        ]
        try entry.jsonString.write(to: folder.appendingPathComponent("fx.json"), atomically: true, encoding: .utf8)
        // The exec tool logs into the same file: one file's order is the order of all three.
        let script = folder.appendingPathComponent("wait.sh")
        try "#!/bin/sh\necho 'start exec' >> \(log.path)\nsleep 2\necho 'end exec' >> \(log.path)\necho waited\n"
            .write(to: script, atomically: true, encoding: .utf8)
        chmod(script.path, 0o755)
        let exec: JSONValue = ["name": "wait", "description": "waits", "exec": [.string(script.path)]]
        try exec.jsonString.write(to: folder.appendingPathComponent("wait.json"), atomically: true, encoding: .utf8)

        let result = try await process.run(["--tools-dir", folder.path], stdin: "run all three\n/tasks\n/mcp\n/task 1\n", limit: .seconds(90))
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("All three are done."), "stdout: \(result.stdout)")

        let lines = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        let at = { (line: String) in lines.firstIndex(of: line) ?? -1 }
        #expect(at("end a") >= 0 && at("end a") < at("start b"), "the second MCP call waited for the first: \(lines)")
        #expect(at("start exec") >= 0 && at("start exec") < at("end a") && at("end exec") > at("start b"), "the exec tool overlapped both: \(lines)")

        // /tasks shows all three; /mcp the server with its two calls.
        let taskLines = result.stdout.split(separator: "\n").filter { $0.contains("completed") && $0.contains("turn 0.1") }
        #expect(taskLines.filter { $0.contains("fx_hold") }.count == 2 && taskLines.contains { $0.contains("wait") }, "stdout: \(result.stdout)")
        let mcpLine = result.stdout.split(separator: "\n").first { $0.contains("fx  ready") } ?? ""
        #expect(mcpLine.contains("tools · 2 calls · 0 errors · 0 restarts · fixture"), "stdout: \(result.stdout)")

        // MCP calls are never paused: the server is shared.
        #expect(result.stdout.contains("preemptible none"), "stdout: \(result.stdout)")

        // The model was offered the server's tools, prefixed.
        let offered = server.requestBodies().first?["tools"]?.arrayValue?.compactMap { $0["function"]?["name"]?.stringValue } ?? []
        #expect(offered.contains("fx_hold") && offered.contains("wait"), "\(offered)")
    }

    @Test func aServerInAnUntrustedFoldersToolsDIsNotStarted() async throws {
        let process = try AgentProcess()
        let project = process.workingFolder.appendingPathComponent("tools.d")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        let marker = process.workingFolder.appendingPathComponent("started")
        let entry: JSONValue = ["mcp": ["command": ["/bin/sh", "-c", .string("touch \(marker.path); exit 1")]], "name": "p"]
        try entry.jsonString.write(to: project.appendingPathComponent("p.json"), atomically: true, encoding: .utf8)

        let untrusted = try await process.run(["--check-tools"])
        #expect(!untrusted.stdout.contains("MCP server 'p'"), "\(untrusted.stdout)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the untrusted folder's server was started")

        try process.trustWorkingFolder()
        let trusted = try await process.run(["--check-tools"])
        #expect(trusted.stdout.contains("MCP server 'p' did not start: failed: the server exited with status 1"), "\(trusted.stdout)")
        #expect(trusted.status == 2)
        #expect(FileManager.default.fileExists(atPath: marker.path))
    }
}
