import AgentRuntime
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
            text: "N no-op tasks submitted at once to a `Scheduler` (mlfq, \(workers) workers), then awaited until idle; time / N, median of \(repeats) runs. Baseline: `Benchmarks/asyncio_baseline.py` (an `asyncio.Semaphore(\(workers))` around each no-op coroutine, all gathered), run in the same process run.",
            table: table)
    }

    private func measure(_ n: Int) async -> Double {
        let scheduler = Scheduler(configuration: SchedulerConfiguration(strategy: .mlfq, workers: workers))
        let spec = TaskSpec(name: "noop", priority: 0)
        let start = ContinuousClock.now
        for _ in 0..<n { scheduler.submit(spec) { _ in "ok" } }
        await scheduler.waitUntilIdle()
        let elapsed = ContinuousClock.now - start
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
