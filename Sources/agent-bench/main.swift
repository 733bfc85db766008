import Foundation

// agent-bench: measures the scheduler, the agent loop and start-up, and writes docs/BENCHMARKS.md.
// Usage: swift run -c release agent-bench [--quick] [--output PATH] [--only TITLE-SUBSTRING]
// To add a section, write a type conforming to `Benchmark` and add it to `benchmarks`.

let arguments = CommandLine.arguments.dropFirst()
if arguments.contains("--help") || arguments.contains("-h") {
    print("""
    Usage: agent-bench [--quick] [--only WORD] [--output PATH]   (or: scripts/bench with the same flags)
      --quick         smaller sizes and shorter runs (the full run takes about 20 minutes on 2 cores,
                      about 12 of them the mixed section by its arrival windows and CPU work and about 4
                      the product section (the release agent-repl under the same mix), more under
                      outside load; quick: a few minutes, the mixed section under one, the product
                      section about half of one)
      --only WORD     only the sections whose title contains WORD (case-insensitive), e.g. overhead, mixed,
                      product, dispatch, http
      --output PATH   where to write the report (default docs/BENCHMARKS.md)
    The Python baselines run in .build/bench-venv, made on the first run (python3 -m venv, then pip
    install -r Benchmarks/requirements.txt).
    """)
    exit(0)
}
let quick = arguments.contains("--quick")
let output = arguments.firstIndex(of: "--output").flatMap { arguments.index(after: $0) < arguments.endIndex ? arguments[arguments.index(after: $0)] : nil }
    ?? "docs/BENCHMARKS.md"

/// `--only WORD` runs just the sections whose title contains WORD (case-insensitive), for profiling.
let only = arguments.firstIndex(of: "--only").flatMap { arguments.index(after: $0) < arguments.endIndex ? arguments[arguments.index(after: $0)] : nil }

let benchmarks: [any Benchmark] = [
    OverheadBenchmark(),
    PreemptionLatencyBenchmark(),
    MixedLoadBenchmark(),
    ProductBenchmark(),
    FanOutBenchmark(),
    DispatchBenchmark(),
    LoopOverheadBenchmark(),
    StartupBenchmark(),
    DatabaseBenchmark(),
    MCPBenchmark(),
    ServeBenchmark(),
].filter { only == nil || $0.title.localizedCaseInsensitiveContains(only!) }

var sections: [ReportSection] = []
for benchmark in benchmarks {
    FileHandle.standardError.write(Data("running: \(benchmark.title)\n".utf8))
    let section = try await benchmark.run(quick: quick)
    print("## \(section.title)\n\n\(section.tablesMarkdown)\n")
    sections.append(section)
}

let date = ISO8601DateFormatter().string(from: Date())
var report = """
# Benchmarks

Written by `swift run -c release agent-bench\(quick ? " --quick" : "")` on \(date).

- Machine: \(Machine.cpu)
- System: \(Machine.uname)
- Mode: \(quick ? "quick (smaller sizes, shorter runs)" : "full")

Each figure stands beside its baseline measured in the same run. Other processes shared the machine.

"""
for section in sections {
    report += "\n## \(section.title)\n\n\(section.text)\n\n\(section.tablesMarkdown)\n"
}
try FileManager.default.createDirectory(atPath: (output as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
try report.write(toFile: output, atomically: true, encoding: .utf8)
FileHandle.standardError.write(Data("wrote \(output)\n".utf8))
