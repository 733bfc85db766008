import Foundation
import Testing
import JSON
import LLM
import TestSupport
import Tools
@testable import REPL

/// `prompt &`, `/jobs` and `/cancel` on an in-process session.
@Suite(.timeLimit(.minutes(1))) struct BackgroundJobTests {
    @Test func aJobStartsAtOnceAndItsAnswerComesBeforeTheNextPrompt() async throws {
        let model = ScriptedModel { .text("answer to \($0.prompt)") }
        let repl = REPLHarness(model: model)
        let started = try await repl.enter("say hi &")
        #expect(started.out == "[1] started in the background: say hi\n")
        try await repl.waitForJobs()
        // Nothing is shown while the session waits at the prompt; the next prompt brings it.
        #expect(!repl.console.out.contains("done"))
        let next = try await repl.enter("")
        #expect(next.out == "[1] done: say hi\nanswer to say hi\n")
        #expect(try await repl.enter("").out.isEmpty, "announced once")
        #expect(try await repl.enter("/jobs").out == "[1] done      say hi\n")
        // The job had a conversation of its own.
        try await repl.enter("in front")
        #expect(model.requests.map(\.messages) == [[.user("say hi")], [.user("in front")]])
    }

    @Test func aJobsNoticeIsShownWithItsEnd() async throws {
        let model = ScriptedModel { _ in .noticeThenText("Answers now come whole.", "whole answer") }
        let repl = REPLHarness(model: model)
        try await repl.enter("ask &")
        try await repl.waitForJobs()
        let next = try await repl.enter("")
        #expect(try #/· Answers now come whole\.\n\[1\] · \d+\.\d s\n/#.wholeMatch(in: next.err) != nil, "the notice, then the job's footer: \(next.err)")
        #expect(next.out == "[1] done: ask\nwhole answer\n")
    }

    @Test func jobsListsARunningJobAndCancelStopsItAndItsTool() async throws {
        let folder = try TestToolFolder().addSleeper()
        let model = ScriptedModel.callingTools { $0.contains("sleep") ? [call("sleeper")] : [] }
        let repl = REPLHarness(model: model, tools: folder.catalog)
        #expect(try await repl.enter("please sleep &").out == "[1] started in the background: please sleep\n")
        let pid = try await folder.pid()
        defer { Proc.killLeftovers([pid]) }
        #expect(!Proc.isDead(pid), "the tool runs")
        #expect(try await repl.enter("/jobs").out == "[1] running   please sleep\n")

        #expect(try await repl.enter("/cancel 1").out == "[1] cancelling.\n")
        #expect(await Proc.eventually { Proc.isDead(pid) }, "the tool's process is gone")
        try await repl.waitForJobs()
        #expect(repl.session.jobs.all.first?.status == .cancelled)
        #expect(try await repl.enter("").out == "[1] cancelled: please sleep\n")
        #expect(try await repl.enter("/jobs").out == "[1] cancelled please sleep\n")
        let stats = try JSONValue.parse(try await repl.enter("/stats json").out)
        #expect(stats["cancelled"] == 1)
        #expect(stats["running"] == 0)
        #expect(model.requests.count == 1, "the cancelled job never asked the model again")
    }

    @Test func cancelWithoutANumberNeedsExactlyOneRunningJob() async throws {
        let repl = REPLHarness(model: ScriptedModel { _ in .hang("") })
        try await repl.enter("first &")
        try await repl.enter("second &")
        #expect(try await repl.enter("/cancel").err == "Several jobs run; say which: /cancel N (see /jobs).\n")
        #expect(repl.session.jobs.all.map(\.status) == [.running, .running])
        #expect(try await repl.enter("/cancel %2").out == "[2] cancelling.\n")
        try #require(await Proc.eventually { repl.session.jobs.all.last?.status == .cancelled }, "job 2 ends")
        #expect(try await repl.enter("/cancel").out.hasPrefix("[1] cancelling.\n"))
        try #require(await Proc.eventually { repl.session.jobs.all.first?.status == .cancelled }, "job 1 ends")
        #expect(try await repl.enter("/cancel 1").err == "No running job 1. /jobs lists them.\n")
        let shown = try await repl.enter("/jobs").out
        #expect(shown.contains("[1] cancelled first") && shown.contains("[2] cancelled second"))
    }

    @Test func anAmpersandAloneStartsNothing() async throws {
        let repl = REPLHarness(model: ScriptedModel { _ in .text("x") })
        #expect(try await repl.enter(" & ").err == "Nothing to run in the background: write the prompt before the &.\n")
        #expect(repl.session.jobs.all.isEmpty)
    }

    @Test func aFailedJobSaysWhyWithTheHint() async throws {
        let repl = REPLHarness(model: ScriptedModel { _ in .failure(ChatError(.modelNotFound, "The model 'm' was not found at http://h (404).")) })
        try await repl.enter("doomed &")
        try await repl.waitForJobs()
        #expect(try await repl.enter("").err
            == "[1] failed: doomed\n  The model 'm' was not found at http://h (404). Choose another with --model or /model.\n")
    }

    @Test func withoutATerminalTheEndOfInputWaitsForTheJobs() async throws {
        let gate = Gate()
        let repl = REPLHarness(model: ScriptedModel { _ in .textAfter(gate, "late answer") }, console: ScriptedConsole(interactive: false))
        try await repl.enter("slow one &")
        #expect(repl.console.type(.endOfInput))
        for _ in 0..<20 {
            await Task.yield()
            #expect(repl.exitCode == nil, "the session waits for its job")
        }
        gate.release()
        try await repl.waitForPrompt()
        #expect(repl.exitCode == 0)
        #expect(repl.console.out.hasSuffix("[1] done: slow one\nlate answer\n"))
    }
}
