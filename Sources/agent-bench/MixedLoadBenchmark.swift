import Foundation
import JSON
import Scheduler
import TestSupport
import Tools

/// Does the queue beat starting every tool at once? Three CPU-bound workloads of exec tools run the
/// product's way (declared in a tools.d folder, run by `ScheduledToolExecutor`, so `ToolRunner` starts
/// them as scheduler task bodies that register SIGSTOP/SIGCONT handlers), each under the rows of
/// `MixedLoad.rows`: today's mlfq defaults, the other strategies, everything at once, one after
/// another, and an offline lower bound.
struct MixedLoadBenchmark: Benchmark {
    let title = "Mixed tool load: the queue against starting everything at once"

    struct Sizes {
        var shortCPU = 0.05
        var longCPU = 5.0
        var window = 20.0
        var loads = [0.7, 0.9]
        var jobCalls = 8
        var foregroundCalls = 3
        var foregroundGap = 1.0
        var foregroundRepeats = 5
        var burstCalls = 32
        var burstCPU = 2.0

        static let quick = Sizes(longCPU: 0.6, window: 2.0, loads: [0.9], foregroundGap: 0.4, foregroundRepeats: 2,
                                 burstCalls: 8, burstCPU: 0.25)
    }

    func run(quick: Bool) async throws -> ReportSection {
        let sizes = quick ? Sizes.quick : Sizes()
        let catalog = try Self.toolCatalog()
        var tables: [MarkdownTable] = []
        // Each table goes to standard error as soon as it is done: the section takes minutes.
        func add(_ table: MarkdownTable) {
            tables.append(table)
            FileHandle.standardError.write(Data("\n\(table.markdownWithCaption)\n\n".utf8))
        }
        for (index, load) in sizes.loads.enumerated() {
            FileHandle.standardError.write(Data(" (a) \(Int(load * 100))% load\n".utf8))
            let turns = Self.arrivals(load: load, sizes: sizes, seed: Self.seed(loadIndex: index))
            add(Self.mixTable(load: load, sizes: sizes, turns: turns, rows: await MixedLoad.runRows(turns, catalog: catalog)))
        }
        FileHandle.standardError.write(Data(" (b) foreground turn during a background job\n".utf8))
        add(await foregroundTable(sizes: sizes, catalog: catalog))
        FileHandle.standardError.write(Data(" (c) burst\n".utf8))
        let burst = [MixedLoad.Turn(at: 0, kind: .long, seconds: Array(repeating: sizes.burstCPU, count: sizes.burstCalls))]
        add(Self.burstTable(sizes: sizes, rows: await MixedLoad.runRows(burst, catalog: catalog)))
        return ReportSection(
            title: title,
            text: """
            Every task is one call of an `exec` tool, `cpu_burn` (`Benchmarks/cpu_tool.py`, run by the benchmark \
            environment's `python3`: burns the CPU time given in its arguments, counted by `time.process_time()`, \
            interpreter start included, and reports the CPU time its process used), declared in a temporary tools.d \
            folder (priority 0, preemptible), loaded by `ToolLoader`, and run the product's way: \
            `ScheduledToolExecutor.execute` submits a turn's calls to the `Scheduler` and `ToolRunner` starts each \
            (posix_spawn, its own process group) as the task's body, which registers SIGSTOP/SIGCONT of the group as \
            the context's pause/resume handlers. Rows, on the same arrivals (fixed seeds): mlfq with the product's \
            defaults (`SchedulerConfiguration()`, what `agent-repl` runs without flags: \(Self.defaults)); mlfq, sjf, round_robin and \
            fifo with one worker per core (\(MixedLoad.cores)); all at once (fifo with a worker for every call: the \
            kernel schedules); one after another (fifo, 1 worker); and a lower bound: shortest remaining time first \
            computed offline on \(MixedLoad.cores) cores from each call's arrival and its CPU time as measured by the \
            online rows (median), with no start-up or switching cost (a bound on the mean over all calls, not on each \
            class: it may finish long calls later than a row that favours them; and on several cores SRPT is the usual \
            reference rather than a proven optimum). "vs all at once" = the row's figure / all at \
            once's (below 1 is better). Times are from a turn's submission to the call's result (its \
            `toolFinished` event). Issue 10's targets: (a) at 90% mlfq's short mean ≤ 0.5x all at once, every long \
            call done, long mean ≤ 1.5x; (b) the foreground turn ≤ 1.2x its time alone; (c) mean ≤ 0.6x all at \
            once, last within 5%.
            """,
            tables: tables)
    }

    /// Workload (a)'s seed for the load at `loadIndex` of `Sizes.loads`.
    static func seed(loadIndex: Int) -> UInt64 { UInt64(42 + loadIndex) }

    /// Workload (a): one call per turn, 80% `shortCPU` and 20% `longCPU`, Poisson arrivals for `window` s
    /// at `load` of the cores.
    static func arrivals(load: Double, sizes: Sizes, seed: UInt64) -> [MixedLoad.Turn] {
        var rng = SplitMix64(seed: seed)
        let meanService = 0.8 * sizes.shortCPU + 0.2 * sizes.longCPU
        let rate = load * Double(MixedLoad.cores) / meanService
        var t = 0.0
        var isLong: [Bool] = []
        var times: [Double] = []
        while true {
            t += -log(1 - Double.random(in: 0..<1, using: &rng)) / rate
            guard t < sizes.window else { break }
            times.append(t)
            isLong.append(Double.random(in: 0..<1, using: &rng) < 0.2)
        }
        if !isLong.contains(true), !isLong.isEmpty { isLong[0] = true }
        return zip(times, isLong).map { at, long in
            MixedLoad.Turn(at: at, kind: long ? .long : .short, seconds: [long ? sizes.longCPU : sizes.shortCPU])
        }
    }

    /// The default configuration in words, for the report.
    static var defaults: String {
        let c = SchedulerConfiguration()
        return "\(c.workers) workers, \(c.cpuSlots.map { "\($0)" } ?? "no") cores for CPU-bound calls, \(c.levels) levels, quanta " +
            (0..<c.levels).map { "\(fmt(c.quantum(atLevel: $0).seconds * 1000, 0)) ms" }.joined(separator: ", ") +
            ", allotment \(c.allotmentQuanta) quantum, boost of starved tasks every \(String(format: "%g", c.boostPeriod.seconds)) s"
    }

    static func ratio(_ value: Double, _ base: Double) -> String { "\(fmt(value / base, 2))x" }

    /// Seconds of CPU as written in a caption: 0.05 → "50 ms", 0.25 → "0.25 s", 5 → "5 s".
    static func cpu(_ seconds: Double) -> String {
        seconds < 0.1 ? "\(Int((seconds * 1000).rounded())) ms" : String(format: "%g s", seconds)
    }

    /// `label` and `how` frame the caption: "(a) CPU mix at 90% load: … for 20.0 s, \(how)".
    static func mixTable(load: Double, sizes: Sizes, turns: [MixedLoad.Turn], rows: [(MixedLoad.Row, [MixedLoad.Call])],
                         label: String = "(a)", how: String = "one call per turn, then drained.") -> MarkdownTable {
        let longCount = turns.count(where: { $0.kind == .long })
        var table = MarkdownTable(
            headers: ["row", "workers", "short mean (ms)", "short p99 (ms)", "short mean vs all at once", "long done", "long mean (s)", "long max (s)", "long mean vs all at once"],
            caption: "\(label) CPU mix at \(Int(load * 100))% load: \(turns.count) calls, \(turns.count - longCount) of \(Self.cpu(sizes.shortCPU)) and \(longCount) of \(Self.cpu(sizes.longCPU)) of CPU, Poisson arrivals for \(fmt(sizes.window, 1)) s, \(how)")
        func means(_ calls: [MixedLoad.Call]) -> (short: Double, long: Double) {
            (mean(calls.filter { $0.kind == .short }.map(\.turnaround)), mean(calls.filter { $0.kind == .long }.map(\.turnaround)))
        }
        let base = means(rows.first { $0.0.name == MixedLoad.allAtOnce }?.1 ?? [])
        for (row, calls) in rows {
            let short = calls.filter { $0.kind == .short }
            let long = calls.filter { $0.kind == .long }
            let failed = short.count(where: { !$0.completed })
            let m = means(calls)
            table.add(row.name, row.workers, fmt(m.short * 1000, 0) + (failed == 0 ? "" : " (\(failed) failed)"),
                      fmt(percentile(short.map { $0.turnaround * 1000 }, 0.99), 0), ratio(m.short, base.short),
                      "\(long.count(where: \.completed))/\(long.count)", fmt(m.long, 1), fmt(long.map(\.turnaround).max() ?? 0, 1),
                      ratio(m.long, base.long))
        }
        return table
    }

    /// Workload (b): a foreground turn of short calls while a background job's turn of long calls runs.
    func foregroundTable(sizes: Sizes, catalog: ToolCatalog) async -> MarkdownTable {
        let job = MixedLoad.Turn(at: 0, kind: .background, seconds: Array(repeating: sizes.longCPU, count: sizes.jobCalls), conversation: 1)
        let foreground = MixedLoad.Turn(at: 0, kind: .foreground, seconds: Array(repeating: sizes.shortCPU, count: sizes.foregroundCalls))
        var results: [(MixedLoad.Row, MixedLoad.ForegroundTimes)] = []
        for row in MixedLoad.rows(tasks: sizes.jobCalls + sizes.foregroundCalls) {
            guard let configuration = row.configuration else {
                results.append((row, MixedLoad.foregroundLowerBound(foreground, during: job, gap: sizes.foregroundGap, measured: results.map(\.1.calls))))
                continue
            }
            FileHandle.standardError.write(Data("  \(row.name)\n".utf8))
            results.append((row, await MixedLoad.foreground(foreground, during: job, repeats: sizes.foregroundRepeats, gap: sizes.foregroundGap,
                                                            configuration: configuration, catalog: catalog)))
        }
        var table = MarkdownTable(
            headers: ["row", "workers", "foreground turn during the job (ms, mean)", "turns measured", "foreground turn alone (ms, mean)", "during / alone", "during vs all at once"],
            caption: """
            (b) A foreground turn (conversation 0) of \(sizes.foregroundCalls) calls of \(Self.cpu(sizes.shortCPU)) of CPU, \
            issued \(fmt(sizes.foregroundGap, 1)) s after a background job (`prompt &`: conversation 1) submitted one turn of \
            \(sizes.jobCalls) calls of \(Self.cpu(sizes.longCPU)), then again \(fmt(sizes.foregroundGap, 1)) s after each \
            ended while the job still ran (at most \(sizes.foregroundRepeats) times); then the job is cancelled and the turn \
            runs \(sizes.foregroundRepeats) times alone on a fresh scheduler of the same row. As in the product, \
            `ScheduledToolExecutor` submits a background job's calls one priority below their tool's (here 1 instead \
            of 0); under mlfq they enter level 1, below the foreground turn's calls.
            """)
        let base = mean(results.first { $0.0.name == MixedLoad.allAtOnce }?.1.duringJob ?? [])
        for (row, times) in results {
            let during = mean(times.duringJob)
            table.add(row.name, row.workers, fmt(during * 1000, 0), "\(times.duringJob.count)", fmt(mean(times.alone) * 1000, 0),
                      Self.ratio(during, mean(times.alone)), Self.ratio(during, base))
        }
        return table
    }

    static func burstTable(sizes: Sizes, rows: [(MixedLoad.Row, [MixedLoad.Call])]) -> MarkdownTable {
        var table = MarkdownTable(
            headers: ["row", "workers", "mean completion (s)", "last completion (s)", "done", "mean vs all at once", "last vs all at once"],
            caption: "(c) A burst: one turn of \(sizes.burstCalls) calls of \(Self.cpu(sizes.burstCPU)) of CPU each, submitted at once.")
        func stats(_ calls: [MixedLoad.Call]) -> (mean: Double, last: Double) {
            (mean(calls.map(\.turnaround)), calls.map(\.turnaround).max() ?? 0)
        }
        let base = stats(rows.first { $0.0.name == MixedLoad.allAtOnce }?.1 ?? [])
        for (row, calls) in rows {
            let s = stats(calls)
            table.add(row.name, row.workers, fmt(s.mean, 1), fmt(s.last, 1), "\(calls.count(where: \.completed))/\(calls.count)",
                      ratio(s.mean, base.mean), ratio(s.last, base.last))
        }
        return table
    }

    /// A tools.d folder with the `cpu_burn` exec tool, loaded as the REPL loads its folders.
    static func toolCatalog() throws -> ToolCatalog {
        let folder = try toolsFolder()
        let catalog = ToolLoader.load(folders: [ToolFolder(folder.path)])
        guard catalog.errors.isEmpty, catalog.tool(named: "cpu_burn") != nil else {
            throw BenchFailure("the benchmark tool did not load: \(catalog.formattedList()) \(catalog.errors)")
        }
        return catalog
    }

    /// A new temporary tools.d folder holding `cpu_burn.json`: the `cpu_burn` exec tool
    /// (`Benchmarks/cpu_tool.py` run by the benchmark environment's `python3`, priority 0, preemptible).
    static func toolsFolder() throws -> URL {
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
        return folder
    }
}
