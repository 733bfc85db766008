import Foundation
import Testing
import TestSupport
import JSON

/// Promises about flags, the environment and `.env`, checked through the built binary.
@Suite struct FrontEndOptionTests {
    @Test func helpListsEveryFlagAndExitsZero() async throws {
        let result = try await AgentProcess().run(["--help"])
        #expect(result.status == 0)
        for flag in ["--base-url", "--model", "-p, --prompt", "--demo", "--max-steps", "--tools-dir", "--check-tools", "--yes",
                     "--strategy", "--workers", "--quantum", "--no-stream", "--version", "--help"] {
            #expect(result.stdout.contains(flag), "--help lacks \(flag)")
        }
        #expect(result.stdout.contains("OPENAI_API_KEY") && result.stdout.contains("AGENT_STREAM=0"))
        #expect(!result.stdout.contains("--debug-timing"), "the timing probe stays hidden")
        #expect(result.stderr.isEmpty)
    }

    @Test func modelFlagBeatsTheEnvironmentInTheRequest() async throws {
        let server = try await FakeOpenAIServer.start(script: [text("one"), text("two")])
        let process = try AgentProcess(environment: ["OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.baseURL, "AGENT_MODEL": "env-model"])
        let flagged = try await process.run(["--model", "flag-model", "-p", "hi"])
        #expect(flagged.status == 0, "stderr: \(flagged.stderr)")
        let plain = try await process.run(["-p", "hi"])
        #expect(plain.status == 0, "stderr: \(plain.stderr)")
        #expect(server.requestBodies().map { $0["model"] } == ["flag-model", "env-model"])
    }

    @Test func dotEnvInATrustedWorkingFolderIsReadAndNeverOverrides() async throws {
        let server = try await FakeOpenAIServer.start(script: [text("from the server")])
        let process = try AgentProcess(environment: ["AGENT_MODEL": "env-model"])
        try """
            OPENAI_API_KEY=sk-from-dotenv
            OPENAI_BASE_URL=\(server.baseURL)
            AGENT_MODEL=dotenv-model
            """.write(to: process.workingFolder.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        try process.trustWorkingFolder()
        let result = try await process.run(["-p", "hi"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout == "from the server\n", "the endpoint came from .env")
        let request = try #require(server.requests.first)
        #expect(request["headers"]?["Authorization"] == "Bearer sk-from-dotenv")
        #expect(request["body"]?["model"] == "env-model", "a variable already set wins over .env")
    }

    /// A folder with `guarded` (`"confirm": true`), which writes its arguments to `marker`.
    private func guardedTool(in folder: URL) throws -> (tools: URL, marker: URL) {
        let tools = folder.appendingPathComponent("confirm-tools")
        let marker = folder.appendingPathComponent("marker")
        try FileManager.default.createDirectory(at: tools, withIntermediateDirectories: true)
        let declaration: JSONValue = [
            "name": "guarded", "description": "writes a marker", "confirm": true,
            "exec": ["/bin/sh", "-c", "cat > \"$MARKER\"; echo wrote"], "env": ["MARKER": .string(marker.path)],
        ]
        try declaration.jsonString.write(to: tools.appendingPathComponent("guarded.json"), atomically: true, encoding: .utf8)
        return (tools, marker)
    }

    @Test func withoutATerminalAConfirmToolIsRefusedAndOnlyYesRunsIt() async throws {
        for yes in [false, true] {
            let server = try await FakeOpenAIServer.start(script: [toolCalls([("guarded", ["text": "x"])]), text("after")])
            var process = try AgentProcess(environment: ["OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.baseURL])
            process.withoutTerminal = true
            let (tools, marker) = try guardedTool(in: process.workingFolder)
            let result = try await process.run(["--tools-dir", tools.path] + (yes ? ["--yes"] : []) + ["-p", "go"])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(result.stdout == "after\n")
            let toolMessage = try #require(server.requestBodies().last?["messages"]?.arrayValue?.first { $0["role"] == "tool" })
            if yes {
                #expect(FileManager.default.fileExists(atPath: marker.path))
                #expect(toolMessage["content"] == "wrote\n")
                #expect(result.stderr.contains("  ✓ guarded: wrote\n"))
            } else {
                #expect(!FileManager.default.fileExists(atPath: marker.path), "the tool never ran")
                #expect(toolMessage["content"] == "error: the user declined to run this tool")
                #expect(result.stderr.contains("  ✗ guarded: error: the user declined to run this tool\n"))
            }
            #expect(!result.stderr.contains("[y/N]"), "nothing was asked")
        }
    }
}
