import Foundation
import JSON
import Scheduler
import TestSupport

/// Issue 10 (d) and (e): the built release `agent-repl` itself under workload (a)'s CPU mix. A fake
/// OpenAI-compatible server (`Tests/Fixtures/fake_openai.py`, its `burn` rule) answers each `burn N`
/// prompt with one `cpu_burn` call and logs when it sent the call and when the tool's result came back;
/// the binary gets one background turn (`burn N &`) per arrival on a pipe, as a user's script would
/// feed it, with its defaults and with everything at once; quiet, then with one core kept busy.
struct ProductBenchmark: Benchmark {
    // Not "mixed", "agent", "loop" or "overhead": `--only mixed` and the others keep selecting what they did.
    let title = "The product itself: the release binary with its defaults against itself with everything at once, under workload (a)'s CPU mix"

    /// Workload (a)'s load that the issue's targets are stated at.
    static let load = 0.9

    /// A row: how the binary is started, and the scheduler set-up those flags give (for the table).
    struct Setup {
        var row: MixedLoad.Row
        var flags: [String]
    }

    static let setups = [
        Setup(row: MixedLoad.Row(name: "agent-repl defaults (no scheduler flags)", configuration: SchedulerConfiguration()), flags: []),
        Setup(row: MixedLoad.Row(name: MixedLoad.allAtOnce, configuration: SchedulerConfiguration(strategy: .fifo, workers: 256)),
              flags: ["--workers", "256", "--strategy", "fifo"]),
    ]

    func run(quick: Bool) async throws -> ReportSection {
        let sizes = quick ? MixedLoadBenchmark.Sizes.quick : MixedLoadBenchmark.Sizes()
        let loadIndex = sizes.loads.firstIndex(of: Self.load) ?? 0
        let turns = MixedLoadBenchmark.arrivals(load: Self.load, sizes: sizes, seed: MixedLoadBenchmark.seed(loadIndex: loadIndex))
        let (binary, note) = try StartupBenchmark.releaseBinary()
        let tools = try MixedLoadBenchmark.toolsFolder()
        defer { try? FileManager.default.removeItem(at: tools.deletingLastPathComponent()) }
        var tables: [MarkdownTable] = []
        for (label, busy) in [("(d)", false), ("(e)", true)] {
            FileHandle.standardError.write(Data(" \(label) \(busy ? "one core kept busy by another process" : "quiet machine")\n".utf8))
            var rows: [(MixedLoad.Row, [MixedLoad.Call])] = []
            for setup in Self.setups {
                FileHandle.standardError.write(Data("  \(setup.row.name)\n".utf8))
                let calls = try await ProductRun(binary: binary, flags: setup.flags, tools: tools, turns: turns, sizes: sizes, busyCore: busy).calls()
                rows.append((setup.row, calls))
            }
            let table = MixedLoadBenchmark.mixTable(
                load: Self.load, sizes: sizes, turns: turns, rows: rows, label: label,
                how: "one background turn (`burn N &`) per call, fed to agent-repl on a pipe; "
                    + (busy ? "while another process (`sh -c 'while :; do :; done'`) keeps one core busy." : "quiet machine."))
            tables.append(table)
            FileHandle.standardError.write(Data("\n\(table.markdownWithCaption)\n\n".utf8))
        }
        return ReportSection(
            title: title,
            text: """
            The release binary (\(note)), as a user runs it: `agent-repl --tools-dir DIR --base-url URL [flags]` with \
            `OPENAI_API_KEY=sk-test`, an empty HOME and working folder, and its standard input a pipe. DIR is a temporary \
            tools.d holding the mixed section's `cpu_burn` (`Benchmarks/cpu_tool.py`, priority 0, preemptible); URL is \
            `Tests/Fixtures/fake_openai.py` on 127.0.0.1 with its `burn` rule: a request whose last message is the \
            prompt `burn N` gets one streamed `cpu_burn` call with `{"seconds": N}` (SSE, finish_reason tool_calls, \
            [DONE]), one whose last message is a tool result gets a short text. The workload is (a)'s at \
            \(Int(Self.load * 100))% load (same sizes, seed and arrivals): at each arrival the benchmark writes \
            `burn N &` to the binary's input, so every call is a background job of its own (a conversation of its own \
            on the session's one scheduler); after the last it closes the input, and agent-repl waits for its jobs \
            and exits. A call's time is the server's: from the last byte of the tool-call answer to the arrival of \
            the request carrying its result (client parsing, the scheduler's queue, the tool's run, the next \
            request). Rows: agent-repl's defaults (no scheduler flags: \(MixedLoadBenchmark.defaults)), and \
            everything at once (`--workers 256 --strategy fifo`: the kernel schedules). (d) on an otherwise quiet \
            machine; (e) the same while a busy loop started by the benchmark holds one core (killed after each row). \
            "vs all at once" = the row's figure / all at once's (below 1 is better). Issue 10's targets: (d) short \
            mean ≤ 0.5x all at once, long mean ≤ 1.5x, every call done; (e) short mean ≤ 0.7x, long mean ≤ 1.5x.
            """,
            tables: tables)
    }
}

/// One run of the binary over `turns`: the fake server, the busy core if asked, the fed input, the log.
struct ProductRun {
    var binary: URL
    var flags: [String]
    var tools: URL
    var turns: [MixedLoad.Turn]
    var sizes: MixedLoadBenchmark.Sizes
    var busyCore: Bool

    /// Every call of `turns` as the server saw it; calls that never got a result are not completed.
    func calls() async throws -> [MixedLoad.Call] {
        let server = try await FakeOpenAIServer.start(script: [["rule": "burn", "tool": "cpu_burn", "text": "Done."]])
        defer { server.stop() }
        let folder = try BenchPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let busy = busyCore ? try Self.busyLoop() : nil
        defer {
            if let busy {
                kill(busy.processIdentifier, SIGKILL)
                busy.waitUntilExit()
            }
        }
        let baseURL = server.baseURL
        let elapsed = try await withCheckedThrowingContinuation { continuation in
            // Sleeping until each arrival and waiting for the exit block: a thread of our own, not the pool's.
            Thread { continuation.resume(with: Result { try feed(baseURL: baseURL, folder: folder) }) }.start()
        }
        let calls = collect(server.log(), elapsed: elapsed)
        FileHandle.standardError.write(Data("   \(calls.count(where: \.completed))/\(turns.count) calls done; agent-repl exited after \(fmt(elapsed, 1)) s\n".utf8))
        return calls
    }

    /// Starts the binary, writes `burn N &` at each arrival, closes its input and waits for it to exit
    /// (killed after a generous cap). Returns the seconds from its start to its exit.
    private func feed(baseURL: String, folder: URL) throws -> Double {
        let home = folder.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--tools-dir", tools.path, "--base-url", baseURL] + flags
        process.environment = FreshUser.environment(home: home).merging(["NO_COLOR": "1", "OPENAI_API_KEY": "sk-test"]) { $1 }
        process.currentDirectoryURL = folder
        let input = Pipe()
        process.standardInput = input
        let stdout = folder.appendingPathComponent("stdout.txt"), stderr = folder.appendingPathComponent("stderr.txt")
        guard FileManager.default.createFile(atPath: stdout.path, contents: nil),
              FileManager.default.createFile(atPath: stderr.path, contents: nil) else {
            throw BenchFailure("cannot create \(stdout.path)")
        }
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        // A write to a pipe whose reader died must fail, not end the benchmark.
        signal(SIGPIPE, SIG_IGN)
        try process.run()
        let start = ContinuousClock.now
        // Enough for every call to run on one core after the window, plus start-up and slack.
        let cap = sizes.window + turns.flatMap(\.seconds).reduce(0, +) * 2 + 60
        let exited = DispatchSemaphore(value: 0)
        let pid = process.processIdentifier
        Thread {
            if exited.wait(timeout: .now() + cap) == .timedOut { kill(pid, SIGKILL) }
        }.start()
        var writeError: (any Error)?
        for turn in turns {
            Thread.sleep(forTimeInterval: max(0, turn.at - (ContinuousClock.now - start).seconds))
            do {
                try input.fileHandleForWriting.write(contentsOf: Data("burn \(turn.seconds[0]) &\n".utf8))
            } catch {
                writeError = error
                break
            }
        }
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        exited.signal()
        let elapsed = (ContinuousClock.now - start).seconds
        if writeError != nil || process.terminationReason != .exit || process.terminationStatus != 0 {
            let tail = String(((try? String(contentsOf: stderr, encoding: .utf8)) ?? "").suffix(2000))
            FileHandle.standardError.write(Data("""
                  agent-repl \(flags.joined(separator: " ")) ended with \(process.terminationReason == .exit ? "status" : "signal") \
                \(process.terminationStatus) after \(fmt(elapsed, 1)) s\(writeError.map { " (writing its input: \($0))" } ?? ""); \
                stderr ends: \(tail)

                """.utf8))
        }
        return elapsed
    }

    /// The calls from the server's log: each `tool_call_sent` with its `tool_result` (by call id). A call
    /// the server never sent (its model request failed) or whose result never came is not completed and
    /// counts the whole run.
    private func collect(_ log: [JSONValue], elapsed: Double) -> [MixedLoad.Call] {
        var results: [String: (time: Double, content: String)] = [:]
        for entry in log where entry["event"] == .string("tool_result") {
            if let id = entry["id"]?.stringValue, let time = entry["time"]?.numberValue {
                results[id] = (time, entry["content"]?.stringValue ?? "")
            }
        }
        func kind(_ seconds: Double) -> MixedLoad.Kind { seconds == sizes.longCPU ? .long : .short }
        var calls: [MixedLoad.Call] = []
        for entry in log where entry["event"] == .string("tool_call_sent") {
            guard let id = entry["id"]?.stringValue, let sent = entry["time"]?.numberValue,
                  let seconds = entry["seconds"]?.numberValue else { continue }
            let result = results[id]
            let cpu = result.flatMap { MixedLoad.cpuTime(reportedIn: $0.content) }
            calls.append(MixedLoad.Call(turn: calls.count, call: 0, kind: kind(seconds), turnaround: result.map { $0.time - sent } ?? elapsed,
                                        completed: cpu != nil, cpu: cpu))
        }
        for k in [MixedLoad.Kind.short, .long] {
            let missing = turns.count(where: { $0.kind == k }) - calls.count(where: { $0.kind == k })
            for _ in 0..<max(0, missing) {
                calls.append(MixedLoad.Call(turn: calls.count, call: 0, kind: k, turnaround: elapsed, completed: false, cpu: nil))
            }
        }
        return calls
    }

    /// Another process that keeps one core busy until killed.
    private static func busyLoop() throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "while :; do :; done"]
        try process.run()
        return process
    }
}
