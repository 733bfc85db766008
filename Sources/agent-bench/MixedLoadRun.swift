import Agent
import Foundation
import LLM
import Scheduler
import Synchronization
import Tools

/// The pieces of the mixed-load section: turns of `cpu_burn` calls run through `ScheduledToolExecutor`
/// on one scheduler set-up, and what became of every call.
enum MixedLoad {
    enum Kind: Sendable {
        case short, long, foreground, background
    }

    /// One model turn: its calls (CPU seconds each) submitted together at `at` seconds after the start.
    struct Turn: Sendable {
        var at: Double
        var kind: Kind
        var seconds: [Double]
        /// The agent's conversation: 0 for the foreground, a job's own number for `prompt &`.
        var conversation = 0
    }

    /// One tool call's end.
    struct Call: Sendable {
        var turn: Int
        var call: Int
        var kind: Kind
        /// From its turn's submission to its result, in seconds.
        var turnaround: Double
        var completed: Bool
        /// The CPU time the tool's process reported, when it ran to the end.
        var cpu: Double?
    }

    /// A set-up compared in the section; `nil` configuration = the offline lower bound.
    struct Row {
        var name: String
        var configuration: SchedulerConfiguration?

        var workers: String { configuration.map { "\($0.workers)" } ?? "–" }
    }

    static let cores = ProcessInfo.processInfo.activeProcessorCount

    /// The same rows for every workload; `tasks` is the most calls the workload has in flight.
    static func rows(tasks: Int) -> [Row] {
        [
            Row(name: "mlfq (product defaults)", configuration: SchedulerConfiguration()),
            Row(name: "mlfq, \(cores) workers", configuration: SchedulerConfiguration(workers: cores)),
            Row(name: "sjf", configuration: SchedulerConfiguration(strategy: .sjf, workers: cores)),
            Row(name: "round_robin", configuration: SchedulerConfiguration(strategy: .roundRobin, workers: cores)),
            Row(name: "fifo", configuration: SchedulerConfiguration(strategy: .fifo, workers: cores)),
            Row(name: allAtOnce, configuration: SchedulerConfiguration(strategy: .fifo, workers: tasks)),
            Row(name: "one after another", configuration: SchedulerConfiguration(strategy: .fifo, workers: 1)),
            Row(name: "lower bound: offline SRPT, \(cores) cores", configuration: nil),
        ]
    }

    static let allAtOnce = "all at once"

    /// A fresh scheduler with `configuration` and the executor the REPL would put on it.
    static func executor(_ configuration: SchedulerConfiguration, catalog: ToolCatalog) -> ScheduledToolExecutor {
        ScheduledToolExecutor(scheduler: ToolScheduler(configuration: configuration, runnableThreads: SystemLoad.runnable), catalog: catalog, runner: ToolRunner())
    }

    /// Runs every turn at its time, each as one `execute` of its calls; returns when all have ended.
    static func run(_ turns: [Turn], configuration: SchedulerConfiguration, catalog: ToolCatalog) async -> [Call] {
        let executor = executor(configuration, catalog: catalog)
        let start = ContinuousClock.now
        let calls = await withTaskGroup(of: [Call].self) { group in
            for (index, turn) in turns.enumerated() {
                try? await Task.sleep(until: start + .seconds(turn.at), clock: .continuous)
                group.addTask { await execute(turn, index: index, executor: executor) }
            }
            var calls: [Call] = []
            for await turnCalls in group { calls += turnCalls }
            return calls
        }
        await executor.scheduler.shutdown()
        return calls
    }

    /// One turn through `executor`, now; each call's time is taken when its `toolFinished` event comes.
    static func execute(_ turn: Turn, index: Int, executor: ScheduledToolExecutor) async -> [Call] {
        let submitted = ContinuousClock.now
        let calls = turn.seconds.enumerated().map { call, seconds in
            ToolCall(id: "call_\(index)_\(call)", name: "cpu_burn", arguments: #"{"seconds":\#(seconds)}"#)
        }
        let finished = Mutex<[String: Double]>([:])
        let results = await executor.execute(calls, turn: TurnID(conversation: turn.conversation, turn: index)) { event in
            if case .toolFinished(let call, _, _) = event {
                let elapsed = (ContinuousClock.now - submitted).seconds
                finished.withLock { $0[call.id] = elapsed }
            }
        }
        let ended = (ContinuousClock.now - submitted).seconds
        return zip(calls, results).enumerated().map { number, pair in
            Call(turn: index, call: number, kind: turn.kind, turnaround: finished.withLock { $0[pair.0.id] } ?? ended,
                 completed: pair.1.ok, cpu: pair.1.ok ? cpuTime(reportedIn: pair.1.output) : nil)
        }
    }

    /// The `process CPU … s` figure of `Benchmarks/cpu_tool.py`'s line.
    static func cpuTime(reportedIn output: String) -> Double? {
        guard let range = output.range(of: "process CPU ") else { return nil }
        return Double(output[range.upperBound...].prefix { $0.isNumber || $0 == "." })
    }

    /// The offline lower bound for `turns`: every call's CPU time is the median of what the online
    /// rows measured for it (the requested seconds when none ran to the end).
    static func lowerBound(_ turns: [Turn], measured: [[Call]]) -> [Call] {
        var samples: [[Int]: [Double]] = [:]
        for call in measured.joined() { if let cpu = call.cpu { samples[[call.turn, call.call], default: []].append(cpu) } }
        var jobs: [OfflineSRPT.Job] = []
        var calls: [Call] = []
        for (index, turn) in turns.enumerated() {
            for (number, seconds) in turn.seconds.enumerated() {
                jobs.append(OfflineSRPT.Job(arrival: turn.at, work: samples[[index, number]].map(median) ?? seconds))
                calls.append(Call(turn: index, call: number, kind: turn.kind, turnaround: 0, completed: true, cpu: jobs.last!.work))
            }
        }
        for (i, completion) in OfflineSRPT.completions(of: jobs, cores: cores).enumerated() {
            calls[i].turnaround = completion - jobs[i].arrival
        }
        return calls
    }

    /// Each row's calls for `turns`, the lower bound last (computed from the others' CPU times).
    static func runRows(_ turns: [Turn], catalog: ToolCatalog) async -> [(Row, [Call])] {
        var results: [(Row, [Call])] = []
        for row in rows(tasks: turns.map(\.seconds.count).reduce(0, +)) {
            guard let configuration = row.configuration else {
                results.append((row, lowerBound(turns, measured: results.map(\.1))))
                continue
            }
            FileHandle.standardError.write(Data("  \(row.name)\n".utf8))
            results.append((row, await run(turns, configuration: configuration, catalog: catalog)))
        }
        return results
    }
}

extension MixedLoad {
    /// What workload (b) measured for one row: the foreground turn's times while the job ran and alone.
    struct ForegroundTimes {
        var duringJob: [Double]
        var alone: [Double]
        /// Every call of the row (foreground calls as turn 1, the job's as turn 0), for the lower bound.
        var calls: [Call]
    }

    /// Starts `job` (a background turn), then runs `foreground` `gap` s later and again `gap` s after
    /// each ends, at most `repeats` times and only while the job runs; cancels the job; then runs
    /// `foreground` `repeats` times alone on a fresh scheduler of the same configuration.
    static func foreground(_ foreground: Turn, during job: Turn, repeats: Int, gap: Double,
                           configuration: SchedulerConfiguration, catalog: ToolCatalog) async -> ForegroundTimes {
        let executor = executor(configuration, catalog: catalog)
        let jobEnded = Atomic<Bool>(false)
        let jobTask = Task {
            defer { jobEnded.store(true, ordering: .sequentiallyConsistent) }
            return await execute(job, index: 0, executor: executor)
        }
        var times = ForegroundTimes(duringJob: [], alone: [], calls: [])
        for index in 1...repeats {
            try? await Task.sleep(for: .seconds(gap))
            if jobEnded.load(ordering: .sequentiallyConsistent) { break }
            let calls = await execute(foreground, index: index, executor: executor)
            times.duringJob.append(calls.map(\.turnaround).max() ?? 0)
            times.calls += calls
        }
        jobTask.cancel()
        times.calls += await jobTask.value
        await executor.scheduler.shutdown()
        let aloneExecutor = Self.executor(configuration, catalog: catalog)
        for index in 1...repeats {
            let calls = await execute(foreground, index: index, executor: aloneExecutor)
            times.alone.append(calls.map(\.turnaround).max() ?? 0)
            times.calls += calls
        }
        await aloneExecutor.scheduler.shutdown()
        times.calls = times.calls.map { call in
            var call = call
            call.turn = call.kind == .background ? 0 : 1
            return call
        }
        return times
    }

    /// Workload (b)'s lower bound: the foreground turn `gap` s into the job, and alone, under offline SRPT.
    static func foregroundLowerBound(_ foreground: Turn, during job: Turn, gap: Double, measured: [[Call]]) -> ForegroundTimes {
        var atGap = foreground
        atGap.at = gap
        func turnTime(_ calls: [Call]) -> Double { calls.filter { $0.kind == .foreground }.map(\.turnaround).max() ?? 0 }
        let during = lowerBound([job, atGap], measured: measured)
        // Alone: the foreground turn as turn 0 of its own.
        let foregroundCalls = measured.map { $0.filter { $0.kind == .foreground }.map { call in
            var call = call
            call.turn = 0
            return call
        } }
        let alone = lowerBound([foreground], measured: foregroundCalls)
        return ForegroundTimes(duringJob: [turnTime(during)], alone: [turnTime(alone)], calls: during)
    }
}
