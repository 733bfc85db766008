import Foundation
import Testing
import JSON
@testable import Tools

/// The example tools shipped in the repository's `tools.d/` load cleanly and work offline.
@Suite struct ExampleToolsTests {
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

    @Test func slowFetchesRunInParallel() async throws {
        let tool = try #require(catalog.tool(named: "slow_fetch"))
        let runner = self.runner
        let executions = (0..<4).map { runner.start(tool, arguments: #"{"url": "https://example.org/\#($0)"}"#) }
        var outputs: [String] = []
        for e in executions { outputs.append(await e.result().output) }
        #expect(Set(outputs).count == 4)
        #expect(outputs.allSatisfy { $0.contains("Offline stand-in content for https://example.org/") })
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
