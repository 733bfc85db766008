import Agent
import JSON
import LLM
import Scheduler
import Tools
import Foundation
import TestSupport

/// One turn whose model asks for N calls of a 500 ms tool at once, through the real path: `Agent` +
/// `OpenAIClient` against `fake_openai.py` + `ScheduledToolExecutor` on a `Scheduler`.
struct FanOutBenchmark: Benchmark {
    let title = "Agent loop: parallel tool fan-out"
    let toolSeconds = 0.5
    var workers = 8

    func run(quick: Bool) async throws -> ReportSection {
        let sizes = quick ? [4] : [2, 4, 8]
        let repeats = quick ? 2 : 5
        let sequentialRepeats = quick ? 1 : 3
        precondition(sizes.allSatisfy { $0 <= workers })

        // A tools.d folder with one exec tool: Benchmarks/sleep_tool.sh (sleeps 0.5 s, prints a line).
        let folder = try BenchPaths.temporaryFolder().appendingPathComponent("tools.d")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let declaration: JSONValue = [
            "name": "sleep_half",
            "description": "Sleeps half a second and says so",
            "parameters": ["type": "object", "properties": ["id": ["type": "string"]]],
            "exec": .array([.string(BenchPaths.file("Benchmarks/sleep_tool.sh").path)]),
            "preemptible": false,
            "priority": 1,
            "estimated_time": .double(toolSeconds),
        ]
        try declaration.jsonString.write(to: folder.appendingPathComponent("sleep_half.json"), atomically: true, encoding: .utf8)
        let catalog = ToolLoader.load(folders: [ToolFolder(folder.path)])
        guard catalog.errors.isEmpty, let tool = catalog.tool(named: "sleep_half") else {
            throw BenchFailure("the benchmark tool did not load: \(catalog.formattedList()) \(catalog.errors)")
        }

        // Script: a warm-up turn with one call, then `repeats` turns per size; each turn = calls, then text.
        func calls(_ n: Int) -> JSONValue {
            FakeOpenAIServer.toolCalls((0..<n).map { ("call_\($0)", "sleep_half", ["id": .string("t\($0)")]) })
        }
        var script: [JSONValue] = [calls(1), FakeOpenAIServer.text("warm")]
        for n in sizes { for _ in 0..<repeats { script += [calls(n), FakeOpenAIServer.text("done \(n)")] } }
        let server = try await FakeOpenAIServer.start(script: .array(script))
        defer { server.stop() }

        let client = OpenAIClient(configuration: OpenAIConfiguration(baseURL: server.baseURL, apiKey: nil, model: "fake-model"))
        let scheduler = ToolScheduler(configuration: SchedulerConfiguration(strategy: .mlfq, workers: workers))
        let runner = ToolRunner()
        let executor = ScheduledToolExecutor(scheduler: scheduler, catalog: catalog, runner: runner)

        func turn(expecting n: Int) async throws -> (phase: Double, total: Double) {
            let agent = Agent(model: client, configuration: Agent.Configuration(model: "fake-model", tools: executor.definitions), executor: executor)
            let clock = TurnClock()
            let start = ContinuousClock.now
            _ = try await agent.run(prompt: "run \(n)", events: clock.events)
            let total = ContinuousClock.now - start
            guard clock.finished == n, clock.failed == 0, let phase = clock.toolPhase else {
                throw BenchFailure("fan-out turn: \(clock.finished) of \(n) calls finished, \(clock.failed) failed")
            }
            return (phase.ms, total.ms)
        }

        _ = try await turn(expecting: 1)
        var table = MarkdownTable(headers: ["calls", "tool phase, agent-repl (ms, median)", "ideal: longest tool", "target", "one call alone (ms, median)", "sequential, one after another (ms, median)", "speed-up vs sequential"])
        var sequentialByN: [Int: [Double]] = [:]
        var single: [Double] = []
        // The sequential baseline: the same calls run one after another with `ToolRunner` (the Python
        // prototype's design), measured in this run.
        for n in sizes {
            for _ in 0..<sequentialRepeats {
                let start = ContinuousClock.now
                for i in 0..<n {
                    let callStart = ContinuousClock.now
                    let result = await runner.run(tool, arguments: #"{"id":"s\#(i)"}"#)
                    guard result.ok else { throw BenchFailure("sequential call failed: \(result.modelContent)") }
                    single.append((ContinuousClock.now - callStart).ms)
                }
                sequentialByN[n, default: []].append((ContinuousClock.now - start).ms)
            }
        }
        var totals: [Int: Double] = [:]
        for n in sizes {
            var phases: [Double] = []
            var turnTotals: [Double] = []
            for _ in 0..<repeats {
                let (phase, total) = try await turn(expecting: n)
                phases.append(phase)
                turnTotals.append(total)
            }
            totals[n] = median(turnTotals)
            let phase = median(phases)
            let sequential = median(sequentialByN[n] ?? [])
            let ideal = toolSeconds * 1000
            let target = ideal * 1.05 + 20
            table.add("\(n)", fmt(phase, 1) + (phase <= target ? " ✓" : " ✗"), fmt(ideal, 0), "≤ \(fmt(target, 0)) ms",
                      fmt(median(single), 1), fmt(sequential, 1), "\(fmt(sequential / phase, 1))x")
        }
        await scheduler.shutdown()
        return ReportSection(
            title: title,
            text: """
            One turn per row: `Agent` + `OpenAIClient` (libcurl) against `Tests/Fixtures/fake_openai.py` on loopback, scripted to answer with N parallel tool calls, then text; the calls run through `ScheduledToolExecutor` on a `Scheduler` (mlfq, \(workers) workers). The tool is `Benchmarks/sleep_tool.sh` (`sleep 0.5`, prints a line) declared as an `exec` tool in a temporary tools.d folder. Tool phase = from the `.toolCallsRequested` event to the last `.toolFinished`; median of \(repeats) turns after one warm-up turn. Ideal = the longest tool, 500 ms; target within 5% + 20 ms. "One call alone" is one call of the same tool run by `ToolRunner` directly (process start + `sh` + `sleep`), the real floor. Baseline: the same N calls run one after another with `ToolRunner` (the Python prototype's sequential design), median of \(sequentialRepeats) runs, in the same run. Whole-turn medians (two model calls included): \(sizes.map { "N=\($0): \(fmt(totals[$0] ?? 0, 1)) ms" }.joined(separator: ", ")).
            """,
            table: table)
    }
}
