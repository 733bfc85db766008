import Foundation
import Testing
import JSON
import LLM
import TestSupport
@testable import REPL

/// Ctrl-C at the prompt and during a turn, and lines continued with a backslash.
@Suite(.timeLimit(.minutes(1))) struct InterruptTests {
    @Test func aTrailingBackslashContinuesThePrompt() async throws {
        let model = ScriptedModel { .text("answer to \($0.prompt)") }
        let repl = REPLHarness(model: model)
        let first = try await repl.enter("line one \\")
        #expect(first.all.isEmpty)
        #expect(repl.console.prompts == ["> ", "… "])
        try await repl.enter("line two")
        #expect(model.requests.first?.messages == [.user("line one \nline two")])
        #expect(repl.console.prompts == ["> ", "… ", "> "])
    }

    @Test func ctrlCAtThePromptClearsAContinuedLine() async throws {
        let model = ScriptedModel { .text("answer to \($0.prompt)") }
        let repl = REPLHarness(model: model)
        try await repl.enter("half a thought\\")
        let interrupted = try await repl.send(.interrupted)
        #expect(interrupted.out == "^C\n")
        #expect(repl.console.prompts == ["> ", "… ", "> "], "back to a fresh prompt")
        #expect(model.requests.isEmpty)
        try await repl.enter("fresh")
        #expect(model.requests.map(\.messages) == [[.user("fresh")]])
    }

    @Test func ctrlCDuringATurnCancelsItAndTheConversationIsUnchanged() async throws {
        let model = ScriptedModel { request in
            request.prompt == "slow" ? .hang("partial words") : .text("answer to \(request.prompt)")
        }
        let repl = REPLHarness(model: model)
        try await repl.enter("hello")
        try await repl.start("slow")
        try #require(await Proc.eventually { repl.console.out.contains("partial words") }, "the answer starts")
        repl.session.interrupt()
        try await repl.waitForPrompt()
        #expect(repl.console.err.hasSuffix("Cancelled; the conversation is as it was before this prompt.\n"))
        try await repl.enter("after")
        #expect(model.requests.last?.messages == [.user("hello"), .assistant(content: "answer to hello", toolCalls: []), .user("after")])
    }

    @Test func ctrlCDuringAToolKillsItsProcess() async throws {
        let folder = try TestToolFolder().addSleeper()
        let model = ScriptedModel.callingTools { $0.contains("sleep") ? [call("sleeper")] : [] }
        let repl = REPLHarness(model: model, tools: folder.catalog)
        try await repl.start("sleep now")
        let pid = try await folder.pid()
        defer { Proc.killLeftovers([pid]) }
        #expect(!Proc.isDead(pid))
        repl.session.interrupt()
        try await repl.waitForPrompt()
        #expect(await Proc.eventually { Proc.isDead(pid) }, "the tool's process is gone")
        #expect(repl.console.err.contains("Cancelled; the conversation is as it was before this prompt."))
        #expect(try JSONValue.parse(try await repl.enter("/stats json").out)["cancelled"] == 1)
        try await repl.enter("next")
        #expect(model.requests.last?.messages == [.user("next")])
    }

    @Test func ctrlCWithNoTurnRunningDoesNothing() async throws {
        let repl = REPLHarness(model: ScriptedModel { .text("answer to \($0.prompt)") })
        try await repl.waitForPrompt()
        repl.session.interrupt()
        #expect(try await repl.enter("still here").out == "answer to still here\n")
    }
}
