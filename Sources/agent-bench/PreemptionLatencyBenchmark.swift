import Agent
import JSON
import LLM
import Scheduler
import Tools
import Synchronization

/// How long a high-priority task waits to start when every worker runs a preemptible task.
struct PreemptionLatencyBenchmark: Benchmark {
    let title = "Preemption latency"
    var workers = 2

    func run(quick: Bool) async throws -> ReportSection {
        let samples = quick ? 100 : 1000
        let busy = await latencies(samples: samples, busy: true)
        let idle = await latencies(samples: samples, busy: false)
        var table = MarkdownTable(headers: ["case", "p50 (ms)", "p99 (ms)", "max (ms)", "target"])
        table.add("every worker busy with a preemptible task (preempts)", fmt(median(busy), 3), fmt(percentile(busy, 0.99), 3), fmt(busy.max() ?? 0, 3), "p99 ≤ 5 ms")
        table.add("baseline: a worker is free", fmt(median(idle), 3), fmt(percentile(idle, 0.99), 3), fmt(idle.max() ?? 0, 3), "")
        return ReportSection(
            title: title,
            text: "mlfq, \(workers) workers. Busy case: each worker runs a cooperative priority-2 task (checkpoint, then a 1 ms sleep, in a loop); a priority-0 task is submitted and the time from `submit` to the first line of its body is measured, \(samples) times. Baseline: the same submit with a free worker.",
            table: table)
    }

    private func latencies(samples: Int, busy: Bool) async -> [Double] {
        let clock = ContinuousSchedulerClock()
        let scheduler = Scheduler<NoOpResult>(configuration: SchedulerConfiguration(strategy: .mlfq, workers: workers), clock: clock)
        let stop = Atomic<Bool>(false)
        if busy {
            for _ in 0..<workers {
                scheduler.submit(TaskSpec(name: "background", priority: 2, preemptibility: .cooperative)) { context in
                    while !stop.load(ordering: .relaxed), !context.isCancelled {
                        await context.checkpoint()
                        try? await Task.sleep(for: .milliseconds(1))
                    }
                    return NoOpResult()
                }
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        var result: [Double] = []
        for _ in 0..<samples {
            let startedAt = Mutex<Duration>(.zero)
            let submittedAt = clock.now
            let id = scheduler.submit(TaskSpec(name: "urgent", priority: 0, preemptibility: .cooperative)) { _ in
                startedAt.withLock { $0 = clock.now }
                return NoOpResult()
            }
            _ = await scheduler.outcome(of: id)
            result.append((startedAt.withLock { $0 } - submittedAt).seconds * 1000)
        }
        stop.store(true, ordering: .relaxed)
        await scheduler.waitUntilIdle()
        return result
    }
}
