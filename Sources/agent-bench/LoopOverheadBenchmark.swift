import Agent
import JSON
import LLM
import Scheduler
import Tools
import Foundation
import TestSupport

/// What the agent loop adds to a turn, model and tool time excluded, against a hand-written direct
/// sequence doing the same exchange.
struct LoopOverheadBenchmark: Benchmark {
    let title = "Agent loop: overhead per turn"
    var workers = 8

    private struct Sample {
        var total: Double
        var model: Double
        var tool: Double
        var overhead: Double { total - model - tool }
    }

    func run(quick: Bool) async throws -> ReportSection {
        let turns = quick ? 10 : 50
        let warmups = 3
        // The instant tool: the `now` builtin, declared as tools.d/now.json does.
        let folder = try BenchPaths.temporaryFolder().appendingPathComponent("tools.d")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try (["name": "now", "builtin": "now", "priority": 0] as JSONValue).jsonString
            .write(to: folder.appendingPathComponent("now.json"), atomically: true, encoding: .utf8)
        let catalog = ToolLoader.load(folders: [ToolFolder(folder.path)])
        guard catalog.errors.isEmpty, let nowTool = catalog.tool(named: "now") else {
            throw BenchFailure("the now tool did not load: \(catalog.errors)")
        }

        // Every turn, agent or direct, is the same two requests: one call of `now`, then a text answer.
        let pair: [JSONValue] = [FakeOpenAIServer.toolCalls([("call_0", "now", [:])]), FakeOpenAIServer.text("It is now.")]
        let server = try await FakeOpenAIServer.start(script: .array(Array(repeating: pair, count: 2 * (turns + warmups)).flatMap { $0 }))
        defer { server.stop() }

        let model = TimedChatModel(OpenAIClient(configuration: OpenAIConfiguration(baseURL: server.baseURL, apiKey: nil, model: "fake-model")))
        let scheduler = ToolScheduler(configuration: SchedulerConfiguration(strategy: .mlfq, workers: workers))
        let runner = ToolRunner()
        let executor = ScheduledToolExecutor(scheduler: scheduler, catalog: catalog, runner: runner)
        let definitions = executor.definitions

        func agentTurn() async throws -> Sample {
            let agent = Agent(model: model, configuration: Agent.Configuration(model: "fake-model", tools: definitions), executor: executor)
            let clock = TurnClock()
            _ = model.takeStreamTime()
            let start = ContinuousClock.now
            let answer = try await agent.run(prompt: "What time is it?", events: clock.events)
            let total = ContinuousClock.now - start
            let modelTime = model.takeStreamTime()
            guard answer == "It is now.", clock.finished == 1, clock.failed == 0,
                  let id = clock.taskIDs.first, let record = scheduler.record(TaskID(id)) else {
                throw BenchFailure("agent turn went wrong: answer \(answer), \(clock.finished) calls, \(clock.failed) failed")
            }
            return Sample(total: total.ms, model: modelTime.ms, tool: record.runTime.ms)
        }

        // The baseline: the same exchange by hand - stream, run the tool with ToolRunner, stream again.
        func directTurn() async throws -> Sample {
            _ = model.takeStreamTime()
            let start = ContinuousClock.now
            var messages: [ChatMessage] = [.user("What time is it?")]
            func ask() async throws -> ChatCompletion {
                let request = ChatRequest(model: "fake-model", messages: messages, tools: definitions, toolChoice: "auto", parallelToolCalls: true)
                var completion: ChatCompletion?
                for try await event in model.stream(request) { if case .completed(let c) = event { completion = c } }
                guard let completion else { throw BenchFailure("direct turn: no completion") }
                return completion
            }
            let first = try await ask()
            messages.append(first.message)
            guard let call = first.toolCalls.first else { throw BenchFailure("direct turn: no tool call") }
            let toolStart = ContinuousClock.now
            let result = await runner.run(nowTool, arguments: call.arguments)
            let toolTime = ContinuousClock.now - toolStart
            messages.append(.tool(callID: call.id, content: result.modelContent))
            let answer = try await ask()
            let total = ContinuousClock.now - start
            guard result.ok, answer.content == "It is now." else { throw BenchFailure("direct turn went wrong: \(result.modelContent)") }
            return Sample(total: total.ms, model: model.takeStreamTime().ms, tool: toolTime.ms)
        }

        for _ in 0..<warmups {
            _ = try await agentTurn()
            _ = try await directTurn()
        }
        // Interleaved, so both see the same machine load.
        var agent: [Sample] = []
        var direct: [Sample] = []
        for _ in 0..<turns {
            agent.append(try await agentTurn())
            direct.append(try await directTurn())
        }
        await scheduler.shutdown()

        var table = MarkdownTable(headers: ["path", "turn (ms, median)", "in model streams (ms, median)", "tool run (ms, median)", "overhead = turn − streams − tool (ms, median)", "overhead p90 (ms)", "target"])
        func row(_ name: String, _ s: [Sample], target: String) {
            table.add(name, fmt(median(s.map(\.total)), 3), fmt(median(s.map(\.model)), 3), fmt(median(s.map(\.tool)), 3),
                      fmt(median(s.map(\.overhead)), 3), fmt(percentile(s.map(\.overhead), 0.9), 3), target)
        }
        row("agent loop: `Agent` + `ScheduledToolExecutor` + `Scheduler`", agent, target: "≤ 2 ms")
        row("baseline: direct sequence (`stream`, `ToolRunner.run`, `stream`)", direct, target: "")
        let added = zip(agent, direct).map { $0.overhead - $1.overhead }
        table.add("agent − baseline, paired turns", fmt(median(zip(agent, direct).map { $0.total - $1.total }), 3), "", "",
                  fmt(median(added), 3), fmt(percentile(added, 0.9), 3), "")
        return ReportSection(
            title: title,
            text: """
            One turn = two model calls against `fake_openai.py` on loopback (a call of the `now` builtin, then a text answer) and one tool run; a fresh `Agent` per turn so every request is the same size. Measured per turn: the whole turn (`Agent.run` call to return); time in model streams (a wrapper around `OpenAIClient` adds up, per stream, the time from the `stream` call to its end as the loop consumes it: request encoding, libcurl, the Python server, SSE parsing); the tool's run time (the scheduler's task record `runTime`; for the baseline, around `ToolRunner.run`). Overhead = turn − streams − tool: event callbacks, building requests, submitting to the scheduler and waiting for the worker and the outcome, the executor's task group. Baseline: the same exchange done by hand, no agent, executor or scheduler. \(turns) turns of each, interleaved, after \(warmups) warm-ups of each; medians of per-turn values. Not included: the client's own work inside a stream (it is the same code on both paths).
            """,
            table: table)
    }
}
