import Agent
import Foundation
import JSON
import LLM
import Scheduler
import TestSupport
import Tools

/// Short-task completion under a mix of short and long CPU-bound tools, per strategy, through the
/// product's path: exec tools declared in a tools.d folder, run by `ScheduledToolExecutor` (so
/// `ToolRunner` starts them as scheduler task bodies that register SIGSTOP/SIGCONT handlers).
struct MixedLoadBenchmark: Benchmark {
    let title = "Short tasks under mixed tool load"
    var workers = 2

    struct Arrival {
        var at: Double
        var isLong: Bool
    }

    struct Outcome {
        var isLong: Bool
        var turnaround: Double
        var completed: Bool
    }

    func run(quick: Bool) async throws -> ReportSection {
        let shortCPU = quick ? 0.02 : 0.05
        let longCPU = quick ? 1.0 : 5.0
        let window = quick ? 2.5 : 20.0
        let loads = quick ? [0.9] : [0.7, 0.9]
        let strategies: [Strategy] = [.mlfq, .fifo, .roundRobin]
        let catalog = try Self.toolCatalog()
        var table = MarkdownTable(headers: ["load", "strategy", "short mean (ms)", "short p99 (ms)", "short mean vs fifo", "long done", "long mean (s)", "long max (s)"])
        for (index, load) in loads.enumerated() {
            let arrivals = Self.arrivals(load: load, window: window, shortCPU: shortCPU, longCPU: longCPU, seed: UInt64(42 + index))
            var fifoShortMean = Double.nan
            var rows: [(Strategy, [Outcome])] = []
            for strategy in strategies {
                let outcomes = await runOnce(strategy: strategy, catalog: catalog, arrivals: arrivals, shortCPU: shortCPU, longCPU: longCPU)
                if strategy == .fifo { fifoShortMean = mean(outcomes.filter { !$0.isLong }.map(\.turnaround)) }
                rows.append((strategy, outcomes))
            }
            for (strategy, outcomes) in rows {
                let short = outcomes.filter { !$0.isLong }
                let shortMs = short.map { $0.turnaround * 1000 }
                let long = outcomes.filter(\.isLong)
                table.add("\(Int(load * 100))%", strategy.rawValue, fmt(mean(shortMs), 0) + (short.allSatisfy(\.completed) ? "" : " (\(short.count(where: { !$0.completed })) failed)"),
                          fmt(percentile(shortMs, 0.99), 0), "\(fmt(fifoShortMean * 1000 / mean(shortMs), 1))x better",
                          "\(long.filter(\.completed).count)/\(long.count)",
                          fmt(mean(long.map(\.turnaround)), 1), fmt(long.map(\.turnaround).max() ?? 0, 1))
            }
        }
        return ReportSection(
            title: title,
            text: """
            \(workers) workers. Every task is one call of an `exec` tool, `cpu_burn` (`Benchmarks/cpu_tool.py`, run by \
            the benchmark environment's `python3`: burns the CPU time given in its arguments, counted by \
            `time.process_time()`, interpreter start included), declared in a temporary tools.d folder, loaded by `ToolLoader`, \
            and run the product's way: `ScheduledToolExecutor.execute` (one call per turn) submits it to the `Scheduler` and \
            `ToolRunner` starts it (posix_spawn, its own process group) as the task's body, which registers \
            SIGSTOP/SIGCONT of the group as the context's pause/resume handlers. The tool is priority 0 and preemptible. \
            80% of the calls ask for \(Int(shortCPU * 1000)) ms of CPU, 20% for \(fmt(longCPU, 0)) s; Poisson arrivals for \
            \(fmt(window, 0)) s at the given load (of \(workers) workers; fixed seeds, the same arrival sequence for every \
            strategy), then drained. Times are from the arrival to the call's result. Target: mlfq's short mean ≥ 3x better \
            than fifo's; every long task done.
            """,
            table: table)
    }

    /// A tools.d folder with the `cpu_burn` exec tool, loaded as the REPL loads its folders.
    static func toolCatalog() throws -> ToolCatalog {
        let folder = try BenchPaths.temporaryFolder().appendingPathComponent("tools.d")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // The environment's interpreter directly: a version manager's `python3` shim on PATH would add
        // its own start-up to every call.
        let python = try BenchPython.interpreter().path
        let declaration: JSONValue = [
            "name": "cpu_burn",
            "description": "Burns the given seconds of CPU time",
            "parameters": ["type": "object", "properties": ["seconds": ["type": "number", "minimum": 0]], "required": ["seconds"]],
            "exec": [.string(python), .string(BenchPaths.file("Benchmarks/cpu_tool.py").path)],
            "priority": 0,
            "preemptible": true,
        ]
        try declaration.jsonString.write(to: folder.appendingPathComponent("cpu_burn.json"), atomically: true, encoding: .utf8)
        let catalog = ToolLoader.load(folders: [ToolFolder(folder.path)])
        guard catalog.errors.isEmpty, catalog.tool(named: "cpu_burn") != nil else {
            throw BenchFailure("the benchmark tool did not load: \(catalog.formattedList()) \(catalog.errors)")
        }
        return catalog
    }

    static func arrivals(load: Double, window: Double, shortCPU: Double, longCPU: Double, seed: UInt64) -> [Arrival] {
        var rng = SplitMix64(seed: seed)
        let meanService = 0.8 * shortCPU + 0.2 * longCPU
        let rate = load * 2 / meanService
        var t = 0.0
        var result: [Arrival] = []
        while true {
            t += -log(1 - Double.random(in: 0..<1, using: &rng)) / rate
            guard t < window else { break }
            result.append(Arrival(at: t, isLong: Double.random(in: 0..<1, using: &rng) < 0.2))
        }
        if !result.contains(where: \.isLong), !result.isEmpty { result[0].isLong = true }
        return result
    }

    /// Every arrival becomes a one-call turn of `ScheduledToolExecutor` on a fresh scheduler.
    private func runOnce(strategy: Strategy, catalog: ToolCatalog, arrivals: [Arrival], shortCPU: Double, longCPU: Double) async -> [Outcome] {
        let scheduler = ToolScheduler(configuration: SchedulerConfiguration(strategy: strategy, workers: workers))
        let executor = ScheduledToolExecutor(scheduler: scheduler, catalog: catalog, runner: ToolRunner())
        let start = ContinuousClock.now
        let outcomes = await withTaskGroup(of: Outcome.self) { group in
            for (index, arrival) in arrivals.enumerated() {
                try? await Task.sleep(until: start + .seconds(arrival.at), clock: .continuous)
                let arrived = ContinuousClock.now
                let call = ToolCall(id: "call_\(index)", name: "cpu_burn", arguments: #"{"seconds":\#(arrival.isLong ? longCPU : shortCPU)}"#)
                group.addTask {
                    let results = await executor.execute([call], turn: TurnID(conversation: 0, turn: index), events: { _ in })
                    return Outcome(isLong: arrival.isLong, turnaround: (ContinuousClock.now - arrived).seconds,
                                   completed: results.count == 1 && results[0].ok)
                }
            }
            var outcomes: [Outcome] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        await scheduler.shutdown()
        return outcomes
    }
}
