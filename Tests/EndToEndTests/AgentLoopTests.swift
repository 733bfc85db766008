import Foundation
import Testing
import TestSupport
import Agent
import JSON
import LLM
import Scheduler
import Tools

/// The whole loop through the built binary: a loopback fake model, real tools.d tools, the scheduler.
@Suite(.timeLimit(.minutes(1))) struct AgentLoopTests {
    /// Runs `agent-repl -p` (or piped lines) against `server` with the test tools.
    private func agent(_ server: FakeOpenAIServer, extra: [String: String] = [:]) throws -> AgentProcess {
        try AgentProcess(environment: ["OPENAI_API_KEY": "sk-test-secret", "OPENAI_BASE_URL": server.baseURL].merging(extra) { $1 })
    }

    @Test func fourParallelToolsOverlapAndResultsReturnInCallOrder() async throws {
        let server = try await FakeOpenAIServer.start(script: [
            toolCalls((1...4).map { ("work", ["id": .string("t\($0)"), "seconds": 3]) }),
            text("All four are done."),
        ])
        let process = try agent(server)
        let tools = try TestTools(in: process.workingFolder)
        let result = try await process.run(["--tools-dir", tools.folder.path, "-p", "run four"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("All four are done."))

        // Overlap, judged by the tools' own records: every tool started before any ended.
        let starts = (1...4).compactMap { tools.time("start", "t\($0)") }
        let ends = (1...4).compactMap { tools.time("end", "t\($0)") }
        try #require(starts.count == 4 && ends.count == 4, "log: \(tools.entries())")
        #expect(try #require(starts.max()) < (try #require(ends.min())), "log: \(tools.entries())")

        // The second request carries the results in call order with the matching ids.
        let bodies = server.requestBodies()
        #expect(bodies.count == 2)
        let messages = try #require(bodies[1]["messages"]?.arrayValue)
        let toolMessages = messages.filter { $0["role"] == "tool" }
        #expect(toolMessages.map { $0["tool_call_id"] } == (0...3).map { .string("call_\($0)_work") })
        #expect(toolMessages.map { $0["content"] } == (1...4).map { .string("done t\($0)\n") })
        let assistant = try #require(messages.first { $0["role"] == "assistant" })
        #expect(assistant["tool_calls"]?.arrayValue?.count == 4)
        // The tools were offered to the model.
        #expect(bodies[0]["tools"]?.arrayValue?.first?["function"]?["name"] == "work")
    }

    @Test func errorsReachTheModelAndTheTurnGoesOn() async throws {
        let server = try await FakeOpenAIServer.start(script: [
            toolCalls([
                ("no_such_tool", [:]),
                ("work", ["seconds": 0]),  // missing the required id
                ("work", ["id": "bad", "exit": 3]),
                ("work", .string("not an object")),
            ]),
            text("I saw the errors."),
        ])
        let process = try agent(server)
        let tools = try TestTools(in: process.workingFolder)
        let result = try await process.run(["--tools-dir", tools.folder.path, "-p", "try"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("I saw the errors."))
        let messages = try #require(server.requestBodies().last?["messages"]?.arrayValue)
        let contents = messages.filter { $0["role"] == "tool" }.compactMap { $0["content"]?.stringValue }
        #expect(contents.count == 4)
        #expect(contents[0].contains("no tool named 'no_such_tool'"))
        #expect(contents[1].contains("missing required property 'id'"))
        #expect(contents[2].contains("3") && contents[2].contains("worker bad failed on purpose"))
        #expect(contents[3].contains("error"))
    }

    @Test func withoutATerminalEachToolIsAPlainLineOnStderr() async throws {
        let server = try await FakeOpenAIServer.start(script: [
            toolCalls([("work", ["id": "good"]), ("work", ["id": "bad", "exit": 4])]),
            text("seen"),
        ])
        let process = try agent(server)
        let tools = try TestTools(in: process.workingFolder)
        let result = try await process.run(["--tools-dir", tools.folder.path, "-p", "go"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        // Each call is announced as soon as it is whole in the stream: the first when the second begins.
        #expect(lines.first == "· calling work")
        #expect(lines.filter { $0.hasPrefix("· calling") } == ["· calling work", "· calling work"])
        #expect(lines.filter { $0.hasPrefix("  ▸ work started (task ") }.count == 2)
        #expect(lines.contains("  ✓ work: done good"))
        #expect(lines.contains { $0.hasPrefix("  ✗ work: ") && $0.contains("4") })
        #expect(!result.stderr.contains("\u{1b}") && !result.stdout.contains("\u{1b}"), "no escape sequences")
        #expect(result.stdout == "seen\n")
    }

    @Test func statsJSONAgreesWithWhatRan() async throws {
        let server = try await FakeOpenAIServer.start(script: [
            toolCalls([("work", ["id": "a"]), ("work", ["id": "b"]), ("work", ["id": "c", "exit": 1])]),
            text("ok"),
        ])
        let process = try agent(server)
        let tools = try TestTools(in: process.workingFolder)
        let result = try await process.run(["--tools-dir", tools.folder.path], stdin: "go\n/stats json\n")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("{") })
        let stats = try JSONValue.parse(String(line))
        // Every documented key (SPEC.md and README).
        for key in StatsKeys.top {
            #expect(stats[key] != nil, "missing key \(key)")
        }
        #expect(Set((stats["model"]?.objectValue ?? [:]).keys) == StatsKeys.model)
        let levels = try #require(stats["levels"]?.arrayValue)
        #expect(levels.count == 3)
        for level in levels {
            #expect(Set((level.objectValue ?? [:]).keys).isSuperset(of: StatsKeys.level), "\(level)")
        }
        #expect(Set((stats["tools"]?["work"]?.objectValue ?? [:]).keys) == StatsKeys.tool)
        #expect(stats["submitted"] == 3)
        #expect(stats["completed"] == 2)
        #expect(stats["failed"] == 1)
        #expect(stats["running"] == 0)
        #expect(stats["tools"]?["work"]?["count"] == 3)
        #expect(stats["strategy"] == "mlfq")
    }

    /// One worker, a long CPU-bound tool called first, then two short ones: `mlfq` pauses the long one
    /// after its quantum so the short ones end first; `fifo` runs them in arrival order.
    @Test(arguments: ["mlfq", "fifo"])
    func oneWorkerLongToolFirst(strategy: String) async throws {
        let server = try await FakeOpenAIServer.start(script: [
            toolCalls([
                ("work", ["id": "long", "seconds": 2.5, "cpu": true]),
                ("work", ["id": "short1", "seconds": 0.15, "cpu": true]),
                ("work", ["id": "short2", "seconds": 0.15, "cpu": true]),
            ]),
            text("done"),
        ])
        let process = try agent(server)
        let tools = try TestTools(in: process.workingFolder)
        let result = try await process.run(
            ["--tools-dir", tools.folder.path, "--workers", "1", "--strategy", strategy, "--quantum", "0.2"],
            stdin: "go\n/stats json\n")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let stats = try JSONValue.parse(String(try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("{") })))
        if strategy == "mlfq" {
            #expect(tools.endOrder.last == "long", "ends: \(tools.endOrder) \(tools.entries()) \(result.stderr)")
            #expect((stats["preemptions"]?.numberValue ?? 0) >= 1)
        } else {
            #expect(tools.endOrder == ["long", "short1", "short2"])
            #expect(stats["preemptions"] == 0)
        }
    }

    @Test func backgroundJobAndForegroundTurnShareTheQueue() async throws {
        // Both conversations first get a tool call, then an answer, whichever asks first.
        let server = try await FakeOpenAIServer.start(script: [
            toolCalls([("work", ["id": "first", "seconds": 1.5])]),
            toolCalls([("work", ["id": "second", "seconds": 1.5])]),
            text("finished"),
        ])
        let process = try agent(server)
        let tools = try TestTools(in: process.workingFolder)
        let result = try await process.run(["--tools-dir", tools.folder.path], stdin: "background work &\n/jobs\nforeground work\n/stats json\n")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("[1] started in the background: background work"))
        #expect(result.stdout.contains("[1] running"))
        #expect(result.stdout.contains("[1] done: background work"))
        // The two tools of the two conversations ran at the same time.
        let first = try #require(tools.time("start", "first")), second = try #require(tools.time("start", "second"))
        #expect(max(first, second) < min(try #require(tools.time("end", "first")), try #require(tools.time("end", "second"))))
        #expect(server.requestBodies().count == 4, "two model calls per conversation")
    }
}

/// Limits and job control through the binary.
@Suite(.timeLimit(.minutes(1))) struct AgentLimitsTests {
    @Test func stepLimitEndsTheTurnWithAClearMessage() async throws {
        let server = try await FakeOpenAIServer.start(script: [toolCalls([("work", ["id": "again"])])])  // repeats forever
        let process = try AgentProcess(environment: ["OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.baseURL])
        let tools = try TestTools(in: process.workingFolder)
        let result = try await process.run(["--tools-dir", tools.folder.path, "--max-steps", "2", "-p", "loop"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("Stopped after 2 model calls without a final answer"))
        #expect(result.stderr.contains("Raise the limit with --max-steps."), "the front end adds the flag")
        #expect(server.requests.count == 2)
    }

    @Test func cancelStopsABackgroundJobAndItsTools() async throws {
        let server = try await FakeOpenAIServer.start(script: [toolCalls([("work", ["id": "forever", "seconds": 300])]), text("never")])
        let process = try AgentProcess(environment: ["OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.baseURL])
        let tools = try TestTools(in: process.workingFolder)
        let agent = try process.launch(["--tools-dir", tools.folder.path])
        agent.send("long job &\n")
        // The tool ran: it logged its start and its process is there.
        let pid = try #require(try await tools.startedPIDs(count: 1).first, "the background job's tool never started")
        defer { Proc.killLeftovers([pid]) }
        #expect(!Proc.isDead(pid))
        agent.send("/jobs\n/cancel 1\n")
        // Gone while agent-repl still runs (at its exit every tool dies anyway), long before its 300 s.
        #expect(await Proc.eventually { Proc.isDead(pid) }, "the tool \(pid) still runs after /cancel 1")
        agent.send("/jobs\n")
        let result = try #require(await agent.finish(), "agent-repl did not exit at the end of its input")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("[1] running"))
        #expect(result.stdout.contains("[1] cancelling."))
        #expect(result.stdout.contains("[1] cancelled: long job"))
        #expect(!tools.entries().contains { $0.event == "end" }, "the tool never ran to its end")
    }

    @Test(arguments: [
        #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1e30,"id":"c","function":{"name":"t","arguments":"{}"}}]}}]}"#,
        #"{"choices":[],"usage":{"prompt_tokens":1e300,"completion_tokens":1,"total_tokens":2}}"#,
    ])
    func numbersOutOfRangeInTheStreamFailTheTurnWithASentence(payload: String) async throws {
        let server = try await FakeOpenAIServer.start(script: [["sse": .array([.string("data: \(payload)\n\n"), "data: [DONE]\n\n"])]])
        let process = try AgentProcess(environment: ["OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.baseURL])
        let result = try await process.run(["-p", "go"])
        #expect(result.status == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("not a whole number from 0 to"), "stderr: \(result.stderr)")
    }

    @Test func aLengthKeywordBeyondAnyRealSizeFailsTheToolCheck() async throws {
        let process = try AgentProcess()
        let folder = process.workingFolder.appendingPathComponent("huge-tools")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try #"{"name": "x", "description": "y", "exec": ["/bin/true"], "parameters": {"type": "object", "properties": {"s": {"type": "string", "minLength": 1e300}}}}"#.write(
            to: folder.appendingPathComponent("huge.json"), atomically: true, encoding: .utf8)
        let result = try await process.run(["--check-tools", "--tools-dir", folder.path])
        #expect(result.status == 2)
        #expect(result.stdout.contains("huge.json:1:143: tool 'x': 'parameters' is not a valid JSON Schema"), "stdout: \(result.stdout)")
    }

    @Test func checkToolsReportsFileLineAndColumnAndExitsTwo() async throws {
        let process = try AgentProcess()
        let folder = process.workingFolder.appendingPathComponent("bad-tools")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "{\n  \"name\": \"x\",\n  \"description\": \"y\"\n  \"exec\": [\"/bin/true\"]\n}\n".write(
            to: folder.appendingPathComponent("broken.json"), atomically: true, encoding: .utf8)
        let result = try await process.run(["--check-tools", "--tools-dir", folder.path])
        #expect(result.status == 2)
        #expect(result.stdout.contains("broken.json:4:3: invalid JSON"))
        let clean = try await process.run(["--check-tools"])
        #expect(clean.status == 0)
    }
}
