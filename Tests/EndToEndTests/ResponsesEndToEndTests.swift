import Foundation
import Testing
import TestSupport
import JSON

/// The built binary speaking the Responses API (`--api responses`, `AGENT_API`) to the loopback fake
/// server: a whole tool-call turn, and the flag's and the variable's bad values.
@Suite(.timeLimit(.minutes(1))) struct ResponsesEndToEndTests {
    @Test func aToolCallTurnOverTheResponsesAPI() async throws {
        let server = try await FakeOpenAIServer.start(script: [
            [
                "reasoning": ["encrypted_content": "gAAAAB-opaque==", "summary": []],
                "tool_calls": [
                    ["id": "call_one", "name": "work", "arguments": ["id": "one"]],
                    ["id": "call_two", "name": "work", "arguments": ["id": "two"]],
                ],
            ],
            text("Both workers are done."),
        ])
        let process = try AgentProcess(environment: ["OPENAI_API_KEY": "sk-test-secret", "OPENAI_BASE_URL": server.baseURL])
        let tools = try TestTools(in: process.workingFolder)
        let result = try await process.run(["--api", "responses", "--tools-dir", tools.folder.path, "-p", "run two"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("Both workers are done."), "stdout: \(result.stdout)")
        #expect(tools.time("end", "one") != nil && tools.time("end", "two") != nil, "log: \(tools.entries())")
        #expect(!result.stderr.contains("sk-test-secret") && !result.stdout.contains("sk-test-secret"))
        // Both calls' usage as the fake server reports it (input 10, 4 cached; output 5, 2 reasoning).
        let footer = try #require(result.stderr.split(separator: "\n").last.map(String.init))
        #expect(footer.hasPrefix("· 20 in (8 cached) · 10 out (4 reasoning) · "), "stderr: \(result.stderr)")

        #expect(server.requests.map { $0["path"] } == ["/v1/responses", "/v1/responses"])
        let bodies = server.requestBodies()
        try #require(bodies.count == 2)
        #expect(bodies[0]["tools"]?.arrayValue?.first?["name"] == "work")
        let input = try #require(bodies[1]["input"]?.arrayValue)
        #expect(input.map { $0["type"] } == ["message", "reasoning", "function_call", "function_call", "function_call_output", "function_call_output"])
        #expect(input[1]["encrypted_content"] == "gAAAAB-opaque==")
        #expect(input.suffix(2).map { $0["call_id"] } == ["call_one", "call_two"])
        #expect(input.suffix(2).map { $0["output"] } == ["done one\n", "done two\n"])
    }

    @Test func agentAPIChoosesTheResponsesAPIAndTheFlagWins() async throws {
        let server = try await FakeOpenAIServer.start(script: [text("by the variable"), text("by the flag")])
        var process = try AgentProcess(environment: ["OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.baseURL])
        process.environment["AGENT_API"] = "responses"
        let byVariable = try await process.run(["-p", "hi"])
        #expect(byVariable.status == 0, "stderr: \(byVariable.stderr)")
        #expect(byVariable.stdout.contains("by the variable"))
        let byFlag = try await process.run(["--api", "chat", "-p", "hi"])
        #expect(byFlag.status == 0, "stderr: \(byFlag.stderr)")
        #expect(byFlag.stdout.contains("by the flag"))
        #expect(server.requests.map { $0["path"] } == ["/v1/responses", "/v1/chat/completions"])
    }

    @Test func badValuesAreUsageErrors() async throws {
        let flag = try await AgentProcess().run(["--api", "completions", "-p", "hi"])
        #expect(flag.status == 2)
        #expect(flag.stderr.contains("--api") && flag.stderr.contains("'chat'") && flag.stderr.contains("'responses'"), "stderr: \(flag.stderr)")
        let variable = try await AgentProcess(environment: ["AGENT_API": "completions"]).run(["-p", "hi"])
        #expect(variable.status == 2)
        #expect(variable.stderr.contains("AGENT_API must be chat or responses (as --api)."), "stderr: \(variable.stderr)")
    }
}
