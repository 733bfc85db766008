import Foundation

/// Launch to first prompt and launch to the first request byte of the release `agent-repl`, beside
/// `python3 -c "import openai"`, via `Benchmarks/startup.py`.
struct StartupBenchmark: Benchmark {
    let title = "Start-up"

    func run(quick: Bool) async throws -> ReportSection {
        let runs = quick ? 3 : 10
        let (binary, note) = try Self.releaseBinary()
        // Run by the environment's interpreter, so that its `import openai` finds the pinned package.
        let data = try BenchPython.output([BenchPaths.file("Benchmarks/startup.py").path, binary.path, String(runs)])
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw BenchFailure("startup.py printed \(String(decoding: data, as: UTF8.self))")
        }
        func value(_ key: String) -> String { (json[key] as? Double).map { fmt($0, 1) } ?? "n/a" }
        let python = value("python_import_openai_ms")
        var table = MarkdownTable(headers: ["measure", "agent-repl (ms, median)", "baseline: `python3 -c \"import openai\"` (ms, median)"])
        table.add("launch → first prompt (`--demo`, on a pty)", value("launch_to_prompt_ms"), python)
        table.add("launch → first request byte (`-p`, one-shot, loopback socket)", value("launch_to_request_byte_ms"), python)
        return ReportSection(
            title: title,
            text: "`Benchmarks/startup.py \(binary.lastPathComponent) \(runs)`: the release binary (\(note)) started \(runs) times per measure with an empty HOME; launch → the first `> ` on a pseudo-terminal with `--demo`; launch → the first byte of the request on a loopback socket with `--base-url … -p hi`. Baseline: the time for `python3 -c \"import openai\"` (the Python prototype's client import alone, before any of its own code; \(BenchPython.pinned.map { "`\($0)`" }.joined(separator: ", ")) installed from PyPI by pip into `.build/bench-venv` when the benchmark runs), run \(runs) times in the same run; n/a if the import fails.",
            table: table)
    }

    /// `.build/release/agent-repl`, brought up to date with `swift build -c release --product agent-repl`
    /// (a no-op when it is); falls back to the binary beside this executable. Also used by the product
    /// section (`ProductBenchmark`).
    static func releaseBinary() throws -> (URL, String) {
        let build = Process()
        build.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        build.arguments = ["swift", "build", "-c", "release", "--product", "agent-repl"]
        build.currentDirectoryURL = BenchPaths.root
        build.standardOutput = FileHandle.nullDevice
        build.standardError = FileHandle.nullDevice
        var built = false
        if (try? build.run()) != nil {
            build.waitUntilExit()
            built = build.terminationStatus == 0
        }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("agent-repl")
        let candidates = [BenchPaths.file(".build/release/agent-repl"), beside]
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw BenchFailure("no release agent-repl binary; run `swift build -c release --product agent-repl`")
        }
        return (binary, built ? "`swift build -c release --product agent-repl` just before" : "as found; `swift build` could not run")
    }
}
