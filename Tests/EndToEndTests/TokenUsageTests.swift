import Foundation
import Testing
import TestSupport
import JSON

/// The model's usage through the built binary against the fake server: the footer of each turn on
/// stderr (never on stdout), and the `model` object of `/stats json`.
@Suite(.timeLimit(.minutes(1))) struct TokenUsageTests {
    /// A call of `work` (0.3 s) reporting usage with its details, then a slow answer (100 ms between
    /// chunks) reporting usage without them.
    private func script() -> JSONValue {
        let call = with(toolCalls([("work", ["id": "a", "seconds": 0.3])]), [
            "usage": ["prompt_tokens": 1_000, "completion_tokens": 300, "total_tokens": 1_300,
                      "prompt_tokens_details": ["cached_tokens": 1_024], "completion_tokens_details": ["reasoning_tokens": 120]],
        ])
        let answer = with(text("All done."), ["usage": ["prompt_tokens": 240, "completion_tokens": 10, "total_tokens": 250], "chunk_delay_ms": 100])
        return [call, answer]
    }

    /// `response` with `extra`'s keys added.
    private func with(_ response: JSONValue, _ extra: [String: JSONValue]) -> JSONValue {
        .object((response.objectValue ?? [:]).merging(extra) { $1 })
    }

    private func agent(_ server: FakeOpenAIServer, _ extra: [String: String] = [:]) throws -> AgentProcess {
        try AgentProcess(environment: ["OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.baseURL].merging(extra) { $1 })
    }

    @Test func oneShotShowsTheTurnsTokensAndTimeOnStderrOnly() async throws {
        let server = try await FakeOpenAIServer.start(script: script())
        let process = try agent(server)
        let tools = try TestTools(in: process.workingFolder)
        let result = try await process.run(["--tools-dir", tools.folder.path, "-p", "go"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout == "All done.\n", "stdout carries only the answer")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        let footer = try #require(lines.last)
        #expect(try #/· 1 240 in \(1 024 cached\) · 310 out \(120 reasoning\) · \d+\.\d s \(model \d+\.\d s, tools \d+\.\d s\)/#.wholeMatch(in: footer) != nil,
                "\(result.stderr)")
        #expect(lines.filter { $0.hasPrefix("· ") && $0.contains(" in ") }.count == 1, "one footer, one line")
        #expect(!result.stderr.contains("\u{1b}"), "plain without a terminal")
    }

    @Test func statsJSONHasTheSessionsModelCallsAndTimes() async throws {
        let server = try await FakeOpenAIServer.start(script: script())
        let process = try agent(server)
        let tools = try TestTools(in: process.workingFolder)
        let result = try await process.run(["--tools-dir", tools.folder.path], stdin: "go\n/stats json\n/stats\n")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("{") })
        let model = try #require(try JSONValue.parse(String(line))["model"])
        #expect(Set(model.objectValue?.keys.map { $0 } ?? []) == StatsKeys.model)
        #expect(model["calls"] == 2)
        #expect(model["calls_without_usage"] == 0)
        #expect(model["input_tokens"] == 1_240)
        #expect(model["cached_input_tokens"] == 1_024)
        #expect(model["output_tokens"] == 310)
        #expect(model["reasoning_tokens"] == 120)
        // Lower bounds the fake server and the tool guarantee: the answer's seven chunks each 100 ms
        // apart, its first text after the first of them, the tool's 0.3 s sleep.
        #expect(try #require(model["model_seconds"]?.numberValue) >= 0.6)
        #expect(try #require(model["tool_seconds"]?.numberValue) >= 0.3, "\(model)")
        #expect(try #require(model["ttft_p95_ms"]?.numberValue) >= 100)
        #expect(try #require(model["ttft_p50_ms"]?.numberValue) <= (try #require(model["ttft_p95_ms"]?.numberValue)))
        #expect(result.stdout.contains("\ntokens   input 1 240 · cached input 1 024 · output 310 · reasoning 120\n"), "\(result.stdout)")
        #expect(result.stdout.contains("\nmodel    calls 2\n"))
    }

    @Test func aServerThatSendsNoUsageGetsTheTimeAlone() async throws {
        let server = try await FakeOpenAIServer.start(script: [with(text("plain"), ["usage": .null])])
        let result = try await agent(server).run(["-p", "hi"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout == "plain\n")
        #expect(try #/· \d+\.\d s\n/#.wholeMatch(in: result.stderr) != nil, "\(result.stderr)")
    }
}
