import Agent
import JSON
import LLM
import Scheduler
import Tools
import Foundation

/// Submit-to-completion cost of a no-op task through the full driver, against Python asyncio.
struct OverheadBenchmark: Benchmark {
    let title = "Scheduling overhead per no-op task"
    var workers = 8

    func run(quick: Bool) async throws -> ReportSection {
        let sizes = quick ? [10_000] : [10_000, 100_000]
        let repeats = quick ? 3 : 5
        let python = try pythonBaseline(sizes: sizes, repeats: repeats)
        var table = MarkdownTable(headers: ["tasks", "agent-repl scheduler (µs/task, median)", "Python asyncio semaphore (µs/task, median)", "speed-up", "target"])
        for n in sizes {
            var samples: [Double] = []
            for _ in 0..<repeats { samples.append(await measure(n)) }
            let swift = median(samples)
            let py = python[String(n)] ?? .nan
            table.add("\(n)", fmt(swift), fmt(py), "\(fmt(py / swift, 1))x", "≤ 5 µs and ≥ 2x")
        }
        return ReportSection(
            title: title,
            text: "N no-op tasks submitted at once to a `Scheduler` (mlfq, \(workers) workers, `recordLimit` N so every outcome is still known when awaited), then every outcome awaited in submission order and checked; wall time / N, median of \(repeats) runs. Baseline: `Benchmarks/asyncio_baseline.py`: N no-op coroutines, each inside an `asyncio.Semaphore(\(workers))`, all gathered and their results checked; run in the same benchmark run. Both sides do the same work: create N tasks, run at most \(workers) at once, collect N results.",
            table: table)
    }

    /// Submits `n` no-op tasks, then awaits every outcome in submission order (as `asyncio.gather`
    /// collects every result); returns wall time / n in µs. `recordLimit` is `n` so that the outcome of
    /// a task that ended before its turn to be awaited is still remembered.
    private func measure(_ n: Int) async -> Double {
        let scheduler = Scheduler<NoOpResult>(configuration: SchedulerConfiguration(strategy: .mlfq, workers: workers, recordLimit: n))
        let spec = TaskSpec(name: "noop", priority: 0)
        var ids: [TaskID] = []
        ids.reserveCapacity(n)
        var outcomes: [TaskOutcome<NoOpResult>?] = []
        outcomes.reserveCapacity(n)
        let start = ContinuousClock.now
        for _ in 0..<n { ids.append(scheduler.submit(spec) { _ in NoOpResult() }) }
        for id in ids { outcomes.append(await scheduler.outcome(of: id)) }
        let elapsed = ContinuousClock.now - start
        precondition(outcomes.count == n && outcomes.allSatisfy { $0 == .completed(NoOpResult()) })
        precondition(scheduler.stats.completed == n)
        return elapsed.seconds / Double(n) * 1e6
    }

    private func pythonBaseline(sizes: [Int], repeats: Int) throws -> [String: Double] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "Benchmarks/asyncio_baseline.py", "--sizes", sizes.map(String.init).joined(separator: ","),
                             "--repeats", String(repeats), "--workers", String(workers)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (try JSONSerialization.jsonObject(with: data) as? [String: Double]) ?? [:]
    }
}

/// What a no-op task returns: nothing but success.
struct NoOpResult: TaskResult, Equatable {
    var succeeded: Bool { true }
    var summary: String { "" }
}
