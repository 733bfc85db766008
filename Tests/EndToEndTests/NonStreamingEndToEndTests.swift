import Foundation
import Testing
import TestSupport
import JSON

/// Whole answers through the built binary: asked for with `--no-stream` or `AGENT_STREAM=0`, or
/// chosen once a server could not stream tool calls.
@Suite(.timeLimit(.minutes(1))) struct NonStreamingEndToEndTests {
    @Test func noStreamAndAgentStreamZeroAskForWholeAnswersFromTheFirstRequest() async throws {
        let server = try await FakeOpenAIServer.start(script: [text("whole by flag"), text("whole by environment"), text("streamed")])
        let process = try AgentProcess(environment: ["OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.baseURL])
        let byFlag = try await process.run(["--no-stream", "-p", "hi"])
        #expect(byFlag.status == 0, "stderr: \(byFlag.stderr)")
        #expect(byFlag.stdout.contains("whole by flag"))
        var environment = process
        environment.environment["AGENT_STREAM"] = "0"
        let byEnvironment = try await environment.run(["-p", "hi"])
        #expect(byEnvironment.status == 0, "stderr: \(byEnvironment.stderr)")
        #expect(byEnvironment.stdout.contains("whole by environment"))
        let streamed = try await process.run(["-p", "hi"])
        #expect(streamed.stdout.contains("streamed"))
        #expect(server.requestBodies().map { $0["stream"] } == [nil, nil, true])
    }

    @Test func aServerThatCannotStreamToolCallsIsAskedWholeWithOneNotice() async throws {
        let server = try await FakeOpenAIServer.start(script: [
            ["empty": true],  // llama-cpp-python's answer to a streamed request with tool_choice auto
            toolCalls([("work", ["id": "a"]), ("work", ["id": "b"])]),
            text("first answer"),
            text("second answer"),
        ])
        let process = try AgentProcess(environment: ["OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.baseURL])
        let tools = try TestTools(in: process.workingFolder)
        let result = try await process.run(["--tools-dir", tools.folder.path], stdin: "first prompt\nsecond prompt\n")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("first answer") && result.stdout.contains("second answer"), "stdout: \(result.stdout)")
        let notice = "could not stream tool calls for gpt-5-mini, so its answers now come whole"
        #expect(result.stderr.components(separatedBy: notice).count == 2, "one notice: \(result.stderr)")
        #expect(!result.stderr.contains("broke off"))
        // Both tools ran from the whole answer, and every request after the refusal went out whole.
        #expect(tools.time("end", "a") != nil && tools.time("end", "b") != nil, "log: \(tools.entries())")
        let bodies = server.requestBodies()
        #expect(bodies.map { $0["stream"] } == [true, nil, nil, nil])
        #expect(bodies.first?["tools"]?.arrayValue?.isEmpty == false && bodies.first?["tool_choice"] == "auto")
    }
}
