import Foundation
import Testing
import Agent
import JSON
import LLM
import Scheduler
@testable import REPL

/// The model's usage as a session shows it: the footer of each turn, the model section of `/stats`
/// and the `model` object of `/stats json`, foreground turns and background jobs together.
@Suite(.timeLimit(.minutes(1))) struct ModelUsageTests {
    /// Each prompt calls `echo`, then answers once the result is in. "first" reports its usage in full
    /// but no cached part; the job "second" sends no usage for its call and a cached part of 0 with
    /// its answer. Times to first token: 100, 400 (first), 300, 200 ms (second).
    private func session(clock: ManualSchedulerClock, console: ScriptedConsole = ScriptedConsole()) throws -> REPLHarness {
        let model = ScriptedModel { request in
            let second = request.prompt == "second"
            if request.toolResults.isEmpty {
                let calls = ChatCompletion(content: nil, toolCalls: [call("echo", #"{"n":1}"#)], finishReason: "tool_calls",
                                           usage: second ? nil : Usage(promptTokens: 100, completionTokens: 20, totalTokens: 120))
                return .timed(calls, clock: clock, firstToken: .milliseconds(second ? 300 : 100), rest: .milliseconds(200))
            }
            let usage = second
                ? Usage(promptTokens: 1_200, completionTokens: 30, totalTokens: 1_230, cachedPromptTokens: 0)
                : Usage(promptTokens: 150, completionTokens: 5, totalTokens: 155)
            return .timed(ChatCompletion(content: "answer to \(request.prompt)", finishReason: "stop", usage: usage),
                          clock: clock, firstToken: .milliseconds(second ? 200 : 400), rest: .milliseconds(100))
        }
        // The tools run in real time while the manual clock stands still; started while the scripted
        // answer still moves the clock (streaming dispatch), their measured time would depend on a race.
        return REPLHarness(model: model, tools: try TestToolFolder.standard().catalog, console: console) {
            $0.clock = clock
            $0.dispatchesEarly = false
        }
    }

    @Test func statsSumTheTurnsAndJobsAndKeepUnknownApartFromZero() async throws {
        let clock = ManualSchedulerClock()
        let repl = try session(clock: clock)
        let empty = try JSONValue.parse(try await repl.enter("/stats json").out)
        #expect(empty["model"] == ["calls": 0, "calls_without_usage": 0, "input_tokens": .null, "cached_input_tokens": .null,
                                   "output_tokens": .null, "reasoning_tokens": .null, "model_seconds": 0, "tool_seconds": 0,
                                   "ttft_p50_ms": .null, "ttft_p95_ms": .null])

        try await repl.enter("first")
        let afterFirst = try #require(try JSONValue.parse(try await repl.enter("/stats json").out)["model"])
        #expect(afterFirst["calls"] == 2)
        #expect(afterFirst["input_tokens"] == 250)
        #expect(afterFirst["cached_input_tokens"] == .null, "no server said what was cached: unknown, not 0")

        try await repl.enter("second &")
        try await repl.waitForJobs()
        let announced = try await repl.enter("")
        #expect(announced.out == "[1] done: second\nanswer to second\n")
        #expect(announced.err == "[1] · 1 200 in (0 cached) · 30 out · 1 of 2 calls sent no usage · 0.8 s\n", "the job's footer, with its number")
        let stats = try JSONValue.parse(try await repl.enter("/stats json").out)
        let model = try #require(stats["model"])
        #expect(model["calls"] == 4)
        #expect(model["calls_without_usage"] == 1)
        #expect(model["input_tokens"] == 1_450)
        #expect(model["cached_input_tokens"] == 0, "the server said 0 were cached")
        #expect(model["output_tokens"] == 55)
        #expect(model["reasoning_tokens"] == .null)
        // 300 + 500 + 500 + 300 ms; the tools ran while this clock stood still.
        #expect(model["model_seconds"] == 1.6)
        #expect(model["tool_seconds"] == 0)
        // Nearest rank over 100, 200, 300, 400 ms.
        #expect(model["ttft_p50_ms"] == 200)
        #expect(model["ttft_p95_ms"] == 400)
        #expect(stats["submitted"] == 2, "the scheduler's keys are still there")

        let table = try await repl.enter("/stats").out
        let lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let model0 = try #require(lines.firstIndex { $0.hasPrefix("model ") }, "\(table)")
        #expect(lines[model0 - 1].isEmpty, "a section of its own")
        #expect(lines[(model0 - 1)...] == [
            "",
            "model    calls 4 (1 without usage: their tokens are unknown)",
            "tokens   input 1 450 · cached input 0 · output 55 · reasoning unknown",
            "time     in the model 1600ms · in tools 0.0ms · first token p50 200ms p95 400ms",
            "",
        ])
        #expect(lines.firstIndex { $0.hasPrefix("tasks ") }! < model0, "under the scheduler's")
    }

    @Test func eachTurnEndsWithItsFooterOnStderr() async throws {
        let clock = ManualSchedulerClock()
        let repl = try session(clock: clock, console: ScriptedConsole(interactive: false))
        let first = try await repl.enter("first")
        #expect(first.out == "answer to first\n", "nothing of the footer on stdout")
        #expect(first.err.hasSuffix("  ✓ echo: {\"n\":1}\n· 250 in · 25 out · 0.8 s\n"), "\(first.err)")
        #expect(!first.all.contains("\u{1b}"))
        let second = try await repl.enter("second")
        #expect(second.err.hasSuffix("\n· 1 200 in (0 cached) · 30 out · 1 of 2 calls sent no usage · 0.8 s\n"), "\(second.err)")
    }

    @Test func theFooterIsDimWithColourAndComesAfterAnError() async throws {
        let clock = ManualSchedulerClock()
        let repl = try session(clock: clock, console: ScriptedConsole(statusLine: true, color: true))
        let reply = try await repl.enter("first")
        #expect(reply.err.hasSuffix("\u{1b}[2m· 250 in · 25 out · 0.8 s\u{1b}[0m\n"), "\(reply.err.debugDescription)")

        let failing = REPLHarness(model: ScriptedModel { _ in .failure(ChatError(.invalidAPIKey, "The API key was rejected (401).")) })
        #expect(try await failing.enter("hi").err == "Error: The API key was rejected (401).\n", "no answer, no footer")
    }

    @Test func footerText() {
        func turn(_ calls: [ModelCall], tools: Duration = .zero, duration: Duration) -> TurnMeter.Summary {
            var usage = ModelUsage()
            for call in calls { usage.record(call) }
            usage.recordToolTime(tools)
            return TurnMeter.Summary(usage: usage, duration: duration)
        }
        let full = ModelCall(usage: Usage(promptTokens: 1_240, completionTokens: 310, totalTokens: 1_550, cachedPromptTokens: 1_024, reasoningTokens: 120),
                             duration: .seconds(3), timeToFirstToken: .milliseconds(300))
        let none = ModelCall(usage: nil, duration: .seconds(1), timeToFirstToken: nil)
        #expect(ModelUsageView.footer(turn([full], duration: .milliseconds(4_200))) == "· 1 240 in (1 024 cached) · 310 out (120 reasoning) · 4.2 s")
        #expect(ModelUsageView.footer(turn([full, none], tools: .milliseconds(1_100), duration: .milliseconds(5_300)))
            == "· 1 240 in (1 024 cached) · 310 out (120 reasoning) · 1 of 2 calls sent no usage · 5.3 s (model 4.0 s, tools 1.1 s)")
        #expect(ModelUsageView.footer(turn([none], duration: .seconds(125))) == "· 2 min 05 s", "no tokens the server did not send")
        #expect(ModelUsageView.footer(turn([], duration: .seconds(1))) == nil, "no footer when the model never answered")
        #expect(ModelUsageView.grouped(0) == "0")
        #expect(ModelUsageView.grouped(999) == "999")
        #expect(ModelUsageView.grouped(1_000) == "1 000")
        #expect(ModelUsageView.grouped(9_007_199_254_740_992) == "9 007 199 254 740 992")
    }
}
