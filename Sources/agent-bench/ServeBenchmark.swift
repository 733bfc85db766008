import Foundation
import HTTP
import JSON
import TestSupport

/// Issue 14: `agent-repl serve` under load from wrk on loopback, beside the original Python service's
/// design (FastAPI + uvicorn + an asyncio priority queue, `Benchmarks/original_service.py`) under the
/// same load in the same run: `GET /stats` requests per second and p99, and `POST /tasks` of a no-op
/// tool end to end (submitted, run, result readable) per second.
struct ServeBenchmark: Benchmark {
    let title = "HTTP API (`agent-repl serve`): GET /stats and POST /tasks end to end"

    struct Server {
        var name: String
        var process: Process
        var port: Int
    }

    struct Load {
        var requestsPerSecond: Double
        var p99Ms: Double
        var requests: Int
        var errors: Int
    }

    func run(quick: Bool) async throws -> ReportSection {
        let seconds = quick ? 3 : 10
        let connections = 32
        let wrk = try Self.wrk()
        let folder = try BenchPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let tools = folder.appendingPathComponent("tools")
        try FileManager.default.createDirectory(at: tools, withIntermediateDirectories: true)
        try #"{"name": "now", "builtin": "now", "description": "The current time"}"#.write(to: tools.appendingPathComponent("now.json"), atomically: true, encoding: .utf8)
        let post = folder.appendingPathComponent("post.lua")
        try """
            wrk.method = "POST"
            wrk.body = '\(Self.taskBody)'
            wrk.headers["Content-Type"] = "application/json"
            """.write(to: post, atomically: true, encoding: .utf8)

        let (binary, note) = try StartupBenchmark.releaseBinary()
        let python = try BenchPython.interpreter()
        let ours: () throws -> Server = {
            try Self.start("agent-repl serve", binary, ["serve", "--demo", "--port", "PORT", "--tools-dir", tools.path, "--max-queued", "1000000"], in: folder)
        }
        let theirs: () throws -> Server = {
            try Self.start("original design (Python)", python, [BenchPaths.file("Benchmarks/original_service.py").path, "--port", "PORT"], in: folder)
        }
        var ceilingTable = MarkdownTable(headers: ["server", "GET /healthz req/s (the trivial route)", "p99 (ms)", "requests", "errors"])
        var statsTable = MarkdownTable(headers: ["server", "GET /stats req/s", "p99 (ms)", "requests", "errors"])
        var tasksTable = MarkdownTable(headers: ["server", "POST /tasks accepted/s", "p99 (ms)", "tasks", "ended, end to end /s", "newest task read back"])
        var rates: [String: (trivial: Double, trivialP99: Double, stats: Double, statsP99: Double, tasks: Double, tasksP99: Double)] = [:]
        for make in [ours, theirs] {
            // A fresh server per workload: the task table of one does not weigh on the other.
            let server = try make()
            try await Self.waitForStats(server)
            // The ceiling: what the server's HTTP stack answers at most, for a route that does nothing.
            let trivial = try Self.load(wrk, ["-t2", "-c\(connections)", "-d\(seconds)s", "--latency", "http://127.0.0.1:\(server.port)/healthz"])
            ceilingTable.add(server.name, fmt(trivial.requestsPerSecond, 0), fmt(trivial.p99Ms, 2), String(trivial.requests), String(trivial.errors))
            let stats = try Self.load(wrk, ["-t2", "-c\(connections)", "-d\(seconds)s", "--latency", "http://127.0.0.1:\(server.port)/stats"])
            Self.stop(server)
            statsTable.add(server.name, fmt(stats.requestsPerSecond, 0), fmt(stats.p99Ms, 2), String(stats.requests), String(stats.errors))

            let fresh = try make()
            try await Self.waitForStats(fresh)
            let start = ContinuousClock.now
            let tasks = try Self.load(wrk, ["-t2", "-c\(connections)", "-d\(seconds)s", "--latency", "-s", post.path, "http://127.0.0.1:\(fresh.port)/tasks"])
            let (ended, readBack) = try await Self.waitUntilAllEnded(fresh)
            let elapsed = (ContinuousClock.now - start).milliseconds / 1000
            Self.stop(fresh)
            let endToEnd = Double(ended) / elapsed
            tasksTable.add(
                server.name, fmt(tasks.requestsPerSecond, 0), fmt(tasks.p99Ms, 2), String(tasks.requests), fmt(endToEnd, 0), readBack)
            rates[server.name] = (trivial.requestsPerSecond, trivial.p99Ms, stats.requestsPerSecond, stats.p99Ms, endToEnd, tasks.p99Ms)
        }
        var ratios = MarkdownTable(headers: ["ratio, agent-repl serve / original design", "throughput", "p99"])
        if let a = rates["agent-repl serve"], let b = rates["original design (Python)"] {
            ratios.add("GET /healthz (the trivial route)", fmt(a.trivial / b.trivial, 1) + "x", fmt(a.trivialP99 / b.trivialP99, 2) + "x")
            ratios.add("GET /stats", fmt(a.stats / b.stats, 1) + "x", fmt(a.statsP99 / b.statsP99, 2) + "x")
            ratios.add("POST /tasks, end to end", fmt(a.tasks / b.tasks, 1) + "x", fmt(a.tasksP99 / b.tasksP99, 2) + "x")
        }
        return ReportSection(
            title: title,
            text: """
                The release binary (\(note)) as `agent-repl serve --demo --tools-dir DIR` with one tool, the builtin `now` \
                (a no-op: it formats the time), its scheduler's defaults (`mlfq`, 8 workers). Baseline: \
                `Benchmarks/original_service.py`, the original service's design reproduced (FastAPI on uvicorn, one process; \
                an `asyncio.PriorityQueue` served by 8 worker coroutines; tasks in a dict; its `/stats` computed over every task, as the \
                original did; \(BenchPython.pinned.filter { $0.hasPrefix("fastapi") || $0.hasPrefix("uvicorn") }.map { "`\($0)`" }.joined(separator: ", ")) \
                installed into `.build/bench-venv` by the bench). Load: `wrk -t2 -c\(connections) -d\(seconds)s --latency` on \
                127.0.0.1 (Debian's wrk 4.1; load generator and server share the 2 cores), each workload against a fresh server. \
                POST /tasks sends `\(Self.taskBody)` for \(seconds) s; \"ended, end to end\" counts every task the server accepted, \
                from the first request until `/stats` says all have ended, then reads the newest task back with `GET /tasks?limit=1` \
                (completed, with its result). `GET /healthz` (a fixed answer on both sides) measures each server's ceiling \
                under the same load: what its HTTP stack does for a route that does nothing. Errors: wrk's non-2xx answers and \
                socket errors.
                """,
            tables: [ceilingTable, statsTable, tasksTable, ratios])
    }

    static let taskBody = #"{"name": "noop", "task_type": "tool", "payload": {"tool": "now"}}"#

    static func wrk() throws -> URL {
        for path in ["/usr/bin/wrk", "/usr/local/bin/wrk"] where FileManager.default.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        throw BenchFailure("wrk is missing: `scripts/install-deps wrk` (Debian's package)")
    }

    static func start(_ name: String, _ executable: URL, _ arguments: [String], in folder: URL) throws -> Server {
        let port = try LoopbackPort.unused()
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments.map { $0 == "PORT" ? String(port) : $0 }
        process.environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": folder.path, "LANG": "C.UTF-8",
        ]
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return Server(name: name, process: process, port: port)
    }

    /// SIGKILL (a child started from here may inherit a mask that blocks SIGTERM), then waits for the
    /// exit in the kernel without reaping (Foundation's monitor does; see FixtureServer.stop).
    static func stop(_ server: Server) {
        let pid = server.process.processIdentifier
        kill(pid, SIGKILL)
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
    }

    static func get(_ server: Server, _ path: String) async throws -> JSONValue {
        let response = try await CurlTransport().fetch(HTTPRequest(url: "http://127.0.0.1:\(server.port)\(path)"), limit: 1 << 20)
        guard response.head.status == 200 else { throw BenchFailure("\(server.name) \(path): HTTP \(response.head.status)") }
        return try JSONValue.parse(response.body)
    }

    static func waitForStats(_ server: Server) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if (try? await get(server, "/stats")) != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchFailure("\(server.name) did not answer GET /stats within a minute")
    }

    /// Polls `/stats` until every accepted task has ended; the count, and how the newest task reads back.
    static func waitUntilAllEnded(_ server: Server) async throws -> (Int, String) {
        let deadline = ContinuousClock.now + .seconds(300)
        while ContinuousClock.now < deadline {
            let stats = try await get(server, "/stats")
            let total = stats["total"]?.wholeNumber(in: 0...Int(Int32.max)) ?? -1
            let ended = ["completed", "failed", "cancelled", "timed_out"].compactMap { stats[$0]?.wholeNumber(in: 0...Int(Int32.max)) }.reduce(0, +)
            if total >= 0, ended >= total {
                let newest = try await get(server, "/tasks?limit=1").arrayValue?.first
                let status = newest?["status"]?.stringValue ?? "none"
                let result = newest?["result"]?.stringValue.map { _ in "with its result" } ?? "no result"
                return (ended, "\(status), \(result)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw BenchFailure("\(server.name): tasks still queued after 5 minutes")
    }

    /// Runs wrk and reads its requests per second, 99th percentile and errors.
    static func load(_ wrk: URL, _ arguments: [String]) throws -> Load {
        let text = String(decoding: try Proc.output(of: wrk, arguments).data, as: UTF8.self)
        func number(after label: String) -> Double? {
            guard let line = text.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label) }) else { return nil }
            return line.split(separator: " ").dropFirst().compactMap { Double($0.trimmingCharacters(in: .punctuationCharacters)) }.first
        }
        func milliseconds(_ token: Substring) -> Double? {
            for (unit, scale) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] where token.hasSuffix(unit) {
                return Double(token.dropLast(unit.count)).map { $0 * scale }
            }
            return nil
        }
        let p99 = text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("99%") }
            .flatMap { $0.split(separator: " ").last }.flatMap(milliseconds)
        let requests = text.split(separator: "\n").first { $0.contains("requests in") }
            .flatMap { $0.split(separator: " ").first }.flatMap { Int($0) }
        let socketErrors = text.split(separator: "\n").first { $0.contains("Socket errors") }
            .map { $0.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) }.reduce(0, +) } ?? 0
        guard let rate = number(after: "Requests/sec:"), let p99, let requests else {
            throw BenchFailure("wrk \(arguments.joined(separator: " ")) printed:\n\(text)")
        }
        let non2xx = Int(number(after: "Non-2xx or 3xx responses:") ?? 0)
        return Load(requestsPerSecond: rate, p99Ms: p99, requests: requests, errors: non2xx + socketErrors)
    }
}
