import Agent
import JSON
import LLM
import Scheduler
import Tools
import Foundation
import TestSupport
import Subprocess
import Synchronization

/// Short-task completion under a mix of short and long CPU-bound subprocesses, per strategy.
struct MixedLoadBenchmark: Benchmark {
    let title = "Short tasks under mixed subprocess load"
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
        var table = MarkdownTable(headers: ["load", "strategy", "short mean (ms)", "short p99 (ms)", "short mean vs fifo", "long done", "long mean (s)", "long max (s)"])
        for (index, load) in loads.enumerated() {
            let arrivals = Self.arrivals(load: load, window: window, shortCPU: shortCPU, longCPU: longCPU, seed: UInt64(42 + index))
            var fifoShortMean = Double.nan
            var rows: [(Strategy, [Outcome])] = []
            for strategy in strategies {
                let outcomes = try await runOnce(strategy: strategy, arrivals: arrivals, shortCPU: shortCPU, longCPU: longCPU)
                if strategy == .fifo { fifoShortMean = mean(outcomes.filter { !$0.isLong }.map(\.turnaround)) }
                rows.append((strategy, outcomes))
            }
            for (strategy, outcomes) in rows {
                let short = outcomes.filter { !$0.isLong }.map { $0.turnaround * 1000 }
                let long = outcomes.filter(\.isLong)
                table.add("\(Int(load * 100))%", strategy.rawValue, fmt(mean(short), 0), fmt(percentile(short, 0.99), 0),
                          "\(fmt(fifoShortMean * 1000 / mean(short), 1))x better",
                          "\(long.filter(\.completed).count)/\(long.count)",
                          fmt(mean(long.map(\.turnaround)), 1), fmt(long.map(\.turnaround).max() ?? 0, 1))
            }
        }
        return ReportSection(
            title: title,
            text: """
            \(workers) workers, every task a real `python3` child in its own process group burning CPU \
            (`time.process_time()`): 80% short (\(Int(shortCPU * 1000)) ms CPU), 20% long (\(fmt(longCPU, 0)) s CPU), \
            Poisson arrivals for \(fmt(window, 0)) s at the given load (of \(workers) workers), then drained. \
            All tasks priority 0 and `.signals`-preemptible; the same arrival sequence for each strategy. \
            Times are submit-to-end. Target: mlfq's short mean ≥ 3x better than fifo's; every long task done.
            """,
            table: table)
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

    private func runOnce(strategy: Strategy, arrivals: [Arrival], shortCPU: Double, longCPU: Double) async throws -> [Outcome] {
        let scheduler = Scheduler<NoOpResult>(configuration: SchedulerConfiguration(strategy: strategy, workers: workers))
        let start = ContinuousClock.now
        return await withTaskGroup(of: Outcome.self) { group in
            for arrival in arrivals {
                try? await Task.sleep(until: start + .seconds(arrival.at), clock: .continuous)
                let submitted = ContinuousClock.now
                let cpu = arrival.isLong ? longCPU : shortCPU
                let id = scheduler.submit(TaskSpec(name: arrival.isLong ? "long" : "short", priority: 0, preemptibility: .signals)) { context in
                    (try? await Self.burn(seconds: cpu, context: context)).map { _ in NoOpResult() } ?? NoOpResult()
                }
                group.addTask {
                    let outcome = await scheduler.outcome(of: id)
                    let completed = if case .completed = outcome { true } else { false }
                    return Outcome(isLong: arrival.isLong, turnaround: (ContinuousClock.now - submitted).seconds, completed: completed)
                }
            }
            var outcomes: [Outcome] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
    }

    /// A CPU-bound child process in its own process group, paused and resumed with SIGSTOP/SIGCONT.
    static func burn(seconds: Double, context: TaskContext) async throws -> String {
        var options = PlatformOptions()
        options.processGroupID = 0
        let script = "import time\nend = \(seconds)\nwhile time.process_time() < end: pass\nprint('done')"
        let result = try await Subprocess.run(
            .name("python3"), arguments: ["-c", script], platformOptions: options,
            input: .none, output: .string(limit: 1024), error: .discarded
        ) { execution in
            context.onPause({ try? execution.send(signal: .suspend, toProcessGroup: true) },
                            resume: { try? execution.send(signal: .resume, toProcessGroup: true) })
        }
        context.clearPauseHandlers()
        return result.standardOutput
    }
}
