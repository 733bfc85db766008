import Agent
import JSON
import LLM
import Scheduler
import Tools
import Foundation
import Synchronization
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// One turn whose model writes four calls over about two seconds, each tool taking 500 ms: started as
/// each call is complete in the stream (streaming dispatch) against all started at the end of the
/// answer, on the product path (`Agent` + `OpenAIClient` + `ScheduledToolExecutor` + `ToolRunner`).
struct DispatchBenchmark: Benchmark {
    let title = "Streaming dispatch: tools start while the model still writes"
    let calls = 4
    let argumentTokens = 24
    let toolSeconds = 0.5

    /// One turn's figures, in ms.
    private struct Turn {
        /// Tool phase end − (the last call's completion in the stream + 500 ms).
        var overshoot: Double
        /// Per call: its tool's process start − the call's last byte on the socket.
        var latencies: [Double]
        /// Per call: its task's body start (`.toolStarted`, just before the spawn) − the call's last byte.
        var toBody: [Double]
        /// Per call: its tool's process start − the arrival of the chunk that completed it in libcurl's
        /// write callback (agent-repl's own part, without the server's write and the kernel's delivery).
        var fromArrival: [Double]
        /// The whole turn (both model calls).
        var total: Double
    }

    func run(quick: Bool) async throws -> ReportSection {
        let repeats = quick ? 3 : 10
        let loadBefore = Self.loadAverage()
        let folder = try BenchPaths.temporaryFolder()
        let tool = folder.appendingPathComponent("dispatch_tool")
        let linkage = try Self.compile(BenchPaths.file("Benchmarks/dispatch_tool.c"), to: tool)
        let toolsFolder = folder.appendingPathComponent("tools.d")
        try FileManager.default.createDirectory(at: toolsFolder, withIntermediateDirectories: true)
        let declaration: JSONValue = [
            "name": "half_second",
            "description": "Takes 500 ms and says when it started",
            "parameters": ["type": "object", "properties": ["id": ["type": "string"], "note": ["type": "string"]]],
            "exec": .array([.string(tool.path)]),
            "estimated_time": .double(toolSeconds),
        ]
        try declaration.jsonString.write(to: toolsFolder.appendingPathComponent("half_second.json"), atomically: true, encoding: .utf8)
        let catalog = ToolLoader.load(folders: [ToolFolder(toolsFolder.path)])
        guard catalog.errors.isEmpty, let halfSecond = catalog.tool(named: "half_second") else {
            throw BenchFailure("the dispatch tool did not load: \(catalog.errors)")
        }

        // The floor: the same tool started by `ToolRunner` directly, from the call to the tool's `main`.
        var floor: [Double] = []
        let floorRunner = ToolRunner()  // one runner, as the product has
        for _ in 0..<(quick ? 3 : 10) {
            let before = Self.monotonic()
            let result = await floorRunner.run(halfSecond, arguments: #"{"id":"floor"}"#)
            guard result.ok, result.output.hasPrefix("start "), let toolStart = Double(result.output.dropFirst(6).prefix { !$0.isWhitespace }) else {
                throw BenchFailure("the dispatch tool failed: \(result.modelContent)")
            }
            floor.append((toolStart - before) * 1000)
        }

        // The machine's own floor: posix_spawn in a small C program to the same tool's `main`.
        let spawner = folder.appendingPathComponent("spawn_floor")
        _ = try Self.compile(BenchPaths.file("Benchmarks/spawn_floor.c"), to: spawner)
        let rawSpawn = try Self.rawSpawnTimes(spawner: spawner, tool: tool, runs: quick ? 3 : 10)

        // Rows alternate turn by turn (a warm-up turn of each first), so load that comes and goes
        // touches both alike. Each turn: the four calls, streamed token by token, then a text answer.
        let order = [true, false] + (0..<repeats).flatMap { $0 % 2 == 0 ? [true, false] : [false, true] }
        var script: [JSONValue] = []
        for turn in order.indices {
            let turnCalls: [JSONValue] = (0..<calls).map { i in
                ["id": .string(Self.callID(turn: turn, call: i)), "name": "half_second",
                 "arguments": ["id": .string("\(i)"), "note": .string(String(repeating: "x", count: 40))]]
            }
            script.append([
                "tool_calls": .array(turnCalls), "arg_pieces": .int(Int64(argumentTokens)),
                "first_token_ms": 300, "token_ms": 20, "log_calls": true,
            ])
            script.append(FakeOpenAIServer.text("done"))
        }
        let server = try await FakeOpenAIServer.start(script: .array(script))
        defer { server.stop() }
        // When each body chunk reached agent-repl: libcurl's write callback, before the client reads it.
        let arrivals = ChunkArrivals()
        let client = OpenAIClient(configuration: OpenAIConfiguration(
            baseURL: server.baseURL, apiKey: nil, model: "fake-model",
            onBodyChunk: { _ in
                let now = Self.monotonic()
                arrivals.times.withLock { $0.append(now) }
            }))
        let scheduler = ToolScheduler(configuration: SchedulerConfiguration())
        let executor = ScheduledToolExecutor(scheduler: scheduler, catalog: catalog, runner: ToolRunner())

        var measured: [Bool: [Turn]] = [true: [], false: []]
        for (turn, early) in order.enumerated() {
            let figures = try await self.turn(turn, early: early, client: client, executor: executor, server: server, arrivals: arrivals)
            if turn >= 2 { measured[early]!.append(figures) }
        }
        await scheduler.shutdown()

        var table = MarkdownTable(headers: [
            "dispatch", "turns", "tool phase end − (last call complete + 500 ms), median (ms)", "p95 (ms)", "target",
            "call's last byte → its tool's process start, median (ms)", "p95 (ms)", "target",
            "of which last byte → task body start (ms, median)", "chunk in libcurl's callback → the tool's process start (ms, median)",
            "whole turn, median (ms)",
        ])
        for early in [true, false] {
            let turns = measured[early]!
            let overshoot = turns.map(\.overshoot), latency = turns.flatMap(\.latencies)
            let overshootMet = abs(median(overshoot)) <= 50, latencyMet = median(latency) <= 1
            table.add(
                early ? "streaming: each call as soon as it is complete" : "baseline: all at the end of the answer",
                "\(turns.count)",
                fmt(median(overshoot), 1) + (early ? (overshootMet ? " ✓" : " ✗") : ""), fmt(percentile(overshoot, 0.95), 1),
                early ? "within 50 ms" : "",
                fmt(median(latency), 3) + (early ? (latencyMet ? " ✓" : " ✗") : ""), fmt(percentile(latency, 0.95), 3),
                early ? "median ≤ 1 ms" : "",
                fmt(median(turns.flatMap(\.toBody)), 3), early ? fmt(median(turns.flatMap(\.fromArrival)), 3) : "",
                fmt(median(turns.map(\.total)), 0))
        }
        table.add(
            "floor: the tool started by `ToolRunner.run` directly (no stream, agent or scheduler)", "\(floor.count) calls", "", "", "",
            fmt(median(floor), 3) + " (call → the tool's `main`)", fmt(percentile(floor, 0.95), 3), "", "", "", "")
        table.add(
            "floor: `posix_spawn` from a small C program (`Benchmarks/spawn_floor.c`)", "\(rawSpawn.count) runs", "", "", "",
            fmt(median(rawSpawn), 3) + " (`posix_spawn` → the tool's `main`)", fmt(percentile(rawSpawn, 0.95), 3), "", "", "", "")
        return ReportSection(
            title: title,
            text: """
            One turn per measure through the product path: `Agent` + `OpenAIClient` (libcurl) against `Tests/Fixtures/fake_openai.py` on loopback + `ScheduledToolExecutor` on a `Scheduler` with the product's defaults (mlfq, 8 workers) + `ToolRunner`. The server answers with \(calls) parallel calls of one `exec` tool, token by token: the first event after 300 ms, then one event every 20 ms (each call's header, then its arguments in \(argumentTokens) fragments), so the calls are written over about \(fmt(Double(calls * (argumentTokens + 1)) * 0.02, 1)) s; then a text answer. The tool (`Benchmarks/dispatch_tool.c`, compiled by the benchmark with `cc`, here linked \(linkage)ally, so that its `main` runs right after `exec`; declared in a temporary tools.d) reads `CLOCK_MONOTONIC` as its first act, sleeps 500 ms and prints that time. The server stamps with `time.monotonic()` (the same clock), just before writing it, the event that makes each call complete for a Chat Completions client: the next call's first fragment, or the `finish_reason` chunk for the last call (a call's arguments alone do not say they are over). Rows, alternating turn by turn in the same run after one warm-up turn each: streaming dispatch (the default) and the baseline, `Agent.Configuration(dispatchesEarly: false)`, which starts every call once the answer has ended. Tool phase end = the last `.toolFinished` event, read with `CLOCK_MONOTONIC` in the benchmark; "task body start" = the `.toolStarted` event, sent by the task's body just before it spawns the tool (the rest is the spawn and `exec` of the tool's process). The path from the socket to the spawn runs on one thread, libcurl's: the client cuts the SSE event and accumulates it there (`StreamedEvents`, an `HTTPBodyConsumer`), the agent's hook checks the ready call and submits it with `startsOnCaller`, so with a worker free the task's body runs on that same thread up to the spawn (`Task.immediate`); the spawning thread then yields its CPU to the new process. The floor rows: the same tool started by `ToolRunner.run` alone, from the call to the tool's first instruction (agent-repl's own process start), and by `posix_spawn` from a small C program (`Benchmarks/spawn_floor.c`): the cost of creating a process on this machine, which no dispatch can go below. \(repeats) turns per row; percentiles over turns (first figure) and over calls (second). Note: the tool phase ends with the last call's tool in both rows, which cannot start before the last call is complete; what streaming dispatch saves is the wait of the earlier calls (the second figure) and the tail after `finish_reason` (usage chunk, `[DONE]`, the end of the transfer). With tools of equal length written 500 ms apart the whole turn is hardly shorter; it is when an early call's tool is the long one (or workers are scarce) that starting it while the model writes shortens the turn. Load average \(loadBefore) before, \(Self.loadAverage()) after.
            """,
            table: table)
    }

    private static func callID(turn: Int, call: Int) -> String { "d\(turn)_\(call)" }

    /// Milliseconds from `posix_spawn` to the tool's `main`, per run of `spawn_floor`.
    private static func rawSpawnTimes(spawner: URL, tool: URL, runs: Int) throws -> [Double] {
        let data = try Proc.output(of: spawner, [tool.path, String(runs)]).data
        var before: Double?
        var times: [Double] = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let value = Double(fields[1]) else { continue }
            if fields[0] == "before" { before = value } else if fields[0] == "start", let b = before { times.append((value - b) * 1000) }
        }
        guard times.count == runs else { throw BenchFailure("spawn_floor printed \(String(decoding: data, as: UTF8.self))") }
        return times
    }

    /// The benchmark's tool, compiled with the C compiler on PATH: linked statically where the C library
    /// allows it, so that its `main` runs right after `exec` (no dynamic loader); returns "static" or
    /// "dynamic".
    private static func compile(_ source: URL, to binary: URL) throws -> String {
        func cc(_ flags: [String]) throws -> Bool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["cc", "-O2"] + flags + ["-o", binary.path, source.path]
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus == 0
        }
        if try cc(["-static"]) { return "static" }
        if try cc([]) { return "dynamic" }
        throw BenchFailure("could not compile \(source.path) with cc; install a C compiler (clang or gcc)")
    }

    private func turn(
        _ turn: Int, early: Bool, client: OpenAIClient, executor: ScheduledToolExecutor, server: FakeOpenAIServer, arrivals: ChunkArrivals
    ) async throws -> Turn {
        arrivals.times.withLock { $0 = [] }
        let agent = Agent(
            model: client, configuration: Agent.Configuration(model: "fake-model", tools: executor.definitions, dispatchesEarly: early),
            executor: executor)
        let finished = Mutex<[String: (end: Double, summary: String, ok: Bool)]>([:])
        let bodyStarts = Mutex<[String: Double]>([:])
        let start = Self.monotonic()
        let answer = try await agent.run(prompt: "four calls") { event in
            switch event {
            case .toolStarted(let call, _):
                let now = Self.monotonic()
                bodyStarts.withLock { $0[call.id] = now }
            case .toolFinished(let call, let ok, let summary):
                let now = Self.monotonic()
                finished.withLock { $0[call.id] = (now, summary, ok) }
            default: break
            }
        }
        let total = Self.monotonic() - start
        let ends = finished.withLock { $0 }
        let ids = (0..<calls).map { Self.callID(turn: turn, call: $0) }
        guard answer == "done", ends.count == calls, ends.values.allSatisfy(\.ok) else {
            throw BenchFailure("dispatch turn \(turn): answer \(answer), results \(ends)")
        }
        let log = server.log()
        var complete: [String: Double] = [:]
        for entry in log where entry["event"] == "call_complete" {
            if let id = entry["id"]?.stringValue, let mono = entry["mono"]?.numberValue { complete[id] = mono }
        }
        var latencies: [Double] = [], toBody: [Double] = [], fromArrival: [Double] = []
        let bodies = bodyStarts.withLock { $0 }
        let chunks = arrivals.times.withLock { $0 }
        for id in ids {
            guard let done = complete[id], let body = bodies[id], let summary = ends[id]?.summary, summary.hasPrefix("start "),
                  let toolStart = Double(summary.dropFirst(6)) else {
                throw BenchFailure("dispatch turn \(turn): no completion mark or start time for \(id): \(ends[id]?.summary ?? "none")")
            }
            latencies.append((toolStart - done) * 1000)
            toBody.append((body - done) * 1000)
            // The chunk that completed the call: the last to arrive before its body started.
            if let arrival = chunks.last(where: { $0 <= body }) { fromArrival.append((toolStart - arrival) * 1000) }
        }
        let lastComplete = try ids.map { id in
            guard let mark = complete[id] else { throw BenchFailure("no completion mark for \(id)") }
            return mark
        }.max()!
        let phaseEnd = ends.values.map(\.end).max()!
        return Turn(
            overshoot: (phaseEnd - (lastComplete + toolSeconds)) * 1000, latencies: latencies, toBody: toBody, fromArrival: fromArrival,
            total: total * 1000)
    }

    /// The 1-minute load average (/proc/loadavg), as text.
    private static func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").split(separator: " ").first.map(String.init) ?? "unknown"
    }

    /// CLOCK_MONOTONIC in seconds (the clock of the tool and of the server's stamps).
    private static func monotonic() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

/// When each body chunk reached the client (CLOCK_MONOTONIC seconds), from libcurl's thread.
private final class ChunkArrivals: Sendable {
    let times = Mutex<[Double]>([])
}
