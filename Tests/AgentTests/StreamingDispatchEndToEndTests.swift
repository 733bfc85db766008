import Foundation
import Testing
import TestSupport
@testable import Agent
import JSON
import LLM
import Scheduler
import Tools

/// Streaming dispatch through the real parts: `OpenAIClient` (libcurl) against the fake server on
/// loopback, `Agent`, `ScheduledToolExecutor` on a `Scheduler`, and an exec tool run by `ToolRunner`.
@Suite(.timeLimit(.minutes(2))) struct StreamingDispatchEndToEndTests {
    private let markerTool = ToolDeclaration(
        name: "mark", description: "writes its pid to a marker file, then sleeps",
        parameters: ["type": "object", "properties": ["id": ["type": "string"], "marker": ["type": "string"], "seconds": ["type": "number"]], "required": ["id"]],
        runner: .exec([ToolFixtures.folder.appendingPathComponent("marker_tool.py").path]))

    private func agent(_ server: FakeOpenAIServer, scheduler: ToolScheduler) -> Agent {
        let client = OpenAIClient(configuration: OpenAIConfiguration(
            baseURL: server.baseURL, apiKey: "sk-test", model: "fake-model", retryPolicy: RetryPolicy(maxRetries: 0)))
        let executor = ScheduledToolExecutor(
            scheduler: scheduler, catalog: ToolCatalog(tools: [markerTool]),
            runner: ToolRunner(environment: ProcessInfo.processInfo.environment, killGrace: .milliseconds(300)))
        return Agent(model: client, configuration: .init(model: "fake-model", tools: executor.definitions), executor: executor)
    }

    /// An answer with two calls of `mark`: the first writes `marker` and sleeps `firstSleeps` seconds.
    /// The server stops after the second call's first fragment (the first call is then complete) until
    /// `marker` exists (at most 30 s), then finishes the answer or, with `thenBreak`, drops the connection.
    private func twoCalls(marker: String, firstSleeps: Int, thenBreak: Bool = false) -> JSONValue {
        var wait: [String: JSONValue] = ["path": .string(marker), "after_call_starts": 1, "timeout": 30]
        if thenBreak { wait["then"] = "close" }
        return [
            "tool_calls": [
                ["id": "c0", "name": "mark", "arguments": ["id": "first", "marker": .string(marker), "seconds": .int(Int64(firstSleeps))]],
                ["id": "c1", "name": "mark", "arguments": ["id": "second"]],
            ],
            "wait_for_file": .object(wait),
        ]
    }

    /// The server stops after the second call's first fragment (the first call is then complete) and
    /// goes on only once the first tool wrote its marker, or after 30 s: so the stream ends before the
    /// tool starts only if dispatch waits for the end of the answer, and then `found` is false.
    @Test func aToolStartsWhileTheAnswerStillStreamsAndResultsKeepCallOrder() async throws {
        let folder = TempFolder()
        defer { folder.remove() }
        let marker = folder.file("first.pid")
        let server = try await FakeOpenAIServer.start(script: [twoCalls(marker: marker, firstSleeps: 1), ["text": "both done"]])
        defer { server.stop() }
        let scheduler = ToolScheduler()
        let agent = agent(server, scheduler: scheduler)
        #expect(try await agent.run(prompt: "go") == "both done")
        let waited = server.log().first { $0["event"] == "waited_for_file" }
        #expect(waited?["found"] == true, "the first tool had not started when the answer reached its second call")
        // The second call ends first (it does not sleep); the results still go back in call order.
        let messages = try #require(server.requestBodies().last?["messages"]?.arrayValue).filter { $0["role"] == "tool" }
        #expect(messages.map { $0["tool_call_id"] } == ["c0", "c1"])
        #expect(messages.map { $0["content"] } == ["done first\n", "done second\n"])
        await scheduler.shutdown()
    }

    /// The stream breaks once the first call's tool runs (300 s of sleep): the turn fails, the tool's
    /// process is gone when `run` returns, and the conversation is as before.
    @Test func aStreamThatBreaksAfterACallStartedStopsItsTool() async throws {
        let folder = TempFolder()
        defer { folder.remove() }
        let marker = folder.file("first.pid")
        let server = try await FakeOpenAIServer.start(script: [twoCalls(marker: marker, firstSleeps: 300, thenBreak: true)])
        defer { server.stop() }
        let scheduler = ToolScheduler()
        let agent = agent(server, scheduler: scheduler)
        let error = await #expect(throws: ChatError.self) { try await agent.run(prompt: "go") }
        #expect(error?.message.contains("broke off") == true, "\(String(describing: error))")
        let pid = try #require(await Proc.readPID(marker), "the first tool never started")
        defer { Proc.killLeftovers([pid]) }
        #expect(Proc.isDead(pid), "the tool \(pid) still runs after its answer broke off")
        #expect(agent.messages.isEmpty)
        #expect(server.log().first { $0["event"] == "waited_for_file" }?["found"] == true)
        await scheduler.shutdown()
    }
}
