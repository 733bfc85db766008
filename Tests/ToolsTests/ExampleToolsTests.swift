import Foundation
import Testing
import JSON
@testable import Tools

/// The example tools shipped in the repository's `tools.d/` load cleanly and work offline.
@Suite(.timeLimit(.minutes(1))) struct ExampleToolsTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let catalog = ToolLoader.load(folders: [ToolFolder(ExampleToolsTests.repository.appendingPathComponent("tools.d").path)])
    let runner = ToolRunner(
        environment: ProcessInfo.processInfo.environment.merging(["SLOW_FETCH_SECONDS": "0.2"]) { $1 },
        fileRoot: ExampleToolsTests.repository)

    func run(_ name: String, _ arguments: String) async throws -> ToolResult {
        await runner.run(try #require(catalog.tool(named: name)), arguments: arguments)
    }

    @Test func loadWithoutProblems() {
        #expect(catalog.diagnostics.isEmpty, "\(catalog.diagnostics)")
        #expect(Set(catalog.tools.map(\.name)) == ["calculator", "read_file", "list_dir", "write_file", "now", "slow_fetch", "system_info", "word_count"])
        #expect(checkTools(folders: [ToolFolder(ExampleToolsTests.repository.appendingPathComponent("tools.d").path)]).exitCode == 0)
    }

    @Test func calculator() async throws {
        #expect(try await run("calculator", #"{"expression": "(2 + 3) * sqrt(16)"}"#).output == "20\n")
        let unsafe = try await run("calculator", #"{"expression": "__import__('os').system('true')"}"#)
        #expect(unsafe.outcome == .failed)
    }

    @Test func wordCountStaysInTheWorkingFolder() async throws {
        // The tool's working folder is the REPL's; run it where Package.swift is.
        var tool = try #require(catalog.tool(named: "word_count"))
        tool.cwd = ExampleToolsTests.repository.path
        let ok = await runner.run(tool, arguments: #"{"files": ["Package.swift"]}"#)
        #expect(ok.outcome == .success)
        #expect(ok.output.hasSuffix(" Package.swift\n"))
        let escape = await runner.run(tool, arguments: #"{"files": ["../../etc/passwd"]}"#)
        #expect(escape.outcome == .failed)
        #expect(escape.stderrTail?.contains("outside the working folder, refused") == true)
    }

    /// Four fetches of 1 s at once overlap in time: a wrapper around the real tool notes on stderr when
    /// each run started and ended.
    @Test func slowFetchesRunInParallel() async throws {
        var tool = try #require(catalog.tool(named: "slow_fetch"))
        guard case .exec(let argv) = tool.runner else { Issue.record("slow_fetch is not an exec tool"); return }
        tool.runner = .exec(["/bin/sh", "-c", #"date +%s.%N >&2; "$@"; status=$?; date +%s.%N >&2; exit $status"#, "sh"] + argv)
        let runner = ToolRunner(
            environment: ProcessInfo.processInfo.environment.merging(["SLOW_FETCH_SECONDS": "1"]) { $1 },
            fileRoot: ExampleToolsTests.repository)
        let executions = (0..<4).map { runner.start(tool, arguments: #"{"url": "https://example.org/\#($0)"}"#) }
        var results: [ToolResult] = []
        for e in executions { results.append(await e.result()) }
        let outputs = results.map(\.output)
        #expect(Set(outputs).count == 4)
        #expect(outputs.allSatisfy { $0.contains("Offline stand-in content for https://example.org/") })
        let intervals = try results.map { result in
            let times = (result.stderrTail ?? "").split(separator: "\n").compactMap { Double($0) }
            return try #require(times.count == 2 ? (start: times[0], end: times[1]) : nil, "no times in \(result)")
        }
        // Every fetch started before any ended: the four ran at the same time.
        let lastStart = try #require(intervals.map(\.start).max()), firstEnd = try #require(intervals.map(\.end).min())
        #expect(lastStart < firstEnd, "the last fetch started \(lastStart - firstEnd) s after the first one ended")
        let bad = try await run("slow_fetch", #"{"url": "ftp://x"}"#)
        #expect(bad.error == "invalid arguments: property 'url' must match the pattern ^https?://")
    }

    @Test func systemInfoNowAndFiles() async throws {
        #expect(try await run("system_info", "").output.hasPrefix("kernel: "))
        #expect(try await run("now", "{}").ok)
        #expect(try await run("list_dir", #"{"path": "tools.d"}"#).output.contains("calculator.json"))
        #expect(try await run("read_file", #"{"path": "tools.d/now.json"}"#).output.contains("\"builtin\": \"now\""))
        #expect(try #require(catalog.tool(named: "write_file")).confirm)
    }
}
