import Agent
import Foundation
import JSON
import LLM
import MCPTools
import Scheduler
import TestSupport
import Tools

/// One MCP tool call through agent-repl (checked against the server's schema, a task on the scheduler,
/// the swift-sdk client over our stdio transport) against the same call made with the Python SDK's own
/// client, on the same FastMCP server (`Tests/MCPToolsTests/Fixtures/test_server.py`), in the same run.
struct MCPBenchmark: Benchmark {
    let title = "MCP: one tool call"

    func run(quick: Bool) async throws -> ReportSection {
        let calls = quick ? 50 : 300
        let warmups = 10
        guard let python = Installed.value("PYTHON", of: "mcp") else {
            throw BenchFailure("no PYTHON in .build/mcp/env: run scripts/install-mcp")
        }
        let server = BenchPaths.file("Tests/MCPToolsTests/Fixtures/test_server.py").path

        // agent-repl: the pool, the executor and its scheduler, as a session has them.
        let pool = MCPServerPool(
            [MCPServerDeclaration(name: "fx", transport: .stdio(argv: [python, server, "stdio"], env: [:], cwd: nil))],
            environment: ProcessInfo.processInfo.environment)
        pool.start()
        await pool.waitUntilSettled()
        defer { Task { await pool.stop() } }
        var runner = ToolRunner()
        runner.mcp = pool
        let scheduler = ToolScheduler(configuration: SchedulerConfiguration(strategy: .mlfq, workers: 8))
        let executor = ScheduledToolExecutor(scheduler: scheduler, catalog: pool.catalog(adding: ToolCatalog()), runner: runner)
        var ours: [Double] = []
        for i in 0..<(warmups + calls) {
            let start = ContinuousClock.now
            let results = await executor.execute(
                [ToolCall(id: "c\(i)", name: "fx_echo", arguments: #"{"text": "call \#(i)"}"#)], turn: TurnID(conversation: 0, turn: i)) { _ in }
            let elapsed = ContinuousClock.now - start
            guard results.first?.output == "echo: call \(i)" else { throw BenchFailure("MCP call \(i) returned \(results.first?.modelContent ?? "nothing")") }
            if i >= warmups { ours.append(elapsed.ms) }
        }
        await scheduler.shutdown()
        await pool.stop()

        // Baseline: the Python SDK's client, same server, same interpreter.
        let (data, status) = try Proc.output(
            of: URL(fileURLWithPath: python), [BenchPaths.file("Benchmarks/mcp_client.py").path, python, server, String(calls), String(warmups)])
        guard status == 0, let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let theirs = json["ms"] as? [Double] else {
            throw BenchFailure("mcp_client.py failed: \(String(decoding: data, as: UTF8.self))")
        }
        var table = MarkdownTable(headers: ["measure", "agent-repl (ms)", "baseline: Python `mcp` ClientSession (ms)"])
        table.add("one `echo` call, median", fmt(median(ours), 3), fmt(median(theirs), 3))
        table.add("one `echo` call, p90", fmt(percentile(ours, 0.9), 3), fmt(percentile(theirs, 0.9), 3))
        return ReportSection(
            title: title,
            text: "\(calls) sequential calls of the FastMCP fixture's `echo` tool over stdio (after \(warmups) warm-up calls), each timed from the call to its result. agent-repl: `ScheduledToolExecutor.execute` (the arguments checked against the server's schema, a task on an mlfq `Scheduler` with 8 workers, the swift-sdk `Client` over `StdioServerTransport`). Baseline: `Benchmarks/mcp_client.py`, the Python SDK's `ClientSession` over its `stdio_client`, to the same server script started by the same interpreter (`mcp` from `scripts/install-mcp`), run right after in the same process of the benchmark.",
            table: table)
    }
}
